"""The blinded independent central review project: readers, signatures, adjudication, results.

A project is a folder of JSON files (docs/review.md shows the layout). Every change holds the project
lock, writes its files atomically and appends one entry to the hash-chained audit trail
(:mod:`recist.review.audit`) recording who did what and the SHA-256 of each file written. Every
operation is done as someone (``as_``): the charter says who is a reader, an adjudicator or an
administrator, and :mod:`recist.review.access` says what each may see. A refused operation raises
:class:`~recist.errors.BlindingError` and is logged.

Time is passed in (``now=``) so that tests are reproducible; the CLI passes the wall clock.

Reads, versions and signatures
------------------------------
A read is a case file (``recist.case/1``) with the reader id, a status (``draft`` then ``signed``) and,
once signed, a signature ``{"signer", "time", "meaning": "author of this read"}`` (in the spirit of
21 CFR 11.50: the printed name of the signer, the date and time, and the meaning of the signature).
A signed version is immutable: :meth:`ReviewProject.amend` appends a new version, signed by its author
at once, with a mandatory reason; earlier versions stay in the file and can be shown. Saving a draft over
a signed read is refused (amend it instead). Once a subject has been adjudicated its reads are locked.

At signing the read is assessed with ``recist.assess`` after the charter's protocol options replace the
case's (:meth:`recist.review.charter.ProtocolOptions.overrides`); the assessment is stored in the signed
version, so results are exactly what the reader signed.

Final result of a subject
-------------------------
When both reads are signed and agree on every charter trigger, the final result is Read A (the two are
equal on what the charter cares about; A/B is a per-subject keyed coin, so neither reader systematically
supplies the results). Otherwise the adjudicator's selected read is the final result.

Dates
-----
Readers see de-identified images whose dates are shifted by a per-subject number of days (see
:mod:`recist.review.deid`), so the dates in reads are shifted dates. Results convert the progression date
back to the calendar (``date - shift``); days since baseline are unchanged by the shift.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import datetime as _dt
import hashlib
import hmac
import io
import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recist._atomic import atomic_write_bytes, atomic_write_json, dumps_stable
from recist.errors import AuditError, BlindingError, RecistError, RecistValidationError, ReviewStateError
from recist.review.adjudication import ab_readers, fired_triggers, outcome_of
from recist.review.audit import AuditLog, Problem, file_sha256, project_public_key, verify_log
from recist.review.charter import Charter, load_charter, parse_charter
from recist.review.esign import check_record_signatures, signature_block
from recist.review.keys import PUBLIC_KEY_NAME, SigningKey, key_id
from recist.review.store import LOCK_NAME, project_lock, read_json, write_json

__all__ = ["SIGNATURE_MEANING", "ReviewProject", "SubjectTimepoint", "load_manifest"]

log = logging.getLogger(__name__)

SIGNATURE_MEANING = "author of this read"
PROJECT_FORMAT = "recist.review.project/1"
JOURNAL_NAME = "journal.json"
PENDING_SUFFIX = ".pending"
_SUBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,99}$")


@dataclass(frozen=True)
class SubjectTimepoint:
    """One imaging timepoint of a subject: its label, its (true) scan date and its DICOM folders."""

    label: str
    date: _dt.date
    folders: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "date": self.date.isoformat(), "folders": list(self.folders)}


def _utc(now: _dt.datetime | None) -> _dt.datetime:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return now if now.tzinfo else now.replace(tzinfo=_dt.timezone.utc)


def _case_dict(case: Any) -> dict[str, Any]:
    """A case (model object, dict or path) as a validated, canonical dict."""
    import recist

    if isinstance(case, (str, Path)):
        case = recist.read_case(case)
    elif isinstance(case, Mapping):
        case = recist.parse_case(dict(case))
    if not hasattr(case, "to_dict"):
        raise TypeError(f"expected a case (recist.model.Case, dict or path), got {type(case).__name__}")
    return case.to_dict()


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class ReviewProject:
    """A blinded independent central review project in folder ``root``.

    Create one with :meth:`init`, open an existing one with :meth:`open`.

    Examples
    --------
    >>> project = ReviewProject.init(tmp / "rev", charter, as_="PM1")          # doctest: +SKIP
    >>> project.add_subject("NET-001", timepoints, as_="PM1")                    # doctest: +SKIP
    >>> project.save_read("S-1A2B3C4D", case, as_="R1"); project.sign("S-1A2B3C4D", as_="R1")  # doctest: +SKIP
    """

    def __init__(
        self, root: Path, charter: Charter, secret: bytes, *, signer: SigningKey | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.charter = charter
        self._secret = secret
        self.signer = signer  # the review server's key: signs audit entries and electronic signatures
        self.names = dict(names or {})  # person id -> printed name shown in their signatures
        self.audit = AuditLog(root, signer=signer)
        self._lock = project_lock(root)  # one re-entrant lock object per project handle
        self._thread_lock = threading.RLock()  # threads of one process (the server) queue here, not on the file

    # ------------------------------------------------------------------ creation and opening
    @classmethod
    def init(
        cls, root: str | Path, charter: Charter | Mapping[str, Any] | str | Path, *, as_: str,
        now: _dt.datetime | None = None,
    ) -> ReviewProject:
        """Create a project in the empty (or absent) folder ``root`` from a charter.

        Only an administrator named in the charter may create the project. A random project secret
        (``secret.key``) keys the subject pseudonyms, the date shifts and the A/B labels.
        """
        root = Path(root)
        if isinstance(charter, (str, Path)):
            charter = load_charter(charter)
        elif not isinstance(charter, Charter):
            charter = parse_charter(dict(charter))
        if charter.role_of(as_) != "administrator":
            raise BlindingError(f"{as_!r} is not an administrator of the charter: only they may create the project")
        if root.exists() and any(p.name != LOCK_NAME for p in root.iterdir()):
            raise ReviewStateError(f"{root} is not empty: create a review project in a new folder")
        root.mkdir(parents=True, exist_ok=True)
        now = _utc(now)
        with project_lock(root):
            secret = secrets.token_bytes(32)
            atomic_write_bytes(root / "secret.key", secret.hex().encode())
            (root / "secret.key").chmod(0o600)
            files = {
                "secret.key": file_sha256(root / "secret.key"),
                "charter.json": write_json(root / "charter.json", charter.to_dict()),
                "project.json": write_json(
                    root / "project.json", {"format": PROJECT_FORMAT, "created": now.isoformat(), "trial": charter.trial}
                ),
            }
            AuditLog(root).append(actor=as_, action="init", now=now, details={"trial": charter.trial}, files=files)
        return cls(root, charter, secret)

    @classmethod
    def open(
        cls, root: str | Path, *, signer: SigningKey | None = None, names: Mapping[str, str] | None = None
    ) -> ReviewProject:
        """Open the project in ``root`` (raises ReviewStateError when it is not one).

        ``signer`` is the review server's key (required to change a served project) and ``names`` the
        printed names of people (their account names) shown in the signatures they make.
        """
        root = Path(root)
        if not (root / "project.json").is_file():
            raise ReviewStateError(f"{root} is not a review project (no project.json): create one with `review init`")
        read_json(root / "project.json", "project")
        charter = load_charter(root / "charter.json")
        try:
            secret = bytes.fromhex((root / "secret.key").read_text().strip())
        except (OSError, ValueError):
            raise ReviewStateError(f"{root / 'secret.key'} is missing or damaged; run `recist review verify`") from None
        return cls(root, charter, secret, signer=signer, names=names)

    def install_server_key(self, *, as_: str, now: _dt.datetime | None = None) -> str:
        """Put the public key of :attr:`signer` in the project; from now on every change must be signed.

        Administrators only; returns the key id. Installing the key that is already there does nothing.
        """
        now = _utc(now)
        self._require(as_, ["administrator"], "install the server key", now)
        if self.signer is None:
            raise ReviewStateError("no server key to install: open the project with the server's key")
        with self._locked():
            current = project_public_key(self.root)
            if current is not None:
                if key_id(current) != self.signer.key_id:
                    raise ReviewStateError(
                        f"{self.root / PUBLIC_KEY_NAME} holds key {key_id(current)}, not this server's key "
                        f"{self.signer.key_id}: serve the project with the server that signed it"
                    )
                return self.signer.key_id
            pem = self.signer.public_pem()
            self._commit_raw(actor=as_, action="server-key", now=now, subject=None,
                             raw={self.root / PUBLIC_KEY_NAME: pem}, details={"key": self.signer.key_id})
        return self.signer.key_id

    def log_event(
        self, *, actor: str, action: str, now: _dt.datetime | None = None, subject: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Append an audit entry for an event that writes no project file (a login, an account change,
        a signing password refused); returns the entry. ``details`` must never hold a secret."""
        with self._locked():
            return self.audit.append(actor=actor, action=action, now=_utc(now), subject=subject, details=details)

    # ------------------------------------------------------------------ helpers
    def _keyed(self, purpose: str, subject: str) -> bytes:
        return hmac.new(self._secret, f"{purpose}:{subject}".encode(), hashlib.sha256).digest()

    def pseudonym(self, subject: str) -> str:
        """The subject's pseudonym (``S-`` and 8 hex digits keyed by the project secret)."""
        return "S-" + self._keyed("pseudonym", subject).hex()[:8].upper()

    def date_shift_days(self, subject: str) -> int:
        """Days added to every date of ``subject`` in reader packages (-365 to -4014: one per subject)."""
        return -(365 + int.from_bytes(self._keyed("dates", subject)[:4], "big") % 3650)

    def _sdir(self, pseudonym: str) -> Path:
        return self.root / "subjects" / pseudonym

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _resolve(self, subject: str) -> str:
        """The pseudonym for a pseudonym or a subject id; ReviewStateError for an unknown subject."""
        for candidate in (subject, self.pseudonym(subject)):
            if re.fullmatch(r"S-[0-9A-F]{8}", candidate) and (self._sdir(candidate) / "subject.json").is_file():
                return candidate
        raise ReviewStateError(f"no subject {subject!r} in {self.root}: add it with `review add-subject`")

    def _subject(self, pseudonym: str) -> dict[str, Any]:
        return read_json(self._sdir(pseudonym) / "subject.json", "subject")

    def _pseudonyms(self) -> list[str]:
        base = self.root / "subjects"
        return sorted(p.name for p in base.iterdir() if (p / "subject.json").is_file()) if base.is_dir() else []

    def _refuse(self, actor: str, action: str, message: str, now: _dt.datetime, subject: str | None = None) -> None:
        """Log a refused operation and raise BlindingError."""
        with self._locked():
            self.audit.append(
                actor=actor, action="refused", now=now, subject=subject, details={"attempted": action, "why": message}
            )
        raise BlindingError(message)

    def _require(self, actor: str, roles: Iterable[str], action: str, now: _dt.datetime, subject: str | None = None) -> str:
        role = self.charter.role_of(actor)
        roles = tuple(roles)
        if role not in roles:
            who = f"a {role}" if role else "not named in the charter"
            self._refuse(actor, action, f"{actor!r} is {who}: only {' or '.join(roles)}s may {action}", now, subject)
        return role  # type: ignore[return-value]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the project lock and finish (or undo) a change a killed process left half done."""
        with self._thread_lock, self._lock:
            self._recover()
            yield

    def _recover(self) -> None:
        """Roll an interrupted :meth:`_commit` forward (its audit entry was written) or back (it was not)."""
        for stray in self.root.glob(".*.tmp"):  # a temporary file of a write killed before its rename
            stray.unlink()
        journal_path = self.root / JOURNAL_NAME
        if not journal_path.exists():
            return
        try:
            journal = json.loads(journal_path.read_text(encoding="utf-8"))
            seq, files = int(journal["seq"]), dict(journal["files"])
        except (OSError, ValueError, KeyError, TypeError):
            raise ReviewStateError(f"{journal_path} is damaged: run `recist review verify` and restore it") from None
        forward = False
        if self.audit.head_seq() >= seq:
            logged = next((e for e in self.audit.entries() if e.get("seq") == seq), None)
            forward = logged is not None and logged.get("files") == files
        for rel in files:
            pending = self.root / (rel + PENDING_SUFFIX)
            for stray in pending.parent.glob(f".{pending.name}.*.tmp"):
                stray.unlink()
            if pending.exists():
                if forward:
                    os.replace(pending, self.root / rel)
                else:
                    pending.unlink()
        log.warning("recovered an interrupted change (entry %d): %s", seq, "completed" if forward else "undone")
        journal_path.unlink()

    def _commit(
        self, *, actor: str, action: str, now: _dt.datetime, subject: str | None, writes: Mapping[Path, dict[str, Any]],
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Write files and log them as one change (the caller holds the lock).

        Crash-safe in three steps: a journal names the files and their new hashes with the sequence
        number the audit entry will get, and the new contents go to ``<file>.pending``; the entry is
        appended; the pending files are
        renamed over the old ones and the journal removed. A process killed at any point leaves the old
        files intact, and the next change (or verify) completes the change when its entry was logged
        and discards it when not (:meth:`_recover`).
        """
        raw = {path: dumps_stable(data).encode("utf-8") for path, data in writes.items()}
        return self._commit_raw(actor=actor, action=action, now=now, subject=subject, raw=raw, details=details)

    def _commit_raw(
        self, *, actor: str, action: str, now: _dt.datetime, subject: str | None, raw: Mapping[Path, bytes],
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """:meth:`_commit` of files given as bytes."""
        self.audit.check_writable()  # before anything is written
        files = {self._rel(path): hashlib.sha256(data).hexdigest() for path, data in raw.items()}
        seq = self.audit.head_seq() + 1
        atomic_write_json(self.root / JOURNAL_NAME, {"seq": seq, "files": files})
        for path, data in raw.items():
            atomic_write_bytes(Path(str(path) + PENDING_SUFFIX), data)
        entry = self.audit.append(actor=actor, action=action, now=now, subject=subject, details=details, files=files)
        for rel in files:
            os.replace(self.root / (rel + PENDING_SUFFIX), self.root / rel)
        (self.root / JOURNAL_NAME).unlink()
        return entry

    # ------------------------------------------------------------------ subjects
    def add_subject(
        self, subject: str, timepoints: Iterable[SubjectTimepoint], *, as_: str, now: _dt.datetime | None = None
    ) -> str:
        """Add a subject with its timepoints (baseline first, dates increasing); returns its pseudonym."""
        now = _utc(now)
        self._require(as_, ["administrator"], "add subjects", now)
        if not isinstance(subject, str) or not _SUBJECT_ID.match(subject):
            raise RecistValidationError(
                f"subject id {subject!r} must be 1-100 letters, digits, spaces, '_', '.' or '-'", field="subject"
            )
        tps = list(timepoints)
        if not tps:
            raise RecistValidationError(f"subject {subject!r} has no timepoint", field="timepoints")
        labels = [tp.label for tp in tps]
        if len(set(labels)) != len(labels):
            raise RecistValidationError(f"subject {subject!r} lists a timepoint label twice: {labels}")
        for before, after in zip(tps, tps[1:]):
            if after.date <= before.date:
                raise RecistValidationError(
                    f"timepoint dates must increase (baseline first): {after.label} {after.date} is not after "
                    f"{before.label} {before.date}",
                    timepoint=after.label,
                )
        pseudonym = self.pseudonym(subject)
        with self._locked():
            path = self._sdir(pseudonym) / "subject.json"
            if path.exists():
                existing = read_json(path, "subject")["subject"]
                raise ReviewStateError(
                    f"subject {subject!r} is already in the project"
                    if existing == subject
                    else f"pseudonym collision between {subject!r} and {existing!r}: rename one subject"
                )
            data = {
                "format": "recist.review.subject/1",
                "subject": subject,
                "pseudonym": pseudonym,
                "date_shift_days": self.date_shift_days(subject),
                "timepoints": [tp.to_dict() for tp in tps],
            }
            self._commit(actor=as_, action="add", now=now, subject=subject, writes={path: data},
                         details={"timepoints": len(tps)})
        return pseudonym

    def add_manifest(self, path: str | Path, *, as_: str, now: _dt.datetime | None = None) -> list[str]:
        """Add every subject of a manifest CSV (see :func:`load_manifest`); returns the pseudonyms."""
        return [self.add_subject(s, tps, as_=as_, now=now) for s, tps in load_manifest(path).items()]

    # ------------------------------------------------------------------ reader packages
    def package(self, reader: str, out: str | Path, *, as_: str, now: _dt.datetime | None = None) -> dict[str, Any]:
        """Write what ``reader`` may see into the new folder ``out``: de-identified series and a manifest.

        Every subject's series are de-identified (:mod:`recist.review.deid`) with the subject's pseudonym
        and date shift; ``out/manifest.json`` lists per pseudonym the timepoints (label, shifted date,
        series). Nothing else goes in: no subject id, no arm, no site read, no read of anyone. An
        administrator, or the person themself, may package. ``reader`` may also be an adjudicator: the
        adjudicator's package holds the same de-identified images (so Read A's and Read B's lines can be
        shown on them) and, like every package, no read; the reads come through :meth:`show` once a
        subject needs adjudication.
        """
        from recist.review.deid import (
            DEIDENTIFICATION_METHOD,
            PROFILE_CODES,
            TABLE_EDITION,
            deidentify_folder,
        )

        now = _utc(now)
        role = self._require(as_, ["administrator", "reader", "adjudicator"], "package reads", now)
        if reader not in self.charter.readers and reader not in self.charter.adjudicators:
            raise ReviewStateError(
                f"{reader!r} is not a reader or adjudicator of this project "
                f"(readers: {self.charter.readers}, adjudicators: {self.charter.adjudicators})"
            )
        if role != "administrator" and reader != as_:
            self._refuse(as_, "package", f"{as_!r} may package only their own reading material, not {reader!r}'s", now)
        out = Path(out)
        if out.exists() and any(out.iterdir()):
            raise ReviewStateError(f"{out} is not empty: write a reader package into a new folder")
        subjects = []
        for pseudonym in self._pseudonyms():
            record = self._subject(pseudonym)
            shift = record["date_shift_days"]
            timepoints = []
            for number, tp in enumerate(record["timepoints"]):
                slug = re.sub(r"[^A-Za-z0-9]+", "-", tp["label"]).strip("-").lower() or "timepoint"
                folder = Path(pseudonym) / f"{number:02d}-{slug}"
                series = []
                for source in tp["folders"]:
                    series.extend(deidentify_folder(source, out / folder, secret=self._secret, shift_days=shift,
                                                    pseudonym=pseudonym))
                shifted = _dt.date.fromisoformat(tp["date"]) + _dt.timedelta(days=shift)
                timepoints.append({"label": tp["label"], "date": shifted.isoformat(), "folder": folder.as_posix(),
                                   "series": series})
            subjects.append({"subject": pseudonym, "timepoints": timepoints})
        manifest = {
            "format": "recist.review.package/1", "trial": self.charter.trial, "reader": reader,
            "created": now.isoformat(), "subjects": subjects,
            "deidentification": {"method": list(DEIDENTIFICATION_METHOD), "table": f"PS3.15 Table E.1-1 ({TABLE_EDITION})",
                                 "codes": [{"scheme": "DCM", "value": v, "meaning": m} for v, m in PROFILE_CODES]},
        }
        digest = write_json(out / "manifest.json", manifest)
        with self._locked():
            self.audit.append(actor=as_, action="package", now=now,
                              details={"reader": reader, "out": str(out.resolve()), "manifest_sha256": digest,
                                       "subjects": len(subjects)})
        return manifest

    # ------------------------------------------------------------------ reads
    def _read_path(self, pseudonym: str, reader: str) -> Path:
        return self._sdir(pseudonym) / "reads" / f"{reader}.json"

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
        return self._resolve(subject)

    def _check_case_subject(self, case: dict[str, Any], pseudonym: str) -> None:
        if case.get("subject") != pseudonym:
            raise RecistValidationError(
                f"the case is for subject {case.get('subject')!r}, but this read is of {pseudonym!r}: "
                "a read names the subject by the pseudonym in the reader package",
                field="subject",
            )

    def save_read(self, subject: str, case: Any, *, as_: str, now: _dt.datetime | None = None) -> int:
        """Save (or replace) the reader's draft read of ``subject``; returns the version number."""
        now = _utc(now)
        pseudonym = self._reader_action(subject, as_, "save reads", now)
        data = _case_dict(case)
        self._check_case_subject(data, pseudonym)
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
            if versions:
                versions.pop()
            version = {
                "version": len(versions) + 1, "status": "draft", "case": data, "case_sha256": _sha(data),
                "saved_at": now.isoformat(), "reason": None, "signature": None, "assessment": None,
            }
            versions.append(version)
            self._commit(actor=as_, action="save", now=now, subject=pseudonym,
                         writes={self._read_path(pseudonym, as_): read}, details={"version": version["version"]})
        return version["version"]

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

    def sign(self, subject: str, *, as_: str, now: _dt.datetime | None = None) -> int:
        """Sign the reader's draft read of ``subject`` ("author of this read"); returns the version."""
        now = _utc(now)
        pseudonym = self._reader_action(subject, as_, "sign reads", now)
        with self._locked():
            read = self._load_read(pseudonym, as_)
            if read is None or not read["versions"]:
                raise ReviewStateError(f"{as_} has no read of {pseudonym} to sign: save one first")
            version = read["versions"][-1]
            if version["status"] == "signed":
                raise ReviewStateError(f"{as_}'s read of {pseudonym} is already signed (version {version['version']})")
            self._signed_version(version, as_, now, pseudonym)
            self._commit(actor=as_, action="sign", now=now, subject=pseudonym,
                         writes={self._read_path(pseudonym, as_): read},
                         details={"version": version["version"], "case_sha256": version["case_sha256"]})
        return version["version"]

    def amend(self, subject: str, case: Any, *, as_: str, reason: str, now: _dt.datetime | None = None) -> int:
        """Replace a signed read by a new signed version with a mandatory ``reason``; returns the version."""
        now = _utc(now)
        pseudonym = self._reader_action(subject, as_, "amend reads", now)
        if not isinstance(reason, str) or not reason.strip():
            raise ReviewStateError("an amendment needs a reason (--reason TEXT)")
        data = _case_dict(case)
        self._check_case_subject(data, pseudonym)
        with self._locked():
            read = self._load_read(pseudonym, as_)
            if read is None or not read["versions"] or read["versions"][-1]["status"] != "signed":
                raise ReviewStateError(
                    f"{as_}'s read of {pseudonym} is not signed: change a draft with `review save`, then sign it"
                )
            if self._adjudication(pseudonym) is not None:
                raise ReviewStateError(f"{pseudonym} has been adjudicated: its reads are locked")
            version = {
                "version": len(read["versions"]) + 1, "status": "draft", "case": data, "case_sha256": _sha(data),
                "saved_at": now.isoformat(), "reason": reason.strip(), "signature": None, "assessment": None,
            }
            read["versions"].append(self._signed_version(version, as_, now, pseudonym))
            self._commit(actor=as_, action="amend", now=now, subject=pseudonym,
                         writes={self._read_path(pseudonym, as_): read},
                         details={"version": version["version"], "reason": version["reason"],
                                  "case_sha256": version["case_sha256"]})
        return version["version"]

    # ------------------------------------------------------------------ views
    def _signed(self, pseudonym: str, reader: str) -> dict[str, Any] | None:
        read = self._load_read(pseudonym, reader)
        if read is None:
            return None
        signed = [v for v in read["versions"] if v["status"] == "signed"]
        return signed[-1] if signed else None

    def _pair(self, pseudonym: str) -> dict[str, Any]:
        """The A/B reads of a subject, their outcomes and the fired triggers (None until both signed)."""
        labels = ab_readers(self._secret, pseudonym, self.charter.readers)
        reads = {ab: self._signed(pseudonym, reader) for ab, reader in labels.items()}
        triggers = None
        if all(reads.values()):
            triggers = fired_triggers(
                outcome_of(reads["A"]["assessment"]), outcome_of(reads["B"]["assessment"]),
                triggers=self.charter.adjudication.triggers,
                tolerance_days=self.charter.adjudication.progression_date_tolerance_days,
            )
        return {"labels": labels, "reads": reads, "triggers": triggers}

    def show(
        self, subject: str, *, as_: str, reader: str | None = None, version: int | None = None,
        now: _dt.datetime | None = None,
    ) -> dict[str, Any]:
        """What ``as_`` may see of ``subject`` (``reader``: whose read; a reader may ask only for their own).

        A reader: their own read (latest version, or ``version``) and nothing else. An adjudicator:
        Read A and Read B (case and assessment, no reader identity, no signature) of a subject that
        needs adjudication once both reads are signed. An administrator: the subject record, both reads
        with reader ids, and the adjudication.
        """
        now = _utc(now)
        role = self._require(as_, ["reader", "adjudicator", "administrator"], "show reads", now, subject)
        if role == "reader" and reader not in (None, as_):
            self._refuse(as_, "show", f"{as_!r} may see only their own reads, not {reader!r}'s", now, subject)
        if role == "adjudicator" and reader is not None:
            self._refuse(as_, "show", "an adjudicator sees Read A and Read B, never a named reader's read", now,
                         subject)
        pseudonym = self._resolve(subject)
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
        """One row per subject of what ``as_`` may know about progress.

        Administrators: reads done and signed per reader, whether adjudication is needed and on which
        triggers, and whether it is done. Readers: their own read status per subject (pseudonyms).
        Adjudicators: the subjects waiting for (or done by) adjudication.
        """
        now = _utc(now)
        role = self._require(as_, ["administrator", "reader", "adjudicator"], "see status", now)
        rows = []
        for pseudonym in self._pseudonyms():
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
            })
        return rows

    # ------------------------------------------------------------------ adjudication and results
    def adjudicate(
        self, subject: str, *, choose: str, reason: str, as_: str, now: _dt.datetime | None = None
    ) -> dict[str, Any]:
        """Select Read ``"A"`` or ``"B"`` of a subject that needs adjudication, with a written reason."""
        now = _utc(now)
        self._require(as_, ["adjudicator"], "adjudicate", now, subject)
        pseudonym = self._resolve(subject)
        if choose not in ("A", "B"):
            raise ReviewStateError(f"choose 'A' or 'B', not {choose!r}")
        if not isinstance(reason, str) or not reason.strip():
            raise ReviewStateError("an adjudication needs a written reason (--reason TEXT)")
        with self._locked():
            pair = self._pair(pseudonym)
            if not pair["triggers"]:
                why = "both reads are not signed yet" if pair["triggers"] is None else "the signed reads agree"
                self._refuse(as_, "adjudicate", f"{pseudonym} does not need adjudication ({why})", now, pseudonym)
            if self._adjudication(pseudonym) is not None:
                raise ReviewStateError(f"{pseudonym} is already adjudicated")
            chosen = pair["reads"][choose]
            data = {
                "format": "recist.review.adjudication/1", "subject": pseudonym, "choice": choose,
                "reason": reason.strip(), "adjudicator": as_, "time": now.isoformat(), "triggers": pair["triggers"],
                "reads": {ab: {"reader": pair["labels"][ab], "version": r["version"], "case_sha256": r["case_sha256"]}
                          for ab, r in pair["reads"].items()},
            }
            data["signature"] = self._signature(data, as_, "adjudicator's selection", now, pseudonym)
            self._commit(actor=as_, action="adjudicate", now=now, subject=pseudonym,
                         writes={self._sdir(pseudonym) / "adjudication.json": data},
                         details={"choice": choose, "reason": data["reason"], "chosen_version": chosen["version"]})
        return self._blind_adjudication(pseudonym) or {}

    def _final(self, pseudonym: str) -> dict[str, Any]:
        """The final result row of one subject (administrator view)."""
        record = self._subject(pseudonym)
        pair = self._pair(pseudonym)
        adj = self._adjudication(pseudonym)
        row: dict[str, Any] = {
            "subject": record["subject"], "pseudonym": pseudonym, "status": "awaiting reads", "source": None,
            "read": None, "reader": None, "best_overall_response": None, "progression_date": None,
            "progression_day": None, "progression_label": None, "progression_trigger": None,
            "triggers": pair["triggers"] or [], "adjudicator": None, "adjudication_reason": None,
        }
        if pair["triggers"] is None:
            return row
        if pair["triggers"] and adj is None:
            return {**row, "status": "awaiting adjudication"}
        choice = adj["choice"] if pair["triggers"] else "A"
        if adj is not None:
            row.update(adjudicator=adj["adjudicator"], adjudication_reason=adj["reason"])
        outcome = outcome_of(pair["reads"][choice]["assessment"])
        prog = outcome["progression"] or {}
        row.update(
            status="final", source="adjudication" if pair["triggers"] else "agreement", read=choice,
            reader=pair["labels"][choice], best_overall_response=outcome["best_overall_response"],
            progression_date=self._true_date(prog.get("date"), record["date_shift_days"]),
            progression_day=prog.get("day"), progression_label=prog.get("label"),
            progression_trigger=prog.get("trigger"),
        )
        return row

    @staticmethod
    def _true_date(shifted: str | None, shift_days: int) -> str | None:
        if not shifted:
            return None
        return (_dt.date.fromisoformat(str(shifted)) - _dt.timedelta(days=shift_days)).isoformat()

    def results(self, *, as_: str, now: _dt.datetime | None = None) -> list[dict[str, Any]]:
        """Each subject's final result (administrators only; logged as an export)."""
        now = _utc(now)
        self._require(as_, ["administrator"], "export results", now)
        rows = [self._final(p) for p in self._pseudonyms()]
        with self._locked():
            self.audit.append(actor=as_, action="export", now=now, details={"what": "results", "subjects": len(rows),
                                                                            "sha256": _sha(rows)})
        return rows

    @staticmethod
    def results_csv(rows: list[dict[str, Any]]) -> str:
        """Result rows as CSV text (one row per subject; triggers joined by ';')."""
        out = io.StringIO()
        columns = list(rows[0]) if rows else ["subject"]
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ";".join(v) if isinstance(v, list) else ("" if v is None else v) for k, v in row.items()})
        return out.getvalue()

    # ------------------------------------------------------------------ site reads and the report
    def import_site_read(self, subject: str, case: Any, *, as_: str, now: _dt.datetime | None = None) -> None:
        """Store the investigator (site) read of ``subject`` apart from the central reads.

        Site reads are never shown to readers or adjudicators; they feed the EDR/LDR of the report. Their
        dates are true calendar dates, and they are assessed with the charter's protocol options.
        """
        now = _utc(now)
        self._require(as_, ["administrator"], "import site reads", now, subject)
        pseudonym = self._resolve(subject)
        data = _case_dict(case)
        record = {"format": "recist.review.site_read/1", "subject": self._subject(pseudonym)["subject"],
                  "case": data, "assessment": self._assess(data), "imported_at": now.isoformat()}
        with self._locked():
            self._commit(actor=as_, action="import-site-read", now=now, subject=pseudonym,
                         writes={self.root / "site_reads" / f"{pseudonym}.json": record})

    def report(self, *, as_: str, now: _dt.datetime | None = None) -> dict[str, Any]:
        """The reader-agreement report (:func:`recist.review.agreement.agreement_report`); administrators only."""
        from recist.review.agreement import agreement_report

        now = _utc(now)
        self._require(as_, ["administrator"], "see the agreement report", now)
        subjects = []
        for pseudonym in self._pseudonyms():
            pair = self._pair(pseudonym)
            if pair["triggers"] is None:
                continue
            record = self._subject(pseudonym)
            adj = self._adjudication(pseudonym)
            final = self._final(pseudonym)
            site = None
            site_path = self.root / "site_reads" / f"{pseudonym}.json"
            if site_path.is_file():
                site = outcome_of(read_json(site_path, "site_read")["assessment"])
            outcomes = {}
            for ab in ("A", "B"):
                outcome = outcome_of(pair["reads"][ab]["assessment"])
                if outcome["progression"]:
                    outcome["progression"]["date"] = self._true_date(
                        outcome["progression"].get("date"), record["date_shift_days"]
                    )
                outcomes[pair["labels"][ab]] = outcome
            subjects.append({
                "subject": record["subject"], "reads": outcomes, "triggers": pair["triggers"],
                "chosen_reader": pair["labels"][adj["choice"]] if adj else None,
                "final": final if final["status"] == "final" else None, "site": site,
            })
        result = agreement_report(
            subjects, readers=self.charter.readers, triggers=[t.value for t in self.charter.adjudication.triggers],
            visit_interval_days=self.charter.visit_schedule.interval_days,
            same_date_window_days=self.charter.visit_schedule.window_days,
        )
        with self._locked():
            self.audit.append(actor=as_, action="export", now=now, details={"what": "report", "sha256": _sha(result)})
        return result

    # ------------------------------------------------------------------ integrity
    def verify(self, *, trusted_key: Ed25519PublicKey | None = None) -> list[Problem]:
        """Every problem with the audit trail, the files it records and the signatures (empty: all intact).

        Holds the project lock, and first completes or undoes a change a killed process left half done.
        ``trusted_key`` is the review server's public key from outside the project (see
        :func:`recist.review.audit.verify_log`).
        """
        with self._locked():
            problems = verify_log(self.root, ignore=(LOCK_NAME,), trusted_key=trusted_key)
            try:
                public = trusted_key or project_public_key(self.root)
            except AuditError:
                public = None  # already reported by verify_log
            return problems + check_record_signatures(self.root, public, required=self._signed_from_start())

    def _signed_from_start(self) -> bool:
        """True when the server key was installed before anything was signed (every signature must carry it)."""
        for entry in self.audit.entries():
            if entry.get("action") == "server-key":
                return True
            if entry.get("action") in ("sign", "amend", "adjudicate"):
                return False
        return False


