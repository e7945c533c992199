"""The coded concepts of recist's DICOM SR (TID 1500) encoding, shared by the writer and the reader.

Standard codes (DCM, SCT, UCUM) wherever DICOM PS3.16 has one; the few RECIST notions it has no code for
(a lesion's role in RECIST terms beyond the baseline categories, its state, "merged into") use the local
coding scheme ``99RECIST`` (a private scheme as PS3.16 section 8.2 allows: designators beginning with
"99"). docs/exchange.md lists them.

This module holds plain data (code value, scheme, meaning) only; :mod:`recist.export.dicom_sr` (the writer) turns
them into highdicom ``CodedConcept`` objects and :mod:`recist.io.sr_import` matches on (value, scheme).
"""

from __future__ import annotations

import hashlib
import uuid

__all__ = [
    "LOCAL_SCHEME",
    "LONG_AXIS",
    "SHORT_AXIS",
    "LENGTH",
    "DIAMETER",
    "MM",
    "LEGACY_AXES",
    "RECIST_1_1",
    "LESION",
    "ROLE",
    "NODAL",
    "STATE",
    "EQUIVOCAL",
    "MERGED_INTO",
    "METHOD",
    "NEW_LESION_ROLE",
    "NEW_LESION_ROLE_VALUES",
    "INCREASED",
    "METHOD_VALUES",
    "CENTRE",
    "YES",
    "NO",
    "ROLE_VALUES",
    "TARGET_STATE_VALUES",
    "NON_TARGET_STATE_VALUES",
    "SITE_CODES",
    "TRACKING_NAMESPACE",
    "tracking_uid",
    "site_code",
]

Code = tuple[str, str, str]  # (code value, coding scheme designator, code meaning)

LOCAL_SCHEME = "99RECIST"

LONG_AXIS: Code = ("103339001", "SCT", "Long Axis")
SHORT_AXIS: Code = ("103340004", "SCT", "Short Axis")
LENGTH: Code = ("410668003", "SCT", "Length")
DIAMETER: Code = ("81827009", "SCT", "Diameter")
MM: Code = ("mm", "UCUM", "millimeter")
LEGACY_AXES: dict[str, Code] = {
    "long_axis_mm": ("G-A185", "SRT", "Long Axis"),
    "short_axis_mm": ("G-A186", "SRT", "Short Axis"),
    "length_mm": ("G-D7FE", "SRT", "Length"),
    "diameter_mm": ("G-D785", "SRT", "Diameter"),
}
"""The SNOMED-RT codes DICOM used for these concepts before SNOMED CT (PS3.16 CID 7470, retired
designator SRT), still written by OHIF/Cornerstone through dcmjs up to 0.47: read, never written. Length
and diameter count as the long axis."""
RECIST_1_1: Code = ("126081", "DCM", "RECIST 1.1")
LESION: Code = ("52988006", "SCT", "Lesion")
CENTRE: Code = ("111010", "DCM", "Center")
YES: Code = ("373066001", "SCT", "Yes")
NO: Code = ("373067005", "SCT", "No")

ROLE: Code = ("ROLE", LOCAL_SCHEME, "RECIST lesion role")
NODAL: Code = ("NODAL", LOCAL_SCHEME, "Lymph node lesion")
STATE: Code = ("STATE", LOCAL_SCHEME, "RECIST lesion state")
EQUIVOCAL: Code = ("EQUIVOCAL", LOCAL_SCHEME, "Equivocal new lesion")
MERGED_INTO: Code = ("MERGEDINTO", LOCAL_SCHEME, "Merged into lesion")
METHOD: Code = ("METHOD", LOCAL_SCHEME, "RECIST lesion measurement method")
NEW_LESION_ROLE: Code = ("NLROLE", LOCAL_SCHEME, "iRECIST new-lesion role")
"""iRECIST ([iR17]): a new lesion followed as a new-lesion target (NLT) or non-target (NLNT)."""
INCREASED: Code = ("INCREASED", LOCAL_SCHEME, "Increased since the previous assessment")
"""iRECIST: a non-target (baseline or new) grew since the previous assessment (SCT Yes)."""

_ABSENT: Code = ("272519000", "SCT", "Absent")
_NOT_EVALUATED: Code = ("NOTEVAL", LOCAL_SCHEME, "Not evaluated")

ROLE_VALUES: dict[str, Code] = {
    "target": ("112074", "DCM", "Target Lesion at Baseline"),
    "non_target": ("112075", "DCM", "Non-Target Lesion at Baseline"),
    "new": ("NEW", LOCAL_SCHEME, "New lesion"),
}
NEW_LESION_ROLE_VALUES: dict[str, Code] = {
    "target": ("NLT", LOCAL_SCHEME, "New lesion target (iRECIST)"),
    "non_target": ("NLNT", LOCAL_SCHEME, "New lesion non-target (iRECIST)"),
}
TARGET_STATE_VALUES: dict[str, Code] = {
    "too_small": ("112133", "DCM", "Too small"),
    "disappeared": _ABSENT,
    "not_evaluated": _NOT_EVALUATED,
    "split": ("SPLIT", LOCAL_SCHEME, "Split"),
    "merged": ("MERGED", LOCAL_SCHEME, "Merged"),
}
NON_TARGET_STATE_VALUES: dict[str, Code] = {
    "present": ("52101004", "SCT", "Present"),
    "absent": _ABSENT,
    "unequivocal_progression": ("UNEQPROG", LOCAL_SCHEME, "Unequivocal progression"),
    "not_evaluated": _NOT_EVALUATED,
}

