"""The command line as users run it: init with the first administrator, user, login, --server, audit."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from review.conftest import CHARTER, load_factory, package_case

from recist.cli import main
from recist.review.accounts import Accounts
from recist.review.keys import project_state_dir
from recist.review.workflow import ReviewProject

from .conftest import PASSWORDS, Server


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def test_init_creates_the_first_administrator_with_a_password(tmp_path: Path, monkeypatch, capsys) -> None:
    charter = tmp_path / "charter.json"
    charter.write_text(json.dumps(CHARTER))
    root, home = tmp_path / "review", tmp_path / "home"
    argv = ["review", "init", str(root), "--charter", str(charter), "--as", "PM1", "--name", "Pat Manager",
            "--password-stdin", "--server-home", str(home)]
    assert _run(argv, monkeypatch, "short\n") == 2  # too short: refused, one line
    assert "at least 12 characters" in capsys.readouterr().err
    argv[2] = str(tmp_path / "review2")
    root = tmp_path / "review2"
    assert _run(argv, monkeypatch, "a long enough passphrase\n") == 0
    assert "account PM1 (administrator, Pat Manager) created" in capsys.readouterr().out
    account = Accounts(project_state_dir(root, home)).authenticate("PM1", "a long enough passphrase")
    assert account.role == "administrator" and (root / "server_key.pub").is_file()
    assert _run(["review", "verify", str(root), "--server-home", str(home)], monkeypatch) == 0
    actions = [json.loads(line)["action"] for line in (root / "audit.jsonl").read_text().splitlines()]
    assert actions == ["init", "server-key", "account-add"]
    # the administrator on the server machine works on the folder; the change is signed by the server key
    monkeypatch.setenv("RECIST_SERVER_HOME", str(home))
    series = tmp_path / "dicom"
    load_factory().write_series(series, shape=(2, 8, 8), extra={"StudyDate": "20240108"})
    assert _run(["review", "add-subject", str(root), "NET-001", "--timepoint", "baseline", "2024-01-08", str(series),
                 "--as", "PM1"], monkeypatch) == 0
    assert json.loads((root / "audit.jsonl").read_text().splitlines()[-1])["sig"]
    assert _run(["review", "verify", str(root)], monkeypatch) == 0
    monkeypatch.setenv("RECIST_SERVER_HOME", str(tmp_path / "another-machine"))
    assert _run(["review", "add-subject", str(root), "NET-002", "--timepoint", "baseline", "2024-01-08",
                 str(series), "--as", "PM1"], monkeypatch) == 2
    assert "served by a review server" in capsys.readouterr().err
    # a reader named in the charter cannot get an administrator account, nor a person not in it any account
    assert _run(["review", "user", "add", str(root), "R1", "--role", "administrator", "--name", "X", "--as", "PM1",
                 "--password-stdin", "--server-home", str(home)], monkeypatch, "reader one passphrase\n") == 2
    assert "is a reader in the charter" in capsys.readouterr().err


def test_login_and_the_review_verbs_through_the_server(server: Server, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert _run(["review", "login", server.url, "--user", "R2", "--ca-cert", str(server.cert), "--password-stdin"],
                monkeypatch, PASSWORDS["R2"] + "\n") == 0
    tokens = tmp_path / "config" / "recist" / "tokens.json"
    assert tokens.stat().st_mode & 0o777 == 0o600
    assert json.loads(tokens.read_text())[server.url]["user"] == "R2"
    capsys.readouterr()
    assert _run(["review", "status", "--server", server.url], monkeypatch) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3 and all(row["subject"].startswith("S-") for row in rows)
    p = ReviewProject.open(server.root).pseudonym("NET-003")
    case = tmp_path / "case.json"
    case.write_text(json.dumps(package_case(ReviewProject.open(server.root), p, [40, 30])))
    assert _run(["review", "save", p, str(case), "--server", server.url], monkeypatch) == 0
    assert _run(["review", "sign", p, "--server", server.url, "--password-stdin"], monkeypatch, "wrong one\n") == 2
    assert "signature refused" in capsys.readouterr().err
    assert _run(["review", "sign", p, "--server", server.url, "--password-stdin"], monkeypatch,
                PASSWORDS["R2"] + "\n") == 0
    assert "signed version 1" in capsys.readouterr().out
    assert _run(["review", "show", p, "--server", server.url], monkeypatch) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["reader"] == "R2" and shown["versions"][0]["signature"]["name"] == "Dr Bo Reader"
    assert _run(["review", "results", "--server", server.url], monkeypatch) == 2  # a reader: refused
    assert "only administrators may export results" in capsys.readouterr().err
    assert _run(["review", "status", "--server", server.url, "--as", "R1"], monkeypatch) == 2
    assert "--as is not used with --server" in capsys.readouterr().err
    assert _run(["review", "logout", server.url], monkeypatch) == 0
    assert _run(["review", "status", "--server", server.url], monkeypatch) == 2
    assert "log in" in capsys.readouterr().err


def test_audit_table_since_and_account_changes(server: Server, monkeypatch, capsys) -> None:
    home = ["--server-home", str(server.home)]
    assert _run(["review", "user", "disable", str(server.root), "ADJ1", "--as", "PM1", *home], monkeypatch) == 0
    with server.client() as http:
        assert http.post("/api/login", json={"user": "ADJ1", "password": PASSWORDS["ADJ1"]}).status_code == 401
    assert _run(["review", "user", "enable", str(server.root), "ADJ1", "--as", "PM1", *home], monkeypatch) == 0
    server.token("ADJ1")
    capsys.readouterr()
    assert _run(["review", "audit", str(server.root), "--since", "2020-01-01"], monkeypatch) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["seq", "time", "(UTC)", "who", "what", "subject", "signed", "details"]
    assert any(" account-disable " in line and "ADJ1" in line and " yes " in line for line in table)
    assert _run(["review", "audit", str(server.root), "--since", "2999-01-01"], monkeypatch) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2  # the header only
    assert _run(["review", "audit", str(server.root), "--since", "last week"], monkeypatch) == 2


def test_results_through_the_server_follow_the_output_file_rule(server: Server, tmp_path: Path, monkeypatch,
                                                                 capsys) -> None:
    """``review results --server URL --out FILE``: an existing FILE is refused (one line, exit 2) unless --force;
    a folder is refused (issue #17 section 2, the output rule of every command)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert _run(["review", "login", server.url, "--user", "PM1", "--ca-cert", str(server.cert), "--password-stdin"],
                monkeypatch, PASSWORDS["PM1"] + "\n") == 0
    out = tmp_path / "results.json"
    argv = ["review", "results", "--server", server.url, "--out", str(out)]
    assert _run(argv, monkeypatch) == 0
    rows = json.loads(out.read_text())
    assert len(rows) == 3
    out.write_text("old")
    capsys.readouterr()
    assert _run(argv, monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err and out.read_text() == "old"
    assert _run([*argv, "--force"], monkeypatch) == 0
    assert json.loads(out.read_text()) == rows
    assert _run(["review", "results", "--server", server.url, "--out", str(tmp_path)], monkeypatch) == 2
    assert "is a folder" in capsys.readouterr().err
