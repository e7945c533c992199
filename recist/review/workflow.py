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
import datetime as _dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recist._atomic import (
    atomic_write_bytes,
    atomic_write_json,
    dumps_stable,
    make_private_folder,
    register_private_tree,
)
from recist.errors import AuditError, BlindingError, RecistError, RecistValidationError, ReviewStateError
from recist.review._common import case_dict as _case_dict
from recist.review._common import sha as _sha
from recist.review._common import utc as _utc
from recist.review.adjudication import ab_readers, fired_triggers, outcome_of
from recist.review.audit import AuditLog, Problem, file_sha256, project_public_key
from recist.review.charter import Charter, load_charter, parse_charter
from recist.review.checks import large_diameters, read_mismatch
from recist.review.corrections import CorrectionsMixin, withdrawn_block
from recist.review.esign import signature_block
from recist.review.integrity import verify_project
from recist.review.keys import PUBLIC_KEY_NAME, SigningKey, key_id
from recist.review.results import ResultsMixin
from recist.review.store import LOCK_NAME, project_lock, read_json, write_json
from recist.review.subjects import SubjectTimepoint, calendar_case, load_manifest, load_manifest_rows
from recist.review.views import ViewsMixin

__all__ = ["SIGNATURE_MEANING", "ReviewProject", "SubjectTimepoint", "load_manifest", "calendar_case",
           "verify_project"]

# SubjectTimepoint, load_manifest and calendar_case live in recist.review.subjects (imported above)

log = logging.getLogger(__name__)

SIGNATURE_MEANING = "author of this read"
PROJECT_FORMAT = "recist.review.project/1"
JOURNAL_NAME = "journal.json"
PENDING_SUFFIX = ".pending"
_SUBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,99}$")
PSEUDONYM = re.compile(r"S-[0-9A-F]{8}")


