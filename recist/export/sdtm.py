"""CDISC SDTM TU, TR and RS datasets from cases and their assessments (SDTMIG v3.4).

The builder takes plain inputs, one :class:`SdtmRead` per subject per evaluator (a reader's case, its
assessment, the evaluator role and whether the read was accepted by adjudication), so a single case, a
folder of cases and a central-review project all go through the same function, :func:`build_sdtm`.
:func:`write_sdtm` writes the datasets as CSV, CDISC Dataset-JSON v1.1 and SAS XPORT v5.

This module builds the records; the dataset structure and value conventions are in
:mod:`recist.export.sdtm_spec`, the file writers in :mod:`recist.export.sdtm_write`, and every public name
of those stays importable from here.

The mapping (case field -> SDTM variable) and every choice the SDTMIG leaves open are in
docs/exchange.md; in short:

- TU: one TUMIDENT record per baseline lesion per evaluator (TARGET / NON-TARGET) at the baseline
  visit, one per new lesion (NEW) at the visit that first shows it, TUSPLIT records for the fragments of a
  split target, a TUMERGE record for a target that merged into another (TUGRPID names that other lesion).
- TR: LDIAM (long axis) and LPERP (short axis) per measured lesion per visit (a target too small to measure
  as TRORRES "TOO SMALL TO MEASURE" standardised to 5 mm, as in the SDTMIG v3.4 TR example), TUMSTATE for
  every other state (non-target states, disappeared, split, merged, new-lesion equivocality), TRSTAT NOT DONE
  for a lesion not evaluated, SUMDIAM per visit, TRLNKGRP linking a visit's records to its RS records.
- RS: TRGRESP, NTRGRESP, NEWLIND (new lesions present, Y/N), NEWLPROG (EQUIVOCAL/UNEQUIVOCAL, only when
  new lesions are present) and OVRLRESP per follow-up visit, BESTRESP once per read; for a case read by
  iRECIST also OVRLRESP per visit (up to iCPD) and BESTRESP (iBOR) with RSCAT "iRECIST".
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from recist.errors import ExchangeError
from recist.export.cdisc_ct import CODELISTS, TEST_NAMES, check_result, check_term
from recist.export.sdtm_spec import (
    DOMAIN_LABELS,
    DOMAINS,
    Variable,
    dataset_spec,
    format_mm,
    usubjid,
    visit_group,
)
from recist.export.sdtm_write import FORMATS, PROTOCOL_FILE, write_csv, write_protocols, write_sdtm, write_xpt
from recist.model.assessment import Assessment
from recist.model.case import Case, Lesion, Timepoint
from recist.model.enums import LesionRole, Method, NewLesionStatus, NonTargetState, TargetState
from recist.rules.target import TOO_SMALL_DEFAULT_MM

__all__ = [
    "SdtmRead",
    "Variable",
    "DOMAINS",
    "DOMAIN_LABELS",
    "METHOD_TERMS",
    "build_sdtm",
    "write_sdtm",
    "format_mm",
    "usubjid",
    "write_protocols",
    "PROTOCOL_FILE",
    "visit_group",
    "reads_from_review",
    "dataset_spec",
    "FORMATS",
    "write_csv",
    "write_xpt",
]

log = logging.getLogger(__name__)


METHOD_TERMS: dict[Method, str] = {
    Method.CT: "CT SCAN",
    Method.MRI: "MRI",
    Method.CALIPER: "CALIPER",
    Method.CHEST_XRAY: "X-RAY",
}
"""Lesion method -> TUMETHOD/TRMETHOD (codelist C85492; CALIPER is a sponsor extension)."""

TOO_SMALL = "TOO SMALL TO MEASURE"
"""TRORRES of a target too small to measure, standardised to 5 mm (SDTMIG v3.4 TR assumption 4 and example)."""
TARGET_STATE_TERMS = {
    TargetState.DISAPPEARED: "ABSENT",
    TargetState.SPLIT: "SPLIT",
    TargetState.MERGED: "TUMOR MERGED",
}
NON_TARGET_STATE_TERMS = {
    NonTargetState.PRESENT: "PRESENT",
    NonTargetState.ABSENT: "ABSENT",
    NonTargetState.UNEQUIVOCAL_PROGRESSION: "UNEQUIVOCAL PROGRESSION",
}
NEW_LESION_TERMS: dict[NewLesionStatus, tuple[str, str | None]] = {
    NewLesionStatus.NO: ("N", None),
    NewLesionStatus.EQUIVOCAL: ("Y", "EQUIVOCAL"),
    NewLesionStatus.YES: ("Y", "UNEQUIVOCAL"),
}
"""New-lesion status -> (NEWLIND, NEWLPROG): NEWLPROG only when new lesions are present (cdisc_ct docstring)."""
NOT_DONE = "NOT DONE"
NOT_EVALUATED_REASON = "NOT EVALUATED"
RSCAT = "RECIST 1.1"
IRECIST_RSCAT = "iRECIST"
"""RSCAT of the iRECIST records, written beside the RECIST 1.1 ones when a case's criteria are iRECIST."""


