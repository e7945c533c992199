"""The audit trail of a review project: an append-only, hash-chained JSON-lines log.

Each line is one entry::

    {"seq": 7, "time": "2024-05-01T10:00:00+00:00", "actor": "R1", "action": "sign",
     "subject": "NET-001", "details": {...}, "files": {"subjects/NET-001/reads/R1.json": "<sha256>"},
     "prev": "<hash of entry 6>", "hash": "<sha256 of this entry without its hash>"}

``hash`` is the SHA-256 of the entry's canonical JSON (sorted keys, no spaces) without the ``hash`` key,
and ``prev`` is the ``hash`` of the entry before (64 zeros for the first). Editing, deleting or
reordering any entry breaks the chain at that entry; ``files`` records the SHA-256 of every file the
action wrote (null for a file it removed), so a stored read whose bytes no longer match the last
recorded hash is found too. This is the tamper-evident audit trail that 21 CFR 11.10(e) asks for
("secure, computer-generated, time-stamped audit trails"); it detects changes, it cannot prevent them.

Appending reads a small head file (``audit.head``: last sequence number, last hash, log size in bytes)
instead of re-hashing the log, so an append costs the same however long the log is. The caller holds the
project lock (:mod:`recist.review.store`) while appending; each line is written with one ``write`` and
fsynced before the head file is replaced atomically.

Signed entries (projects served by ``recist review serve``)
-----------------------------------------------------------
A hash chain alone cannot stop someone with write access to the folder: they can edit a read, recompute
its hash, re-hash every later entry and rewrite the head. A served project therefore has the review
server's Ed25519 public key (``server_key.pub``, :mod:`recist.review.keys`); from the entry that installs
it (action ``server-key``) on, every entry carries ``"key"`` (the key id) and ``"sig"`` (the server's
Ed25519 signature of the entry's ``hash``), both outside the hash. The private key stays in the server's
home (mode 0600), outside the project, so a rewritten entry cannot be re-signed. :func:`verify_log`
checks every signature against the project's public key and, when given one, against a trusted copy
kept outside the project (``trusted_key``: the server's own key, or ``verify --public-key``), which also
catches a forger who replaced the project's public key with their own. Once a project has a public key,
:meth:`AuditLog.append` refuses to write an unsigned entry.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recist._atomic import atomic_write_json, dumps_stable, new_file_mode
from recist.errors import AuditError
from recist.review.keys import PUBLIC_KEY_NAME, SigningKey, key_id, load_public_key, verify_signature

__all__ = [
    "GENESIS_HASH",
    "LOG_NAME",
    "HEAD_NAME",
    "AuditLog",
    "Head",
    "Problem",
    "entry_hash",
    "file_sha256",
    "verify_log",
    "check_entry_signatures",
    "project_public_key",
]

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
LOG_NAME = "audit.jsonl"
HEAD_NAME = "audit.head"


_UNHASHED = ("hash", "key", "sig")  # the signature covers the hash, so neither is part of it


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of an entry's canonical JSON without its own ``hash`` key."""
    body = {k: v for k, v in entry.items() if k not in _UNHASHED}
    return hashlib.sha256(_canonical(body)).hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Problem:
    """One thing :func:`verify_log` found wrong: where (``entry N`` / a file path) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Head:
    """The end of the trail: the last entry's sequence number and hash, and the log's size in bytes."""

    seq: int = 0
    hash: str = GENESIS_HASH
    size: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "size": self.size}

    @classmethod
    def from_dict(cls, data: Any) -> Head:
        """The head recorded in ``data``; ValueError (or KeyError, TypeError) when it is not one."""
        head = cls(seq=int(data["seq"]), hash=str(data["hash"]), size=int(data["size"]))
        if head.seq < 0 or head.size < 0 or len(head.hash) != 64:
            raise ValueError(f"seq {head.seq}, size {head.size} or hash {head.hash[:70]!r} out of range")
        return head


@dataclass
class AuditLog:
    """The audit trail in folder ``root`` (``root/audit.jsonl`` and ``root/audit.head``).

    Not thread- or process-safe by itself: hold the project lock around :meth:`append`. ``signer`` (the
    server's key) signs each entry; it is required once the project has a public key.
    """

    root: Path
    signer: SigningKey | None = None
    _head: Head | None = field(default=None, repr=False)
    _batch_start: Head | None = field(default=None, repr=False)  # the durable head when the batch began
    _batch_head: Head | None = field(default=None, repr=False)  # the head after the staged entries
    _batch_lines: list[bytes] = field(default_factory=list, repr=False)

    @property
    def path(self) -> Path:
        return self.root / LOG_NAME

    @property
    def head_path(self) -> Path:
        return self.root / HEAD_NAME

    def _read_head(self) -> Head:
        try:
            return Head.from_dict(json.loads(self.head_path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            if self.path.exists() and self.path.stat().st_size > 0:
                raise AuditError(
                    f"{self.head_path} is missing while {self.path} has entries: run `recist review verify`"
                ) from None
            return Head()
        except (ValueError, KeyError, TypeError, RecursionError, OverflowError) as exc:
            raise AuditError(f"{self.head_path} is unreadable ({exc}): run `recist review verify`") from None
        except OSError as exc:  # a folder in its place, no permission ...
            raise AuditError(f"{self.head_path} cannot be read ({exc.strerror or exc}): run `recist review verify`"
                             ) from None

    def _recover_tail(self, head: Head) -> Head:
        """Make the log agree with the head after a crash between writing a line and the head file.

        A torn last line (no newline: the process died inside ``write``) was never committed and is cut
        off; complete lines that chain on from the head were committed but the head was not updated, and
        are adopted. Anything else is tampering and is left for :func:`verify_log` to name.
        """
        if self.path.exists() and not self.path.is_file():
            raise AuditError(f"{self.path} is not a file: run `recist review verify`")
        size = self.path.stat().st_size if self.path.exists() else 0
        if size == head.size:
            return head
        if size < head.size:
            raise AuditError(f"{self.path} is shorter than its head file records: run `recist review verify`")
        with open(self.path, "rb") as handle:
            handle.seek(head.size)
            tail = handle.read()
        lines = tail.split(b"\n")
        torn = lines.pop()  # b"" when the tail ends with a newline
        for raw in lines:
            try:
                entry = json.loads(raw)
            except json.JSONDecodeError:
                raise AuditError(f"{self.path} has an unreadable line after entry {head.seq}") from None
            if entry.get("prev") != head.hash or entry.get("seq") != head.seq + 1 or entry_hash(entry) != entry.get(
                "hash"
            ):
                raise AuditError(f"{self.path}: entry after {head.seq} does not chain: run `recist review verify`")
            head = Head(seq=head.seq + 1, hash=entry["hash"], size=head.size + len(raw) + 1)
        if torn:
            log.warning("cutting a torn audit line of %d bytes after entry %d", len(torn), head.seq)
            with open(self.path, "r+b") as handle:
                handle.truncate(head.size)
                handle.flush()
                os.fsync(handle.fileno())
        atomic_write_json(self.head_path, {"seq": head.seq, "hash": head.hash, "size": head.size})
        return head

    def check_writable(self) -> None:
        """AuditError when the project's entries must be signed (it has a public key) and there is no signer."""
        if self.signer is None and (self.root / PUBLIC_KEY_NAME).exists():
            raise AuditError(
                f"{self.root} is served by a review server that signs its audit trail: work through the "
                "server (`--server URL`), or run on the server machine as the server's user, who can read its key"
            )

    def head_seq(self) -> int:
        """The sequence number of the last entry (0 for an empty trail)."""
        return self._recover_tail(self._read_head()).seq

    def append(
        self,
        *,
        actor: str,
        action: str,
        now: _dt.datetime,
        subject: str | None = None,
        details: Mapping[str, Any] | None = None,
        files: Mapping[str, str | None] | None = None,
    ) -> dict[str, Any]:
        """Append one entry and return it (with ``seq`` and ``hash``).

        Parameters
        ----------
        actor, action
            Who did what (``"R1"``, ``"sign"``).
        now
            The time of the action (timezone-aware; naive times are taken as UTC).
        subject
            The subject concerned, if any.
        details
            JSON-ready facts about the action (version numbers, reasons ...).
        files
            Project-relative path -> SHA-256 of each file written (None for one removed).
        """
        self.check_writable()
        staging = self._batch_head is not None
        head = self._batch_head if staging else self._recover_tail(self._read_head())
        assert head is not None
        if now.tzinfo is None:
            now = now.replace(tzinfo=_dt.timezone.utc)
        entry: dict[str, Any] = {
            "seq": head.seq + 1,
            "time": now.isoformat(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": dict(details or {}),
            "files": dict(sorted((files or {}).items())),
            "prev": head.hash,
        }
        entry["hash"] = entry_hash(entry)
        if self.signer is not None:
            entry["key"] = self.signer.key_id
            entry["sig"] = self.signer.sign(entry["hash"].encode("ascii"))
        line = _canonical(entry) + b"\n"
        new_head = Head(seq=entry["seq"], hash=entry["hash"], size=head.size + len(line))
        if staging:
            self._batch_lines.append(line)
            self._batch_head = new_head
            return entry
        self._write_lines(line)
        atomic_write_json(self.head_path, new_head.to_dict())
        return entry

    def _write_lines(self, data: bytes) -> None:
        """Append ``data`` (whole lines) with one ``write`` and fsync it."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, new_file_mode(self.path.parent))
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(f"short write to {self.path} ({written} of {len(data)} bytes)")
            os.fsync(fd)
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ batches (group commit)
    def begin_batch(self) -> Head:
        """Stage the entries appended from now on in memory (:meth:`append` returns them as usual) until
        :meth:`write_batch`; returns the durable head they follow. The caller holds the project lock."""
        head = self._recover_tail(self._read_head())
        self._batch_start = self._batch_head = head
        self._batch_lines = []
        return head

    @property
    def batch_start(self) -> Head | None:
        """The head the staged entries follow (None when no batch is open)."""
        return self._batch_start

    @property
    def batch_head(self) -> Head | None:
        """The head after the staged entries (None when no batch is open)."""
        return self._batch_head

    def staged_count(self) -> int:
        """How many entries are staged and not yet written."""
        return len(self._batch_lines)

    def write_batch(self) -> Head:
        """Append every staged entry with one ``write`` and one fsync; returns the new head.

        The head file is not replaced here (the caller writes :meth:`head_bytes` with its other files);
        until it is, the written entries are adopted from the log's tail by the next reader of the head.
        """
        if self._batch_head is None or self._batch_start is None:
            raise RuntimeError("no batch is open")
        if self._batch_lines:
            self._write_lines(b"".join(self._batch_lines))
        return self._batch_head

    def end_batch(self) -> None:
        """Forget the batch (written or not): appends are written at once again."""
        self._batch_start = self._batch_head = None
        self._batch_lines = []

    @staticmethod
    def head_bytes(head: Head) -> bytes:
        """The content of the head file recording ``head``."""
        return dumps_stable(head.to_dict()).encode("utf-8")

    def truncate_to(self, head: Head) -> None:
        """Cut the log back to ``head`` (entries of a batch that was never acknowledged) and record it."""
        log.warning("cutting %d bytes of unacknowledged audit entries after entry %d",
                    self.size() - head.size, head.seq)
        with open(self.path, "r+b") as handle:
            handle.truncate(head.size)
            handle.flush()
            os.fsync(handle.fileno())
        atomic_write_json(self.head_path, head.to_dict())

    def entries_from(self, position: int) -> list[dict[str, Any]]:
        """The complete entries written after byte ``position`` of the log (unreadable lines skipped)."""
        entries = []
        with open(self.path, "rb") as handle:
            handle.seek(position)
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break
                try:
                    entry = json.loads(raw)
                except (ValueError, RecursionError):
                    continue
                if isinstance(entry, dict):
                    entries.append(entry)
        return entries

    def rollback_problem(self, witnessed: Head) -> str | None:
        """Why the log is not (a continuation of) the trail whose end was ``witnessed`` (None: it is).

        ``witnessed`` is the head the review server recorded outside the project after its last write
        (:class:`recist.review.keys.AuditWitness`): a log shorter than that, or whose entry ending at
        that byte is not that entry, is an older copy of the project restored over the newer one, or
        another trail altogether.
        """
        size = self.size()
        if size < witnessed.size:
            return (f"the audit trail holds {size} bytes but the review server wrote entry {witnessed.seq} "
                    f"ending at byte {witnessed.size}")
        if witnessed.size == 0:
            return None
        chunk = 4096
        with open(self.path, "rb") as handle:
            while True:
                start = max(0, witnessed.size - chunk)
                handle.seek(start)
                data = handle.read(witnessed.size - start)
                cut = data.rfind(b"\n", 0, len(data) - 1)
                if cut >= 0 or start == 0:
                    break
                chunk *= 4
        line = data[cut + 1:]
        try:
            entry = json.loads(line)
            found = (entry.get("seq"), entry.get("hash"))
        except (ValueError, RecursionError, AttributeError):
            found = (None, None)
        if not line.endswith(b"\n") or found != (witnessed.seq, witnessed.hash):
            return (f"the audit trail's entry {witnessed.seq} is not the one the review server wrote "
                    f"(hash {witnessed.hash[:12]}...)")
        return None

    def size(self) -> int:
        """The log's size in bytes (0 when absent): a position to ask :meth:`files_written_since` about."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def files_written_since(self, position: int) -> bool:
        """True when an entry after byte ``position`` of the log records a written or removed file (or the
        log is shorter than ``position``): the project's files may have changed since then."""
        with open(self.path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() < position:
                return True
            handle.seek(position)
            for raw in handle:
                try:
                    if json.loads(raw).get("files"):
                        return True
                except (ValueError, AttributeError):
                    return True
        return False

    def entries(self) -> Iterable[dict[str, Any]]:
        """Every readable entry, in file order (no checking: see :func:`verify_log`, which also names the
        lines skipped here because they are not JSON objects)."""
        if not self.path.is_file():
            return
        with open(self.path, "rb") as handle:
            for raw in handle:
                if raw.strip():
                    try:
                        entry = json.loads(raw)
                    except (ValueError, RecursionError):
                        continue
                    if isinstance(entry, dict):
                        yield entry


def verify_log(
    root: str | Path, *, ignore: Iterable[str] = (), trusted_key: Ed25519PublicKey | None = None
) -> list[Problem]:
    """Walk the whole audit trail of ``root`` and every file it records; return what is wrong.

    Finds: an unreadable line, an entry whose hash does not match its content (edited), a broken chain
    or sequence gap (deleted or reordered entries: the first entry out of place is named), a head file
    that disagrees with the last entry (entries cut from the end), a recorded file whose bytes differ
    from its last recorded SHA-256 or that is missing, and a file in the project that no entry records.

    Parameters
    ----------
    root
        The project folder.
    ignore
        Project-relative paths (or folder prefixes ending in ``/``) that are not under audit.
    trusted_key
        The server's public key from outside the project (see the module docstring); when given, the
        project must have been signed with it from its ``server-key`` entry on.

    Returns
    -------
    list of Problem
        Empty when the trail and every recorded file are intact.
    """
    root = Path(root)
    audit = AuditLog(root)
    problems: list[Problem] = []
    expected_files: dict[str, str | None] = {}
    prev = GENESIS_HASH
    seq = 0
    size = 0
    signed: list[tuple[str, dict[str, Any]]] = []
    if not audit.path.exists():
        return [Problem(LOG_NAME, "the audit trail is missing")]
    if not audit.path.is_file():
        return [Problem(LOG_NAME, "the audit trail is not a file (a folder or device is in its place)")]
    with open(audit.path, "rb") as handle:
        for lineno, raw in enumerate(handle, start=1):
            size += len(raw)
            where = f"{LOG_NAME} line {lineno}"
            try:
                entry = json.loads(raw)
                if not isinstance(entry, dict):
                    raise ValueError("not an object")
                entry_hash(entry)  # an entry that cannot be hashed (nested too deep) is unreadable too
            except (ValueError, RecursionError):
                problems.append(Problem(where, "unreadable entry (not a JSON object, or nested too deep)"))
                continue
            label = f"entry {entry.get('seq')} ({where}, {entry.get('action')} by {entry.get('actor')})"
            if entry_hash(entry) != entry.get("hash"):
                problems.append(Problem(label, "content does not match its hash: the entry was edited"))
            if entry.get("prev") != prev or entry.get("seq") != seq + 1:
                problems.append(
                    Problem(
                        label,
                        f"does not follow entry {seq}: an entry before it was deleted or entries were reordered",
                    )
                )
            signed.append((label, entry))
            prev = entry.get("hash", "")
            seq = entry.get("seq", seq + 1) if isinstance(entry.get("seq"), int) else seq + 1
            files = entry.get("files")
            if isinstance(files, dict):
                expected_files.update(files)
    try:
        head = json.loads(audit.head_path.read_text(encoding="utf-8"))
        if not isinstance(head, dict):
            raise ValueError("not an object")
        if head.get("hash") != prev or head.get("seq") != seq or head.get("size") != size:
            problems.append(
                Problem(
                    HEAD_NAME,
                    f"records entry {head.get('seq')} as the last, the log ends at entry {seq}: "
                    "entries were cut from the end or appended outside recist",
                )
            )
    except (OSError, ValueError, RecursionError):
        problems.append(Problem(HEAD_NAME, "missing or unreadable (or not a file)"))
    problems.extend(check_entry_signatures(root, signed, trusted_key=trusted_key))
    problems.extend(_check_files(root, expected_files, ignore=tuple(ignore)))
    return problems


def project_public_key(root: str | Path) -> Ed25519PublicKey | None:
    """The public key in the project (``server_key.pub``), or None for a project never served."""
    path = Path(root) / PUBLIC_KEY_NAME
    if not path.is_file():
        return None
    return load_public_key(path.read_bytes(), source=str(path))


def check_entry_signatures(
    root: str | Path, entries: Iterable[tuple[str, Mapping[str, Any]]], *, trusted_key: Ed25519PublicKey | None
) -> list[Problem]:
    """Check the server signature of every entry from the ``server-key`` entry on.

    ``entries`` are ``(label, entry)`` pairs in file order. Each entry must be signed by the key in force
    at its place in the key chain (:func:`recist.review.key_rotation.key_chain`: the installed key, then
    each successor endorsed by a ``server-key-rotate`` entry). Finds: a project public key that is not the
    trusted one nor any key of the chain (replaced by a forger's), a ``server_key.pub`` that is not the
    key in force, a rotation not endorsed by the key in force (a forged key record), an entry with no
    signature after the key was installed (signed entries stripped), an entry whose signature does not
    verify with the key in force (a rewritten entry, or one signed with another key), and a project with no server key
    although a trusted key is given (the whole trail replaced).
    """
    from recist.review.key_rotation import key_chain

    problems: list[Problem] = []
    try:
        public = project_public_key(root)
    except AuditError as exc:
        return [Problem(PUBLIC_KEY_NAME, str(exc))]
    pairs = list(entries)
    chain = key_chain([entry for _label, entry in pairs], public)
    last = next((k for k in reversed(chain.in_force) if k is not None), None)
    if public is not None and last is not None and key_id(public) != last:
        problems.append(Problem(PUBLIC_KEY_NAME, f"holds key {key_id(public)}, but the key in force is {last}"))
    if trusted_key is not None:
        if public is None:
            problems.append(Problem(PUBLIC_KEY_NAME, "missing, but this project is served by a review server whose "
                                    "key is given: the audit trail was replaced"))
        elif key_id(trusted_key) not in chain.order:
            problems.append(Problem(PUBLIC_KEY_NAME, f"key {key_id(public)} is not the server's key "
                                    f"{key_id(trusted_key)} nor one it endorsed: the public key was replaced"))
            trusted = key_id(trusted_key)  # no key the project holds is trusted then: check everything with it
            chain.keys = {trusted: trusted_key}
            chain.in_force = [trusted if k is not None else None for k in chain.in_force]
    for index, message in chain.problems:
        problems.append(Problem(pairs[index][0], message))
    for (label, entry), active in zip(pairs, chain.in_force):
        if active is None and "sig" not in entry:
            continue
        key = chain.keys.get(active) if active is not None else None
        if key is None:
            what = "signed, but the project has no server public key" if public is None else (
                f"signed, but no public key of the key in force {active} is known")
            problems.append(Problem(label, what))
            continue
        if "sig" not in entry:
            problems.append(Problem(label, "not signed by the server, although the server key was installed "
                                    "before it: the entry was written or rewritten outside the server"))
        elif not verify_signature(key, str(entry.get("hash", "")).encode("ascii"), entry.get("sig")):
            problems.append(Problem(label, "the server signature does not match: the entry was rewritten"))
    return problems


def _ignored(rel: str, ignore: tuple[str, ...]) -> bool:
    return any(rel == item or (item.endswith("/") and rel.startswith(item)) for item in ignore)


def _check_files(root: Path, expected: Mapping[str, str | None], *, ignore: tuple[str, ...]) -> list[Problem]:
    problems = []
    for rel, digest in sorted(expected.items()):
        path = root / rel
        if digest is None:
            if path.exists():
                problems.append(Problem(rel, "recorded as removed, but the file exists"))
            continue
        if not path.is_file():
            problems.append(Problem(rel, "recorded in the audit trail, but the file is missing"))
        elif file_sha256(path) != digest:
            problems.append(Problem(rel, "content does not match the hash recorded when it was last written"))
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if rel in (LOG_NAME, HEAD_NAME) or _ignored(rel, ignore) or rel in expected:
            continue
        problems.append(Problem(rel, "a file in the project that no audit entry records"))
    return problems
