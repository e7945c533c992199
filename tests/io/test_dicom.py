"""recist.io.dicom: discovery, geometry checks and loading, checked against SimpleITK on the same files."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import dicom_factory
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from dicom_factory import default_pixels, write_series
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from module_split import assert_public_names_kept
from pydicom.uid import RLELossless

from recist.errors import DicomLoadError
from recist.io import _dicom_pixels as pixels
from recist.io import _dicom_slices as header_reading
from recist.io import dicom
from recist.io.dicom import Volume, find_series, load_series

OBLIQUE = (0.8, 0.6, 0.0, -0.36, 0.48, 0.8)  # orthonormal row / column cosines, not axis-aligned


def _sitk(folder: Path, series_uid: str) -> sitk.Image:
    names = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series_uid)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(names)
    return reader.Execute()


def _assert_same_as_sitk(volume: Volume, image: sitk.Image) -> None:
    sitk_spacing = image.GetSpacing()[::-1]
    if volume.array.shape[0] == 1:  # SimpleITK gives a single slice 1 mm; recist its SliceThickness
        sitk_spacing = (volume.slice_thickness_mm, *sitk_spacing[1:])
    np.testing.assert_allclose(volume.spacing_mm, sitk_spacing, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(volume.origin_mm, image.GetOrigin(), atol=1e-6)
    np.testing.assert_allclose(volume.direction, np.reshape(image.GetDirection(), (3, 3)), atol=1e-6)
    expected = sitk.GetArrayFromImage(image)
    assert volume.array.shape == expected.shape
    np.testing.assert_allclose(volume.array, expected, rtol=1e-6, atol=1e-4)


def _error_text(excinfo) -> str:
    return str(excinfo.value)


# --- round trip ------------------------------------------------------------------------------------
def test_ct_round_trip_matches_simpleitk(tmp_path):
    files = write_series(tmp_path, shape=(6, 10, 12), spacing_mm=(2.5, 0.7, 0.9), origin_mm=(-90, -80.5, 12))
    uid = pydicom.dcmread(files[0]).SeriesInstanceUID
    volume = load_series(tmp_path)
    _assert_same_as_sitk(volume, _sitk(tmp_path, uid))
    assert volume.array.dtype == np.int16  # HU, stored - 1024
    np.testing.assert_array_equal(volume.array[3], default_pixels(3, 10, 12).astype(int) - 1024)
    assert volume.modality == "CT" and volume.series_uid == uid
    assert volume.slice_thickness_mm == 2.5
    assert volume.study_date.isoformat() == "2024-01-10"


def test_oblique_round_trip_and_affine(tmp_path):
    files = write_series(tmp_path, shape=(5, 7, 9), spacing_mm=(3.0, 0.6, 0.8), orientation=OBLIQUE)
    volume = load_series(tmp_path)
    _assert_same_as_sitk(volume, _sitk(tmp_path, volume.series_uid))
    # DICOM PS3.3 C.7.6.2.1.1: P = S + i * dc * row_cos + j * dr * col_cos, slice k at its own IPP.
    row, col = np.array(OBLIQUE[:3]), np.array(OBLIQUE[3:])
    for k, path in enumerate(files):
        ipp = np.array([float(v) for v in pydicom.dcmread(path).ImagePositionPatient])
        expected = ipp + 4 * 0.8 * row + 6 * 0.6 * col
        np.testing.assert_allclose(volume.affine @ [k, 6, 4, 1], [*expected, 1], atol=1e-6)
        np.testing.assert_allclose(volume.index_to_patient([k, 6, 4]), expected, atol=1e-6)
        np.testing.assert_allclose(volume.patient_to_index(expected), [k, 6, 4], atol=1e-9)


def test_pet_per_slice_slope_is_float32(tmp_path):
    write_series(tmp_path, shape=(4, 6, 5), modality="PT")
    volume = load_series(tmp_path)
    assert volume.array.dtype == np.float32
    _assert_same_as_sitk(volume, _sitk(tmp_path, volume.series_uid))
    np.testing.assert_allclose(volume.array[2], default_pixels(2, 6, 5) * 0.52, rtol=1e-6)


def test_files_sorted_by_position_not_name(tmp_path):
    positions = [(0, 0, 10 - 2 * k) for k in range(5)]  # file 0 is the top slice
    files = write_series(tmp_path, shape=(5, 4, 4), positions=positions)
    volume = load_series(tmp_path)
    assert volume.files == tuple(reversed(files))
    assert volume.origin_mm == (0.0, 0.0, 2.0)
    assert volume.sop_instance_uids == tuple(pydicom.dcmread(f).SOPInstanceUID for f in reversed(files))
    assert find_series(tmp_path).series[0].files == tuple(reversed(files))
    np.testing.assert_array_equal(volume.array[0], default_pixels(4, 4, 4).astype(int) - 1024)


def test_headers_are_kept_without_pixel_data(tmp_path):
    write_series(tmp_path, shape=(3, 4, 4), modality="PT")
    volume = load_series(tmp_path)
    assert len(volume.headers) == 3
    assert all("PixelData" not in h for h in volume.headers)
    assert [h.SOPInstanceUID for h in volume.headers] == list(volume.sop_instance_uids)
    assert volume.headers[0].Units == "BQML"


def test_series_info_fields(tmp_path):
    write_series(tmp_path, shape=(4, 6, 8), spacing_mm=(1.25, 0.5, 0.6), modality="PT",
                 extra={"SeriesDescription": "PET AC", "PatientID": "P-7", "SeriesNumber": 4})
    (info,) = find_series(tmp_path).series
    assert (info.patient_id, info.patient_name, info.modality, info.description) == ("P-7", "Test^Patient", "PT",
                                                                                    "PET AC")
    assert (info.num_slices, info.rows, info.columns, info.series_number) == (4, 6, 8, 4)
    assert info.pixel_spacing_mm == (0.5, 0.6) and info.slice_thickness_mm == 1.25
    assert info.slice_spacing_mm == pytest.approx(1.25)
    assert info.problem is None and info.study_date.isoformat() == "2024-01-10"
    assert info.to_dict()["num_slices"] == 4


def test_load_series_from_series_info_reuses_headers(tmp_path, monkeypatch):
    write_series(tmp_path, shape=(3, 4, 4))
    (info,) = find_series(tmp_path).series
    monkeypatch.setattr(pydicom, "dcmread", lambda *a, **k: pytest.fail("headers read twice"))
    assert load_series(info).array.shape == (3, 4, 4)


# --- value handling --------------------------------------------------------------------------------
def test_unsigned_12_bit_masks_unused_high_bits(tmp_path):
    def pixels(k, rows, columns):
        stored = (np.arange(rows * columns).reshape(rows, columns) * 37 + k) % 4096
        return (stored | 0x7000).astype(np.uint16).view(np.int16)  # garbage in bits 12-14

    write_series(tmp_path, shape=(2, 5, 6), pixel_fn=pixels,
                 extra={"BitsStored": 12, "HighBit": 11, "PixelRepresentation": 0})
    volume = load_series(tmp_path)
    expected = (np.arange(30).reshape(5, 6) * 37 + 1) % 4096 - 1024
    np.testing.assert_array_equal(volume.array[1], expected)
    assert volume.array.dtype == np.int16


def test_signed_12_bit_is_sign_extended(tmp_path):
    def pixels(k, rows, columns):
        values = np.full((rows, columns), -5, dtype=np.int16)
        return (values.view(np.uint16) & 0x0FFF).view(np.int16)  # -5 in 12-bit two's complement, no sign bits

    write_series(tmp_path, shape=(2, 3, 3), pixel_fn=pixels, extra={"BitsStored": 12, "HighBit": 11})
    np.testing.assert_array_equal(load_series(tmp_path).array, -5 - 1024)


def test_values_beyond_int16_widen_to_int32(tmp_path):
    write_series(tmp_path, shape=(3, 4, 4), pixel_fn=lambda k, r, c: np.full((r, c), -32000 + k, np.int16))
    volume = load_series(tmp_path)
    assert volume.array.dtype == np.int32
    np.testing.assert_array_equal(volume.array[:, 0, 0], [-33024, -33023, -33022])


# --- threaded reading of native pixel data --------------------------------------------------------------
@pytest.fixture
def parallel_calls(monkeypatch):
    """Every native series read by the threaded reader, as if on four cores; records what it returned."""
    calls: list[bool] = []
    threaded = pixels._read_native_in_parallel

    def spy(slices, output, threads):
        calls.append(threaded(slices, output, threads))
        return calls[-1]

    monkeypatch.setattr(pixels, "_PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(pixels, "_usable_cores", lambda: 4)
    monkeypatch.setattr(pixels, "_read_native_in_parallel", spy)
    return calls


def _serial_load(folder: Path, monkeypatch) -> Volume:
    with monkeypatch.context() as patch:
        patch.setattr(pixels, "_usable_cores", lambda: 1)
        return load_series(folder)


def test_threaded_read_equals_serial_read(tmp_path, parallel_calls, monkeypatch):
    write_series(tmp_path, shape=(7, 9, 11), pixel_fn=lambda k, r, c: default_pixels(k, r, c) + 13 * k)
    serial = _serial_load(tmp_path, monkeypatch)
    threaded = load_series(tmp_path)
    assert parallel_calls == [True]  # four runs of slices: 0-0, 1-2, 3-4, 5-6
    assert threaded.array.dtype == serial.array.dtype == np.int16
    np.testing.assert_array_equal(threaded.array, serial.array)


def test_threaded_read_that_must_widen_reads_again_serially(tmp_path, parallel_calls):
    write_series(tmp_path, shape=(5, 4, 4), pixel_fn=lambda k, r, c: np.full((r, c), -32000 + k, np.int16))
    volume = load_series(tmp_path)
    assert parallel_calls == [False]
    assert volume.array.dtype == np.int32
    np.testing.assert_array_equal(volume.array[:, 0, 0], [-33024, -33023, -33022, -33021, -33020])


def test_threaded_read_error_names_the_file(tmp_path, parallel_calls):
    files = write_series(tmp_path, shape=(6, 8, 8))
    info = find_series(tmp_path).series[0]
    data = files[4].read_bytes()
    files[4].write_bytes(data[:-20])  # cut short between the scan and the pixel read
    with pytest.raises(DicomLoadError, match="pixel data ends after") as excinfo:
        load_series(info)
    assert str(files[4]) in str(excinfo.value)


def test_small_series_is_read_serially(tmp_path, monkeypatch):
    write_series(tmp_path, shape=(3, 4, 4))
    monkeypatch.setattr(pixels, "_usable_cores", lambda: 4)
    monkeypatch.setattr(pixels, "_read_native_in_parallel", lambda *a: pytest.fail("threads for 96 bytes"))
    assert load_series(tmp_path).array.shape == (3, 4, 4)


def _rle_copy(files: list[Path], folder: Path) -> Path:
    folder.mkdir()
    for path in files:
        ds = pydicom.dcmread(path)
        ds.compress(RLELossless, generate_instance_uid=False)
        ds.save_as(folder / path.name)
    return folder


def test_compressed_series_decoded_by_pydicom(tmp_path):
    files = write_series(tmp_path / "raw", shape=(3, 8, 8))
    volume = load_series(_rle_copy(files, tmp_path / "rle"))
    np.testing.assert_array_equal(volume.array, load_series(tmp_path / "raw").array)


def test_simpleitk_fallback_when_pydicom_has_no_decoder(tmp_path, monkeypatch):
    files = write_series(tmp_path / "raw", shape=(3, 8, 8), modality="PT")
    rle = _rle_copy(files, tmp_path / "rle")
    monkeypatch.setattr(pixels, "_read_with_pydicom", lambda s: None)
    volume = load_series(rle)
    np.testing.assert_allclose(volume.array, load_series(tmp_path / "raw").array, rtol=1e-6)


# --- discovery --------------------------------------------------------------------------------------
def test_non_dicom_and_truncated_files_are_skipped_with_reasons(tmp_path):
    good = write_series(tmp_path, shape=(4, 6, 6))
    other = write_series(tmp_path, shape=(5, 6, 6), modality="PT")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "empty.dcm").write_bytes(b"")
    data = other[-1].read_bytes()
    other[-1].write_bytes(data[: len(data) - 10])  # pixel data cut short
    scan = find_series(tmp_path)
    reasons = {s.path.name: s.reason for s in scan.skipped}
    assert set(reasons) == {"notes.txt", "empty.dcm", other[-1].name}
    assert "not a DICOM file" in reasons["notes.txt"]
    assert "truncated" in reasons[other[-1].name]
    assert [s.num_slices for s in scan.series] == [4, 4]
    (ct,) = [s for s in scan.series if s.modality == "CT"]
    assert ct.problem is None and ct.damaged == ()
    assert load_series(ct).files == tuple(good)
    # the truncated file belongs to the PET series: the series must not load one slice short
    (pt,) = [s for s in scan.series if s.modality == "PT"]
    assert "1 file(s) of this series cannot be read" in pt.problem and other[-1].name in pt.problem
    assert [d.path for d in pt.damaged] == [other[-1]]
    with pytest.raises(DicomLoadError, match="cannot be read"):
        load_series(pt)


@pytest.mark.parametrize("cut", [300, 600, 900])
def test_header_truncated_first_file_stops_the_series(tmp_path, cut):
    """Cut inside the header (before or after SeriesInstanceUID): the file is skipped and the series,
    which would otherwise load silently one slice short with a shifted origin, is refused."""
    files = write_series(tmp_path, shape=(3, 4, 4))
    files[0].write_bytes(files[0].read_bytes()[:cut])
    scan = find_series(tmp_path)
    assert [s.path for s in scan.skipped] == [files[0]]
    (info,) = scan.series
    assert info.num_slices == 2 and "cannot be read" in info.problem and files[0].name in info.problem
    with pytest.raises(DicomLoadError, match=files[0].name):
        load_series(info)


def test_a_damaged_file_in_another_folder_does_not_taint(tmp_path):
    files = write_series(tmp_path / "a", shape=(3, 4, 4))
    broken = write_series(tmp_path / "b", shape=(1, 4, 4))[0]
    broken.write_bytes(broken.read_bytes()[:300])
    (info,) = find_series(tmp_path).series
    assert info.problem is None and load_series(info).files == tuple(files)


def test_non_image_dicom_is_skipped(tmp_path):
    ds = pydicom.dcmread(write_series(tmp_path / "tmp", shape=(1, 4, 4))[0])
    del ds.PixelData
    ds.Modality = "SR"
    ds.save_as(tmp_path / "report.dcm")
    (reason,) = [s.reason for s in find_series(tmp_path).skipped]
    assert "no pixel data" in reason


def test_interleaved_series_are_separated(tmp_path):
    study = pydicom.uid.generate_uid()
    a = write_series(tmp_path, shape=(4, 6, 6), study_uid=study, extra={"SeriesDescription": "arterial"})
    b = write_series(tmp_path, shape=(4, 6, 6), study_uid=study,
                     extra={"SeriesDescription": "venous", "SeriesNumber": 2})
    scan = find_series(tmp_path)
    assert [s.description for s in scan.series] == ["arterial", "venous"]
    assert [set(s.files) for s in scan.series] == [set(a), set(b)]
    with pytest.raises(DicomLoadError, match="2 series found.*series_uid"):
        load_series(tmp_path)
    uid = scan.series[1].series_uid
    assert load_series(tmp_path, series_uid=uid).files == tuple(b)
    with pytest.raises(DicomLoadError, match="no series 1.2.3"):
        load_series(tmp_path, series_uid="1.2.3")


def test_missing_folder_and_empty_folder(tmp_path):
    with pytest.raises(DicomLoadError, match="no such file or folder"):
        find_series(tmp_path / "absent")
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(DicomLoadError, match="no DICOM image series.*1 files skipped"):
        load_series(tmp_path)


# --- geometry errors --------------------------------------------------------------------------------
def _with_good_neighbour(tmp_path: Path) -> list[Path]:
    return write_series(tmp_path, shape=(3, 4, 4), modality="PT")


def _bad_series(tmp_path: Path, excinfo, files: list[Path], named: list[Path], words: str) -> None:
    text = _error_text(excinfo)
    uid = pydicom.dcmread(files[0]).SeriesInstanceUID
    assert uid in text and words in text
    for path in named:
        assert str(path) in text
    scan = find_series(tmp_path)
    bad = [s for s in scan.series if s.series_uid == uid]
    good = [s for s in scan.series if s.series_uid != uid]
    assert bad[0].problem is not None and words in bad[0].problem
    assert good and good[0].problem is None
    assert load_series(good[0]).array.shape[0] == good[0].num_slices


def test_missing_slice(tmp_path):
    _with_good_neighbour(tmp_path)
    files = write_series(tmp_path, shape=(6, 4, 4))
    files[3].unlink()
    with pytest.raises(DicomLoadError) as excinfo:
        load_series(tmp_path, series_uid=_uid(files))
    _bad_series(tmp_path, excinfo, files, [files[2], files[4]], "missing slices")
    assert "1 missing between" in _error_text(excinfo)


def test_duplicate_positions_of_different_images(tmp_path):
    _with_good_neighbour(tmp_path)
    positions = [(0, 0, 0), (0, 0, 2), (0, 0, 2), (0, 0, 4)]
    files = write_series(tmp_path, shape=(4, 4, 4), positions=positions)
    with pytest.raises(DicomLoadError) as excinfo:
        load_series(tmp_path, series_uid=_uid(files))
    _bad_series(tmp_path, excinfo, files, [files[1], files[2]], "duplicate positions")


def test_copied_file_is_dropped_with_warning(tmp_path):
    files = write_series(tmp_path, shape=(4, 4, 4))
    shutil.copy(files[1], tmp_path / "copy_of_1.dcm")
    volume = load_series(tmp_path)
    assert volume.array.shape == (4, 4, 4)
    assert any("copy" in w for w in volume.warnings)


def test_non_uniform_spacing(tmp_path):
    _with_good_neighbour(tmp_path)
    files = write_series(tmp_path, shape=(4, 4, 4), positions=[(0, 0, 0), (0, 0, 2), (0, 0, 5), (0, 0, 7)])
    with pytest.raises(DicomLoadError) as excinfo:
        load_series(tmp_path, series_uid=_uid(files))
    _bad_series(tmp_path, excinfo, files, [files[1], files[2]], "non-uniform slice spacing")


def test_small_position_jitter_is_accepted(tmp_path):
    files = write_series(tmp_path, shape=(4, 4, 4), positions=[(0, 0, 0), (0, 0, 2.001), (0, 0, 3.999), (0, 0, 6)])
    assert load_series(tmp_path).spacing_mm[0] == pytest.approx(2.0)
    assert len(files) == 4


def test_mixed_orientations(tmp_path):
    _with_good_neighbour(tmp_path)
    files = write_series(tmp_path, shape=(4, 4, 4))
    ds = pydicom.dcmread(files[2])
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    ds.save_as(files[2])
    with pytest.raises(DicomLoadError) as excinfo:
        load_series(tmp_path, series_uid=_uid(files))
    _bad_series(tmp_path, excinfo, files, [files[2]], "mixed orientations")


def test_inconsistent_rows_and_columns(tmp_path):
    _with_good_neighbour(tmp_path)
    files = write_series(tmp_path, shape=(4, 4, 4))
    odd = write_series(tmp_path / "odd", shape=(1, 5, 4), series_uid=_uid(files),
                       positions=[(0, 0, 8)])
    with pytest.raises(DicomLoadError) as excinfo:
        load_series(tmp_path, series_uid=_uid(files))
    _bad_series(tmp_path, excinfo, files, odd, "inconsistent Rows/Columns")


def test_gantry_tilt_refused_unless_allowed(tmp_path):
    _with_good_neighbour(tmp_path)
    shear = np.tan(np.radians(15))
    positions = [(0, 2.0 * k * shear, 2.0 * k) for k in range(5)]  # steps lean 15 degrees towards +y
    files = write_series(tmp_path, shape=(5, 4, 4), positions=positions, extra={"GantryDetectorTilt": 15})
    with pytest.raises(DicomLoadError) as excinfo:
        load_series(tmp_path, series_uid=_uid(files))
    _bad_series(tmp_path, excinfo, files, [files[0], files[-1]], "gantry tilt")
    assert "15.00 degrees" in _error_text(excinfo)
    volume = load_series(tmp_path, series_uid=_uid(files), allow_gantry_tilt=True)
    for k, position in enumerate(positions):
        np.testing.assert_allclose(volume.index_to_patient([k, 0, 0]), position, atol=1e-9)
    assert any("gantry tilt" in w for w in volume.warnings)


def test_tilt_tag_with_consistent_geometry_only_warns(tmp_path):
    write_series(tmp_path, shape=(3, 4, 4), orientation=OBLIQUE, extra={"GantryDetectorTilt": 12})
    volume = load_series(tmp_path)
    assert any("GantryDetectorTilt" in w for w in volume.warnings)


def test_positions_off_one_line(tmp_path):
    files = write_series(tmp_path, shape=(4, 4, 4), positions=[(0, 0, 0), (5, 0, 2), (0, 0, 4), (0, 0, 6)])
    with pytest.raises(DicomLoadError, match="do not lie on one line"):
        load_series(tmp_path, series_uid=_uid(files))


def test_single_slice_uses_slice_thickness(tmp_path):
    write_series(tmp_path, shape=(1, 4, 4), spacing_mm=(3.0, 1, 1))
    assert load_series(tmp_path).spacing_mm == (3.0, 1.0, 1.0)


def test_single_slice_without_thickness_is_refused(tmp_path):
    write_series(tmp_path, shape=(1, 4, 4), extra={"SliceThickness": None})
    with pytest.raises(DicomLoadError, match="single slice without"):
        load_series(tmp_path)


def test_missing_position_is_refused(tmp_path):
    files = write_series(tmp_path, shape=(2, 4, 4))
    ds = pydicom.dcmread(files[1])
    del ds.ImagePositionPatient
    ds.save_as(files[1])
    with pytest.raises(DicomLoadError, match="missing ImagePositionPatient") as excinfo:
        load_series(tmp_path)
    assert str(files[1]) in _error_text(excinfo)


def test_colour_image_is_refused(tmp_path):
    write_series(tmp_path, shape=(2, 4, 4), extra={"SamplesPerPixel": 3})
    with pytest.raises(DicomLoadError, match="colour image"):
        load_series(tmp_path)


def _uid(files: list[Path]) -> str:
    return str(pydicom.dcmread(files[0], stop_before_pixels=True).SeriesInstanceUID)


# --- properties of the loader of outside data ------------------------------------------------------
def _rotation(q: tuple[float, float, float, float]) -> np.ndarray:
    w, x, y, z = np.asarray(q) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


_quaternion = st.tuples(*[st.floats(-1, 1) for _ in range(4)]).filter(lambda q: np.linalg.norm(q) > 0.2)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.tuples(st.integers(1, 5), st.integers(2, 7), st.integers(2, 7)),  # SimpleITK folds 1-pixel images
    spacing=st.tuples(st.floats(0.3, 6), st.floats(0.2, 3), st.floats(0.2, 3)),
    origin=st.tuples(*[st.floats(-500, 500) for _ in range(3)]),
    quaternion=_quaternion,
    modality=st.sampled_from(["CT", "PT"]),
    data=st.data(),
)
def test_random_geometry_loads_as_simpleitk_reads_it(shape, spacing, origin, quaternion, modality, data):
    rotation = _rotation(quaternion)
    orientation = tuple(float(v) for v in np.round(np.concatenate([rotation[:, 0], rotation[:, 1]]), 8))
    positions = [np.asarray(origin) + k * spacing[0] * rotation[:, 2] for k in range(shape[0])]
    positions = data.draw(st.permutations(positions), label="file order")  # names no longer follow z
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_series(folder, shape=shape, spacing_mm=spacing, orientation=orientation, modality=modality,
                     positions=positions)
        volume = load_series(folder)
        _assert_same_as_sitk(volume, _sitk(folder, volume.series_uid))


@pytest.fixture(scope="module")
def pristine_series():
    with tempfile.TemporaryDirectory() as tmp:
        files = write_series(Path(tmp), shape=(4, 6, 6), modality="PT")
        yield [f.read_bytes() for f in files]


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns about the damaged values it meets
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_files_load_or_raise_dicom_load_error(pristine_series, data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for k, content in enumerate(pristine_series):
            content = bytearray(content)
            if data.draw(st.booleans(), label=f"damage file {k}"):
                if data.draw(st.booleans(), label="truncate"):
                    content = content[: data.draw(st.integers(0, len(content) - 1), label="keep bytes")]
                else:
                    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
                        position = data.draw(st.integers(0, len(content) - 1), label="offset")
                        content[position] = data.draw(st.integers(0, 255), label="byte")
            (folder / f"f{k}.dcm").write_bytes(bytes(content))
        scan = find_series(folder)
        assert len(scan.series) <= 4
        for info in scan.series:
            try:
                volume = load_series(info)
            except DicomLoadError:
                continue
            assert volume.array.shape[0] >= 1 and np.all(np.isfinite(volume.spacing_mm))


def test_deflated_transfer_syntax_goes_through_pydicom(tmp_path):
    files = write_series(tmp_path / "raw", shape=(3, 5, 5), modality="PT")
    (tmp_path / "deflated").mkdir()
    for path in files:
        ds = pydicom.dcmread(path)
        ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
        ds.save_as(tmp_path / "deflated" / path.name)
    volume = load_series(tmp_path / "deflated")
    np.testing.assert_array_equal(volume.array, load_series(tmp_path / "raw").array)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"NumberOfFrames": 2}, "multi-frame"),
        ({"RescaleSlope": 0}, "RescaleSlope is 0"),
        ({"BitsStored": 12, "HighBit": 15}, "invalid BitsStored 12 / HighBit 15"),
        ({"BitsAllocated": 1}, "BitsAllocated 1"),
    ],
)
def test_refused_pixel_formats_name_the_file(tmp_path, extra, words):
    files = write_series(tmp_path, shape=(2, 4, 4), extra=extra)
    with pytest.raises(DicomLoadError, match=words) as excinfo:
        load_series(tmp_path)
    assert str(files[0]) in _error_text(excinfo) and _uid(files) in _error_text(excinfo)


def test_pixel_data_shorter_than_rows_times_columns(tmp_path):
    files = write_series(tmp_path, shape=(2, 4, 4), extra={"Rows": 5})
    with pytest.raises(DicomLoadError, match="fewer than 5x4 pixels") as excinfo:
        load_series(tmp_path)
    assert str(files[0]) in _error_text(excinfo)


def test_nested_folders_and_single_file(tmp_path):
    files = write_series(tmp_path / "patient" / "study" / "series", shape=(3, 4, 4))
    assert find_series(tmp_path).series[0].files == tuple(files)
    assert load_series(files[1]).array.shape == (1, 4, 4)


def test_ibsi_reference_pet_folder(ibsi_dro_dir):
    folder = ibsi_dro_dir / "DRO_0_0"
    scan = find_series(folder)
    (info,) = scan.series
    assert (info.modality, info.num_slices, info.problem) == ("PT", 20, None)
    reasons = {s.path.name: s.reason for s in scan.skipped}
    assert "no pixel data (RTSTRUCT" in reasons["RS_dro_0_0.dcm"]
    assert "not a DICOM file" in reasons["DRO_mask.nii.gz"]
    _assert_same_as_sitk(load_series(info), _sitk(folder / "PT", info.series_uid))


# --- header layout fast path (recist.io._dicom_slices.HeaderLayout) -----------------------------------
def _same_header(fast: pydicom.Dataset, slow: pydicom.Dataset, convert: bool = True) -> None:
    """Element for element (raw or converted), encodings and file attributes as pydicom read them."""
    from pydicom.dataelem import RawDataElement

    assert type(fast) is type(slow)
    for a, b in ((fast, slow), (fast.file_meta, slow.file_meta)):
        assert sorted(a._dict) == sorted(b._dict)
        for tag, expected in b._dict.items():
            got = a._dict[tag]
            assert type(got) is type(expected), tag
            if isinstance(expected, RawDataElement):
                assert tuple(got) == tuple(expected), tag
            else:
                assert (got.VR, got.value, got.file_tell) == (expected.VR, expected.value, expected.file_tell), tag
        assert (a.original_encoding, a.original_character_set) == (b.original_encoding, b.original_character_set)
    if convert:  # damaged values may not convert
        assert fast == slow
    for name in vars(slow):
        if name not in ("_dict", "file_meta"):
            assert getattr(fast, name) == getattr(slow, name), name


def _same_slice(fast, slow, convert: bool = True) -> None:
    from dataclasses import fields

    for f in fields(slow):
        if f.name != "header":
            assert getattr(fast, f.name) == getattr(slow, f.name), f.name
    _same_header(fast.header, slow.header, convert)


def _read_all(paths, layouts):
    out = []
    for path in paths:
        try:
            out.append(header_reading.read_slice(path, layouts))
        except header_reading.NotASlice as exc:
            out.append(str(exc))
    return out


@pytest.mark.parametrize("implicit", [False, True])
@pytest.mark.parametrize("sequence", [False, True])
def test_layout_fast_path_gives_pydicom_headers(tmp_path, monkeypatch, implicit, sequence):
    from pydicom.dataset import Dataset
    from pydicom.uid import ImplicitVRLittleEndian

    def referenced(k):
        item = Dataset()
        item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = "1.2.840.10008.5.1.4.1.1.2", f"1.2.3.{k}"
        return [item]

    extra = {
        "SpecificCharacterSet": "ISO_IR 100",
        "PatientName": "M\u00fcller^J\u00fcrgen",
        "ImageComments": lambda k: "xx" * (k // 3),  # three value lengths: three layouts
        "SliceLocation": lambda k: f"{k * 2.5:.1f}",
    }
    if sequence:  # a defined-length sequence: its bytes are taken from each file
        extra["ReferencedImageSequence"] = referenced
    # UIDs of one length (generate_uid's vary), so that ImageComments alone makes the three layouts; six
    # digits from 100000, since a UID component must not start with 0 (PS3.5 9.1)
    uids = iter(range(10**5, 10**6))
    monkeypatch.setattr(dicom_factory, "generate_uid", lambda: f"1.2.826.0.1.3680043.8.498.{next(uids)}")
    files = write_series(tmp_path, shape=(8, 4, 6), extra=extra)
    if implicit:
        for path in files:
            ds = pydicom.dcmread(path)
            ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
            ds.save_as(path, implicit_vr=True, little_endian=True, enforce_file_format=True)
    calls = []
    original = pydicom.dcmread
    monkeypatch.setattr(pydicom, "dcmread", lambda *a, **k: calls.append(1) or original(*a, **k))
    fast = _read_all(files, [])
    assert len(calls) == 3  # one pydicom read per layout; the other files reuse them
    slow = _read_all(files, None)
    for got, expected in zip(fast, slow):
        _same_slice(got, expected)
    assert str(fast[5].header.PatientName) == "M\u00fcller^J\u00fcrgen"
    if sequence:
        assert fast[5].header.ReferencedImageSequence[0].ReferencedSOPInstanceUID == "1.2.3.5"


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns about the damaged values it meets
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_layout_fast_path_agrees_with_pydicom_on_damaged_files(pristine_series, data):
    """A file differing from a learnt layout anywhere that steers pydicom is read by pydicom; elsewhere
    the layout gives what pydicom gives: the same skip reason, or the same slice facts and header."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = []
        for k, content in enumerate(pristine_series):
            content = bytearray(content)
            if k and data.draw(st.booleans(), label=f"damage file {k}"):
                if data.draw(st.booleans(), label="truncate"):
                    content = content[: data.draw(st.integers(0, len(content) - 1), label="keep bytes")]
                else:
                    header_end = len(content) - 6 * 6 * 2  # damage mostly the header
                    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
                        position = data.draw(st.integers(0, header_end - 1), label="offset")
                        content[position] = data.draw(st.integers(0, 255), label="byte")
            paths.append(folder / f"f{k}.dcm")
            paths[-1].write_bytes(bytes(content))
        fast = _read_all(paths, [])
        slow = _read_all(paths, None)
        for got, expected in zip(fast, slow):
            if isinstance(expected, str):
                assert got == expected
            else:
                _same_slice(got, expected, convert=False)


