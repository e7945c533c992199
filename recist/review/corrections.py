"""Administrator corrections of a review project: withdrawing a subject, correcting its timepoints.

The methods of :class:`recist.review.workflow.ReviewProject` that change what the project holds about a
subject after it was added (issue #14 §3). Each is done by an administrator only (anyone else is refused,
and the refusal audited), needs a written reason, and is one audited change recording the old and the
new values. Nothing is deleted: a withdrawn subject keeps its record, its reads and its audit history.

Withdrawing a subject
---------------------
:meth:`CorrectionsMixin.withdraw_subject` marks ``subject.json`` with ``"withdrawn": {"reason", "by",
"time"}``. A withdrawn subject leaves every worklist (reader and adjudicator ``status``, new reader
packages, reads, signatures and adjudications by pseudonym are refused as for an unknown subject), is
left out of the agreement report, and is listed by ``results`` with status ``withdrawn`` (the reason in
``problem``). A subject with signed reads is refused unless ``withdraw_reads`` is given: then each read
file of the subject gets the same ``"withdrawn"`` block. The signed versions inside are kept unchanged
(their signatures still verify); a withdrawn read no longer counts as signed.

Correcting a subject's timepoints
---------------------------------
:meth:`CorrectionsMixin.correct_timepoints` replaces the recorded timepoints (audited old and new). Reads
made from the old package no longer fit, so signed reads refuse the correction unless ``withdraw_reads``:
then the versions of each read move, unchanged, to ``withdrawn_reads`` in the same file and the reader
starts again (version 1) from a new package.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

from recist.errors import RecistValidationError, ReviewStateError
from recist.review._common import utc as _utc

__all__ = ["CorrectionsMixin", "withdrawn_block"]


def withdrawn_block(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``withdrawn`` block of a subject or read record (None: not withdrawn)."""
    block = (record or {}).get("withdrawn")
    return block if isinstance(block, dict) else None


