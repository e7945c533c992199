"""Final reads in the core lab's terms (recist.review.final_reads): true subject, dates, labels and source UIDs.

The de-identified UIDs a reader writes are mapped back by hashing the subject's source series; a reference
the timepoint's own series do not hold is refused, not guessed (issue 16 §2, export of final reads).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recist.cli import main
from recist.errors import BlindingError, ReviewStateError
from recist.review.final_reads import final_reads, source_case
from recist.review.workflow import ReviewProject, SubjectTimepoint

from .conftest import CHARTER, NOW, load_factory, package_case

DATES = (dt.date(2024, 1, 10), dt.date(2024, 3, 6))


@pytest.fixture
def project(tmp_path: Path) -> tuple[ReviewProject, str, list[Path]]:
    """One subject with a real CT series per timepoint, packaged for R1."""
    project = ReviewProject.init(tmp_path / "review", CHARTER, as_="PM1", now=NOW)
    folders = []
    for k, date in enumerate(DATES):
        stamp = date.strftime("%Y%m%d")
        folders.append(tmp_path / "src" / f"tp{k}")
        load_factory().write_series(folders[-1], shape=(2, 8, 8),
                                    extra={"StudyDate": stamp, "SeriesDate": stamp, "PatientID": "H-77"})
    pseudonym = project.add_subject("NET-9", [SubjectTimepoint(label, date, (str(f),)) for label, date, f
                                              in zip(("baseline", "week 8"), DATES, folders)], as_="PM1", now=NOW)
    return project, pseudonym, folders


def _sign_both(project: ReviewProject, pseudonym: str, case: dict[str, Any]) -> None:
    for reader in ("R1", "R2"):
        project.save_read(pseudonym, case, as_=reader, now=NOW)
        project.sign(pseudonym, as_=reader, now=NOW)


def _package_refs(project: ReviewProject, pseudonym: str, out: Path) -> list[dict[str, str]]:
    """One de-identified image reference per timepoint, from the reader's package (as a reader makes it)."""
    manifest = project.package("R1", out, as_="PM1", now=NOW)
    refs = []
    for tp in manifest["subjects"][0]["timepoints"]:
        ds = pydicom.dcmread(sorted((out / tp["folder"]).glob("*.dcm"))[0], stop_before_pixels=True)
        refs.append({"study_uid": str(ds.StudyInstanceUID), "series_uid": str(ds.SeriesInstanceUID),
                     "sop_uid": str(ds.SOPInstanceUID)})
    return refs


def test_a_read_is_given_back_with_true_dates_labels_subject_and_source_uids(project, tmp_path) -> None:
    project, pseudonym, folders = project
    refs = _package_refs(project, pseudonym, tmp_path / "pkg")
    case = package_case(project, pseudonym, [30.0, 28.0])
    for tp, ref in zip(case["timepoints"], refs):
        tp["targets"]["T1"]["image"] = ref
    _sign_both(project, pseudonym, case)
    (read,) = final_reads(project, as_="PM1", now=NOW)
    assert (read.subject, read.status, read.source) == ("NET-9", "final", "agreement")
    assert [(tp["label"], tp["date"]) for tp in read.case["timepoints"]] == [
        ("baseline", "2024-01-10"), ("week 8", "2024-03-06")]
    for tp, folder in zip(read.case["timepoints"], folders):
        sources = {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in folder.glob("*.dcm")}
        assert tp["targets"]["T1"]["image"]["sop_uid"] in sources
    assert [s.person for s in read.signers] == [read.reader]
    last = list(project.audit.entries())[-1]
    assert (last["action"], last["details"]["what"], last["details"]["final"]) == ("export", "final reads", 1)


def test_an_image_of_another_timepoint_is_refused_not_guessed(project, tmp_path, capsys) -> None:
    project, pseudonym, _ = project
    refs = _package_refs(project, pseudonym, tmp_path / "pkg")
    case = package_case(project, pseudonym, [30.0, 28.0])
    for tp in case["timepoints"]:
        tp["targets"]["T1"]["image"] = refs[0]  # week 8 measured on the baseline image
    _sign_both(project, pseudonym, case)
    (read,) = final_reads(project, as_="PM1", now=NOW)
    assert read.status == "unmapped" and read.case is None
    assert "timepoint 'week 8', lesion 'T1'" in read.problem and "another timepoint" in read.problem
    # the user's command: the subject is skipped with that line, nothing written for it, exit 1
    assert main(["review", "export-sr", str(project.root), "--out", str(tmp_path / "sr"), "--as", "PM1"]) == 1
    err = capsys.readouterr().err
    assert f"skipped subject NET-9 ({pseudonym}): final read by " in err and "lesion 'T1'" in err
    assert not list((tmp_path / "sr").iterdir())


