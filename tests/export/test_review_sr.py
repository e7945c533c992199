"""``recist review export-sr``: the final reads of a review project as verified DICOM SR on the source images.

Issue 16 §2. A review project is built here with real CT series (tests/io/dicom_factory.py); the readers
read their de-identified packages (pseudonym, shifted dates, hashed UIDs) and measure on the package's
images, as they do. The export must reference the core lab's ORIGINAL images (their SOP Instance UIDs,
true dates, the hospital patient), say who verified the read and when (PS3.3 C.17.2: VerificationFlag
VERIFIED, Verifying Observer Sequence with name, organisation and Verification DateTime, CompletionFlag
COMPLETE), and import back (``recist import sr``) into the final read in the sponsor's terms.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pydicom
import pytest

import recist
from recist.cli import main
from recist.review.workflow import ReviewProject, SubjectTimepoint

sys.path.insert(0, str(Path(__file__).parents[1] / "io"))
from dicom_factory import write_series  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:highdicom.*")

CHARTER: dict[str, Any] = {
    "format": "recist.charter/1",
    "trial": "NET-3",
    "protocol": {"confirmation": False, "sd_min_days": 42},
    "readers": ["R1", "R2"],
    "adjudicators": ["ADJ1"],
    "administrators": ["PM1"],
    "organization": "NET-3 Imaging Core Lab",
    "organizations": {"ADJ1": "Hospital Three"},
}
NAMES = {"R1": "Ada Reader", "R2": "Ben Reader", "ADJ1": "Cy Adjudicator"}
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
DATES = (dt.date(2024, 1, 10), dt.date(2024, 3, 6))
LABELS = ("baseline", "week 8")
SIGNED = {"R1": NOW + dt.timedelta(hours=1), "R2": NOW + dt.timedelta(hours=2), "ADJ1": NOW + dt.timedelta(hours=3)}
# long axes (mm) each reader measures at baseline and week 8: NET-1 agree (SD), NET-2 disagree (PR vs PD)
SIZES = {"NET-1": {"R1": (30.0, 28.0), "R2": (30.0, 28.0)},
         "NET-2": {"R1": (30.0, 20.0), "R2": (30.0, 40.0)},
         "NET-3": {"R1": (25.0, 25.0)}}  # R2 never signs: skipped
HOSPITAL_ID = {"NET-1": "PAT-0001", "NET-2": "PAT-0002", "NET-3": "PAT-0003"}
SLICE = 1  # the slice (0-based) readers measure on


def _sources(root: Path, subject: str) -> list[Path]:
    folders = []
    for k, date in enumerate(DATES):
        stamp = date.strftime("%Y%m%d")
        folder = root / subject / f"tp{k}"
        write_series(folder, shape=(3, 64, 64), extra={
            "StudyDate": stamp, "SeriesDate": stamp, "StudyTime": "101500", "StudyID": f"{k + 1}",
            "AccessionNumber": f"A{k + 1}", "ReferringPhysicianName": "Ref^Erin", "PatientID": HOSPITAL_ID[subject],
            "PatientName": "Doe^Jane", "PatientBirthDate": "19600101", "PatientSex": "F"})
        folders.append(folder)
    return folders


def _header_at_slice(folder: Path, z_mm: float) -> pydicom.Dataset:
    for path in sorted(folder.rglob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if abs(float(ds.ImagePositionPatient[2]) - z_mm) < 1e-6:
            return ds
    raise AssertionError(f"no image at z={z_mm} in {folder}")


def _read(package: Path, entry: dict[str, Any], sizes: tuple[float, float]) -> dict[str, Any]:
    """A read as the reader writes it from the package: pseudonym, shifted dates, package labels, its images."""
    timepoints = []
    for tp, size in zip(entry["timepoints"], sizes):
        ds = _header_at_slice(package / tp["folder"], 50.0 + 2.0 * SLICE)
        z = float(ds.ImagePositionPatient[2])
        image = {"study_uid": str(ds.StudyInstanceUID), "series_uid": str(ds.SeriesInstanceUID),
                 "sop_uid": str(ds.SOPInstanceUID), "modality": "CT"}
        line = {"start_mm": [-95.0, -100.0, z], "end_mm": [-95.0 + size, -100.0, z]}
        timepoints.append({"label": tp["label"], "date": tp["date"],
                           "targets": {"T1": {"long_axis_mm": size, "long_axis_line": line, "image": image}},
                           "non_targets": {"NT1": "present"}})
    return {"format": "recist.case/1", "subject": entry["subject"],
            "lesions": [{"id": "T1", "role": "target", "site": "liver"},
                        {"id": "NT1", "role": "non_target", "site": "peritoneum"}],
            "timepoints": timepoints}


@pytest.fixture(scope="module")
def review(tmp_path_factory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("review_sr")
    ReviewProject.init(base / "project", CHARTER, as_="PM1", now=NOW)
    project = ReviewProject.open(base / "project", names=NAMES)  # printed names, as the accounts give them
    sources = {}
    for subject in SIZES:
        sources[subject] = _sources(base / "source", subject)
        project.add_subject(subject, [SubjectTimepoint(label, date, (str(folder),)) for label, date, folder
                                      in zip(LABELS, DATES, sources[subject])], as_="PM1", now=NOW)
    for reader in ("R1", "R2"):
        manifest = project.package(reader, base / f"pkg-{reader}", as_="PM1", now=NOW)
        for entry in manifest["subjects"]:
            subject = project._subject(entry["subject"])["subject"]  # noqa: SLF001 - the test knows the truth
            if reader not in SIZES[subject]:
                continue
            project.save_read(entry["subject"], _read(base / f"pkg-{reader}", entry, SIZES[subject][reader]),
                              as_=reader, now=NOW)
            project.sign(entry["subject"], as_=reader, now=SIGNED[reader])
    project.adjudicate(project.pseudonym("NET-2"), choose="B", reason="PD is clear on the week 8 CT",
                       as_="ADJ1", now=SIGNED["ADJ1"])
    out = base / "sr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main(["review", "export-sr", str(base / "project"), "--out", str(out), "--as", "PM1"])
    return {"base": base, "project": project, "sources": sources, "out": out, "status": status}


def _final(project: ReviewProject, subject: str) -> dict[str, Any]:
    rows = {row["subject"]: row for row in project.results(as_="PM1", now=NOW)}
    return rows[subject]


def _documents(out: Path, subject: str) -> list[pydicom.Dataset]:
    docs = [pydicom.dcmread(p) for p in sorted(out.glob(f"{subject}_*.dcm"))]
    return sorted(docs, key=lambda ds: ds.StudyDate)


def test_the_cli_writes_final_subjects_and_skips_the_unsigned_one(review, capsys) -> None:
    assert review["status"] == 0
    names = sorted(p.name for p in review["out"].iterdir())
    assert len(names) == 4 and all(n.startswith(("NET-1_", "NET-2_")) for n in names), names
    # run again (a new folder) to see what the user sees
    out = review["base"] / "again"
    assert main(["review", "export-sr", str(review["base"] / "project"), "--out", str(out), "--as", "PM1"]) == 0
    captured = capsys.readouterr()
    pseudonym = review["project"].pseudonym("NET-3")
    assert f"skipped subject NET-3 ({pseudonym}): awaiting reads" in captured.err
    reader = _final(review["project"], "NET-2")["reader"]
    assert (f"NET-2: 2 SR document(s) of the adjudication read by {reader}, verified by {NAMES[reader]} (author of "
            "this read), Cy Adjudicator (adjudicator's selection)") in captured.out
    assert "wrote 4 SR document(s) of 2 subject(s)" in captured.out


def test_documents_reference_the_source_images_with_true_dates_and_patient(review) -> None:
    for subject in ("NET-1", "NET-2"):
        docs = _documents(review["out"], subject)
        assert len(docs) == 2
        for ds, folder, date in zip(docs, review["sources"][subject], DATES):
            source = _header_at_slice(folder, 50.0 + 2.0 * SLICE)
            assert ds.StudyDate == date.strftime("%Y%m%d")
            assert ds.StudyInstanceUID == source.StudyInstanceUID
            assert ds.PatientID == HOSPITAL_ID[subject] and str(ds.PatientName) == "Doe^Jane"
            referenced = {item.ReferencedSOPInstanceUID
                          for study in ds.CurrentRequestedProcedureEvidenceSequence
                          for series in study.ReferencedSeriesSequence for item in series.ReferencedSOPSequence}
            assert referenced == {source.SOPInstanceUID}
            assert "LongitudinalTemporalInformationModified" not in ds and "PatientIdentityRemoved" not in ds


def test_verification_names_the_signers_with_organisation_and_signature_time(review) -> None:
    project = review["project"]
    agreed, adjudicated = _final(project, "NET-1"), _final(project, "NET-2")
    assert (agreed["source"], adjudicated["source"]) == ("agreement", "adjudication")
    for subject, row in (("NET-1", agreed), ("NET-2", adjudicated)):
        expected = [(f"{NAMES[row['reader']]}^", "NET-3 Imaging Core Lab", SIGNED[row["reader"]])]
        if subject == "NET-2":
            expected.append(("Cy Adjudicator^", "Hospital Three", SIGNED["ADJ1"]))
        for ds in _documents(review["out"], subject):
            assert (ds.CompletionFlag, ds.VerificationFlag, ds.PreliminaryFlag) == ("COMPLETE", "VERIFIED", "FINAL")
            observers = [(str(o.VerifyingObserverName), o.VerifyingOrganization,
                          dt.datetime.strptime(o.VerificationDateTime, "%Y%m%d%H%M%S.%f%z"))
                         for o in ds.VerifyingObserverSequence]
            assert observers == expected


def test_import_sr_gives_back_the_final_read_in_the_sponsors_terms(review) -> None:
    out = review["base"] / "imported"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["import", "sr", str(review["out"]), "--out", str(out)]) == 0
    cases = {recist.read_case(p).subject: recist.read_case(p) for p in sorted(out.glob("*.json"))}
    assert sorted(cases) == ["NET-1", "NET-2"]
    project = review["project"]
    for subject, case in cases.items():
        row = _final(project, subject)
        sizes = SIZES[subject][row["reader"]]
        # what the reader wrote, in the sponsor's terms, built here from the sources (not from the code)
        for tp, folder, date, label, size in zip(case.timepoints, review["sources"][subject], DATES, LABELS, sizes):
            source = _header_at_slice(folder, 50.0 + 2.0 * SLICE)
            assert (tp.label, tp.date) == (label, date)
            t1 = tp.targets["T1"]
            assert t1.long_axis_mm == size
            assert t1.image.sop_uid == source.SOPInstanceUID and t1.image.series_uid == source.SeriesInstanceUID
            assert t1.long_axis_line.start_mm == (-95.0, -100.0, 50.0 + 2.0 * SLICE)
            assert tp.non_targets["NT1"].state.value == "present"
        # the whole case: the test's own read with the truth put back equals what came back through SR
        expected = _read_in_sponsor_terms(review, subject, sizes)
        got = case.to_dict()
        for tp in got["timepoints"]:
            tp.pop("images")  # the SR's study/series list, which the read does not carry
        assert got == expected
        assessed = recist.assess(case).to_dict()
        assert assessed["best_overall_response"] == row["best_overall_response"]
        assert (assessed["progression"] or {}).get("date") == row["progression_date"]


def _read_in_sponsor_terms(review: dict[str, Any], subject: str, sizes: tuple[float, float]) -> dict[str, Any]:
    """The read the test wrote, with the subject id, true dates and labels and the source images."""
    timepoints = []
    for folder, date, label, size in zip(review["sources"][subject], DATES, LABELS, sizes):
        ds = _header_at_slice(folder, 50.0 + 2.0 * SLICE)
        z = float(ds.ImagePositionPatient[2])
        image = {"study_uid": str(ds.StudyInstanceUID), "series_uid": str(ds.SeriesInstanceUID),
                 "sop_uid": str(ds.SOPInstanceUID), "modality": "CT"}
        timepoints.append({"label": label, "date": date.isoformat(),
                           "targets": {"T1": {"long_axis_mm": size, "image": image, "long_axis_line": {
                               "start_mm": [-95.0, -100.0, z], "end_mm": [-95.0 + size, -100.0, z]}}},
                           "non_targets": {"NT1": "present"}})
    data = recist.parse_case({"format": "recist.case/1", "subject": subject, "timepoints": timepoints,
                              "lesions": [{"id": "T1", "role": "target", "site": "liver"},
                                          {"id": "NT1", "role": "non_target", "site": "peritoneum"}]}).to_dict()
    for tp in data["timepoints"]:
        tp.pop("images")
    return data


def test_pydicom_sees_one_tid_1500_report_per_timepoint_observed_by_the_reader(review) -> None:
    row = _final(review["project"], "NET-2")
    for ds in _documents(review["out"], "NET-2"):
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"
        assert ds.ContentTemplateSequence[0].TemplateIdentifier == "1500"
        person = [i for i in ds.ContentSequence if i.ConceptNameCodeSequence[0].CodeValue == "121008"]
        assert [str(i.PersonName) for i in person] == [f"{NAMES[row['reader']]}^"]


def test_dciodvfy_and_dcentvfy_accept_the_documents(review) -> None:
    dciodvfy, dcentvfy = shutil.which("dciodvfy"), shutil.which("dcentvfy")
    if dciodvfy is None or dcentvfy is None:
        pytest.skip("dicom3tools are not installed (make test installs them)")
    for subject in ("NET-1", "NET-2"):
        for path, folder in zip(sorted(review["out"].glob(f"{subject}_*.dcm")), review["sources"][subject]):
            run = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
            lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
            assert not [line for line in lines if line.startswith("Error")], lines
            # the one remark: the private coding scheme (PS3.16 8: a "99" designator is private)
            assert not [line for line in lines if line.startswith("Warning") and "99RECIST" not in line], lines
            run = subprocess.run([dcentvfy, str(path), *map(str, sorted(folder.glob("*.dcm")))],
                                 capture_output=True, text=True, timeout=60)
            remarks = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
            assert all("<AccessionNumber>" in line for line in remarks), remarks


def test_export_is_for_administrators_and_refuses_a_tampered_project(review, tmp_path, capsys) -> None:
    root = review["base"] / "project"
    assert main(["review", "export-sr", str(root), "--out", str(tmp_path / "r1"), "--as", "R1"]) == 2
    assert "only administrators may export final reads" in capsys.readouterr().err
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    read = next(copy.glob("subjects/*/reads/R1.json"))
    data = json.loads(read.read_text())
    data["versions"][-1]["case"]["timepoints"][1]["targets"]["T1"]["long_axis_mm"] = 1.0
    read.write_text(json.dumps(data))
    adjudication = next(copy.glob("subjects/*/adjudication.json"))
    data = json.loads(adjudication.read_text())
    del data["signature"]["time"]
    adjudication.write_text(json.dumps(data))
    assert main(["review", "export-sr", str(copy), "--out", str(tmp_path / "x"), "--as", "PM1"]) == 2
    assert "fails `recist review verify`" in capsys.readouterr().err
    out = tmp_path / "forensic"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["review", "export-sr", str(copy), "--out", str(out), "--as", "PM1", "--ignore-verify"]) == 1
    err = capsys.readouterr().err
    assert "UNVERIFIED" in err
    assert "skipped subject NET-2" in err and "the adjudication's signature is damaged" in err
    assert sorted(p.name.split("_")[0] for p in out.glob("*.dcm")) == ["NET-1", "NET-1"]
    for path in out.glob("*.dcm"):
        ds = pydicom.dcmread(path)
        assert ds.VerificationFlag == "UNVERIFIED" and "VerifyingObserverSequence" not in ds


def test_subject_option_and_a_signer_without_organisation(review, tmp_path, capsys) -> None:
    root = review["base"] / "project"
    out = tmp_path / "one"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["review", "export-sr", str(root), "--out", str(out), "--as", "PM1", "--subject", "NET-1"]) == 0
    assert sorted(p.name.split("_")[0] for p in out.iterdir()) == ["NET-1", "NET-1"]
    capsys.readouterr()
    # a project whose charter names no organisation: refused, naming the person, unless --organization
    charter = {k: v for k, v in CHARTER.items() if k not in ("organization", "organizations")}
    bare = tmp_path / "bare"
    ReviewProject.init(bare, charter, as_="PM1", now=NOW)
    project = ReviewProject.open(bare)
    subject = review["project"]._subject(review["project"].pseudonym("NET-1"))  # noqa: SLF001
    pseudonym = project.add_subject("NET-1", [SubjectTimepoint(tp["label"], dt.date.fromisoformat(tp["date"]),
                                                               tuple(tp["folders"])) for tp in subject["timepoints"]],
                                    as_="PM1", now=NOW)
    for reader in ("R1", "R2"):
        manifest = project.package(reader, tmp_path / f"pkg-{reader}", as_="PM1", now=NOW)
        project.save_read(pseudonym, _read(tmp_path / f"pkg-{reader}", manifest["subjects"][0], (30.0, 28.0)),
                          as_=reader, now=NOW)
        project.sign(pseudonym, as_=reader, now=NOW)
    assert main(["review", "export-sr", str(bare), "--out", str(tmp_path / "no-org"), "--as", "PM1"]) == 2
    err = capsys.readouterr().err
    assert "names no organisation for" in err and "--organization" in err and len(err.strip().splitlines()) == 1
    assert not list((tmp_path / "no-org").glob("*.dcm"))
    assert main(["review", "export-sr", str(bare), "--out", str(tmp_path / "bad-org"), "--as", "PM1",
                 "--organization", "Lab\\One"]) == 2
    assert "organisation 'Lab\\\\One' must be 1-64 characters without backslashes" in capsys.readouterr().err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["review", "export-sr", str(bare), "--out", str(tmp_path / "org"), "--as", "PM1",
                     "--organization", "Central Lab"]) == 0
    for path in (tmp_path / "org").glob("*.dcm"):
        assert pydicom.dcmread(path).VerifyingObserverSequence[0].VerifyingOrganization == "Central Lab"


def test_ohif_dcmjs_reads_every_final_length(review, tmp_path) -> None:
    """OHIF's SR hydration (dcmjs MeasurementReport, tests/js/read_sr.js) on the source images' geometry."""
    from recist.export.dicom_sr import index_images

    from .test_sr_ohif import JS, _geometry, _node

    node = _node()
    images = index_images([folder for folders in review["sources"].values() for folder in folders])
    geometry = tmp_path / "geometry.json"
    geometry.write_text(json.dumps(_geometry(images)))
    paths = sorted(review["out"].glob("*.dcm"))
    assert len(paths) == 4
    for path in paths:
        subject, _, number, _ = path.name.split("_", 3)
        size = SIZES[subject][_final(review["project"], subject)["reader"]][int(number) - 1]
        run = subprocess.run([node, str(JS / "read_sr.js"), str(path), str(geometry)], capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
        found = {m["id"]: m for m in json.loads(run.stdout)["measurements"]}
        assert found["T1"]["length"] == pytest.approx(size, abs=1e-4), path.name
