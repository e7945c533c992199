"""recist.measure."""
