"""Everything a review project writes is private: files 0600, folders 0700, whatever the umask (issue #14)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from recist._atomic import atomic_write_text
from recist.review.workflow import ReviewProject

from .conftest import CHARTER, NOW, package_case
from .test_packaging import _subject


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, str]:
    """Every path under ``root`` (and root itself) with its permission bits, as octal strings."""
    found = {".": oct(stat.S_IMODE(os.stat(root).st_mode))}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            found[str(path.relative_to(root))] = oct(stat.S_IMODE(os.stat(path).st_mode))
    return found


def test_project_subjects_reads_audit_and_packages_are_private(tmp_path: Path, umask_022: None) -> None:
    project = ReviewProject.init(tmp_path / "review", CHARTER, as_="PM1", now=NOW)
    pseudonym = _subject(project, tmp_path / "src", "NET-1")
    project.save_read(pseudonym, package_case(project, pseudonym, [30.0, 31.0]), as_="R1", now=NOW)
    project.sign(pseudonym, as_="R1", now=NOW)
    project.package("R2", tmp_path / "pkg", as_="PM1", now=NOW)

    for root in (tmp_path / "review", tmp_path / "pkg"):
        modes = _modes(root)
        assert len(modes) > 5
        folders = {p: m for p, m in modes.items() if (root / p).is_dir()}
        files = {p: m for p, m in modes.items() if not (root / p).is_dir()}
        assert any("reads" in p for p in folders) or root.name == "pkg"
        assert {m for m in folders.values()} == {"0o700"}, folders
        assert {m for m in files.values()} == {"0o600"}, files
    assert any(p.endswith(".dcm") or "/" in p for p in _modes(tmp_path / "pkg"))


def test_outputs_outside_a_private_folder_keep_the_umask_modes(tmp_path: Path, umask_022: None) -> None:
    """A user's ordinary outputs (a report in their own folder, even one only they may enter) are not private."""
    ReviewProject.init(tmp_path / "review", CHARTER, as_="PM1", now=NOW)
    atomic_write_text(tmp_path / "out" / "report.txt", "x")
    assert stat.S_IMODE(os.stat(tmp_path / "out").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(tmp_path / "out" / "report.txt").st_mode) == 0o644
    atomic_write_text(tmp_path / "report.txt", "x")
    assert stat.S_IMODE(os.stat(tmp_path / "report.txt").st_mode) == 0o644
