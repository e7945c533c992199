"""recist.export."""
