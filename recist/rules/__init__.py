"""recist.rules."""
