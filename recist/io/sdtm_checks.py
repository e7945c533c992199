"""Consistency checks of SDTM TU/TR/RS datasets, in themselves and with each other (SDTMIG v3.4).

Part of the SDTM import (:mod:`recist.io.sdtm_import`): the required variables of each domain, one study
per dataset, unique --SEQ, standard results that restate the original ones, and references between TU, TR
and RS that resolve. Every problem raises :class:`~recist.errors.ExchangeError` naming the file and row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from recist.errors import ExchangeError
from recist.io.sdtm_datasets import DatasetRow

__all__ = ["check_datasets"]

TOO_SMALL = "TOO SMALL TO MEASURE"
"""TRORRES of a diameter too small to measure, standardised in TRSTRESC/TRSTRESN (SDTMIG v3.4 TR assumption 4)."""
_REQUIRED = {
    "TU": ("USUBJID", "TULNKID", "TUTESTCD", "TUSTRESC", "TULOC", "VISITNUM", "VISIT", "TUDTC"),
    "TR": ("USUBJID", "TRLNKID", "TRTESTCD", "TRSTRESC", "VISITNUM", "VISIT", "TRDTC"),
    "RS": ("USUBJID", "RSTESTCD", "RSSTRESC", "VISITNUM", "VISIT"),
}
FRAGMENT_LINK = re.compile(r"^(?P<parent>.+)\.(?P<k>[1-9][0-9]*)$")
"""TRLNKID of a split fragment as recist writes it: ``<parent TULNKID>.<k>``, k numbered from 1."""


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_datasets(datasets: Mapping[str, Iterable[DatasetRow]]) -> None:
    """Refuse SDTM datasets that are inconsistent in themselves or with each other (SDTMIG v3.4).

    - one STUDYID per dataset;
    - --SEQ unique per subject within a domain (SDTMIG 4.1.5: it identifies the record);
    - TRSTRESN equal to TRSTRESC where both are numbers, and TRORRES equal to TRSTRESC where the
      original and standard units are the same (a standard result must restate the original);
    - every TR TRLNKID identified in TU, every RS visit present in TR, and, when RS has records, every
      follow-up visit of TR answered by an RS overall response, for the same subject and evaluator (a
      dataset cut short, or records deleted, leave references dangling).

    Raises
    ------
    ExchangeError
        Naming the file and row (numbered from 1 after the header) and what is wrong.
    """
    for domain, rows in datasets.items():
        p = domain
        study: tuple[str, str] | None = None
        seen_seq: dict[tuple[str, str], str] = {}
        for row in rows:
            if row["STUDYID"]:
                if study is None:
                    study = (row["STUDYID"], row.where)
                elif row["STUDYID"] != study[0]:
                    raise ExchangeError(
                        f"{row.where}: STUDYID {row['STUDYID']!r} but {study[1]} has {study[0]!r}; one dataset "
                        "holds one study: split the file by study"
                    )
            seq = row[f"{p}SEQ"]
            if seq:
                key = (row["USUBJID"], seq)
                if key in seen_seq:
                    raise ExchangeError(
                        f"{row.where}: {p}SEQ {seq} of subject {row['USUBJID']!r} repeats {seen_seq[key]}; "
                        f"--SEQ must identify one record per subject"
                    )
                seen_seq[key] = row.where
            if domain == "TR":
                _check_results(row)
    _check_references(datasets)


def _check_results(row: DatasetRow) -> None:
    stresc, stresn, orres = row["TRSTRESC"], row["TRSTRESN"], row["TRORRES"]
    if stresn:
        numeric = _number(stresn)
        if numeric is None or _number(stresc) != numeric:
            raise ExchangeError(
                f"{row.where}: TRSTRESN {stresn!r} differs from TRSTRESC {stresc!r}; the numeric and character "
                "standard results must be the same value"
            )
    if orres.upper() == TOO_SMALL and _number(stresc) is not None:
        return  # a character result standardised to a number (SDTMIG v3.4 TR assumption 4: 5 mm)
    if orres and stresc and (row["TRORRESU"] or "") == (row["TRSTRESU"] or ""):
        a, b = _number(orres), _number(stresc)
        if (a != b) if (a is not None and b is not None) else (orres.upper() != stresc.upper()):
            raise ExchangeError(
                f"{row.where}: TRORRES {orres!r} differs from TRSTRESC {stresc!r} in the same unit; fix the "
                "record so the standard result restates the original"
            )


def _check_references(datasets: Mapping[str, Iterable[DatasetRow]]) -> None:
    def owner(row: DatasetRow, p: str) -> tuple[str, str, str]:
        return (row["USUBJID"], row[f"{p}EVAL"], row[f"{p}EVALID"])

    links = {(*owner(row, "TU"), row["TULNKID"]) for row in datasets.get("TU", [])}
    visits = set()
    for row in datasets.get("TR", []):
        visits.add((*owner(row, "TR"), row["VISITNUM"]))
        link = row["TRLNKID"]
        fragment = FRAGMENT_LINK.match(link)
        known = (*owner(row, "TR"), link) in links or (
            fragment is not None and (*owner(row, "TR"), fragment["parent"]) in links
        )
        if link and not known:
            raise ExchangeError(
                f"{row.where}: TRLNKID {link!r} of subject {row['USUBJID']!r} has no TU record; TU is missing "
                "this lesion's identification (truncated or filtered?)"
            )
    responses = set()
    for row in datasets.get("RS", []):
        if row["VISITNUM"] and (*owner(row, "RS"), row["VISITNUM"]) not in visits:
            raise ExchangeError(
                f"{row.where}: RS response at visit {row['VISITNUM']} of subject {row['USUBJID']!r} has no TR "
                "records at that visit; TR is missing the measurements it was assessed from (truncated or filtered?)"
            )
        if row["RSTESTCD"] == "OVRLRESP" and row["RSCAT"] in ("", "RECIST 1.1"):
            responses.add((*owner(row, "RS"), row["VISITNUM"]))
    if datasets.get("RS"):  # no RS, or an empty one, is a warning of read_sdtm: the recorded responses are lost
        _check_responses(datasets.get("TR", []), responses, owner)


def _check_responses(tr: Iterable[DatasetRow], responses: set[tuple[str, ...]], owner: Any) -> None:
    """Refuse TR records at a follow-up visit without an RS overall response, for the same subject and evaluator.

    A dataset cut where a row ends (an .xpt row that ends with an 80-byte record, a .csv line) passes every
    size check, and a cut RS leaves no dangling reference from RS to TR: only the visits TR measured and RS
    does not assess show it. ``responses`` holds the visits with a RECIST 1.1 OVRLRESP record (SDTMIG v3.4 RS:
    the overall response of each assessment; recist writes it after the visit's other RECIST 1.1 tests, so
    a cut inside a visit loses it too). The baseline (the owner's first TR visit) has no response.
    """
    rows = list(tr)
    first: dict[tuple[str, str, str], float] = {}
    for row in rows:
        number = _number(row["VISITNUM"])
        if number is not None and number < first.get(owner(row, "TR"), math.inf):
            first[owner(row, "TR")] = number
    for row in rows:
        number = _number(row["VISITNUM"])
        if number is not None and number > first[owner(row, "TR")] and (
                *owner(row, "TR"), row["VISITNUM"]) not in responses:
            raise ExchangeError(
                f"{row.where}: TR records at visit {row['VISITNUM']} of subject {row['USUBJID']!r} have no RS "
                "response (OVRLRESP); RS is missing the responses of that visit (truncated or filtered?): give the "
                "complete RS, or import without it (the responses are then computed from TU/TR)"
            )


def check_columns(domain: str, rows: list[DatasetRow]) -> None:
    for row in rows:
        missing = [name for name in _REQUIRED[domain] if name not in row.values]
        if missing:
            raise ExchangeError(f"{row.where}: missing variable(s) {', '.join(missing)} of {domain}")
        if row["DOMAIN"] not in ("", domain):
            raise ExchangeError(f"{row.where}: DOMAIN is {row['DOMAIN']!r}, expected {domain!r}")
        return
