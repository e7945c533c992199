"""DICOM de-identification for reader packages (DICOM PS3.15 Annex E).

Profile: the Basic Application Level Confidentiality Profile (PS3.15 E.2) with the options

- Retain Longitudinal Temporal Information with Modified Dates (E.3.6): every date is shifted by one
  number of days per subject, so intervals between scans survive; times of day are kept (a whole-day
  shift does not change them);
- Clean Descriptors (E.3.5): descriptions a reader needs (study, series, protocol ...) are kept after
  cleaning instead of removed;
- Clean Structured Content (E.3.7): the content items of structured reports (Content Sequence),
  Acquisition Context Sequence and Specimen Preparation Sequence are kept and cleaned instead of emptied.

The table: :mod:`recist.review.deid_table` (PS3.15 Table E.1-1, 2026c edition, Basic Prof. column read from
the ``dicom-anonymizer`` package, checked row by row against the 2024e and 2025 readings of the standard;
see :data:`TABLE_EDITION`). Where the table leaves a choice, this module takes the one that keeps an IOD
valid: ``X/Z`` -> Z, ``X/D``/``Z/D``/``X/Z/D`` -> D, ``X/Z/U*`` -> U for a UID, the items walked (each
attribute by its own row, so referenced UIDs are replaced) for a sequence, Z otherwise. D of a sequence or
of a binary value (OB, OW, UN ...) empties it: a dummy would be invented content.

The options change the basic actions as follows (documented choices, see docs/review.md):

- dates: every DA and DT element that the basic profile does not simply remove (``X``) is shifted,
  as is every DA/DT element the table does not list, and such TM elements are kept; the patient's birth
  date and birth time are not longitudinal information of the study and keep their basic action
  (emptied / removed). Rows whose basic action is X (admission, discharge, calibration, radiopharmaceutical
  start dates and times ...) are removed although the option would allow a shifted copy: a reader needs
  the study, series, acquisition and content dates only;
- descriptors: the attributes of :data:`CLEAN_DESCRIPTORS` (the "C" entries of the Clean Desc. column
  that a reader uses) are kept with every word outside :data:`SAFE_WORDS` removed, and dates, years and
  numbers of 5 or more digits removed (:func:`clean_descriptor`); a descriptor with nothing left is removed
  (emptied when the basic action is Z or D); the other "C" entries keep their basic action;
- structured content: inside the sequences of :data:`~recist.review.deid_table.CLEAN_STRUCTURED_CONTENT`,
  at any depth, every attribute gets its own action (dates shifted with the subject's shift, Person Name
  replaced by a dummy, UIDs replaced, free text outside the table removed) and a Text Value is cleaned
  like a descriptor (whitelist; dates and numbers of 5 or more digits removed); codes, numbers and units
  of measurements are kept. Outside a content tree a Text Value is removed.

UIDs are replaced by ``2.25.<128-bit integer>`` derived from HMAC-SHA256(project secret, UID) (PS3.5 B.2
form), so the same UID maps to the same new UID in every file and study/series/SOP relations survive. So
are the UID attributes the table does not list (Multi-frame Source SOP Instance UID, SOP Instance UID of
Concatenation Source, Retrieve Location UID, Volume Frame of Reference UID ...) unless they name a class, a
transfer syntax or a coding resource; a UID under the DICOM root (``1.2.840.10008.``) is never replaced.
Private attributes are removed (E.3.10 Retain Safe Private Option is not offered). Patient name and id
become the subject pseudonym. The header records what was done: PatientIdentityRemoved ``YES``,
DeidentificationMethod (text), DeidentificationMethodCodeSequence with DCM 113100, 113107, 113105 and
113104 (CID 7050), and LongitudinalTemporalInformationModified ``MODIFIED``.

Beyond the table: :data:`~recist.review.deid_table.RECIST_REMOVALS` (Document Title, Procedure and
Performed Protocol Code Sequences, Software Versions, device model, Content Label and Description, Overlay
Description and Label, a Text Value outside a content tree) are removed; any other attribute of a free-text
value representation (LO, SH, LT, ST, UT, UC, PN, and URLs and AE titles: UR, AE) that the table does not
list is removed unless the charter's ``deidentification.keep_attributes`` keeps it (then cleaned like a
descriptor), and so is any public attribute of unknown type (UN: its content cannot be judged). So the
Radiopharmaceutical (0018,0031) and Convolution Kernel (0018,1210), which the table does not list, are
removed unless the charter keeps them (the Radiopharmaceutical Code Sequence, coded, stays). A code of a
local coding scheme (``99...``) keeps its structure but its meaning is cleaned and its value and scheme
designator (``99STJUDE`` names the site) replaced by keyed hashes (the designator keeps its ``99``); the
file meta's ImplementationClassUID and ImplementationVersionName (the source's software) are replaced by
pydicom's.

Not done: burned-in annotation in pixel data is not inspected (E.3.1 Clean Pixel Data option is not
claimed); a series whose BurnedInAnnotation is ``YES`` is refused.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from recist._atomic import make_folders, new_file_mode
from recist.errors import BlindingError, DicomLoadError
from recist.review.deid_table import (
    CLEAN_DESCRIPTORS,
    CLEAN_STRUCTURED_CONTENT,
    TABLE_EDITION,
    TEXT_VALUE,
    basic_profile_actions,
    table_action,
)

__all__ = [
    "TABLE_EDITION",
    "PROFILE_CODES",
    "CLEAN_DESCRIPTORS",
    "CLEAN_STRUCTURED_CONTENT",
    "SAFE_WORDS",
    "DEIDENTIFICATION_METHOD",
    "basic_profile_actions",
    "hashed_uid",
    "shift_date",
    "clean_descriptor",
    "deidentify_dataset",
    "deidentify_folder",
    "burned_in_reason",
    "BURNED_IN_SOP_CLASSES",
    "BURNED_IN_MODALITIES",
    "NOT_FOR_READING_MODALITIES",
    "not_for_reading_reason",
]

log = logging.getLogger(__name__)

PROFILE_CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    ("113105", "Clean Descriptors Option"),
    ("113104", "Clean Structured Content Option"),
)
"""DCM codes (PS3.16 CID 7050) of the profile and options applied."""

DEIDENTIFICATION_METHOD = (
    "Basic Application Level Confidentiality Profile",
    "Retain Longitudinal Temporal Information Modified Dates",
    "Clean Descriptors",
    "Clean Structured Content",
    "PS3.15 Table E.1-1 2026c; recist",
)
"""The DeidentificationMethod (0012,0063) values (LO, VM 1-n: each at most 64 characters)."""

SAFE_WORDS = frozenset(
    """
    ct pet mr mri pt nm us cr dx spect fdg psma dotatate dotatoc ga68 f18 c11 lu177 ac ctac nac
    head neck brain chest thorax lung lungs abdomen abdo abd pelvis pelvic liver body whole wb spine
    thoracic lumbar cervical extremity bone bones soft tissue mediastinum mediastinal kidney renal
    adrenal pancreas breast axial coronal sagittal cor sag ax ap pa lat mip mpr recon reconstruction
    with without w wo contrast iv oral non enhanced venous portal arterial phase delayed late early
    plain native dual energy kv mas ma mm cm thin thick slice slices std standard sharp smooth soft
    kernel b30f b31f b40f b70f i30f i31f i40f fc fc08 fc13 fc17 and or of to the for in on at
    routine staging restaging follow up followup fu baseline screening scan scans series study exam
    localizer scout topogram survey dose report ir iterative fbp asir ada idose safire admire
    t1 t2 flair dwi adc stir gre tse fse se hass vibe dixon fat sat pre post gd gad gadolinium
    """.split()
)
"""Words a descriptor may keep (modality, anatomy, technique). Any other word is removed."""

FREE_TEXT_VRS = frozenset({"LO", "SH", "LT", "ST", "UT", "UC", "PN", "UR", "AE"})
"""Value representations that can hold free text (a URL or an AE title can name the institution)."""

STRUCTURAL_TEXT = frozenset({
    (0x0008, 0x0100), (0x0008, 0x0102), (0x0008, 0x0103), (0x0008, 0x0104),  # code value, scheme, version, meaning
    (0x0008, 0x0119), (0x0008, 0x0120),  # long code value, URN code value
    (0x0008, 0x0005),  # Specific Character Set
    (0x0012, 0x0063),  # De-identification Method (written by this module)
})
"""Free-text attributes outside the table that are kept: the parts of a code item (a code meaning of a
local coding scheme is cleaned like a descriptor, see :func:`_walk`) and this module's own record."""