class CorrectionsMixin:
    """Withdrawing a subject and correcting its timepoints (mixed into :class:`recist.review.workflow.ReviewProject`)."""

    def _is_withdrawn(self, pseudonym: str) -> bool:
        return withdrawn_block(self._subject(pseudonym)) is not None

    def _active_pseudonyms(self) -> list[str]:
        """The pseudonyms of the subjects not withdrawn (the worklists), sorted."""
        return [p for p in self._pseudonyms() if not self._is_withdrawn(p)]

    def _signed_readers(self, pseudonym: str) -> list[str]:
        """The readers whose read of ``pseudonym`` has a signed version and is not withdrawn."""
        found = []
        for reader in self.charter.readers:
            read = self._load_read(pseudonym, reader)
            if read and withdrawn_block(read) is None and any(v["status"] == "signed" for v in read["versions"]):
                found.append(reader)
        return found

    def _withdrawal(self, record: dict[str, Any], withdraw_reads: bool, *, reason: str, as_: str,
                    now: _dt.datetime) -> dict[str, Any]:
        """The ``withdrawn`` block of a change; ReviewStateError when signed reads are not withdrawn too."""
        pseudonym = record["pseudonym"]
        signed = self._signed_readers(pseudonym)
        if signed and not withdraw_reads:
            raise ReviewStateError(
                f"subject {record['subject']!r} ({pseudonym}) has signed reads by {', '.join(signed)}: "
                "withdraw them too with --withdraw-reads (they are kept, marked withdrawn)")
        return {"reason": reason.strip(), "by": as_, "time": now.isoformat()}

    def withdraw_subject(
        self, subject: str, *, reason: str, as_: str, withdraw_reads: bool = False, now: _dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Withdraw ``subject`` (id or pseudonym) from the review, with a written ``reason``.

        Administrators only. Refused when the subject has signed reads unless ``withdraw_reads`` (then every
        read of the subject is marked withdrawn with the same reason; nothing is deleted).

        Returns
        -------
        dict
            ``{"subject", "pseudonym", "withdrawn", "reads_withdrawn"}``: the ``withdrawn`` block written and
            the readers whose reads were marked withdrawn.
        """
        now = _utc(now)
        with self._guard(as_, "withdraw subjects", now, subject):
            self._require(as_, ["administrator"], "withdraw subjects", now, subject)
            if not isinstance(reason, str) or not reason.strip():
                raise ReviewStateError("withdrawing a subject needs a reason (--reason TEXT)")
            pseudonym = self._resolve(subject)
            with self._locked():
                record = self._subject(pseudonym)
                if withdrawn_block(record) is not None:
                    raise ReviewStateError(f"subject {record['subject']!r} ({pseudonym}) is already withdrawn")
                block = self._withdrawal(record, withdraw_reads, reason=reason, as_=as_, now=now)
                writes = {self._sdir(pseudonym) / "subject.json": {**record, "withdrawn": block}}
                reads = []
                if withdraw_reads:
                    for reader in self.charter.readers:
                        read = self._load_read(pseudonym, reader)
                        if read is not None and withdrawn_block(read) is None:
                            writes[self._read_path(pseudonym, reader)] = {**read, "withdrawn": block}
                            reads.append(reader)
                self._commit(actor=as_, action="withdraw-subject", now=now, subject=pseudonym, writes=writes,
                             details={"reason": block["reason"], "old": {"withdrawn": None},
                                      "new": {"withdrawn": block}, "reads_withdrawn": reads})
        return {"subject": record["subject"], "pseudonym": pseudonym, "withdrawn": block, "reads_withdrawn": reads}

    def correct_timepoints(
        self, subject: str, timepoints: Iterable[Any], *, reason: str, as_: str, withdraw_reads: bool = False,
        now: _dt.datetime | None = None, check_images: bool = True,
    ) -> dict[str, Any]:
        """Replace the timepoints of ``subject`` (id or pseudonym) with ``timepoints``, with a written ``reason``.

        Administrators only; the new timepoints are checked as for a new subject (baseline first, dates
        increasing, labels unique and, with ``check_images``, each folder's series as ``add_subject``
        checks them; ``check_images=False`` is audited as ``images_checked: false``). Refused for a withdrawn or an adjudicated subject, and when the subject
        has signed reads unless ``withdraw_reads``: then each read of the subject with versions is emptied
        and its versions kept under ``withdrawn_reads`` (``{"withdrawn": {...}, "versions": [...]}``), so the
        reader reads again from a new package. Drafts kept are checked again at signing.

        Returns
        -------
        dict
            ``{"subject", "pseudonym", "old", "new", "reads_withdrawn"}`` (timepoints as recorded).
        """
        now = _utc(now)
        with self._guard(as_, "correct timepoints", now, subject):
            self._require(as_, ["administrator"], "correct timepoints", now, subject)
            if not isinstance(reason, str) or not reason.strip():
                raise ReviewStateError("correcting timepoints needs a reason (--reason TEXT)")
            pseudonym = self._resolve(subject)
            tps = list(timepoints)
            problem = self._timepoints_problem(self._subject(pseudonym)["subject"], tps)
            if problem is not None:
                raise problem
            image_problem = self._images_problem(tps) if check_images else None
            if image_problem is not None:
                raise RecistValidationError(f"subject {pseudonym}{image_problem}")
            with self._locked():
                record = self._subject(pseudonym)
                name = f"subject {record['subject']!r} ({pseudonym})"
                new = [tp.to_dict() for tp in tps]
                if withdrawn_block(record) is not None:
                    raise ReviewStateError(f"{name} is withdrawn: its timepoints are not corrected")
                if self._adjudication(pseudonym) is not None:
                    raise ReviewStateError(f"{name} has been adjudicated: its reads are locked; withdraw the subject "
                                           "instead (`review withdraw-subject ... --withdraw-reads`)")
                if new == record["timepoints"]:
                    raise ReviewStateError(f"{name} already has these timepoints: nothing to correct")
                block = self._withdrawal(record, withdraw_reads, reason=reason, as_=as_, now=now)
                writes = {self._sdir(pseudonym) / "subject.json": {**record, "timepoints": new}}
                reads = []
                if withdraw_reads:
                    for reader in self.charter.readers:
                        read = self._load_read(pseudonym, reader)
                        if read is not None and read["versions"]:
                            archived = [*(read.get("withdrawn_reads") or []),
                                        {"withdrawn": block, "versions": read["versions"]}]
                            writes[self._read_path(pseudonym, reader)] = {
                                **read, "versions": [], "withdrawn_reads": archived}
                            reads.append(reader)
                self._commit(actor=as_, action="correct-timepoints", now=now, subject=pseudonym, writes=writes,
                             details={"reason": block["reason"], "old": {"timepoints": record["timepoints"]},
                                      "new": {"timepoints": new}, "reads_withdrawn": reads,
                                      "images_checked": check_images})
        return {"subject": record["subject"], "pseudonym": pseudonym, "old": record["timepoints"], "new": new,
                "reads_withdrawn": reads}
