"""The review server over real HTTPS on 127.0.0.1: authentication, roles, signatures, the audit trail."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
from review.conftest import package_case

from recist.review.accounts import Accounts
from recist.review.audit import AuditLog
from recist.review.esign import record_sha256
from recist.review.keys import project_state_dir
from recist.review.workflow import ReviewProject

from .conftest import PASSWORDS, Server, start_server


def _entries(server: Server) -> list[dict]:
    return list(AuditLog(server.root).entries())


def _pseudonym(server: Server, subject: str = "NET-001") -> str:
    return ReviewProject.open(server.root).pseudonym(subject)


def test_unauthenticated_requests_get_401(server: Server) -> None:
    with server.client() as http:
        assert http.get("/api/status").status_code == 401
        assert http.get("/api/status", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
        assert http.put(f"/api/subjects/{_pseudonym(server)}/read", json={}).status_code == 401
        response = http.post("/api/login", json={"user": "R1", "password": "not the password"})
        assert response.status_code == 401
        assert response.json()["detail"] == "wrong user or password"
        unknown = http.post("/api/login", json={"user": "nobody", "password": "x" * 20})
        assert unknown.status_code == 401 and unknown.json()["detail"] == "wrong user or password"
    failed = [e for e in _entries(server) if e["action"] == "login-failed"]
    assert {e["actor"] for e in failed[-2:]} == {"R1", "(unknown)"}
    Accounts(project_state_dir(server.root, server.home)).reset("R1", password=PASSWORDS["R1"],
                                                                now=dt.datetime.now(dt.timezone.utc))


def test_wrong_role_and_other_readers_read_are_403_and_audited(server: Server) -> None:
    p = _pseudonym(server, "NET-002")
    with server.login("R1") as r1, server.login("R2") as r2:
        case = package_case(ReviewProject.open(server.root), p, [30, 20])
        assert r2.put(f"/api/subjects/{p}/read", json=case).status_code == 200
        before = len(_entries(server))
        response = r1.get(f"/api/subjects/{p}", params={"reader": "R2"})
        assert response.status_code == 403
        assert "only their own" in response.json()["detail"]
        assert r1.get("/api/results").status_code == 403
        assert r1.get("/api/audit").status_code == 403
    refused = [e for e in _entries(server)[before:] if e["action"] == "refused"]
    assert [(e["actor"], e["details"]["attempted"]) for e in refused] == [
        ("R1", "show"), ("R1", "export results"), ("R1", "read the audit trail")]


def test_the_identity_is_the_logged_in_user_and_a_signature_needs_the_password(server: Server) -> None:
    p = _pseudonym(server, "NET-001")
    with server.login("R1") as r1:
        case = package_case(ReviewProject.open(server.root), p, [30, 20])
        saved = r1.put(f"/api/subjects/{p}/read", params={"as_": "R2", "as": "R2"}, json=case)
        assert saved.status_code == 200 and saved.json()["version"] == 1
        wrong = r1.post(f"/api/subjects/{p}/sign", json={"password": "guessed password"})
        assert wrong.status_code == 403 and "signature refused" in wrong.json()["detail"]
        before = time.time()
        signed = r1.post(f"/api/subjects/{p}/sign", json={"password": PASSWORDS["R1"]})
        assert signed.status_code == 200, signed.text
        read = r1.get(f"/api/subjects/{p}").json()
    assert read["reader"] == "R1"  # never R2: the query parameters are ignored
    version = read["versions"][-1]
    signature = version["signature"]
    assert (signature["signer"], signature["name"], signature["meaning"]) == ("R1", "Dr Ada Reader",
                                                                               "author of this read")
    when = dt.datetime.fromisoformat(signature["time"])
    assert when.utcoffset() == dt.timedelta(0) and abs(when.timestamp() - before) < 30  # the server's UTC clock
    assert signature["record_sha256"] == record_sha256(version) and "sig" in signature
    refusal = [e for e in _entries(server) if e["action"] == "refused" and e["subject"] == p]
    assert refusal[-1]["details"] == {"attempted": "sign", "why": "wrong signing password"}
    assert all("sig" in e for e in _entries(server) if e["seq"] > 5)  # every entry after the key is signed


def test_five_wrong_passwords_lock_the_account_until_reset(server: Server) -> None:
    with server.client() as http:
        codes = [http.post("/api/login", json={"user": "R2", "password": f"wrong password {k}"}).status_code
                 for k in range(5)]
        assert codes == [401] * 5
        locked = http.post("/api/login", json={"user": "R2", "password": PASSWORDS["R2"]})
        assert locked.status_code == 401 and "locked" in locked.json()["detail"]
    failed = [e for e in _entries(server) if e["action"] == "login-failed" and e["actor"] == "R2"]
    assert failed[-1]["details"] == {"user": "R2", "locked": True}
    Accounts(project_state_dir(server.root, server.home)).reset("R2", password=PASSWORDS["R2"],
                                                                now=dt.datetime.now(dt.timezone.utc))
    server.login("R2").close()


def test_an_idle_session_expires(tmp_path: Path) -> None:
    srv = start_server(tmp_path, "--session-idle-min", "0.02", n_subjects=1)  # 1.2 s
    try:
        with srv.login("R1") as r1:
            assert r1.get("/api/status").status_code == 200
            time.sleep(1.6)
            expired = r1.get("/api/status")
            assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    finally:
        srv.stop()


def test_administrator_verifies_and_reads_the_audit_trail(server: Server) -> None:
    with server.login("PM1") as pm:
        verify = pm.get("/api/verify").json()
        assert verify == {"intact": True, "problems": []}
        rows = pm.get("/api/audit", params={"since": "2000-01-01"}).json()
        assert rows[0]["action"] == "init" and any(r["action"] == "login" for r in rows)
        assert pm.get("/api/audit", params={"since": "yesterday"}).status_code == 422
        status = pm.get("/api/status").json()
        assert {row["subject"] for row in status} == {"NET-001", "NET-002", "NET-003"}


def test_a_reader_may_not_act_on_the_served_folder_with_as(server: Server) -> None:
    proc = subprocess.run([sys.executable, "-m", "recist", "review", "status", str(server.root), "--as", "R1"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert "served by a review server" in proc.stderr and "Traceback" not in proc.stderr


def test_no_password_hash_or_token_in_the_logs_or_the_audit_trail(server: Server) -> None:
    tokens = []
    with server.client() as http:
        for user in PASSWORDS:
            tokens.append(http.post("/api/login", json={"user": user, "password": PASSWORDS[user]}).json()["token"])
    accounts = json.loads((project_state_dir(server.root, server.home) / "accounts.json").read_text())
    hashes = [u["hash"] for u in accounts["users"].values()]
    assert all(h.startswith("$argon2id$") for h in hashes)
    texts = {"log": server.log.read_text(), "audit": (server.root / "audit.jsonl").read_text()}
    texts["project files"] = "".join(p.read_text(errors="replace") for p in server.root.rglob("*.json"))
    for where, text in texts.items():
        for secret in [*PASSWORDS.values(), *tokens, *hashes, *(h.split("$")[-1] for h in hashes)]:
            assert secret not in text, f"a secret is in the {where}"
    assert "POST /api/login" in texts["log"]  # the access log is there, without secrets
    assert (project_state_dir(server.root, server.home) / "accounts.json").stat().st_mode & 0o777 == 0o600
    assert (server.home / "server.key").stat().st_mode & 0o777 == 0o600


def test_the_client_speaks_https_only_with_a_trusted_certificate(server: Server) -> None:
    try:
        httpx.get(server.url + "/api/me", timeout=10)  # the system store does not know the test CA
    except httpx.ConnectError as exc:
        assert "CERTIFICATE_VERIFY_FAILED" in str(exc)
    else:
        raise AssertionError("an untrusted certificate was accepted")


def test_status_answers_from_cache_only_while_nothing_changed(server: Server) -> None:
    p = _pseudonym(server, "NET-003")
    with server.login("PM1") as pm, server.login("R1") as r1:
        first = pm.get("/api/status").json()
        views = len([e for e in _entries(server) if e["action"] == "view" and e["actor"] == "PM1"])
        assert pm.get("/api/status").json() == first  # cached, and still audited
        assert len([e for e in _entries(server) if e["action"] == "view" and e["actor"] == "PM1"]) == views + 1
        before = next(row["reads"]["R1"] for row in first if row["pseudonym"] == p)
        case = package_case(ReviewProject.open(server.root), p, [30, 25])
        assert r1.put(f"/api/subjects/{p}/read", json=case).status_code == 200
        after = next(row["reads"]["R1"] for row in pm.get("/api/status").json() if row["pseudonym"] == p)
    assert (before, after) == ("not started", "draft")