METHOD_VALUES: dict[str, Code] = {
    "CT": ("77477000", "SCT", "Computed tomography"),
    "MRI": ("113091000", "SCT", "Magnetic resonance imaging"),
    "caliper": ("CALIPER", LOCAL_SCHEME, "Caliper measurement"),
    "chest_xray": ("399208008", "SCT", "Plain chest X-ray"),
}
SITE_CODES: dict[str, Code] = {
    "liver": ("10200004", "SCT", "Liver"),
    "lung": ("39607008", "SCT", "Lung"),
    "lymph node": ("59441001", "SCT", "Lymph node"),
    "bone": ("272673000", "SCT", "Bone"),
    "peritoneum": ("15425007", "SCT", "Peritoneum"),
    "adrenal gland": ("23451007", "SCT", "Adrenal gland"),
    "kidney": ("64033007", "SCT", "Kidney"),
    "pancreas": ("15776009", "SCT", "Pancreas"),
    "spleen": ("78961009", "SCT", "Spleen"),
    "brain": ("12738006", "SCT", "Brain"),
    "retroperitoneal lymph node": ("91394001", "SCT", "Retroperitoneal lymph node"),
    "mesenteric lymph node": ("279795009", "SCT", "Lymph node of mesentery"),
    "mediastinal lymph node": ("62683002", "SCT", "Mediastinal lymph node"),
    "hilar lymph node": ("53074004", "SCT", "Hilar lymph node"),
    "axillary lymph node": ("68171009", "SCT", "Axillary lymph node"),
    "cervical lymph node": ("81105003", "SCT", "Cervical lymph node"),
    "supraclavicular lymph node": ("76838003", "SCT", "Supraclavicular lymph node"),
    "inguinal lymph node": ("8928004", "SCT", "Inguinal lymph node"),
    "iliac lymph node": ("84219008", "SCT", "Iliac lymph node"),
    "pelvic lymph node": ("54268001", "SCT", "Pelvic lymph node"),
    "abdominal lymph node": ("818991007", "SCT", "Abdominal lymph node"),
    "retroperitoneum": ("82849001", "SCT", "Retroperitoneum"),
    "omentum": ("27398004", "SCT", "Omentum"),
    "pleura": ("3120008", "SCT", "Pleura"),
    "mediastinum": ("72410000", "SCT", "Mediastinum"),
    "stomach": ("69695003", "SCT", "Stomach"),
    "duodenum": ("38848004", "SCT", "Duodenum"),
    "colon": ("71854001", "SCT", "Colon"),
    "ovary": ("15497006", "SCT", "Ovary"),
    "soft tissue": ("87784001", "SCT", "Soft tissue"),
}
"""Case sites (lower case) with a SNOMED CT body-structure code, as DICOM PS3.16 lists them (the test
checks each against pydicom's copy of the DICOM code dictionary). Other sites whose name is a SNOMED CT
concept of that dictionary get that code (:func:`site_code`); the rest are coded in the local scheme with
the site text as code meaning, so every site round-trips. "Mesentery" itself has no code in DICOM's
dictionary and stays local."""

TRACKING_NAMESPACE = uuid.UUID("6f1c8f3e-52a4-5d0b-9a57-1d3c2f8e7b10")
"""Namespace of the name-based UUIDs behind tracking UIDs (fixed: changing it changes every UID)."""


def tracking_uid(subject: str, lesion_id: str) -> str:
    """The Tracking Unique Identifier of a lesion: the same at every timepoint and in every export.

    A UUID-derived UID (PS3.5 B.2: "2.25." + the UUID as a decimal integer) of the name-based UUID
    (RFC 4122 version 5) of ``subject`` and ``lesion_id``.

    >>> tracking_uid("S-1", "T1") == tracking_uid("S-1", "T1") != tracking_uid("S-1", "T2")
    True
    """
    name = f"recist:{len(subject)}:{subject}:{lesion_id}"
    return f"2.25.{uuid.uuid5(TRACKING_NAMESPACE, name).int}"


def _dicom_sct(site: str) -> Code | None:
    """The SNOMED CT code whose DICOM name is ``site`` ("paratracheal lymph node" -> 65690001), or None."""
    words = site.replace("-", " ").split()
    if not words or not all(w.isalpha() for w in words):
        return None
    try:
        from pydicom.sr.codedict import codes

        code = getattr(codes.SCT, "".join(w.capitalize() for w in words))
    except (AttributeError, ImportError):
        return None
    if code.meaning.lower() != " ".join(words).lower():
        return None
    return (str(code.value), "SCT", site)


def site_code(site: str) -> Code:
    """The code of a case site: SNOMED CT where :data:`SITE_CODES` or DICOM's dictionary has it, else local.

    The local code value is "S" + 12 hex digits of the SHA-1 of the site text, its meaning the text itself
    (so distinct sites never share a code and the text comes back unchanged). A site found in DICOM's
    SNOMED CT dictionary by its exact name keeps its own text as code meaning (the name, up to case).
    """
    known = SITE_CODES.get(site.lower())
    if known is not None:
        return known
    found = _dicom_sct(site)
    if found is not None:
        return found
    return ("S" + hashlib.sha1(site.encode("utf-8")).hexdigest()[:12].upper(), LOCAL_SCHEME, site)
