"""Sessions survive a server restart: kept as the SHA-256 of each token (never the token) with their expiry."""

from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path

from recist.review.accounts import SESSIONS_NAME, SessionStore
from recist.review.keys import project_state_dir

from .conftest import start_server


class _Clocks:
    """A monotonic clock and a wall clock (seconds) that tests move by hand."""

    def __init__(self) -> None:
        self.mono, self.wall = 1000.0, 1_800_000_000.0

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


def test_a_restart_keeps_live_sessions_and_not_closed_ones(tmp_path: Path) -> None:
    server = start_server(tmp_path, n_subjects=1)
    try:
        kept, closed = server.token("R1"), server.token("R2")
        with server.client(closed) as http:
            assert http.post("/api/logout").status_code == 200
        server.stop(signal.SIGKILL)  # what a login wrote is on disk already
        server.start()
        with server.client(kept) as http:
            assert http.get("/api/me").json()["user"] == "R1"
        with server.client(closed) as http:
            assert http.get("/api/me").status_code == 401
    finally:
        server.stop()
    path = project_state_dir(server.root, server.home) / SESSIONS_NAME
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert kept not in text and closed not in text  # only hashes
    assert list(json.loads(text)["sessions"]) == [hashlib.sha256(kept.encode()).hexdigest()]


def test_a_restored_session_still_expires_when_idle(tmp_path: Path) -> None:
    clocks = _Clocks()

    def store() -> SessionStore:
        return SessionStore(idle_s=600, clock=lambda: clocks.mono, state_dir=tmp_path, wall=lambda: clocks.wall)

    first = store()
    token = first.open("R1", password_set="t0")
    clocks.advance(300)
    assert store().user(token) == "R1"  # a restart 5 minutes later: still logged in (a request: renewed)
    assert store().password_set(token) == "t0"
    clocks.advance(599)
    assert store().user(token) == "R1"  # 9 min 59 s idle, across a restart
    clocks.advance(601)
    assert store().user(token) is None  # 10 min 1 s idle: expired, restart or not
    assert store().user("not a token") is None


def test_a_damaged_sessions_file_starts_empty(tmp_path: Path) -> None:
    (tmp_path / SESSIONS_NAME).write_text("{not json")
    sessions = SessionStore(state_dir=tmp_path)
    assert sessions.user("anything") is None
    token = sessions.open("R1")
    assert SessionStore(state_dir=tmp_path).user(token) == "R1"
