"""Write small synthetic CT / PET DICOM series for tests (a private test helper; reuse it freely).

The one entry point is :func:`write_series`. Geometry follows DICOM PS3.3 C.7.6.2: the first three
values of ImageOrientationPatient are the LPS direction of increasing column index (array x), the last
three that of increasing row index (array y); slices are stacked along their cross product (array z).

Example
-------
>>> files = write_series(tmp_path / "ct", shape=(4, 8, 8), spacing_mm=(2.5, 0.7, 0.7))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    PositronEmissionTomographyImageStorage,
    generate_uid,
)
from pydicom.valuerep import DSfloat

__all__ = ["write_series", "default_pixels"]

_SOP_CLASS = {"CT": CTImageStorage, "PT": PositronEmissionTomographyImageStorage}


def _ds(value: float) -> DSfloat:
    """A decimal string of at most 16 characters (the DICOM limit), as precise as that allows."""
    return DSfloat(float(value), auto_format=True)


def default_pixels(k: int, rows: int, columns: int) -> np.ndarray:
    """Stored values of slice ``k``: a deterministic int16 ramp that differs on every slice and pixel."""
    yy, xx = np.mgrid[0:rows, 0:columns]
    return ((yy * 7 + xx * 3 + k * 11) % 2000 - 200).astype(np.int16)


def write_series(
    folder: str | os.PathLike,
    shape: tuple[int, int, int] = (5, 16, 16),
    spacing_mm: tuple[float, float, float] = (2.0, 0.8, 0.8),
    origin_mm: tuple[float, float, float] = (-100.0, -120.0, 50.0),
    modality: str = "CT",
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    series_uid: str | None = None,
    study_uid: str | None = None,
    pixel_fn: Callable[[int, int, int], np.ndarray] | None = None,
    extra: Mapping[str, Any] | None = None,
    positions: Sequence[Sequence[float]] | None = None,
) -> list[Path]:
    """Write one single-frame series, one file per slice, and return the file paths in slice order.

    Parameters
    ----------
    folder
        Created if needed. Files are named ``<modality>_<series-uid suffix>_<k>.dcm``.
    shape
        (z, y, x): number of slices, rows and columns.
    spacing_mm
        (z, y, x) in mm: slice step along the normal, PixelSpacing row and column spacing.
        SliceThickness is written as the z spacing.
    origin_mm
        LPS (x, y, z) of the centre of the first pixel of the first slice.
    modality
        ``"CT"`` (RescaleIntercept -1024, slope 1, HU) or ``"PT"`` (RescaleSlope 0.5 + 0.01 k per slice,
        intercept 0, Units BQML).
    orientation
        ImageOrientationPatient (row direction cosines, then column direction cosines).
    series_uid, study_uid
        Generated when None.
    pixel_fn
        ``pixel_fn(k, rows, columns)`` -> int16 array of STORED values for slice k (default
        :func:`default_pixels`).
    extra
        DICOM keyword -> value set on every slice (after the defaults, so it overrides them); a callable
        value is called with the slice index k, e.g. ``{"RescaleSlope": lambda k: 0.1 * (k + 1)}``.
    positions
        ImagePositionPatient per slice (LPS mm) instead of ``origin + k * spacing_z * normal``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n_slices, rows, columns = shape
    series_uid = series_uid or generate_uid()
    study_uid = study_uid or generate_uid()
    frame_uid = generate_uid()
    pixel_fn = pixel_fn or default_pixels
    row_dir = np.asarray(orientation[:3], dtype=float)
    col_dir = np.asarray(orientation[3:], dtype=float)
    normal = np.cross(row_dir, col_dir)
    if positions is None:
        positions = [np.asarray(origin_mm, dtype=float) + k * spacing_mm[0] * normal for k in range(n_slices)]
    files = []
    for k in range(n_slices):
        sop_uid = generate_uid()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = _SOP_CLASS.get(modality, CTImageStorage)
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = sop_uid
        ds.PatientID = "TEST-001"
        ds.PatientName = "Test^Patient"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.FrameOfReferenceUID = frame_uid
        ds.StudyDate = "20240110"
        ds.SeriesDate = "20240110"
        ds.Modality = modality
        ds.SeriesDescription = f"synthetic {modality}"
        ds.SeriesNumber = 1
        ds.InstanceNumber = k + 1
        ds.ImageOrientationPatient = [_ds(v) for v in orientation]
        ds.ImagePositionPatient = [_ds(v) for v in positions[k]]
        ds.PixelSpacing = [_ds(spacing_mm[1]), _ds(spacing_mm[2])]
        ds.SliceThickness = _ds(spacing_mm[0])
        ds.Rows = rows
        ds.Columns = columns
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        if modality == "PT":
            ds.RescaleSlope = _ds(0.5 + 0.01 * k)
            ds.RescaleIntercept = _ds(0)
            ds.Units = "BQML"
        else:
            ds.RescaleSlope = _ds(1)
            ds.RescaleIntercept = _ds(-1024)
        for keyword, value in (extra or {}).items():
            setattr(ds, keyword, value(k) if callable(value) else value)
        pixels = np.ascontiguousarray(pixel_fn(k, rows, columns), dtype=np.int16)
        ds.PixelData = pixels.tobytes()
        path = folder / f"{modality}_{series_uid[-6:]}_{k:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return files