@pytest.mark.parametrize("broken", ["dataset_for", "of"])
def test_a_failing_layout_shortcut_falls_back_to_pydicom(tmp_path, monkeypatch, broken):
    """If pydicom's internals ever change under the shortcut, every file is still read, by pydicom."""
    files = write_series(tmp_path, shape=(6, 4, 6))
    expected = _read_all(files, None)

    def boom(*args, **kwargs):
        raise TypeError("pydicom changed")

    monkeypatch.setattr(header_reading.HeaderLayout, broken, boom)
    got = _read_all(files, [])
    assert all(not isinstance(g, str) for g in got)
    for a, b in zip(got, expected):
        _same_slice(a, b)
    assert len(dicom.find_series(tmp_path).series) == 1


def test_public_names_stay_importable_from_recist_io_dicom():
    """Users' scripts, the plugin and docs/dicom.md import these from recist.io.dicom; splitting the geometry
    checks into _dicom_geometry (and the header and pixel reading before it) keeps them there."""
    before_split = ["SeriesInfo", "SkippedFile", "SeriesScan", "Volume", "find_series", "load_series", "select_series"]
    parts = ["recist.io._dicom_slices", "recist.io._dicom_geometry", "recist.io._dicom_pixels"]
    assert_public_names_kept("recist.io.dicom", before_split, parts)
