"""Rebuilding cases from SDTM TU/TR/RS rows: one case per subject per evaluator (:func:`cases_from_sdtm`).

Part of the SDTM import (:mod:`recist.io.sdtm_import`, whose docstring says what comes back and how): the
inverse of the export's vocabulary, the records of one subject and evaluator gathered into a case, and the
warnings for values an earlier recist wrote.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from recist.errors import ExchangeError, RecistValidationError
from recist.io.sdtm_checks import FRAGMENT_LINK, TOO_SMALL, check_columns
from recist.io.sdtm_datasets import DatasetRow
from recist.model.case import Case, Protocol
from recist.model.validate import parse_case

__all__ = ["ImportedRead", "cases_from_sdtm"]

# Inverse of the export's vocabulary (recist.export.sdtm); kept here because io sits below export.
_METHODS = {"CT SCAN": "CT", "CT": "CT", "MRI": "MRI", "CALIPER": "caliper", "X-RAY": "chest_xray"}
_TARGET_STATES = {
    TOO_SMALL: "too_small",  # recist's earlier TUMSTATE form, read with a warning
    "ABSENT": "disappeared",
    "SPLIT": "split",
    "TUMOR MERGED": "merged",
    "MERGED": "merged",  # recist's earlier value, not a CDISC term (C124309 has TUMOR MERGED): read with a warning
}
_NON_TARGET_STATES = {
    "PRESENT": "present",
    "ABSENT": "absent",
    "UNEQUIVOCAL PROGRESSION": "unequivocal_progression",
}
_NEW_STATES = {"EQUIVOCAL": True, "UNEQUIVOCAL": False, "PRESENT": False}
_NEW_LESION_STATES = {"ABSENT": "absent", "UNEQUIVOCAL PROGRESSION": "unequivocal_progression"}
"""TUMSTATE of a new lesion re-recorded under iRECIST (gone, or unequivocally progressing)."""
_NEWLIND = {"Y": "YES", "N": "NO"}
"""NEWLIND "New Lesion Indicator" (codelist NY): whether new lesions are present."""
_NEWLPROG = {"EQUIVOCAL": "EQUIVOCAL", "UNEQUIVOCAL": "YES"}
"""NEWLPROG "New Lesion Progression" (codelist C96785): how equivocal the new lesions' progression is."""
_LEGACY_NEWLPROG = {"Y": "YES", "N": "NO"}
"""NEWLPROG values recist wrote before it followed CDISC CT (Y/N are not C96785 terms): read with a warning."""
_RESPONSES = {"CR", "PR", "SD", "PD", "NE", "NON-CR/NON-PD"}
_RS_FIELDS = {"TRGRESP": "target", "NTRGRESP": "non_target", "OVRLRESP": "overall"}
_NEW_LESION_TESTS = ("NEWLIND", "NEWLPROG")
_LEGACY = {
    "MERGED": "TUMSTATE 'MERGED' is recist's old value; CDISC CT C124309 has 'TUMOR MERGED' (read as merged)",
    "NEWLPROG": "NEWLPROG 'Y'/'N' are recist's old values; CDISC CT has NEWLIND 'Y'/'N' for new lesions present "
    "and NEWLPROG 'EQUIVOCAL'/'UNEQUIVOCAL' (C96785) (read as new lesions yes/no)",
    "BESTRSP": "RSTESTCD 'BESTRSP' is recist's old test code; CDISC CT C96782 has 'BESTRESP' (ignored, as BESTRESP is)",
    "TOOSMALL": "TUMSTATE 'TOO SMALL TO MEASURE' is recist's old form; SDTMIG v3.4 puts it in the diameter's "
    "TRORRES with TRSTRESC 5 (read as too small)",
}
"""Values of recist's earlier SDTM exports that are read, with one warning per kind naming the first record."""


@dataclass(frozen=True)
class ImportedRead:
    """One subject as read by one evaluator, rebuilt from SDTM.

    Attributes
    ----------
    case
        The rebuilt case.
    evaluator, evaluator_role
        --EVAL and --EVALID (``""`` where null).
    accepted
        --ACPTFL: True ("Y"), False ("N") or None (null).
    """

    case: Case
    evaluator: str
    evaluator_role: str
    accepted: bool | None


