"""Enumerations of the RECIST vocabulary.

Every enum is a ``str`` enum whose values are the standard's own words (the CDISC controlled terms for
responses), so they serialise to JSON as themselves: ``json.dumps(Response.CR) == '"CR"'``.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "Response",
    "NewLesionStatus",
    "LesionRole",
    "TargetState",
    "NonTargetState",
    "Method",
    "Measurability",
    "TumourMarkers",
    "ProgressionTrigger",
    "IResponse",
]


class _StrEnum(str, Enum):
    def __str__(self) -> str:  # "CR", not "Response.CR"
        return self.value


class Response(_StrEnum):
    """A response category ([E09] §4.3-4.4; CDISC CT codelist ONCRSR)."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"
    NON_CR_NON_PD = "NON-CR/NON-PD"


class NewLesionStatus(_StrEnum):
    """Whether new lesions were seen at a timepoint ([E09] §4.3.5)."""

    NO = "NO"
    EQUIVOCAL = "EQUIVOCAL"
    YES = "YES"


class LesionRole(_StrEnum):
    """The role a baseline lesion was given ([E09] §4.2)."""

    TARGET = "target"
    NON_TARGET = "non_target"


class TargetState(_StrEnum):
    """A target lesion recorded by state instead of a measurement ([E09] §4.3.2)."""

    TOO_SMALL = "too_small"
    DISAPPEARED = "disappeared"
    NOT_EVALUATED = "not_evaluated"
    SPLIT = "split"
    MERGED = "merged"


class NonTargetState(_StrEnum):
    """The qualitative state of a non-target lesion ([E09] §4.3.3)."""

    PRESENT = "present"
    ABSENT = "absent"
    UNEQUIVOCAL_PROGRESSION = "unequivocal_progression"
    NOT_EVALUATED = "not_evaluated"


class Method(_StrEnum):
    """How a lesion is measured ([E09] §3.2)."""

    CT = "CT"
    MRI = "MRI"
    CALIPER = "caliper"
    CHEST_XRAY = "chest_xray"


class Measurability(_StrEnum):
    """A lesion's measurability at baseline ([E09] §3.1)."""

    MEASURABLE = "measurable"
    NON_MEASURABLE = "non_measurable"
    NON_PATHOLOGICAL = "non_pathological"


class TumourMarkers(_StrEnum):
    """Tumour-marker status at a timepoint ([E09] §3.2.2, §4.3.3)."""

    NORMAL = "normal"
    ABOVE_ULN = "above_uln"


class ProgressionTrigger(_StrEnum):
    """What made a timepoint PD."""

    TARGET = "target"
    NON_TARGET = "non_target"
    NEW_LESION = "new_lesion"
    RECORDED = "recorded"


class IResponse(_StrEnum):
    """An iRECIST time-point or best overall response ([iR17] Tables 2 and 3).

    The values are the CDISC controlled terms of the oncology response codelist for iRECIST.
    """

    ICR = "iCR"
    IPR = "iPR"
    ISD = "iSD"
    NON_ICR_NON_IUPD = "NON-iCR/NON-iUPD"
    IUPD = "iUPD"
    ICPD = "iCPD"
    NE = "NE"
