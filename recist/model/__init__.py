"""Plain data of recist: the case (input of the rules engine) and the assessment (its output)."""

from recist.model.assessment import (
    Assessment,
    BaselineAssessment,
    BaselineLesionAssessment,
    Discrepancy,
    IRecistAssessment,
    IRecistEvent,
    IRecistProgression,
    IRecistTimepoint,
    Progression,
    TimepointAssessment,
)
from recist.model.case import (
    CASE_FORMAT,
    Case,
    ImageRef,
    Lesion,
    Line,
    NewLesion,
    NonTargetEntry,
    Protocol,
    Recorded,
    TargetEntry,
    Timepoint,
)
from recist.model.enums import (
    IResponse,
    LesionRole,
    Measurability,
    Method,
    NewLesionStatus,
    NonTargetState,
    ProgressionTrigger,
    Response,
    TargetState,
    TumourMarkers,
)

__all__ = [
    "CASE_FORMAT", "Case", "ImageRef", "Lesion", "Line", "NewLesion", "NonTargetEntry", "Protocol",
    "Recorded", "TargetEntry", "Timepoint",
    "Assessment", "BaselineAssessment", "BaselineLesionAssessment", "Discrepancy", "Progression",
    "TimepointAssessment", "IRecistAssessment", "IRecistEvent", "IRecistProgression", "IRecistTimepoint",
    "IResponse", "LesionRole", "Measurability", "Method", "NewLesionStatus", "NonTargetState", "ProgressionTrigger",
    "Response", "TargetState", "TumourMarkers",
]
