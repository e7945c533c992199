"""The review server's Ed25519 signing key and the server's own state folder (outside the project).

A review project served by ``recist review serve`` has its audit entries and its electronic signatures
signed by the server's Ed25519 key (RFC 8032, via ``cryptography``). The private key lives in the server
home, never in the project folder, so someone who can write the project folder cannot re-sign what they
rewrite; the project holds the public key (``server_key.pub``, PEM) so that anyone can verify.

The server home is ``$RECIST_SERVER_HOME``, else ``$XDG_CONFIG_HOME/recist/server``, else
``~/.config/recist/server``; it is created with mode 0700 and the key file with mode 0600. One key signs
every project this server serves; each served project has a state folder under ``projects/`` holding its
accounts (:mod:`recist.review.accounts`) and the witness of its audit trail (:class:`AuditWitness`).

The witness
-----------
Signatures stop a rewritten trail, not a restored one: an older copy of the whole project folder, with
its validly signed older head, verifies intact. So after every batch of changes the server also writes
the new head of the project's audit trail (sequence number, hash, size in bytes) to ``audit.witness`` in
the project's state folder (mode 0600, beside the accounts, outside the project). Opening a batch,
starting the server and ``recist review verify`` on the server machine compare the project's trail
with it: a trail that ends before the witnessed entry, or whose entry at that place is another, is
reported as rolled back (:class:`recist.errors.AuditRollbackError`). The witness never runs ahead of the
trail: it is written after the trail's own fsync.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from recist._atomic import atomic_write_bytes, make_private_folder
from recist.errors import AuditError, AuditRollbackError

__all__ = [
    "SERVER_HOME_ENV",
    "PUBLIC_KEY_NAME",
    "KEY_NAME",
    "SigningKey",
    "server_home",
    "project_state_dir",
    "load_public_key",
    "key_id",
    "verify_signature",
    "WITNESS_NAME",
    "AuditWitness",
]

SERVER_HOME_ENV = "RECIST_SERVER_HOME"
PUBLIC_KEY_NAME = "server_key.pub"
KEY_NAME = "server.key"
WITNESS_NAME = "audit.witness"
WITNESS_FORMAT = "recist.review.witness/1"


def server_home(home: str | os.PathLike[str] | None = None) -> Path:
    """The server's state folder (see the module docstring); ``home`` overrides the default."""
    if home is not None:
        return Path(home)
    env = os.environ.get(SERVER_HOME_ENV)
    if env:
        return Path(env)
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "recist" / "server"


def project_state_dir(project_root: str | os.PathLike[str], home: str | os.PathLike[str] | None = None) -> Path:
    """The folder of the server home that holds the state (accounts) of the project in ``project_root``.

    Named after the project folder and the SHA-256 of its absolute path, so two projects never share it.
    A project restored to another path needs its state folder renamed (docs/deploy.md says how).
    """
    resolved = Path(project_root).resolve()
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", resolved.name).strip("-") or "project"
    digest = hashlib.sha256(str(resolved).encode("utf-8")).hexdigest()[:8]
    return server_home(home) / "projects" / f"{slug}-{digest}"


def _private_dir(path: Path) -> None:
    make_private_folder(path)


def key_id(public: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key: names the key in each signature."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(pem: bytes, source: str = "public key") -> Ed25519PublicKey:
    """Parse a PEM public key; AuditError naming ``source`` when it is not an Ed25519 key."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise AuditError(f"{source}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AuditError(f"{source}: not an Ed25519 public key")
    return key


def verify_signature(public: Ed25519PublicKey, data: bytes, signature_b64: object) -> bool:
    """True when ``signature_b64`` (base64 text) is ``public``'s Ed25519 signature of ``data``."""
    if not isinstance(signature_b64, str):
        return False
    try:
        public.verify(base64.b64decode(signature_b64, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    """The server's private Ed25519 key (sign audit entries and electronic signatures)."""

    private: Ed25519PrivateKey

    @classmethod
    def load_or_create(cls, home: str | os.PathLike[str] | None = None) -> SigningKey:
        """The key of the server home (created with mode 0600 on first use)."""
        path = server_home(home) / KEY_NAME
        if path.exists():
            return cls.load(path)
        _private_dir(path.parent)
        return cls.create(path)

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> SigningKey:
        """A new key written to the new file ``path`` (mode 0600, fsynced; an existing file is an error)."""
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        return cls(private)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SigningKey:
        """Read a PEM private key; AuditError when it is unreadable or readable by others than its owner."""
        path = Path(path)
        try:
            mode = path.stat().st_mode & 0o777
            pem = path.read_bytes()
        except OSError as exc:
            raise AuditError(f"{path}: cannot read the server key ({exc.strerror})") from None
        if mode & 0o077:
            raise AuditError(f"{path}: the server key is readable by others (mode {mode:o}): chmod 600 {path}")
        try:
            private = serialization.load_pem_private_key(pem, password=None)
        except ValueError as exc:
            raise AuditError(f"{path}: not a PEM private key ({exc})") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise AuditError(f"{path}: not an Ed25519 private key")
        return cls(private)

    @classmethod
    def find(cls, home: str | os.PathLike[str] | None = None) -> SigningKey | None:
        """The server home's key, or None when this machine (this user) has none or may not read it."""
        path = server_home(home) / KEY_NAME
        try:
            return cls.load(path) if path.exists() else None
        except AuditError:
            return None

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def public_pem(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, data: bytes) -> str:
        """The Ed25519 signature of ``data``, base64."""
        return base64.b64encode(self.private.sign(data)).decode("ascii")

    def write_public(self, path: str | os.PathLike[str]) -> None:
        atomic_write_bytes(path, self.public_pem())


@dataclass(frozen=True)
class AuditWitness:
    """The last audit head the server wrote for one project, kept in the project's state folder.

    ``state_dir`` is :func:`project_state_dir` of the project. See the module docstring.
    """

    state_dir: Path

    @property
    def path(self) -> Path:
        return Path(self.state_dir) / WITNESS_NAME

    def read(self) -> tuple[int, str, int] | None:
        """``(seq, hash, size)`` of the witnessed head, or None when no change was witnessed yet.

        AuditError naming the file when it is damaged (restore it from the backup of the server home).
        """
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != WITNESS_FORMAT:
                raise ValueError(f"not a {WITNESS_FORMAT} file")
            seq, digest, size = int(data["seq"]), str(data["hash"]), int(data["size"])
            if seq < 0 or size < 0 or len(digest) != 64:
                raise ValueError("seq, hash or size out of range")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            raise AuditError(f"{self.path}: the audit witness is unreadable ({exc}); restore it from the backup of "
                             "the server home (docs/deploy.md)") from None
        return seq, digest, size

    def content(self, seq: int, digest: str, size: int) -> bytes:
        """The file content recording the head ``(seq, digest, size)``."""
        return (json.dumps({"format": WITNESS_FORMAT, "seq": seq, "hash": digest, "size": size}, sort_keys=True)
                + "\n").encode("utf-8")

    def check(self, root: str | os.PathLike[str], problem: str | None) -> None:
        """Raise AuditRollbackError for the project in ``root`` when ``problem`` (from
        :meth:`recist.review.audit.AuditLog.rollback_problem`) says its trail is behind this witness."""
        if problem is not None:
            raise AuditRollbackError(
                f"{root}: {problem} (witness {self.path}): the project folder was rolled back to an older copy; "
                "restore the latest backup of the project (docs/deploy.md, 'Backups and restore')"
            )
