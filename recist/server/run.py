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
    from filelock import Timeout

    from recist.errors import ReviewStateError
    from recist.review.key_rotation import serving_lock

    state = open_server_state(root, home=home, session_idle_s=session_idle_s, max_failures=max_failures)
    lock = serving_lock(state.state_dir)  # held while serving: the key is never rotated under a running server
    try:
        lock.acquire()
    except Timeout:
        raise ReviewStateError(f"{Path(root).resolve()} is already being served by another process") from None
    app = create_app(state)
    scheme = "https" if tls_cert else "http"
    print(f"serving review project {Path(root).resolve()} at {scheme}://{host}:{port} "
          f"(server key {state.key.key_id})", file=sys.stderr, flush=True)
    try:
        uvicorn.run(app, host=host, port=port, ssl_certfile=tls_cert, ssl_keyfile=tls_key, log_level="info",
                    log_config=_log_config(), server_header=False, workers=1, timeout_graceful_shutdown=10)
    finally:
        lock.release()


class NoQueryString(logging.Filter):
    """Drop the query string from access-log lines (a one-time status link must not reach the log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = args[2].split("?", 1)[0]
            record.args = tuple(args)
        return True


def _log_config() -> dict:
    """uvicorn's logging configuration with :class:`NoQueryString` on the access log."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["no_query"] = {"()": NoQueryString}
    config["handlers"]["access"]["filters"] = ["no_query"]
    return config
