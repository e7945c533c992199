"""The review charter: criteria, protocol options, adjudication triggers and the people of a review.

A charter is a JSON file with ``"format": "recist.charter/1"``, validated by pydantic::

    {
      "format": "recist.charter/1",
      "trial": "NET-3",
      "criteria": "RECIST 1.1",
      "protocol": {"confirmation": true, "confirmation_min_days": 28, "sd_min_days": 42},
      "visit_schedule": {"interval_days": 56, "window_days": 7},
      "adjudication": {"triggers": ["progression", "progression_date", "best_overall_response"],
                       "progression_date_tolerance_days": 0},
      "readers": ["R1", "R2"],
      "adjudicators": ["ADJ1"],
      "administrators": ["PM1"],
      "data_cutoff": "2026-06-30",
      "plausibility": {"max_diameter_mm": 300},
      "timepoint_labels": {"baseline": "baseline", "week 12": "week 12"},
      "deidentification": {"keep_attributes": ["BodyPartExamined"], "checked_series": []}
    }

The last four keys are optional (the values shown are examples; the defaults are: no data cut-off,
300 mm, no label mapping, nothing kept or checked):

- ``data_cutoff``: results refuse a progression date after it;
- ``plausibility.max_diameter_mm``: a read with a target diameter above it is refused unless the
  reader confirms it (a decimal slip such as 3600 mm for 36.0 mm must not silently make PD);
- ``timepoint_labels``: the label reader packages show for a timepoint label of the subjects' records;
  a label the mapping leaves out is shown as ``timepoint N`` (N counted from 1 at baseline), so that a
  site's label ("week 8 arm B lutathera") cannot unblind a reader;
- ``deidentification.keep_attributes``: DICOM keywords of free-text attributes outside PS3.15 Table
  E.1-1 that packages keep (cleaned like descriptors); ``deidentification.checked_series``: Series
  Instance UIDs whose pixels the core lab has checked for burned-in text, so that a secondary capture
  or an image declaring recognisable visual features may go into a package
  (see :mod:`recist.review.deid`).

Optional: ``"organization": "NET-3 Imaging Core Lab"`` and ``"organizations": {"R1": "Hospital A"}``, the
organisation each person signs for (a person the second leaves out signs for the first). They are the
Verifying Organization of the SRs of final reads (``recist review export-sr``, :mod:`recist.export.review_sr`).

Optional: ``"modalities": ["CT", "MR", "PT"]`` (the default), the DICOM modalities a subject's
timepoint folders may hold; ``add-subject`` refuses a folder with a series of another modality.

Optional: ``"arms": ["placebo", "drug"]`` and ``"control_arm": "placebo"``, the randomised arms of the
trial with the control named (the trial report takes its arms from them, ``recist batch``). The readers
never see them: arms are not on the reads.

Protocol options of the charter override those of every case that is assessed in the review: each key
set in the charter's ``protocol`` replaces the same key of the case's ``protocol`` (keys the charter
leaves out keep the case's value, or the core default). The charter is the protocol of a review; a reader
cannot change confirmation rules by editing a case file. Its ``criteria`` (``"RECIST 1.1"`` or
``"iRECIST"``) replaces every case's too; with iRECIST the reads also carry the iRECIST reading, and the
triggers ``icpd``, ``icpd_date`` and ``ibor`` compare the two reads' iCPD and iBOR.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError, model_validator

from recist.errors import RecistValidationError, UnsupportedFormatError

__all__ = ["CHARTER_FORMAT", "IRECIST_TRIGGERS", "Trigger", "Charter", "load_charter", "parse_charter"]

CHARTER_FORMAT = "recist.charter/1"

_PERSON_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ORGANIZATION_PATTERN = r"^[^\\]*[^\\\s][^\\]*$"  # a DICOM LO: not blank, no backslash


class Trigger(str, Enum):
    """What two reads may disagree on that sends a subject to adjudication."""

    PROGRESSION = "progression"
    """One read has progression, the other has none."""
    PROGRESSION_DATE = "progression_date"
    """Both reads have progression, on dates further apart than the charter's tolerance."""
    BEST_OVERALL_RESPONSE = "best_overall_response"
    """The two best overall responses differ."""
    ICPD = "icpd"
    """iRECIST: one read has confirmed progression (iCPD), the other has none."""
    ICPD_DATE = "icpd_date"
    """iRECIST: both reads have iCPD, dated (to the confirmed iUPD) further apart than the tolerance."""
    IBOR = "ibor"
    """iRECIST: the two iBORs differ."""


