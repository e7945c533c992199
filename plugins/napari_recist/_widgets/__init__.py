"""Qt widgets of the plugin; each is built from a viewer (and optionally a controller) and binds to the
viewer's :class:`napari_recist._session.Session`."""

from napari_recist._widgets.compare import CompareWidget
from napari_recist._widgets.measurement import MeasurementWidget
from napari_recist._widgets.review import ReviewWidget
from napari_recist._widgets.table import CaseTableWidget

__all__ = ["MeasurementWidget", "CaseTableWidget", "CompareWidget", "ReviewWidget"]
