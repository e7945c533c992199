"""The audit trail as rows and as a text table for inspectors (``recist review audit``)."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from recist.errors import RecistValidationError
from recist.review.audit import AuditLog

__all__ = ["parse_since", "audit_rows", "audit_table"]


def parse_since(since: str | None) -> _dt.datetime | None:
    """An ISO date (``2026-12-01``, midnight UTC) or date-time (naive = UTC); None for None."""
    if since is None or since == "":
        return None
    try:
        when = _dt.datetime.fromisoformat(since)
    except ValueError:
        raise RecistValidationError(
            f"--since {since!r} is not an ISO date or date-time (2026-12-01 or 2026-12-01T08:00:00+00:00)",
            field="since",
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=_dt.timezone.utc)


def audit_rows(root: str | Path, *, since: str | None = None) -> list[dict[str, Any]]:
    """Entries of the trail of project ``root`` at or after ``since``: seq, time, actor, action, subject,
    details, files (paths written) and whether the entry is signed by the server."""
    start = parse_since(since)
    rows = []
    for entry in AuditLog(Path(root)).entries():
        try:
            when = _dt.datetime.fromisoformat(str(entry.get("time")))
        except ValueError:
            when = None
        if start is not None and (when is None or when < start):
            continue
        rows.append({
            "seq": entry.get("seq"), "time": entry.get("time"), "actor": entry.get("actor"),
            "action": entry.get("action"), "subject": entry.get("subject"), "details": entry.get("details") or {},
            "files": sorted(entry.get("files") or {}), "signed": "sig" in entry,
        })
    return rows


def audit_table(rows: list[dict[str, Any]], *, width: int = 60) -> str:
    """Rows of :func:`audit_rows` as a fixed-width text table (details as compact JSON, cut at ``width``)."""
    header = ("seq", "time (UTC)", "who", "what", "subject", "signed", "details")
    lines = []
    for row in rows:
        details = json.dumps(row["details"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if len(details) > width:
            details = details[: width - 1] + "…"
        lines.append((str(row["seq"]), str(row["time"]), str(row["actor"]), str(row["action"]),
                      str(row["subject"] or ""), "yes" if row["signed"] else "no", details))
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out.extend("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines)
    return "\n".join(out) + "\n"
