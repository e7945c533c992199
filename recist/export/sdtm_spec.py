"""The SDTM datasets recist writes: their variables (SDTMIG v3.4 order, labels, types) and value conventions.

:data:`DOMAINS` lists the TU, TR and RS variables recist fills, :func:`dataset_spec` those of any dataset it
writes (DM from :mod:`recist.export.sdtm_dm`); :func:`format_mm`, :func:`usubjid` and :func:`visit_group`
are the conventions of the values (docs/exchange.md). Re-exported by :mod:`recist.export.sdtm`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Variable", "DOMAINS", "DOMAIN_LABELS", "dataset_spec", "format_mm", "usubjid", "visit_group"]


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


def dataset_spec(domain: str) -> tuple[tuple[Variable, ...], str]:
    """The variables (in SDTMIG order) and the label of a dataset recist writes: TU, TR, RS or DM."""
    if domain == "DM":
        from recist.export.sdtm_dm import DM_LABEL, DM_VARIABLES

        return DM_VARIABLES, DM_LABEL
    return DOMAINS[domain], DOMAIN_LABELS[domain]
