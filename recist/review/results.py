"""Final results, site reads and the reader-agreement report of a review project.

The methods of :class:`recist.review.workflow.ReviewProject` that turn signed reads and adjudications
into results (see docs/review.md, "Final result"). Kept apart from the workflow of reads so that each
module has one job; they use the project's helpers (lock, audit, subject records).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
from collections.abc import Mapping
from typing import Any

from recist.errors import RecistError
from recist.review._common import case_dict as _case_dict
from recist.review._common import sha as _sha
from recist.review._common import utc as _utc
from recist.review.adjudication import outcome_of
from recist.review.checks import progression_date_problem
from recist.review.store import read_json

__all__ = ["ResultsMixin"]


class ResultsMixin:
    """Results, site reads and the report (mixed into :class:`recist.review.workflow.ReviewProject`)."""

    def _true_label(self, pseudonym: str, package_label: str | None) -> str | None:
        """The recorded label of the timepoint a package shows as ``package_label``."""
        if package_label is None:
            return None
        for shown, true in zip(self._package_timepoints(pseudonym), self._true_timepoints(pseudonym)):
            if shown["label"] == package_label:
                return true["label"]
        return package_label

    def _final(self, pseudonym: str, today: _dt.date) -> dict[str, Any]:
        """The final result row of one subject (administrator view).

        A final read whose progression date is impossible for the subject (not one of its follow-up
        imaging dates, in the future, after the data cut-off) gives status ``invalid`` and the reason in
        ``problem``: the read must be amended (or the subject's timepoints corrected) first.
        """
        record = self._subject(pseudonym)
        pair = self._pair(pseudonym)
        adj = self._adjudication(pseudonym)
        row: dict[str, Any] = {
            "subject": record["subject"], "pseudonym": pseudonym, "status": "awaiting reads", "source": None,
            "read": None, "reader": None, "best_overall_response": None, "progression_date": None,
            "progression_day": None, "progression_label": None, "progression_trigger": None,
            "triggers": pair["triggers"] or [], "adjudicator": None, "adjudication_reason": None, "problem": None,
        }
        if record.get("withdrawn"):
            return {**row, "status": "withdrawn", "problem": f"withdrawn: {record['withdrawn'].get('reason')}"}
        if pair["triggers"] is None:
            return row
        if pair["triggers"] and adj is None:
            return {**row, "status": "awaiting adjudication"}
        choice = adj["choice"] if pair["triggers"] else "A"
        if adj is not None:
            row.update(adjudicator=adj["adjudicator"], adjudication_reason=adj["reason"])
        outcome = outcome_of(pair["reads"][choice]["assessment"])
        prog = outcome["progression"] or {}
        row.update(
            status="final", source="adjudication" if pair["triggers"] else "agreement", read=choice,
            reader=pair["labels"][choice], best_overall_response=outcome["best_overall_response"],
            progression_date=self._true_date(prog.get("date"), record["date_shift_days"]),
            progression_day=prog.get("day"), progression_label=self._true_label(pseudonym, prog.get("label")),
            progression_trigger=prog.get("trigger"),
        )
        problem = progression_date_problem(row["progression_date"], [tp["date"] for tp in record["timepoints"]],
                                           today=today, data_cutoff=self.charter.data_cutoff)
        if problem:
            row.update(status="invalid", problem=f"read {choice} by {row['reader']}: {problem}")
        return row

    @staticmethod
    def _true_date(shifted: str | None, shift_days: int) -> str | None:
        if not shifted:
            return None
        try:
            return (_dt.date.fromisoformat(str(shifted)) - _dt.timedelta(days=shift_days)).isoformat()
        except (ValueError, OverflowError):
            return f"invalid date {shifted!r}"

    def results(self, *, as_: str, now: _dt.datetime | None = None) -> list[dict[str, Any]]:
        """Each subject's final result (administrators only; logged as an export).

        A row whose status is ``invalid`` names in ``problem`` why its progression date cannot be right.
        """
        now = _utc(now)
        with self._guard(as_, "export results", now):
            self._require(as_, ["administrator"], "export results", now)
            rows = [self._final(p, now.date()) for p in self._pseudonyms()]
            with self._locked():
                self.audit.append(actor=as_, action="export", now=now,
                                  details={"what": "results", "subjects": len(rows), "sha256": _sha(rows)})
        return rows

    @staticmethod
    def results_csv(rows: list[dict[str, Any]]) -> str:
        """Result rows as CSV text (one row per subject; triggers joined by ';')."""
        out = io.StringIO()
        columns = list(rows[0]) if rows else ["subject"]
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ";".join(v) if isinstance(v, list) else ("" if v is None else v) for k, v in row.items()})
        return out.getvalue()

    # ------------------------------------------------------------------ site reads and the report
    def import_site_read(self, subject: str, case: Any, *, as_: str, now: _dt.datetime | None = None,
                         confirm_large_diameters: bool = False) -> dict[str, Any]:
        """Store the investigator (site) read of ``subject`` apart from the central reads.

        Site reads are never shown to readers or adjudicators; they feed the EDR/LDR of the report. Their
        dates are true calendar dates, their labels the subject's recorded labels and their subject the
        subject id: a site read that does not fit the subject record is refused, like a central read that
        does not fit its package. They are assessed with the charter's protocol options.

        Returns
        -------
        dict
            ``{"subject", "replaced"}``: ``replaced`` is the import time of the earlier site read this one
            replaces (None for a first import).
        """
        now = _utc(now)
        with self._guard(as_, "import site reads", now, subject):
            self._require(as_, ["administrator"], "import site reads", now, subject)
            pseudonym = self._resolve(subject)
            record = self._subject(pseudonym)
            data = _case_dict(case)
            self._check_read(data, subject=record["subject"], expected=self._true_timepoints(pseudonym),
                             what="the subject record", confirm=confirm_large_diameters)
            site = {"format": "recist.review.site_read/1", "subject": record["subject"],
                    "case": data, "assessment": self._assess(data), "imported_at": now.isoformat()}
            path = self.root / "site_reads" / f"{pseudonym}.json"
            with self._locked():
                replaced = None
                if path.exists():
                    try:
                        replaced = str(read_json(path, "site_read").get("imported_at") or "unknown time")
                    except RecistError:
                        replaced = "a damaged earlier file"
                self._commit(actor=as_, action="import-site-read", now=now, subject=pseudonym,
                             writes={path: site}, details={"replaced": replaced})
        return {"subject": record["subject"], "replaced": replaced}

    def report(
        self, *, as_: str, now: _dt.datetime | None = None, groups: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The reader-agreement report (:func:`recist.review.agreement.agreement_report`); administrators only.

        ``groups`` (true subject id -> group, e.g. the randomised arm) adds ``by_group``: the same report
        over the subjects of each group (subjects not in ``groups`` are in no group). Per-arm adjudication
        and discrepancy rates show whether the central review treats the arms alike (Amit et al. 2011).
        """
        from recist.review.agreement import agreement_report

        now = _utc(now)
        with self._guard(as_, "see the agreement report", now):
            self._require(as_, ["administrator"], "see the agreement report", now)
            subjects = []
            for pseudonym in self._active_pseudonyms():  # a withdrawn subject is not in the report
                pair = self._pair(pseudonym)
                if pair["triggers"] is None:
                    continue
                record = self._subject(pseudonym)
                adj = self._adjudication(pseudonym)
                final = self._final(pseudonym, now.date())
                site = None
                site_path = self.root / "site_reads" / f"{pseudonym}.json"
                if site_path.is_file():
                    site = outcome_of(read_json(site_path, "site_read")["assessment"])
                outcomes = {}
                for ab in ("A", "B"):
                    outcome = outcome_of(pair["reads"][ab]["assessment"])
                    if outcome["progression"]:
                        outcome["progression"]["date"] = self._true_date(
                            outcome["progression"].get("date"), record["date_shift_days"]
                        )
                        outcome["progression"]["label"] = self._true_label(pseudonym,
                                                                           outcome["progression"].get("label"))
                    outcomes[pair["labels"][ab]] = outcome
                subjects.append({
                    "subject": record["subject"], "reads": outcomes, "triggers": pair["triggers"],
                    "chosen_reader": pair["labels"][adj["choice"]] if adj else None,
                    "final": final if final["status"] == "final" else None, "site": site,
                })

            def agreement(chosen: list[dict[str, Any]]) -> dict[str, Any]:
                return agreement_report(
                    chosen, readers=self.charter.readers,
                    triggers=[t.value for t in self.charter.adjudication.triggers],
                    visit_interval_days=self.charter.visit_schedule.interval_days,
                    same_date_window_days=self.charter.visit_schedule.window_days,
                )

            result = agreement(subjects)
            if groups is not None:
                result["by_group"] = {
                    group: agreement([s for s in subjects if groups.get(s["subject"]) == group])
                    for group in dict.fromkeys(groups.values())
                }
            with self._locked():
                self.audit.append(actor=as_, action="export", now=now, details={"what": "report", "sha256": _sha(result)})
        return result