_BIRTH = {(0x0010, 0x0030), (0x0010, 0x0032)}
_PATIENT_NAME = (0x0010, 0x0010)
_PATIENT_ID = (0x0010, 0x0020)


def hashed_uid(uid: str, secret: bytes) -> str:
    """A new UID derived from ``uid`` and the project secret: ``2.25.`` + a 128-bit integer (PS3.5 B.2)."""
    digest = hmac.new(secret, b"uid:" + uid.strip().encode("ascii", "replace"), hashlib.sha256).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def shift_date(value: str, days: int, vr: str) -> str:
    """Shift a DA (``YYYYMMDD``) or DT (``YYYYMMDDHHMMSS.FFFFFF&ZZXX``) value by whole ``days``.

    The time of a DT is kept (a whole-day shift does not change it). A value that is not a valid date
    is emptied (it cannot be shifted, and kept as is it could identify).
    """
    text = str(value).strip()
    if len(text) < 8 or not text[:8].isdigit():
        return ""
    try:
        shifted = _dt.date(int(text[:4]), int(text[4:6]), int(text[6:8])) + _dt.timedelta(days=days)
    except ValueError:
        return ""
    return shifted.strftime("%Y%m%d") + (text[8:] if vr == "DT" else "")


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
#: Dates written with separators (01/03/2021, 2019-06-11, 11.06.2019) or a month name (11 Jun 2019,
#: June 11, 2019): removed whole before the words are looked at.
_DATE_IN_TEXT = re.compile(
    rf"\b\d{{1,4}}[/.\-]\d{{1,2}}[/.\-]\d{{1,4}}\b"
    rf"|\b\d{{1,2}}[\s/.\-]*{_MONTH}[\s/.\-]*\d{{2,4}}\b"
    rf"|\b{_MONTH}[\s/.\-]*\d{{1,2}}(?:st|nd|rd|th)?,?[\s/.\-]*\d{{2,4}}\b",
    re.IGNORECASE,
)