def _visitnum(row: DatasetRow, prefix: str) -> int:
    text = row["VISITNUM"]
    try:
        number = float(text)
    except ValueError:
        raise ExchangeError(f"{row.where}: VISITNUM {text!r} is not a number") from None
    if not number.is_integer() or not 0 < number < 1e6:
        raise ExchangeError(f"{row.where}: VISITNUM {text!r} must be a positive whole number")
    return int(number)


def _mm(row: DatasetRow, prefix: str) -> float:
    text = row[f"{prefix}STRESC"] or row[f"{prefix}ORRES"]
    try:
        value = float(text)
    except ValueError:
        raise ExchangeError(f"{row.where}: {prefix}STRESC {text!r} is not a number of millimetres") from None
    unit = row[f"{prefix}STRESU"] or row[f"{prefix}ORRESU"]
    if unit not in ("mm", "") or not math.isfinite(value) or value < 0:
        raise ExchangeError(f"{row.where}: {value!r} {unit!r} is not a length in mm (recist expects mm >= 0)")
    return value


def _state(row: DatasetRow, table: Mapping[str, Any], kind: str) -> Any:
    """The case value of a TUMSTATE result, or ExchangeError naming the row and the allowed results."""
    state = row["TRSTRESC"] or row["TRORRES"]
    if state not in table:
        raise ExchangeError(f"{row.where}: {kind} TUMSTATE {state!r} is not one of {', '.join(table)}")
    return table[state]


def _key(row: DatasetRow, prefix: str) -> tuple[str, str, str]:
    return (row["USUBJID"], row[f"{prefix}EVAL"], row[f"{prefix}EVALID"])


