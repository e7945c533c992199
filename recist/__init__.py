"""recist: RECIST 1.1 tumour-response assessment for cancer clinical trials.

The public API:

- :func:`read_case`, :func:`write_case`, :func:`parse_case`: case files (``recist.case/1``);
- :func:`assess`: a case (object, dict or path) to an :class:`Assessment`;
- the model classes (:class:`Case`, :class:`Lesion`, :class:`Timepoint`, ...) and enums (:class:`Response` ...);
- the exceptions of :mod:`recist.errors`.

Imaging (:mod:`recist.io.dicom`, :mod:`recist.measure`), central review (:mod:`recist.review`),
endpoints (:mod:`recist.endpoints`) and exports (:mod:`recist.export`) are imported from their modules.
"""

from recist.api import assess
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
from recist.io.case_json import read_case, write_case
from recist.model import (
    Assessment,
    Case,
    ImageRef,
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

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "assess", "read_case", "write_case", "parse_case",
    "Assessment", "Case", "ImageRef", "Lesion", "LesionRole", "Line", "Measurability", "Method", "NewLesion",
    "NewLesionStatus", "NonTargetEntry", "NonTargetState", "Protocol", "Recorded", "Response", "TargetEntry",
    "TargetState", "Timepoint",
    "RecistError", "RecistValidationError", "UnsupportedFormatError", "DicomLoadError", "SuvError",
    "MeasurementError", "ReviewStateError", "BlindingError",
]
