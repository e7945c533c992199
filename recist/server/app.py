"""The review server's HTTP API (FastAPI), a thin layer over :class:`recist.review.ReviewProject`.

Every operation of ``recist review`` is an endpoint (reader packages: a job the client polls,
:mod:`recist.server.packages`). Every endpoint authenticates the caller (``Authorization: Bearer TOKEN`` from ``POST /api/login``) and
calls the same ``ReviewProject`` method as the CLI with ``as_`` set to the authenticated user: the
identity of a request is never a parameter. Time is the server's clock. Signing, amending and
adjudicating take the password again in the same request (21 CFR 11.200(a)(1)); a wrong one is refused,
counted towards the lockout and logged in the audit trail.

Status codes: 401 not logged in, session expired, or wrong login; 403 refused (role, another reader's
read, wrong signing password: each logged in the audit trail); 404 unknown subject; 409 not allowed in
the current state; 422 invalid input. Bodies of errors are ``{"detail": "one line"}``.

Plausibility: save, sign, amend and site-read imports take ``?confirm_large_diameters=true`` (the CLI's
``--confirm-large-diameters``). Results run ``verify`` first and are refused (409) for a project that fails
it, unless ``?ignore_verify=true`` (forensic use): the answer is then ``{"results": [...], "verify_problems":
[...]}``. Administrators withdraw a subject (``POST /api/subjects/{subject}/withdraw``) and correct its
timepoints (``PUT /api/subjects/{subject}/timepoints``, folders as absolute paths on the server machine);
the library refuses (403, audited) anyone else.

No request body, password, password hash or token is ever logged; the access log holds method, path and
status only (paths carry pseudonyms, never a secret).
"""

import datetime
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from recist.errors import (
    AuditError,
    AuthenticationError,
    BlindingError,
    RecistError,
    RecistValidationError,
    ReviewStateError,
)
from recist.review.accounts import MAX_FAILURES, SESSION_IDLE_S, Accounts, SessionStore
from recist.review.keys import AuditWitness, SigningKey, project_state_dir
from recist.review.workflow import JOURNAL_NAME, ReviewProject, SubjectTimepoint

__all__ = ["ServerState", "create_app", "open_server_state"]

log = logging.getLogger(__name__)


@dataclass
class ServerState:
    """What one server process holds: the project (opened with the server key), accounts and sessions."""

    project: ReviewProject
    accounts: Accounts
    sessions: SessionStore
    key: SigningKey
    state_dir: Path  # the project's folder in the server home (accounts, DICOMweb packages)


def open_server_state(
    root: str | Path, *, home: str | Path | None = None, session_idle_s: float = SESSION_IDLE_S,
    max_failures: int = MAX_FAILURES,
) -> ServerState:
    """Open the project in ``root`` for serving: the server key must be the one the project holds.

    Raises ReviewStateError when the project has never been set up for serving (no server key or no
    account) with the command that does it, and AuditRollbackError when its audit trail is older than
    the server's witness of it (an old copy of the folder restored).
    """
    key = SigningKey.find(home)
    if key is None:
        raise ReviewStateError(
            "this machine has no review-server key (or this user may not read it): create the first "
            "administrator account with `recist review user add DIR ID --role administrator --as ID`"
        )
    state_dir = project_state_dir(root, home)
    accounts = Accounts(state_dir, max_failures=max_failures)
    project = ReviewProject.open(root, signer=key, names=accounts.names(), witness=AuditWitness(state_dir))
    project.committer.check_witness()  # an older copy of the project restored: refuse to serve it
    from recist.review.audit import project_public_key
    from recist.review.keys import key_id

    public = project_public_key(project.root)
    if public is None or key_id(public) != key.key_id:
        raise ReviewStateError(
            f"{root} is not signed with this server's key: create the first administrator account with "
            "`recist review user add DIR ID --role administrator --as ID` on this machine"
        )
    if not accounts.all():
        raise ReviewStateError(f"{root} has no accounts: add one with `recist review user add`")
    sessions = SessionStore(idle_s=session_idle_s, state_dir=state_dir)  # restored: a restart logs nobody out
    return ServerState(project=project, accounts=accounts, sessions=sessions, key=key, state_dir=state_dir)


class _Login(BaseModel):
    user: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class _Password(BaseModel):
    password: str = Field(max_length=1000)


