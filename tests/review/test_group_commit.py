"""Group commit (recist.review.commit): a batch of changes is written whole or not at all.

A process is killed (SIGKILL) at chosen points of writing a batch of three saves; the next opening of
the project completes the batch when all its entries reached the trail and undoes it otherwise, and
verify passes either way. Threads of one process saving at once share batches and lose nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from recist.review.audit import AuditLog
from recist.review.workflow import ReviewProject

from .conftest import package_case

KILLER = r'''
import json, os, signal, sys
from recist.review import audit, commit
from recist.review.workflow import ReviewProject
root, point, cases = sys.argv[1], sys.argv[2], json.loads(open(sys.argv[3]).read())
project = ReviewProject.open(root)

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if point == "half-of-the-entries":  # the machine stopped inside the trail's write: 1 of 3 lines complete
    def write_half(self):
        lines = self._batch_lines
        self._write_lines(lines[0] + lines[1][: len(lines[1]) // 2])
        die()
    audit.AuditLog.write_batch = write_half
elif point == "after-the-entries":  # the commit point passed: the pending files are not renamed yet
    original = audit.AuditLog.write_batch
    def write_then_die(self):
        original(self)
        die()
    audit.AuditLog.write_batch = write_then_die
elif point == "after-the-journal":
    original_fsync = commit.fsync_paths
    calls = []
    def fsync_then_die(paths):
        original_fsync(paths)
        calls.append(1)
        if len(calls) == 2:  # steps A and B done: journal and pending files in place, no entry yet
            die()
    commit.fsync_paths = fsync_then_die
with project._locked():  # one batch of three saves (two readers, two subjects)
    for reader, p, case in cases:
        project.save_read(p, case, as_=reader)
'''


def _kill_during_batch(tmp_path: Path, project: ReviewProject, point: str) -> int:
    script, cases = tmp_path / "killer.py", tmp_path / "cases.json"
    script.write_text(KILLER)
    batch = [(reader, project.pseudonym(subject), package_case(project, project.pseudonym(subject), [30, 25, 25]))
             for reader, subject in (("R1", "NET-001"), ("R2", "NET-001"), ("R1", "NET-002"))]
    cases.write_text(json.dumps(batch))
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "plugins"),
                                                        os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, str(script), str(project.root), point, str(cases)], env=env,
                          timeout=120, capture_output=True, text=True)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode


def _reads(project: ReviewProject) -> dict[str, bytes]:
    return {p.relative_to(project.root).as_posix(): p.read_bytes()
            for p in sorted(project.root.glob("subjects/*/reads/*.json"))}


@pytest.mark.parametrize("point", ["after-the-journal", "half-of-the-entries"])
def test_a_batch_killed_before_its_commit_point_is_undone_whole(tmp_path: Path, project: ReviewProject,
                                                               point: str) -> None:
    p = project.pseudonym("NET-001")
    project.save_read(p, package_case(project, p, [30, 20, 20]), as_="R1")  # acknowledged before the batch
    before_reads, before_log = _reads(project), project.audit.path.read_bytes()
    assert _kill_during_batch(tmp_path, project, point) == -9
    assert (project.root / "journal.json").exists()
    reopened = ReviewProject.open(project.root)
    assert reopened.verify() == []  # recovers first
    assert _reads(reopened) == before_reads  # the acknowledged save is there, nothing of the batch
    assert reopened.audit.path.read_bytes() == before_log  # the batch's complete first entry was cut
    assert not (project.root / "journal.json").exists()
    assert not list(project.root.rglob("*.pending")) and not list(project.root.rglob("*.tmp"))


def test_a_batch_killed_after_its_commit_point_is_completed_whole(tmp_path: Path, project: ReviewProject) -> None:
    assert _kill_during_batch(tmp_path, project, "after-the-entries") == -9
    reopened = ReviewProject.open(project.root)
    assert reopened.verify() == []
    reads = _reads(reopened)
    assert len(reads) == 3  # all three saves of the batch, renamed into place by the recovery
    saves = [e for e in reopened.audit.entries() if e["action"] == "save"]
    assert len(saves) == 3
    for entry in saves:
        (rel, digest), = entry["files"].items()
        assert rel in reads and digest == hashlib.sha256(reads[rel]).hexdigest()


def test_threads_saving_at_once_share_batches_and_lose_nothing(project: ReviewProject,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[int] = []
    original = AuditLog.write_batch

    def counting(self: AuditLog):  # how many entries each batch's single write carries
        writes.append(self.staged_count())
        return original(self)

    monkeypatch.setattr(AuditLog, "write_batch", counting)
    pseudonyms = [project.pseudonym(s) for s in ("NET-001", "NET-002", "NET-003")]
    acked: dict[tuple[str, str], int] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def saver(reader: str, p: str) -> None:
        try:
            start.wait()
            for size in range(10, 18):
                project.save_read(p, package_case(project, p, [30, size, size]), as_=reader)
                acked[(reader, p)] = size
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=saver, args=(r, p)) for r in ("R1", "R2") for p in pseudonyms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(writes) == 6 * 8 and len(writes) < 6 * 8  # every save written, some of them together
    for (reader, p), size in acked.items():
        stored = json.loads((project.root / "subjects" / p / "reads" / f"{reader}.json").read_text())
        targets = stored["versions"][-1]["case"]["timepoints"][1]["targets"]
        assert targets["T1"]["long_axis_mm"] == size  # the last acknowledged draft
    assert project.verify() == []
