"""``recist measure``: label images (NIfTI/NRRD) with their own geometry or on a DICOM series."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from recist.cli import main
from recist.measure.diameters import measure_lesions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from dicom_factory import write_series  # noqa: E402

SPACING_ZYX = (2.0, 0.8, 0.8)
ORIGIN = (-100.0, -120.0, 50.0)
IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def _labels(shape=(5, 40, 40)) -> np.ndarray:
    labels = np.zeros(shape, np.uint8)
    yy, xx = np.mgrid[: shape[1], : shape[2]]
    labels[1:4][:, (yy - 12) ** 2 + (xx - 14) ** 2 <= 36] = 1  # disc of ~12 px = ~9.6 mm
    labels[2, 25:35, 20:38] = 4  # 10 x 18 px rectangle
    return labels


def _write_mask(path: Path, labels: np.ndarray, *, spacing_zyx=SPACING_ZYX, origin=ORIGIN,
                direction=IDENTITY) -> Path:
    image = sitk.GetImageFromArray(labels)
    image.SetSpacing(tuple(float(s) for s in spacing_zyx[::-1]))
    image.SetOrigin(origin)
    image.SetDirection(tuple(np.asarray(direction, float).ravel()))
    sitk.WriteImage(image, str(path))
    return path


def _run(argv, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("suffix", [".nii.gz", ".nrrd", ".mha"])
def test_json_with_the_masks_own_geometry(tmp_path, capsys, suffix):
    labels = _labels()
    mask = _write_mask(tmp_path / f"mask{suffix}", labels)
    status, out, err = _run(["measure", str(mask), "--format", "json"], capsys)
    assert status == 0, err
    report = json.loads(out)
    assert report["format"] == "recist.measure/1" and report["image"] is None
    assert [lesion["label"] for lesion in report["lesions"]] == [1, 4]
    expected = measure_lesions(labels, spacing_mm=SPACING_ZYX, origin_mm=ORIGIN, direction=np.eye(3))
    for got, want in zip(report["lesions"], expected):
        assert got["long_axis_mm"] == pytest.approx(want.long_axis_mm, abs=1e-3)
        assert got["short_axis_mm"] == pytest.approx(want.short_axis_mm, abs=1e-3)
        assert got["slice_index"] == want.slice_index
        assert got["volume_ml"] == pytest.approx(want.volume_mm3 / 1000, abs=1e-4)
        np.testing.assert_allclose(got["long_axis_endpoints_lps_mm"], want.long_axis_endpoints_lps_mm, atol=1e-3)
    rectangle = report["lesions"][1]
    assert rectangle["slice_index"] == 2
    assert rectangle["long_axis_endpoints_lps_mm"][0][2] == pytest.approx(ORIGIN[2] + 2 * SPACING_ZYX[0])
    assert rectangle["volume_ml"] == pytest.approx(180 * 2.0 * 0.8 * 0.8 / 1000)


def test_table_output(tmp_path, capsys):
    mask = _write_mask(tmp_path / "mask.nii.gz", _labels())
    status, out, _ = _run(["measure", str(mask)], capsys)
    assert status == 0
    lines = out.splitlines()
    assert "long mm" in lines[1] and "short mm" in lines[1]
    assert lines[2].split()[0] == "1" and lines[3].split()[0] == "4"


def test_mask_on_a_matching_dicom_series(tmp_path, capsys):
    labels = _labels()
    write_series(tmp_path / "ct", shape=labels.shape, spacing_mm=SPACING_ZYX, origin_mm=ORIGIN)
    mask = _write_mask(tmp_path / "mask.nii.gz", labels)
    status, out, err = _run(["measure", str(mask), "--image", str(tmp_path / "ct"), "--format", "json"], capsys)
    assert status == 0, err
    report = json.loads(out)
    assert report["image"] == str(tmp_path / "ct")
    assert len(report["lesions"]) == 2


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"labels": _labels((5, 40, 41))}, "size"),
        ({"spacing_zyx": (2.0, 0.9, 0.8)}, "spacing"),
        ({"origin": (-100.0, -110.0, 50.0)}, "origin"),
        ({"direction": np.diag([1.0, -1.0, -1.0])}, "direction"),
    ],
)
def test_mask_off_the_series_grid_is_refused_naming_both_files(tmp_path, capsys, change, word):
    labels = change.pop("labels", _labels())
    write_series(tmp_path / "ct", shape=(5, 40, 40), spacing_mm=SPACING_ZYX, origin_mm=ORIGIN)
    mask = _write_mask(tmp_path / "mask.nii.gz", labels, **change)
    status, out, err = _run(["measure", str(mask), "--image", str(tmp_path / "ct")], capsys)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "mask.nii.gz" in err and "ct" in err and word in err


def test_empty_unreadable_and_float_masks_are_one_line_errors(tmp_path, capsys):
    empty = _write_mask(tmp_path / "empty.nii.gz", np.zeros((2, 5, 5), np.uint8))
    status, _, err = _run(["measure", str(empty)], capsys)
    assert status == 2 and "empty.nii.gz" in err and "empty" in err
    junk = tmp_path / "junk.nii.gz"
    junk.write_bytes(b"not an image")
    status, _, err = _run(["measure", str(junk)], capsys)
    assert status == 2 and "junk.nii.gz" in err and len(err.strip().splitlines()) == 1
    fractional = _write_mask(tmp_path / "soft.nii.gz", np.full((2, 5, 5), 0.5, np.float32))
    status, _, err = _run(["measure", str(fractional)], capsys)
    assert status == 2 and "soft.nii.gz" in err and "integer" in err


def test_integer_valued_float_mask_is_accepted(tmp_path, capsys):
    mask = _write_mask(tmp_path / "float.nii.gz", _labels().astype(np.float32))
    status, out, _ = _run(["measure", str(mask), "--format", "json"], capsys)
    assert status == 0 and [lesion["label"] for lesion in json.loads(out)["lesions"]] == [1, 4]


SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "patient" / "baseline"


def test_slice_is_the_dicom_instance_number_on_a_folder_of_ct_and_pt(capsys):
    """A reader package holds CT and PT in one folder: the series whose grid fits the mask (the CT) is
    used, and each lesion's slice is the InstanceNumber of that slice's file, as a PACS shows it."""
    import pydicom

    from recist.io.dicom import find_series

    status, out, err = _run(["measure", str(SAMPLE / "lesions.nii.gz"), "--image", str(SAMPLE), "--format", "json"],
                            capsys)
    assert status == 0, err
    report = json.loads(out)
    (ct,) = [s for s in find_series(SAMPLE).series if s.modality == "CT"]
    by_index = [pydicom.dcmread(path, stop_before_pixels=True).InstanceNumber for path in ct.files]
    for lesion in report["lesions"]:
        assert lesion["instance_number"] == by_index[lesion["slice_index"]]
    status, out, _ = _run(["measure", str(SAMPLE / "lesions.nii.gz"), "--image", str(SAMPLE)], capsys)
    header, first = out.splitlines()[1:3]
    assert "image" in header.split()
    assert first.split()[3] == str(report["lesions"][0]["instance_number"])


def test_series_uid_chooses_and_a_wrong_one_is_one_line(tmp_path, capsys):
    from recist.io.dicom import find_series

    (ct,) = [s for s in find_series(SAMPLE).series if s.modality == "CT"]
    (pt,) = [s for s in find_series(SAMPLE).series if s.modality == "PT"]
    status, _, err = _run(["measure", str(SAMPLE / "lesions.nii.gz"), "--image", str(SAMPLE),
                           "--series-uid", ct.series_uid], capsys)
    assert status == 0, err
    status, _, err = _run(["measure", str(SAMPLE / "lesions.nii.gz"), "--image", str(SAMPLE),
                           "--series-uid", pt.series_uid], capsys)
    assert status == 2 and err.count("\n") == 1  # the PET grid does not match the mask


def test_several_fitting_series_ask_for_series_uid(tmp_path, capsys):
    labels = _labels()
    write_series(tmp_path / "a", shape=labels.shape, spacing_mm=SPACING_ZYX, origin_mm=ORIGIN)
    write_series(tmp_path / "b", shape=labels.shape, spacing_mm=SPACING_ZYX, origin_mm=ORIGIN)
    mask = _write_mask(tmp_path / "m.nii.gz", labels)
    status, _, err = _run(["measure", str(mask), "--image", str(tmp_path)], capsys)
    assert status == 2 and err.count("\n") == 1 and "--series-uid" in err
