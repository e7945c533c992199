"""Reader packages over the API (``recist review package --server URL``): administrators only, the same
library function as on the server machine, progress printed while the server's job writes each subject."""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

import pydicom
import pytest

from recist.cli import main
from recist.review.keys import SigningKey
from recist.review.workflow import ReviewProject

from .conftest import PASSWORDS, Server


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def _login(server: Server, user: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / f"config-{user}"))
    assert _run(["review", "login", server.url, "--user", user, "--ca-cert", str(server.cert), "--password-stdin"],
                monkeypatch, PASSWORDS[user] + "\n") == 0


def _actions(server: Server) -> list[dict]:
    return [json.loads(line) for line in (server.root / "audit.jsonl").read_text().splitlines()]


def test_an_administrator_packages_through_the_server_with_progress(server: Server, tmp_path: Path, monkeypatch,
                                                                    capsys) -> None:
    _login(server, "PM1", tmp_path, monkeypatch)
    project = ReviewProject.open(server.root)
    first = project.pseudonym("NET-002")
    out = tmp_path / "R1-package"
    capsys.readouterr()
    # one subject first (an administrator may name it by its id), then the rest is added to the same folder
    assert _run(["review", "package", "--server", server.url, "--reader", "R1", str(out), "--subject", "NET-002"],
                monkeypatch) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"packaged {first} (1/1)"]
    assert "1 subject(s) in the package of reader R1" in captured.out
    assert [s["subject"] for s in json.loads((out / "manifest.json").read_text())["subjects"]] == [first]
    first_files = sorted(p.relative_to(out) for p in (out / first).rglob("*.dcm"))
    assert len(first_files) == 4
    assert _run(["review", "package", "--server", server.url, "--reader", "R1", str(out)], monkeypatch) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["(1/2)", "(2/2)"] and first not in captured.err
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["subjects"]) == 3 and manifest["reader"] == "R1"
    assert sorted(p.relative_to(out) for p in (out / first).rglob("*.dcm")) == first_files
    for entry in manifest["subjects"]:  # de-identified: the pseudonym is the patient, no hospital name
        for path in (out / entry["subject"]).rglob("*.dcm"):
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            assert ds.PatientID == entry["subject"] and "Hospital X" not in str(ds)
    assert (out.stat().st_mode & 0o777) == 0o700
    # the same library function as `recist review package` on the server machine: the same manifest
    local = tmp_path / "local"
    served = ReviewProject.open(server.root, signer=SigningKey.find(server.home))
    expected = served.package("R1", local, as_="PM1")
    assert expected["subjects"] == manifest["subjects"] and expected["deidentification"] == manifest[
        "deidentification"]
    packaged = [e for e in _actions(server) if e["action"] == "package" and e["actor"] == "PM1"]
    assert [len(e["details"]["added"]) for e in packaged[-3:]] == [1, 2, 3]
    for _ in range(50):  # a fetched job leaves nothing behind (removed once the archive is sent)
        if not list(server.home.rglob("exports/*/package.tar")):
            break
        time.sleep(0.1)
    assert not list(server.home.rglob("exports/*/package.tar"))


def test_packaging_is_for_administrators_and_failures_are_one_line(server: Server, tmp_path: Path, monkeypatch,
                                                                   capsys) -> None:
    _login(server, "R1", tmp_path, monkeypatch)
    capsys.readouterr()
    out = tmp_path / "mine"
    assert _run(["review", "package", "--server", server.url, "--reader", "R1", str(out)], monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "only administrators may package reads" in err and not out.exists()
    refused = _actions(server)[-1]
    assert refused["action"] == "refused" and refused["actor"] == "R1"
    _login(server, "PM1", tmp_path, monkeypatch)
    capsys.readouterr()
    assert _run(["review", "package", "--server", server.url, "--reader", "R9", str(out)], monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'R9' is not a reader or adjudicator" in err and not out.exists()
    assert _run(["review", "package", "--server", server.url, "--reader", "R1", str(out), "--subject", "NET-404"],
                monkeypatch) == 2
    assert "NET-404" in capsys.readouterr().err and not out.exists()
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    assert _run(["review", "package", "--server", server.url, "--reader", "R1", str(tmp_path / "busy")],
                monkeypatch) == 2
    assert "holds no readable package manifest" in capsys.readouterr().err
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
    assert _run(["review", "package", str(server.root), str(out), "--server", server.url, "--reader", "R1"],
                monkeypatch) == 2
    assert "give only OUT" in capsys.readouterr().err


def test_a_job_is_only_its_administrators(server: Server) -> None:
    with server.login("PM1") as admin, server.login("R1") as reader:
        response = admin.post("/api/packages", json={"reader": "R2", "subjects": ["NET-001"]})
        assert response.status_code == 202
        job = response.json()["job"]
        assert reader.get(f"/api/packages/{job}").status_code == 404
        assert reader.get(f"/api/packages/{job}/archive").status_code == 404
        for _ in range(600):  # bounded: one subject of tiny series
            view = admin.get(f"/api/packages/{job}").json()
            if view["state"] in ("done", "failed"):
                break
            assert admin.get(f"/api/packages/{job}/archive").status_code == 409
            time.sleep(0.1)
        assert view["state"] == "done" and view["done"] == view["total"] == 1
        assert admin.get(f"/api/packages/{job}/archive").status_code == 200
        assert admin.get(f"/api/packages/{job}").status_code == 404  # fetched: gone
