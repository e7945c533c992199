"""Reader packages: neutral labels, --subject, incremental runs, progress, atomic subjects, named failures,
burned-in refusals (issue #14 items 3 and 4)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pydicom
import pytest

from recist.cli import main
from recist.errors import BlindingError, DicomLoadError
from recist.review.workflow import ReviewProject, SubjectTimepoint

from .conftest import CHARTER, NOW, load_factory


def _series(folder: Path, date: dt.date, **extra: str) -> Path:
    stamp = date.strftime("%Y%m%d")
    load_factory().write_series(folder, shape=(2, 8, 8), extra={"StudyDate": stamp, "SeriesDate": stamp, **extra})
    return folder


def _subject(project: ReviewProject, root: Path, subject: str, labels=("baseline", "week 8 arm B lutathera"),
             **extra: str) -> str:
    dates = [dt.date(2024, 1, 10), dt.date(2024, 3, 6)]
    tps = [SubjectTimepoint(label, date, (str(_series(root / subject / str(k), date, **extra)),))
           for k, (label, date) in enumerate(zip(labels, dates))]
    # a modality outside the charter's is refused when added; added unchecked, packaging refuses it too
    return project.add_subject(subject, tps, as_="PM1", now=NOW, check_images="Modality" not in extra)


@pytest.fixture
def two(tmp_path: Path) -> tuple[ReviewProject, list[str]]:
    project = ReviewProject.init(tmp_path / "review", CHARTER, as_="PM1", now=NOW)
    return project, [_subject(project, tmp_path / "src", s) for s in ("NET-1", "NET-2")]


def test_labels_are_neutral_unless_the_charter_maps_them(two, tmp_path: Path) -> None:
    project, (p1, _) = two
    out = tmp_path / "pkg"
    manifest = project.package("R1", out, as_="PM1", now=NOW, subjects=[p1])
    assert [tp["label"] for tp in manifest["subjects"][0]["timepoints"]] == ["timepoint 1", "timepoint 2"]
    assert sorted(p.name for p in (out / p1).iterdir()) == ["01-timepoint-1", "02-timepoint-2"]
    blob = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"arm" not in blob.lower() and b"lutathera" not in blob.lower()


def test_subject_option_then_incremental_run_with_progress(two, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    project, (p1, p2) = two
    out = tmp_path / "pkg"
    root = str(project.root)
    assert main(["review", "package", root, "--reader", "R1", str(out), "--subject", "NET-2", "--as", "PM1"]) == 0
    captured = capsys.readouterr()
    assert f"packaged {p2} (1/1)" in captured.err and "1 subject(s)" in captured.out
    assert main(["review", "package", root, "--reader", "R1", str(out), "--as", "PM1"]) == 0  # adds NET-1 only
    captured = capsys.readouterr()
    assert f"packaged {p1} (1/1)" in captured.err and p2 not in captured.err
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["subject"] for s in manifest["subjects"]] == sorted([p1, p2])
    # a reader names subjects only by pseudonym, and packages only their own material
    assert main(["review", "package", root, "--reader", "R2", str(tmp_path / "r2"), "--subject", "NET-1",
                 "--as", "R2"]) == 2
    assert "pseudonym" in capsys.readouterr().err
    assert main(["review", "package", root, "--reader", "R2", str(tmp_path / "r2"), "--subject", p1,
                 "--as", "R2"]) == 0
    # another reader's package folder is not added to
    assert main(["review", "package", root, "--reader", "R2", str(out), "--as", "PM1"]) == 2
    assert project.verify() == []


def test_a_failing_series_names_the_subject_and_leaves_no_half_package(two, tmp_path: Path) -> None:
    project, pseudonyms = two
    first, last = sorted(pseudonyms)  # packaged in pseudonym order
    record = project._subject(last)  # noqa: SLF001
    broken = Path(record["timepoints"][1]["folders"][0])
    for path in broken.iterdir():
        path.write_bytes(b"not dicom")
    out = tmp_path / "pkg"
    with pytest.raises(DicomLoadError, match=rf"subject {last} \({record['subject']}\), timepoint 'timepoint 2'"):
        project.package("R1", out, as_="PM1", now=NOW)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["subject"] for s in manifest["subjects"]] == [first]  # finished before; the failed one not there
    assert sorted(p.name for p in out.iterdir()) == sorted([first, "manifest.json"])
    refused = [e for e in project.audit.entries() if e["action"] == "refused"]
    assert refused[-1]["details"]["attempted"] == "package reads"


@pytest.mark.parametrize("extra, why", [
    ({"BurnedInAnnotation": "YES"}, "BurnedInAnnotation is YES"),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.7"}, "Secondary Capture"),
    ({"RecognizableVisualFeatures": "YES"}, "RecognizableVisualFeatures is YES"),
    ({"Modality": "OT"}, "modality OT"),
])
def test_images_likely_to_carry_burned_in_text_are_refused_and_logged(tmp_path: Path, extra, why) -> None:
    project = ReviewProject.init(tmp_path / "review", CHARTER, as_="PM1", now=NOW)
    _subject(project, tmp_path / "src", "NET-1", **extra)
    with pytest.raises(BlindingError, match=why):
        project.package("R1", tmp_path / "pkg", as_="PM1", now=NOW)
    refused = [e for e in project.audit.entries() if e["action"] == "refused"]
    assert why in refused[-1]["details"]["why"]


def test_a_series_the_charter_says_was_checked_may_go_in(tmp_path: Path) -> None:
    src = tmp_path / "src"
    probe = ReviewProject.init(tmp_path / "probe", CHARTER, as_="PM1", now=NOW)
    _subject(probe, src, "NET-1", RecognizableVisualFeatures="YES")
    uids = sorted({str(pydicom.dcmread(p).SeriesInstanceUID) for p in src.rglob("*.dcm")})
    charter = {**CHARTER, "deidentification": {"checked_series": uids}}
    project = ReviewProject.init(tmp_path / "review", charter, as_="PM1", now=NOW)
    project.add_subject("NET-1", [SubjectTimepoint(tp["label"], dt.date.fromisoformat(tp["date"]),
                                                   tuple(tp["folders"]))
                                  for tp in probe._subject(probe.pseudonym("NET-1"))["timepoints"]],  # noqa: SLF001
                        as_="PM1", now=NOW)
    manifest = project.package("R1", tmp_path / "pkg", as_="PM1", now=NOW)
    assert len(manifest["subjects"]) == 1
