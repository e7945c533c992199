"""Rotating the review server's Ed25519 signing key (``recist review rotate-key``).

A key is rotated when it may have leaked, when a staff member who could read it leaves, or on a
schedule. The server home keeps one key, which signs every project it serves, so a rotation covers all of
them at once. For each project the rotation is one audit entry, action ``server-key-rotate``::

    {"action": "server-key-rotate", "details": {"old_key": ID, "new_key": ID,
     "old_public_key": PEM, "new_public_key": PEM, "endorsement": BASE64}, "key": NEW ID, "sig": ...}

- ``endorsement`` is the **old** key's Ed25519 signature of :func:`rotation_message` (the old key id and
  the new raw public key): the key that signed the trail so far vouches for its successor;
- the entry itself is signed by the **new** key (its hash covers the whole chain before it), so a forger
  without the new private key cannot rewrite anything before it, and every later entry is signed by the
  new key too;
- the entry writes the new key to ``server_key.pub`` and keeps both public keys in the trail, so entries
  signed before the rotation stay verifiable with the key that signed them.

:func:`key_chain` reads the chain back for :func:`recist.review.audit.check_entry_signatures`: the key
installed by the ``server-key`` entry, then each endorsed successor. A rotation record whose endorsement
does not verify with the key in force (a forger's own key written into the trail) is reported, and so is
an entry signed with a key other than the one in force. ``verify --public-key`` accepts any key of the
chain (a sponsor's copy of the first key still verifies after rotations).

On the server machine :func:`rotate` writes the new private key beside the old one (``server.key.new``,
0600), records the rotation in every project, then replaces ``server.key`` with it: the old private key
is gone (a leaked old key can no longer sign anything that verifies after the rotation). Interrupted,
running it again finishes with the same new key. The server must be stopped (:func:`serving_lock`).
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from filelock import FileLock, Timeout

from recist.errors import AuditError, ReviewStateError
from recist.review.keys import (
    KEY_NAME,
    PUBLIC_KEY_NAME,
    SigningKey,
    key_id,
    load_public_key,
    server_home,
    verify_signature,
)

__all__ = [
    "ROTATE_ACTION",
    "rotation_message",
    "rotation_details",
    "KeyChain",
    "key_chain",
    "chain_keys",
    "rotate",
    "serving_lock",
]

ROTATE_ACTION = "server-key-rotate"
NEW_KEY_NAME = KEY_NAME + ".new"
SERVING_LOCK_NAME = "serving.lock"


def rotation_message(old_id: str, new: Ed25519PublicKey) -> bytes:
    """What the old key signs to endorse ``new``: a format tag, the old key id and the new raw public key."""
    raw = new.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"recist.review.key-rotation/1\n{old_id}\n{raw.hex()}\n".encode("ascii")


def rotation_details(old: SigningKey, new: SigningKey) -> dict[str, str]:
    """The ``details`` of a ``server-key-rotate`` entry (see the module docstring)."""
    return {"old_key": old.key_id, "new_key": new.key_id,
            "old_public_key": old.public_pem().decode("ascii"), "new_public_key": new.public_pem().decode("ascii"),
            "endorsement": old.sign(rotation_message(old.key_id, new.public))}


@dataclass
class KeyChain:
    """The keys of a trail in force entry by entry (:func:`key_chain`)."""

    in_force: list[str | None]  # per entry: the id of the key that must have signed it (None: not yet served)
    keys: dict[str, Ed25519PublicKey]  # id -> public key, for the ids of the chain
    order: list[str]  # the chain's key ids, first installed first
    problems: list[tuple[int, str]]  # (index of the entry, what is wrong)


def key_chain(entries: Sequence[Mapping[str, Any]], current: Ed25519PublicKey | None) -> KeyChain:
    """Follow the server keys of ``entries`` (the trail in order); ``current`` is the project's public key.

    The ``server-key`` entry puts its key in force (its public key is ``current`` until the first
    rotation, then the rotation's ``old_public_key``); each ``server-key-rotate`` entry whose endorsement
    verifies with the key in force puts its new key in force from that entry on. A rotation that is not
    endorsed is a problem; its key is put in force all the same, so the entries after it are not each
    reported again.
    """
    keys: dict[str, Ed25519PublicKey] = {}
    if current is not None:
        keys[key_id(current)] = current
    chain = KeyChain(in_force=[], keys=keys, order=[], problems=[])
    active: str | None = None
    for index, entry in enumerate(entries):
        details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
        action = entry.get("action")
        if action == "server-key" and active is None:
            active = str(details.get("key") or entry.get("key") or "")
            chain.order.append(active)
        elif action == ROTATE_ACTION:
            active = _follow(chain, index, details, active)
        chain.in_force.append(active)
    return chain


def _public(chain: KeyChain, pem: object, claimed: object, index: int, what: str) -> Ed25519PublicKey | None:
    try:
        public = load_public_key(str(pem).encode("utf-8"), source=f"the {what} public key of the rotation")
    except AuditError as exc:
        chain.problems.append((index, str(exc)))
        return None
    if key_id(public) != claimed:
        chain.problems.append((index, f"the {what} public key is key {key_id(public)}, not {claimed}"))
        return None
    return public


def _follow(chain: KeyChain, index: int, details: Mapping[str, Any], active: str | None) -> str | None:
    """Check one rotation record against the key in force; the key in force after it."""
    old_id, new_id = details.get("old_key"), details.get("new_key")
    if active is None:
        chain.problems.append((index, "a key rotation before any server key was installed"))
    elif old_id != active:
        chain.problems.append((index, f"rotates key {old_id}, but the key in force is {active}"))
    old = _public(chain, details.get("old_public_key"), old_id, index, "old")
    new = _public(chain, details.get("new_public_key"), new_id, index, "new")
    if old is not None and active is not None and old_id == active:
        chain.keys.setdefault(active, old)
    known = chain.keys.get(active) if active is not None else None
    if new is not None:
        if known is None or not verify_signature(known, rotation_message(str(active), new), details.get("endorsement")):
            chain.problems.append((index, f"the new key {new_id} is not endorsed by the key in force {active}: "
                                          "a key record not made by the server"))
        chain.keys.setdefault(str(new_id), new)
    if not isinstance(new_id, str) or not new_id:
        return active
    chain.order.append(new_id)
    return new_id


def chain_keys(root: str | os.PathLike[str], trusted_key: Ed25519PublicKey | None = None) -> dict[str, Ed25519PublicKey]:
    """The public keys of the project's key chain by key id (electronic signatures name the key that made
    them); only ``trusted_key`` when it is given and not in the chain (the project's keys were replaced)."""
    from recist.review.audit import AuditLog, project_public_key

    chain = key_chain(list(AuditLog(Path(root)).entries()), project_public_key(root))
    if trusted_key is not None and key_id(trusted_key) not in chain.order:
        return {key_id(trusted_key): trusted_key}
    return dict(chain.keys)


# ---------------------------------------------------------------------------------------------- the server machine
def serving_lock(state_dir: str | os.PathLike[str]) -> FileLock:
    """The lock a running server holds on a project's state folder (taken without waiting).

    ``recist review serve`` holds it while it serves; :func:`rotate` takes it too, so a key is never
    rotated under a running server (which would go on signing with the old key).
    """
    Path(state_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    return FileLock(str(Path(state_dir) / SERVING_LOCK_NAME), timeout=0)


def rotate(roots: Iterable[str | os.PathLike[str]], *, as_: str, home: str | os.PathLike[str] | None = None,
           now: _dt.datetime | None = None) -> tuple[str, str]:
    """Replace the server home's key by a new one and record the rotation in every project it serves.

    Parameters
    ----------
    roots
        Every project this server home serves (each must be signed with the home's key, or already with
        the new key of an interrupted rotation).
    as_
        The administrator rotating (an administrator of every project's charter).
    home
        The server home (default :func:`recist.review.keys.server_home`).
    now
        The time recorded (default: the clock, UTC).

    Returns
    -------
    (old key id, new key id)
    """
    from recist.review.audit import project_public_key
    from recist.review.keys import project_state_dir
    from recist.review.workflow import ReviewProject

    base = server_home(home)
    old = SigningKey.find(home)
    if old is None:
        raise ReviewStateError(f"{base / KEY_NAME}: no server key here (or this user may not read it): run "
                               "rotate-key on the server machine as the server's user")
    roots = [Path(r) for r in roots]
    states = {project_state_dir(root, home) for root in roots}
    others = sorted(p.name for p in (base / "projects").glob("*") if p.is_dir() and p not in states)
    if others:
        raise ReviewStateError(f"this server key also signs {', '.join(others)} (in {base / 'projects'}): name every "
                               "project it serves, one rotation covers them all")
    new_path = base / NEW_KEY_NAME
    new = SigningKey.load(new_path) if new_path.exists() else None  # an interrupted rotation is finished
    projects = []
    for root in roots:
        public = project_public_key(root)
        current = key_id(public) if public is not None else None
        if current not in (old.key_id, new.key_id if new else None):
            raise ReviewStateError(f"{root / PUBLIC_KEY_NAME} holds key {current}, not this server's key {old.key_id}")
        projects.append((root, current))
    locks = [serving_lock(state) for state in sorted(states)]
    held = []
    try:
        for lock in locks:
            try:
                lock.acquire()
            except Timeout:
                raise ReviewStateError("the review server is running for these projects: stop it, rotate the key, "
                                       "start it again") from None
            held.append(lock)
        if new is None:
            new = SigningKey.create(new_path)
        for root, current in projects:
            if current == new.key_id:
                continue
            project = ReviewProject.open(root, signer=old)
            _rotate_project(project, old, new, as_=as_, now=now)
        os.replace(new_path, base / KEY_NAME)
        fd = os.open(base, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        for lock in held:
            lock.release()
    return old.key_id, new.key_id


def _rotate_project(project: Any, old: SigningKey, new: SigningKey, *, as_: str, now: _dt.datetime | None) -> None:
    """Append the rotation entry (signed by ``new``) that writes ``new``'s public key to the project."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    project._require(as_, ["administrator"], "rotate the server key", now)  # noqa: SLF001 - part of the project
    with project._locked():  # noqa: SLF001
        project.signer = project.audit.signer = new
        project._commit_raw(actor=as_, action=ROTATE_ACTION, now=now, subject=None,  # noqa: SLF001
                            raw={project.root / PUBLIC_KEY_NAME: new.public_pem()},
                            details=rotation_details(old, new))

