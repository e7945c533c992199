"""recist: RECIST 1.1 tumour-response assessment for cancer clinical trials.

The public API:

- :func:`read_case`, :func:`write_case`, :func:`parse_case`: case files (``recist.case/1``);
- :func:`assess`: a case (object, dict or path) to an :class:`Assessment`;
- the model classes (:class:`Case`, :class:`Lesion`, :class:`Timepoint`, ...) and enums (:class:`Response` ...);
- the exceptions of :mod:`recist.errors`.

Imaging (:mod:`recist.io.dicom`, :mod:`recist.measure`), central review (:mod:`recist.review`),
endpoints (:mod:`recist.endpoints`) and exports (:mod:`recist.export`) are imported from their modules.

Names are loaded on first use (PEP 562), so importing a submodule such as :mod:`recist.io.dicom` does not
pay for pydantic and the case model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from recist.errors import (
    BlindingError,
    DicomLoadError,
    MeasurementError,
    RecistError,
    RecistValidationError,
    ReviewStateError,
    SuvError,
    UnsupportedFormatError,
)

__version__ = "0.1.0"

_LAZY = {
    "assess": "recist.api",
    "read_case": "recist.io.case_json",
    "write_case": "recist.io.case_json",
    "parse_case": "recist.model.validate",
    **{
        name: "recist.model"
        for name in (
            "Assessment", "Case", "ImageRef", "Lesion", "LesionRole", "Line", "Measurability", "Method",
            "NewLesion", "NewLesionStatus", "NonTargetEntry", "NonTargetState", "Protocol", "Recorded",
            "Response", "TargetEntry", "TargetState", "Timepoint", "IResponse", "IRecistAssessment",
        )
    },
}

__all__ = [
    "__version__",
    "assess", "read_case", "write_case", "parse_case",
    "Assessment", "Case", "ImageRef", "Lesion", "LesionRole", "Line", "Measurability", "Method", "NewLesion",
    "NewLesionStatus", "NonTargetEntry", "NonTargetState", "Protocol", "Recorded", "Response", "TargetEntry",
    "TargetState", "Timepoint", "IResponse", "IRecistAssessment",
    "RecistError", "RecistValidationError", "UnsupportedFormatError", "DicomLoadError", "SuvError",
    "MeasurementError", "ReviewStateError", "BlindingError",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from recist.api import assess
    from recist.io.case_json import read_case, write_case
    from recist.model import (
        Assessment,
        Case,
        ImageRef,
        IRecistAssessment,
        IResponse,
        Lesion,
        LesionRole,
        Line,
        Measurability,
        Method,
        NewLesion,
        NewLesionStatus,
        NonTargetEntry,
        NonTargetState,
        Protocol,
        Recorded,
        Response,
        TargetEntry,
        TargetState,
        Timepoint,
    )
    from recist.model.validate import parse_case


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'recist' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
