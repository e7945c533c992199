"""Credentials of a served project: users change their own password (``recist review passwd --server URL``)
and an administrator resets a forgotten one (``recist review user reset``): the same length rules, audited
without the password, and the sessions opened before the change end (except the one the user changed it
in). The server's signing key is rotated (``recist review rotate-key``): entries signed before stay
verifiable, and a key record not endorsed by the key in force is found."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from review.conftest import package_case

from recist.cli import main
from recist.review.accounts import Accounts
from recist.review.audit import entry_hash
from recist.review.key_rotation import rotation_details
from recist.review.keys import SigningKey, project_state_dir
from recist.review.workflow import ReviewProject

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


def _entries(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "audit.jsonl").read_text().splitlines()]


def test_rotating_the_server_key_keeps_old_entries_verifiable(own: Server, tmp_path: Path, monkeypatch,
                                                              capsys) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    for user in ("R1", "R2"):  # whatever the tests above did to them (the server reads the accounts file anew)
        Accounts(project_state_dir(own.root, own.home)).reset(user, password=PASSWORDS[user], now=now)
    project = ReviewProject.open(own.root)
    p = project.subject_pseudonyms()[0]
    with own.login("R1") as http:  # a read signed with the first key
        assert http.put(f"/api/subjects/{p}/read", json=package_case(project, p, [30, 20, 20])).status_code == 200
        assert http.post(f"/api/subjects/{p}/sign", json={"password": PASSWORDS["R1"]}).status_code == 200
    first_pub = tmp_path / "first_key.pub"  # the sponsor's copy of the first public key
    first_pub.write_bytes((own.root / "server_key.pub").read_bytes())
    home = ["--server-home", str(own.home)]
    rotate = ["review", "rotate-key", str(own.root), "--as", "PM1", *home]
    capsys.readouterr()
    assert main(rotate) == 2  # never under a running server (it would go on signing with the old key)
    assert "the review server is running" in capsys.readouterr().err
    assert not (own.home / "server.key.new").exists()
    own.stop()
    assert main(["review", "rotate-key", str(own.root), "--as", "R1", *home]) == 2  # administrators only
    assert "only administrators may rotate the server key" in capsys.readouterr().err
    old_id = SigningKey.find(own.home).key_id
    assert main(rotate) == 0
    new = SigningKey.find(own.home)
    assert capsys.readouterr().out.startswith(f"server key rotated: {old_id} -> {new.key_id} in 1 project(s)")
    assert stat.S_IMODE((own.home / "server.key").stat().st_mode) == 0o600
    assert not (own.home / "server.key.new").exists()
    assert (own.root / "server_key.pub").read_bytes() == new.public_pem()
    rotation = _entries(own.root)[-1]
    assert rotation["action"] == "server-key-rotate" and rotation["key"] == new.key_id
    assert rotation["details"]["old_key"] == old_id and rotation["details"]["new_key"] == new.key_id

    # the server signs with the new key; the read signed before stays verifiable with the first key
    own.start()
    with own.login("R1") as http:
        response = http.post(f"/api/subjects/{p}/amend", json={"case": package_case(project, p, [30, 25, 25]),
                                                                 "reason": "T1 re-measured", "password": PASSWORDS["R1"]})
        assert response.status_code == 200, response.text
        shown = http.get(f"/api/subjects/{p}").json()["versions"]
    assert [v["signature"]["key"] for v in shown] == [old_id, new.key_id]
    with own.login("PM1") as http:
        assert http.get("/api/verify").json() == {"intact": True, "problems": []}
    own.stop()
    assert _entries(own.root)[-1]["key"] == new.key_id
    assert main(["review", "verify", str(own.root), *home]) == 0
    assert main(["review", "verify", str(own.root), "--public-key", str(first_pub)]) == 0  # the chain from the first
    assert main(["review", "verify", str(own.root)]) == 0

    # a forged key record: someone with write access appends a rotation to their own key
    forged_root = tmp_path / "forged"
    shutil.copytree(own.root, forged_root)
    forger = SigningKey(Ed25519PrivateKey.generate())
    entries = _entries(forged_root)
    entry = {"seq": entries[-1]["seq"] + 1, "time": "2026-12-05T09:00:00+00:00", "actor": "PM1",
             "action": "server-key-rotate", "subject": None, "details": rotation_details(forger, forger),
             "files": {"server_key.pub": hashlib.sha256(forger.public_pem()).hexdigest()}, "prev": entries[-1]["hash"]}
    entry["details"]["old_key"] = new.key_id  # claims to rotate the key in force, endorsed by itself
    entry["hash"] = entry_hash(entry)
    entry["key"], entry["sig"] = forger.key_id, forger.sign(entry["hash"].encode("ascii"))
    line = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    with open(forged_root / "audit.jsonl", "ab") as handle:
        handle.write(line)
    size = (forged_root / "audit.jsonl").stat().st_size
    (forged_root / "audit.head").write_text(json.dumps({"seq": entry["seq"], "hash": entry["hash"], "size": size}))
    (forged_root / "server_key.pub").write_bytes(forger.public_pem())
    capsys.readouterr()
    assert main(["review", "verify", str(forged_root)]) == 1
    err = capsys.readouterr().err
    assert f"the new key {forger.key_id} is not endorsed by the key in force {new.key_id}" in err
    assert main(["review", "verify", str(forged_root), "--public-key", str(first_pub)]) == 1
    assert "is not endorsed" in capsys.readouterr().err
