"""Reads of a review project: saving a draft, signing it, amending a signed read.

A read is a case file (``recist.case/1``) with the reader id, a status (``draft`` then ``signed``) and,
once signed, a signature ``{"signer", "time", "meaning": "author of this read"}`` (in the spirit of
21 CFR 11.50: the printed name of the signer, the date and time, and the meaning of the signature).
A signed version is immutable: :meth:`ReadsMixin.amend` appends a new version, signed by its author
at once, with a mandatory reason; earlier versions stay in the file and can be shown. Saving a draft over
a signed read is refused (amend it instead). Once a subject has been adjudicated its reads are locked.

A read must fit the subject's reader package (:func:`recist.review.checks.read_mismatch`), and a target
diameter above the charter's plausible maximum needs the reader's confirmation.

At signing the read is assessed with ``recist.assess`` after the charter's protocol options replace the
case's (:meth:`recist.review.charter.ProtocolOptions.overrides`); the assessment is stored in the signed
version, so results are exactly what the reader signed.
"""

from __future__ import annotations

import copy
import datetime as _dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from recist.errors import RecistError, RecistValidationError, ReviewStateError
from recist.review._common import case_dict as _case_dict
from recist.review._common import sha as _sha
from recist.review._common import utc as _utc
from recist.review.checks import large_diameters, read_mismatch
from recist.review.esign import signature_block
from recist.review.store import read_json

__all__ = ["SIGNATURE_MEANING", "ReadsMixin"]

SIGNATURE_MEANING = "author of this read"


