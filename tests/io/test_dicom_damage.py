"""Damaged and extreme DICOM series (issue #17 sections 1 and 2): refused with a DicomLoadError naming
the file, never loaded silently wrong (shorter, reshaped, infinite) and never a numpy/Python exception."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_factory import write_series
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recist.io._dicom_pixels as pixels
from recist.cli import main
from recist.errors import DicomLoadError
from recist.io.dicom import find_series, load_series

SAMPLE_PT = Path(__file__).resolve().parents[2] / "sample_data" / "patient" / "baseline" / "PT"


@pytest.mark.parametrize("victim", ["PT0001.dcm", "PT0036.dcm"])
def test_truncated_first_or_last_slice_of_the_sample_pet(tmp_path, capsys, victim):
    """The issue's reproduction: cut 100 bytes off a slice at either end of the sample PET."""
    folder = tmp_path / "PT"
    shutil.copytree(SAMPLE_PT, folder)
    path = folder / victim
    path.write_bytes(path.read_bytes()[:-100])
    assert main(["suv", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and victim in err and "cannot be read" in err
    assert main(["series", str(folder)]) == 0
    assert "cannot load: 1 file(s) of this series cannot be read" in capsys.readouterr().out
    with pytest.raises(DicomLoadError, match=victim):
        load_series(folder)


def test_pixel_data_longer_than_the_header_says(tmp_path):
    """Columns=32 in every slice of a 64-column image: refused, not loaded as a (n, 64, 32) volume."""
    write_series(tmp_path, shape=(3, 64, 64), modality="PT", extra={"Columns": 32})
    (info,) = find_series(tmp_path).series
    assert "more than 64x32 pixels" in info.problem
    with pytest.raises(DicomLoadError, match="Rows/Columns do not describe the image"):
        load_series(tmp_path)


def test_odd_pixel_count_with_its_pad_byte_loads(tmp_path):
    def pixels(k, rows, columns):
        return np.arange(rows * columns, dtype=np.int16).reshape(rows, columns) % 100

    files = write_series(tmp_path, shape=(2, 3, 3), extra={"BitsAllocated": 8, "BitsStored": 8, "HighBit": 7,
                                                           "PixelRepresentation": 0}, pixel_fn=pixels)
    for path in files:  # rewrite as 8-bit: 9 bytes of pixels plus one pad byte
        ds = pydicom.dcmread(path)
        ds.PixelData = bytes(range(9)) + b"\0"
        ds.save_as(path)
    volume = load_series(tmp_path)
    assert volume.array.shape == (2, 3, 3)
    assert volume.array[0].ravel().tolist() == [v - 1024 for v in range(9)]


@pytest.mark.parametrize(("tag", "value"), [("RescaleSlope", "1e39"), ("RescaleSlope", "-1e308"),
                                            ("RescaleIntercept", "1e39")])
def test_rescale_beyond_float32_is_refused(tmp_path, tag, value):
    write_series(tmp_path, shape=(3, 4, 4), modality="PT", extra={tag: lambda k: value if k == 1 else "1"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warning either
        with pytest.raises(DicomLoadError, match="beyond what a float32 image holds"):
            load_series(tmp_path)


def test_large_integer_intercept_gives_exact_float_values(tmp_path):
    """RescaleIntercept 1e10 (was an OverflowError): fits float32's range, so it loads as float32."""
    write_series(tmp_path, shape=(2, 4, 4), extra={"RescaleIntercept": "1e10"})
    volume = load_series(tmp_path)
    assert volume.array.dtype == np.float32
    assert np.allclose(volume.array, 1e10, rtol=1e-6)


def test_intercept_beyond_int16_widens_to_int32(tmp_path):
    write_series(tmp_path, shape=(2, 4, 4), extra={"RescaleIntercept": "100000"})
    volume = load_series(tmp_path)
    assert volume.array.dtype == np.int32 and int(volume.array.min()) >= 100000 - 200


def test_65535_square_slices_are_refused_before_allocating(tmp_path, monkeypatch):
    write_series(tmp_path, shape=(2, 4, 4), extra={"Rows": 65535, "Columns": 65535})
    monkeypatch.setattr(np, "empty", lambda *a, **k: pytest.fail("allocated"))
    (info,) = find_series(tmp_path).series
    assert "65535x65535 pixels per slice" in info.problem
    with pytest.raises(DicomLoadError, match="65535x65535"):
        load_series(info)


def test_a_volume_larger_than_memory_is_refused(tmp_path, monkeypatch):
    write_series(tmp_path, shape=(2, 4, 4))
    monkeypatch.setattr(pixels.os, "sysconf", lambda name: 8 if name == "SC_PAGE_SIZE" else 4)
    with pytest.raises(DicomLoadError, match="more than this machine's"):
        load_series(tmp_path)


def test_reads_are_looped(tmp_path, monkeypatch):
    """One readinto returns at most 0x7ffff000 bytes on Linux: a 2 GiB slice needs several. The loop is
    exercised with a small chunk so that every slice takes several reads."""
    write_series(tmp_path / "whole", shape=(3, 16, 16), modality="PT")
    expected = load_series(tmp_path / "whole").array
    monkeypatch.setattr(pixels, "_READ_CHUNK", 7)
    assert np.array_equal(load_series(tmp_path / "whole").array, expected)


# ------------------------------------------------------------------------------ fuzz: header values

_KEYWORDS = ["Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "SamplesPerPixel",
             "NumberOfFrames", "RescaleSlope", "RescaleIntercept", "PixelSpacing", "ImagePositionPatient",
             "ImageOrientationPatient", "SliceThickness", "SpacingBetweenSlices", "InstanceNumber",
             "SeriesInstanceUID", "SOPInstanceUID", "GantryDetectorTilt", "StudyDate"]
_VALUES = [b"", b"0", b"-1", b"65535", b"\xff\xff", b"\x00\x00", b"\x00\x01", b"1e39", b"-1e308", b"1e10", b"nan",
           b"inf", b"1\\2", b"0x10", b"1e400", b"abc", b"\x00" * 8, b"99999999999999999999", b"1\\0\\0\\0\\1\\0",
           b"0\\0\\0", b"0.5\\0.5", b"\xc3\x28", b"1.2.3", b" " * 16]


@pytest.fixture(scope="module")
def pristine_pet(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pristine")
    write_series(folder, shape=(4, 6, 6), modality="PT")
    return folder


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns about the damaged values it meets
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_extreme_and_wrongly_typed_header_values(pristine_pet, tmp_path_factory, data):
    """Any header value replaced by an extreme number, a wrong type or a multi-value, as bytes in the file
    (the VR kept, or another one): the series loads with a finite volume holding every file, or the scan
    and load raise DicomLoadError; nothing else escapes and no volume is silently shorter."""
    from pydicom.datadict import dictionary_VR, tag_for_keyword
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    folder = tmp_path_factory.mktemp("fuzz")
    files = sorted(pristine_pet.iterdir())
    for k, path in enumerate(files):
        ds = pydicom.dcmread(path)
        if data.draw(st.booleans(), label=f"damage file {k}"):
            for keyword in data.draw(st.lists(st.sampled_from(_KEYWORDS), min_size=1, max_size=3, unique=True)):
                tag = tag_for_keyword(keyword)
                vr = data.draw(st.sampled_from([dictionary_VR(tag), "UN", "DS", "US", "LO"]))
                value = data.draw(st.sampled_from(_VALUES))
                ds[tag] = RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)
        try:
            ds.save_as(folder / path.name)
        except Exception:  # noqa: BLE001 - pydicom refused to write this damage: keep the file as it was
            shutil.copy(path, folder / path.name)
    try:
        scan = find_series(folder)
    except DicomLoadError:
        return
    for info in scan.series:
        try:
            volume = load_series(info)
        except DicomLoadError:
            continue
        assert np.all(np.isfinite(volume.array)) and np.all(np.isfinite(volume.spacing_mm))
        assert volume.array.shape[0] == len(info.files) - sum("a copy of" in w for w in volume.warnings)
        assert not scan.skipped or all(d.path not in volume.files for d in info.damaged)
