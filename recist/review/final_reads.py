"""The final reads of a review project in the core lab's terms: true subject, dates, labels and image UIDs.

Readers read de-identified packages (:mod:`recist.review.deid`): the pseudonym, dates shifted by the
subject's number of days, neutral timepoint labels and UIDs replaced by keyed hashes
(:func:`~recist.review.deid.hashed_uid`). :func:`final_reads` gives, for an administrator, each subject's
final read (the agreed Read A, or the read the adjudicator selected: see docs/review.md, "Final result")
mapped back to the source: :func:`~recist.review.subjects.calendar_case` restores the subject id, the
calendar dates and the recorded labels, and every image reference (study, series and SOP instance) is
replaced by the UID of the core lab's original image, found by hashing the UIDs of the subject's source
series with the project secret (which never leaves the project). An image reference is looked up among
the source series of its own timepoint only: a measurement drawn on another timepoint's image is refused.

Each final read carries its signers, in order: the reader who signed the chosen version ("author of this
read") and, for an adjudicated subject, the adjudicator who signed the selection ("adjudicator's
selection"); each with the printed name recorded in the signature (the account's name when the project is
served), the organisation the charter names for them (``organizations`` / ``organization``) and the time
of the signature. :mod:`recist.export.review_sr` writes them as DICOM SR.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist.errors import ReviewStateError
from recist.review._common import sha as _sha
from recist.review._common import utc as _utc
from recist.review.subjects import calendar_case

if TYPE_CHECKING:
    from recist.review.workflow import ReviewProject

__all__ = ["Signer", "FinalRead", "final_reads", "source_case"]


@dataclass(frozen=True)
class Signer:
    """A person whose electronic signature makes a read final.

    Attributes
    ----------
    person
        The person id of the charter.
    name
        The printed name recorded in the signature (21 CFR 11.50).
    organization
        The organisation the charter names for the person (None when it names none).
    time
        When the person signed (UTC).
    meaning
        The meaning of the signature ("author of this read", "adjudicator's selection").
    """

    person: str
    name: str
    organization: str | None
    time: _dt.datetime
    meaning: str


@dataclass(frozen=True)
class FinalRead:
    """One subject's final read in the core lab's terms, or why it has none.

    Attributes
    ----------
    subject, pseudonym
        The subject id and its pseudonym.
    status
        ``"final"``, or the status of the results that says why there is no final read yet
        (``"awaiting reads"``, ``"awaiting adjudication"``, ``"withdrawn"``, ``"invalid"``),
        ``"unmapped"`` (an image reference of the read is not among the subject's source series) or
        ``"damaged"`` (a signature block without signer or time, in a project that fails verify).
    problem
        One line saying why the subject has no exportable final read (None when final).
    reader
        The reader whose read is final (None when not final).
    source
        ``"agreement"`` or ``"adjudication"`` (None when not final).
    case
        The final read as a case dict (``recist.case/1``) with the subject id, true dates and labels and the
        source image UIDs (None when not final).
    signers
        The reader's signature, then the adjudicator's when adjudicated.
    folders
        The subject's source DICOM folders, timepoint by timepoint.
    """

    subject: str
    pseudonym: str
    status: str
    problem: str | None = None
    reader: str | None = None
    source: str | None = None
    case: dict[str, Any] | None = None
    signers: tuple[Signer, ...] = ()
    folders: tuple[tuple[str, ...], ...] = field(default=())


def final_reads(project: ReviewProject, *, as_: str, now: _dt.datetime | None = None,
                subjects: Sequence[str] | None = None) -> list[FinalRead]:
    """Each subject's final read mapped back to the source (administrators only; audited as an export).

    Parameters
    ----------
    project
        The review project.
    as_
        Who asks (an administrator of the charter).
    now
        The time of the request (UTC; the results' checks of progression dates use its date).
    subjects
        Only these subjects (ids or pseudonyms); default every subject, withdrawn ones included (they come
        back with status ``"withdrawn"``).

    Raises
    ------
    BlindingError
        ``as_`` is not an administrator.
    ReviewStateError
        An unknown subject.
    """
    now = _utc(now)
    with project._guard(as_, "export final reads", now):  # noqa: SLF001 - part of the project
        project._require(as_, ["administrator"], "export final reads", now)  # noqa: SLF001
        if subjects:
            pseudonyms = list(dict.fromkeys(project._resolve(s) for s in subjects))  # noqa: SLF001
        else:
            pseudonyms = project.subject_pseudonyms()
        found = [_final_read(project, p, now.date()) for p in pseudonyms]
        summary = [(r.subject, r.status, r.case) for r in found]
        with project._locked():  # noqa: SLF001
            project.audit.append(actor=as_, action="export", now=now, details={
                "what": "final reads", "subjects": len(found),
                "final": sum(r.status == "final" for r in found), "sha256": _sha(summary)})
    return found


def _final_read(project: ReviewProject, pseudonym: str, today: _dt.date) -> FinalRead:
    record = project._subject(pseudonym)  # noqa: SLF001
    folders = tuple(tuple(tp["folders"]) for tp in record["timepoints"])
    base = FinalRead(subject=record["subject"], pseudonym=pseudonym, status="", folders=folders)
    row = project._final(pseudonym, today)  # noqa: SLF001 - the results' decision, not a copy of it
    if row["status"] != "final":
        why = row["problem"] or row["status"]
        return replace(base, status=row["status"], problem=why)
    pair = project._pair(pseudonym)  # noqa: SLF001
    version = pair["reads"][row["read"]]
    blocks = [("the read's", version.get("signature"))]
    if row["source"] == "adjudication":
        blocks.append(("the adjudication's", (project._adjudication(pseudonym) or {}).get("signature")))  # noqa: SLF001
    try:
        signers = [_signer(project, block, what) for what, block in blocks]
    except ReviewStateError as exc:
        return replace(base, status="damaged", problem=f"final read by {row['reader']}: {exc}")
    try:
        case = source_case(version["case"], record, _uid_maps(project, record))
    except (ReviewStateError, OSError) as exc:
        return replace(base, status="unmapped", problem=f"final read by {row['reader']}: {exc}")
    return replace(base, status="final", reader=row["reader"], source=row["source"], case=case,
                   signers=tuple(signers))


def _signer(project: ReviewProject, block: Any, what: str) -> Signer:
    """The signer of a signature block (ReviewStateError naming ``what`` when the block is damaged)."""
    try:
        person = str(block["signer"])
        time = _utc(_dt.datetime.fromisoformat(str(block["time"])))
    except (KeyError, TypeError, ValueError):
        raise ReviewStateError(f"{what} signature is damaged (no signer or time): run `recist review verify`") from None
    return Signer(person=person, name=str(block.get("name") or person),
                  organization=project.charter.organization_of(person), time=time,
                  meaning=str(block.get("meaning") or ""))


def _uid_maps(project: ReviewProject, record: Mapping[str, Any]) -> list[dict[str, tuple[str, str]]]:
    """Per timepoint: de-identified UID -> (source UID, attribute keyword) of its source series."""
    from recist.review.deid import hashed_uid

    secret = project._secret  # noqa: SLF001 - used here, never returned
    return [{hashed_uid(uid, secret): (uid, keyword) for uid, keyword in _source_uids(tp["folders"])}
            for tp in record["timepoints"]]


_UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")


def _source_uids(folders: Iterable[str]) -> list[tuple[str, str]]:
    """(UID, keyword) of the study, series and instance of every DICOM file under ``folders``."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    found: dict[tuple[str, str], None] = {}
    for folder in folders:
        root = Path(folder)
        if not root.is_dir():
            raise ReviewStateError(f"the source folder {root} is missing: restore it (the SR references its images)")
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=list(_UID_KEYWORDS))
            except (InvalidDicomError, OSError, ValueError, EOFError):
                continue
            for keyword in _UID_KEYWORDS:
                if keyword in ds:
                    found[(str(ds[keyword].value).strip(), keyword)] = None
    return list(found)


def source_case(case: Mapping[str, Any], record: Mapping[str, Any],
                uid_maps: Sequence[Mapping[str, tuple[str, str]]]) -> dict[str, Any]:
    """A central read in the core lab's terms: :func:`calendar_case` plus the source image UIDs.

    Parameters
    ----------
    case
        The read as the reader wrote it (pseudonym, shifted dates, package labels, de-identified UIDs).
    record
        The subject record (``subject.json``).
    uid_maps
        Per timepoint, de-identified UID -> (source UID, keyword) of that timepoint's source series.

    Raises
    ------
    ReviewStateError
        An image reference whose UID is not one of its timepoint's source series (naming the timepoint,
        the lesion and the UID).
    """
    data = calendar_case(case, record)
    for number, tp in enumerate(data.get("timepoints") or []):
        uids = uid_maps[number] if number < len(uid_maps) else {}
        where = f"timepoint {tp.get('label')!r}"
        for ref in tp.get("images") or []:
            _map_ref(ref, uids, where)
        entries: list[tuple[str, Any]] = [*(tp.get("targets") or {}).items(), *(tp.get("non_targets") or {}).items()]
        entries += [(str(new.get("id")), new) for new in tp.get("new_lesions") or []]
        for lesion, entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("image"), dict):
                _map_ref(entry["image"], uids, f"{where}, lesion {lesion!r}")
        if not tp.get("images") and not _names_images(tp):
            tp["images"] = _series_refs(uids)
    return data