class ReadsMixin:
    """Saving, signing and amending reads (mixed into :class:`recist.review.workflow.ReviewProject`)."""

    def _read_path(self, pseudonym: str, reader: str) -> Path:
        return self._sdir(pseudonym) / "reads" / f"{reader}.json"

    def _replaced_draft_path(self, pseudonym: str, reader: str, version: Mapping[str, Any]) -> Path:
        """Where a draft replaced by a later save is kept: named by the hash of the draft (its case, saving
        time and version), so that no kept draft is ever overwritten."""
        return self._sdir(pseudonym) / "replaced_drafts" / reader / f"{_sha(dict(version))[:32]}.json"

    def _load_read(self, pseudonym: str, reader: str) -> dict[str, Any] | None:
        try:
            return read_json(self._read_path(pseudonym, reader), "read")
        except FileNotFoundError:
            return None

    def _adjudication(self, pseudonym: str) -> dict[str, Any] | None:
        try:
            return read_json(self._sdir(pseudonym) / "adjudication.json", "adjudication")
        except FileNotFoundError:
            return None

    def _reader_action(self, subject: str, as_: str, action: str, now: _dt.datetime) -> str:
        self._require(as_, ["reader"], action, now, subject)
        return self._resolve(subject, "reader")

    def _package_timepoints(self, pseudonym: str) -> list[dict[str, str]]:
        """The subject's timepoints as its reader packages show them: package label and shifted date."""
        record = self._subject(pseudonym)
        shift = _dt.timedelta(days=int(record["date_shift_days"]))
        return [{"label": self.charter.package_label(number, tp["label"]),
                 "date": (_dt.date.fromisoformat(tp["date"]) + shift).isoformat()}
                for number, tp in enumerate(record["timepoints"])]

    def _true_timepoints(self, pseudonym: str) -> list[dict[str, str]]:
        """The subject's timepoints as recorded: true label and calendar date."""
        return [{"label": tp["label"], "date": tp["date"]} for tp in self._subject(pseudonym)["timepoints"]]

    def _check_read(self, case: dict[str, Any], *, subject: str, expected: list[dict[str, str]], what: str,
                    confirm: bool, confirmed: Iterable[str] = ()) -> list[str]:
        """Refuse a read that does not fit the subject or has an implausible diameter not confirmed.

        Returns the large diameters the reader has confirmed (stored with the version).
        """
        problem = read_mismatch(case, expected, subject=subject, what=what)
        if problem:
            raise RecistValidationError(problem)
        limit = self.charter.plausibility.max_diameter_mm
        large = large_diameters(case, limit)
        unconfirmed = [d for d in large if d not in set(confirmed)]
        if unconfirmed and not confirm:
            more = f" (and {len(unconfirmed) - 1} more)" if len(unconfirmed) > 1 else ""
            raise RecistValidationError(
                f"{unconfirmed[0]}{more} is above the charter's plausible maximum of {limit:g} mm (a decimal slip?): "
                "correct it, or confirm the value is right (--confirm-large-diameters)"
            )
        return large

    def _check_central_read(self, case: dict[str, Any], pseudonym: str, *, confirm: bool,
                            confirmed: Iterable[str] = ()) -> list[str]:
        return self._check_read(case, subject=pseudonym, expected=self._package_timepoints(pseudonym),
                                what="the reader package", confirm=confirm, confirmed=confirmed)

    def save_read(self, subject: str, case: Any, *, as_: str, now: _dt.datetime | None = None,
                  confirm_large_diameters: bool = False) -> int:
        """Save (or replace) the reader's draft read of ``subject``; returns the version number.

        The read must fit the reader package of the subject (:func:`recist.review.checks.read_mismatch`),
        and a target diameter above the charter's plausible maximum needs ``confirm_large_diameters``.
        """
        now = _utc(now)
        with self._guard(as_, "save reads", now, subject):
            pseudonym = self._reader_action(subject, as_, "save reads", now)
            data = _case_dict(case)
            confirmed = self._check_central_read(data, pseudonym, confirm=confirm_large_diameters)
            with self._locked():
                read = self._load_read(pseudonym, as_) or {
                    "format": "recist.review.read/1", "subject": pseudonym, "reader": as_, "versions": [],
                }
                versions = read["versions"]
                if versions and versions[-1]["status"] == "signed":
                    raise ReviewStateError(
                        f"{as_}'s read of {pseudonym} is signed (version {versions[-1]['version']}): "
                        "change it with `review amend ... --reason TEXT`"
                    )
                writes: dict[Path, Any] = {}
                details: dict[str, Any] = {}
                if versions:  # the draft replaced is kept, and the audit entry refers to it (21 CFR 11.10(e))
                    replaced = versions.pop()
                    kept = self._replaced_draft_path(pseudonym, as_, replaced)
                    writes[kept] = {"format": "recist.review.replaced-draft/1", "subject": pseudonym, "reader": as_,
                                    "replaced_at": now.isoformat(), "version": replaced}
                    details["replaced_draft"] = {"file": self._rel(kept), "case_sha256": replaced.get("case_sha256"),
                                                 "saved_at": replaced.get("saved_at")}
                version = self._new_version(len(versions) + 1, data, now, None, confirmed)
                versions.append(version)
                writes[self._read_path(pseudonym, as_)] = read
                self._commit(actor=as_, action="save", now=now, subject=pseudonym, writes=writes,
                             details={"version": version["version"], **details})
        return version["version"]

    @staticmethod
    def _new_version(number: int, case: dict[str, Any], now: _dt.datetime, reason: str | None,
                     confirmed: list[str]) -> dict[str, Any]:
        version = {
            "version": number, "status": "draft", "case": case, "case_sha256": _sha(case),
            "saved_at": now.isoformat(), "reason": reason, "signature": None, "assessment": None,
        }
        if confirmed:
            version["confirmed_large_diameters"] = confirmed
        return version

    def _assess(self, case: dict[str, Any]) -> dict[str, Any]:
        """Assess a read with the charter's protocol options in place of the case's."""
        import recist

        data = copy.deepcopy(case)
        data["protocol"] = {**(data.get("protocol") or {}), **self.charter.protocol_overrides()}
        try:
            return recist.assess(recist.parse_case(data)).to_dict()
        except RecistError:
            raise
        except (ValueError, TypeError) as exc:
            raise RecistValidationError(f"the read cannot be assessed: {exc}") from None

    def _signed_version(self, version: dict[str, Any], as_: str, now: _dt.datetime, pseudonym: str) -> dict[str, Any]:
        version["assessment"] = self._assess(version["case"])
        version["status"] = "signed"
        version["signature"] = self._signature(version, as_, SIGNATURE_MEANING, now, pseudonym)
        return version

    def _signature(self, record: dict[str, Any], as_: str, meaning: str, now: _dt.datetime, pseudonym: str
                   ) -> dict[str, Any]:
        """The electronic signature of ``record`` (:func:`recist.review.esign.signature_block`)."""
        return signature_block(record, signer=as_, name=self.names.get(as_, as_), meaning=meaning,
                               subject=pseudonym, now=now, key=self.signer)

    def sign(self, subject: str, *, as_: str, now: _dt.datetime | None = None,
             confirm_large_diameters: bool = False) -> int:
        """Sign the reader's draft read of ``subject`` ("author of this read"); returns the version.

        The draft is checked again against the package (the subject's timepoints may have been corrected
        since it was saved).
        """
        now = _utc(now)
        with self._guard(as_, "sign reads", now, subject):
            pseudonym = self._reader_action(subject, as_, "sign reads", now)
            with self._locked():
                read = self._load_read(pseudonym, as_)
                if read is None or not read["versions"]:
                    raise ReviewStateError(f"{as_} has no read of {pseudonym} to sign: save one first")
                version = read["versions"][-1]
                if version["status"] == "signed":
                    raise ReviewStateError(
                        f"{as_}'s read of {pseudonym} is already signed (version {version['version']})")
                confirmed = self._check_central_read(
                    version["case"], pseudonym, confirm=confirm_large_diameters,
                    confirmed=version.get("confirmed_large_diameters") or ())
                if confirmed:
                    version["confirmed_large_diameters"] = confirmed
                self._signed_version(version, as_, now, pseudonym)
                self._commit(actor=as_, action="sign", now=now, subject=pseudonym,
                             writes={self._read_path(pseudonym, as_): read},
                             details={"version": version["version"], "case_sha256": version["case_sha256"]})
        return version["version"]

    def amend(self, subject: str, case: Any, *, as_: str, reason: str, now: _dt.datetime | None = None,
              confirm_large_diameters: bool = False) -> int:
        """Replace a signed read by a new signed version with a mandatory ``reason``; returns the version."""
        now = _utc(now)
        with self._guard(as_, "amend reads", now, subject):
            pseudonym = self._reader_action(subject, as_, "amend reads", now)
            if not isinstance(reason, str) or not reason.strip():
                raise ReviewStateError("an amendment needs a reason (--reason TEXT)")
            data = _case_dict(case)
            confirmed = self._check_central_read(data, pseudonym, confirm=confirm_large_diameters)
            with self._locked():
                read = self._load_read(pseudonym, as_)
                if read is None or not read["versions"] or read["versions"][-1]["status"] != "signed":
                    raise ReviewStateError(
                        f"{as_}'s read of {pseudonym} is not signed: change a draft with `review save`, then sign it"
                    )
                if self._adjudication(pseudonym) is not None:
                    raise ReviewStateError(f"{pseudonym} has been adjudicated: its reads are locked")
                version = self._new_version(len(read["versions"]) + 1, data, now, reason.strip(), confirmed)
                read["versions"].append(self._signed_version(version, as_, now, pseudonym))
                self._commit(actor=as_, action="amend", now=now, subject=pseudonym,
                             writes={self._read_path(pseudonym, as_): read},
                             details={"version": version["version"], "reason": version["reason"],
                                      "case_sha256": version["case_sha256"]})
        return version["version"]
