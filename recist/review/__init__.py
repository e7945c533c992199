"""recist.review."""
