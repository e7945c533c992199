"""recist.server: the central-review server (``recist review serve``), see docs/deploy.md.

A thin HTTP layer over :mod:`recist.review`: authentication, sessions and the mapping of errors to
status codes live here; every rule and every record stays in ``recist.review``.
"""
