"""User accounts and sessions of a served review project (21 CFR 11.10(d), 11.300).

Accounts live in the project's state folder of the server home (:func:`recist.review.keys.project_state_dir`),
never in the project folder: ``accounts.json``, mode 0600, one entry per person::

    {"format": "recist.review.accounts/1",
     "users": {"R1": {"name": "Dr Ada Reader", "role": "reader", "hash": "$argon2id$...",
                      "disabled": false, "failures": 0, "changed": "2026-12-04T16:00:00+00:00"}}}

- A user id is a person of the charter, and the role must be the charter's role for them: the charter
  stays the one place that says who may do what; the account proves who is asking.
- Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106); at least
  :data:`MIN_PASSWORD_LENGTH` characters.
- After ``max_failures`` wrong passwords in a row (login, signing or a password change) the account is
  locked until an administrator resets its password (``recist review user reset``); a correct password
  resets the count.
- A user changes their own password with the current one (:meth:`Accounts.change_password`,
  ``recist review passwd --server URL``); an administrator sets a forgotten one (:meth:`Accounts.reset`).
  Either way the account's ``password_set`` time changes, and a session opened before it is no longer
  accepted (the server compares the two on every request): the user's other sessions end.
- Unknown users and wrong passwords get the same message, and an unknown user costs one hash check too,
  so neither the answer nor its timing tells whether an account exists.

Sessions (:class:`SessionStore`) are held in the server's memory: a random token (256 bits) whose
SHA-256 is the key, expiring after ``idle_s`` seconds without a request (30 minutes by default). The
server also keeps them in ``sessions.json`` of the project's state folder (mode 0600): the SHA-256 of
each token (never the token, which cannot be rebuilt from it), its user, the password time it was opened
under and its expiry (UTC, seconds), so that a restart does not log everyone out. The expiry on disk is
renewed at most every tenth of ``idle_s``: a session restored after a restart may end up to that much
earlier than it would have.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from filelock import FileLock

from recist._atomic import atomic_write_json
from recist.errors import AuthenticationError, RecistValidationError, ReviewStateError

log = logging.getLogger(__name__)

__all__ = [
    "ACCOUNTS_NAME",
    "ROLES",
    "MIN_PASSWORD_LENGTH",
    "MAX_FAILURES",
    "SESSION_IDLE_S",
    "Account",
    "Accounts",
    "SessionStore",
    "SESSIONS_NAME",
]

ACCOUNTS_NAME = "accounts.json"
ACCOUNTS_FORMAT = "recist.review.accounts/1"
ROLES = ("reader", "adjudicator", "administrator")
MIN_PASSWORD_LENGTH = 12
MAX_FAILURES = 5
SESSION_IDLE_S = 30 * 60

_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_REFUSED = "wrong user or password"


@dataclass(frozen=True)
class Account:
    """One person's account (no secret: the hash stays in the file)."""

    user: str
    name: str
    role: str
    disabled: bool
    failures: int
    locked: bool
    password_set: str  # when the password was last set (ISO time): sessions opened before it end