def test_a_read_naming_no_image_gets_the_study_of_its_timepoint(project) -> None:
    project, pseudonym, folders = project
    _sign_both(project, pseudonym, package_case(project, pseudonym, [30.0, 28.0]))
    (read,) = final_reads(project, as_="PM1", now=NOW)
    for tp, folder in zip(read.case["timepoints"], folders):
        ds = pydicom.dcmread(next(folder.glob("*.dcm")), stop_before_pixels=True)
        assert tp["images"] == [{"study_uid": ds.StudyInstanceUID, "series_uid": ds.SeriesInstanceUID}]


def test_awaiting_withdrawn_and_who_may_ask(project) -> None:
    project, pseudonym, _ = project
    (read,) = final_reads(project, as_="PM1", now=NOW, subjects=["NET-9"])
    assert (read.status, read.problem, read.case) == ("awaiting reads", "awaiting reads", None)
    with pytest.raises(BlindingError, match="only administrators"):
        final_reads(project, as_="R1", now=NOW)
    project.withdraw_subject(pseudonym, reason="consent withdrawn", as_="PM1", now=NOW)
    (read,) = final_reads(project, as_="PM1", now=NOW)
    assert read.status == "withdrawn" and "consent withdrawn" in read.problem


def test_images_that_contradict_the_record_dates_skip_the_subject_with_nothing_written(project, tmp_path,
                                                                                       capsys) -> None:
    project, pseudonym, folders = project
    _sign_both(project, pseudonym, package_case(project, pseudonym, [30.0, 28.0]))
    for path in folders[1].glob("*.dcm"):  # the week 8 study is really of the next day
        ds = pydicom.dcmread(path)
        ds.StudyDate = "20240307"
        ds.save_as(path)
    assert main(["review", "export-sr", str(project.root), "--out", str(tmp_path / "sr"), "--as", "PM1",
                 "--organization", "Core Lab"]) == 1
    err = capsys.readouterr().err
    assert f"skipped subject NET-9 ({pseudonym}): final read by " in err
    assert "timepoint 'week 8': dated 2024-03-06 but its images' study" in err and "2024-03-07" in err
    assert not list((tmp_path / "sr").iterdir())  # not even the baseline document


MAP = {"d-study": ("s-study", "StudyInstanceUID"), "d-series": ("s-series", "SeriesInstanceUID"),
       "d-sop": ("s-sop", "SOPInstanceUID")}
uids = st.sampled_from(sorted(MAP)) | st.text(max_size=12)


@settings(max_examples=80, deadline=None)
@given(st.fixed_dictionaries({"study_uid": uids, "series_uid": uids}, optional={"sop_uid": uids}),
       st.sampled_from(["targets", "non_targets", "new_lesions", "images"]))
def test_any_reference_is_mapped_to_its_own_kind_or_refused(ref: dict[str, str], where: str) -> None:
    """Whatever UIDs a read holds, each comes back as the source UID of the same attribute, or is refused."""
    tp: dict[str, Any] = {"label": "timepoint 1", "date": "2022-12-06"}
    if where == "images":
        tp["images"] = [dict(ref)]
    elif where == "new_lesions":
        tp["new_lesions"] = [{"id": "N1", "site": "bone", "image": dict(ref)}]
    else:
        tp[where] = {"L1": {"state": "present", "image": dict(ref)}}
    record = {"subject": "NET-1", "date_shift_days": -400,
              "timepoints": [{"label": "baseline", "date": "2024-01-10", "folders": []}]}
    try:
        data = source_case({"subject": "S-00000000", "timepoints": [tp]}, record, [MAP])
    except ReviewStateError as exc:
        assert "timepoint 'baseline'" in str(exc)
        return
    got = data["timepoints"][0]
    mapped = (got["images"][0] if where == "images" else got["new_lesions"][0]["image"] if where == "new_lesions"
              else got[where]["L1"]["image"])
    expected = {"study_uid": "s-study", "series_uid": "s-series", "sop_uid": "s-sop"}
    assert mapped == {key: expected[key] for key in ref}
    assert (data["subject"], got["date"], got["label"]) == ("NET-1", "2024-01-10", "baseline")
