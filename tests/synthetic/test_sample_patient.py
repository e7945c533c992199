"""The synthetic NET patient: determinism, geometry, CT numbers, lesion sizes, case file, PET SUVs."""

from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from scipy import ndimage

import recist
from recist.errors import RecistValidationError
from recist.measure.diameters import measure_lesions
from recist.measure.suv import suv_bw_factor
from recist.synthetic.sample_patient import DEFAULT_SEED, SUBJECT_ID, make_sample_patient, tissue_table


@pytest.fixture(scope="module")
def patient(tmp_path_factory):
    return make_sample_patient(tmp_path_factory.mktemp("net") / "patient")


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _read_series(folder: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def _tissue_code(name: str) -> int:
    return next(t.code for t in tissue_table() if t.name == name)


def test_same_seed_writes_identical_bytes_and_other_seed_differs(patient, tmp_path):
    again = make_sample_patient(tmp_path / "again", rng=np.random.default_rng(DEFAULT_SEED))
    first, second = _hashes(patient.out_dir), _hashes(again.out_dir)
    assert len(first) == 3 * (36 + 36 + 2) + 2
    assert first == second
    other = make_sample_patient(tmp_path / "other", seed=DEFAULT_SEED + 1)
    assert other.timepoints[0].study_uid != patient.timepoints[0].study_uid
    assert _hashes(other.out_dir)["baseline/CT/CT0001.dcm"] != first["baseline/CT/CT0001.dcm"]
    # the anatomy and the lesions are the same for every seed; noise, UIDs and identity change
    assert [le.long_axis_mm for le in other.timepoints[2].lesions] == [le.long_axis_mm for le in patient.timepoints[2].lesions]


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(RecistValidationError, match="size"):
        make_sample_patient(tmp_path, size="huge")
    with pytest.raises(RecistValidationError, match="either seed or rng"):
        make_sample_patient(tmp_path, seed=1, rng=np.random.default_rng(1))
    assert not any(tmp_path.iterdir())


def test_all_uids_are_valid_and_unique(patient):
    uids = []
    for tp in patient.timepoints:
        uids += [tp.study_uid, tp.ct_series_uid, tp.pet_series_uid, tp.frame_of_reference_uid]
        for folder in (tp.ct_dir, tp.pet_dir):
            uids += [pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in sorted(folder.glob("*.dcm"))]
    assert len(set(uids)) == len(uids)
    assert all(pydicom.uid.UID(u).is_valid and u.startswith("2.25.") and len(u) <= 64 for u in uids)


def test_geometry_read_back_with_simpleitk(patient):
    for tp in patient.timepoints:
        ct = _read_series(tp.ct_dir)
        assert ct.GetSize() == patient.ct_shape[::-1] == (128, 128, 36)
        assert ct.GetSpacing() == pytest.approx(patient.ct_spacing_mm[::-1]) == (3.0, 3.0, 5.0)
        assert ct.GetOrigin() == pytest.approx(patient.ct_origin_mm)
        assert ct.GetDirection() == pytest.approx((1, 0, 0, 0, 1, 0, 0, 0, 1))
        pet = _read_series(tp.pet_dir)
        assert pet.GetSize() == patient.pet_shape[::-1] == (64, 64, 36)
        assert pet.GetSpacing() == pytest.approx((6.0, 6.0, 5.0))
        assert pet.GetOrigin() == pytest.approx(patient.pet_origin_mm)
        for mask_path in (tp.lesion_mask, tp.organ_mask):
            mask = sitk.ReadImage(str(mask_path))
            assert mask.GetSize() == ct.GetSize()
            assert mask.GetSpacing() == pytest.approx(ct.GetSpacing())
            assert mask.GetOrigin() == pytest.approx(ct.GetOrigin())
            assert mask.GetDirection() == pytest.approx(ct.GetDirection())


@pytest.mark.parametrize(("name", "hu"), [("fat", -100), ("muscle", 50), ("liver", 105), ("spleen", 110),
                                          ("kidney", 150), ("aorta", 160), ("cancellous bone", 400),
                                          ("bowel gas", -1000), ("oral contrast", 250)])
def test_known_hu_in_organs(patient, name, hu):
    tp = patient.timepoints[0]
    ct = sitk.GetArrayFromImage(_read_series(tp.ct_dir)).astype(float)
    organs = sitk.GetArrayFromImage(sitk.ReadImage(str(tp.organ_mask)))
    lesions = sitk.GetArrayFromImage(sitk.ReadImage(str(tp.lesion_mask)))
    core = ndimage.binary_erosion((organs == _tissue_code(name)) & (lesions == 0), np.ones((1, 3, 3), bool))
    assert core.sum() > 20
    assert ct[core].mean() == pytest.approx(hu, abs=3.0)
    assert 4.0 < ct[core].std() < 12.0  # mild noise (8 HU, slightly smoothed)
    outside = ndimage.binary_erosion(organs == _tissue_code("air"), np.ones((1, 3, 3), bool))
    assert ct[outside].mean() == pytest.approx(-1000, abs=3.0)


def test_lesions_have_their_ct_numbers(patient):
    tp = patient.timepoints[0]
    ct = sitk.GetArrayFromImage(_read_series(tp.ct_dir)).astype(float)
    lesions = sitk.GetArrayFromImage(sitk.ReadImage(str(tp.lesion_mask)))
    for lesion in tp.lesions:
        core = ndimage.binary_erosion(lesions == lesion.label, np.ones((1, 3, 3), bool))
        assert ct[core].mean() == pytest.approx(lesion.hu, abs=5.0), lesion.id


def test_lesion_diameters_from_masks_equal_ground_truth(patient):
    half_diagonal_mm = 0.5 * math.hypot(patient.ct_spacing_mm[1], patient.ct_spacing_mm[2])
    for tp in patient.timepoints:
        image = sitk.ReadImage(str(tp.lesion_mask))
        measured = {m.label: m for m in measure_lesions(
            sitk.GetArrayFromImage(image), spacing_mm=image.GetSpacing()[::-1],
            origin_mm=image.GetOrigin(), direction=image.GetDirection())}
        assert sorted(measured) == sorted(le.label for le in tp.lesions)
        for lesion in tp.lesions:
            got = measured[lesion.label]
            assert got.slice_index == lesion.slice_index, lesion.id
            assert got.long_axis_mm == pytest.approx(lesion.long_axis_mm, abs=half_diagonal_mm), (tp.label, lesion.id)
            if lesion.nodal:
                assert got.short_axis_mm == pytest.approx(lesion.short_axis_mm, abs=half_diagonal_mm), lesion.id


def test_lesion_course(patient):
    baseline, week12, week24 = patient.timepoints
    assert [tp.date.isoformat() for tp in patient.timepoints] == ["2024-01-10", "2024-04-03", "2024-06-26"]
    assert baseline.lesion("T1").long_axis_mm > week12.lesion("T1").long_axis_mm > week24.lesion("T1").long_axis_mm
    assert baseline.lesion("T2").long_axis_mm < week12.lesion("T2").long_axis_mm < week24.lesion("T2").long_axis_mm
    assert week24.lesion("N1").role == "new"
    with pytest.raises(KeyError):
        week12.lesion("N1")
    assert baseline.lesion("T4").short_axis_mm == 18.0 and baseline.lesion("NT1").short_axis_mm == 12.0


def test_case_file_validates_and_points_at_the_images(patient):
    case = recist.read_case(patient.case_path)
    assert case.subject == SUBJECT_ID
    assert [lesion.id for lesion in case.lesions] == ["T1", "T2", "T3", "T4", "NT1"]
    for tp, truth in zip(case.timepoints, patient.timepoints):
        assert tp.date == truth.date and tp.slice_thickness_mm == 5.0
        assert {(ref.series_uid, ref.modality) for ref in tp.images} == {
            (truth.ct_series_uid, "CT"), (truth.pet_series_uid, "PT")}
        sops = {pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID: f for f in truth.ct_dir.glob("*.dcm")}
        for lesion_id, entry in tp.targets.items():
            lesion = truth.lesion(lesion_id)
            assert entry.long_axis_mm == lesion.long_axis_mm
            start, end = np.asarray(entry.long_axis_line.start_mm), np.asarray(entry.long_axis_line.end_mm)
            assert np.linalg.norm(end - start) == pytest.approx(lesion.long_axis_mm, abs=1e-3)
            assert entry.image.study_uid == truth.study_uid and entry.image.series_uid == truth.ct_series_uid
            slice_z = float(pydicom.dcmread(sops[entry.image.sop_uid], stop_before_pixels=True).ImagePositionPatient[2])
            assert start[2] == end[2] == pytest.approx(slice_z)
            if lesion.nodal:
                assert entry.short_axis_mm == lesion.short_axis_mm
        assert tp.non_targets["NT1"].state.value == "present"
    assert [n.id for n in case.timepoints[2].new_lesions] == ["N1"]
    result = recist.assess(case).to_dict()
    assert [t["overall_response"] for t in result["timepoints"]] == ["SD", "PD"]
    assert result["progression"]["trigger"] == "new_lesion"


def test_ct_headers(patient):
    for tp in patient.timepoints:
        ds = pydicom.dcmread(sorted(tp.ct_dir.glob("*.dcm"))[0])
        assert ds.Modality == "CT" and ds.StudyDate == tp.date.strftime("%Y%m%d")
        assert ds.InstanceCreationDate == ds.ContentDate == ds.StudyDate  # no "today" anywhere
        assert (float(ds.RescaleSlope), float(ds.RescaleIntercept)) == (1.0, -1024.0)
        assert [float(v) for v in ds.PixelSpacing] == [3.0, 3.0] and float(ds.SliceThickness) == 5.0
        assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
        assert ds.StudyInstanceUID == tp.study_uid and ds.SeriesInstanceUID == tp.ct_series_uid
        assert ds.FrameOfReferenceUID == tp.frame_of_reference_uid
        for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "InstitutionName",
                        "ReferringPhysicianName", "AccessionNumber", "StudyTime"):
            assert str(ds.data_element(keyword).value), keyword
        assert float(ds.PatientWeight) == tp.weight_kg


