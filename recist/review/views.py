"""What each person may see of a review project: ``show`` and ``status`` (every view is audited).

The access rules of docs/review.md ("Access rules"): a reader sees only their own reads, an adjudicator
Read A and Read B of a subject that needs adjudication, an administrator everything. Readers and
adjudicators name subjects by pseudonym only.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from recist.errors import ReviewStateError
from recist.review._common import utc as _utc

__all__ = ["ViewsMixin"]


class ViewsMixin:
    """``show`` and ``status`` (mixed into :class:`recist.review.workflow.ReviewProject`)."""

    def show(
        self, subject: str, *, as_: str, reader: str | None = None, version: int | None = None,
        now: _dt.datetime | None = None,
    ) -> dict[str, Any]:
        """What ``as_`` may see of ``subject`` (``reader``: whose read; a reader may ask only for their own).

        A reader: their own read (latest version, or ``version``) and nothing else. An adjudicator:
        Read A and Read B (case and assessment, no reader identity, no signature) of a subject that
        needs adjudication once both reads are signed. An administrator: the subject record, both reads
        with reader ids, and the adjudication. Readers and adjudicators name the subject by pseudonym.
        Every show is audited (who read what, when).
        """
        now = _utc(now)
        with self._guard(as_, "show reads", now, subject):
            result = self._show(subject, as_=as_, reader=reader, version=version, now=now)
            self._log_view(as_, "show", now, result["subject"] if isinstance(result.get("subject"), str)
                           else result["subject"]["pseudonym"], {"reader": reader, "version": version})
        return result

    def _show(self, subject: str, *, as_: str, reader: str | None, version: int | None,
              now: _dt.datetime) -> dict[str, Any]:
        role = self._require(as_, ["reader", "adjudicator", "administrator"], "show reads", now, subject)
        if role == "reader" and reader not in (None, as_):
            self._refuse(as_, "show", f"{as_!r} may see only their own reads, not {reader!r}'s", now, subject)
        if role == "adjudicator" and reader is not None:
            self._refuse(as_, "show", "an adjudicator sees Read A and Read B, never a named reader's read", now,
                         subject)
        pseudonym = self._resolve(subject, role)
        if role == "administrator" and reader is not None:
            if reader not in self.charter.readers:
                raise ReviewStateError(f"{reader!r} is not a reader of this project")
            return {"subject": pseudonym, **(self._load_read(pseudonym, reader) or {"reader": reader, "versions": []})}
        if role == "reader":
            read = self._load_read(pseudonym, as_)
            if read is None:
                return {"subject": pseudonym, "reader": as_, "versions": []}
            if version is not None:
                chosen = [v for v in read["versions"] if v["version"] == version]
                if not chosen:
                    raise ReviewStateError(f"{as_}'s read of {pseudonym} has no version {version}")
                return {**read, "versions": chosen}
            return read
        if role == "adjudicator":
            pair = self._pair(pseudonym)
            if not pair["triggers"]:
                why = "both reads are not signed yet" if pair["triggers"] is None else "the reads agree"
                self._refuse(as_, "show", f"{pseudonym} does not need adjudication ({why}): nothing to show", now,
                             pseudonym)
            return {
                "subject": pseudonym,
                "triggers": pair["triggers"],
                "reads": {ab: {"case": r["case"], "assessment": r["assessment"]} for ab, r in pair["reads"].items()},
                "adjudication": self._blind_adjudication(pseudonym),
            }
        record = self._subject(pseudonym)
        reads = {r: self._load_read(pseudonym, r) for r in self.charter.readers}
        return {"subject": record, "reads": reads, "adjudication": self._adjudication(pseudonym)}

    def _blind_adjudication(self, pseudonym: str) -> dict[str, Any] | None:
        adj = self._adjudication(pseudonym)
        return None if adj is None else {k: adj[k] for k in ("choice", "reason", "adjudicator", "time")}

    def status(self, *, as_: str, now: _dt.datetime | None = None) -> list[dict[str, Any]]:
        """One row per subject of what ``as_`` may know about progress (audited).

        Administrators: reads done and signed per reader, whether adjudication is needed and on which
        triggers, and whether it is done. Readers: their own read status per subject (pseudonyms only).
        Adjudicators: the subjects waiting for (or done by) adjudication.
        """
        now = _utc(now)
        with self._guard(as_, "see status", now):
            rows = self._status(as_, now)
            self._log_view(as_, "status", now, None, {"subjects": len(rows)})
        return rows

    def _status(self, as_: str, now: _dt.datetime) -> list[dict[str, Any]]:
        role = self._require(as_, ["administrator", "reader", "adjudicator"], "see status", now)
        rows = []
        for pseudonym in self._pseudonyms():
            withdrawn = self._subject(pseudonym).get("withdrawn")
            if withdrawn and role != "administrator":
                continue  # a withdrawn subject leaves the worklists
            if role == "reader":
                read = self._load_read(pseudonym, as_)
                last = read["versions"][-1] if read and read["versions"] else None
                rows.append({"subject": pseudonym, "status": last["status"] if last else "not started",
                             "version": last["version"] if last else None})
                continue
            pair = self._pair(pseudonym)
            adj = self._adjudication(pseudonym)
            if role == "adjudicator":
                if pair["triggers"]:
                    rows.append({"subject": pseudonym, "triggers": pair["triggers"],
                                 "adjudicated": adj is not None})
                continue
            reads = {}
            for reader in self.charter.readers:
                read = self._load_read(pseudonym, reader)
                last = read["versions"][-1] if read and read["versions"] else None
                reads[reader] = last["status"] if last else "not started"
            rows.append({
                "subject": self._subject(pseudonym)["subject"], "pseudonym": pseudonym, "reads": reads,
                "needs_adjudication": None if pair["triggers"] is None else bool(pair["triggers"]),
                "triggers": pair["triggers"] or [],
                "adjudicated": adj is not None,
                **({"withdrawn": withdrawn} if withdrawn else {}),
            })
        return rows
