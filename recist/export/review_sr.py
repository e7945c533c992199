"""DICOM SR of the final reads of a review project (``recist review export-sr``).

For each subject whose read is final (:func:`recist.review.final_reads.final_reads`: agreed and signed, or
adjudicated), one Comprehensive 3D SR per timepoint (:func:`recist.export.dicom_sr.export_sr`) in the
study of the core lab's ORIGINAL images: the read's de-identified UIDs, shifted dates, pseudonym and
neutral labels are mapped back to the source, so the documents reference the images the core lab holds,
carry their true dates and patient, and name the subject.

Each document is a verified, complete report (PS3.3 C.17.2):

- CompletionFlag ``COMPLETE``, PreliminaryFlag ``FINAL``, VerificationFlag ``VERIFIED``;
- Verifying Observer Sequence: the reader who signed the final read, then (adjudicated subjects) the
  adjudicator who signed the selection; each with the printed name of the signature, the organisation
  of the charter (``organizations`` / ``organization``; ``organization`` given here stands in for
  people the charter names none for) and Verification DateTime the time of that signature;
- the observer of the observation context is the reader who signed the read.

A subject without a final read (reads awaited, adjudication awaited, withdrawn, an impossible
progression date, an image the source does not hold) is skipped and reported. ``verified=False`` (the
CLI's ``--ignore-verify``, for a project that fails ``review verify``) writes the documents UNVERIFIED
and PRELIMINARY with no verifying observer: the signatures of a damaged project cannot be vouched for.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from recist.errors import ExchangeError, RecistError
from recist.export.dicom_sr import VerifyingObserver, export_sr, index_images
from recist.export.sr_header import organization_value
from recist.review.final_reads import FinalRead, final_reads

if TYPE_CHECKING:
    from recist.review.workflow import ReviewProject

__all__ = ["ReviewSrExport", "export_review_sr"]


@dataclass(frozen=True)
class ReviewSrExport:
    """What :func:`export_review_sr` did.

    Attributes
    ----------
    written
        Subject id -> the SR files written for it (one per timepoint).
    skipped
        The subjects without a final read (:attr:`FinalRead.problem` says why), and the subjects whose
        final read could not be written (status ``"refused"``, the reason in ``problem``).
    """

    written: dict[str, list[Path]]
    skipped: list[FinalRead]

    @property
    def problems(self) -> list[FinalRead]:
        """Skipped subjects that need someone to act (not merely awaiting reads or withdrawn)."""
        return [r for r in self.skipped if r.status in ("invalid", "unmapped", "damaged", "refused")]


def export_review_sr(
    project: ReviewProject, out: str | os.PathLike[str], *, as_: str, now: _dt.datetime | None = None,
    subjects: Sequence[str] | None = None, organization: str | None = None, verified: bool = True,
    progress: Callable[[FinalRead, list[Path]], None] | None = None,
) -> ReviewSrExport:
    """Write the SR documents of the final reads of ``project`` into ``out`` (administrators only).

    Parameters
    ----------
    project
        The review project.
    out
        The folder to write into (files ``<subject>_<reader>_<nn>_<label>.dcm``).
    as_, now
        Who exports, and when (audited as an export of final reads).
    subjects
        Only these subjects (ids or pseudonyms; default: every subject).
    organization
        The Verifying Organization of signers the charter names no organisation for.
    verified
        Write the documents VERIFIED with their signers (False: UNVERIFIED, see the module docstring).
    progress
        Called with each subject's final read and its files once they are written.

    Raises
    ------
    ExchangeError
        A signer with no organisation, or an ``organization`` that is not a DICOM LO (nothing is written
        then).
    BlindingError
        ``as_`` is not an administrator.
    """
    if organization is not None:
        organization = organization_value(organization)  # before anything is read or written
    reads = final_reads(project, as_=as_, now=now, subjects=subjects)
    final = [r for r in reads if r.status == "final"]
    if verified:
        for read in final:
            for signer in read.signers:
                if not (signer.organization or organization):
                    raise ExchangeError(
                        f"the charter names no organisation for {signer.person!r} ({signer.meaning} of subject "
                        f"{read.subject}): give --organization TEXT, the organisation the signers verified for, or "
                        "name it in the charter ('organization', or 'organizations' per person)"
                    )
    written: dict[str, list[Path]] = {}
    skipped = [r for r in reads if r.status != "final"]
    for read in final:
        observers = [VerifyingObserver(name=s.name, organization=str(s.organization or organization), time=s.time)
                     for s in read.signers] if verified else []
        try:
            paths = _write(read, Path(out), observers)
        except RecistError as exc:
            skipped.append(FinalRead(subject=read.subject, pseudonym=read.pseudonym, status="refused",
                                     problem=f"final read by {read.reader}: {exc}", folders=read.folders))
            continue
        written[read.subject] = paths
        if progress is not None:
            progress(read, paths)
    return ReviewSrExport(written=written, skipped=skipped)


def _write(read: FinalRead, out: Path, observers: list[VerifyingObserver]) -> list[Path]:
    """The SR files of one final read (all built before any is written, see :func:`export_sr`)."""
    from recist.model.validate import parse_case

    case = parse_case(dict(read.case or {}), source=f"final read of {read.subject}")
    images = index_images([folder for folders in read.folders for folder in folders])
    return export_sr(case, images, out, reader=read.signers[0].name, verified_by=observers)