IRECIST_TRIGGERS = frozenset({Trigger.ICPD, Trigger.ICPD_DATE, Trigger.IBOR})
"""The triggers that need a charter whose criteria are iRECIST."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProtocolOptions(_Strict):
    """Protocol options that override each case's ``protocol`` (only the keys given)."""

    confirmation: StrictBool | None = None
    confirmation_min_days: StrictInt | None = Field(default=None, ge=0, le=3650)
    sd_min_days: StrictInt | None = Field(default=None, ge=0, le=3650)

    def overrides(self) -> dict[str, Any]:
        """The keys the charter sets, as case-file ``protocol`` keys."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class VisitSchedule(_Strict):
    """The imaging schedule: one visit every ``interval_days``, each within ``window_days``."""

    interval_days: StrictInt = Field(default=56, ge=1, le=3650)
    window_days: StrictInt = Field(default=7, ge=0, le=365)


class Adjudication(_Strict):
    """Which disagreements send a subject to adjudication."""

    triggers: tuple[Trigger, ...] = (
        Trigger.PROGRESSION,
        Trigger.PROGRESSION_DATE,
        Trigger.BEST_OVERALL_RESPONSE,
    )
    progression_date_tolerance_days: StrictInt = Field(default=0, ge=0, le=3650)

    @model_validator(mode="after")
    def _unique(self) -> Adjudication:
        if len(set(self.triggers)) != len(self.triggers):
            raise ValueError("adjudication.triggers lists a trigger twice")
        return self


class Plausibility(_Strict):
    """Bounds a read must keep unless the reader confirms the value."""

    max_diameter_mm: float = Field(default=300.0, gt=0.0, le=10_000.0, allow_inf_nan=False)
    """The largest target diameter (long axis, short axis or split fragment) accepted without the
    reader's confirmation, millimetres."""


class Deidentification(_Strict):
    """What the charter allows reader packages to keep beyond PS3.15's profile (see :mod:`recist.review.deid`)."""

    keep_attributes: tuple[str, ...] = ()
    """DICOM keywords of free-text attributes not in PS3.15 Table E.1-1 that are kept (cleaned)."""
    checked_series: tuple[str, ...] = ()
    """Series Instance UIDs (of the source images) checked by the core lab to carry no burned-in text."""

    @model_validator(mode="after")
    def _keywords(self) -> Deidentification:
        for keyword in self.keep_attributes:
            if not isinstance(keyword, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,63}", keyword):
                raise ValueError(f"deidentification.keep_attributes: {keyword!r} is not a DICOM keyword")
        for uid in self.checked_series:
            if not isinstance(uid, str) or not re.fullmatch(r"[0-9]+(\.[0-9]+)*", uid) or len(uid) > 64:
                raise ValueError(f"deidentification.checked_series: {uid!r} is not a UID")
        return self