def load_manifest(path: str | Path) -> dict[str, list[SubjectTimepoint]]:
    """Read a manifest CSV of subjects and series: columns ``subject,timepoint,date,folder``.

    One row per DICOM folder; several rows with the same subject and timepoint add several series.
    Timepoints are ordered by date (the earliest is the baseline). Folders are made absolute relative
    to the manifest's folder.

    Raises
    ------
    RecistValidationError
        Naming the file, row and column of a missing column, empty value or bad date.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecistValidationError(f"cannot read the manifest: {exc}", source=str(path)) from None
    reader = csv.DictReader(io.StringIO(text))
    required = ("subject", "timepoint", "date", "folder")
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise RecistValidationError(
            f"missing column(s) {', '.join(missing)}; the header must be {','.join(required)}", source=str(path)
        )
    found: dict[str, dict[str, tuple[_dt.date, list[str]]]] = {}
    for row_no, row in enumerate(reader, start=2):
        values = {c: (row.get(c) or "").strip() for c in required}
        for column, value in values.items():
            if not value:
                raise RecistValidationError(f"row {row_no}: empty {column!r}", source=str(path), field=column)
        try:
            date = _dt.date.fromisoformat(values["date"])
        except ValueError:
            raise RecistValidationError(
                f"row {row_no}: date {values['date']!r} is not an ISO date (YYYY-MM-DD)", source=str(path), field="date"
            ) from None
        folder = Path(values["folder"])
        folder = folder if folder.is_absolute() else (path.parent / folder)
        tps = found.setdefault(values["subject"], {})
        if values["timepoint"] in tps and tps[values["timepoint"]][0] != date:
            raise RecistValidationError(
                f"row {row_no}: timepoint {values['timepoint']!r} of {values['subject']!r} has two dates",
                source=str(path), field="date",
            )
        tps.setdefault(values["timepoint"], (date, []))[1].append(str(folder))
    return {
        subject: [SubjectTimepoint(label, date, tuple(folders)) for label, (date, folders) in
                  sorted(tps.items(), key=lambda item: item[1][0])]
        for subject, tps in found.items()
    }
