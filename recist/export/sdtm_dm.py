"""CDISC SDTM DM (Demographics): one record per subject with its arm (SDTMIG v3.4 section 5.2).

recist holds the tumour reads and, for trial analyses, the sponsor's subjects table
(:mod:`recist.endpoints.subjects`: randomisation date, arm, death date). DM is built from that table; the
variables SDTMIG v3.4 makes Required that recist has no source for are filled only as the standard
allows, never invented (docs/exchange.md, "DM"):

- SEX ``"U"`` (codelist C66731 "Sex": Unknown), the CDISC term for a sex not collected here;
- SITEID and COUNTRY (ISO 3166-1 alpha-3, codelist C66786 uses the ISO codes) from the caller
  (``recist export sdtm --site-id --country``); refused when missing;
- the Expected variables without a source (RFXSTDTC, RFXENDTC, RFICDTC, RFPENDTC, RFENDTC, AGE, AGEU,
  RACE, ARMNRS, ACTARMUD) are present and null, as SDTMIG v3.4 section 4.1.5 allows for Expected
  variables.

RFSTDTC is the randomisation date (the sponsor-defined reference start; PFS counts from it), DTHDTC and
DTHFL come from the death date. ARM and ACTARM are the subjects table's arm: it records one arm per
subject, the arm the subject was randomised to and treated in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from recist.errors import ExchangeError
from recist.export.sdtm_spec import Variable, usubjid

__all__ = ["DM_VARIABLES", "DM_LABEL", "SEX_UNKNOWN", "arm_code", "build_dm", "check_country", "check_site_id"]

DM_LABEL = "Demographics"

DM_VARIABLES: tuple[Variable, ...] = tuple(
    Variable(*spec)
    for spec in (
        ("STUDYID", "Study Identifier"),
        ("DOMAIN", "Domain Abbreviation"),
        ("USUBJID", "Unique Subject Identifier"),
        ("SUBJID", "Subject Identifier for the Study"),
        ("RFSTDTC", "Subject Reference Start Date/Time"),
        ("RFENDTC", "Subject Reference End Date/Time"),
        ("RFXSTDTC", "Date/Time of First Study Treatment"),
        ("RFXENDTC", "Date/Time of Last Study Treatment"),
        ("RFICDTC", "Date/Time of Informed Consent"),
        ("RFPENDTC", "Date/Time of End of Participation"),
        ("DTHDTC", "Date/Time of Death"),
        ("DTHFL", "Subject Death Flag"),
        ("SITEID", "Study Site Identifier"),
        ("AGE", "Age", True),
        ("AGEU", "Age Units"),
        ("SEX", "Sex"),
        ("RACE", "Race"),
        ("ARMCD", "Planned Arm Code"),
        ("ARM", "Description of Planned Arm"),
        ("ACTARMCD", "Actual Arm Code"),
        ("ACTARM", "Description of Actual Arm"),
        ("ARMNRS", "Reason Arm and/or Actual Arm is Null"),
        ("ACTARMUD", "Description of Unplanned Actual Arm"),
        ("COUNTRY", "Country"),
    )
)
"""DM's Required and Expected variables in SDTMIG v3.4 order (the Permissible ones are left out)."""

SEX_UNKNOWN = "U"
"""Codelist C66731 (Sex) term "U" (Unknown): recist's inputs do not collect sex."""

_ARMCD_MAX = 20  # SDTMIG v3.4: ARMCD is limited to 20 characters


def arm_code(arm: str) -> str:
    """ARMCD of an arm label: upper case, runs of other characters as ``_``, at most 20 characters.

    >>> arm_code("Lutathera 7.4 GBq"), arm_code("control")
    ('LUTATHERA_7_4_GBQ', 'CONTROL')
    """
    return re.sub(r"[^A-Z0-9]+", "_", arm.upper()).strip("_")[:_ARMCD_MAX]


def check_country(country: str | None) -> str:
    """COUNTRY: an ISO 3166-1 alpha-3 code (SDTMIG v3.4 DM; codelist C66786), else refused."""
    if not country:
        raise ExchangeError(
            "DM needs COUNTRY (Required in SDTMIG v3.4) and recist has no source for it: "
            "give the ISO 3166-1 alpha-3 code with --country (e.g. --country NLD)"
        )
    if not re.fullmatch(r"[A-Z]{3}", country):
        raise ExchangeError(f"--country {country!r} is not an ISO 3166-1 alpha-3 code (three capitals, e.g. NLD)")
    return country


def check_site_id(site_id: str | None) -> str:
    """SITEID: the study site identifier from the caller (Required in SDTMIG v3.4 DM), else refused."""
    if not site_id or not site_id.strip():
        raise ExchangeError(
            "DM needs SITEID (Required in SDTMIG v3.4) and recist has no source for it: "
            "give the study site identifier with --site-id"
        )
    return site_id.strip()


def build_dm(
    subjects: Iterable[Any],
    *,
    study_id: str,
    site_id: str | None,
    country: str | None,
    arms: Sequence[str] = (),
    read_subjects: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Build the DM records: one per subject of the subjects table, ordered by USUBJID.

    Parameters
    ----------
    subjects
        :class:`recist.endpoints.subjects.Subject` rows (subject, randomisation_date, arm, death_date).
    study_id
        STUDYID (USUBJID is the subject prefixed with it, as in TU/TR/RS).
    site_id, country
        SITEID and COUNTRY (ISO 3166-1 alpha-3) of every subject; refused when missing.
    arms
        The review charter's arms, when there is a charter: every subject's arm must be one of them.
    read_subjects
        Subjects of the TU/TR/RS reads: each must be in the subjects table (a DM record per subject).

    Raises
    ------
    ExchangeError
        A missing SITEID or COUNTRY, a subject of the reads without a subjects row, an arm outside the
        charter's arms, two arms with the same ARMCD.
    """
    site = check_site_id(site_id)
    nation = check_country(country)
    rows = list(subjects)
    known = {row.subject for row in rows}
    missing = sorted(set(read_subjects) - known)
    if missing:
        raise ExchangeError(
            f"subject {missing[0]!r} has reads but no row in the subjects table; DM needs one record per "
            "subject: add it (subject, randomisation_date, arm, ...) to the --subjects file"
        )
    codes: dict[str, str] = {}
    records = []
    for row in rows:
        if arms and row.arm not in arms:
            raise ExchangeError(
                f"subject {row.subject!r}: arm {row.arm!r} is not one of the charter's arms {list(arms)}"
            )
        code = arm_code(row.arm)
        if codes.setdefault(code, row.arm) != row.arm:
            raise ExchangeError(
                f"arms {codes[code]!r} and {row.arm!r} both give ARMCD {code!r}; rename one in the subjects file"
            )
        if not code:
            raise ExchangeError(f"subject {row.subject!r}: arm {row.arm!r} has no letter or digit for ARMCD")
        records.append(
            {
                "STUDYID": study_id, "DOMAIN": "DM", "USUBJID": usubjid(study_id, row.subject),
                "SUBJID": row.subject, "RFSTDTC": row.randomisation_date.isoformat(),
                "DTHDTC": row.death_date.isoformat() if row.death_date else "",
                "DTHFL": "Y" if row.death_date else "", "SITEID": site, "SEX": SEX_UNKNOWN,
                "ARMCD": code, "ARM": row.arm, "ACTARMCD": code, "ACTARM": row.arm, "COUNTRY": nation,
            }
        )  # fmt: skip
    records.sort(key=lambda r: r["USUBJID"])
    return [
        {v.name: record.get(v.name, None if v.numeric else "") for v in DM_VARIABLES} for record in records
    ]
