"""recist.endpoints."""
