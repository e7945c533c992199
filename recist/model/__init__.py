"""recist.model."""