class _CaseBuilder:
    def __init__(self, key: tuple[str, str, str], study: str = "", legacy: dict[str, list[str]] | None = None) -> None:
        self.key = key
        self.legacy = legacy if legacy is not None else {}
        # the case's subject: USUBJID without the "<STUDYID>-" prefix recist's export adds (SDTMIG examples)
        prefix = f"{study}-"
        self.subject = key[0][len(prefix):] if study and key[0].startswith(prefix) and key[0] != prefix else key[0]
        self.fragments: dict[str, str] = {}
        self.lesions: dict[str, dict[str, Any]] = {}
        self.new_sites: dict[str, tuple[str, bool]] = {}
        self.visits: dict[int, dict[str, Any]] = {}
        self.accepted: set[str] = set()

    def visit(self, row: DatasetRow, prefix: str) -> dict[str, Any]:
        number = _visitnum(row, prefix)
        date_text = row[f"{prefix}DTC"]
        try:
            date = _dt.date.fromisoformat(date_text[:10]) if date_text else None
        except ValueError:
            raise ExchangeError(f"{row.where}: {prefix}DTC {date_text!r} is not an ISO 8601 date") from None
        visit = self.visits.setdefault(
            number,
            {
                "label": row["VISIT"] or f"visit {number}",
                "date": date,
                "targets": {},
                "non_targets": {},
                "new": {},
                "recorded": {},
                "new_lesion_tests": {},
            },
        )
        if date is not None and visit["date"] not in (None, date):
            raise ExchangeError(
                f"{row.where}: {prefix}DTC {date} differs from {visit['date']} of visit {number}"
            )
        if visit["date"] is None:
            visit["date"] = date
        if row["VISIT"] and row["VISIT"] != visit["label"]:
            raise ExchangeError(
                f"{row.where}: VISIT {row['VISIT']!r} differs from {visit['label']!r} of visit {number}"
            )
        if row[f"{prefix}ACPTFL"]:
            self.accepted.add(row[f"{prefix}ACPTFL"])
        return visit

    def add_tu(self, row: DatasetRow) -> None:
        self.visit(row, "TU")
        testcd, result, link = row["TUTESTCD"], row["TUSTRESC"] or row["TUORRES"], row["TULNKID"]
        if not link:
            raise ExchangeError(f"{row.where}: TULNKID is empty; every tumour record needs its lesion id")
        loc = row["TULOC"]
        if testcd == "TUSPLIT" and row["TUGRPID"]:
            self.fragments[link] = row["TUGRPID"]  # a fragment and the lesion it split from
            return
        if testcd in ("TUSPLIT", "TUMERGE"):
            return
        if testcd != "TUMIDENT":
            raise ExchangeError(f"{row.where}: TUTESTCD {testcd!r} is not TUMIDENT, TUSPLIT or TUMERGE")
        if not loc:
            raise ExchangeError(f"{row.where}: TULOC is empty; give the lesion's location")
        nodal = "NODE" in loc.upper()
        if result == "NEW":
            self.new_sites[link] = (loc.lower(), nodal)
            return
        if result not in ("TARGET", "NON-TARGET"):
            raise ExchangeError(f"{row.where}: TUSTRESC {result!r} is not TARGET, NON-TARGET or NEW")
        if link in self.lesions:
            raise ExchangeError(f"{row.where}: lesion {link!r} is identified twice for this evaluator")
        method = row["TUMETHOD"] or "CT SCAN"
        if method not in _METHODS:
            raise ExchangeError(f"{row.where}: TUMETHOD {method!r} is not one of {', '.join(_METHODS)}")
        self.lesions[link] = {
            "id": link,
            "role": "target" if result == "TARGET" else "non_target",
            "site": loc.lower(),
            "nodal": nodal,
            "method": _METHODS[method],
        }

    def add_tr(self, row: DatasetRow) -> None:
        visit = self.visit(row, "TR")
        testcd, link = row["TRTESTCD"], row["TRLNKID"]
        if testcd == "SUMDIAM":
            return
        if testcd not in ("LDIAM", "LPERP", "TUMSTATE"):
            raise ExchangeError(f"{row.where}: TRTESTCD {testcd!r} is not LDIAM, LPERP, TUMSTATE or SUMDIAM")
        if not link:
            raise ExchangeError(f"{row.where}: TRLNKID is empty; link the result to its lesion (TULNKID)")
        not_done = row["TRSTAT"].upper() == "NOT DONE"
        fragment = FRAGMENT_LINK.match(link)
        parent = self.fragments.get(link) or (fragment["parent"] if fragment else None)
        if link not in self.lesions and link not in self.new_sites and parent in self.lesions:
            if testcd == "TUMSTATE" or not_done:
                raise ExchangeError(f"{row.where}: a split fragment ({link}) carries only LDIAM/LPERP")
            entry = visit["targets"].setdefault(parent, {})
            fragments = entry.setdefault("fragments", {})
            order = int(fragment["k"]) if fragment and fragment["parent"] == parent else len(fragments) + 1
            fragments[order] = _mm(row, "TR")
            return
        if link in self.new_sites:
            new = visit["new"].setdefault(link, {})
            if testcd == "TUMSTATE" and not_done:  # an iRECIST re-record not evaluated at this visit
                new["state"] = "not_evaluated"
            elif testcd == "TUMSTATE" and (row["TRSTRESC"] or row["TRORRES"]) in _NEW_LESION_STATES:
                new["state"] = _state(row, _NEW_LESION_STATES, "new-lesion")
            elif testcd == "TUMSTATE":
                new["equivocal"] = _state(row, _NEW_STATES, "new-lesion")
            elif not not_done:
                new["long_axis_mm" if testcd == "LDIAM" else "short_axis_mm"] = _mm(row, "TR")
            return
        lesion = self.lesions.get(link)
        if lesion is None:
            raise ExchangeError(
                f"{row.where}: TRLNKID {link!r} names no lesion identified in TU for this evaluator"
            )
        if lesion["role"] == "target":
            entry = visit["targets"].setdefault(link, {})
            if not_done:
                entry["state"] = "not_evaluated"
            elif testcd == "TUMSTATE":
                entry["state"] = _state(row, _TARGET_STATES, "target")
                if (row["TRSTRESC"] or row["TRORRES"]) == "MERGED":
                    self.legacy.setdefault("MERGED", []).append(row.where)
                if (row["TRSTRESC"] or row["TRORRES"]) == TOO_SMALL:
                    self.legacy.setdefault("TOOSMALL", []).append(row.where)
                if entry["state"] == "merged":
                    if not row["TRGRPID"]:
                        raise ExchangeError(
                            f"{row.where}: a MERGED lesion needs TRGRPID naming the lesion it merged into"
                        )
                    entry["merged_into"] = row["TRGRPID"]
            elif row["TRORRES"].upper() == TOO_SMALL:
                if row["TRSTRESC"]:
                    _mm(row, "TR")  # a standardised value (recist writes 5) must still be a length in mm
                entry["state"] = "too_small"  # recist counts it 5 mm whatever the sponsor's standard value
            else:
                entry["long_axis_mm" if testcd == "LDIAM" else "short_axis_mm"] = _mm(row, "TR")
        else:
            entry = visit["non_targets"].setdefault(link, {})
            if testcd == "TUMSTATE":
                if not_done:
                    entry["state"] = "not_evaluated"
                else:
                    entry["state"] = _state(row, _NON_TARGET_STATES, "non-target")
            elif testcd == "LPERP" and not not_done:
                entry["short_axis_mm"] = _mm(row, "TR")
            elif not not_done:
                raise ExchangeError(
                    f"{row.where}: a non-target lesion carries TUMSTATE and, for nodes, LPERP only"
                )

    def add_rs(self, row: DatasetRow) -> None:
        testcd = row["RSTESTCD"]
        if testcd == "BESTRSP":
            self.legacy.setdefault("BESTRSP", []).append(row.where)
        if testcd not in _RS_FIELDS and testcd not in _NEW_LESION_TESTS:
            return  # BESTRESP (recomputed by recist) and tests recist does not read
        if row["RSCAT"] not in ("", "RECIST 1.1"):
            return
        visit = self.visit(row, "RS")
        value = row["RSSTRESC"] or row["RSORRES"]
        if testcd == "NEWLIND":
            if value not in _NEWLIND:
                raise ExchangeError(f"{row.where}: NEWLIND {value!r} is not Y or N (codelist NY)")
            visit["new_lesion_tests"][testcd] = (_NEWLIND[value], row.where)
        elif testcd == "NEWLPROG":
            if value in _LEGACY_NEWLPROG:
                self.legacy.setdefault("NEWLPROG", []).append(row.where)
                visit["new_lesion_tests"][testcd] = (_LEGACY_NEWLPROG[value], row.where)
            elif value in _NEWLPROG:
                visit["new_lesion_tests"][testcd] = (_NEWLPROG[value], row.where)
            else:
                raise ExchangeError(
                    f"{row.where}: NEWLPROG {value!r} is not EQUIVOCAL or UNEQUIVOCAL (codelist C96785)"
                )
        elif value not in _RESPONSES:
            raise ExchangeError(
                f"{row.where}: {testcd} {value!r} is not one of {', '.join(sorted(_RESPONSES))}"
            )
        else:
            visit["recorded"][_RS_FIELDS[testcd]] = value

    def case_dict(self, protocol: Protocol | None, recorded: bool) -> dict[str, Any]:
        subject = self.subject
        timepoints = []
        for index, number in enumerate(sorted(self.visits)):
            visit = self.visits[number]
            if visit["date"] is None:
                raise ExchangeError(
                    f"subject {subject!r}, visit {visit['label']!r}: no --DTC date on any record"
                )
            targets = {}
            for lesion_id, entry in visit["targets"].items():
                fragments = entry.pop("fragments", None)
                if fragments is not None:
                    if entry.get("state") != "split":
                        raise ExchangeError(
                            f"subject {subject!r}, visit {visit['label']!r}: lesion {lesion_id!r} has fragments "
                            "but no TUMSTATE SPLIT record"
                        )
                    entry["fragments_mm"] = [fragments[k] for k in sorted(fragments)]
                targets[lesion_id] = entry
            new_lesions = []
            for lesion_id, entry in visit["new"].items():
                site, nodal = self.new_sites[lesion_id]
                new_lesions.append(
                    {"id": lesion_id, "site": site, "nodal": nodal, "equivocal": False, **entry}
                )
            tp: dict[str, Any] = {"label": visit["label"], "date": visit["date"].isoformat()}
            if targets:
                tp["targets"] = targets
            if visit["non_targets"]:
                tp["non_targets"] = visit["non_targets"]
            if new_lesions:
                tp["new_lesions"] = new_lesions
            new_lesions = _recorded_new_lesions(visit["new_lesion_tests"])
            if new_lesions is not None:
                visit["recorded"]["new_lesions"] = new_lesions
            if recorded and visit["recorded"] and index > 0:
                tp["recorded"] = visit["recorded"]
            timepoints.append(tp)
        data: dict[str, Any] = {
            "format": "recist.case/1",
            "subject": subject,
            "lesions": list(self.lesions.values()),
            "timepoints": timepoints,
        }
        if protocol is not None:
            data["protocol"] = protocol.model_dump(mode="json")
        return data