def clean_descriptor(text: str) -> str:
    """Keep only the words of ``text`` found in :data:`SAFE_WORDS` (case-insensitive) and short numbers.

    ``"CT CHEST W CONTRAST SMITH JOHN 3mm"`` becomes ``"CT CHEST W CONTRAST 3mm"``. Dates in any common
    form (``20190611``, ``01/03/2021``, ``2019-06-11``, ``11 Jun 2019``), a year alone (1900-2099) and
    any number with a run of 5 or more digits (an MRN, accession or phone number) are removed: a true
    date would undo the date shift and a long number can identify the patient (PS3.15 E.3.5 Clean
    Descriptors: cleaned of identifying information). Numbers a reader uses stay (``1.25mm``, ``120kV``,
    ``2``).
    """
    kept = []
    for word in re.split(r"[\s^_/\\,;:|]+", _DATE_IN_TEXT.sub(" ", str(text))):
        if not word:
            continue
        bare = word.strip("()[]{}.-+*#\"'").lower()
        if re.search(r"\d{5,}", bare) or re.fullmatch(r"(19|20)\d\d", bare):
            continue
        if bare in SAFE_WORDS or re.fullmatch(r"\d+(\.\d+)?(mm|cm|kv|mas|s)?", bare):
            kept.append(word)
    return " ".join(kept)


