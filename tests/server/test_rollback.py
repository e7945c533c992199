"""Restoring an older copy of a served project is detected by the server's witness of its audit head.

The older copy is validly signed and intact in itself (verify without the witness passes); the server
keeps the head it last wrote (``audit.witness``, mode 0600, in the server home), so ``recist review
verify`` on the server machine and the server's start report the rollback in one line (exit 2), and a
server that is running when the copy is restored refuses changes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from review.conftest import package_case

from recist.cli import main
from recist.review.keys import WITNESS_NAME, project_state_dir
from recist.review.workflow import ReviewProject

from .conftest import PASSWORDS, start_server

RESTORE = r'''
import shutil, sys
project, backup = sys.argv[1], sys.argv[2]
shutil.rmtree(project)
shutil.copytree(backup, project)
'''


def _restore(tmp_path: Path, root: Path, backup: Path) -> None:
    """A script with full write access to the folder puts the older copy back (as a restore would)."""
    script = tmp_path / "restore.py"
    script.write_text(RESTORE)
    subprocess.run([sys.executable, str(script), str(root), str(backup)], check=True, timeout=60)


def test_an_older_copy_of_the_project_restored_is_reported(tmp_path: Path, capsys) -> None:
    server = start_server(tmp_path, n_subjects=1)
    backup = tmp_path / "old-copy"
    try:
        p = ReviewProject.open(server.root).pseudonym("NET-001")
        case = package_case(ReviewProject.open(server.root), p, [30, 20, 20])
        with server.login("R1") as r1:
            assert r1.put(f"/api/subjects/{p}/read", json=case).status_code == 200
            subprocess.run(["cp", "-a", str(server.root), str(backup)], check=True)  # the old copy, taken live
            assert r1.post(f"/api/subjects/{p}/sign", json={"password": PASSWORDS["R1"]}).status_code == 200
            witness = project_state_dir(server.root, server.home) / WITNESS_NAME
            assert witness.stat().st_mode & 0o777 == 0o600

            _restore(tmp_path, server.root, backup)  # while the server runs: the next change is refused
            refused = r1.put(f"/api/subjects/{p}/read", json=case)
            assert refused.status_code == 409 and "rolled back" in refused.json()["detail"]
    finally:
        server.stop()

    assert ReviewProject.open(server.root).verify() == []  # the old copy is intact in itself
    code = main(["review", "verify", str(server.root), "--server-home", str(server.home)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "rolled back to an older copy" in err[0] and str(server.root) in err[0]

    server.log.write_text("")
    try:
        server.start(timeout_s=60)
        started = True
    except RuntimeError:
        started = False
    finally:
        server.stop()
    assert not started and "rolled back to an older copy" in server.log.read_text()