def _recorded_new_lesions(tests: Mapping[str, tuple[str, str]]) -> str | None:
    """The recorded new-lesion status (NO, EQUIVOCAL, YES) of a visit from its NEWLIND and NEWLPROG records.

    NEWLIND says whether new lesions are present, NEWLPROG (only with new lesions) whether their progression
    is equivocal; NEWLIND Y alone is YES. A NEWLPROG that contradicts NEWLIND is refused, naming both records.
    """
    indicator, progression = tests.get("NEWLIND"), tests.get("NEWLPROG")
    if progression is None:
        return indicator[0] if indicator else None
    if indicator is not None and (indicator[0] == "NO") != (progression[0] == "NO"):
        raise ExchangeError(
            f"{progression[1]}: NEWLPROG contradicts NEWLIND of {indicator[1]} (new lesions "
            f"{'absent' if indicator[0] == 'NO' else 'present'}); fix one of the two records"
        )
    return progression[0]


def cases_from_sdtm(
    datasets: Mapping[str, Iterable[DatasetRow]],
    *,
    protocol: Protocol | None = None,
    recorded: bool = True,
    protocols: Mapping[tuple[str, str, str], Protocol] | None = None,
    warnings: list[str] | None = None,
) -> list[ImportedRead]:
    """Rebuild one case per subject per evaluator from TU, TR (and optionally RS) rows.

    Parameters
    ----------
    datasets
        ``{"TU": rows, "TR": rows, "RS": rows}`` as returned by :func:`read_sdtm`.
    protocol
        Protocol options for every case (SDTM does not carry them; default: the case-file defaults).
    recorded
        Attach each follow-up's RS responses as the timepoint's ``recorded`` block.
    protocols
        Protocol options per (USUBJID, --EVAL, --EVALID) (:func:`read_protocols`), for the reads that
        ``protocol`` does not cover.
    warnings
        A list that receives one line per kind of value written by an earlier recist that is read with a
        new meaning or ignored (TUMSTATE MERGED, NEWLPROG Y/N, BESTRSP), naming the first record.

    Raises
    ------
    ExchangeError
        Naming the file and row of the first malformed record, or the subject and evaluator whose
        records do not make a valid case.
    """
    builders: dict[tuple[str, str, str], _CaseBuilder] = {}
    legacy: dict[str, list[str]] = {}
    for domain, prefix, method in (("TU", "TU", "add_tu"), ("TR", "TR", "add_tr"), ("RS", "RS", "add_rs")):
        rows = list(datasets.get(domain, []))
        check_columns(domain, rows)
        # TU first and in two passes (baseline lesions before new ones) so TR can resolve every link.
        for row in rows:
            if not row["USUBJID"]:
                raise ExchangeError(f"{row.where}: USUBJID is empty")
            key = _key(row, prefix)
            if key not in builders:
                if domain != "TU":
                    raise ExchangeError(
                        f"{row.where}: subject {key[0]!r}, evaluator {key[1]} {key[2]!r} has no TU records"
                    )
                builders[key] = _CaseBuilder(key, row["STUDYID"], legacy)
            getattr(builders[key], method)(row)
    reads = []
    for key, builder in builders.items():
        data = builder.case_dict(protocol or (protocols or {}).get(key), recorded)
        try:
            case = parse_case(data, source=f"SDTM subject {key[0]} ({key[1]} {key[2]})".strip())
        except RecistValidationError as exc:
            raise ExchangeError(f"the SDTM records do not make a valid case: {exc}") from None
        accepted = None if not builder.accepted else ("Y" in builder.accepted)
        reads.append(ImportedRead(case=case, evaluator=key[1], evaluator_role=key[2], accepted=accepted))
    if warnings is not None:
        for kind, wheres in legacy.items():
            more = f" and {len(wheres) - 1} more record(s)" if len(wheres) > 1 else ""
            warnings.append(f"{wheres[0]}{more}: {_LEGACY[kind]}")
    return reads
