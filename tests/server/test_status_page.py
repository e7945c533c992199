"""The core-lab status page, rendered by headless Chromium (Debian `chromium`) over HTTPS."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from recist.review.audit import AuditLog

from .conftest import PASSWORDS, Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _chromium(server: Server, path: str, *args: str) -> subprocess.CompletedProcess:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (make test installs it: APT_PACKAGES)")
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors",
                           "--window-size=1100,800", *args, server.url + path],
                          capture_output=True, text=True, timeout=120, check=False)


def _link(server: Server) -> str:
    with server.login("PM1") as pm:
        response = pm.post("/api/status-link")
        assert response.status_code == 200, response.text
        return response.json()["url"]


def test_the_administrator_sees_the_status_page_in_chromium(server: Server, tmp_path: Path) -> None:
    dom = _chromium(server, _link(server), "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    assert "central review status" in page and "verify: audit trail, signatures and files intact" in page
    for subject in ("NET-001", "NET-002", "NET-003"):
        assert subject in page
    assert "Reader workload and turnaround" in page and "Adjudication queue" in page
    shot = tmp_path / "status.png"
    result = _chromium(server, _link(server), f"--screenshot={shot}")
    assert result.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_the_page_is_for_administrators_only(server: Server) -> None:
    with server.client() as http:
        assert http.get("/status").status_code == 303  # to the login form
        form = http.post("/login", data={"user": "R1", "password": PASSWORDS["R1"]})
        assert form.status_code == 303 and "httponly" in form.headers["set-cookie"].lower()
        before = len(list(AuditLog(server.root).entries()))
        assert http.get("/status").status_code == 403
        refused = [e for e in list(AuditLog(server.root).entries())[before:] if e["action"] == "refused"]
        assert refused[0]["actor"] == "R1" and refused[0]["details"]["attempted"] == "see the status page"
        # the cookie opens the page only, never the API
        assert http.get("/api/status").status_code == 401
        assert http.post("/login", data={"user": "R1", "password": "wrong"}).status_code == 401
    with server.login("R1") as r1:
        assert r1.post("/api/status-link").status_code == 403
    link = _link(server)
    with server.client() as http:
        assert http.get(link).status_code == 303
        assert http.get(link).status_code == 401  # single use
    assert "code=" not in server.log.read_text()  # query strings never reach the access log
