"""Users change their own password (``recist review passwd --server URL``) and an administrator resets a
forgotten one (``recist review user reset``): the same length rules, audited without the password, and the
sessions opened before the change end (except the one the user changed it in)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from recist.cli import main

from .conftest import PASSWORDS, Server, start_server

NEW = "a brand new passphrase"


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: its passwords change here."""
    srv = start_server(tmp_path_factory.mktemp("passwords"), n_subjects=1)
    yield srv
    srv.stop()


def _prompts(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    """Answer the getpass prompts in order; the prompts asked are returned."""
    asked: list[str] = []
    pending = list(answers)

    def getpass(prompt: str = "") -> str:
        asked.append(prompt)
        return pending.pop(0)

    monkeypatch.setattr("getpass.getpass", getpass)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    return asked


def test_a_reader_changes_their_password_and_their_other_sessions_end(own: Server, tmp_path: Path, monkeypatch,
                                                                       capsys) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    _prompts(monkeypatch, PASSWORDS["R1"])
    assert main(["review", "login", own.url, "--user", "R1", "--ca-cert", str(own.cert)]) == 0
    other = own.login("R1")  # the reader's session on another machine
    argv = ["review", "passwd", "--server", own.url]
    capsys.readouterr()

    _prompts(monkeypatch, "not my password", NEW, NEW)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "password not changed: wrong user or password" in err
    _prompts(monkeypatch, PASSWORDS["R1"], "too short", "too short")
    assert main(argv) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    _prompts(monkeypatch, PASSWORDS["R1"], NEW, NEW + " typo")
    assert main(argv) == 2
    assert "the two passwords differ" in capsys.readouterr().err
    _prompts(monkeypatch, PASSWORDS["R1"], PASSWORDS["R1"], PASSWORDS["R1"])
    assert main(argv) == 2
    assert "is the current one" in capsys.readouterr().err
    assert other.get("/api/me").status_code == 200  # nothing changed yet

    asked = _prompts(monkeypatch, PASSWORDS["R1"], NEW, NEW)
    assert main(argv) == 0
    assert capsys.readouterr().out.strip() == f"password of R1 changed on {own.url}; 1 other session(s) ended"
    assert asked == ["current password of R1: ", "new password of R1 (at least 12 characters): ", "again: "]
    assert other.get("/api/me").status_code == 401  # the other session ended
    assert main(["review", "status", "--server", own.url]) == 0  # the one it was changed in stays
    with own.client() as http:
        assert http.post("/api/login", json={"user": "R1", "password": PASSWORDS["R1"]}).status_code == 401
        assert http.post("/api/login", json={"user": "R1", "password": NEW}).status_code == 200
    other.close()

    trail = (own.root / "audit.jsonl").read_text()
    entries = [json.loads(line) for line in trail.splitlines()]
    changed = [e for e in entries if e["action"] == "password-change"]
    assert [(e["actor"], e["details"]) for e in changed] == [("R1", {"user": "R1", "sessions_ended": 1})]
    refused = [e for e in entries if e["action"] == "refused" and e["details"].get("attempted") == "password-change"]
    assert len(refused) == 1
    for secret in (NEW, PASSWORDS["R1"], "not my password", "too short"):
        assert secret not in trail and secret not in own.log.read_text()

    # an administrator's reset (on the server machine) ends the sessions opened before it, too
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORDS["R1"] + "\n"))
    assert main(["review", "user", "reset", str(own.root), "R1", "--as", "PM1", "--password-stdin",
                 "--server-home", str(own.home)]) == 0
    assert main(["review", "status", "--server", own.url]) == 2
    assert "changed after this session began" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["review", "user", "reset", str(own.root), "R1", "--as", "PM1", "--password-stdin",
                 "--server-home", str(own.home)]) == 2
    assert "at least 12 characters" in capsys.readouterr().err  # the same rule as passwd and user add
    assert main(["review", "verify", str(own.root), "--server-home", str(own.home)]) == 0


def test_wrong_current_passwords_count_towards_the_lockout(own: Server) -> None:
    with own.login("R2") as http:
        for _ in range(5):
            assert http.post("/api/password", json={"old": "guess guess guess", "new": NEW}).status_code in (403, 401)
        assert http.get("/api/me").status_code == 401  # locked: the session ended
    with own.client() as http:
        assert http.post("/api/login", json={"user": "R2", "password": PASSWORDS["R2"]}).status_code == 401
