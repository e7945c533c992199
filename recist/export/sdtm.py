"""CDISC SDTM TU, TR and RS datasets from cases and their assessments (SDTMIG v3.4).

The builder takes plain inputs, one :class:`SdtmRead` per subject per evaluator (a reader's case, its
assessment, the evaluator role and whether the read was accepted by adjudication), so a single case, a
folder of cases and a central-review project all go through the same function, :func:`build_sdtm`.
:func:`write_sdtm` writes the datasets as CSV, CDISC Dataset-JSON v1.1 and SAS XPORT v5.

The mapping (case field -> SDTM variable) and every choice the SDTMIG leaves open are in
docs/exchange.md; in short:

- TU: one TUMIDENT record per baseline lesion per evaluator (TARGET / NON-TARGET) at the baseline
  visit, one per new lesion (NEW) at the visit that first shows it, TUSPLIT records for the fragments of a
  split target, a TUMERGE record for a target that merged into another (TUGRPID names that other lesion).
- TR: LDIAM (long axis) and LPERP (short axis) per measured lesion per visit, TUMSTATE for every state
  (non-target states, too small, disappeared, split, merged, new-lesion equivocality), TRSTAT NOT DONE
  for a lesion not evaluated, SUMDIAM per visit, TRLNKGRP linking a visit's records to its RS records.
- RS: TRGRESP, NTRGRESP, NEWLIND (new lesions present, Y/N), NEWLPROG (EQUIVOCAL/UNEQUIVOCAL, only when
  new lesions are present) and OVRLRESP per follow-up visit, BESTRESP once per read; for a case read by
  iRECIST also OVRLRESP per visit (up to iCPD) and BESTRESP (iBOR) with RSCAT "iRECIST".
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recist.errors import ExchangeError
from recist.export.cdisc_ct import CODELISTS, TEST_NAMES, check_result, check_term
from recist.model.assessment import Assessment
from recist.model.case import Case, Lesion, Timepoint
from recist.model.enums import LesionRole, Method, NewLesionStatus, NonTargetState, TargetState

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
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Variable:
    """An SDTM variable: name, label (<= 40 characters, as SDTMIG v3.4) and whether it is numeric."""

    name: str
    label: str
    numeric: bool = False


def _vars(*specs: tuple[str, str] | tuple[str, str, bool]) -> tuple[Variable, ...]:
    return tuple(Variable(*spec) for spec in specs)


_ID = (
    ("STUDYID", "Study Identifier"),
    ("DOMAIN", "Domain Abbreviation"),
    ("USUBJID", "Unique Subject Identifier"),
)

DOMAINS: dict[str, tuple[Variable, ...]] = {
    "TU": _vars(
        *_ID,
        ("TUSEQ", "Sequence Number", True),
        ("TUGRPID", "Group ID"),
        ("TULNKID", "Link ID"),
        ("TUTESTCD", "Tumor/Lesion ID Short Name"),
        ("TUTEST", "Tumor/Lesion ID Test Name"),
        ("TUORRES", "Tumor/Lesion ID Result"),
        ("TUSTRESC", "Tumor/Lesion ID Result Std. Format"),
        ("TULOC", "Location of the Tumor/Lesion"),
        ("TUMETHOD", "Method of Identification"),
        ("TULOBXFL", "Last Observation Before Exposure Flag"),
        ("TUEVAL", "Evaluator"),
        ("TUEVALID", "Evaluator Identifier"),
        ("TUACPTFL", "Accepted Record Flag"),
        ("VISITNUM", "Visit Number", True),
        ("VISIT", "Visit Name"),
        ("TUDTC", "Date/Time of Tumor/Lesion Identification"),
    ),
    "TR": _vars(
        *_ID,
        ("TRSEQ", "Sequence Number", True),
        ("TRGRPID", "Group ID"),
        ("TRLNKID", "Link ID"),
        ("TRLNKGRP", "Link Group"),
        ("TRTESTCD", "Tumor/Lesion Assessment Short Name"),
        ("TRTEST", "Tumor/Lesion Assessment Test Name"),
        ("TRORRES", "Result or Finding in Original Units"),
        ("TRORRESU", "Original Units"),
        ("TRSTRESC", "Character Result/Finding in Std Format"),
        ("TRSTRESN", "Numeric Result/Finding in Standard Units", True),
        ("TRSTRESU", "Standard Units"),
        ("TRSTAT", "Completion Status"),
        ("TRREASND", "Reason Not Done"),
        ("TRMETHOD", "Method Used to Identify the Tumor/Lesion"),
        ("TRLOBXFL", "Last Observation Before Exposure Flag"),
        ("TREVAL", "Evaluator"),
        ("TREVALID", "Evaluator Identifier"),
        ("TRACPTFL", "Accepted Record Flag"),
        ("VISITNUM", "Visit Number", True),
        ("VISIT", "Visit Name"),
        ("TRDTC", "Date/Time of Tumor/Lesion Measurement"),
    ),
    "RS": _vars(
        *_ID,
        ("RSSEQ", "Sequence Number", True),
        ("RSLNKGRP", "Link Group ID"),
        ("RSTESTCD", "Assessment Short Name"),
        ("RSTEST", "Assessment Name"),
        ("RSCAT", "Category for Assessment"),
        ("RSORRES", "Result or Finding in Original Units"),
        ("RSSTRESC", "Character Result/Finding in Std Format"),
        ("RSEVAL", "Evaluator"),
        ("RSEVALID", "Evaluator Identifier"),
        ("RSACPTFL", "Accepted Record Flag"),
        ("VISITNUM", "Visit Number", True),
        ("VISIT", "Visit Name"),
        ("RSDTC", "Date/Time of Assessment"),
    ),
}
"""Each domain's variables in SDTMIG v3.4 order (the subset recist fills)."""

