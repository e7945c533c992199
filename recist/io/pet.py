"""PET series in SUVbw: :func:`load_suv_volume` loads a series and scales every slice by its own factor.

The factor of each slice comes from its own header (:func:`recist.measure.suv.suv_bw_explained`), so a
series whose slices differ in RescaleSlope, acquisition time (DecayCorrection NONE) or anything else is
converted correctly. The earliest acquisition date-time of the whole series is passed to every slice for
the QIBA "SeriesTime after AcquisitionTime" test.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recist.errors import SuvError
from recist.measure.suv import SuvFactor, acquisition_datetime, suv_bw_explained

__all__ = ["series_suv_factors", "load_suv_volume"]


def series_suv_factors(headers: Sequence[Any], files: Sequence[str | os.PathLike] | None = None) -> list[SuvFactor]:
    """The SUVbw factor of every slice of one PET series, in the given order.

    Parameters
    ----------
    headers
        pydicom Datasets of the series' instances (pixel data not needed).
    files
        The file of each header, named in error messages.

    Raises
    ------
    SuvError
        The first slice whose header cannot give a factor (names the file and the tag).
    """
    if not headers:
        raise SuvError("no PET instances given: the series is empty")
    names = [str(f) for f in files] if files is not None else [None] * len(headers)
    if len(names) != len(headers):
        raise ValueError(f"{len(headers)} headers but {len(names)} files")
    acquisitions = []
    for header, name in zip(headers, names):
        when = acquisition_datetime(header, name)
        if when is not None:
            acquisitions.append(when)
    earliest = min(acquisitions) if acquisitions else None
    return [
        suv_bw_explained(header, source=name, series_earliest_acquisition=earliest)
        for header, name in zip(headers, names)
    ]


def load_suv_volume(series: Any) -> Any:
    """Load a PET series and return it in SUVbw (g/ml).

    Parameters
    ----------
    series
        Whatever :func:`recist.io.dicom.load_series` accepts (a folder or file holding one series, or a
        ``SeriesInfo``), or an already loaded PET ``Volume``.

    Returns
    -------
    recist.io.dicom.Volume
        The same geometry and headers; ``array`` is float32 SUVbw, each slice multiplied by the factor of
        its own header.

    Raises
    ------
    SuvError
        The series is not PET, or a slice's header lacks what SUV needs (names the file and the tag).
    DicomLoadError
        The series cannot be read.
    """
    from recist.io.dicom import Volume, load_series

    volume = series if isinstance(series, Volume) else load_series(series)
    if str(volume.modality).upper() != "PT":
        where = Path(volume.files[0]).parent if volume.files else volume.series_uid
        raise SuvError(f"{where}: series {volume.series_uid} has Modality {volume.modality!r}, not PT; "
                       "SUV applies to PET series only")
    factors = series_suv_factors(volume.headers, volume.files)
    scale = np.asarray([f.factor for f in factors], dtype=np.float64)[:, None, None]
    with np.errstate(over="ignore"):
        suv = (volume.array.astype(np.float64) * scale).astype(np.float32)
    if not np.isfinite(suv).all():
        where = Path(volume.files[0]).parent if volume.files else volume.series_uid
        raise SuvError(f"{where}: SUVbw values of series {volume.series_uid} exceed what a float32 image holds "
                       f"(factor up to {float(scale.max()):g}); check RescaleSlope and the SUV header")
    return dataclasses.replace(volume, array=suv)
