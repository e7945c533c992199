"""Reader packages: the de-identified images and the manifest one reader (or adjudicator) works from.

:func:`write_package` is what :meth:`recist.review.workflow.ReviewProject.package` does. A package folder
holds one folder per subject pseudonym, one sub-folder per timepoint (``01-timepoint-1``) with the
de-identified series (:mod:`recist.review.deid`), and ``manifest.json`` listing per pseudonym the
timepoints as the reader must write them in the read: label and shifted date. Nothing else goes in: no
subject id, no arm, no site read, no read of anyone.

Labels: a subject's timepoint labels come from the site ("week 8 arm B lutathera" has been seen) and
could unblind a reader, so packages show the neutral ``timepoint N`` (N from 1 at baseline) unless the
charter's ``timepoint_labels`` maps the label (:meth:`recist.review.charter.Charter.package_label`).

Writing: each subject is written into a temporary folder inside the package and renamed into place
when complete, and the manifest is rewritten atomically after each subject, so an interrupted run never
leaves a half-written subject that looks finished. Running ``package`` again on the same folder adds
the subjects not yet in it (a folder left by an interrupted run is redone); ``subjects`` restricts the
run to some subjects. Failures name the subject (and, for the administrator, its id) and the timepoint.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist._atomic import atomic_write_bytes, dumps_stable, make_private_folder
from recist.errors import BlindingError, DicomLoadError, ReviewStateError

if TYPE_CHECKING:
    from recist.review.workflow import ReviewProject

log = logging.getLogger(__name__)

__all__ = ["PACKAGE_FORMAT", "MANIFEST_NAME", "write_package", "folder_slug", "existing_manifest"]

PACKAGE_FORMAT = "recist.review.package/1"
MANIFEST_NAME = "manifest.json"

Progress = Callable[[int, int, str], None]
"""Called with (subjects done, subjects to do, pseudonym just written)."""


def folder_slug(label: str) -> str:
    """A folder-name form of a package label (``timepoint 2`` -> ``timepoint-2``)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-").lower() or "timepoint"


def existing_manifest(out: Path, reader: str, trial: str) -> dict[str, Any] | None:
    """The manifest of an earlier package of ``reader`` for ``trial`` in ``out`` (None for a new or empty folder).

    Raises ReviewStateError when ``out`` is a file, or a folder holding something else (or another
    reader's package).
    """
    if not out.exists():
        return None
    if not out.is_dir():
        raise ReviewStateError(f"{out} is a file: name a folder for the reader package")
    entries = [p for p in out.iterdir()]
    if not entries:
        return None
    path = out / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        raise ReviewStateError(f"{out} is not empty and holds no readable package manifest: write a reader package "
                               "into a new folder, or into a package folder to add subjects") from None
    if not isinstance(manifest, dict) or manifest.get("format") != PACKAGE_FORMAT:
        raise ReviewStateError(f"{path} is not a reader package manifest ({PACKAGE_FORMAT})")
    if manifest.get("reader") != reader or manifest.get("trial") != trial:
        raise ReviewStateError(f"{out} is the package of {manifest.get('reader')!r} for trial {manifest.get('trial')!r}, "
                               f"not of {reader!r}: write this package into another folder")
    if not isinstance(manifest.get("subjects"), list):
        raise ReviewStateError(f"{path}: 'subjects' is not a list; write the package into a new folder")
    return manifest


def _write_subject(project: ReviewProject, pseudonym: str, folder: Path, *, named: str) -> dict[str, Any]:
    """De-identify every timepoint of one subject into ``folder``; the manifest entry of the subject."""
    from recist.review.deid import deidentify_folder

    record = project._subject(pseudonym)  # noqa: SLF001 - the package is part of the project
    shift = int(record["date_shift_days"])
    timepoints = []
    for number, tp in enumerate(project._package_timepoints(pseudonym)):  # noqa: SLF001
        source_tp = record["timepoints"][number]
        sub = f"{number + 1:02d}-{folder_slug(tp['label'])}"
        series: list[dict[str, Any]] = []
        left_out: list[str] = []
        for source in source_tp["folders"]:
            try:
                series.extend(deidentify_folder(
                    source, folder / sub, secret=project._secret, shift_days=shift, pseudonym=pseudonym,  # noqa: SLF001
                    checked_series=project.charter.deidentification.checked_series,
                    keep_attributes=project.charter.deidentification.keep_attributes, left_out=left_out,
                ))
            except (DicomLoadError, BlindingError) as exc:
                raise type(exc)(f"subject {named}, timepoint {tp['label']!r}: {exc}") from None
            except OSError as exc:
                raise DicomLoadError(f"subject {named}, timepoint {tp['label']!r}: cannot read {source}: "
                                     f"{exc.strerror or exc}") from None
        if left_out:
            reasons = "; ".join(f"{n} x {why}" for why, n in Counter(left_out).items())
            log.warning("subject %s, timepoint %r: %d object(s) not packaged, not images to read (readers are "
                        "blinded to the site's read): %s", named, tp["label"], len(left_out), reasons)
        timepoints.append({"label": tp["label"], "date": tp["date"], "folder": f"{pseudonym}/{sub}", "series": series})
    return {"subject": pseudonym, "timepoints": timepoints}