_DUMMY = {
    "PN": "ANONYMOUS", "LO": "ANONYMIZED", "SH": "ANONYMIZED", "LT": "ANONYMIZED", "ST": "ANONYMIZED",
    "UT": "ANONYMIZED", "UC": "ANONYMIZED", "CS": "ANONYMIZED", "AE": "ANONYMIZED", "DA": "19000101",
    "DT": "19000101000000", "TM": "000000", "IS": "0", "DS": "0", "AS": "000Y", "UR": "",
}


def _dummy(vr: str) -> Any:
    if vr in _DUMMY:
        return _DUMMY[vr]
    if vr in ("US", "SS", "UL", "SL", "UV", "SV", "AT"):
        return 0
    if vr in ("FL", "FD"):
        return 0.0
    if vr in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
        return b""
    return ""


def _resolve(action: str, vr: str) -> str:
    """The single action of a compound Table E.1-1 code (the choice that keeps an IOD valid)."""
    if action == "X/Z":
        return "Z"
    if action in ("X/D", "Z/D", "X/Z/D"):
        return "D"
    if action == "X/Z/U*":
        return "U" if vr == "UI" else "Z"
    return action


def deidentify_dataset(ds: Any, *, secret: bytes, shift_days: int, pseudonym: str,
                       keep_attributes: Iterable[str] = ()) -> Any:
    """De-identify a pydicom Dataset in place (see the module docstring) and return it.

    ``keep_attributes``: DICOM keywords of free-text attributes outside PS3.15 Table E.1-1 that are kept
    (cleaned like descriptors) instead of removed (the charter's ``deidentification.keep_attributes``).
    """
    from pydicom.datadict import tag_for_keyword
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds.remove_private_tags()
    keep = {(t >> 16, t & 0xFFFF) for t in (tag_for_keyword(k) for k in keep_attributes) if t is not None}
    _walk(ds, secret=secret, shift_days=shift_days, keep=frozenset(keep))
    ds.PatientName = pseudonym
    ds.PatientID = pseudonym
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = list(DEIDENTIFICATION_METHOD)
    items = []
    for value, meaning in PROFILE_CODES:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(items)
    ds.LongitudinalTemporalInformationModified = "MODIFIED"
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        if "MediaStorageSOPInstanceUID" in meta:
            meta.MediaStorageSOPInstanceUID = hashed_uid(str(meta.MediaStorageSOPInstanceUID), secret)
        # the implementation of the source's writer (a site's PACS version) identifies; pydicom writes its own
        for keyword in ("SourceApplicationEntityTitle", "SendingApplicationEntityTitle",
                        "ReceivingApplicationEntityTitle", "PrivateInformationCreatorUID", "PrivateInformation",
                        "ImplementationClassUID", "ImplementationVersionName"):
            if keyword in meta:
                delattr(meta, keyword)
    return ds


def _local_scheme(ds: Any) -> bool:
    """Whether a code item's coding scheme is local (PS3.16 8.2: private schemes begin with ``99``)."""
    scheme = str(ds.get("CodingSchemeDesignator", "")).strip().upper()
    return scheme.startswith("99") or scheme in ("L", "LOCAL")


_CODE_VALUES = {(0x0008, 0x0100), (0x0008, 0x0119), (0x0008, 0x0120)}  # code value, long code value, URN code value
_CODE_MEANING = (0x0008, 0x0104)
_CODING_SCHEME, _CODING_SCHEME_VERSION = (0x0008, 0x0102), (0x0008, 0x0103)


def _keyed(secret: bytes, kind: str, value: Any) -> str:
    """A keyed hash (HMAC-SHA256, upper-case hex) of a local code's part: stable within a project."""
    return hmac.new(secret, kind.encode() + b":" + str(value).encode("utf-8", "replace"), hashlib.sha256).hexdigest().upper()


