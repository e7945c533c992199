"""recist.review: blinded independent central review (two readers + adjudicator), see docs/review.md.

The entry point is :class:`ReviewProject`; the CLI (``recist review``) and the napari plugin call it.
"""

from recist.review.charter import CHARTER_FORMAT, Charter, Trigger, load_charter, parse_charter
from recist.review.workflow import SIGNATURE_MEANING, ReviewProject, SubjectTimepoint, load_manifest

__all__ = [
    "CHARTER_FORMAT",
    "Charter",
    "Trigger",
    "load_charter",
    "parse_charter",
    "ReviewProject",
    "SubjectTimepoint",
    "load_manifest",
    "SIGNATURE_MEANING",
]