@dataclass(frozen=True)
class SdtmRead:
    """One subject as read by one evaluator: the input of :func:`build_sdtm`.

    Attributes
    ----------
    case
        The evaluator's case (lesions and measurements).
    assessment
        ``recist.assess(case)`` (per-visit responses, sums, best overall response).
    evaluator_role
        --EVALID: ``"RADIOLOGIST 1"``, ``"RADIOLOGIST 2"``, ``"ADJUDICATOR 1"``; None for a single read
        without a blinded-review role (an investigator's read).
    accepted
        --ACPTFL: True ("Y") for the read adjudication accepted, False ("N") for the others, None (null)
        where no adjudication applies.
    evaluator
        --EVAL: ``"INDEPENDENT ASSESSOR"`` (central review) or ``"INVESTIGATOR"``.
    """

    case: Case
    assessment: Assessment
    evaluator_role: str | None = "RADIOLOGIST 1"
    accepted: bool | None = True
    evaluator: str = "INDEPENDENT ASSESSOR"


def _baseline_flag(visitnum: int) -> str:
    """--LOBXFL: "Y" on records of the baseline visit (the last scan before treatment), else null.

    SDTMIG v3.4 makes --LOBXFL Expected in TU (and TR) and prefers it to --BLFL; recist's baseline is
    the timepoint before treatment, so its records are the last observations before exposure.
    """
    return "Y" if visitnum == 1 else ""


def _flag(value: bool | None) -> str:
    return "" if value is None else ("Y" if value else "N")


def _is_nodal_site(site: str) -> bool:
    return "NODE" in site.upper()


def _check_site(site: str, nodal: bool, *, subject: str, lesion_id: str) -> str:
    """TULOC from a case site; nodes are identified by location (RECIST 1.1 [E09] §3.1.1)."""
    if nodal != _is_nodal_site(site):
        kind = "a lymph node" if nodal else "not a lymph node"
        raise ExchangeError(
            f"subject {subject!r}, lesion {lesion_id!r}: the lesion is {kind} but its site is {site!r}; SDTM "
            "identifies nodes by TULOC, so name the node in the site (e.g. 'mesenteric lymph node') or fix 'nodal'"
        )
    loc = site.upper()
    if loc not in CODELISTS["LOC"].values:
        log.info(
            "TULOC %r (subject %s, lesion %s) is a sponsor term of codelist C74456", loc, subject, lesion_id
        )
    return loc


def _date(timepoint: Timepoint, subject: str) -> str:
    if timepoint.date is None:
        raise ExchangeError(
            f"subject {subject!r}, timepoint {timepoint.label!r}: no scan date; SDTM --DTC needs the date "
            "(give 'date' in the case)"
        )
    return timepoint.date.isoformat()


