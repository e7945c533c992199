"""``recist review`` verbs of the review server: serve, user, rotate-key, login, passwd, logout, audit, and
``--server URL``.

Two ways to act on a review:

- through the server (``--server URL`` after ``recist review login URL``): readers, adjudicators and
  administrators anywhere; the server knows who you are from your login;
- directly on the project folder (``DIR --as ID``): only for administrators on the server machine (as
  the server's user, who can read its key) and for projects that are not served (simulations, tests).
  On a served project a reader or adjudicator acting with ``--as`` on the folder is refused.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recist.errors import RecistValidationError

__all__ = ["add_server_verbs", "with_server", "first_admin", "trusted_key_for", "intermixed"]

AS_HELP = ("act directly on the project folder as ID: only administrators on the server machine, and projects "
           "that are not served (simulations); everyone else works with --server URL")
SERVER_HELP = "work through the review server at URL (log in first with `recist review login URL`)"
REMOTE_VERBS = ("package", "save", "sign", "amend", "show", "status", "adjudicate", "results", "report",
                "import-site-read", "withdraw-subject", "correct-timepoints", "verify")


class _IntermixedParser(argparse.ArgumentParser):
    """A verb parser whose positionals may sit among its options even when the first is optional.

    ``package [DIR] --reader R OUT``: plain argparse gives the first positional it meets to the last
    positional slot that can take it (OUT), then refuses the real OUT; intermixed parsing collects the
    positionals first (the verb has no sub-verbs, which intermixed parsing does not support).
    """

    _inner = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def intermixed(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Make a verb's parser an :class:`_IntermixedParser` (see there)."""
    parser.__class__ = _IntermixedParser
    return parser


def _password(args: argparse.Namespace, prompt: str, *, confirm: bool = False) -> str:
    """A password from standard input (``--password-stdin``: the first line) or the terminal (not echoed)."""
    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline()
        if not line:
            raise RecistValidationError("--password-stdin: standard input is empty")
        return line.rstrip("\r\n")
    password = getpass.getpass(prompt)
    if confirm and getpass.getpass("again: ") != password:
        raise RecistValidationError("the two passwords differ: nothing was changed")
    return password


def _home(args: argparse.Namespace) -> Any:
    return getattr(args, "server_home", None)


