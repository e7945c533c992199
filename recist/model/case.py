"""The case: one subject as read by one reader (the case-file contract of ARCHITECTURE.md).

The classes are pydantic v2 models, frozen once built, whose field names are the case file's keys.
Unknown keys are rejected: a misspelt ``long_axis_mm`` must not silently drop a measurement.

Lengths are millimetres, days count from the baseline scan. Construction checks each object on its own
(types, ranges, a state and a measurement never both). :func:`recist.model.validate.check_case` checks
what needs the whole case (lesion ids, roles, dates in order, nodes measured by their short axis ...).
Use :func:`recist.parse_case` to do both and get errors that name the file, lesion and timepoint.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from recist.model.enums import (
    LesionRole,
    Method,
    NewLesionStatus,
    NonTargetState,
    Response,
    TargetState,
    TumourMarkers,
)

__all__ = [
    "CASE_FORMAT",
    "Protocol",
    "Lesion",
    "ImageRef",
    "Line",
    "TargetEntry",
    "NonTargetEntry",
    "NewLesion",
    "Recorded",
    "Timepoint",
    "Case",
]

CASE_FORMAT = "recist.case/1"


def _iso_date(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        raise ValueError("expected an ISO date (YYYY-MM-DD), got a date-time")
    if isinstance(value, _dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError("expected an ISO date string such as '2024-01-10'")
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


#: Largest diameter accepted (mm): longer than any human body, so a larger value is a typo or a unit error
#: (micrometres, or a value that overflows the exact arithmetic of the rules).
MAX_LENGTH_MM = 3000.0
#: Largest slice thickness accepted (mm): no CT, MR or PET reconstruction is thicker.
MAX_SLICE_THICKNESS_MM = 100.0
#: Largest absolute patient coordinate accepted (mm).
MAX_COORDINATE_MM = 1.0e6
#: Most items a list or mapping of a case file may hold (lesions, timepoints, targets ...); a larger one is
#: refused before its items are validated (a real case has tens).
MAX_ITEMS = 1000
#: Most fragments of one split lesion.
MAX_FRAGMENTS = 100

Millimetres = Annotated[float, Field(ge=0.0, le=MAX_LENGTH_MM, strict=True, allow_inf_nan=False)]
"""A non-negative, finite length in millimetres, at most :data:`MAX_LENGTH_MM`."""

IsoDate = Annotated[_dt.date, BeforeValidator(_iso_date)]
Identifier = Annotated[StrictStr, Field(min_length=1, max_length=200)]
_Coordinate = Annotated[float, Field(ge=-MAX_COORDINATE_MM, le=MAX_COORDINATE_MM, strict=True, allow_inf_nan=False)]
Point3 = tuple[_Coordinate, _Coordinate, _Coordinate]


def _axes_in_order(long_axis_mm: float | None, short_axis_mm: float | None) -> None:
    """The short axis is the longest diameter perpendicular to the long axis: it cannot be longer."""
    if long_axis_mm is not None and short_axis_mm is not None and short_axis_mm > long_axis_mm:
        raise ValueError(
            f"short_axis_mm {short_axis_mm:g} is longer than long_axis_mm {long_axis_mm:g}; "
            "the short axis cannot exceed the long axis: were they swapped?"
        )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, validate_default=False)


class Protocol(_Model):
    """Protocol options of the rules engine (see docs/rules.md for each reading).

    Attributes
    ----------
    confirmation
        Whether CR and PR need confirmation ([E09] §4.6.1; not required in randomised trials).
    confirmation_min_days
        Minimum interval, days, between a response and the scan that confirms it ([E09] §4.6.1: 4 weeks).
    sd_min_days
        Minimum time, days from baseline, at which SD (or better) counts for best response ([E09] §4.6.1).
    confirmation_max_ne_between
        How many NE timepoints may separate a response from its confirmation (None: any number;
        RECIST_RULES H4 reading A is 1).
    continuing_pr
        After a PR, judge later timepoints that are not PD against the nadir ("continuing PR", [EORTC-FAQ]
        R36, RECIST_RULES H1 reading B) instead of the literal baseline comparison (reading A, default).
    reappearance_after_cr_is_pd
        After an overall CR, any reappearing lesion is PD ([E09] T3 footnote a, RECIST_RULES H6 reading B,
        default) instead of the literal 20 % / 5 mm test (reading A).
    nodes_double_slice_thickness
        With slices > 5 mm, a node needs a short axis >= 2x the slice thickness as well as >= 15 mm
        (RECIST_RULES H2 reading A); default: the 15 mm rule stands on its own (reading B).
    non_target_ne_with_present
        Non-target category when a lesion is not evaluated and another is present: "NON-CR/NON-PD"
        (RECIST_RULES H3 reading A, default) or "NE" (reading B).
    sd_min_applies_to_non_cr_non_pd
        Whether the SD minimum duration also applies to NON-CR/NON-PD for non-target-only subjects
        (RECIST_RULES H8; default True: it plays the part of SD).
    normal_nodes_override_sum_pd
        When every target meets CR (non-nodal targets gone, every node under 10 mm short axis) while the
        sum rises >= 20 % and >= 5 mm over the nadir (node 20 -> 3 -> 9 mm): CR ([EORTC-FAQ] "Abnormal
        lymph node", reading B) instead of PD by the literal sum rule (R11, reading A, default). See
        docs/rules.md.
    criteria
        The response criteria: ``"RECIST 1.1"`` (default) or ``"iRECIST"`` ([iR17]). Under iRECIST the
        assessment carries the iRECIST responses beside the RECIST 1.1 ones, which stay primary.
    irecist_confirmation_min_days, irecist_confirmation_max_days
        The window, days after an iUPD assessment, in which the next assessment confirms it as iCPD
        ([iR17]: 4-8 weeks, 28 and 56 days).
    irecist_window_variance_days
        The protocol's variance, days, on both ends of that window ([iR-FAQ] "Can imaging be used to
        confirm progression ... less than four weeks": a recommended +/- 2 days).
    irecist_late_scan_confirms
        Whether an assessment later than the window still confirms iCPD. Default False, the literal
        "4-8 weeks": a later assessment stays iUPD and the window restarts from it (docs/rules.md, I2).
    irecist_further_increase_from
        What the "further increase >= 5 mm" of the target sum is measured from (RECIST_RULES H7):
        ``"first_iupd"`` (default; increases add up, [iR-FAQ] "How do new lesions define progression?")
        or ``"previous"`` (the assessment immediately before, [iR17] Table 2 footnote).
    """

    confirmation: StrictBool = False
    confirmation_min_days: Annotated[StrictInt, Field(ge=0, le=3650)] = 28
    sd_min_days: Annotated[StrictInt, Field(ge=0, le=3650)] = 42
    confirmation_max_ne_between: Annotated[StrictInt, Field(ge=0, le=1000)] | None = None
    continuing_pr: StrictBool = False
    reappearance_after_cr_is_pd: StrictBool = True
    nodes_double_slice_thickness: StrictBool = False
    non_target_ne_with_present: Literal["NON-CR/NON-PD", "NE"] = "NON-CR/NON-PD"
    sd_min_applies_to_non_cr_non_pd: StrictBool = True
    normal_nodes_override_sum_pd: StrictBool = False
    criteria: Literal["RECIST 1.1", "iRECIST"] = "RECIST 1.1"
    irecist_confirmation_min_days: Annotated[StrictInt, Field(ge=0, le=3650)] = 28
    irecist_confirmation_max_days: Annotated[StrictInt, Field(ge=0, le=3650)] = 56
    irecist_window_variance_days: Annotated[StrictInt, Field(ge=0, le=60)] = 2
    irecist_late_scan_confirms: StrictBool = False
    irecist_further_increase_from: Literal["first_iupd", "previous"] = "first_iupd"

    @model_validator(mode="after")
    def _irecist_window(self) -> Protocol:
        if self.irecist_confirmation_max_days < self.irecist_confirmation_min_days:
            raise ValueError(
                f"irecist_confirmation_max_days {self.irecist_confirmation_max_days} is before "
                f"irecist_confirmation_min_days {self.irecist_confirmation_min_days}; the window is min..max days"
            )
        return self


class Lesion(_Model):
    """A lesion chosen at baseline, target or non-target ([E09] §4.2)."""

    id: Identifier
    role: LesionRole
    site: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    nodal: StrictBool = False
    method: Method = Method.CT


class ImageRef(_Model):
    """A reference to the DICOM image (or series, without ``sop_uid``) a measurement was made on."""

    study_uid: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    series_uid: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    sop_uid: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None
    modality: Annotated[StrictStr, Field(min_length=1, max_length=16)] | None = None


class Line(_Model):
    """A measured line: its two endpoints in DICOM patient coordinates (LPS, millimetres)."""

    start_mm: Point3
    end_mm: Point3

    @property
    def length_mm(self) -> float:
        """The Euclidean length of the line, millimetres."""
        return math.dist(self.start_mm, self.end_mm)


class TargetEntry(_Model):
    """A target lesion at one timepoint: a measurement or a state ([E09] §4.3.2).

    ``long_axis_mm`` is what counts for a non-nodal lesion, ``short_axis_mm`` for a node; both may be
    given. Instead of a measurement, ``state`` may say the lesion is too small to measure (counts 5 mm),
    has disappeared (0 mm), was not evaluated, has split (``fragments_mm`` are summed) or has merged into
    another target (``merged_into``; counts 0 mm, the other lesion carries the size).
    """

    long_axis_mm: Millimetres | None = None
    short_axis_mm: Millimetres | None = None
    state: TargetState | None = None
    fragments_mm: Annotated[list[Millimetres], Field(min_length=1, max_length=MAX_FRAGMENTS)] | None = None
    merged_into: Identifier | None = None
    long_axis_line: Line | None = None
    short_axis_line: Line | None = None
    image: ImageRef | None = None

    @model_validator(mode="after")
    def _measurement_or_state(self) -> TargetEntry:
        long_mm, short_mm = self.long_axis_mm, self.short_axis_mm
        if long_mm is not None and short_mm is not None:
            _axes_in_order(long_mm, short_mm)
        measured = long_mm is not None or short_mm is not None
        if measured and self.state is None and self.fragments_mm is None and self.merged_into is None:
            return self  # the usual entry: a plain measurement
        if self.state is None and not measured:
            raise ValueError("give long_axis_mm / short_axis_mm, or a state (too_small, disappeared, ...)")
        if self.state is not None and measured:
            raise ValueError(f"state {self.state.value!r} and a measurement are exclusive: give one")
        if (self.state == TargetState.SPLIT) != (self.fragments_mm is not None):
            raise ValueError("fragments_mm goes with state 'split', and a split lesion needs fragments_mm")
        if (self.state == TargetState.MERGED) != (self.merged_into is not None):
            raise ValueError("merged_into goes with state 'merged', and a merged lesion needs merged_into")
        return self


class NonTargetEntry(_Model):
    """A non-target lesion at one timepoint ([E09] §4.3.3).

    In a case file a bare string (``"present"``) stands for ``{"state": "present"}``. ``short_axis_mm``
    (nodes) lets a node under 10 mm count as normal for a complete response; at baseline a size
    (``long_axis_mm`` for other lesions) lets the engine report the lesion's measurability.
    ``increased_since_previous`` says the lesion grew, by any amount, since the previous assessment
    (iRECIST "further increase from last assessment", [iR-FAQ] "If iUPD is driven by non-target
    disease ..."); RECIST 1.1 ignores it.
    """

    state: NonTargetState
    long_axis_mm: Millimetres | None = None
    short_axis_mm: Millimetres | None = None
    increased_since_previous: StrictBool = False
    point_mm: Point3 | None = None
    image: ImageRef | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_state(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"state": data}
        return data


class NewLesion(_Model):
    """A new lesion seen at a follow-up ([E09] §4.3.5); ``equivocal`` while it may not be tumour.

    ``equivocal`` defaults to False: in RECIST a "new lesion" is unequivocal new disease (PD) unless the
    reader says it is equivocal.

    Under iRECIST ([iR17]) a new lesion is re-recorded, by the same ``id``, at every later assessment;
    ``role`` makes it a new-lesion target (NLT, ``"target"``: measured, at most 5 in all and 2 per organ)
    or a new-lesion non-target (NLNT, ``"non_target"``, the default). ``state`` says whether it is still
    present, has gone (``"absent"``), progressed unequivocally or was not evaluated;
    ``increased_since_previous`` that an NLNT grew, by any amount, since the previous assessment.
    RECIST 1.1 ignores these keys, except that a lesion recorded ``"absent"`` is no finding.
    """

    id: Identifier
    site: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    equivocal: StrictBool = False
    nodal: StrictBool = False
    role: LesionRole | None = None
    state: NonTargetState | None = None
    increased_since_previous: StrictBool = False
    long_axis_mm: Millimetres | None = None
    short_axis_mm: Millimetres | None = None
    long_axis_line: Line | None = None
    short_axis_line: Line | None = None
    point_mm: Point3 | None = None
    image: ImageRef | None = None

    @model_validator(mode="after")
    def _axes(self) -> NewLesion:
        _axes_in_order(self.long_axis_mm, self.short_axis_mm)
        return self


class Recorded(_Model):
    """Responses recorded elsewhere for a timepoint (any subset)."""

    target: Response | None = None
    non_target: Response | None = None
    new_lesions: NewLesionStatus | None = None
    overall: Response | None = None


class Timepoint(_Model):
    """One imaging timepoint; the first of a case is the baseline."""

    label: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    date: IsoDate | None = None
    day: Annotated[StrictInt, Field(ge=-36500, le=36500)] | None = None
    slice_thickness_mm: Annotated[float, Field(gt=0.0, le=MAX_SLICE_THICKNESS_MM, strict=True,
                                               allow_inf_nan=False)] | None = None
    targets: dict[Identifier, TargetEntry] = Field(default_factory=dict, max_length=MAX_ITEMS)
    non_targets: dict[Identifier, NonTargetEntry] = Field(default_factory=dict, max_length=MAX_ITEMS)
    new_lesions: list[NewLesion] = Field(default_factory=list, max_length=MAX_ITEMS)
    tumour_markers: TumourMarkers | None = None
    recorded: Recorded | None = None
    images: list[ImageRef] = Field(default_factory=list, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _dated(self) -> Timepoint:
        if self.date is None and self.day is None:
            raise ValueError("give the scan's 'date' (YYYY-MM-DD) or its 'day' since baseline")
        return self


class Case(_Model):
    """One subject as read by one reader: lesions chosen at baseline and every timepoint's findings."""

    format: Literal["recist.case/1"] = CASE_FORMAT
    subject: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    protocol: Protocol = Field(default_factory=Protocol)
    lesions: Annotated[list[Lesion], Field(max_length=MAX_ITEMS)]
    timepoints: Annotated[list[Timepoint], Field(min_length=1, max_length=MAX_ITEMS)]

    @property
    def baseline(self) -> Timepoint:
        """The first timepoint."""
        return self.timepoints[0]

    @property
    def follow_ups(self) -> list[Timepoint]:
        """Every timepoint after the baseline, in order."""
        return self.timepoints[1:]

    def lesion(self, lesion_id: str) -> Lesion:
        """The lesion with id ``lesion_id`` (KeyError if none)."""
        for lesion in self.lesions:
            if lesion.id == lesion_id:
                return lesion
        raise KeyError(lesion_id)

    def to_dict(self) -> dict[str, Any]:
        """The case as a JSON-ready dict (the case-file form; None values left out)."""
        data = self.model_dump(mode="json", exclude_none=True)
        protocol = data.get("protocol", {})
        for key, default in _IRECIST_PROTOCOL_DEFAULTS.items():  # files stay as they were written before
            if protocol.get(key) == default:
                del protocol[key]
        for timepoint in data["timepoints"]:
            for key, entry in timepoint.get("non_targets", {}).items():
                if entry.get("increased_since_previous") is False:
                    del entry["increased_since_previous"]
                if set(entry) == {"state"}:
                    timepoint["non_targets"][key] = entry["state"]
            for new in timepoint.get("new_lesions", []):
                if new.get("increased_since_previous") is False:
                    del new["increased_since_previous"]
        return data


_IRECIST_PROTOCOL_DEFAULTS = {
    name: Protocol.model_fields[name].default
    for name in Protocol.model_fields
    if name == "criteria" or name.startswith("irecist_")
}
"""The iRECIST protocol keys and their defaults, left out of a written case when at their default."""