def test_pet_headers(patient):
    for tp in patient.timepoints:
        ds = pydicom.dcmread(sorted(tp.pet_dir.glob("*.dcm"))[10])
        assert (ds.Modality, ds.Units, ds.DecayCorrection) == ("PT", "BQML", "START")
        assert {"DECY", "ATTN"} <= set(ds.CorrectedImage)
        drug = ds.RadiopharmaceuticalInformationSequence[0]
        assert drug.Radiopharmaceutical == "Ga-68 DOTATATE"
        assert drug.RadionuclideCodeSequence[0].CodeMeaning == "^68^Gallium"
        assert float(drug.RadionuclideHalfLife) == 4057.8
        assert float(drug.RadionuclideTotalDose) == tp.dose_bq and 140e6 < tp.dose_bq < 160e6
        uptake_min = (tp.scan_start_datetime - tp.injection_datetime).total_seconds() / 60
        assert 55 <= uptake_min <= 65
        assert drug.RadiopharmaceuticalStartDateTime == tp.injection_datetime.strftime("%Y%m%d%H%M%S")
        assert ds.SeriesTime == ds.AcquisitionTime == tp.scan_start_datetime.strftime("%H%M%S")
        assert float(ds.PatientWeight) == tp.weight_kg
        assert ds.FrameOfReferenceUID == tp.frame_of_reference_uid  # PET/CT: one frame of reference


