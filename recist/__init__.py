"""recist."""
