"""Through the review server (``--server URL``) as users run the CLI: --confirm-large-diameters,
withdraw-subject, correct-timepoints (with the image checks on the server machine's folders) and
results --ignore-verify. A served project of its own (these tests change and finally damage it)."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from review.conftest import make_case, package_case

from recist.cli import main
from recist.review.audit import AuditLog
from recist.review.workflow import ReviewProject

from .conftest import PASSWORDS, Server, start_server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("remote-admin"), dicom=True)
    yield server
    server.stop()


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def _login(served: Server, user: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert _run(["review", "login", served.url, "--user", user, "--ca-cert", str(served.cert), "--password-stdin"],
                monkeypatch, PASSWORDS[user] + "\n") == 0
    capsys.readouterr()


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def _last(served: Server, action: str) -> dict:
    return [e for e in AuditLog(served.root).entries() if e["action"] == action][-1]


def test_large_diameters_are_confirmed_through_the_server(served: Server, tmp_path: Path, monkeypatch,
                                                          capsys) -> None:
    project = ReviewProject.open(served.root)
    p = project.pseudonym("NET-001")
    _login(served, "R1", tmp_path, monkeypatch, capsys)
    case = tmp_path / "read.json"
    case.write_text(json.dumps(package_case(project, p, [36.0, 360.0])))
    remote = ["--server", served.url]
    assert _run(["review", "save", p, str(case), *remote], monkeypatch) == 2
    err = _one_line(capsys)
    assert "360 mm is above the charter's plausible maximum of 300 mm" in err and "--confirm-large-diameters" in err
    assert _run(["review", "save", p, str(case), *remote, "--confirm-large-diameters"], monkeypatch) == 0
    assert "saved draft version 1" in capsys.readouterr().out
    assert _run(["review", "sign", p, *remote, "--password-stdin", "--confirm-large-diameters"], monkeypatch,
                PASSWORDS["R1"] + "\n") == 0
    signed = json.loads((served.root / "subjects" / p / "reads" / "R1.json").read_text())["versions"][-1]
    assert signed["status"] == "signed" and signed["confirmed_large_diameters"] == [
        "timepoint 'timepoint 2' lesion 'T1' long_axis_mm = 360 mm"]
    case.write_text(json.dumps(package_case(project, p, [36.0, 400.0])))
    amend = ["review", "amend", p, str(case), "--reason", "re-measured", *remote, "--password-stdin"]
    assert _run(amend, monkeypatch, PASSWORDS["R1"] + "\n") == 2
    assert "400 mm is above" in _one_line(capsys)
    assert _run([*amend, "--confirm-large-diameters"], monkeypatch, PASSWORDS["R1"] + "\n") == 0
    assert "amended: signed version 2" in capsys.readouterr().out
    # the administrator's site read, on the true labels and dates
    _login(served, "PM1", tmp_path, monkeypatch, capsys)
    site = tmp_path / "site.json"
    site.write_text(json.dumps(make_case("NET-001", [36.0, 360.0], start=dt.date(2024, 1, 8),
                                         labels=["baseline", "week 8"])))
    site_read = ["review", "import-site-read", "NET-001", str(site), *remote]
    assert _run(site_read, monkeypatch) == 2
    assert "360 mm is above" in _one_line(capsys)
    assert _run([*site_read, "--confirm-large-diameters"], monkeypatch) == 0
    assert capsys.readouterr().out.strip() == "imported the site read of NET-001"
    assert _run([*site_read, "--confirm-large-diameters"], monkeypatch) == 0
    assert "replacing the one imported at" in capsys.readouterr().out


def test_withdraw_and_correct_timepoints_through_the_server(served: Server, tmp_path: Path, monkeypatch,
                                                            capsys) -> None:
    remote = ["--server", served.url]
    dicom = served.root.parent / "dicom" / "NET-002"
    tp = ["--timepoint", "baseline", "2024-01-08", str(dicom / "tp0")]
    fix = ["review", "correct-timepoints", "NET-002", *tp, "--reason", "week 8 re-dated", *remote]
    # a reader: refused by the library (administrators only), one line, audited
    _login(served, "R1", tmp_path, monkeypatch, capsys)
    assert _run(["review", "withdraw-subject", "NET-003", "--reason", "consent withdrawn", *remote], monkeypatch) == 2
    assert "only administrators may withdraw subjects" in _one_line(capsys)
    assert _last(served, "refused")["details"]["attempted"] == "withdraw subjects"
    assert _run([*fix, "--timepoint", "week 8", "2024-03-04", str(dicom / "tp1")], monkeypatch) == 2
    assert "only administrators may correct timepoints" in _one_line(capsys)
    _login(served, "PM1", tmp_path, monkeypatch, capsys)
    # the folders are checked on the server machine: a date the series disagree with is refused
    wrong = [*fix, "--timepoint", "week 8", "2024-03-11", str(dicom / "tp1")]
    assert _run(wrong, monkeypatch) == 2
    assert "has StudyDate 2024-03-04, but the timepoint's date is 2024-03-11" in _one_line(capsys)
    assert _run([*fix, "--timepoint", "week 8", "2024-03-04", "tp1"], monkeypatch) == 2
    assert "'tp1' is not an absolute path" in _one_line(capsys)
    assert _run([*wrong, "--no-image-check"], monkeypatch) == 0
    out = capsys.readouterr()
    assert f"corrected the timepoints of NET-002 ({ReviewProject.open(served.root).pseudonym('NET-002')})" in out.out
    assert "images were NOT checked (--no-image-check)" in out.err
    entry = _last(served, "correct-timepoints")
    assert entry["actor"] == "PM1" and entry["details"]["images_checked"] is False
    assert entry["details"]["new"]["timepoints"][1]["date"] == "2024-03-11"
    assert _run([*fix, "--timepoint", "week 8", "2024-03-04", str(dicom / "tp1")], monkeypatch) == 0
    assert _last(served, "correct-timepoints")["details"]["images_checked"] is True
    assert _run(["review", "withdraw-subject", "NET-003", "--reason", "consent withdrawn", *remote], monkeypatch) == 0
    assert "withdrew subject NET-003" in capsys.readouterr().out
    assert _last(served, "withdraw-subject")["details"]["reason"] == "consent withdrawn"
    assert _run(["review", "verify", *remote], monkeypatch) == 0


def test_results_and_report_refuse_a_damaged_project_unless_ignore_verify(served: Server, tmp_path: Path, monkeypatch,
                                                               capsys) -> None:
    """Last in this file: it damages the served project."""
    _login(served, "R1", tmp_path, monkeypatch, capsys)
    remote = ["--server", served.url]
    assert _run(["review", "results", *remote, "--ignore-verify"], monkeypatch) == 2  # a reader: refused first
    assert "only administrators may export results" in _one_line(capsys)
    _login(served, "PM1", tmp_path, monkeypatch, capsys)
    assert _run(["review", "results", *remote], monkeypatch) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["status"] for row in rows].count("withdrawn") == 1
    record = served.root / "subjects" / ReviewProject.open(served.root).pseudonym("NET-001") / "subject.json"
    record.write_text(record.read_text().replace("2024-01-08", "2024-01-09", 1))  # edited behind the server's back
    assert _run(["review", "results", *remote], monkeypatch) == 2
    err = _one_line(capsys)
    assert "fails `recist review verify`" in err and "--ignore-verify" in err
    out = tmp_path / "results.csv"
    assert _run(["review", "results", *remote, "--ignore-verify", "--format", "csv", "--out", str(out)],
                monkeypatch) == 1
    err = capsys.readouterr().err
    assert "--ignore-verify: the project fails verify" in err and "subject.json" in err
    assert out.read_text().splitlines()[0].startswith("subject,") and len(out.read_text().splitlines()) == 4
    assert _run(["review", "report", *remote], monkeypatch) == 2  # the agreement report too
    assert "fails `recist review verify`" in _one_line(capsys)
    assert _run(["review", "report", *remote, "--ignore-verify"], monkeypatch) == 1
    out = capsys.readouterr()
    assert "--ignore-verify: the project fails verify" in out.err and "subject.json" in out.err
    assert "kappa" in out.out
