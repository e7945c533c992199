"""Start a read from images: a folder of DICOM series, or a reader package, becomes an empty case.

:func:`start_read` finds the series with :func:`recist.io.dicom.find_series` (no DICOM parsing here) and
writes a new ``recist.case/1`` (no lesions) beside the images, which the reader then opens like any case:

- **a reader package** (``recist review package``; docs/review.md): the package folder holding one
  subject, or one subject's folder in it. Subject: the package's pseudonym; timepoints: the manifest's
  labels and (shifted) dates, in the manifest's order (baseline first), so the read fits the checks of
  the review project.
- **a DICOM folder**: one sub-folder per timepoint (its series are the timepoint's), or series directly
  in the folder (grouped by StudyDate). Subject: the PatientID; timepoints ordered by StudyDate and
  labelled ``baseline``, ``timepoint 2``, ``timepoint 3`` ...

Each timepoint lists its series (``images``), so the series are shown at their timepoint even when two
studies share a date. Refusals, one line naming the folder (:class:`recist.errors.DicomLoadError`): no
DICOM series, two subjects, a timepoint folder with no loadable series, a timepoint without StudyDate.

Where the case goes: ``case.json`` beside the images, never over an existing one (an existing case is
opened instead: the reading goes on). A folder that is read-only or inside a source repository (the
committed ``sample_data``; a git work tree) is never written: the images are copied to a working folder
under the user cache (``$XDG_CACHE_HOME/recist/reads/``), as File > Open Sample does, and the case is
written there; opening the same folder again continues that working copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from recist.errors import DicomLoadError

__all__ = ["start_read", "is_package", "CASE_NAME"]

CASE_NAME = "case.json"
_PACKAGE_PREFIX = "recist.review.package/"


@dataclass(frozen=True)
class _Timepoint:
    label: str
    date: dt.date
    images: list[dict]


def _manifest(folder: Path) -> dict | None:
    path = folder / "manifest.json"
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not str(manifest.get("format", "")).startswith(_PACKAGE_PREFIX):
        return None
    return manifest


def is_package(folder: Path) -> bool:
    """True for a reader package folder or one subject's folder inside it."""
    return _manifest(folder) is not None or _manifest(folder.parent) is not None


def _series_refs(folder: Path, what: str) -> tuple[list[dict], dict[str, str], dt.date | None]:
    """Loadable series of ``folder``: image references, PatientID by series, earliest StudyDate."""
    from recist.io.dicom import find_series

    scan = find_series(folder)
    good = [s for s in scan.series if not s.problem]
    if not good:
        why = "; ".join(s.problem for s in scan.series if s.problem)[:300] or (
            f"{len(scan.skipped)} files, none a DICOM image" if scan.skipped else "no files")
        raise DicomLoadError(f"{folder}: {what} has no loadable DICOM image series ({why}); add its images "
                             "or remove the folder, then open again")
    refs = [{"study_uid": s.study_uid, "series_uid": s.series_uid, "modality": s.modality or None} for s in good]
    dates = [s.study_date for s in good if s.study_date]
    return refs, {s.series_uid: s.patient_id for s in good}, min(dates) if dates else None


def _package_subject(folder: Path) -> tuple[Path, dict]:
    """The package root and the manifest entry of the one subject ``folder`` opens."""
    manifest = _manifest(folder)
    root = folder
    if manifest is None:
        root, manifest = folder.parent, _manifest(folder.parent)
    entries = manifest.get("subjects")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("subject"), str)
                                                and e["subject"] for e in entries):
        raise DicomLoadError(f"{root / 'manifest.json'}: 'subjects' is not a list of subjects with a pseudonym; "
                             "ask the core lab for the package again")
    bad = [e["subject"] for e in entries if e["subject"] in (".", "..") or Path(e["subject"]).name != e["subject"]
           or not (root / e["subject"]).is_dir()]
    if bad:
        raise DicomLoadError(f"{root / 'manifest.json'}: subject {bad[0]!r} has no folder in the package")
    if root != folder:
        entries = [e for e in entries if e["subject"] == folder.name]
        if not entries:
            raise DicomLoadError(f"{folder}: the reader package {root} lists no subject {folder.name!r}")
    elif len(entries) != 1:
        names = ", ".join(e["subject"] for e in entries) or "none"
        raise DicomLoadError(f"{folder}: this reader package holds {len(entries)} subjects ({names}); open one "
                             "subject's folder in it to start its read")
    return root, entries[0]


def _package_timepoints(folder: Path) -> tuple[str, list[_Timepoint], Path]:
    """Subject, timepoints and subject folder of a reader package (or one of its subject folders)."""
    root, entry = _package_subject(folder)
    subject, listed = entry["subject"], entry.get("timepoints")
    where_manifest = root / "manifest.json"
    if not isinstance(listed, list) or not listed:
        raise DicomLoadError(f"{where_manifest}: subject {subject} has no timepoints")
    timepoints = []
    for tp in listed:
        label = tp.get("label") if isinstance(tp, dict) else None
        if not isinstance(label, str) or not label.strip() or not isinstance(tp.get("folder"), str):
            raise DicomLoadError(f"{where_manifest}: a timepoint of {subject} has no label or folder")
        try:
            when = dt.date.fromisoformat(str(tp.get("date")))
        except ValueError:
            raise DicomLoadError(f"{where_manifest}: timepoint {label!r} of {subject} has no valid date "
                                 f"({tp.get('date')!r})") from None
        where = (root / tp["folder"]).resolve()
        if root.resolve() not in where.parents or not where.is_dir():
            raise DicomLoadError(f"{where_manifest}: the folder of timepoint {label!r} of {subject} "
                                 f"({tp['folder']!r}) is not a folder of the package")
        refs, _ids, _date = _series_refs(where, f"timepoint {label!r} of {subject}")
        timepoints.append(_Timepoint(label, when, refs))
    return subject, timepoints, root / subject


