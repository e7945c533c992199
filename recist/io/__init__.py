"""recist.io."""
