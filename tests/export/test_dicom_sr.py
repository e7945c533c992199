"""DICOM SR (TID 1500) export: content, tracking UIDs, validation by dciodvfy and dsrdump, errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

import recist
from recist.errors import ExchangeError
from recist.export.dicom_sr import build_sr, export_sr, index_images
from recist.io import sr_codes

sys.path.insert(0, str(Path(__file__).parents[1] / "io"))
from exchange_cases import example_case_dict, write_images  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:highdicom.*")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    case = recist.parse_case(example_case_dict())
    folder = tmp_path_factory.mktemp("sr")
    images = index_images(write_images(case, folder / "images"))
    paths = export_sr(case, images, folder / "sr", reader="RADIOLOGIST 1")
    return case, images, paths


def _items(dataset):
    """Every content item of an SR tree, depth first."""
    for item in dataset.get("ContentSequence", []):
        yield item
        yield from _items(item)


def _name(item):
    code = item.ConceptNameCodeSequence[0]
    return (code.CodeValue, code.CodingSchemeDesignator)


def _groups(ds):
    return [item for item in _items(ds) if item.ValueType == "CONTAINER" and _name(item) == ("125007", "DCM")]


def _child(group, code, value_type=None):
    return [
        item for item in group.ContentSequence
        if _name(item) == code[:2] and (value_type is None or item.ValueType == value_type)
    ]  # fmt: skip


def test_one_comprehensive_3d_sr_per_timepoint_in_the_study_of_the_images(exported):
    case, images, paths = exported
    assert [p.name for p in paths] == [
        "EX-001_RADIOLOGIST-1_01_baseline.dcm", "EX-001_RADIOLOGIST-1_02_week-8.dcm",
        "EX-001_RADIOLOGIST-1_03_week-16.dcm",
    ]  # fmt: skip
    for tp, path in zip(case.timepoints, paths):
        ds = pydicom.dcmread(path)
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"
        assert ds.StudyDate == tp.date.strftime("%Y%m%d")
        assert ds.StudyInstanceUID in {str(h.StudyInstanceUID) for h in images.dated(tp.date)}
        assert ds.ContentTemplateSequence[0].TemplateIdentifier == "1500"
        # patient as the images have it (their Patient ID is the subject; no invented trial module)
        assert "ClinicalTrialSubjectID" not in ds and ds.PatientID == "EX-001"
        assert ds.CompletionFlag == "COMPLETE"


def test_measurement_groups_per_lesion_with_tracking_and_axes(exported):
    case, _, paths = exported
    baseline = pydicom.dcmread(paths[0])
    groups = _groups(baseline)
    ids = [_child(g, ("112039", "DCM"))[0].TextValue for g in groups]
    assert ids == ["T1", "T2", "T3", "T4", "NT1", "NT2"]
    t2 = groups[1]
    assert _child(t2, ("370129005", "SCT"))[0].ConceptCodeSequence[0].CodeValue == "126081"  # RECIST 1.1
    long_axis = _child(t2, sr_codes.LONG_AXIS, "NUM")[0].MeasuredValueSequence[0]
    short_axis = _child(t2, sr_codes.SHORT_AXIS, "NUM")[0].MeasuredValueSequence[0]
    assert (float(long_axis.FloatingPointValue), float(short_axis.FloatingPointValue)) == (25.0, 18.0)
    assert long_axis.MeasurementUnitsCodeSequence[0].CodeValue == "mm"
    site = _child(t2, ("363698007", "SCT"))[0].ConceptCodeSequence[0]
    assert (site.CodingSchemeDesignator, site.CodeValue) == ("SCT", "279795009")  # lymph node of mesentery
    assert _child(groups[0], ("363698007", "SCT"))[0].ConceptCodeSequence[0].CodeValue == "10200004"  # liver
    assert _child(t2, ("C2348792", "UMLS"))[0].TextValue == "baseline"
    nt1_state = _child(groups[4], sr_codes.STATE)[0].ConceptCodeSequence[0]
    assert (nt1_state.CodeValue, nt1_state.CodingSchemeDesignator) == ("52101004", "SCT")  # Present


def test_tracking_uid_is_the_same_at_every_timepoint(exported):
    _, _, paths = exported
    uids = []
    for path in paths:
        groups = _groups(pydicom.dcmread(path))
        uids.append(
            {_child(g, ("112039", "DCM"))[0].TextValue: _child(g, ("112040", "DCM"))[0].UID for g in groups}
        )
    assert uids[0]["T1"] == uids[1]["T1"] == uids[2]["T1"] == sr_codes.tracking_uid("EX-001", "T1")
    assert uids[0]["T1"].startswith("2.25.") and len(uids[0]["T1"]) <= 64
    assert len({uid for per in uids for uid in per.values()}) == 8  # 6 baseline lesions + N1 + N2


def test_states_new_lesions_split_and_merged(exported):
    _, _, paths = exported
    week8 = {_child(g, ("112039", "DCM"))[0].TextValue: g for g in _groups(pydicom.dcmread(paths[1]))}
    state = _child(week8["T2"], sr_codes.STATE)[0].ConceptCodeSequence[0]
    assert (state.CodeValue, state.CodeMeaning) == ("112133", "Too small")
    fragments = [
        float(i.MeasuredValueSequence[0].FloatingPointValue) for i in _child(week8["T3"], sr_codes.LONG_AXIS)
    ]
    assert fragments == [8.0, 6.5]
    role = _child(week8["N1"], sr_codes.ROLE)[0].ConceptCodeSequence[0]
    assert role.CodeMeaning == "New lesion"
    assert _child(week8["N1"], sr_codes.EQUIVOCAL)[0].ConceptCodeSequence[0].CodeValue == sr_codes.YES[0]
    week16 = {_child(g, ("112039", "DCM"))[0].TextValue: g for g in _groups(pydicom.dcmread(paths[2]))}
    assert _child(week16["T4"], sr_codes.MERGED_INTO)[0].TextValue == "T3"


def test_lines_are_scoord3d_polylines_on_the_referenced_image(tmp_path):
    data = example_case_dict()
    case = recist.parse_case(data)
    folders = write_images(case, tmp_path / "images")
    images = index_images(folders)
    header = next(ds for ds in images.dated(case.baseline.date))
    ref = {"study_uid": str(header.StudyInstanceUID), "series_uid": str(header.SeriesInstanceUID),
           "sop_uid": str(header.SOPInstanceUID), "modality": "CT"}  # fmt: skip
    data["timepoints"][0]["targets"]["T1"] |= {
        "long_axis_line": {"start_mm": [-10.5, 20.25, 50.0], "end_mm": [22.0, 20.25, 50.0]},
        "image": ref,
    }
    case = recist.parse_case(data)
    ds = build_sr(case, 0, images, reader="R1")
    t1 = _groups(ds)[0]
    measurement = _child(t1, sr_codes.LONG_AXIS, "NUM")[0]
    scoord = [i for i in measurement.ContentSequence if i.ValueType == "SCOORD3D"][0]
    assert scoord.GraphicType == "POLYLINE"
    assert [float(v) for v in scoord.GraphicData] == [-10.5, 20.25, 50.0, 22.0, 20.25, 50.0]
    assert scoord.ReferencedFrameOfReferenceUID == header.FrameOfReferenceUID
    # the 2D SCOORD viewers draw: pixel (column, row) of the referenced image, centre of the first pixel at
    # (0.5, 0.5); write_images puts that centre at (-100, -120, 50) LPS with 0.8 mm pixels
    (pixels,) = [i for i in measurement.ContentSequence if i.ValueType == "SCOORD"]
    assert pixels.GraphicType == "POLYLINE"
    assert np.allclose([float(v) for v in pixels.GraphicData],
                       [(-10.5 + 100) / 0.8 + 0.5, (20.25 + 120) / 0.8 + 0.5, (22 + 100) / 0.8 + 0.5,
                        (20.25 + 120) / 0.8 + 0.5], atol=1e-4)  # fmt: skip
    (image,) = [i for i in pixels.ContentSequence if i.ValueType == "IMAGE"]
    assert image.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == header.SOPInstanceUID
    assert [i.ValueType for i in measurement.ContentSequence] == ["SCOORD", "SCOORD3D"]
    library = [i for i in _items(ds) if i.ValueType == "CONTAINER" and _name(i) == ("111028", "DCM")]
    assert library, "TID 1600 image library"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (make test installs dicom3tools and dcmtk)")
    return path


def test_dciodvfy_reports_no_error(exported):
    dciodvfy = _tool("dciodvfy")
    for path in exported[2]:
        result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
        output = result.stdout + result.stderr
        errors = [line for line in output.splitlines() if line.startswith("Error")]
        assert errors == [], f"{path.name}: {errors}"
        assert "Comprehensive3DSR" in output


def test_dsrdump_reads_the_documents(exported):
    dsrdump = _tool("dsrdump")
    for path in exported[2]:
        result = subprocess.run([dsrdump, str(path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert (
            "Imaging Measurement Report" in result.stdout and '"Tracking Identifier")="T1"' in result.stdout
        )
        assert "error" not in result.stderr.lower()


def test_errors_name_the_timepoint_or_image(tmp_path, exported):
    case, images, _ = exported
    with pytest.raises(ExchangeError, match="no such image folder"):
        index_images([tmp_path / "absent"])
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not dicom")
    with pytest.raises(ExchangeError, match="no DICOM image found"):
        index_images([tmp_path / "empty"])
    only_baseline = index_images([next(iter(write_images(case, tmp_path / "one")))])
    with pytest.raises(
        ExchangeError, match="timepoint 'week 8': no image reference and no --images series dated"
    ):
        build_sr(case, 1, only_baseline, reader="R")
    data = example_case_dict()
    data["timepoints"][0]["targets"]["T1"]["image"] = {
        "study_uid": "1.2.3",
        "series_uid": "1.2.3.4",
        "sop_uid": "9.9",
    }
    with pytest.raises(ExchangeError, match="study 1.2.3 is not among the --images"):
        build_sr(recist.parse_case(data), 0, images, reader="R")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ExchangeError, match="reader name"):
            build_sr(case, 0, images, reader="")


def test_the_sample_patient_srs_validate(repo_dir, tmp_path):
    folder = repo_dir / "sample_data" / "patient"
    if not (folder / "case.json").is_file():
        pytest.skip(f"{folder} is absent: generate it with sample_data/make_sample_data.py")
    dciodvfy, dsrdump = _tool("dciodvfy"), _tool("dsrdump")
    case = recist.read_case(folder / "case.json")
    paths = export_sr(case, index_images(sorted(folder.glob("*/CT"))), tmp_path, reader="RADIOLOGIST 1")
    for path in paths:
        ds = pydicom.dcmread(path)
        assert ds.PatientID and ds.StudyInstanceUID == case.timepoints[paths.index(path)].images[0].study_uid
        result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
        errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")]
        assert errors == [], f"{path.name}: {errors}"
        dump = subprocess.run([dsrdump, str(path)], capture_output=True, text=True, timeout=60)
        assert dump.returncode == 0 and "SCOORD3D" in dump.stdout


def test_another_patients_study_on_the_same_date_is_refused(tmp_path):
    """Issue 16 §2: matching by date only wrote one patient's measurements into another patient's study."""
    from dicom_factory import write_series

    case = recist.parse_case(example_case_dict())
    folders = []
    for k, tp in enumerate(case.timepoints):
        date = tp.date.strftime("%Y%m%d")
        series = tmp_path / f"other{k}"
        write_series(series, shape=(1, 8, 8), extra={"StudyDate": date, "PatientID": "SOMEONE-ELSE"})
        folders.append(series)
    with pytest.raises(ExchangeError, match=r"subject 'EX-001', timepoint 'baseline': the study dated 2024-01-10 "
                       r"among the --images is of patient 'SOMEONE-ELSE'"):  # fmt: skip
        export_sr(case, index_images(folders), tmp_path / "sr")
    assert not (tmp_path / "sr").exists()


def test_a_timepoint_whose_images_are_of_another_day_is_refused(tmp_path):
    data = example_case_dict()
    case = recist.parse_case(data)
    images = index_images(write_images(case, tmp_path / "images"))
    header = next(iter(images.dated(case.timepoints[1].date)))
    data["timepoints"][0]["images"] = [{"study_uid": str(header.StudyInstanceUID),
                                        "series_uid": str(header.SeriesInstanceUID)}]  # fmt: skip
    with pytest.raises(ExchangeError, match=r"timepoint 'baseline': dated 2024-01-10 but its images' study .* is "
                       r"dated 2024-03-06"):  # fmt: skip
        build_sr(recist.parse_case(data), 0, images, reader="R1")


def test_images_of_another_trial_subject_are_refused(tmp_path):
    case = recist.parse_case(example_case_dict())
    folders = write_images(case, tmp_path / "images")
    for path in sorted(Path(tmp_path / "images").rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.ClinicalTrialSubjectID = "EX-999"
        ds.save_as(path)
    with pytest.raises(ExchangeError, match=r"are of trial subject 'EX-999'"):
        build_sr(case, 0, index_images(folders), reader="R1")