def test_pet_gives_back_the_suvs_through_suv_bw_factor(patient):
    for tp in patient.timepoints:
        files = sorted(tp.pet_dir.glob("*.dcm"))
        datasets = [pydicom.dcmread(f) for f in files]
        factors = {suv_bw_factor(ds) for ds in datasets}
        assert len(factors) == 1
        (factor,) = factors
        decayed = tp.dose_bq * 2 ** (-(tp.scan_start_datetime - tp.injection_datetime).total_seconds() / 4057.8)
        assert factor == pytest.approx(tp.weight_kg * 1000 / decayed, rel=1e-9)
        suv = np.stack([ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept) for ds in datasets])
        suv = suv * factor
        pet = _read_series(tp.pet_dir)
        organs = sitk.GetArrayFromImage(sitk.Resample(sitk.ReadImage(str(tp.organ_mask)), pet,
                                                      sitk.Transform(), sitk.sitkNearestNeighbor))
        lesions = sitk.GetArrayFromImage(sitk.Resample(sitk.ReadImage(str(tp.lesion_mask)), pet,
                                                       sitk.Transform(), sitk.sitkNearestNeighbor))
        for name, expected in (("liver", 7.0), ("spleen", 20.0), ("kidney", 18.0)):
            near_lesion = ndimage.binary_dilation(lesions > 0, iterations=3)
            core = ndimage.binary_erosion(organs == _tissue_code(name), iterations=2) & ~near_lesion
            assert core.sum() >= 10, name
            assert suv[core].mean() == pytest.approx(expected, rel=0.05), (tp.label, name)
        # tumours are the hottest spots (SUVmax of the 42 mm mesenteric mass close to its true 35)
        mass = tp.lesion("T3")
        assert suv[lesions == mass.label].max() == pytest.approx(mass.suv_bw, rel=0.15)
        assert suv[lesions == mass.label].max() > suv[organs == _tissue_code("spleen")].max()


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools (dciodvfy) is not installed")
def test_dicom_files_pass_dciodvfy(patient):
    tp = patient.timepoints[0]
    for path in (sorted(tp.ct_dir.glob("*.dcm"))[0], sorted(tp.pet_dir.glob("*.dcm"))[0]):
        run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, check=False)
        errors = [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")]
        assert errors == [], path.name


@pytest.mark.slow
def test_full_size_geometry_and_diameters(tmp_path):
    full = make_sample_patient(tmp_path / "full", size="full")
    assert full.ct_shape == (144, 512, 512) and full.ct_spacing_mm == (1.25, 0.75, 0.75)
    tp = full.timepoints[2]
    ct = _read_series(tp.ct_dir)
    assert ct.GetSize() == (512, 512, 144) and ct.GetOrigin() == pytest.approx(full.ct_origin_mm)
    half_diagonal_mm = 0.5 * math.hypot(0.75, 0.75)
    image = sitk.ReadImage(str(tp.lesion_mask))
    measured = {m.label: m for m in measure_lesions(sitk.GetArrayFromImage(image), spacing_mm=(1.25, 0.75, 0.75))}
    for lesion in tp.lesions:
        assert measured[lesion.label].long_axis_mm == pytest.approx(lesion.long_axis_mm, abs=half_diagonal_mm)
