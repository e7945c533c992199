"""Electronic signatures of reads and adjudications (21 CFR 11.50, 11.70).

A signature block, stored with the record it signs::

    {"signer": "R1", "name": "Dr Ada Reader", "time": "2026-12-04T16:00:00+00:00",
     "meaning": "author of this read", "subject": "S-1A2B3C4D",
     "record_sha256": "<SHA-256 of the record without its signature>",
     "key": "<server key id>", "sig": "<Ed25519 signature, base64>"}

11.50: the printed name of the signer, the date and time (the server's UTC clock) and the meaning.
11.70: the signature is linked to its record: ``record_sha256`` is the SHA-256 of the record's canonical
JSON (sorted keys, no spaces) without the ``signature`` key, and ``sig`` is the server's Ed25519 signature
(:mod:`recist.review.keys`) of the block's canonical JSON without ``sig``. Changing the record (a PR made
PD) makes ``record_sha256`` wrong; changing the block (the time moved) breaks ``sig``; neither can be
re-signed without the server's private key. A project that was never served (simulations) has blocks
without ``key``/``sig``; the record hash is still written and checked.

The signer's password is checked by the caller (the server) in the same request (11.200(a)(1)).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recist.review.audit import Problem
from recist.review.keys import SigningKey, verify_signature

__all__ = ["record_sha256", "signature_block", "check_record_signatures"]


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_sha256(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a record's canonical JSON without its ``signature`` key."""
    return hashlib.sha256(_canonical({k: v for k, v in record.items() if k != "signature"})).hexdigest()


def signature_block(
    record: Mapping[str, Any], *, signer: str, name: str, meaning: str, subject: str, now: _dt.datetime,
    key: SigningKey | None,
) -> dict[str, Any]:
    """The signature of ``record`` by ``signer`` (printed ``name``) with ``meaning`` at ``now`` (UTC)."""
    block: dict[str, Any] = {
        "signer": signer, "name": name, "time": now.astimezone(_dt.timezone.utc).isoformat(), "meaning": meaning,
        "subject": subject, "record_sha256": record_sha256(record),
    }
    if key is not None:
        block["key"] = key.key_id
        block["sig"] = key.sign(_canonical(block))
    return block


def _signed_records(root: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, record) of every signed read version and adjudication of the project."""
    for path in sorted((root / "subjects").glob("*/reads/*.json")):
        try:
            read = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue  # unreadable files are reported by the audit check of their hash
        versions = read.get("versions") if isinstance(read, dict) else None
        archived = read.get("withdrawn_reads") if isinstance(read, dict) else None  # kept after a correction
        for group in archived if isinstance(archived, list) else []:
            group_versions = group.get("versions") if isinstance(group, dict) else None
            for version in group_versions if isinstance(group_versions, list) else []:
                if isinstance(version, dict) and version.get("signature"):
                    yield f"{path.relative_to(root).as_posix()} withdrawn version {version.get('version')}", version
        for version in versions if isinstance(versions, list) else []:
            if isinstance(version, dict) and version.get("signature"):
                yield f"{path.relative_to(root).as_posix()} version {version.get('version')}", version
    for path in sorted((root / "subjects").glob("*/adjudication.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(record, dict) and record.get("signature"):
            yield path.relative_to(root).as_posix(), record


def check_record_signatures(root: str | Path, public: Ed25519PublicKey | Mapping[str, Ed25519PublicKey] | None, *,
                            required: bool) -> list[Problem]:
    """Every signed record whose signature does not match it.

    Parameters
    ----------
    root
        The project folder.
    public
        The server's public key, or its keys by key id when the key was rotated (each signature is checked
        with the key it names, :func:`recist.review.key_rotation.chain_keys`); None for a project never
        served: only record hashes are checked.
    required
        True when every signature must carry the server's signature (the key was installed before the
        first signature was made).
    """
    problems = []
    for label, record in _signed_records(Path(root)):
        block = record["signature"]
        if not isinstance(block, dict):
            problems.append(Problem(label, "the signature is not an object"))
            continue
        if "record_sha256" in block and block["record_sha256"] != record_sha256(record):
            problems.append(Problem(label, f"the record no longer matches its signature by {block.get('signer')} "
                                    f"({block.get('time')}): it was changed after signing"))
        if "sig" in block:
            body = {k: v for k, v in block.items() if k != "sig"}
            key = public.get(str(block.get("key"))) if isinstance(public, Mapping) else public
            if key is None or not verify_signature(key, _canonical(body), block["sig"]):
                problems.append(Problem(label, f"the server signature of {block.get('signer')}'s signature does not "
                                        "match: the signature block was changed"))
        elif required:
            problems.append(Problem(label, "the signature is not signed by the review server"))
    return problems