def _walk(ds: Any, *, secret: bytes, shift_days: int, keep: frozenset[tuple[int, int]] = frozenset(),
          content: bool = False) -> None:
    """De-identify the elements of ``ds`` (a dataset or a sequence item) in place.

    ``content``: ``ds`` is an item of a Clean Structured Content sequence (at any depth), where a Text Value
    is cleaned instead of removed.
    """
    for elem in list(ds):
        key = (elem.tag.group, elem.tag.element)
        vr = elem.VR
        action = table_action(*key)
        if key == _CODE_MEANING and _local_scheme(ds):  # Code Meaning of a local code: free text
            elem.value = clean_descriptor(str(elem.value or "")) or "local code"
            continue
        if key in _CODE_VALUES and _local_scheme(ds):  # a local Code Value can spell anything ("ARMB")
            elem.value = "L" + _keyed(secret, "code", elem.value)[:10]
            continue
        if key == _CODING_SCHEME and _local_scheme(ds):  # "99STJUDE": a local scheme often names the site
            elem.value = "99" + _keyed(secret, "scheme", elem.value)[:8]
            continue
        if key == _CODING_SCHEME_VERSION and _local_scheme(ds):
            elem.value = clean_descriptor(str(elem.value or "")) or "1"
            continue
        if vr == "SQ" and (key in CLEAN_STRUCTURED_CONTENT or (action == "X/Z/U*" and elem.value)):
            # Clean Structured Content (C) and U* of a sequence: the items stay, each attribute by its own row
            for item in elem.value:
                _walk(item, secret=secret, shift_days=shift_days, keep=keep,
                      content=content or key in CLEAN_STRUCTURED_CONTENT)
            continue
        if key == TEXT_VALUE and content:
            elem.value = clean_descriptor(str(elem.value or "")) or _dummy(vr)
            continue
        if key in CLEAN_DESCRIPTORS or (key in keep and action is None and vr != "UN"):
            cleaned = clean_descriptor(str(elem.value or ""))
            if cleaned:
                elem.value = cleaned
            elif action is None or action.startswith("X"):
                del ds[elem.tag]
            else:  # Z or D in the basic profile: kept, empty
                elem.value = ""
            continue
        if vr in ("DA", "DT", "TM") and key not in _BIRTH and action != "X":
            if vr != "TM":  # times of day are kept: a whole-day shift does not change them
                elem.value = _shift_value(elem.value, shift_days, vr)
            continue
        if action is None:
            if vr == "SQ":
                for item in elem.value:
                    _walk(item, secret=secret, shift_days=shift_days, keep=keep, content=content)
            elif vr == "UN" or (vr in FREE_TEXT_VRS and key not in STRUCTURAL_TEXT):
                del ds[elem.tag]  # free text the table does not list: removed unless the charter keeps it
            elif vr == "UI" and not _names_a_class(elem):  # an instance UID the table misses (a source SOP
                elem.value = _map_uids(elem.value, secret)  # instance of a concatenation, a retrieve location)
            continue
        action = _resolve(action, vr)
        if action == "X":
            del ds[elem.tag]
        elif action == "U" or (vr == "UI" and action in ("D", "Z")):
            elem.value = _map_uids(elem.value, secret)
        elif action == "Z":
            elem.value = [] if vr == "SQ" else ("" if vr not in ("US", "SS", "UL", "SL", "FL", "FD") else None)
        elif action == "D":
            elem.value = [] if vr == "SQ" else _dummy(vr)


def _shift_value(value: Any, days: int, vr: str) -> Any:
    if value is None or value == "":
        return value
    from pydicom.multival import MultiValue

    if isinstance(value, (list, MultiValue)):
        return [shift_date(str(v), days, vr) for v in value]
    return shift_date(str(value), days, vr)


DICOM_ROOT = "1.2.840.10008."
"""UIDs under the DICOM root are defined by the standard (SOP classes, transfer syntaxes, well-known
instances such as the standard colour palettes): they identify nobody and are never replaced."""