class _PasswordChange(BaseModel):
    old: str = Field(max_length=1000)
    new: str = Field(max_length=1000)


class _Amend(BaseModel):
    case: dict[str, Any]
    reason: str = Field(max_length=5000)
    password: str = Field(max_length=1000)


class _Adjudicate(BaseModel):
    choose: str = Field(pattern="^[AB]$")
    reason: str = Field(max_length=5000)
    password: str = Field(max_length=1000)


class _Withdraw(BaseModel):
    reason: str = Field(max_length=5000)
    withdraw_reads: bool = False


class _Timepoint(BaseModel):
    label: str = Field(min_length=1, max_length=200)
    date: datetime.date
    folders: list[str] = Field(default_factory=list, max_length=100)


class _Timepoints(BaseModel):
    timepoints: list[_Timepoint] = Field(min_length=1, max_length=1000)
    reason: str = Field(max_length=5000)
    withdraw_reads: bool = False
    check_images: bool = True


@dataclass(frozen=True)
class Caller:
    """The authenticated user of a request."""

    user: str
    role: str
    name: str
    token: str


_STATUS = (
    (BlindingError, 403),
    (AuthenticationError, 401),
    (RecistValidationError, 422),
    (AuditError, 409),
    (ReviewStateError, 409),
    (RecistError, 400),
)


def _http_error(exc: RecistError) -> HTTPException:
    message = str(exc)
    if isinstance(exc, ReviewStateError) and message.startswith("no subject "):
        return HTTPException(404, message)
    code = next(code for kind, code in _STATUS if isinstance(exc, kind))
    return HTTPException(code, message)