def _case(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecistValidationError(f"cannot read the case file: {exc}", source=path) from None
    if not isinstance(data, dict):
        raise RecistValidationError("a case file holds one JSON object", source=path)
    return data


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------- accounts
def _set_up_serving(project: Any, as_: str, home: Any) -> Any:
    """Open ``project`` with the server key (created on first use) and put its public key in the project."""
    from recist.review.keys import AuditWitness, SigningKey, project_state_dir
    from recist.review.workflow import ReviewProject

    key = SigningKey.load_or_create(home)
    served = ReviewProject.open(project.root, signer=key, witness=AuditWitness(project_state_dir(project.root, home)))
    served.install_server_key(as_=as_)
    project_state_dir(project.root, home).mkdir(parents=True, exist_ok=True, mode=0o700)
    return served


def _add_account(project: Any, args: argparse.Namespace, user: str, role: str, name: str, as_: str) -> None:
    import datetime as dt

    from recist.review.accounts import Accounts
    from recist.review.keys import project_state_dir

    project = _set_up_serving(project, as_, _home(args))
    password = _password(args, f"password for {user} (at least 12 characters): ", confirm=True)
    accounts = Accounts(project_state_dir(project.root, _home(args)))
    account = accounts.add(user, role=role, name=name, password=password, charter_role=project.charter.role_of(user),
                           now=dt.datetime.now(dt.timezone.utc))
    project.log_event(actor=as_, action="account-add", details={"user": user, "role": role, "name": account.name})
    print(f"account {user} ({role}, {account.name}) created; server key {project.signer.key_id}")


def first_admin(args: argparse.Namespace, project: Any) -> None:
    """At ``review init``: create the first administrator's account with a password prompt.

    Skipped (with a note) when standard input is not a terminal and ``--password-stdin`` is not given,
    or with ``--no-account`` (a project that will not be served: simulations, scripts).
    """
    if getattr(args, "no_account", False):
        return
    if not getattr(args, "password_stdin", False) and not sys.stdin.isatty():
        print(f"no account created (no terminal for the password prompt): before serving, run "
              f"`recist review user add {args.dir} {args.as_} --role administrator --name NAME --as {args.as_}`",
              file=sys.stderr)
        return
    _add_account(project, args, args.as_, "administrator", args.name or args.as_, args.as_)


def _user(args: argparse.Namespace) -> int:
    import datetime as dt

    from recist.errors import BlindingError
    from recist.review.accounts import Accounts
    from recist.review.keys import project_state_dir
    from recist.review.workflow import ReviewProject

    project = ReviewProject.open(args.dir)
    if project.charter.role_of(args.as_) != "administrator":
        raise BlindingError(f"{args.as_!r} is not an administrator of the charter: only they manage accounts")
    if args.action == "add":
        if not args.role or not args.name:
            raise RecistValidationError("`user add` needs --role and --name \"Printed Name\"")
        _add_account(project, args, args.user, args.role, args.name, args.as_)
        return 0
    project = _set_up_serving(project, args.as_, _home(args))
    accounts = Accounts(project_state_dir(project.root, _home(args)))
    now = dt.datetime.now(dt.timezone.utc)
    if args.action == "reset":
        if accounts.get(args.user) is None:
            raise RecistValidationError(f"{args.user!r} has no account: create it with `user add`")
        accounts.reset(args.user, password=_password(args, f"new password for {args.user}: ", confirm=True), now=now)
    elif args.action == "disable":
        accounts.disable(args.user, now=now)
    else:
        accounts.enable(args.user, now=now)
    project.log_event(actor=args.as_, action=f"account-{args.action}", details={"user": args.user})
    print(f"account {args.user}: {args.action} done")
    return 0


def _rotate_key(args: argparse.Namespace) -> int:
    from recist.review.key_rotation import rotate
    from recist.review.keys import server_home

    old, new = rotate(args.dir, as_=args.as_, home=_home(args))
    print(f"server key rotated: {old} -> {new} in {len(args.dir)} project(s); the old private key is destroyed. "
          f"Back up {server_home(_home(args))} again and give the sponsor the new server_key.pub of each project")
    return 0


# ---------------------------------------------------------------------------------------------- serving
def _serve(args: argparse.Namespace) -> int:
    from recist.server.run import serve

    serve(args.dir, host=args.host, port=args.port, tls_cert=args.tls_cert, tls_key=args.tls_key, home=_home(args),
          session_idle_s=args.session_idle_min * 60, max_failures=args.max_failures)
    return 0


def _login(args: argparse.Namespace) -> int:
    from recist.server.client import ReviewClient, token_file

    user = args.user or input("user: ").strip()
    with ReviewClient(args.url, token="", ca_cert=args.ca_cert) as client:
        data = client.login(user, _password(args, f"password for {user}: "))
    print(f"logged in to {client.url} as {data['user']} ({data['role']}, {data['name']}); token kept in "
          f"{token_file()}")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    from recist.review.accounts import MIN_PASSWORD_LENGTH
    from recist.server.client import ReviewClient

    with ReviewClient(args.server) as client:
        user = client.me()["user"]
        old = _password(args, f"current password of {user}: ")
        new = _password(args, f"new password of {user} (at least {MIN_PASSWORD_LENGTH} characters): ", confirm=True)
        done = client.change_password(old, new)
    ended = done["sessions_ended"]
    print(f"password of {user} changed on {client.url}" + (f"; {ended} other session(s) ended" if ended else ""))
    return 0


def _logout(args: argparse.Namespace) -> int:
    from recist.server.client import ReviewClient

    with ReviewClient(args.url) as client:
        client.logout()
    print(f"logged out of {client.url}")
    return 0


def _worklist(args: argparse.Namespace) -> int:
    from recist.server.client import ReviewClient

    with ReviewClient(args.server) as client:
        _print_json(client.worklist())
    return 0


def trusted_key_for(args: argparse.Namespace) -> Any:
    """The server public key ``verify`` trusts: ``--public-key FILE``, else the server key of this machine
    when this machine serves the project, else None (only the project's own key)."""
    from recist.review.keys import SigningKey, load_public_key, project_state_dir

    if getattr(args, "public_key", None):
        path = Path(args.public_key)
        try:
            return load_public_key(path.read_bytes(), source=str(path))
        except OSError as exc:
            raise RecistValidationError(f"cannot read the public key: {exc.strerror}", source=str(path)) from None
    if project_state_dir(args.dir, _home(args)).is_dir():
        key = SigningKey.find(_home(args))
        return key.public if key is not None else None
    return None


def _audit(args: argparse.Namespace) -> int:
    from recist.review.audit_table import audit_rows, audit_table

    if args.server:
        from recist.server.client import ReviewClient

        with ReviewClient(args.server) as client:
            rows = client.audit(since=args.since)
    elif args.dir:
        rows = audit_rows(args.dir, since=args.since)
    else:
        raise RecistValidationError("give the project folder DIR, or --server URL")
    if args.format == "json":
        _print_json(rows)
    else:
        sys.stdout.write(audit_table(rows))
    return 0


# ---------------------------------------------------------------------------------------------- --server
def _remote(name: str, args: argparse.Namespace) -> int:
    from recist.cli import review as verbs
    from recist.server.client import ReviewClient

    confirm = getattr(args, "confirm_large_diameters", False)
    with ReviewClient(args.server) as client:
        if name == "package":
            if args.dir:
                raise RecistValidationError(f"with --server give only OUT, not {args.dir!r}: the server packages "
                                            "the project it serves")

            def progress(done: int, total: int, pseudonym: str) -> None:
                print(f"packaged {pseudonym} ({done}/{total})", file=sys.stderr, flush=True)

            manifest = client.package(args.reader, args.out, subjects=args.subject or None, progress=progress)
            print(f"{len(manifest['subjects'])} subject(s) in the package of reader {args.reader} in {args.out}")
        elif name == "save":
            print(f"saved draft version {client.save(args.subject, _case(args.case), confirm_large_diameters=confirm)}")
        elif name == "sign":
            version = client.sign(args.subject, password=_password(args, "password to sign: "),
                                  confirm_large_diameters=confirm)
            print(f"signed version {version}")
        elif name == "amend":
            version = client.amend(args.subject, _case(args.case), reason=args.reason,
                                   password=_password(args, "password to sign the amendment: "),
                                   confirm_large_diameters=confirm)
            print(f"amended: signed version {version}")
        elif name == "adjudicate":
            client.adjudicate(args.subject, choose=args.choose, reason=args.reason,
                              password=_password(args, "password to sign the adjudication: "))
            print(f"adjudicated: Read {args.choose}")
        elif name == "show":
            _print_json(client.show(args.subject, reader=args.reader, version=args.version))
        elif name == "status":
            _print_json(client.status())
        elif name == "results":
            from recist.cli._output import check_output_file

            if args.out:
                check_output_file(Path(args.out), force=args.force)  # a refused --out before any request
            if args.ignore_verify:
                rows, damaged = client.results_ignoring_verify()
            else:
                rows, damaged = client.results(), []
            return verbs.emit_results(args, rows, damaged)
        elif name == "report":
            if args.ignore_verify:
                report, damaged = client.report_ignoring_verify()
                return verbs.emit_report(report, damaged)
            return verbs.emit_report(client.report(), [])
        elif name == "import-site-read":
            verbs.report_site_read(args, client.import_site_read(args.subject, _case(args.case),
                                                                 confirm_large_diameters=confirm))
        elif name == "withdraw-subject":
            verbs.report_withdrawal(client.withdraw_subject(args.subject, reason=args.reason,
                                                            withdraw_reads=args.withdraw_reads))
        elif name == "correct-timepoints":
            timepoints = [{"label": tp.label, "date": tp.date.isoformat(), "folders": list(tp.folders)}
                          for tp in verbs._timepoints(args.timepoint, resolve=False)]  # paths on the server machine
            verbs.report_correction(args, client.correct_timepoints(
                args.subject, timepoints, reason=args.reason, withdraw_reads=args.withdraw_reads,
                check_images=not args.no_image_check))
        else:  # verify
            result = client.verify()
            for problem in result["problems"]:
                print(problem, file=sys.stderr)
            if not result["intact"]:
                print(f"{len(result['problems'])} problem(s): the project is NOT intact", file=sys.stderr)
                return 1
            print("audit trail, signatures and files intact")
    return 0


def open_folder(args: argparse.Namespace) -> Any:
    """The project folder ``args.dir``; a served one with the server's key and the accounts' printed names.

    On the server machine, as the server's user, an administrator's changes are then signed like the
    server's; elsewhere a served project opens read-only (a change is refused by the audit trail).
    """
    from recist.review.accounts import Accounts
    from recist.review.keys import PUBLIC_KEY_NAME, AuditWitness, SigningKey, project_state_dir
    from recist.review.workflow import ReviewProject

    root = Path(args.dir)
    if not (root / PUBLIC_KEY_NAME).is_file():
        return ReviewProject.open(root)
    state = project_state_dir(root, _home(args))
    names = Accounts(state).names() if state.is_dir() else {}
    witness = AuditWitness(state) if state.is_dir() else None  # this machine serves it: check for a rollback
    return ReviewProject.open(root, signer=SigningKey.find(_home(args)), names=names, witness=witness)


def _refuse_served_non_admin(args: argparse.Namespace) -> None:
    """On a served project, only administrators act on the folder with ``--as``."""
    from recist.errors import BlindingError
    from recist.review.charter import load_charter
    from recist.review.keys import PUBLIC_KEY_NAME

    root = Path(args.dir)
    if not (root / PUBLIC_KEY_NAME).is_file() or not (root / "charter.json").is_file():
        return
    if load_charter(root / "charter.json").role_of(args.as_) != "administrator":
        raise BlindingError(
            f"{root} is served by a review server: {args.as_!r} works through it "
            f"(`recist review login URL`, then `--server URL`); `--as` on the folder is for administrators"
        )


def with_server(name: str, func: Callable[[argparse.Namespace], int], *, as_: bool) -> Callable[..., int]:
    """The handler of verb ``name``: through the server with ``--server``, else on the folder with ``--as``."""

    def handler(args: argparse.Namespace) -> int:
        if getattr(args, "server", None):
            if getattr(args, "as_", None):
                raise RecistValidationError("--as is not used with --server: the server knows you from your login")
            return _remote(name, args)
        if not args.dir:
            raise RecistValidationError("give the project folder DIR (or --server URL)")
        if as_:
            if not args.as_:
                raise RecistValidationError("--as ID is required when acting on a project folder")
            _refuse_served_non_admin(args)
        return func(args)

    return handler


def add_server_verbs(verbs: Any) -> None:
    """Add serve, user, login, logout and audit to the ``recist review`` sub-verbs."""
    p = verbs.add_parser("serve", help="serve the project over HTTPS to remote readers (docs/deploy.md)")
    p.add_argument("dir", metavar="DIR", help="the review project folder")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8443, help="port (default 8443)")
    p.add_argument("--tls-cert", help="PEM certificate (chain) for HTTPS")
    p.add_argument("--tls-key", help="PEM private key of the certificate")
    p.add_argument("--session-idle-min", type=float, default=30.0, help="minutes of inactivity that end a session")
    p.add_argument("--max-failures", type=int, default=5, help="wrong passwords in a row that lock an account")
    p.add_argument("--server-home", help="the server's key and accounts folder (default ~/.config/recist/server)")
    p.set_defaults(func=_serve)

    p = verbs.add_parser("user", help="manage accounts of a served project (administrators, on the server machine)")
    p.add_argument("action", choices=["add", "disable", "enable", "reset"])
    p.add_argument("dir", metavar="DIR", help="the review project folder")
    p.add_argument("user", metavar="USER", help="a person of the charter")
    p.add_argument("--role", choices=["reader", "adjudicator", "administrator"], help="their role (add)")
    p.add_argument("--name", help="their printed name, shown in their signatures (add)")
    p.add_argument("--as", dest="as_", required=True, metavar="ID", help="the administrator doing this")
    p.add_argument("--password-stdin", action="store_true", help="read the new password from standard input")
    p.add_argument("--server-home", help="the server's key and accounts folder (default ~/.config/recist/server)")
    p.set_defaults(func=_user)

    p = verbs.add_parser("rotate-key", help="replace the server's signing key (administrators, on the server machine, "
                                            "server stopped; docs/deploy.md)")
    p.add_argument("dir", metavar="DIR", nargs="+", help="every review project folder this server serves")
    p.add_argument("--as", dest="as_", required=True, metavar="ID", help="the administrator doing this")
    p.add_argument("--server-home", help="the server's key and accounts folder (default ~/.config/recist/server)")
    p.set_defaults(func=_rotate_key)

    p = verbs.add_parser("login", help="log in to a review server (the token is kept in your config, mode 0600)")
    p.add_argument("url", metavar="URL", help="https://host:port of the server")
    p.add_argument("--user", help="your user id (asked when omitted)")
    p.add_argument("--ca-cert", help="CA certificate to trust for this server (a self-signed certificate)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=_login)

    p = verbs.add_parser("passwd", help="change your own password on a review server (your other sessions end)")
    p.add_argument("--server", metavar="URL", required=True, help=SERVER_HELP)
    p.add_argument("--password-stdin", action="store_true",
                   help="read the current and the new password from standard input (two lines)")
    p.set_defaults(func=_passwd)

    p = verbs.add_parser("logout", help="end your session on a review server and forget its token")
    p.add_argument("url", metavar="URL")
    p.set_defaults(func=_logout)

    p = verbs.add_parser("worklist", help="your subjects, with the labels, dates and images of each timepoint")
    p.add_argument("--server", metavar="URL", required=True, help=SERVER_HELP)
    p.set_defaults(func=_worklist)

    p = verbs.add_parser("audit", help="print the audit trail as a table (for inspectors)")
    p.add_argument("dir", metavar="DIR", nargs="?", help="the review project folder")
    p.add_argument("--since", help="only entries at or after this ISO date or date-time (UTC)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--server", metavar="URL", help=SERVER_HELP)
    p.set_defaults(func=_audit)
