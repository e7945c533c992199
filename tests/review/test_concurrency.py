"""Concurrent writers lose nothing; a writer killed mid-write leaves the previous version intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recist.review.workflow import ReviewProject

from .conftest import NOW, package_case

WORKER = r'''
import json, sys, time
from recist.review.workflow import ReviewProject
root, reader, subjects, seconds, counts_path = sys.argv[1], sys.argv[2], sys.argv[3].split(","), float(sys.argv[4]), sys.argv[5]
project = ReviewProject.open(root)
def case(p, k):
    shown = project._package_timepoints(p)  # the labels and dates of the reader package
    sizes = [30.0] + [10.0 + k % 30] * (len(shown) - 1)
    return {"format": "recist.case/1", "subject": p, "lesions": [{"id": "T1", "role": "target", "site": "liver"}],
            "timepoints": [{"label": tp["label"], "date": tp["date"], "targets": {"T1": {"long_axis_mm": size}}}
                           for tp, size in zip(shown, sizes)]}
counts = {"save": 0, "sign": 0, "amend": 0}
with open(counts_path, "w") as fh:
    json.dump(counts, fh)
end = time.monotonic() + seconds
k = 0
# run for the given time, but always at least one save-sign-amend cycle per subject (a loaded machine
# may otherwise pass the deadline before the first action)
while time.monotonic() < end or k < 3 * len(subjects):
    p = subjects[k % len(subjects)]
    read = project.show(p, as_=reader)
    last = read["versions"][-1]["status"] if read["versions"] else None
    if last == "signed":
        project.amend(p, case(p, k), as_=reader, reason=f"amendment {k}"); counts["amend"] += 1
    elif last == "draft":
        project.sign(p, as_=reader); counts["sign"] += 1
    else:
        project.save_read(p, case(p, k), as_=reader); counts["save"] += 1
    k += 1
    with open(counts_path, "w") as fh:
        json.dump(counts, fh)
'''


def _spawn(tmp_path: Path, project: ReviewProject, reader: str, subjects: list[str], seconds: float, name: str):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    counts = tmp_path / f"{name}.json"
    proc = subprocess.Popen([sys.executable, str(script), str(project.root), reader, ",".join(subjects),
                             str(seconds), str(counts)])
    return proc, counts


def _run_parallel(tmp_path: Path, project: ReviewProject, seconds: float) -> None:
    pseudonyms = [project.pseudonym(s) for s in ("NET-001", "NET-002", "NET-003")]
    jobs = [
        _spawn(tmp_path, project, "R1", pseudonyms[:2], seconds, "w1"),
        _spawn(tmp_path, project, "R2", pseudonyms[:2], seconds, "w2"),
        _spawn(tmp_path, project, "R1", pseudonyms[2:], seconds, "w3"),
        _spawn(tmp_path, project, "R2", pseudonyms[2:], seconds, "w4"),
    ]
    totals = {"save": 0, "sign": 0, "amend": 0}
    for proc, counts in jobs:
        assert proc.wait(timeout=seconds + 120) == 0
        for key, value in json.loads(counts.read_text()).items():
            totals[key] += value
    logged = {"save": 0, "sign": 0, "amend": 0}
    for entry in project.audit.entries():
        if entry["action"] in logged:
            logged[entry["action"]] += 1
    assert logged == totals and totals["amend"] > 0
    # every signature and amendment is in the files: one version per save-sign pair, plus amendments
    versions = 0
    for path in project.root.glob("subjects/*/reads/*.json"):
        read = json.loads(path.read_text())
        assert [v["version"] for v in read["versions"]] == list(range(1, len(read["versions"]) + 1))
        versions += len(read["versions"])
    assert versions == totals["save"] + totals["amend"]
    assert project.verify() == []


def test_four_processes_in_parallel_lose_nothing(tmp_path: Path, project: ReviewProject) -> None:
    _run_parallel(tmp_path, project, float(os.environ.get("RECIST_REVIEW_STRESS_S", "10")))


@pytest.mark.slow
def test_four_processes_for_thirty_seconds(tmp_path: Path, project: ReviewProject) -> None:
    _run_parallel(tmp_path, project, 30.0)


def test_writer_killed_mid_write_leaves_previous_version(tmp_path: Path, project: ReviewProject) -> None:
    pseudonyms = [project.pseudonym("NET-001")]
    for attempt in range(3):
        proc, _ = _spawn(tmp_path, project, "R1", pseudonyms, 30.0, f"kill{attempt}")
        time.sleep(1.2 + 0.37 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reopened = ReviewProject.open(project.root)
        assert reopened.verify() == []  # completes or undoes the interrupted change
        read = reopened.show(pseudonyms[0], as_="R1")
        assert [v["version"] for v in read["versions"]] == list(range(1, len(read["versions"]) + 1))
    assert not (project.root / "journal.json").exists()


def test_failed_rename_keeps_the_signed_version(project: ReviewProject, monkeypatch: pytest.MonkeyPatch) -> None:
    p = project.pseudonym("NET-001")
    project.save_read(p, package_case(project, p, [30, 20, 20]), as_="R1", now=NOW)
    project.sign(p, as_="R1", now=NOW)
    path = project.root / "subjects" / p / "reads" / "R1.json"
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        project.amend(p, package_case(project, p, [30, 40, 40]), as_="R1", reason="re-measured", now=NOW)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert project.verify() == []
    assert [v["version"] for v in project.show(p, as_="R1")["versions"]] == [1]