def _folder_timepoints(folder: Path) -> tuple[str, list[_Timepoint]]:
    """Subject and timepoints of a DICOM folder: one per sub-folder, or per StudyDate for loose series."""
    from recist.io.dicom import find_series

    scan = find_series(folder)
    if not scan.series:
        raise DicomLoadError(f"{folder}: no DICOM image series found ({len(scan.skipped)} files skipped); open a "
                             "folder of DICOM series (one sub-folder per timepoint) or a reader package")
    subfolders = sorted({s.files[0].relative_to(folder).parts[0] for s in scan.series
                         if len(s.files[0].relative_to(folder).parts) > 1})
    stray = {k.path.relative_to(folder).parts[0] for k in scan.skipped if len(k.path.relative_to(folder).parts) > 1}
    for name in sorted(n for n in stray - set(subfolders) if not n.startswith(".")):
        _series_refs(folder / name, f"the timepoint folder {name!r}")  # raises: files, but no loadable series
    subject_of: dict[str, str] = {}
    groups: list[tuple[list[dict], dt.date | None, str]] = []
    for name in subfolders:
        refs, ids, when = _series_refs(folder / name, f"the timepoint folder {name!r}")
        subject_of.update(ids)
        groups.append((refs, when, str(folder / name)))
    loose = [s for s in scan.series if len(s.files[0].relative_to(folder).parts) == 1]
    by_date: dict[dt.date | None, list] = {}
    for s in loose:
        if s.problem:
            raise DicomLoadError(f"{folder}: {s.problem}")
        by_date.setdefault(s.study_date, []).append(s)
        subject_of[s.series_uid] = s.patient_id
    for when, series in by_date.items():
        groups.append(([{"study_uid": s.study_uid, "series_uid": s.series_uid, "modality": s.modality or None}
                        for s in series], when, f"{folder} (StudyDate {when})"))
    subjects = sorted(set(subject_of.values()))
    if len(subjects) != 1:
        raise DicomLoadError(f"{folder}: the series belong to {len(subjects)} subjects (PatientID "
                             f"{', '.join(repr(s) for s in subjects)}); a read is of one subject: open a folder "
                             "holding one subject's series")
    if not subjects[0]:
        raise DicomLoadError(f"{folder}: the series have no PatientID; a read needs the subject")
    for _refs, when, where in groups:
        if when is None:
            raise DicomLoadError(f"{where}: its series have no StudyDate; a timepoint needs its scan date")
    groups.sort(key=lambda g: (g[1], g[2]))
    labels = ["baseline"] + [f"timepoint {n}" for n in range(2, len(groups) + 1)]
    return subjects[0], [_Timepoint(label, when, refs) for label, (refs, when, _w) in zip(labels, groups)]


def _protected(folder: Path) -> bool:
    """A folder never written: read-only, the committed sample, or inside a git work tree."""
    from napari_recist._sample_data import COMMITTED_SAMPLE

    if not os.access(folder, os.W_OK):
        return True
    resolved = folder.resolve()
    if resolved == COMMITTED_SAMPLE.resolve() or COMMITTED_SAMPLE.resolve() in resolved.parents:
        return True
    return any((p / ".git").exists() for p in (resolved, *resolved.parents))


def _working_folder(images: Path) -> Path:
    """The working copy of a protected image folder under the user cache (made once, then reused)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "recist" / "reads"
    digest = hashlib.sha256(str(images.resolve()).encode("utf-8")).hexdigest()[:10]
    work = base / f"{images.name or 'images'}-{digest}"
    if work.is_dir():
        return work
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".copy-", dir=base))
    try:
        shutil.copytree(images, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
        os.replace(staging, work)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return work


def start_read(folder: str | os.PathLike) -> Path:
    """Write the empty case of an image folder (see the module docstring) and return its path.

    An existing case file there (or in the folder's working copy) is returned unchanged.

    Raises
    ------
    DicomLoadError
        One line naming the folder: no DICOM series, two subjects, a timepoint folder without a
        loadable series, a timepoint without a date, a package subject unknown to its manifest.
    """
    from napari_recist._controller import CaseController

    folder = Path(folder)
    if is_package(folder):
        subject, timepoints, images = _package_timepoints(folder)
    else:
        images = folder
        subject, timepoints = _folder_timepoints(folder)
    if _protected(images):
        images = _working_folder(images)
    path = images / CASE_NAME
    if path.exists():
        return path
    try:
        controller = CaseController.new(subject, [{"label": tp.label, "date": tp.date.isoformat(),
                                                   "images": tp.images} for tp in timepoints])
    except ValueError as exc:  # e.g. two timepoints of a manifest with the same label
        first = str(exc).splitlines()[:3]
        raise DicomLoadError(f"{folder}: the timepoints found make no valid case: {' '.join(first)}") from None
    controller.save(path)
    return path
