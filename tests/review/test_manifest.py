"""add-subject (one subject or a manifest) checks folders, images and dates before it records anything
(issue #14 item 3). DICOM files are made in the test with pydicom (tests/io/dicom_factory.py); the CLI is
run as users run it (``recist.cli.main``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recist.cli import main
from recist.errors import RecistValidationError
from recist.review.image_checks import folder_problem
from recist.review.workflow import ReviewProject, SubjectTimepoint

from .conftest import CHARTER, NOW, load_factory

BASELINE, WEEK8 = dt.date(2024, 1, 8), dt.date(2024, 3, 4)


def _series(folder: Path, when: dt.date | None, modality: str = "CT", **extra: str) -> Path:
    """One small series in ``folder`` dated ``when`` (StudyDate and SeriesDate; None: no date at all)."""
    stamp = when.strftime("%Y%m%d") if when else ""
    load_factory().write_series(folder, shape=(3, 8, 8), modality=modality,
                                extra={"StudyDate": stamp, "SeriesDate": stamp, **extra})
    return folder


def _project(tmp_path: Path) -> ReviewProject:
    return ReviewProject.init(tmp_path / "review", CHARTER, as_="PM1", now=NOW)


def _add(project: ReviewProject, *args: str) -> int:
    return main(["review", "add-subject", str(project.root), *args, "--as", "PM1"])


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def _nothing_recorded(project: ReviewProject) -> bool:
    return project.status(as_="PM1", now=NOW) == [] and project.verify() == []


def test_a_missing_folder_is_refused(tmp_path: Path, capsys) -> None:
    project = _project(tmp_path)
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(tmp_path / "gone")) == 2
    err = _one_line_error(capsys)
    assert "subject 'NET-1', timepoint 'baseline': folder" in err and "does not exist" in err
    assert _nothing_recorded(project)


def test_an_empty_folder_is_refused(tmp_path: Path, capsys) -> None:
    project = _project(tmp_path)
    (tmp_path / "empty").mkdir()
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(tmp_path / "empty")) == 2
    assert "is empty" in _one_line_error(capsys)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("the CT is on the other disk")
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(tmp_path / "notes")) == 2
    assert "holds no loadable DICOM image series" in _one_line_error(capsys)
    assert _nothing_recorded(project)


def test_a_series_of_another_modality_is_refused(tmp_path: Path, capsys) -> None:
    project = _project(tmp_path)
    ct = _series(tmp_path / "ct", BASELINE)
    us = _series(tmp_path / "us", WEEK8, modality="US")
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(ct),
                "--timepoint", "week 8", "2024-03-04", str(us)) == 2
    err = _one_line_error(capsys)
    assert "timepoint 'week 8'" in err and "is modality US, not one of the charter's modalities CT, MR, PT" in err
    assert _nothing_recorded(project)
    # a charter that lists the modality accepts it
    other = ReviewProject.init(tmp_path / "review2", {**CHARTER, "modalities": ["CT", "US"]}, as_="PM1", now=NOW)
    assert other.add_subject("NET-1", [SubjectTimepoint("baseline", BASELINE, (str(ct),)),
                                       SubjectTimepoint("week 8", WEEK8, (str(us),))], as_="PM1", now=NOW)


def test_a_study_date_other_than_the_timepoint_date_is_refused(tmp_path: Path, capsys) -> None:
    project = _project(tmp_path)
    ct = _series(tmp_path / "ct", dt.date(2024, 1, 10))
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(ct)) == 2
    err = _one_line_error(capsys)
    assert "has StudyDate 2024-01-10, but the timepoint's date is 2024-01-08" in err
    assert _nothing_recorded(project)


def test_series_date_then_acquisition_date_stand_in_for_a_missing_study_date(tmp_path: Path, capsys) -> None:
    project = _project(tmp_path)
    by_series = _series(tmp_path / "a", None, SeriesDate="20240108")
    by_acquisition = _series(tmp_path / "b", None, AcquisitionDate="20240305")
    undated = _series(tmp_path / "c", None)
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(by_series),
                "--timepoint", "week 8", "2024-03-04", str(by_acquisition)) == 2
    assert "has AcquisitionDate 2024-03-05, but the timepoint's date is 2024-03-04" in _one_line_error(capsys)
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(undated)) == 2
    assert "has no StudyDate, SeriesDate or AcquisitionDate" in _one_line_error(capsys)
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(by_series),
                "--timepoint", "week 8", "2024-03-05", str(by_acquisition)) == 0


def test_a_damaged_file_is_refused(tmp_path: Path, capsys) -> None:
    project = _project(tmp_path)
    ct = _series(tmp_path / "ct", BASELINE)
    victim = sorted(ct.glob("*.dcm"))[1]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])  # cut in the pixel data
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(ct)) == 2
    err = _one_line_error(capsys)
    assert f"{victim.name} cannot be used (no pixel data in an image (CT): the file is truncated" in err
    assert _nothing_recorded(project)
    # an empty file (a failed copy) and a damaged image in a folder of its own are refused too
    (ct / "broken").mkdir()
    (ct / "broken" / "IM0001").write_bytes(victim.read_bytes())
    victim.unlink()
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(ct)) == 2
    assert "IM0001 cannot be used (no pixel data in an image (CT): the file is truncated" in _one_line_error(capsys)
    (ct / "broken" / "IM0001").write_bytes(b"")
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(ct)) == 2
    assert "IM0001 is an empty file (a failed copy?)" in _one_line_error(capsys)
    (ct / "broken" / "IM0001").unlink()
    (ct / "DICOMDIR.txt").write_text("index of the disc")  # plainly not an image: ignored
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(ct)) == 0


def _manifest(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "manifest.csv"
    path.write_text("subject,timepoint,date,folder\n" + "\n".join(rows) + "\n")
    return path


def test_bad_row_3_of_5_is_named_and_nothing_of_the_manifest_is_recorded(tmp_path: Path, capsys) -> None:
    project = _project(tmp_path)
    for name, when in (("a0", BASELINE), ("a1", WEEK8), ("b0", BASELINE), ("b1", WEEK8), ("c0", BASELINE)):
        _series(tmp_path / name, when)
    _series(tmp_path / "b0-wrong-day", dt.date(2024, 1, 9))
    rows = ["A-1,baseline,2024-01-08,a0", "A-1,week 8,2024-03-04,a1", "B-1,baseline,2024-01-08,b0-wrong-day",
            "B-1,week 8,2024-03-04,b1", "C-1,baseline,2024-01-08,c0"]
    bad = _manifest(tmp_path, rows)
    assert _add(project, "--manifest", str(bad)) == 2
    err = _one_line_error(capsys)
    assert f"{bad}: line 4: subject 'B-1', timepoint 'baseline': folder " in err
    assert "StudyDate 2024-01-09" in err and "nothing of the manifest was added" in err
    assert _nothing_recorded(project)  # A-1 and C-1, valid, were not recorded either
    # the library says the same
    with pytest.raises(RecistValidationError, match=r"line 4: subject 'B-1'"):
        project.add_manifest(bad, as_="PM1", now=NOW)
    # several problems: the first is given, the others' lines named
    rows_many = [rows[0], "A-1,week 8,2024-03-04,gone", rows[2], rows[3], "C-1,baseline,2024-01-08,empty"]
    (tmp_path / "empty").mkdir()
    assert _add(project, "--manifest", str(_manifest(tmp_path, rows_many))) == 2
    err = _one_line_error(capsys)
    assert "line 3: subject 'A-1', timepoint 'week 8': folder" in err and "(also lines 4, 6)" in err
    assert _nothing_recorded(project)


def test_a_good_manifest_is_recorded_and_can_be_packaged(tmp_path: Path, capsys) -> None:
    project = _project(tmp_path)
    for name, when in (("a0", BASELINE), ("a1", WEEK8), ("b0", BASELINE)):
        _series(tmp_path / name, when)
    _series(tmp_path / "a1-pet", WEEK8, modality="PT")  # a second series of one timepoint: another row
    good = _manifest(tmp_path, ["A-1,baseline,2024-01-08,a0", "A-1,week 8,2024-03-04,a1",
                                "A-1,week 8,2024-03-04,a1-pet", "B-1,baseline,2024-01-08,b0"])
    assert _add(project, "--manifest", str(good)) == 0
    out = capsys.readouterr()
    assert out.out.split() == [project.pseudonym("A-1"), project.pseudonym("B-1")]
    assert "NOT checked" not in out.err
    added = [e for e in project.audit.entries() if e["action"] == "add"]
    assert [e["details"]["images_checked"] for e in added] == [True, True]
    manifest = project.package("R1", tmp_path / "pkg", as_="PM1", now=NOW)
    assert len(manifest["subjects"]) == 2
    # dates out of order and a subject already there are named with their line
    assert _add(project, "--manifest", str(good)) == 2
    assert "line 2: subject 'A-1': subject 'A-1' is already in the project" in _one_line_error(capsys)
    swapped = _manifest(tmp_path, ["D-1,baseline,2024-03-04,a1", "D-1,week 8,2024-03-04,a0"])
    assert _add(project, "--manifest", str(swapped)) == 2
    assert "line 3: subject 'D-1': timepoint 'week 8'" in _one_line_error(capsys)


def test_folders_of_another_patient_are_refused(tmp_path: Path, capsys) -> None:
    """A follow-up folder of another patient (right modality, right date) would be measured as this
    subject's follow-up: add-subject, a manifest and correct-timepoints refuse it, naming the PatientIDs."""
    project = _project(tmp_path)
    _series(tmp_path / "base", BASELINE, PatientID="MRN-111")
    _series(tmp_path / "other", WEEK8, PatientID="MRN-222")
    _series(tmp_path / "same", WEEK8, PatientID="MRN-111")
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(tmp_path / "base"),
                "--timepoint", "week 8", "2024-03-04", str(tmp_path / "other")) == 2
    err = _one_line_error(capsys)
    assert "subject 'NET-1': its folders hold the scans of 2 patients" in err
    assert "baseline: 'MRN-111'" in err and "week 8: 'MRN-222'" in err
    assert _nothing_recorded(project)
    mixed = _manifest(tmp_path, ["NET-1,baseline,2024-01-08,base", "NET-1,week 8,2024-03-04,other"])
    assert _add(project, "--manifest", str(mixed)) == 2
    assert "line 2: subject 'NET-1': its folders hold the scans of 2 patients" in _one_line_error(capsys)
    assert _nothing_recorded(project)
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(tmp_path / "base"),
                "--timepoint", "week 8", "2024-03-04", str(tmp_path / "same")) == 0
    capsys.readouterr()
    with pytest.raises(RecistValidationError, match="2 patients"):
        project.correct_timepoints("NET-1", [SubjectTimepoint("baseline", BASELINE, (str(tmp_path / "base"),)),
                                             SubjectTimepoint("week 8", WEEK8, (str(tmp_path / "other"),))],
                                   reason="wrong folder", as_="PM1", now=NOW)