def _names_images(tp: Mapping[str, Any]) -> bool:
    entries = [*(tp.get("targets") or {}).values(), *(tp.get("non_targets") or {}).values(),
               *(tp.get("new_lesions") or [])]
    return any(isinstance(e, dict) and e.get("image") for e in entries)


def _series_refs(uids: Mapping[str, tuple[str, str]]) -> list[dict[str, str]]:
    """The timepoint's source study as series references, when its folders hold one study (else none).

    A read that names no image of a timepoint is written to the study the subject record gives for it;
    without references the SR export would look the study up by date.
    """
    studies = [uid for uid, keyword in uids.values() if keyword == "StudyInstanceUID"]
    if len(studies) != 1:
        return []
    return [{"study_uid": studies[0], "series_uid": uid}
            for uid, keyword in sorted(uids.values()) if keyword == "SeriesInstanceUID"]


def _map_ref(ref: dict[str, Any], uids: Mapping[str, tuple[str, str]], where: str) -> None:
    for key, keyword in (("study_uid", "StudyInstanceUID"), ("series_uid", "SeriesInstanceUID"),
                         ("sop_uid", "SOPInstanceUID")):
        value = ref.get(key)
        if value is None:
            continue
        source = uids.get(str(value))
        if source is None or source[1] != keyword:
            raise ReviewStateError(
                f"{where}: image {key.removesuffix('_uid')} {value} is not one of the timepoint's source series "
                "(the read refers to an image of another timepoint or not from the reader package); amend the read"
            )
        ref[key] = source[0]
