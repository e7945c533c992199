"""Run the review server with uvicorn (``recist review serve``)."""

from __future__ import annotations

import ipaddress
import logging
import sys
from pathlib import Path

from recist.errors import RecistValidationError
from recist.review.accounts import MAX_FAILURES, SESSION_IDLE_S

__all__ = ["serve"]


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    root: str | Path, *, host: str = "127.0.0.1", port: int = 8443, tls_cert: str | None = None,
    tls_key: str | None = None, home: str | Path | None = None, session_idle_s: float = SESSION_IDLE_S,
    max_failures: int = MAX_FAILURES,
) -> None:
    """Serve the project in ``root`` until interrupted.

    Without TLS the server listens on a loopback address only (behind a TLS reverse proxy such as
    nginx, docs/deploy.md); on any other address ``tls_cert`` and ``tls_key`` (PEM files) are required.
    """
    import uvicorn

    from recist.server.app import create_app, open_server_state

    if (tls_cert is None) != (tls_key is None):
        raise RecistValidationError("give both --tls-cert and --tls-key (PEM files), or neither")
    for label, path in (("--tls-cert", tls_cert), ("--tls-key", tls_key)):
        if path is not None and not Path(path).is_file():
            raise RecistValidationError(f"{label} {path}: no such file")
    if tls_cert is None and not _loopback(host):
        raise RecistValidationError(
            f"--host {host} is not a loopback address: serve over TLS (--tls-cert F --tls-key F) or behind a "
            "TLS reverse proxy on 127.0.0.1 (docs/deploy.md); passwords never travel unencrypted"
        )
    state = open_server_state(root, home=home, session_idle_s=session_idle_s, max_failures=max_failures)
    app = create_app(state)
    scheme = "https" if tls_cert else "http"
    print(f"serving review project {Path(root).resolve()} at {scheme}://{host}:{port} "
          f"(server key {state.key.key_id})", file=sys.stderr, flush=True)
    logging.getLogger("uvicorn.access").propagate = False
    uvicorn.run(app, host=host, port=port, ssl_certfile=tls_cert, ssl_keyfile=tls_key, log_level="info",
                server_header=False, workers=1, timeout_graceful_shutdown=10)