class _ReadBuilder:
    """Collects the TU/TR/RS records of one :class:`SdtmRead`."""

    def __init__(self, read: SdtmRead, study_id: str) -> None:
        self.read = read
        self.case = read.case
        self.subject = read.case.subject
        self.study_id = study_id
        self.tu: list[dict[str, Any]] = []
        self.tr: list[dict[str, Any]] = []
        self.rs: list[dict[str, Any]] = []
        for variable, value in (("TUEVAL", read.evaluator), ("TUEVALID", read.evaluator_role or "")):
            check_term(variable, value, where=f"subject {self.subject!r}")

    def _common(self, domain: str, visitnum: int | None, timepoint: Timepoint | None) -> dict[str, Any]:
        p = domain
        record: dict[str, Any] = {
            "STUDYID": self.study_id, "DOMAIN": domain, "USUBJID": usubjid(self.study_id, self.subject)
        }  # fmt: skip
        record[f"{p}EVAL"] = self.read.evaluator
        record[f"{p}EVALID"] = self.read.evaluator_role or ""
        record[f"{p}ACPTFL"] = _flag(self.read.accepted)
        record["VISITNUM"] = visitnum
        record["VISIT"] = timepoint.label if timepoint is not None else ""
        record[f"{p}DTC"] = _date(timepoint, self.subject) if timepoint is not None else ""
        return record

    # TU ------------------------------------------------------------------------------------------------
    def _tu(
        self, visitnum: int, tp: Timepoint, testcd: str, link_id: str, result: str, loc: str, **extra: str
    ) -> None:
        record = self._common("TU", visitnum, tp)
        record.update(
            TUTESTCD=testcd, TUTEST=TEST_NAMES[testcd], TULNKID=link_id, TUORRES=result, TUSTRESC=result
        )
        record.update(TULOC=loc, TUMETHOD=extra.get("method", ""), TUGRPID=extra.get("group", ""))
        record["TULOBXFL"] = _baseline_flag(visitnum)
        self.tu.append(record)

    # TR ------------------------------------------------------------------------------------------------
    def _tr(self, visitnum: int, tp: Timepoint, testcd: str, link_id: str, **values: Any) -> None:
        record = self._common("TR", visitnum, tp)
        record.update(TRTESTCD=testcd, TRTEST=TEST_NAMES[testcd], TRLNKID=link_id)
        record["TRLNKGRP"] = visit_group(visitnum, self.read.evaluator_role)
        record["TRMETHOD"] = values.pop("method", "")
        record["TRGRPID"] = values.pop("group", "")
        if "mm" in values:
            text = format_mm(values.pop("mm"))
            original = values.pop("original", text)
            record.update(TRORRES=original, TRORRESU="mm", TRSTRESC=text, TRSTRESN=float(text), TRSTRESU="mm")
        elif "state" in values:
            term = values.pop("state")
            record.update(TRORRES=term, TRSTRESC=term)
        elif values.pop("not_done", False):
            record.update(TRSTAT=NOT_DONE, TRREASND=NOT_EVALUATED_REASON)
        # a NOT DONE record holds no observation, so it is never the last one before exposure
        record["TRLOBXFL"] = "" if record.get("TRSTAT") else _baseline_flag(visitnum)
        self.tr.append(record)

    def _diameters(self, visitnum: int, tp: Timepoint, link_id: str, entry: Any, method: str) -> None:
        if entry.long_axis_mm is not None:
            self._tr(visitnum, tp, "LDIAM", link_id, mm=entry.long_axis_mm, method=method)
        if entry.short_axis_mm is not None:
            self._tr(visitnum, tp, "LPERP", link_id, mm=entry.short_axis_mm, method=method)

    def build(self) -> None:
        case = self.case
        lesions: dict[str, Lesion] = {lesion.id: lesion for lesion in case.lesions}
        baseline = case.baseline
        for lesion in case.lesions:
            loc = _check_site(lesion.site, lesion.nodal, subject=self.subject, lesion_id=lesion.id)
            result = "TARGET" if lesion.role == LesionRole.TARGET else "NON-TARGET"
            self._tu(1, baseline, "TUMIDENT", lesion.id, result, loc, method=METHOD_TERMS[lesion.method])
        seen_new: dict[str, tuple[str, bool]] = {}
        seen_tu: set[str] = set()
        seen_fragments: set[str] = set()
        seen_merged: set[str] = set()
        sums = self._sums()
        for index, tp in enumerate(case.timepoints):
            visitnum = index + 1
            for lesion_id, entry in tp.targets.items():
                lesion = lesions[lesion_id]
                method = METHOD_TERMS[lesion.method]
                self._diameters(visitnum, tp, lesion_id, entry, method)
                state = entry.state
                if state == TargetState.NOT_EVALUATED:
                    self._tr(
                        visitnum,
                        tp,
                        "LPERP" if lesion.nodal else "LDIAM",
                        lesion_id,
                        not_done=True,
                        method=method,
                    )
                elif state == TargetState.TOO_SMALL:  # the diameter, as collected and standardised to 5 mm
                    testcd = "LPERP" if lesion.nodal else "LDIAM"
                    self._tr(visitnum, tp, testcd, lesion_id, mm=TOO_SMALL_DEFAULT_MM, original=TOO_SMALL, method=method)
                elif state is not None:
                    group = entry.merged_into or ""
                    self._tr(
                        visitnum, tp, "TUMSTATE", lesion_id, state=TARGET_STATE_TERMS[state], group=group
                    )
                if state == TargetState.SPLIT:
                    testcd = "LPERP" if lesion.nodal else "LDIAM"
                    for k, fragment_mm in enumerate(entry.fragments_mm or [], start=1):
                        fragment_id = f"{lesion_id}.{k}"
                        if fragment_id not in seen_fragments:
                            seen_fragments.add(fragment_id)
                            # TUGRPID links each fragment to the lesion it split from (SDTMIG v3.4 TU examples)
                            self._tu(
                                visitnum,
                                tp,
                                "TUSPLIT",
                                fragment_id,
                                "TARGET",
                                lesion.site.upper(),
                                method=method,
                                group=lesion_id,
                            )
                        self._tr(visitnum, tp, testcd, fragment_id, mm=fragment_mm, method=method)
                if state == TargetState.MERGED and lesion_id not in seen_merged:
                    seen_merged.add(lesion_id)
                    self._tu(
                        visitnum,
                        tp,
                        "TUMERGE",
                        lesion_id,
                        "TARGET",
                        lesion.site.upper(),
                        method=method,
                        group=group,
                    )
            for lesion_id, nt_entry in tp.non_targets.items():
                method = METHOD_TERMS[lesions[lesion_id].method]
                if nt_entry.state == NonTargetState.NOT_EVALUATED:
                    self._tr(visitnum, tp, "TUMSTATE", lesion_id, not_done=True, method=method)
                else:
                    self._tr(
                        visitnum, tp, "TUMSTATE", lesion_id, state=NON_TARGET_STATE_TERMS[nt_entry.state]
                    )
                if nt_entry.short_axis_mm is not None:
                    self._tr(visitnum, tp, "LPERP", lesion_id, mm=nt_entry.short_axis_mm, method=method)
            for new in tp.new_lesions:
                if seen_new.setdefault(new.id, (new.site, new.nodal)) != (new.site, new.nodal):
                    raise ExchangeError(
                        f"subject {self.subject!r}, timepoint {tp.label!r}: new lesion {new.id!r} has another site "
                        f"or nodal flag than where it was first seen; TU identifies a lesion once, fix the case"
                    )
                if new.id not in seen_tu:
                    seen_tu.add(new.id)
                    loc = _check_site(new.site, new.nodal, subject=self.subject, lesion_id=new.id)
                    self._tu(visitnum, tp, "TUMIDENT", new.id, "NEW", loc, method=self._new_method(new, tp))
                if new.state == NonTargetState.NOT_EVALUATED:  # iRECIST re-records: not evaluated here
                    self._tr(visitnum, tp, "TUMSTATE", new.id, not_done=True, method="")
                elif new.state in (NonTargetState.ABSENT, NonTargetState.UNEQUIVOCAL_PROGRESSION):
                    self._tr(visitnum, tp, "TUMSTATE", new.id, state=NON_TARGET_STATE_TERMS[new.state])
                else:
                    self._tr(
                        visitnum, tp, "TUMSTATE", new.id, state="EQUIVOCAL" if new.equivocal else "UNEQUIVOCAL"
                    )
                self._diameters(visitnum, tp, new.id, new, "")
            if sums[index] is not None:
                self._tr(visitnum, tp, "SUMDIAM", "", mm=sums[index])
        self._responses()

    def _new_method(self, new: Any, tp: Timepoint) -> str:
        """TUMETHOD of a new lesion (SDTMIG v3.4 TU examples give it on NEW records too).

        The modality of the image it was seen on, else of the timepoint's images, else the method of the
        case's lesions when they share one; "CT SCAN" (recist's default method) otherwise.
        """
        modalities = [ref.modality for ref in ([new.image] if new.image else []) + list(tp.images) if ref.modality]
        by_modality = {"CT": Method.CT, "MR": Method.MRI}
        for modality in modalities:
            if modality in by_modality:
                return METHOD_TERMS[by_modality[modality]]
        methods = {lesion.method for lesion in self.case.lesions}
        return METHOD_TERMS[methods.pop() if len(methods) == 1 else Method.CT]

    def _sums(self) -> list[float | None]:
        assessment = self.read.assessment
        follow = [getattr(t, "sum_mm", None) for t in assessment.timepoints]
        if len(follow) != len(self.case.follow_ups):
            raise ExchangeError(
                f"subject {self.subject!r}: the assessment has {len(follow)} follow-up timepoints but the case "
                f"has {len(self.case.follow_ups)}; pass recist.assess(case) of this very case"
            )
        has_targets = any(lesion.role == LesionRole.TARGET for lesion in self.case.lesions)
        baseline = getattr(assessment, "baseline_sum_mm", None) if has_targets else None
        return [baseline, *follow]

    def _responses(self) -> None:
        assessment = self.read.assessment
        for index, (tp, ta) in enumerate(zip(self.case.follow_ups, assessment.timepoints), start=2):
            present, progression = NEW_LESION_TERMS[NewLesionStatus(ta.new_lesions)] if ta.new_lesions else (None, None)
            values = (
                ("TRGRESP", ta.target_response),
                ("NTRGRESP", ta.non_target_response),
                ("NEWLIND", present),
                ("NEWLPROG", progression),
                ("OVRLRESP", ta.overall_response),
            )
            for testcd, value in values:
                if value is None:
                    continue
                self._rs(index, tp, testcd, str(value))
        best = getattr(assessment, "best_overall_response", None)
        if best is not None:
            self._rs(None, None, "BESTRESP", str(best))
        irecist = getattr(assessment, "irecist", None)
        if irecist is not None:  # iRECIST beside RECIST 1.1 ([iR17]): overall response per visit and iBOR
            for index, (tp, itp) in enumerate(zip(self.case.follow_ups, irecist.timepoints), start=2):
                if itp.response is not None:  # none is assigned after iCPD
                    self._rs(index, tp, "OVRLRESP", str(itp.response), category=IRECIST_RSCAT)
            self._rs(None, None, "BESTRESP", str(irecist.best_overall_response), category=IRECIST_RSCAT)

    def _rs(
        self, visitnum: int | None, tp: Timepoint | None, testcd: str, value: str, *, category: str = RSCAT
    ) -> None:
        record = self._common("RS", visitnum, tp)
        record.update(RSTESTCD=testcd, RSTEST=TEST_NAMES[testcd], RSCAT=category, RSORRES=value, RSSTRESC=value)
        record["RSLNKGRP"] = visit_group(visitnum, self.read.evaluator_role) if visitnum is not None else ""
        self.rs.append(record)


