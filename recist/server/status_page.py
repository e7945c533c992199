"""The core-lab status page (``/status``, administrators only): progress of the review at a glance.

Shows: subjects x reads (not started, draft, signed), the adjudication queue, each reader's workload
and turnaround, and whether ``verify`` passes. Every figure comes from ``ReviewProject.status`` (as the
administrator) and the audit trail; the page adds no rule.

Turnaround of a read: from the reader's first saved draft of a subject to their first signature of it
(audit-trail times, server clock), in hours; the page shows the median per reader.

Browsers log in with a form (``/login``) that sets an HttpOnly, Secure, SameSite=Strict session cookie;
the cookie is accepted for this page only, never by the API (which takes ``Authorization: Bearer``). An
administrator already logged in through the API can ask for a one-time link
(``POST /api/status-link``, valid 60 seconds, single use) that opens the page in a browser. Query strings
are never written to the access log (:mod:`recist.server.run`).
"""

from __future__ import annotations

import datetime as _dt
import html
import secrets
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from recist.review.audit import AuditLog

__all__ = ["add_status_page", "status_summary", "COOKIE"]

COOKIE = "recist_session"
LINK_TTL_S = 60.0

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#1b1b1b;background:#fafafa}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.4em}
table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#eee}.signed{background:#d8f0d8}.draft{background:#fff3c4}.not-started{background:#f3f3f3}
.ok{color:#176317;font-weight:600}.bad{color:#a11;font-weight:600}.muted{color:#666}
"""


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _css_class(status: str) -> str:
    return status.replace(" ", "-")


def status_summary(rows: list[dict[str, Any]], entries: list[dict[str, Any]], readers: tuple[str, ...]
                   ) -> dict[str, Any]:
    """Workload and turnaround per reader, and the adjudication queue, from status rows and audit entries.

    Parameters
    ----------
    rows
        ``ReviewProject.status`` rows of an administrator.
    entries
        The audit entries (for the times of first save and first signature).
    readers
        The charter's readers.
    """
    workload = {r: {"not started": 0, "draft": 0, "signed": 0} for r in readers}
    for row in rows:
        for reader, status in row["reads"].items():
            workload.setdefault(reader, {"not started": 0, "draft": 0, "signed": 0})
            workload[reader][status] = workload[reader].get(status, 0) + 1
    first_save: dict[tuple[str, str], _dt.datetime] = {}
    first_sign: dict[tuple[str, str], _dt.datetime] = {}
    for entry in entries:
        key = (str(entry.get("actor")), str(entry.get("subject")))
        if entry.get("action") not in ("save", "sign"):
            continue
        when = _dt.datetime.fromisoformat(str(entry["time"]))
        target = first_save if entry["action"] == "save" else first_sign
        target.setdefault(key, when)
    turnaround: dict[str, list[float]] = {r: [] for r in readers}
    for key, signed in first_sign.items():
        if key in first_save and key[0] in turnaround:
            turnaround[key[0]].append((signed - first_save[key]).total_seconds() / 3600)
    queue = [row for row in rows if row["needs_adjudication"] and not row["adjudicated"]]
    return {
        "workload": workload,
        "turnaround_h": {r: (statistics.median(v) if v else None, len(v)) for r, v in turnaround.items()},
        "queue": queue,
        "adjudicated": sum(1 for row in rows if row["adjudicated"]),
    }


def _render(trial: str, rows: list[dict[str, Any]], summary: dict[str, Any], problems: list[str],
            readers: tuple[str, ...], now: _dt.datetime) -> str:
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_esc(trial)}: central review status</title>",
           f"<style>{_STYLE}</style></head><body>",
           f"<h1>{_esc(trial)}: central review status</h1>",
           f"<p class='muted'>{len(rows)} subjects · server time {_esc(now.isoformat(timespec='seconds'))}</p>"]
    if problems:
        out.append(f"<p class='bad'>verify: {len(problems)} problem(s)</p><ul>")
        out.extend(f"<li>{_esc(p)}</li>" for p in problems[:20])
        out.append("</ul>")
    else:
        out.append("<p class='ok'>verify: audit trail, signatures and files intact</p>")
    out.append("<h2>Reader workload and turnaround</h2><table><tr><th>reader</th><th>not started</th><th>draft</th>"
               "<th>signed</th><th>median turnaround (h, first draft to signature)</th></tr>")
    for reader in readers:
        load = summary["workload"][reader]
        median, n = summary["turnaround_h"][reader]
        shown = "–" if median is None else f"{median:.1f} (n={n})"
        out.append(f"<tr><td>{_esc(reader)}</td><td>{load['not started']}</td><td>{load['draft']}</td>"
                   f"<td>{load['signed']}</td><td>{shown}</td></tr>")
    out.append("</table>")
    out.append(f"<h2>Adjudication queue ({len(summary['queue'])} waiting, {summary['adjudicated']} done)</h2>")
    if summary["queue"]:
        out.append("<table><tr><th>subject</th><th>pseudonym</th><th>triggers</th></tr>")
        out.extend(f"<tr><td>{_esc(r['subject'])}</td><td>{_esc(r['pseudonym'])}</td>"
                   f"<td>{_esc(', '.join(r['triggers']))}</td></tr>" for r in summary["queue"])
        out.append("</table>")
    else:
        out.append("<p class='muted'>nothing waiting</p>")
    out.append("<h2>Subjects and reads</h2><table><tr><th>subject</th><th>pseudonym</th>")
    out.extend(f"<th>{_esc(r)}</th>" for r in readers)
    out.append("<th>adjudication</th></tr>")
    for row in sorted(rows, key=lambda r: str(r["subject"])):
        cells = "".join(f"<td class='{_css_class(row['reads'][r])}'>{_esc(row['reads'][r])}</td>" for r in readers)
        adj = ("done" if row["adjudicated"] else "needed" if row["needs_adjudication"]
               else "not needed" if row["needs_adjudication"] is False else "–")
        out.append(f"<tr><td>{_esc(row['subject'])}</td><td>{_esc(row['pseudonym'])}</td>{cells}<td>{adj}</td></tr>")
    out.append("</table></body></html>")
    return "".join(out)


_LOGIN_FORM = """<!doctype html><html><head><meta charset='utf-8'><title>recist review: log in</title>
<style>{style}</style></head><body><h1>Central review: log in</h1>{message}
<form method='post' action='/login'><p><label>user <input name='user' autocomplete='username'></label></p>
<p><label>password <input name='password' type='password' autocomplete='current-password'></label></p>
<p><button type='submit'>log in</button></p></form></body></html>"""


def add_status_page(app: FastAPI, state: Any, *, caller: Callable[..., Any], session_caller: Callable[[str], Any],
                    log_in: Callable[[str, str], tuple[Any, str]], require_admin: Callable[[Any, str], None]) -> None:
    """Add ``/login``, ``/status``, ``/status/open`` and ``POST /api/status-link`` to ``app``."""
    project = state.project
    links: dict[str, tuple[str, float]] = {}
    links_lock = threading.Lock()

    def with_cookie(response: RedirectResponse, token: str) -> RedirectResponse:
        response.set_cookie(COOKIE, token, httponly=True, secure=True, samesite="strict", path="/")
        return response

    @app.get("/login", response_class=HTMLResponse)
    def login_form() -> str:
        return _LOGIN_FORM.format(style=_STYLE, message="")

    @app.post("/login", response_model=None)
    def login_page(user: str = Form(""), password: str = Form("")) -> Any:  # noqa: B008
        try:
            _account, token = log_in(user, password)
        except HTTPException as exc:
            message = f"<p class='bad'>{_esc(exc.detail)}</p>"
            return HTMLResponse(_LOGIN_FORM.format(style=_STYLE, message=message), status_code=401)
        return with_cookie(RedirectResponse("/status", status_code=303), token)

    @app.post("/api/status-link")
    def status_link(request: Request) -> dict[str, Any]:
        who = caller(request)
        require_admin(who, "see the status page")
        code = secrets.token_urlsafe(24)
        with links_lock:
            links[code] = (who.user, time.monotonic() + LINK_TTL_S)
        return {"url": f"/status/open?code={code}", "valid_s": LINK_TTL_S}

    @app.get("/status/open", response_model=None)
    def open_link(code: str = "") -> Any:
        with links_lock:
            user, until = links.pop(code, ("", 0.0))
            for stale in [c for c, (_u, t) in links.items() if t < time.monotonic()]:
                del links[stale]
        if not user or until < time.monotonic():
            raise HTTPException(401, "this status link is used or expired: ask for a new one")
        account = state.accounts.get(user)
        token = state.sessions.open(user, password_set=account.password_set if account is not None else "")
        return with_cookie(RedirectResponse("/status", status_code=303), token)

    @app.get("/status", response_model=None)
    def status_page(request: Request) -> Any:
        token = request.cookies.get(COOKIE)
        if not token:
            return RedirectResponse("/login", status_code=303)
        who = session_caller(token)
        require_admin(who, "see the status page")
        rows = project.status(as_=who.user)
        readers = tuple(project.charter.readers)
        summary = status_summary(rows, list(AuditLog(project.root).entries()), readers)
        problems = [str(p) for p in project.verify(trusted_key=state.key.public)]
        now = _dt.datetime.now(_dt.timezone.utc)
        return HTMLResponse(_render(project.charter.trial, rows, summary, problems, readers, now))
