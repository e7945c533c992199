"""Verification of a review project that trusts none of its files (``recist review verify``).

:func:`verify_project` is what :meth:`recist.review.workflow.ReviewProject.verify` runs after recovering
an interrupted change; the CLI also runs it on a project too damaged to open. Every damaged file is
reported as a :class:`~recist.review.audit.Problem` naming the file; nothing raises for bad content.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recist.errors import RecistError, ReviewStateError
from recist.review.audit import AuditLog, Problem, verify_log
from recist.review.charter import load_charter
from recist.review.esign import check_record_signatures
from recist.review.key_rotation import chain_keys
from recist.review.store import LOCK_NAME, PROJECT_FILES, read_json

__all__ = ["verify_project", "require_intact"]


def _signed_from_start(root: Path) -> bool:
    """True when the server key was installed before anything was signed (every signature must carry it)."""
    for entry in AuditLog(root).entries():
        if entry.get("action") == "server-key":
            return True
        if entry.get("action") in ("sign", "amend", "adjudicate"):
            return False
    return False


def verify_project(root: str | Path, *, trusted_key: Ed25519PublicKey | None = None) -> list[Problem]:
    """Every problem of the project in ``root``, found without trusting any of its files; never raises
    for damaged files (each is a :class:`Problem` naming the file).

    Checks the audit trail and the hashes of the files it records
    (:func:`recist.review.audit.verify_log`), the signatures, that the charter, the secret and every
    project file load and have what the workflow needs (:func:`recist.review.store.shape_problem`).
    Callers hold the project lock.
    """
    root = Path(root)
    problems = verify_log(root, ignore=(LOCK_NAME,), trusted_key=trusted_key)
    try:
        public = chain_keys(root, trusted_key)
    except (RecistError, OSError, ValueError):
        public = None  # reported by verify_log
    try:
        problems += check_record_signatures(root, public, required=_signed_from_start(root))
    except (OSError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        problems.append(Problem("signatures", f"could not be checked: {exc}"))
    try:
        load_charter(root / "charter.json")
    except (RecistError, OSError, ValueError, RecursionError) as exc:
        problems.append(Problem("charter.json", f"does not load: {exc}"))
    try:
        if len(bytes.fromhex((root / "secret.key").read_text(encoding="ascii").strip())) < 32:
            raise ValueError("shorter than 32 bytes")
    except (OSError, ValueError) as exc:
        problems.append(Problem("secret.key", f"missing or damaged ({exc})"))
    for pattern, kind in PROJECT_FILES:
        for path in sorted(root.glob(pattern)):
            try:
                read_json(path, kind)
            except FileNotFoundError:
                continue
            except RecistError as exc:
                problems.append(Problem(path.relative_to(root).as_posix(), f"damaged: {exc}"))
    return problems



def require_intact(project: Any, *, ignore_verify: bool = False, trusted_key: Any = None) -> list[Problem]:
    """Run ``project.verify()`` before results are taken from it (``results``, ``batch``, ``report``,
    ``export``).

    A project that fails verification (a damaged or tampered file, a broken audit chain) is refused
    with :class:`ReviewStateError`; ``ignore_verify`` (``--ignore-verify``, for forensic use) lets it
    through and returns the problems, which the caller states in its output. ``trusted_key``: the review
    server's public key (see :meth:`recist.review.workflow.ReviewProject.verify`).
    """
    problems = project.verify(trusted_key=trusted_key)
    if problems and not ignore_verify:
        raise ReviewStateError(
            f"{project.root} fails `recist review verify` ({len(problems)} problem(s); first: {problems[0]}): "
            f"results of a damaged or altered project are refused; run `recist review verify {project.root}`, "
            "or give --ignore-verify for forensic use"
        )
    return problems