def _map_uid(uid: str, secret: bytes) -> str:
    text = uid.strip()
    return text if not text or text.startswith(DICOM_ROOT) else hashed_uid(text, secret)


def _map_uids(value: Any, secret: bytes) -> Any:
    from pydicom.multival import MultiValue

    if isinstance(value, (list, MultiValue)):
        return [_map_uid(str(v), secret) for v in value]
    return _map_uid(str(value), secret) if value else value


_RESOURCE_UIDS = {(0x0008, 0x010C), (0x0008, 0x0117), (0x0008, 0x0118)}  # coding scheme, context, mapping resource


def _names_a_class(elem: Any) -> bool:
    """Whether a UI attribute outside the table names a kind of thing (a SOP class, a transfer syntax, a
    coding resource) rather than an instance: kept, like the standard's SOP Class UID."""
    keyword = elem.keyword or ""
    return ((elem.tag.group, elem.tag.element) in _RESOURCE_UIDS or "SOPClass" in keyword
            or "TransferSyntax" in keyword)


BURNED_IN_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.7.1": "Multi-frame Single Bit Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.7.2": "Multi-frame Grayscale Byte Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.7.3": "Multi-frame Grayscale Word Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.7.4": "Multi-frame True Color Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.104.1": "Encapsulated PDF Storage",
    "1.2.840.10008.5.1.4.1.1.77.1.1": "VL Endoscopic Image Storage",
    "1.2.840.10008.5.1.4.1.1.77.1.4": "VL Photographic Image Storage",
}
"""SOP classes likely to carry burned-in text: secondary captures (screenshots, scanned documents, dose
reports) and photographs (PS3.15 E.3.1: these are where burned-in identification is usually found)."""

BURNED_IN_MODALITIES = {"OT": "other (screen captures)", "DOC": "document", "XC": "external-camera photography"}
"""Modalities likely to carry burned-in text or recognisable features."""


def burned_in_reason(ds: Any, *, checked_series: Iterable[str] = ()) -> str | None:
    """Why an image may carry burned-in text or recognisable features (None: no reason to think so).

    - BurnedInAnnotation (0028,0301) ``YES``: always refused (the header says the text is there);
    - a SOP class of :data:`BURNED_IN_SOP_CLASSES`, a modality of :data:`BURNED_IN_MODALITIES`, a
      ConversionType (0008,0064: the image was converted from something else) or
      RecognizableVisualFeatures (0028,0302) ``YES``: refused unless the series (its original Series
      Instance UID) is in ``checked_series``, the charter's list of series the core lab has checked.
    """
    if str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES":
        return "BurnedInAnnotation is YES"
    if str(ds.get("SeriesInstanceUID", "")).strip() in set(checked_series):
        return None
    sop_class = str(ds.get("SOPClassUID", "")).strip()
    modality = str(ds.get("Modality", "")).strip().upper()
    if sop_class in BURNED_IN_SOP_CLASSES:
        return f"SOP class {BURNED_IN_SOP_CLASSES[sop_class]} ({sop_class}) often carries burned-in text"
    if modality in BURNED_IN_MODALITIES:
        return f"modality {modality} ({BURNED_IN_MODALITIES[modality]}) often carries burned-in text"
    if str(ds.get("ConversionType", "")).strip():
        return f"ConversionType {str(ds.get('ConversionType')).strip()!r}: a converted (captured) image"
    if str(ds.get("RecognizableVisualFeatures", "")).strip().upper() == "YES":
        return "RecognizableVisualFeatures is YES"
    return None


NOT_FOR_READING_MODALITIES = {
    "SR": "structured report: a site's measurements or report",
    "KO": "key object selection: a site's choice of images",
    "PR": "presentation state: a site's annotations and display settings",
    "SEG": "segmentation: a site's outlines",
    "RTSTRUCT": "RT structure set: contours",
    "REG": "registration",
}
"""Modalities of objects that carry someone's reading of the images rather than the images."""


