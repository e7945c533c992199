"""OHIF can read recist's SRs: dcmjs's MeasurementReport adapter, run under node, parses every lesion.

Issue 16 §2: OHIF's TID 1500 reader threw a TypeError on our files (it takes a group's first NUM as the
measurement and expects a SCOORD under it; ours began with the Time Point Order NUM and had IMAGE plus
SCOORD3D children). tests/js/read_sr.js runs dcmjs's Cornerstone3D ``MeasurementReport.generateToolState``
(the call OHIF's SR hydration makes) on the files ``recist export sr`` writes, and this test checks that
every measured lesion drawn on an image comes back with its length. node and dcmjs come from
``make test`` (``npm ci`` in tests/js); the test skips with the reason when they are absent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from pathlib import Path

import pydicom
import pytest

import recist
from recist.export.dicom_sr import export_sr, index_images

REPO = Path(__file__).resolve().parents[2]
JS = REPO / "tests" / "js"
PATIENT = REPO / "sample_data" / "patient"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (make test installs nodejs with the system packages)")
    if not (JS / "node_modules" / "dcmjs").is_dir():
        pytest.skip("dcmjs is not installed: run `npm ci --prefix tests/js` (make test does)")
    return node


def _geometry(images) -> dict:
    out = {}
    for sop, ds in images.by_sop.items():
        cosines = [float(v) for v in ds.ImageOrientationPatient]
        out[sop] = {
            "frame_of_reference_uid": str(ds.FrameOfReferenceUID),
            "origin": [float(v) for v in ds.ImagePositionPatient],
            "row_cosines": cosines[:3],
            "column_cosines": cosines[3:],
            "row_spacing": float(ds.PixelSpacing[0]),
            "column_spacing": float(ds.PixelSpacing[1]),
        }
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    if not (PATIENT / "case.json").is_file():
        pytest.skip(f"{PATIENT} is absent: generate it with sample_data/make_sample_data.py")
    case = recist.read_case(PATIENT / "case.json")
    images = index_images(sorted(PATIENT.glob("*/CT")))
    folder = tmp_path_factory.mktemp("ohif")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        paths = export_sr(case, images, folder / "sr", reader="RADIOLOGIST 1")
    geometry = folder / "geometry.json"
    geometry.write_text(json.dumps(_geometry(images)))
    return case, paths, geometry


def test_dcmjs_reads_every_lesion_length_of_our_srs(exported):
    node = _node()
    case, paths, geometry = exported
    checked = 0
    for path, tp in zip(paths, case.timepoints):
        result = subprocess.run([node, str(JS / "read_sr.js"), str(path), str(geometry)],
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        parsed = json.loads(result.stdout)
        found = {m["id"]: m for m in parsed["measurements"]}
        drawn = {**{k: e for k, e in tp.targets.items() if e.long_axis_line or e.short_axis_line},
                 **{n.id: n for n in tp.new_lesions if n.long_axis_line or n.short_axis_line}}  # fmt: skip
        assert drawn, f"{path.name}: the sample patient measures lesions on images at every timepoint"
        for lesion_id, entry in drawn.items():
            got = found[lesion_id]
            first = entry.long_axis_mm if entry.long_axis_line is not None else entry.short_axis_mm
            assert got["length"] == pytest.approx(first, abs=1e-4), (path.name, lesion_id)
            if got["tool"] == "Bidirectional":
                assert got["width"] == pytest.approx(entry.short_axis_mm, abs=1e-4)
                assert got["points"] == 4
            checked += 1
        assert not [s for s in parsed["skipped"] if s["id"] in drawn], parsed["skipped"]
    assert checked >= len(case.timepoints)


def test_each_measurement_has_one_scoord_and_groups_start_with_a_measurement(exported):
    _, paths, _ = exported
    for path in paths:
        ds = pydicom.dcmread(path)
        (container,) = [i for i in ds.ContentSequence if i.ConceptNameCodeSequence[0].CodeValue == "126010"]
        for group in container.ContentSequence:
            nums = [i for i in group.ContentSequence if i.ValueType == "NUM"]
            for num in nums:
                kinds = [c.ValueType for c in num.get("ContentSequence", [])]
                assert kinds.count("SCOORD") <= 1 and "IMAGE" not in kinds or "SCOORD" not in kinds
            assert all(n.ConceptNameCodeSequence[0].CodeValue != "126073" for n in nums)  # no Time Point Order


def test_patient_and_study_of_the_sr_equal_the_images(exported):
    """dcentvfy (dicom3tools) compares patient and study attributes across the SR and its images."""
    dcentvfy = shutil.which("dcentvfy")
    if dcentvfy is None:
        pytest.skip("dcentvfy is not installed (make test installs dicom3tools)")
    _, paths, _ = exported
    for path in paths:
        study = pydicom.dcmread(path).StudyInstanceUID
        images = [p for p in sorted(PATIENT.glob("*/CT/*.dcm")) if pydicom.dcmread(p, stop_before_pixels=True,
                  specific_tags=["StudyInstanceUID"]).StudyInstanceUID == study]  # fmt: skip
        assert images
        result = subprocess.run([dcentvfy, str(path), *map(str, images)], capture_output=True, text=True, timeout=120)
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        # the only remark left is dicom3tools' module bookkeeping of Accession Number (Study vs Series IE)
        assert all("<AccessionNumber>" in line and "Different information entities" in line for line in lines), lines