def write_package(
    project: ReviewProject, reader: str, out: str | Path, *, as_: str, now: _dt.datetime,
    subjects: Sequence[str] | None = None, progress: Progress | None = None,
) -> dict[str, Any]:
    """Write (or complete) the package of ``reader`` in ``out``; returns the manifest.

    An administrator, or the person themself, may package. ``reader`` may also be an adjudicator: the
    adjudicator's package holds the same de-identified images (so Read A's and Read B's lines can be
    shown on them) and, like every package, no read.

    Parameters
    ----------
    project
        The review project.
    reader
        Whose package (a reader or an adjudicator of the charter).
    out
        A new or empty folder, or the folder of an earlier package of the same reader (subjects not yet
        in it are added).
    as_, now
        Who packages, and when (audited).
    subjects
        Package only these subjects (pseudonyms; an administrator may also give subject ids).
    progress
        Called after each subject written.
    """
    from recist.review.deid import DEIDENTIFICATION_METHOD, PROFILE_CODES, TABLE_EDITION

    charter = project.charter
    role = project._require(as_, ["administrator", "reader", "adjudicator"], "package reads", now)  # noqa: SLF001
    if reader not in charter.readers and reader not in charter.adjudicators:
        raise ReviewStateError(
            f"{reader!r} is not a reader or adjudicator of this project "
            f"(readers: {charter.readers}, adjudicators: {charter.adjudicators})"
        )
    if role != "administrator" and reader != as_:
        project._refuse(as_, "package", f"{as_!r} may package only their own reading material, not {reader!r}'s",  # noqa: SLF001
                        now)
    out = Path(out)
    manifest = existing_manifest(out, reader, charter.trial)
    if subjects:
        wanted = []
        for subject in subjects:
            pseudonym = project._resolve(subject, role)  # noqa: SLF001
            if project._is_withdrawn(pseudonym):  # noqa: SLF001
                raise ReviewStateError(f"subject {subject!r} is withdrawn from the review: it is not packaged")
            if pseudonym not in wanted:
                wanted.append(pseudonym)
    else:
        wanted = project._active_pseudonyms()  # noqa: SLF001 - a withdrawn subject is not packaged
    done = {entry.get("subject") for entry in (manifest or {}).get("subjects", []) if isinstance(entry, dict)}
    todo = [p for p in wanted if p not in done]
    if manifest is None:
        manifest = {
            "format": PACKAGE_FORMAT, "trial": charter.trial, "reader": reader, "created": now.isoformat(),
            "subjects": [],
            "deidentification": {"method": list(DEIDENTIFICATION_METHOD), "table": f"PS3.15 Table E.1-1 ({TABLE_EDITION})",
                                 "codes": [{"scheme": "DCM", "value": v, "meaning": m} for v, m in PROFILE_CODES]},
        }
    make_private_folder(out)
    for stray in out.glob(".partial-*"):  # a subject an interrupted run did not finish
        shutil.rmtree(stray, ignore_errors=True)
    digest = ""
    for count, pseudonym in enumerate(todo, start=1):
        named = pseudonym
        if role == "administrator":
            named = f"{pseudonym} ({project._subject(pseudonym)['subject']})"  # noqa: SLF001
        final = out / pseudonym
        if final.exists():  # written by a run interrupted before its manifest was updated: redo it
            shutil.rmtree(final)
        partial = Path(tempfile.mkdtemp(prefix=f".partial-{pseudonym}-", dir=out))
        try:
            entry = _write_subject(project, pseudonym, partial, named=named)
            partial.rename(final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        manifest["subjects"].append(entry)
        manifest["subjects"].sort(key=lambda e: str(e.get("subject")))
        raw = dumps_stable(manifest).encode("utf-8")
        atomic_write_bytes(out / MANIFEST_NAME, raw)
        digest = hashlib.sha256(raw).hexdigest()
        if progress is not None:
            progress(count, len(todo), pseudonym)
    if not (out / MANIFEST_NAME).exists():  # no subject yet: an empty package is still a package
        raw = dumps_stable(manifest).encode("utf-8")
        atomic_write_bytes(out / MANIFEST_NAME, raw)
        digest = hashlib.sha256(raw).hexdigest()
    with project._locked():  # noqa: SLF001
        project.audit.append(actor=as_, action="package", now=now,
                             details={"reader": reader, "out": str(out.resolve()), "manifest_sha256": digest or None,
                                      "added": todo, "subjects": len(manifest["subjects"])})
    return manifest
