"""The blinded independent central review project: readers, signatures, adjudication, results.

A project is a folder of JSON files (docs/review.md shows the layout). Every change holds the project
lock, writes its files atomically and appends one entry to the hash-chained audit trail
(:mod:`recist.review.audit`) recording who did what and the SHA-256 of each file written. Every
operation is done as someone (``as_``): the charter says who is a reader, an adjudicator or an
administrator, and what each may see. A refused operation raises :class:`~recist.errors.BlindingError`
(or another :class:`~recist.errors.RecistError`) and is logged.

Time is passed in (``now=``) so that tests are reproducible; the CLI passes the wall clock.

:class:`ReviewProject` is assembled from one module per responsibility; every public name stays
importable from here:

- this module: creating and opening a project, pseudonyms and date shifts, who may do what (and the
  logging of refusals and views), reader packages, adjudication, ``verify``;
- :mod:`recist.review.journal`: the lock and crash-safe changes (journal, pending files, recovery);
- :mod:`recist.review.intake`: adding subjects, one or a manifest, checked before anything is recorded;
- :mod:`recist.review.reads`: saving, signing and amending reads (versions and signatures);
- :mod:`recist.review.views`: ``show`` and ``status``;
- :mod:`recist.review.results`: results, the site reads, the agreement report;
- :mod:`recist.review.corrections`: withdrawing a subject, correcting its timepoints.

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
import datetime as _dt
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recist._atomic import atomic_write_bytes, make_private_folder, register_private_tree
from recist.errors import BlindingError, RecistError, ReviewStateError
from recist.review._common import utc as _utc
from recist.review.adjudication import ab_readers, fired_triggers, outcome_of
from recist.review.audit import AuditLog, Problem, file_sha256, project_public_key
from recist.review.charter import Charter, load_charter, parse_charter
from recist.review.commit import GroupCommit
from recist.review.corrections import CorrectionsMixin, withdrawn_block
from recist.review.intake import IntakeMixin
from recist.review.integrity import verify_project
from recist.review.journal import JOURNAL_NAME, PENDING_SUFFIX, JournalMixin
from recist.review.keys import PUBLIC_KEY_NAME, AuditWitness, SigningKey, key_id
from recist.review.reads import SIGNATURE_MEANING, ReadsMixin
from recist.review.results import ResultsMixin
from recist.review.store import LOCK_NAME, project_lock, read_json, staged_exists, write_json
from recist.review.subjects import SubjectTimepoint, calendar_case, load_manifest, load_manifest_rows
from recist.review.views import ViewsMixin

__all__ = ["SIGNATURE_MEANING", "PROJECT_FORMAT", "JOURNAL_NAME", "PENDING_SUFFIX", "PSEUDONYM", "ReviewProject",
           "SubjectTimepoint", "load_manifest", "load_manifest_rows", "calendar_case", "verify_project"]

log = logging.getLogger(__name__)

PROJECT_FORMAT = "recist.review.project/1"
PSEUDONYM = re.compile(r"S-[0-9A-F]{8}")


class ReviewProject(JournalMixin, IntakeMixin, ReadsMixin, ViewsMixin, ResultsMixin, CorrectionsMixin):
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
        names: Mapping[str, str] | None = None, witness: AuditWitness | None = None,
    ) -> None:
        self.root = root
        register_private_tree(root)  # what is written under it: 0600 / 0700 (recist._atomic)
        self.charter = charter
        self._secret = secret
        self.signer = signer  # the review server's key: signs audit entries and electronic signatures
        self.names = dict(names or {})  # person id -> printed name shown in their signatures
        self.audit = AuditLog(root, signer=signer)
        self.committer = GroupCommit(root, self.audit, witness)  # the project lock and batched durable writes

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
        cls, root: str | Path, *, signer: SigningKey | None = None, names: Mapping[str, str] | None = None,
        witness: AuditWitness | None = None,
    ) -> ReviewProject:
        """Open the project in ``root`` (raises ReviewStateError when it is not one).

        ``signer`` is the review server's key (required to change a served project), ``names`` the
        printed names of people (their account names) shown in the signatures they make, and ``witness``
        the server's record of the trail's head (:class:`recist.review.keys.AuditWitness`), checked
        before each change and by :meth:`verify`, and updated after each batch of changes.
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
        return cls(root, charter, secret, signer=signer, names=names, witness=witness)

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
        return staged_exists(self._sdir(pseudonym) / "subject.json")

    def _subject(self, pseudonym: str) -> dict[str, Any]:
        return read_json(self._sdir(pseudonym) / "subject.json", "subject")

    def _pseudonyms(self) -> list[str]:
        base = self.root / "subjects"
        found = {p.name for p in base.iterdir() if (p / "subject.json").is_file()} if base.is_dir() else set()
        staged = {p.parent.name for p in self.committer.staged() if p.name == "subject.json" and p.parent.parent == base}
        return sorted(found | staged)

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
        server's public key from outside the project (see :func:`recist.review.audit.verify_log`). A
        project opened with the server's witness and older than it (an old copy restored) raises
        :class:`recist.errors.AuditRollbackError`.
        """
        committer = self.committer
        with committer.thread_lock, committer.file_lock:
            recovery: list[Problem] = []
            try:
                self._recover()
            except (RecistError, OSError, ValueError) as exc:
                recovery.append(Problem(JOURNAL_NAME, f"an interrupted change could not be completed: {exc}"))
            committer.check_witness()
            return recovery + verify_project(self.root, trusted_key=trusted_key)
