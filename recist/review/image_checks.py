"""Do a subject's timepoint folders hold the images its record claims? Checked before a subject is recorded.

``add-subject`` (one subject or a manifest) and ``correct-timepoints`` record, per timepoint, a date and
DICOM folders; packages are made from them later. A wrong folder (missing, empty, another modality, a
damaged file, a scan of another day) used to be found only when packaging, after the subject was in the
project. :func:`folder_problem` checks one folder with the project's series scanner
(:func:`recist.io.dicom.find_series`), which reads headers only (no pixel data) and checks each series'
geometry and pixel format as loading would.

A folder passes when
- it exists and holds at least one image series;
- every image series in it loads (no damaged file, no missing slice, consistent geometry): a package
  de-identifies every file of the folder, so a bad series would reach the readers;
- every series has one of the charter's ``modalities`` (default CT, MR, PT);
- every series is dated the timepoint's date. The date is the series' StudyDate; when a series has no
  StudyDate, its SeriesDate, then its AcquisitionDate (some exports blank StudyDate; a study that runs
  past midnight keeps the StudyDate of its start, which is the date of the visit). A series with none of
  the three cannot be checked and is refused.

Across a subject's timepoints (:func:`patients_problem`), every image series has the same PatientID: a
folder of another patient with the right modality and date is refused.

Files that are not images are ignored when they are plainly something else: a DICOM object without
pixel data (a DICOMDIR, a structured report) or a non-empty file that is not DICOM and is not named
``*.dcm`` (a text file). Any other file the scanner skips is refused, because it is most likely a damaged
image: an empty file (a failed copy), a ``*.dcm`` file that is not DICOM, a file cut short or with an
unreadable header, wherever it lies under the folder (a damaged first or last slice would otherwise give
a silently shorter volume). A site's reading objects that packages leave out are ignored too
(:func:`recist.review.deid.not_for_reading_reason`: segmentations, presentation states, key objects).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path

__all__ = ["DATE_ATTRIBUTES", "folder_problem", "patients_problem", "series_date", "skipped_file_problem"]

DATE_ATTRIBUTES = ("StudyDate", "SeriesDate", "AcquisitionDate")
"""The attributes a series' date is taken from, first present wins."""


def series_date(info: object) -> tuple[_dt.date | None, str | None]:
    """The date of a series (:class:`recist.io.dicom.SeriesInfo`) and the attribute it came from.

    StudyDate, else SeriesDate, else AcquisitionDate (:data:`DATE_ATTRIBUTES`); ``(None, None)`` when the
    series has none of them.
    """
    for attribute, value in zip(DATE_ATTRIBUTES, (getattr(info, "study_date", None),
                                                  getattr(info, "series_date", None),
                                                  getattr(info, "acquisition_date", None))):
        if value is not None:
            return value, attribute
    return None, None


def skipped_file_problem(path: Path, reason: str) -> str | None:
    """Why a file the series scanner skipped (for ``reason``) makes its folder unusable, or None when it is
    plainly not an image (see the module docstring)."""
    if reason.startswith("no pixel data (") and reason.endswith("not an image)"):  # a DICOMDIR, an SR ...
        return None
    try:
        empty = path.stat().st_size == 0
    except OSError:
        empty = False
    if empty:
        return f"{path.name} is an empty file (a failed copy?): copy it again or remove it"
    if reason.startswith("not a DICOM file") and path.suffix.lower() != ".dcm":
        return None
    return f"{path.name} cannot be used ({reason}): copy it again or remove it"


def folder_problem(folder: str | Path, date: _dt.date, modalities: Sequence[str],
                   patient_ids: set[str] | None = None) -> str | None:
    """Why ``folder`` cannot be a timepoint dated ``date`` (one line naming the folder), or None.

    Parameters
    ----------
    folder
        The DICOM folder of the timepoint (searched recursively).
    date
        The timepoint's (true, calendar) date.
    modalities
        The DICOM Modality values allowed (the charter's ``modalities``).
    patient_ids
        When given, the PatientID of every image series of the folder is added to it (empty ones are
        not), for :func:`patients_problem`.
    """
    from recist.io.dicom import find_series
    from recist.review.deid import NOT_FOR_READING_MODALITIES

    path = Path(folder)
    if not path.is_dir():
        return f"folder {path} does not exist (or is not a folder): give the timepoint's DICOM folder"
    if not any(p.is_file() for p in path.rglob("*")):
        return f"folder {path} is empty: copy the timepoint's DICOM series into it"
    scan = find_series(path)
    for skipped in scan.skipped:
        why = skipped_file_problem(skipped.path, skipped.reason)
        if why is not None:
            return f"folder {path}: {why}"
    images = [info for info in scan.series if info.modality not in NOT_FOR_READING_MODALITIES]
    if not images:
        first = scan.skipped[0] if scan.skipped else None
        why = f" ({len(scan.skipped)} file(s) skipped; {first.path.name}: {first.reason})" if first else ""
        return f"folder {path} holds no loadable DICOM image series{why}"
    for info in images:
        if info.problem:
            return f"folder {path}: {info.label()} does not load: {info.problem}"
        if info.modality not in modalities:
            return (f"folder {path}: {info.label()} is modality {info.modality or '(none)'}, not one of the "
                    f"charter's modalities {', '.join(modalities)}: give the folder of the timepoint's images (or add "
                    "the modality to the charter's 'modalities')")
        when, attribute = series_date(info)
        if when is None:
            return (f"folder {path}: {info.label()} has no {', '.join(DATE_ATTRIBUTES[:-1])} or "
                    f"{DATE_ATTRIBUTES[-1]}: its date cannot be checked against the timepoint's {date}")
        if when != date:
            return (f"folder {path}: {info.label()} has {attribute} {when}, but the timepoint's date is {date}: "
                    "correct the date, or give the folder of the scan of that date")
        if patient_ids is not None and info.patient_id.strip():
            patient_ids.add(info.patient_id.strip())
    return None


def patients_problem(patient_ids: dict[str, set[str]]) -> str | None:
    """Why one subject's folders cannot all be the same patient, or None.

    ``patient_ids`` maps each timepoint label to the PatientIDs of its image series (from
    :func:`folder_problem`). Every timepoint of a subject is one patient's scans: a folder of another
    patient, with the right modality and a matching date, would otherwise be measured as this subject's
    follow-up. Timepoints whose series carry no PatientID are not compared.
    """
    found = sorted({pid for ids in patient_ids.values() for pid in ids})
    if len(found) <= 1:
        return None
    where = "; ".join(f"{label}: {', '.join(repr(pid) for pid in sorted(ids))}"
                      for label, ids in patient_ids.items() if ids)
    return (f"its folders hold the scans of {len(found)} patients (PatientID {where}): every timepoint must be "
            "the same patient's; give the folders of this subject's scans")