def create_app(state: ServerState) -> FastAPI:
    """The FastAPI application serving ``state`` (see the module docstring)."""
    app = FastAPI(title="recist review server", docs_url=None, redoc_url=None, openapi_url=None)
    project, accounts, sessions = state.project, state.accounts, state.sessions

    @app.exception_handler(RecistError)
    async def _recist_error(_request: Request, exc: RecistError) -> JSONResponse:
        http = _http_error(exc)
        return JSONResponse({"detail": http.detail}, status_code=http.status_code)

    def session_caller(token: str) -> Caller:
        """The caller of a session token (401 when unknown, expired, or the account disabled or locked)."""
        user = sessions.user(token)
        if user is None:
            raise HTTPException(401, "the session has expired or is unknown: log in again",
                                headers={"WWW-Authenticate": "Bearer"})
        account = accounts.get(user)
        if account is None or account.disabled or account.locked:
            sessions.close_user(user)
            raise HTTPException(401, "the account is disabled or locked: ask the core-lab administrator",
                                headers={"WWW-Authenticate": "Bearer"})
        if sessions.password_set(token) != account.password_set:  # changed or reset since this session began
            sessions.close(token)
            raise HTTPException(401, f"the password of {user!r} changed after this session began: log in again",
                                headers={"WWW-Authenticate": "Bearer"})
        return Caller(user=user, role=account.role, name=account.name, token=token)

    def caller(request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "log in first (POST /api/login, or `recist review login URL`)",
                                headers={"WWW-Authenticate": "Bearer"})
        return session_caller(token.strip())

    Who = Annotated[Caller, Depends(caller)]

    def confirm_password(who: Caller, password: str, action: str, subject: str) -> None:
        """The signing password check of 11.200(a)(1): refused attempts are logged and count to lockout."""
        try:
            accounts.authenticate(who.user, password)
        except AuthenticationError as exc:
            project.log_event(actor=who.user, action="refused", subject=subject,
                              details={"attempted": action, "why": "wrong signing password"})
            if (account := accounts.get(who.user)) is not None and account.locked:
                sessions.close_user(who.user)
            raise HTTPException(403, f"signature refused: {exc}") from None
        project.names = accounts.names()

    def call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RecistError as exc:
            raise _http_error(exc) from None

    def log_in(user: str, password: str) -> tuple[Any, str]:
        """Check a login (audited either way); the account and a new session token."""
        try:
            account = accounts.authenticate(user, password)
        except AuthenticationError as exc:
            known = accounts.get(user)
            project.log_event(actor=user if known else "(unknown)", action="login-failed",
                              details={"user": user if known else None, "locked": bool(known and known.locked)})
            raise HTTPException(401, str(exc)) from None
        project.log_event(actor=account.user, action="login", details={"role": account.role})
        return account, sessions.open(account.user, password_set=account.password_set)

    @app.post("/api/login")
    def login(body: _Login) -> dict[str, Any]:
        account, token = log_in(body.user, body.password)
        return {"token": token, "user": account.user, "role": account.role, "name": account.name,
                "idle_timeout_s": sessions.idle_s}

    @app.post("/api/logout")
    def logout(who: Who) -> dict[str, Any]:
        sessions.close(who.token)
        project.log_event(actor=who.user, action="logout")
        return {"user": who.user, "logged_out": True}

    @app.post("/api/password")
    def change_password(body: _PasswordChange, who: Who) -> dict[str, Any]:
        """The caller's own password change: the current password, then the new one (same rules as
        ``user add``). Audited without either password; the caller's other sessions end."""
        import datetime as dt

        try:
            account = accounts.change_password(who.user, old=body.old, new=body.new, now=dt.datetime.now(dt.timezone.utc))
        except AuthenticationError as exc:
            project.log_event(actor=who.user, action="refused",
                              details={"attempted": "password-change", "why": "wrong current password"})
            if (known := accounts.get(who.user)) is not None and known.locked:
                sessions.close_user(who.user)
            raise HTTPException(403, f"password not changed: {exc}") from None
        ended = sessions.close_user(who.user, keep=who.token)
        sessions.renew(who.token, password_set=account.password_set)
        project.log_event(actor=who.user, action="password-change", details={"user": who.user, "sessions_ended": ended})
        return {"user": who.user, "changed": account.password_set, "sessions_ended": ended}

    @app.get("/api/me")
    def me(who: Who) -> dict[str, Any]:
        return {"user": who.user, "role": who.role, "name": who.name, "trial": project.charter.trial}

    status_cache: dict[str, tuple[int, list[dict[str, Any]]]] = {}
    status_cache_lock = threading.Lock()
    status_locks: dict[str, threading.Lock] = {}

    @app.get("/api/status")
    def status(who: Who) -> list[dict[str, Any]]:
        """``ReviewProject.status``, answered from a per-user cache while no file of the project changed.

        The cache entry holds the audit-log position taken before the rows were computed, and only when
        no change was half done then (no journal: every logged change had its files in place). It is
        valid while no later entry records a written file (each check moves the position to the log's end
        it saw). A user's simultaneous requests wait for one computation. A cached answer is audited like
        a computed one.
        """
        with status_cache_lock:
            user_lock = status_locks.setdefault(who.user, threading.Lock())
        with user_lock:  # one computation for a user's simultaneous requests: the others take its rows
            cached = status_cache.get(who.user)
            position = project.audit.size()
            if cached is not None and not project.audit.files_written_since(cached[0]):
                status_cache[who.user] = (position, cached[1])  # later checks read only what follows
                rows = None
            else:
                settled = not (project.root / JOURNAL_NAME).exists()
                rows = call(project.status, as_=who.user)
                if settled:
                    status_cache[who.user] = (position, rows)
        if rows is None:
            rows = cached[1]
            project.log_event(actor=who.user, action="view", details={"what": "status", "subjects": len(rows)})
        return rows

    def require_admin(who: Caller, action: str) -> None:
        if who.role != "administrator":
            project.log_event(actor=who.user, action="refused",
                              details={"attempted": action, "why": f"{who.user!r} is a {who.role}"})
            raise HTTPException(403, f"{who.user!r} is a {who.role}: only administrators may {action}")

    @app.get("/api/subjects/{subject}")
    def show(subject: str, who: Who, reader: str | None = None, version: int | None = None) -> dict[str, Any]:
        return call(project.show, subject, as_=who.user, reader=reader, version=version)

    @app.put("/api/subjects/{subject}/read")
    def save(subject: str, case: dict[str, Any], who: Who, confirm_large_diameters: bool = False) -> dict[str, Any]:
        version = call(project.save_read, subject, case, as_=who.user, confirm_large_diameters=confirm_large_diameters)
        return {"subject": subject, "version": version, "status": "draft"}

    @app.post("/api/subjects/{subject}/sign")
    def sign(subject: str, body: _Password, who: Who, confirm_large_diameters: bool = False) -> dict[str, Any]:
        confirm_password(who, body.password, "sign", subject)
        version = call(project.sign, subject, as_=who.user, confirm_large_diameters=confirm_large_diameters)
        return {"subject": subject, "version": version, "status": "signed"}

    @app.post("/api/subjects/{subject}/amend")
    def amend(subject: str, body: _Amend, who: Who, confirm_large_diameters: bool = False) -> dict[str, Any]:
        confirm_password(who, body.password, "amend", subject)
        version = call(project.amend, subject, body.case, as_=who.user, reason=body.reason,
                       confirm_large_diameters=confirm_large_diameters)
        return {"subject": subject, "version": version, "status": "signed"}

    @app.post("/api/subjects/{subject}/adjudicate")
    def adjudicate(subject: str, body: _Adjudicate, who: Who) -> dict[str, Any]:
        confirm_password(who, body.password, "adjudicate", subject)
        return call(project.adjudicate, subject, choose=body.choose, reason=body.reason, as_=who.user)

    @app.put("/api/subjects/{subject}/site-read")
    def import_site_read(subject: str, case: dict[str, Any], who: Who,
                         confirm_large_diameters: bool = False) -> dict[str, Any]:
        done = call(project.import_site_read, subject, case, as_=who.user,
                    confirm_large_diameters=confirm_large_diameters)
        return {"subject": subject, "site_read": "imported", "replaced": done["replaced"]}

    @app.post("/api/subjects/{subject}/withdraw")
    def withdraw_subject(subject: str, body: _Withdraw, who: Who) -> dict[str, Any]:
        return call(project.withdraw_subject, subject, reason=body.reason, as_=who.user,
                    withdraw_reads=body.withdraw_reads)

    @app.put("/api/subjects/{subject}/timepoints")
    def correct_timepoints(subject: str, body: _Timepoints, who: Who) -> dict[str, Any]:
        timepoints = [SubjectTimepoint(tp.label, tp.date, tuple(tp.folders)) for tp in body.timepoints]
        return call(project.correct_timepoints, subject, timepoints, reason=body.reason, as_=who.user,
                    withdraw_reads=body.withdraw_reads, check_images=body.check_images)

    @app.get("/api/results", response_model=None)
    def results(who: Who, format: str = "json", ignore_verify: bool = False) -> Any:
        from recist.review.integrity import require_intact

        require_admin(who, "export results")  # before verify: its findings are for administrators
        damaged = call(require_intact, project, ignore_verify=ignore_verify, trusted_key=state.key.public)
        rows = call(project.results, as_=who.user)
        shown: Any = ReviewProject.results_csv(rows) if format == "csv" else rows
        if ignore_verify:
            return {"results": shown, "verify_problems": [str(problem) for problem in damaged]}
        if format == "csv":
            return PlainTextResponse(shown, media_type="text/csv")
        return rows

    @app.get("/api/report")
    def report(who: Who, ignore_verify: bool = False) -> dict[str, Any]:
        from recist.review.integrity import require_intact

        require_admin(who, "see the agreement report")  # before verify: its findings are for administrators
        damaged = call(require_intact, project, ignore_verify=ignore_verify, trusted_key=state.key.public)
        shown = call(project.report, as_=who.user)
        if ignore_verify:
            return {"report": shown, "verify_problems": [str(problem) for problem in damaged]}
        return shown

    @app.get("/api/verify")
    def verify(who: Who) -> dict[str, Any]:
        require_admin(who, "verify the project")
        problems = call(project.verify, trusted_key=state.key.public)
        return {"intact": not problems, "problems": [str(p) for p in problems]}

    @app.get("/api/audit")
    def audit(who: Who, since: str | None = None) -> list[dict[str, Any]]:
        require_admin(who, "read the audit trail")
        from recist.review.audit_table import audit_rows

        return call(audit_rows, project.root, since=since)

    from recist.server.dicomweb import add_dicomweb_routes
    from recist.server.packages import PackageJobs, add_package_routes
    from recist.server.status_page import add_status_page

    add_dicomweb_routes(app, state, caller)
    add_package_routes(app, PackageJobs(project, state.state_dir / "exports", _http_error), caller=caller,
                       require_admin=require_admin)
    add_status_page(app, state, caller=caller, session_caller=session_caller, log_in=log_in,
                    require_admin=require_admin)
    app.state.recist = state
    return app