class ReviewProject(ViewsMixin, ResultsMixin, CorrectionsMixin):
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
        register_private_tree(root)  # what is written under it: 0600 / 0700 (recist._atomic)
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
        now: _dt.datetime | None = None, simulation_secret: bytes | None = None,
    ) -> ReviewProject:
        """Create a project in the empty (or absent) folder ``root`` from a charter.

        Only an administrator named in the charter may create the project. A random project secret
        (``secret.key``) keys the subject pseudonyms, the date shifts and the A/B labels.

        ``simulation_secret`` (32 bytes or more) replaces the random secret, for simulated reviews only
        (:mod:`recist.synthetic.review_sim` derives it from the simulation's seed so that a seed gives the
        same project byte for byte). A project made so is marked ``"simulated": true`` in
        ``project.json`` and in its first audit entry: a known secret un-blinds every pseudonym and date
        shift, so a real project must never be made with one (the CLI's ``review init`` cannot).
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
        make_private_folder(root)
        now = _utc(now)
        if simulation_secret is not None and (not isinstance(simulation_secret, bytes) or len(simulation_secret) < 32):
            raise ReviewStateError("a simulation secret must be at least 32 bytes")
        with project_lock(root):
            secret = simulation_secret if simulation_secret is not None else secrets.token_bytes(32)
            atomic_write_bytes(root / "secret.key", secret.hex().encode())
            (root / "secret.key").chmod(0o600)
            info: dict[str, Any] = {"format": PROJECT_FORMAT, "created": now.isoformat(), "trial": charter.trial}
            details: dict[str, Any] = {"trial": charter.trial}
            if simulation_secret is not None:
                info["simulated"] = details["simulated"] = True
            files = {
                "secret.key": file_sha256(root / "secret.key"),
                "charter.json": write_json(root / "charter.json", charter.to_dict()),
                "project.json": write_json(root / "project.json", info),
            }
            AuditLog(root).append(actor=as_, action="init", now=now, details=details, files=files)
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

    def subject_pseudonyms(self) -> list[str]:
        """The pseudonyms of every subject of the project, sorted (no identity: safe for any role)."""
        return self._pseudonyms()

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

    def _resolve(self, subject: str, role: str | None = "administrator") -> str:
        """The pseudonym of ``subject`` as ``role`` names it.

        An administrator may give a pseudonym or a subject id (ReviewStateError for an unknown one).
        Anyone else names subjects only by pseudonym: a subject id, an unknown pseudonym and anything else
        get one and the same BlindingError, which does not tell whether such a subject exists.
        """
        if role != "administrator":
            if (isinstance(subject, str) and PSEUDONYM.fullmatch(subject) and self._present(subject)
                    and not self._is_withdrawn(subject)):
                return subject
            raise BlindingError(
                f"no subject {subject!r} in your worklist: name subjects by the pseudonym your package shows "
                "(S- and 8 hexadecimal digits)"
            )
        if isinstance(subject, str):
            for candidate in (subject, self.pseudonym(subject)):
                if PSEUDONYM.fullmatch(candidate) and self._present(candidate):
                    return candidate
        raise ReviewStateError(f"no subject {subject!r} in {self.root}: add it with `review add-subject`")

    def _present(self, pseudonym: str) -> bool:
        return (self._sdir(pseudonym) / "subject.json").is_file()

    def _subject(self, pseudonym: str) -> dict[str, Any]:
        return read_json(self._sdir(pseudonym) / "subject.json", "subject")

    def _pseudonyms(self) -> list[str]:
        base = self.root / "subjects"
        return sorted(p.name for p in base.iterdir() if (p / "subject.json").is_file()) if base.is_dir() else []

    def _refuse(self, actor: str, action: str, message: str, now: _dt.datetime, subject: str | None = None) -> None:
        """Log a refused operation and raise BlindingError."""
        error = BlindingError(message)
        self._log_refusal(actor, action, error, now, subject)
        raise error

    def _log_refusal(self, actor: Any, action: str, error: Exception, now: _dt.datetime, subject: Any) -> None:
        """Append a ``refused`` entry for ``error`` (once per error; a project too damaged to log is warned of)."""
        if getattr(error, "_recist_audited", False):
            return
        try:
            error._recist_audited = True  # type: ignore[attr-defined]
        except AttributeError:  # pragma: no cover - every RecistError takes attributes
            pass
        try:
            with self._locked():
                self.audit.append(actor=str(actor), action="refused", now=now,
                                  subject=subject if isinstance(subject, str) else None,
                                  details={"attempted": action, "why": str(error)[:2000]})
        except (RecistError, OSError, ValueError, RecursionError) as failure:
            log.warning("could not log the refusal of %s by %s (%s): %s", action, actor, error, failure)

    @contextlib.contextmanager
    def _guard(self, actor: Any, action: str, now: _dt.datetime, subject: Any = None) -> Iterator[None]:
        """Log every refusal (any :class:`RecistError`) of the operation run inside, then re-raise it."""
        try:
            yield
        except RecistError as error:
            self._log_refusal(actor, action, error, now, subject)
            raise

    def _log_view(self, actor: str, what: str, now: _dt.datetime, subject: str | None = None,
                  details: Mapping[str, Any] | None = None) -> None:
        """Record that ``actor`` read records (who read what, when)."""
        with self._locked():
            self.audit.append(actor=actor, action="view", now=now, subject=subject,
                              details={"what": what, **(details or {})})

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
        """Roll an interrupted :meth:`_commit` forward (its audit entry was written) or back (it was not).

        Also completes an audit entry without a change (a view, a refusal) whose writer was killed between
        the log line and the head file (:meth:`AuditLog.head_seq` adopts or cuts the tail); a trail too
        damaged for that is left for :meth:`verify` to name.
        """
        for stray in self.root.glob(".*.tmp"):  # a temporary file of a write killed before its rename
            stray.unlink()
        journal_path = self.root / JOURNAL_NAME
        if not journal_path.exists():
            try:
                self.audit.head_seq()
            except AuditError:
                pass
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
        with self._guard(as_, "add subjects", now, subject):
            return self._add_subject(subject, timepoints, as_=as_, now=now)

    def _new_subject_problem(self, subject: str, tps: list[SubjectTimepoint]) -> RecistError | None:
        """Why ``subject`` with ``tps`` cannot be added (None: it can)."""
        if not isinstance(subject, str) or not _SUBJECT_ID.match(subject):
            return RecistValidationError(
                f"subject id {subject!r} must be 1-100 letters, digits, spaces, '_', '.' or '-'", field="subject")
        problem = self._timepoints_problem(subject, tps)
        if problem is not None:
            return problem
        path = self._sdir(self.pseudonym(subject)) / "subject.json"
        if path.exists():
            existing = read_json(path, "subject")["subject"]
            return ReviewStateError(
                f"subject {subject!r} is already in the project" if existing == subject
                else f"pseudonym collision between {subject!r} and {existing!r}: rename one subject")
        return None

    @staticmethod
    def _timepoints_problem(subject: str, tps: list[SubjectTimepoint]) -> RecistError | None:
        """Why ``tps`` cannot be the timepoints of ``subject`` (None: they can)."""
        if not tps:
            return RecistValidationError(f"subject {subject!r} has no timepoint", field="timepoints")
        labels = [tp.label for tp in tps]
        if len(set(labels)) != len(labels):
            return RecistValidationError(f"subject {subject!r} lists a timepoint label twice: {labels}")
        for before, after in zip(tps, tps[1:]):
            if after.date <= before.date:
                return RecistValidationError(
                    f"timepoint dates must increase (baseline first): {after.label} {after.date} is not after "
                    f"{before.label} {before.date}", timepoint=after.label)
        return None

    def _add_subject(self, subject: str, timepoints: Iterable[SubjectTimepoint], *, as_: str,
                     now: _dt.datetime) -> str:
        self._require(as_, ["administrator"], "add subjects", now)
        tps = list(timepoints)
        pseudonym = self.pseudonym(subject) if isinstance(subject, str) else ""
        with self._locked():
            problem = self._new_subject_problem(subject, tps)
            if problem is not None:
                raise problem
            data = {
                "format": "recist.review.subject/1",
                "subject": subject,
                "pseudonym": pseudonym,
                "date_shift_days": self.date_shift_days(subject),
                "timepoints": [tp.to_dict() for tp in tps],
            }
            self._commit(actor=as_, action="add", now=now, subject=subject,
                         writes={self._sdir(pseudonym) / "subject.json": data}, details={"timepoints": len(tps)})
        return pseudonym

    def add_manifest(self, path: str | Path, *, as_: str, now: _dt.datetime | None = None) -> list[str]:
        """Add every subject of a manifest CSV (see :func:`load_manifest`); returns the pseudonyms.

        All or nothing: every subject is checked first (its id, its dates in order, not already in the
        project, every DICOM folder present); a bad one is reported with the manifest row where it begins
        and nothing of the manifest is recorded.
        """
        now = _utc(now)
        with self._guard(as_, "add subjects", now):
            self._require(as_, ["administrator"], "add subjects", now)
            subjects, rows = load_manifest_rows(path)
            with self._locked():
                for subject, tps in subjects.items():
                    problem = self._new_subject_problem(subject, tps)
                    missing = [f for tp in tps for f in tp.folders if not Path(f).is_dir()]
                    if problem is None and missing:
                        problem = RecistValidationError(f"folder {missing[0]} does not exist (or is not a folder)")
                    if problem is not None:
                        raise RecistValidationError(
                            f"row {rows[subject]} (subject {subject!r}): {problem}; nothing of the manifest was added",
                            source=str(path))
                return [self._add_subject(s, tps, as_=as_, now=now) for s, tps in subjects.items()]

    # ------------------------------------------------------------------ reader packages
    def package(self, reader: str, out: str | Path, *, as_: str, now: _dt.datetime | None = None,
                subjects: Iterable[str] | None = None, progress: Callable[[int, int, str], None] | None = None,
                ) -> dict[str, Any]:
        """Write (or complete) what ``reader`` may see in ``out`` (:func:`recist.review.packaging.write_package`).

        ``subjects`` restricts the run to some subjects; ``progress(done, total, pseudonym)`` is called
        after each subject.
        """
        from recist.review.packaging import write_package

        now = _utc(now)
        with self._guard(as_, "package reads", now):
            return write_package(self, reader, out, as_=as_, now=now, subjects=list(subjects) if subjects else None,
                                 progress=progress)

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
                if versions:
                    versions.pop()
                version = self._new_version(len(versions) + 1, data, now, None, confirmed)
                versions.append(version)
                self._commit(actor=as_, action="save", now=now, subject=pseudonym,
                             writes={self._read_path(pseudonym, as_): read}, details={"version": version["version"]})
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

    # ------------------------------------------------------------------ views
    def _signed(self, pseudonym: str, reader: str) -> dict[str, Any] | None:
        read = self._load_read(pseudonym, reader)
        if read is None or withdrawn_block(read) is not None:
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

    # ------------------------------------------------------------------ adjudication and results
    def adjudicate(
        self, subject: str, *, choose: str, reason: str, as_: str, now: _dt.datetime | None = None
    ) -> dict[str, Any]:
        """Select Read ``"A"`` or ``"B"`` of a subject that needs adjudication, with a written reason."""
        now = _utc(now)
        with self._guard(as_, "adjudicate", now, subject):
            self._require(as_, ["adjudicator"], "adjudicate", now, subject)
            pseudonym = self._resolve(subject, "adjudicator")
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
                    "reason": reason.strip(), "adjudicator": as_, "time": now.isoformat(),
                    "triggers": pair["triggers"],
                    "reads": {ab: {"reader": pair["labels"][ab], "version": r["version"],
                                   "case_sha256": r["case_sha256"]} for ab, r in pair["reads"].items()},
                }
                data["signature"] = self._signature(data, as_, "adjudicator's selection", now, pseudonym)
                self._commit(actor=as_, action="adjudicate", now=now, subject=pseudonym,
                             writes={self._sdir(pseudonym) / "adjudication.json": data},
                             details={"choice": choose, "reason": data["reason"], "chosen_version": chosen["version"]})
        return self._blind_adjudication(pseudonym) or {}

    # ------------------------------------------------------------------ integrity
    def verify(self, *, trusted_key: Ed25519PublicKey | None = None) -> list[Problem]:
        """Every problem with the audit trail, the files it records, their contents and the signatures
        (empty: all intact); see :func:`verify_project`.

        Holds the project lock, and first completes or undoes a change a killed process left half done
        (a recovery that fails is reported as a problem, not raised). ``trusted_key`` is the review
        server's public key from outside the project (see :func:`recist.review.audit.verify_log`).
        """
        with self._thread_lock, self._lock:
            recovery: list[Problem] = []
            try:
                self._recover()
            except (RecistError, OSError, ValueError) as exc:
                recovery.append(Problem(JOURNAL_NAME, f"an interrupted change could not be completed: {exc}"))
            return recovery + verify_project(self.root, trusted_key=trusted_key)