class Charter(_Strict):
    """A validated review charter (see the module docstring for the JSON form)."""

    format: Literal["recist.charter/1"] = CHARTER_FORMAT
    trial: str = Field(min_length=1, max_length=200)
    criteria: Literal["RECIST 1.1", "iRECIST"] = "RECIST 1.1"
    protocol: ProtocolOptions = ProtocolOptions()
    visit_schedule: VisitSchedule = VisitSchedule()
    adjudication: Adjudication = Adjudication()
    readers: tuple[str, ...]
    adjudicators: tuple[str, ...] = Field(min_length=1)
    administrators: tuple[str, ...] = Field(min_length=1)
    data_cutoff: _dt.date | None = None
    plausibility: Plausibility = Plausibility()
    timepoint_labels: dict[str, str] = Field(default_factory=dict)
    deidentification: Deidentification = Deidentification()
    arms: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = ()
    control_arm: str | None = None
    organization: Annotated[str, Field(min_length=1, max_length=64, pattern=_ORGANIZATION_PATTERN)] | None = None
    organizations: dict[str, Annotated[str, Field(min_length=1, max_length=64, pattern=_ORGANIZATION_PATTERN)]] = (
        Field(default_factory=dict))

    def organization_of(self, person: str) -> str | None:
        """The organisation ``person`` signs for (``organizations``, else ``organization``; None: not named)."""
        return self.organizations.get(person, self.organization)

    @model_validator(mode="after")
    def _organizations(self) -> Charter:
        unknown = [p for p in self.organizations if self.role_of(p) is None]
        if unknown:
            raise ValueError(f"organizations names {unknown[0]!r}, who is not a person of the charter")
        return self
    modalities: tuple[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,15}$")], ...] = Field(
        default=("CT", "MR", "PT"), min_length=1)
    """DICOM Modality values a timepoint's series may have (checked when subjects are added,
    :mod:`recist.review.image_checks`): CT and MR, the measurement modalities of RECIST 1.1 ([E09] §3.2,
    Appendix II), and PT (PET: new lesions, R25; somatostatin-receptor PET in NET trials)."""

    @model_validator(mode="after")
    def _labels(self) -> Charter:
        shown = list(self.timepoint_labels.values())
        for label in (*self.timepoint_labels, *shown):
            if not label.strip() or len(label) > 200:
                raise ValueError(f"timepoint_labels: {label!r} must be 1-200 characters")
        if len(set(shown)) != len(shown):
            raise ValueError("timepoint_labels maps two labels to the same package label")
        return self

    def package_label(self, number: int, label: str) -> str:
        """The label reader packages show for the subject's timepoint ``label`` at 0-based position ``number``.

        ``timepoint_labels`` maps it when it names it; otherwise the neutral ``timepoint N`` (N = number + 1).
        """
        mapped = self.timepoint_labels.get(label)
        return mapped if mapped is not None else f"timepoint {number + 1}"

    @model_validator(mode="after")
    def _arms(self) -> Charter:
        if len(set(self.arms)) != len(self.arms):
            raise ValueError("arms lists an arm twice")
        if (self.control_arm is None) != (not self.arms):
            raise ValueError("give both 'arms' and 'control_arm' (the control must be one of the arms), or neither")
        if self.control_arm is not None and self.control_arm not in self.arms:
            raise ValueError(f"control_arm {self.control_arm!r} is not one of the arms {list(self.arms)}")
        return self

    @model_validator(mode="after")
    def _irecist_triggers(self) -> Charter:
        wrong = [t.value for t in self.adjudication.triggers if t in IRECIST_TRIGGERS]
        if wrong and self.criteria != "iRECIST":
            raise ValueError(
                f"adjudication trigger(s) {', '.join(wrong)} need \"criteria\": \"iRECIST\"; set it or remove them"
            )
        return self

    def protocol_overrides(self) -> dict[str, Any]:
        """The case ``protocol`` keys the charter imposes: its protocol options and its criteria."""
        return {**self.protocol.overrides(), "criteria": self.criteria}

    @model_validator(mode="after")
    def _people(self) -> Charter:
        if len(self.readers) != 2:
            raise ValueError(f"readers must name exactly two readers (the 2 + 1 paradigm), not {len(self.readers)}")
        everyone = [*self.readers, *self.adjudicators, *self.administrators]
        for person in everyone:
            if not isinstance(person, str) or not re.match(_PERSON_PATTERN, person):
                raise ValueError(
                    f"person id {person!r} must be 1-64 letters, digits, '_', '.' or '-' (it names files)"
                )
        if len(set(everyone)) != len(everyone):
            raise ValueError(
                "a person may hold only one role (readers, adjudicators and administrators must differ): "
                "an adjudicator who read the subject is not independent"
            )
        return self

    def role_of(self, person: str) -> str | None:
        """``"reader"``, ``"adjudicator"``, ``"administrator"`` or None for someone the charter does not name."""
        if person in self.readers:
            return "reader"
        if person in self.adjudicators:
            return "adjudicator"
        if person in self.administrators:
            return "administrator"
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (round-trips through :func:`parse_charter`).

        Optional keys left at their default are left out, so that a charter written by an earlier
        release reads and writes back the same.
        """
        data = self.model_dump(mode="json")
        defaults: Mapping[str, Any] = {
            "data_cutoff": None, "plausibility": Plausibility().model_dump(mode="json"), "timepoint_labels": {},
            "deidentification": Deidentification().model_dump(mode="json"), "arms": [], "control_arm": None,
            "organization": None, "organizations": {},
            "modalities": ["CT", "MR", "PT"],
        }
        for key, default in defaults.items():
            if data.get(key) == default:
                data.pop(key, None)
        return data


def parse_charter(data: Any, source: str | None = None) -> Charter:
    """Validate a charter given as a dict.

    Raises
    ------
    RecistValidationError
        Naming the field and the file; :class:`UnsupportedFormatError` for an unknown ``format``.
    """
    if not isinstance(data, dict):
        raise RecistValidationError("a charter must be a JSON object", source=source)
    fmt = data.get("format")
    if fmt != CHARTER_FORMAT:
        raise UnsupportedFormatError(
            f"format is {fmt!r}; this release reads {CHARTER_FORMAT!r} (add \"format\": \"{CHARTER_FORMAT}\")",
            source=source,
            field="format",
        )
    try:
        return Charter.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or None
        raise RecistValidationError(first["msg"], source=source, field=loc) from None


def load_charter(path: str | Path) -> Charter:
    """Read and validate a charter file."""
    from recist.io.case_json import load_json  # noqa: PLC0415 - the shared JSON reader (one line per failure)

    return parse_charter(load_json(path), source=str(path))