def not_for_reading_reason(ds: Any) -> str | None:
    """Why an instance is left out of a reader package (None: it is an image to read).

    Blinded independent central review reads the images only, blinded to the site's assessment (FDA,
    "Clinical Trial Imaging Endpoint Process Standards", 2018, section IV.C on reader blinding): a site's
    measurement SR, key images, presentation states (annotations, arrows, text), segmentations and
    contours would show the site's read, so they are never packaged. Objects without pixel data
    (PixelData, Float/Double Float Pixel Data) are not images and are left out too.
    """
    modality = str(ds.get("Modality", "")).strip().upper()
    if modality in NOT_FOR_READING_MODALITIES:
        return f"modality {modality} ({NOT_FOR_READING_MODALITIES[modality]})"
    if not any(keyword in ds for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        return f"no pixel data (modality {modality or 'unknown'}): not an image"
    return None


def deidentify_folder(
    source: str | Path, out: str | Path, *, secret: bytes, shift_days: int, pseudonym: str,
    checked_series: Iterable[str] = (), keep_attributes: Iterable[str] = (),
    left_out: list[str] | None = None,
) -> list[dict[str, Any]]:
    """De-identify every DICOM image under ``source`` into ``out`` (one file per instance).

    Files that are not DICOM are skipped (and logged). Instances that are not images to read
    (:func:`not_for_reading_reason`: a site's SR, key objects, presentation states, segmentations) are
    left out of the package; why each was left out is appended to ``left_out`` (when given; the reason
    only, no file name, which may carry identifying text). Output files are named by their new SOP Instance
    UID. Returns one entry per series written: ``{"series_uid", "study_uid", "modality", "files"}``.

    Parameters
    ----------
    checked_series
        Series Instance UIDs (of the source) that the core lab has checked for burned-in text (the
        charter's ``deidentification.checked_series``): see :func:`burned_in_reason`.
    left_out
        Collects why each instance left out was left out.

    Raises
    ------
    DicomLoadError
        When ``source`` holds no DICOM file.
    BlindingError
        When an image may carry burned-in text (:func:`burned_in_reason`), which this profile cannot clean.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    source, out = Path(source), Path(out)
    checked = frozenset(checked_series)
    series: dict[str, dict[str, Any]] = {}
    files: Iterable[Path] = sorted(p for p in source.rglob("*") if p.is_file())
    for path in files:
        try:
            ds = pydicom.dcmread(path)
        except (InvalidDicomError, OSError, ValueError, EOFError):
            log.info("skipping %s: not a DICOM file", path)
            continue
        why = burned_in_reason(ds, checked_series=checked)
        if why:
            raise BlindingError(
                f"{path}: {why}; burned-in text cannot be removed by this profile: exclude the image or clean "
                "its pixels, or, once the series is checked, list its SeriesInstanceUID in the charter's "
                "deidentification.checked_series"
            )
        left = not_for_reading_reason(ds)
        if left:
            log.info("not packaged: %s: %s", path, left)
            if left_out is not None:
                left_out.append(left)
            continue
        deidentify_dataset(ds, secret=secret, shift_days=shift_days, pseudonym=pseudonym,
                           keep_attributes=keep_attributes)
        make_folders(out)
        target = out / f"{ds.SOPInstanceUID}.dcm"
        ds.save_as(target, enforce_file_format=True)  # not fsynced one by one: the package renames the subject's
        os.chmod(target, new_file_mode(out))  # folder into place when complete; private in a private package
        entry = series.setdefault(
            str(ds.get("SeriesInstanceUID", "")),
            {"series_uid": str(ds.get("SeriesInstanceUID", "")), "study_uid": str(ds.get("StudyInstanceUID", "")),
             "modality": str(ds.get("Modality", "")), "files": 0},
        )
        entry["files"] += 1
    if not series:
        raise DicomLoadError(f"{source}: no DICOM file found: check the folder given for this timepoint")
    return list(series.values())