DOMAIN_LABELS = {
    "TU": "Tumor/Lesion Identification",
    "TR": "Tumor/Lesion Results",
    "RS": "Disease Response and Clin Classification",
}

METHOD_TERMS: dict[Method, str] = {
    Method.CT: "CT SCAN",
    Method.MRI: "MRI",
    Method.CALIPER: "CALIPER",
    Method.CHEST_XRAY: "X-RAY",
}
"""Lesion method -> TUMETHOD/TRMETHOD (codelist C85492; CALIPER is a sponsor extension)."""

TARGET_STATE_TERMS = {
    TargetState.TOO_SMALL: "TOO SMALL TO MEASURE",
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


def format_mm(value: float) -> str:
    """Write a length for --ORRES/--STRESC: the shortest text that reads back as the same float.

    >>> format_mm(32.0), format_mm(12.25)
    ('32', '12.25')
    """
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def visit_group(visitnum: int, evaluator_role: str | None) -> str:
    """The --LNKGRP linking one evaluator's TR records of a visit to the RS records they support.

    >>> visit_group(2, "RADIOLOGIST 1")
    'V2-RADIOLOGIST1'
    """
    suffix = f"-{evaluator_role.replace(' ', '')}" if evaluator_role else ""
    return f"V{visitnum}{suffix}"


def usubjid(study_id: str, subject: str) -> str:
    """USUBJID: the subject id prefixed with the study (SDTMIG v3.4 examples: ``ABC-1001``), unless it has it.

    >>> usubjid("NET-3", "1001"), usubjid("NET-3", "NET-3-1001")
    ('NET-3-1001', 'NET-3-1001')
    """
    prefix = f"{study_id}-"
    return subject if subject.startswith(prefix) else prefix + subject


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
            record.update(TRORRES=text, TRORRESU="mm", TRSTRESC=text, TRSTRESN=float(text), TRSTRESU="mm")
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


FORMATS = ("csv", "json", "xpt")


def dataset_spec(domain: str) -> tuple[tuple[Variable, ...], str]:
    """The variables (in SDTMIG order) and the label of a dataset recist writes: TU, TR, RS or DM."""
    if domain == "DM":
        from recist.export.sdtm_dm import DM_LABEL, DM_VARIABLES

        return DM_VARIABLES, DM_LABEL
    return DOMAINS[domain], DOMAIN_LABELS[domain]


def write_sdtm(
    datasets: dict[str, list[dict[str, Any]]],
    out_dir: str | os.PathLike[str],
    *,
    formats: Sequence[str] = FORMATS,
    study_id: str,
    now: _dt.datetime | None = None,
) -> list[Path]:
    """Write each dataset as ``tu.csv``, ``tu.json`` (Dataset-JSON v1.1) and ``tu.xpt`` (SAS XPORT v5).

    Parameters
    ----------
    datasets
        The output of :func:`build_sdtm`, optionally with ``"DM"`` (:func:`recist.export.sdtm_dm.build_dm`).
    out_dir
        Folder to write into (created).
    formats
        Any of ``"csv"``, ``"json"``, ``"xpt"``.
    study_id
        The study (names the Dataset-JSON ``studyOID``).
    now
        Creation time written into Dataset-JSON (default: the current UTC time).

    Returns
    -------
    list of Path
        The files written.
    """
    from recist.export import dataset_json

    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ExchangeError(f"unknown SDTM format(s) {sorted(unknown)}; choose from {', '.join(FORMATS)}")
    out = Path(out_dir)
    written: list[Path] = []
    created = now or _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    for domain, records in datasets.items():
        variables, label = dataset_spec(domain)
        stem = out / domain.lower()
        if "csv" in formats:
            written.append(write_csv(stem.with_suffix(".csv"), variables, records))
        if "json" in formats:
            doc = dataset_json.to_dataset_json(
                domain, label, variables, records, study_id=study_id, created=created
            )
            written.append(dataset_json.write(stem.with_suffix(".json"), doc))
        if "xpt" in formats:
            written.append(write_xpt(stem.with_suffix(".xpt"), domain, variables, records, label=label))
    return written


PROTOCOL_FILE = "protocol.json"
"""Beside the datasets: each read's protocol options, which SDTM has no variable for."""


def write_protocols(reads: Iterable[SdtmRead], out_dir: str | os.PathLike[str], *, study_id: str) -> Path:
    """Write ``protocol.json``: the protocol options (confirmation, minimum SD duration, ...) of each read.

    SDTM carries the measurements and responses but not the rules' options, so a re-import would assess
    with the defaults; :func:`recist.io.sdtm_import.read_protocols` reads this file back so that
    ``recist assess`` of the imported cases gives the exported responses. Keyed like the records: USUBJID,
    --EVAL and --EVALID.
    """
    from recist._atomic import atomic_write_text

    entries = [
        {
            "USUBJID": usubjid(study_id, read.case.subject),
            "EVAL": read.evaluator,
            "EVALID": read.evaluator_role or "",
            "protocol": read.case.protocol.model_dump(mode="json"),
        }
        for read in reads
    ]
    path = Path(out_dir) / PROTOCOL_FILE
    document = {"format": "recist.sdtm-protocol/1", "study": study_id, "reads": entries}
    atomic_write_text(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
    return path


def write_csv(path: Path, variables: Sequence[Variable], records: Sequence[dict[str, Any]]) -> Path:
    """Write records as CSV (header: variable names in SDTMIG order; nulls as empty cells), atomically."""
    import csv
    import io

    from recist._atomic import atomic_write_text

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([v.name for v in variables])
    for record in records:
        writer.writerow(["" if record[v.name] is None else _cell_text(record[v.name]) for v in variables])
    atomic_write_text(path, buffer.getvalue())
    return path


def _cell_text(value: Any) -> str:
    if isinstance(value, float):
        return format_mm(value)
    return str(value)


def write_xpt(
    path: Path,
    domain: str,
    variables: Sequence[Variable],
    records: Sequence[dict[str, Any]],
    *,
    label: str | None = None,
) -> Path:
    """Write records as SAS XPORT v5 (the FDA transport format) with pyreadstat, atomically.

    Character variables are limited to 200 bytes and labels to 40 characters by the format.
    """
    import tempfile

    import pandas as pd
    import pyreadstat

    from recist._atomic import atomic_write_bytes

    columns: dict[str, Any] = {}
    for v in variables:
        values = [record[v.name] for record in records]
        if v.numeric:
            columns[v.name] = pd.Series(
                [math.nan if x is None else float(x) for x in values], dtype="float64"
            )
        else:
            too_long = [x for x in values if len(str(x).encode("utf-8")) > 200]
            if too_long:
                raise ExchangeError(
                    f"{domain}.{v.name} value {too_long[0]!r} is longer than XPORT's 200 bytes"
                )
            columns[v.name] = pd.Series([str(x) for x in values], dtype="object")
    frame = pd.DataFrame(columns)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp) / path.name
        pyreadstat.write_xport(
            frame,
            str(tmp_path),
            file_label=label or DOMAIN_LABELS[domain],
            column_labels=[v.label for v in variables],
            table_name=domain,
            file_format_version=5,
        )
        atomic_write_bytes(path, tmp_path.read_bytes())
    return path


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
