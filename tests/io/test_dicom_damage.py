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

import recist.io.dicom as dicom
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
    monkeypatch.setattr(dicom.os, "sysconf", lambda name: 8 if name == "SC_PAGE_SIZE" else 4)
    with pytest.raises(DicomLoadError, match="more than this machine's"):
        load_series(tmp_path)


def test_reads_are_looped(tmp_path, monkeypatch):
    """One readinto returns at most 0x7ffff000 bytes on Linux: a 2 GiB slice needs several. The loop is
    exercised with a small chunk so that every slice takes several reads."""
    write_series(tmp_path / "whole", shape=(3, 16, 16), modality="PT")
    expected = load_series(tmp_path / "whole").array
    monkeypatch.setattr(dicom, "_READ_CHUNK", 7)
    assert np.array_equal(load_series(tmp_path / "whole").array, expected)