def _evaluator_order(role: str) -> tuple[int, str]:
    order = {"": 0, "RADIOLOGIST 1": 1, "RADIOLOGIST 2": 2, "ADJUDICATOR 1": 3}
    return (order.get(role, 4), role)


def _finish(domain: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order records (subject, evaluator, visit, build order), number --SEQ per subject, fill every column."""
    p = domain
    keyed = sorted(
        enumerate(records),
        key=lambda item: (
            item[1]["USUBJID"],
            item[1][f"{p}EVAL"],
            _evaluator_order(item[1][f"{p}EVALID"]),
            math.inf if item[1]["VISITNUM"] is None else item[1]["VISITNUM"],
            item[0],
        ),
    )
    out: list[dict[str, Any]] = []
    seq: dict[str, int] = {}
    names = [v.name for v in DOMAINS[domain]]
    for _, record in keyed:
        seq[record["USUBJID"]] = seq.get(record["USUBJID"], 0) + 1
        record[f"{p}SEQ"] = seq[record["USUBJID"]]
        row = {name: record.get(name, None if _numeric(domain, name) else "") for name in names}
        for name in names:
            if isinstance(row[name], str):
                check_term(name, row[name], where=f"{domain} subject {row['USUBJID']!r}")
        if domain in ("TR", "RS"):
            for name in (f"{p}ORRES", f"{p}STRESC"):
                check_result(name, row[f"{p}TESTCD"], row[name], where=f"{domain} subject {row['USUBJID']!r}")
        out.append(row)
    return out


def _numeric(domain: str, name: str) -> bool:
    return any(v.name == name and v.numeric for v in DOMAINS[domain])


def build_sdtm(reads: Iterable[SdtmRead], *, study_id: str) -> dict[str, list[dict[str, Any]]]:
    """Build the TU, TR and RS records of ``reads``.

    Parameters
    ----------
    reads
        One :class:`SdtmRead` per subject per evaluator.
    study_id
        STUDYID of every record.

    Returns
    -------
    dict
        ``{"TU": [...], "TR": [...], "RS": [...]}``, each a list of records (dicts keyed by variable name
        in SDTMIG order; character nulls are ``""``, numeric nulls ``None``).

    Raises
    ------
    ExchangeError
        A timepoint without a date, a nodal lesion whose site does not name a node (or the reverse), an
        assessment that does not belong to the case, an evaluator term outside CDISC CT.
    """
    if not study_id:
        raise ExchangeError("STUDYID is empty: give the study identifier (--study)")
    tu: list[dict[str, Any]] = []
    tr: list[dict[str, Any]] = []
    rs: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for read in reads:
        key = (read.case.subject, read.evaluator, read.evaluator_role or "")
        if key in seen:
            raise ExchangeError(
                f"subject {key[0]!r} has two reads by evaluator {key[1]} {key[2]!r}: give each read its own role"
            )
        seen.add(key)
        builder = _ReadBuilder(read, study_id)
        builder.build()
        tu += builder.tu
        tr += builder.tr
        rs += builder.rs
    return {"TU": _finish("TU", tu), "TR": _finish("TR", tr), "RS": _finish("RS", rs)}


def reads_from_review(project: Any, *, as_: str, now: _dt.datetime | None = None) -> list[SdtmRead]:
    """The signed reads of a central-review project as :class:`SdtmRead` inputs (administrators only).

    Each charter reader becomes ``RADIOLOGIST k`` in charter order. The case of each reader's latest signed
    version is taken with the true subject id and calendar dates (the review's date shift undone; days
    since baseline are unchanged) and assessed with the charter's protocol options, as at signing.
    ``accepted`` marks the read that gives the final result (Read A when the reads agree, the
    adjudicator's selection otherwise); it is None while the subject is not final. The adjudicator
    selects a read and writes none, so no ADJUDICATOR record is produced (docs/exchange.md).

    Parameters
    ----------
    project
        An open :class:`recist.review.workflow.ReviewProject`.
    as_
        An administrator of the project (reading results is logged in its audit trail).
    """
    from recist.api import assess
    from recist.model.validate import parse_case
    from recist.review.workflow import calendar_case

    roles = {reader: f"RADIOLOGIST {k}" for k, reader in enumerate(project.charter.readers, start=1)}
    overrides = project.charter.protocol.overrides()
    reads: list[SdtmRead] = []
    for row in project.results(as_=as_, now=now):
        shown = project.show(row["subject"], as_=as_, now=now)
        for reader, role in roles.items():
            versions = (shown["reads"].get(reader) or {}).get("versions", [])
            signed = [v for v in versions if v["status"] == "signed"]
            if not signed:
                continue
            data = calendar_case(signed[-1]["case"], shown["subject"])
            data["protocol"] = {**(data.get("protocol") or {}), **overrides}
            case = parse_case(data, source=f"review read of {row['subject']} by {reader}")
            assessment = assess(case)
            stored = [
                t["overall_response"] for t in (signed[-1].get("assessment") or {}).get("timepoints", [])
            ]
            if stored != [t.overall_response.value for t in assessment.timepoints]:
                raise ExchangeError(
                    f"subject {row['subject']!r}, reader {reader!r}: the signed assessment differs from today's "
                    "rules engine; re-assess the project before exporting"
                )
            accepted = None if row["status"] != "final" else row["reader"] == reader
            reads.append(SdtmRead(case, assessment, role, accepted))
    return reads