class Accounts:
    """The accounts file in ``state_dir`` (created 0700/0600 on first write).

    Parameters
    ----------
    state_dir
        The project's state folder in the server home.
    max_failures
        Wrong passwords in a row that lock an account.
    min_length
        Minimum password length (characters).
    """

    def __init__(self, state_dir: str | os.PathLike[str], *, max_failures: int = MAX_FAILURES,
                 min_length: int = MIN_PASSWORD_LENGTH) -> None:
        self.dir = Path(state_dir)
        self.path = self.dir / ACCOUNTS_NAME
        self.max_failures = max_failures
        self.min_length = min_length
        self._thread_lock = threading.RLock()
        self._cache: tuple[tuple[int, int], dict[str, Any]] | None = None
        self._dummy = _HASHER.hash(secrets.token_hex(16))

    # ------------------------------------------------------------------ storage
    def _file_lock(self) -> FileLock:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return FileLock(str(self.dir / ".accounts.lock"))

    def _load(self) -> dict[str, Any]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {"format": ACCOUNTS_FORMAT, "users": {}}
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._cache is not None and self._cache[0] == stamp:
            return json.loads(json.dumps(self._cache[1]))
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReviewStateError(f"{self.path}: unreadable accounts file ({exc}); restore it from the backup") from None
        if not isinstance(data, dict) or data.get("format") != ACCOUNTS_FORMAT or not isinstance(data.get("users"), dict):
            raise ReviewStateError(f"{self.path}: not a {ACCOUNTS_FORMAT} file; restore it from the backup")
        self._cache = (stamp, data)
        return json.loads(json.dumps(data))

    def _save(self, data: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.dir.chmod(0o700)
        _write_private(self.path, data)

    @staticmethod
    def _account(user: str, entry: Mapping[str, Any], max_failures: int) -> Account:
        failures = int(entry.get("failures", 0))
        return Account(user=user, name=str(entry["name"]), role=str(entry["role"]), disabled=bool(entry["disabled"]),
                       failures=failures, locked=failures >= max_failures,
                       password_set=str(entry.get("password_set", "")))

    # ------------------------------------------------------------------ queries
    def get(self, user: str) -> Account | None:
        entry = self._load()["users"].get(user)
        return None if entry is None else self._account(user, entry, self.max_failures)

    def all(self) -> list[Account]:
        return [self._account(u, e, self.max_failures) for u, e in sorted(self._load()["users"].items())]

    def names(self) -> dict[str, str]:
        """Person id -> printed name (for signatures)."""
        return {u: str(e["name"]) for u, e in self._load()["users"].items()}

    # ------------------------------------------------------------------ administration
    def _check_password(self, user: str, password: str) -> None:
        if not isinstance(password, str) or len(password) < self.min_length:
            raise RecistValidationError(
                f"the password of {user!r} must have at least {self.min_length} characters", field="password"
            )
        if password.strip() != password or password.lower() == user.lower():
            raise RecistValidationError(
                f"the password of {user!r} must not start or end with a space nor be the user id", field="password"
            )

    def add(self, user: str, *, role: str, name: str, password: str, charter_role: str | None,
            now: _dt.datetime) -> Account:
        """Create an account; ``charter_role`` is the charter's role for ``user`` (must equal ``role``)."""
        if role not in ROLES:
            raise RecistValidationError(f"role {role!r} is not one of {', '.join(ROLES)}", field="role")
        if charter_role != role:
            where = f"a {charter_role}" if charter_role else "not named"
            raise RecistValidationError(
                f"{user!r} is {where} in the charter, not a {role}: accounts are for the charter's people"
            )
        if not isinstance(name, str) or not name.strip():
            raise RecistValidationError(f"give the printed name of {user!r} (--name \"Dr A. Reader\")", field="name")
        self._check_password(user, password)
        with self._thread_lock, self._file_lock():
            data = self._load()
            if user in data["users"]:
                raise ReviewStateError(f"{user!r} already has an account: use `user reset` to set a new password")
            data["users"][user] = {"name": name.strip(), "role": role, "hash": _HASHER.hash(password),
                                   "disabled": False, "failures": 0, "changed": now.isoformat(),
                                   "password_set": now.isoformat()}
            self._save(data)
        return self._account(user, data["users"][user], self.max_failures)

    def _update(self, user: str, **changes: Any) -> Account:
        with self._thread_lock, self._file_lock():
            data = self._load()
            if user not in data["users"]:
                raise ReviewStateError(f"{user!r} has no account: create it with `recist review user add`")
            data["users"][user].update(changes)
            self._save(data)
            return self._account(user, data["users"][user], self.max_failures)

    def disable(self, user: str, *, now: _dt.datetime) -> Account:
        """Disable an account (it can no longer log in or sign; its sessions end)."""
        return self._update(user, disabled=True, changed=now.isoformat())

    def enable(self, user: str, *, now: _dt.datetime) -> Account:
        """Enable a disabled account again."""
        return self._update(user, disabled=False, changed=now.isoformat())

    def reset(self, user: str, *, password: str, now: _dt.datetime) -> Account:
        """Set a new password and clear the failure count (unlocks a locked account); ends its sessions."""
        self._check_password(user, password)
        return self._update(user, hash=_HASHER.hash(password), failures=0, changed=now.isoformat(),
                            password_set=now.isoformat())

    def change_password(self, user: str, *, old: str, new: str, now: _dt.datetime) -> Account:
        """The user's own change: ``old`` must be right (a wrong one counts to the lockout, AuthenticationError),
        ``new`` follows the rules of :meth:`add` and differs from ``old`` (RecistValidationError)."""
        self.authenticate(user, old)
        self._check_password(user, new)
        if new == old:
            raise RecistValidationError(f"the new password of {user!r} is the current one: choose another",
                                        field="password")
        return self._update(user, hash=_HASHER.hash(new), failures=0, changed=now.isoformat(),
                            password_set=now.isoformat())

    # ------------------------------------------------------------------ authentication
    def authenticate(self, user: str, password: str) -> Account:
        """The account of ``user`` when ``password`` is right; AuthenticationError otherwise.

        A wrong password counts one failure; the ``max_failures``-th locks the account.
        """
        if not isinstance(user, str) or not isinstance(password, str):
            raise AuthenticationError(_REFUSED)
        with self._thread_lock:
            entry = self._load()["users"].get(user)
            if entry is None:
                _verify(self._dummy, password)
                raise AuthenticationError(_REFUSED)
            account = self._account(user, entry, self.max_failures)
            if account.disabled:
                raise AuthenticationError(f"the account of {user!r} is disabled: ask the core-lab administrator")
            if account.locked:
                raise AuthenticationError(
                    f"the account of {user!r} is locked after {self.max_failures} wrong passwords: "
                    "ask the core-lab administrator to reset it"
                )
            if _verify(str(entry["hash"]), password):
                if account.failures:
                    self._update(user, failures=0)
                return self._account(user, {**entry, "failures": 0}, self.max_failures)
            account = self._update(user, failures=account.failures + 1)
            if account.locked:
                raise AuthenticationError(
                    f"{_REFUSED}; the account of {user!r} is now locked after {self.max_failures} wrong passwords"
                )
            raise AuthenticationError(_REFUSED)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` atomically, mode 0600 whatever the umask."""
    if not path.exists():  # atomic_write keeps an existing file's mode: create it private first
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    atomic_write_json(path, data)
    path.chmod(0o600)


@dataclass
class _Session:
    user: str
    last_seen: float
    password_set: str


SESSIONS_NAME = "sessions.json"
SESSIONS_FORMAT = "recist.review.sessions/1"


class SessionStore:
    """Login sessions: token -> user, ending after ``idle_s`` seconds without use.

    ``clock`` (seconds, monotonic) is passed in for tests. With ``state_dir`` (the project's state folder)
    the sessions are also kept in ``sessions.json`` there and restored at start (see the module docstring);
    ``wall`` is the UTC clock (seconds since the epoch) of their expiry times.
    """

    def __init__(self, idle_s: float = SESSION_IDLE_S, clock: Any = time.monotonic,
                 state_dir: str | os.PathLike[str] | None = None, wall: Any = time.time) -> None:
        self.idle_s = idle_s
        self._clock = clock
        self._wall = wall
        self._sessions: dict[str, _Session] = {}
        self._saved_expiry: dict[str, float] = {}  # key -> the expiry written to the file
        self._lock = threading.Lock()
        self.path = Path(state_dir) / SESSIONS_NAME if state_dir is not None else None
        if self.path is not None:
            self._restore()

    def _restore(self) -> None:
        """Load the unexpired sessions of the file (a damaged file is warned of and starts empty)."""
        assert self.path is not None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != SESSIONS_FORMAT:
                raise ValueError(f"not a {SESSIONS_FORMAT} file")
            records = dict(data["sessions"])
            now_wall, now = self._wall(), self._clock()
            for key, record in records.items():
                remaining = float(record["expires"]) - now_wall
                if 0 < remaining <= self.idle_s and isinstance(key, str) and len(key) == 64:
                    self._sessions[key] = _Session(str(record["user"]), now - (self.idle_s - remaining),
                                                   str(record.get("password_set", "")))
                    self._saved_expiry[key] = float(record["expires"])
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            log.warning("%s is unreadable (%s): every session starts anew", self.path, exc)
            self._sessions.clear()
            self._saved_expiry.clear()

    def _save(self) -> None:
        """Write the sessions to the file (the caller holds the lock)."""
        if self.path is None:
            return
        now_wall, now = self._wall(), self._clock()
        records = {}
        for key, session in self._sessions.items():
            expires = now_wall + self.idle_s - (now - session.last_seen)
            records[key] = {"user": session.user, "password_set": session.password_set, "expires": round(expires, 3)}
            self._saved_expiry[key] = expires
        for key in set(self._saved_expiry) - set(records):
            del self._saved_expiry[key]
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_private(self.path, {"format": SESSIONS_FORMAT, "sessions": records})

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    def open(self, user: str, *, password_set: str = "") -> str:
        """A new session for ``user`` whose password was set at ``password_set`` (:attr:`Account.password_set`);
        returns its token (shown once, never stored)."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[self._key(token)] = _Session(user, self._clock(), password_set)
            self._save()
        return token

    def password_set(self, token: str) -> str | None:
        """The :attr:`Account.password_set` the session of ``token`` was opened (or last renewed) under."""
        with self._lock:
            session = self._sessions.get(self._key(token))
            return None if session is None else session.password_set

    def renew(self, token: str, *, password_set: str) -> None:
        """Keep the session of ``token`` after its user changed their password in it."""
        with self._lock:
            session = self._sessions.get(self._key(token))
            if session is not None:
                session.password_set = password_set
                self._save()

    def user(self, token: str) -> str | None:
        """The user of a live session (and keep it alive), or None when unknown or expired."""
        now = self._clock()
        with self._lock:
            session = self._sessions.get(self._key(token))
            if session is None:
                return None
            if now - session.last_seen > self.idle_s:
                del self._sessions[self._key(token)]
                self._save()
                return None
            session.last_seen = now
            saved = self._saved_expiry.get(self._key(token))
            if self.path is not None and (saved is None or self._wall() + self.idle_s - saved > self.idle_s / 10):
                self._save()  # the expiry on disk lags by more than a tenth of idle_s
            return session.user

    def close(self, token: str) -> None:
        with self._lock:
            if self._sessions.pop(self._key(token), None) is not None:
                self._save()

    def close_user(self, user: str, *, keep: str | None = None) -> int:
        """End every session of ``user`` (account disabled, locked or password changed) but the one of the
        token ``keep``; the number ended."""
        kept = self._key(keep) if keep is not None else None
        with self._lock:
            ended = [k for k, s in self._sessions.items() if s.user == user and k != kept]
            for key in ended:
                del self._sessions[key]
            if ended:
                self._save()
        return len(ended)
