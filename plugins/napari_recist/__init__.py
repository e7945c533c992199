"""napari plugin for recist (thin user interface over the recist library)."""
