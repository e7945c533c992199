"""add-subject from a manifest validates every row before it records anything (issue #14 item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from recist.cli import main
from recist.errors import RecistValidationError
from recist.review.workflow import ReviewProject

from .conftest import CHARTER, NOW


def _manifest(tmp_path: Path, rows: list[str]) -> Path:
    for name in ("a0", "a1", "b0", "b1", "c0", "c1"):
        (tmp_path / name).mkdir(exist_ok=True)
    path = tmp_path / "manifest.csv"
    path.write_text("subject,timepoint,date,folder\n" + "\n".join(rows) + "\n")
    return path


def test_a_bad_row_is_named_and_nothing_of_the_manifest_is_recorded(tmp_path: Path, capsys) -> None:
    project = ReviewProject.init(tmp_path / "review", CHARTER, as_="PM1", now=NOW)
    bad = _manifest(tmp_path, [
        "A-1,baseline,2024-01-08,a0", "A-1,week 8,2024-03-04,a1",
        "B-1,baseline,2024-02-01,b0", "B-1,week 8,2024-02-01,b1",  # the same date twice: not in order
    ])
    with pytest.raises(RecistValidationError, match=r"row 4 \(subject 'B-1'\): .*dates must increase"):
        project.add_manifest(bad, as_="PM1", now=NOW)
    assert project.status(as_="PM1", now=NOW) == []  # A-1, valid, was not recorded either
    missing = _manifest(tmp_path, ["C-1,baseline,2024-01-08,c0", "C-1,week 8,2024-03-04,gone"])
    assert main(["review", "add-subject", str(project.root), "--manifest", str(missing), "--as", "PM1"]) == 2
    assert "row 2 (subject 'C-1'): folder" in capsys.readouterr().err
    good = _manifest(tmp_path, ["A-1,baseline,2024-01-08,a0", "A-1,week 8,2024-03-04,a1"])
    assert len(project.add_manifest(good, as_="PM1", now=NOW)) == 1
    with pytest.raises(RecistValidationError, match=r"row 2 \(subject 'A-1'\): subject 'A-1' is already"):
        project.add_manifest(good, as_="PM1", now=NOW)
    assert project.verify() == []