def test_no_image_check_is_said_and_audited(tmp_path: Path, capsys) -> None:
    project = _project(tmp_path)
    (tmp_path / "later").mkdir()
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(tmp_path / "later"),
                "--no-image-check") == 0
    out = capsys.readouterr()
    assert out.out.strip() == project.pseudonym("NET-1")
    assert "images were NOT checked (--no-image-check)" in out.err
    entry = [e for e in project.audit.entries() if e["action"] == "add"][-1]
    assert entry["details"]["images_checked"] is False
    # the library has no silent path: the default checks, and checking is refused for the empty folder
    with pytest.raises(RecistValidationError, match="is empty"):
        project.add_subject("NET-2", [SubjectTimepoint("baseline", BASELINE, (str(tmp_path / "later"),))],
                            as_="PM1", now=NOW)


def test_correct_timepoints_checks_the_new_folders_too(tmp_path: Path, capsys) -> None:
    project = _project(tmp_path)
    base, wrong, right = (_series(tmp_path / "b", BASELINE), _series(tmp_path / "w", dt.date(2024, 3, 5)),
                          _series(tmp_path / "r", WEEK8))
    assert _add(project, "NET-1", "--timepoint", "baseline", "2024-01-08", str(base)) == 0
    capsys.readouterr()
    fix = ["review", "correct-timepoints", str(project.root), "NET-1", "--timepoint", "baseline", "2024-01-08",
           str(base), "--reason", "week 8 was missing", "--as", "PM1", "--timepoint", "week 8", "2024-03-04"]
    assert main([*fix, str(wrong)]) == 2
    assert "has StudyDate 2024-03-05" in _one_line_error(capsys)
    assert main([*fix, str(right)]) == 0
    record = json.loads((project.root / "subjects" / project.pseudonym("NET-1") / "subject.json").read_text())
    assert [tp["date"] for tp in record["timepoints"]] == ["2024-01-08", "2024-03-04"]
    assert project.verify() == []


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.binary(max_size=400), min_size=1, max_size=3), cut=st.integers(0, 4000))
def test_the_image_check_never_crashes_on_damaged_files(tmp_path_factory, files: list[bytes], cut: int) -> None:
    """Arbitrary bytes beside (or instead of) a real series, and a real file cut anywhere: always a
    one-line refusal naming the folder, never an exception."""
    folder = tmp_path_factory.mktemp("fuzz")
    series = sorted(_series(folder / "ct", BASELINE).glob("*.dcm"))
    series[0].write_bytes(series[0].read_bytes()[:cut])
    for k, data in enumerate(files):
        (folder / "ct" / f"junk{k}.dcm").write_bytes(b"DICM" + data if k % 2 else data)
    problem = folder_problem(folder / "ct", BASELINE, ("CT",))
    whole = series[0].stat().st_size >= len((folder / "ct" / series[1].name).read_bytes())
    assert problem is None or (problem.startswith(f"folder {folder / 'ct'}") and "\n" not in problem)
    if not whole:
        assert problem is not None  # a cut file of the series is never silently dropped
