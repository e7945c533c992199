"""Tamper evidence: verify names an edited, deleted or reordered entry and a changed read."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from recist.review.audit import AuditLog, verify_log
from recist.review.workflow import ReviewProject

from .conftest import NOW, package_case


@pytest.fixture
def signed(project: ReviewProject) -> tuple[ReviewProject, Path]:
    p = project.pseudonym("NET-001")
    project.save_read(p, package_case(project, p, [30, 20, 18]), as_="R1", now=NOW)
    project.sign(p, as_="R1", now=NOW)
    project.save_read(p, package_case(project, p, [30, 25, 25]), as_="R2", now=NOW)
    assert project.verify() == []
    return project, project.root / "subjects" / p / "reads" / "R1.json"


def _lines(project: ReviewProject) -> list[bytes]:
    return (project.root / "audit.jsonl").read_bytes().splitlines(keepends=True)


def _write(project: ReviewProject, lines: list[bytes]) -> None:
    (project.root / "audit.jsonl").write_bytes(b"".join(lines))


def test_one_byte_changed_in_a_signed_read_is_named(signed) -> None:
    project, path = signed
    raw = bytearray(path.read_bytes())
    pos = raw.index(b"20.0")
    raw[pos] = ord("3")  # 20.0 mm -> 30.0 mm
    path.write_bytes(bytes(raw))
    problems = project.verify()
    rel = path.relative_to(project.root).as_posix()
    # the file no longer matches its audit hash, and the signed version no longer matches its signature
    assert [p.where for p in problems] == [rel, f"{rel} version 1"]
    assert "does not match" in problems[0].message
    assert "changed after signing" in problems[1].message


def test_one_byte_changed_in_the_log_is_named(signed) -> None:
    project, _ = signed
    lines = _lines(project)
    lines[3] = lines[3].replace(b'"actor":"PM1"', b'"actor":"PM2"')
    _write(project, lines)
    problems = project.verify()
    assert any(p.where.startswith("entry 4 ") and "edited" in p.message for p in problems)


def test_deleted_entry_is_named(signed) -> None:
    project, _ = signed
    lines = _lines(project)
    del lines[2]
    _write(project, lines)
    problems = project.verify()
    assert any(p.where.startswith("entry 4 ") and "deleted" in p.message for p in problems)


def test_swapped_entries_are_named(signed) -> None:
    project, _ = signed
    lines = _lines(project)
    lines[2], lines[3] = lines[3], lines[2]
    _write(project, lines)
    problems = project.verify()
    assert any(p.where.startswith("entry 4 ") for p in problems)
    assert any(p.where.startswith("entry 3 ") for p in problems)


def test_last_entry_cut_and_unrecorded_file_are_named(signed) -> None:
    project, _ = signed
    _write(project, _lines(project)[:-1])
    (project.root / "subjects" / "stray.json").write_text("{}")
    where = {p.where for p in verify_log(project.root, ignore=(".lock",))}
    assert "audit.head" in where and "subjects/stray.json" in where


def test_torn_last_line_is_cut_and_complete_lines_adopted(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    now = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    log.append(actor="a", action="x", now=now)
    head = (tmp_path / "audit.head").read_bytes()
    log.append(actor="a", action="y", now=now)
    (tmp_path / "audit.head").write_bytes(head)  # killed before the head was updated
    with open(tmp_path / "audit.jsonl", "ab") as handle:
        handle.write(b'{"seq":3,"tor')  # killed inside write
    log.append(actor="a", action="z", now=now)
    assert [e["action"] for e in log.entries()] == ["x", "y", "z"]
    assert verify_log(tmp_path) == []


def test_entries_are_chained(signed) -> None:
    project, _ = signed
    entries = [json.loads(line) for line in _lines(project)]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert all(b["prev"] == a["hash"] for a, b in zip(entries, entries[1:]))
    assert entries[0]["action"] == "init" and "charter.json" in entries[0]["files"]
