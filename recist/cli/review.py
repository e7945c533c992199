"""``recist review``: the blinded independent central review (see docs/review.md).

Sub-verbs: init, add-subject, package, save, sign, amend, show, status, adjudicate, results, export-sr,
report, import-site-read, withdraw-subject, correct-timepoints,
verify, and the review server's serve, user, rotate-key, login, passwd, logout, audit
(:mod:`recist.cli._review_server`). On a project folder every sub-verb but ``verify`` is done as someone
(``--as ID``), a person the charter names; with ``--server URL`` the server's login says who. Each calls
one method of :class:`recist.review.workflow.ReviewProject`.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Any

from recist.cli._output import add_force_argument
from recist.cli._review_server import (
    AS_HELP,
    REMOTE_VERBS,
    SERVER_HELP,
    add_server_verbs,
    intermixed,
    with_server,
)

__all__ = ["register"]

NO_IMAGE_CHECK_HELP = ("record the timepoints without checking that each folder holds loadable DICOM series of the "
                       "charter's modalities dated the timepoint's date (images to come later; stated in the output "
                       "and audited)")


def _project(args: argparse.Namespace) -> Any:
    from recist.cli._review_server import open_folder

    return open_folder(args)


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def _init(args: argparse.Namespace) -> int:
    from recist.cli._review_server import first_admin
    from recist.review.workflow import ReviewProject

    project = ReviewProject.init(args.dir, Path(args.charter), as_=args.as_)
    print(f"created review project {args.dir}")
    first_admin(args, project)
    return 0


def _images_not_checked(args: argparse.Namespace) -> None:
    """Say, on stderr, that ``--no-image-check`` left the folders unchecked (also in the audit trail)."""
    if args.no_image_check:
        print(f"recist review {args.review_command}: images were NOT checked (--no-image-check): the folders' DICOM "
              "series, modalities and dates are checked only when the subject is packaged", file=sys.stderr)


def _add_subject(args: argparse.Namespace) -> int:
    from recist.errors import RecistValidationError

    project = _project(args)
    check = not args.no_image_check
    if args.manifest:
        if args.subject or args.timepoint:
            raise RecistValidationError("give either --manifest or SUBJECT with --timepoint, not both")
        for pseudonym in project.add_manifest(args.manifest, as_=args.as_, check_images=check):
            print(pseudonym)
    elif not args.subject or not args.timepoint:
        raise RecistValidationError("give SUBJECT and one --timepoint LABEL DATE FOLDER per timepoint (or --manifest)")
    else:
        print(project.add_subject(args.subject, _timepoints(args.timepoint), as_=args.as_, check_images=check))
    _images_not_checked(args)
    return 0


def _timepoints(given: list[list[str]], *, resolve: bool = True) -> list[Any]:
    """``--timepoint LABEL DATE FOLDER`` values as SubjectTimepoints (folders made absolute here when
    ``resolve``; through a server they are paths on the server machine and go as given)."""
    from recist.errors import RecistValidationError
    from recist.review.workflow import SubjectTimepoint

    tps = []
    for label, date, folder in given:
        try:
            day = _dt.date.fromisoformat(date)
        except ValueError:
            raise RecistValidationError(f"--timepoint {label}: {date!r} is not an ISO date (YYYY-MM-DD)") from None
        tps.append(SubjectTimepoint(label, day, (str(Path(folder).resolve()) if resolve else folder,)))
    return tps


def _correct_timepoints(args: argparse.Namespace) -> int:
    done = _project(args).correct_timepoints(args.subject, _timepoints(args.timepoint), reason=args.reason,
                                             as_=args.as_, withdraw_reads=args.withdraw_reads,
                                             check_images=not args.no_image_check)
    report_correction(args, done)
    return 0


def report_correction(args: argparse.Namespace, done: dict[str, Any]) -> None:
    """Print what ``correct-timepoints`` did (the folder and ``--server``)."""
    reads = f"; reads withdrawn: {', '.join(done['reads_withdrawn'])}" if done["reads_withdrawn"] else ""
    print(f"corrected the timepoints of {done['subject']} ({done['pseudonym']}){reads}")
    _images_not_checked(args)


def _package(args: argparse.Namespace) -> int:
    def progress(done: int, total: int, pseudonym: str) -> None:
        print(f"packaged {pseudonym} ({done}/{total})", file=sys.stderr, flush=True)

    manifest = _project(args).package(args.reader, args.out, as_=args.as_, subjects=args.subject or None,
                                      progress=progress)
    print(f"{len(manifest['subjects'])} subject(s) in the package of reader {args.reader} in {args.out}")
    return 0


def _save(args: argparse.Namespace) -> int:
    version = _project(args).save_read(args.subject, Path(args.case), as_=args.as_,
                                       confirm_large_diameters=args.confirm_large_diameters)
    print(f"saved draft version {version}")
    return 0


def _sign(args: argparse.Namespace) -> int:
    version = _project(args).sign(args.subject, as_=args.as_, confirm_large_diameters=args.confirm_large_diameters)
    print(f"signed version {version}")
    return 0


def _amend(args: argparse.Namespace) -> int:
    version = _project(args).amend(args.subject, Path(args.case), as_=args.as_, reason=args.reason,
                                   confirm_large_diameters=args.confirm_large_diameters)
    print(f"amended: signed version {version}")
    return 0


def _show(args: argparse.Namespace) -> int:
    _print_json(_project(args).show(args.subject, as_=args.as_, reader=args.reader, version=args.version))
    return 0


def _status(args: argparse.Namespace) -> int:
    _print_json(_project(args).status(as_=args.as_))
    return 0


def _adjudicate(args: argparse.Namespace) -> int:
    _project(args).adjudicate(args.subject, choose=args.choose, reason=args.reason, as_=args.as_)
    print(f"adjudicated: Read {args.choose}")
    return 0


def _results(args: argparse.Namespace) -> int:
    from recist.cli._output import check_output_file
    from recist.review.integrity import require_intact

    if args.out:
        check_output_file(Path(args.out), force=args.force)  # a refused --out before any work
    project = _project(args)
    damaged = require_intact(project, ignore_verify=args.ignore_verify)
    return emit_results(args, project.results(as_=args.as_), [str(d) for d in damaged])


def emit_results(args: argparse.Namespace, rows: list[dict[str, Any]], damaged: list[str]) -> int:
    """Write result rows (``--format``, ``--out``), stating on stderr each verify problem let through by
    ``--ignore-verify`` and each invalid row; exit 1 when there is any, else 0 (the folder and ``--server``)."""
    from recist.cli._output import output_stream
    from recist.review.workflow import ReviewProject

    for damage in damaged:
        print(f"recist review results: --ignore-verify: the project fails verify: {damage}", file=sys.stderr)
    invalid = [row for row in rows if row.get("status") == "invalid"]
    for row in invalid:
        print(f"recist review results: subject {row['subject']} ({row['pseudonym']}): {row['problem']}", file=sys.stderr)
    text = ReviewProject.results_csv(rows) if args.format == "csv" else json.dumps(rows, indent=2, sort_keys=True) + "\n"
    with output_stream(args.out, force=args.force) as out:
        out.write(text)
    return 1 if invalid or damaged else 0


def _export_sr(args: argparse.Namespace) -> int:
    from recist.cli._output import output_folder
    from recist.export.review_sr import export_review_sr
    from recist.review.integrity import require_intact

    output_folder(args.out, force=args.force, option="--out")  # a refused --out before any work
    project = _project(args)
    damaged = require_intact(project, ignore_verify=args.ignore_verify)
    for damage in damaged:
        print(f"recist review export-sr: --ignore-verify: the project fails verify: {damage}", file=sys.stderr)
    if damaged:
        print("recist review export-sr: the documents are written UNVERIFIED (no verifying observer): the "
              "signatures of a project that fails verify cannot be vouched for", file=sys.stderr)

    def progress(read: Any, paths: list[Path]) -> None:
        signers = ", ".join(f"{s.name} ({s.meaning})" for s in read.signers)
        print(f"{read.subject}: {len(paths)} SR document(s) of the {read.source} read by {read.reader}"
              + (f", verified by {signers}" if not damaged else ""))

    done = export_review_sr(project, args.out, as_=args.as_, subjects=args.subject or None,
                            organization=args.organization, verified=not damaged, progress=progress)
    for read in done.skipped:
        print(f"recist review export-sr: skipped subject {read.subject} ({read.pseudonym}): {read.problem}",
              file=sys.stderr)
    files = sum(len(paths) for paths in done.written.values())
    print(f"wrote {files} SR document(s) of {len(done.written)} subject(s) to {args.out}")
    return 1 if damaged or done.problems else 0


def _report(args: argparse.Namespace) -> int:
    from recist.review.integrity import require_intact

    project = _project(args)
    damaged = require_intact(project, ignore_verify=args.ignore_verify)
    return emit_report(project.report(as_=args.as_), [str(d) for d in damaged])


def emit_report(report: dict[str, Any], damaged: list[str]) -> int:
    """Print the agreement report, stating on stderr each verify problem let through by ``--ignore-verify``;
    exit 1 when there is any, else 0 (the folder and ``--server``)."""
    for damage in damaged:
        print(f"recist review report: --ignore-verify: the project fails verify: {damage}", file=sys.stderr)
    _print_json(report)
    return 1 if damaged else 0


def _import_site_read(args: argparse.Namespace) -> int:
    done = _project(args).import_site_read(args.subject, Path(args.case), as_=args.as_,
                                           confirm_large_diameters=args.confirm_large_diameters)
    report_site_read(args, done)
    return 0


def report_site_read(args: argparse.Namespace, done: dict[str, Any]) -> None:
    """Print what ``import-site-read`` did (the folder and ``--server``)."""
    if done.get("replaced"):
        print(f"imported the site read of {args.subject}, replacing the one imported at {done['replaced']}")
    else:
        print(f"imported the site read of {args.subject}")


def _withdraw_subject(args: argparse.Namespace) -> int:
    done = _project(args).withdraw_subject(args.subject, reason=args.reason, as_=args.as_,
                                           withdraw_reads=args.withdraw_reads)
    report_withdrawal(done)
    return 0


def report_withdrawal(done: dict[str, Any]) -> None:
    """Print what ``withdraw-subject`` did (the folder and ``--server``)."""
    reads = f"; reads withdrawn: {', '.join(done['reads_withdrawn'])}" if done["reads_withdrawn"] else ""
    print(f"withdrew subject {done['subject']} ({done['pseudonym']}){reads}")


def _verify(args: argparse.Namespace) -> int:
    from recist.cli._review_server import trusted_key_for
    from recist.errors import AuditRollbackError, RecistError
    from recist.review.audit import Problem
    from recist.review.store import project_lock
    from recist.review.workflow import verify_project

    trusted = trusted_key_for(args)
    try:
        problems = _project(args).verify(trusted_key=trusted)
    except AuditRollbackError:  # an older copy restored: one line, exit 2 (the copy may verify intact in itself)
        raise
    except RecistError as exc:  # a project too damaged to open is still verified, file by file
        root = Path(args.dir)
        if not (root / "project.json").exists() and not (root / "audit.jsonl").exists():
            raise
        with project_lock(root):
            problems = [Problem("project", f"does not open: {exc}"), *verify_project(root, trusted_key=trusted)]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s): the project is NOT intact", file=sys.stderr)
        return 1
    print("audit trail and files intact")
    return 0


def register(subparsers: Any) -> None:
    """Add ``recist review`` and its sub-verbs."""
    parser = subparsers.add_parser("review", help="blinded independent central review (2 readers + adjudicator)")
    verbs = parser.add_subparsers(dest="review_command", metavar="VERB")

    def verb(name: str, func: Any, help_: str, *, subject: bool = False, as_: bool = True) -> argparse.ArgumentParser:
        p = verbs.add_parser(name, help=help_)
        remote = name in REMOTE_VERBS
        p.add_argument("dir", metavar="DIR", nargs="?" if remote else None, help="the review project folder")
        if subject:
            p.add_argument("subject", metavar="SUBJECT", help="subject pseudonym (or id)")
        if as_:
            p.add_argument("--as", dest="as_", required=not remote, metavar="ID", help=AS_HELP)
        if remote:
            p.add_argument("--server", metavar="URL", help=SERVER_HELP)
            if name in ("sign", "amend", "adjudicate"):
                p.add_argument("--password-stdin", action="store_true",
                               help="with --server: read the signing password from standard input (else prompted)")
        p.set_defaults(func=with_server(name, func, as_=as_) if remote else func)
        return p

    p = verb("init", _init, "create a project from a charter (and its first administrator's account)")
    p.add_argument("--charter", required=True, help="charter JSON (format recist.charter/1)")
    p.add_argument("--name", help="the administrator's printed name (their account; default: the id)")
    p.add_argument("--password-stdin", action="store_true", help="read the administrator's password from stdin")
    p.add_argument("--no-account", action="store_true", help="no account: a project that will not be served")
    p.add_argument("--server-home", help="the server's key and accounts folder (default ~/.config/recist/server)")
    p = verb("add-subject", _add_subject, "add a subject (a DICOM folder per timepoint) or a manifest CSV")
    p.add_argument("subject", metavar="SUBJECT", nargs="?", help="subject id")
    p.add_argument("--timepoint", nargs=3, action="append", metavar=("LABEL", "DATE", "FOLDER"),
                   help="one timepoint: label, ISO date, DICOM folder (repeat; baseline first)")
    p.add_argument("--manifest", help="CSV with columns subject,timepoint,date,folder")
    p.add_argument("--no-image-check", action="store_true", help=NO_IMAGE_CHECK_HELP)
    p = intermixed(verb("package", _package, "write the de-identified reading material of one reader"))
    p.add_argument("--reader", required=True, help="the reader id")
    p.add_argument("out", metavar="OUT",
                   help="new output folder, or the reader's earlier package (subjects not yet in it are added)")
    p.add_argument("--subject", action="append", metavar="SUBJECT",
                   help="package only this subject (repeat for several; default: every subject)")
    confirm_help = ("confirm that target diameters above the charter's plausible maximum (default 300 mm) are "
                    "right, not a decimal slip")
    p = verb("save", _save, "save a draft read", subject=True)
    p.add_argument("case", metavar="CASE.json")
    p.add_argument("--confirm-large-diameters", action="store_true", help=confirm_help)
    p = verb("sign", _sign, "sign your draft read (author of this read)", subject=True)
    p.add_argument("--confirm-large-diameters", action="store_true", help=confirm_help)
    p = verb("amend", _amend, "amend a signed read (new signed version)", subject=True)
    p.add_argument("case", metavar="CASE.json")
    p.add_argument("--reason", required=True, help="why the signed read changes")
    p.add_argument("--confirm-large-diameters", action="store_true", help=confirm_help)
    p = verb("show", _show, "print what you may see of a subject", subject=True)
    p.add_argument("--reader", help="whose read (a reader may ask only for their own)")
    p.add_argument("--version", type=int, help="an earlier version of the read")
    verb("status", _status, "progress of each subject")
    p = verb("adjudicate", _adjudicate, "select Read A or Read B", subject=True)
    p.add_argument("--choose", required=True, choices=["A", "B"])
    p.add_argument("--reason", required=True, help="the written reason for the selection")
    p = verb("results", _results, "final result per subject")
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.add_argument("--ignore-verify", action="store_true",
                   help="give results of a project that fails `review verify` (forensic use; stated on stderr, exit 1)")
    p.add_argument("--out", help="write to this file (atomically) instead of standard output; an existing file "
                                 "needs --force")
    add_force_argument(p, file=True)
    p = verb("export-sr", _export_sr, "DICOM SR of the final reads on the source images (verified; administrators)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="new or empty folder to write into (created); a non-empty one needs --force")
    p.add_argument("--subject", action="append", metavar="SUBJECT",
                   help="export only this subject (id or pseudonym; repeat for several; default: every subject)")
    p.add_argument("--organization", metavar="TEXT",
                   help="Verifying Organization of signers the charter names no organisation for")
    p.add_argument("--ignore-verify", action="store_true",
                   help="export a project that fails `review verify` (forensic use: documents UNVERIFIED; exit 1)")
    add_force_argument(p)
    p = verb("report", _report, "reader-agreement report (kappa, adjudication rates, EDR/LDR)")
    p.add_argument("--ignore-verify", action="store_true",
                   help="report on a project that fails `review verify` (forensic use; stated on stderr, exit 1)")
    p = verb("import-site-read", _import_site_read, "store a site (investigator) read apart", subject=True)
    p.add_argument("case", metavar="CASE.json")
    p.add_argument("--confirm-large-diameters", action="store_true", help=confirm_help)
    p = verb("withdraw-subject", _withdraw_subject, "withdraw a subject from the review (administrators; audited)",
             subject=True)
    p.add_argument("--reason", required=True, help="why the subject is withdrawn")
    p.add_argument("--withdraw-reads", action="store_true",
                   help="also withdraw its signed reads (kept, marked withdrawn with the reason)")
    p = verb("correct-timepoints", _correct_timepoints,
             "replace a subject's timepoints (administrators; audited)", subject=True)
    p.add_argument("--timepoint", nargs=3, action="append", required=True, metavar=("LABEL", "DATE", "FOLDER"),
                   help="one corrected timepoint: label, ISO date, DICOM folder (repeat for every timepoint)")
    p.add_argument("--reason", required=True, help="why the timepoints change")
    p.add_argument("--no-image-check", action="store_true", help=NO_IMAGE_CHECK_HELP)
    p.add_argument("--withdraw-reads", action="store_true",
                   help="also withdraw its reads (kept in the read files under withdrawn_reads)")
    p = verb("verify", _verify, "check the audit trail, signatures and every recorded file (exit 0 only when intact)",
             as_=False)
    p.add_argument("--public-key", help="the review server's public key (PEM) kept outside the project")
    p.add_argument("--server-home", help="the server's key folder (default ~/.config/recist/server)")
    add_server_verbs(verbs)
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])
