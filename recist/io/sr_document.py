"""One DICOM SR file to a parsed TID 1500 document: lesion groups, skipped groups, subject, observer, date.

The reading half of :mod:`recist.io.sr_import` (which assembles documents into cases and documents the
mapping): codes matched, units converted, pixel lines mapped to patient coordinates, damaged files refused
(see that module's docstring).
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recist.errors import ExchangeError, RecistError
from recist.io import sr_codes
from recist.io.dicom_structure import check_complete
from recist.io.sr_content import Geometry as _Geometry
from recist.io.sr_content import code_of as _code_of
from recist.io.sr_content import describe as _describe
from recist.io.sr_content import float32_text as _float32_text
from recist.io.sr_content import meaning as _meaning

__all__ = ["read_sr_files"]

_SR_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.88.22": "Enhanced SR",
    "1.2.840.10008.5.1.4.1.1.88.33": "Comprehensive SR",
    "1.2.840.10008.5.1.4.1.1.88.34": "Comprehensive 3D SR",
}
_MODALITY = {
    "1.2.840.10008.5.1.4.1.1.2": "CT",
    "1.2.840.10008.5.1.4.1.1.2.1": "CT",
    "1.2.840.10008.5.1.4.1.1.4": "MR",
    "1.2.840.10008.5.1.4.1.1.4.1": "MR",
    "1.2.840.10008.5.1.4.1.1.128": "PT",
    "1.2.840.10008.5.1.4.1.1.130": "PT",
}
_IMAGING_MEASUREMENTS = ("126010", "DCM")
_MEASUREMENT_GROUP = ("125007", "DCM")
_TRACKING_ID = ("112039", "DCM")
_TRACKING_UID = ("112040", "DCM")
_FINDING_SITES = {("363698007", "SCT"), ("G-C0E3", "SRT")}
_FINDING_CATEGORY = {("276214006", "SCT"), ("F-02C2F", "SRT")}
_ANATOMICAL_STRUCTURE = {("91723000", "SCT"), ("T-D000A", "SRT")}
_FINDING = ("121071", "DCM")
_FREE_TEXT = "CORNERSTONEFREETEXT"
"""The code value under which OHIF/Cornerstone (dcmjs) store the user's label of a measurement."""
_TOOL_TAG = re.compile(r"^[A-Za-z0-9]+@\S*:\w+$")
"""Tracking identifiers that name the drawing tool, not the lesion ("cornerstoneTools@^4.0.0:Length")."""
_TIME_POINT = ("C2348792", "UMLS")
_TIME_POINT_ORDER = ("126073", "DCM")
_PERSON_OBSERVER = ("121008", "DCM")
_SUBJECT_ID = ("121030", "DCM")
_AXES = {
    sr_codes.LONG_AXIS[:2]: "long_axis_mm",
    sr_codes.LENGTH[:2]: "long_axis_mm",
    sr_codes.DIAMETER[:2]: "long_axis_mm",
    sr_codes.SHORT_AXIS[:2]: "short_axis_mm",
    **{code[:2]: "short_axis_mm" if key == "short_axis_mm" else "long_axis_mm"
       for key, code in sr_codes.LEGACY_AXES.items()},  # fmt: skip
}
"""Lesion diameters: SNOMED CT codes and the legacy SNOMED-RT codes of the same concepts (PS3.16 CID 7470)."""
_UNITS_TO_MM = {("mm", "UCUM"): 1.0, ("cm", "UCUM"): 10.0}
_PIXEL_UNITS = {("1", "UCUM"), ("{pixels}", "UCUM"), ("{pixel}", "UCUM"), ("px", "UCUM")}
_MAX_TIME_POINT_ORDER = 1_000_000


def _reverse(table: dict[str, tuple[str, str, str]]) -> dict[tuple[str, str], str]:
    return {code[:2]: key for key, code in table.items()}


_ROLES = _reverse(sr_codes.ROLE_VALUES)
_TARGET_STATES = _reverse(sr_codes.TARGET_STATE_VALUES)
_NON_TARGET_STATES = _reverse(sr_codes.NON_TARGET_STATE_VALUES)
_SITES = _reverse(sr_codes.SITE_CODES)
_METHODS = _reverse(sr_codes.METHOD_VALUES)
_YES_NO = {sr_codes.YES[:2]: True, sr_codes.NO[:2]: False}
_EVALUATIONS: dict[tuple[str, str], tuple[str, dict[tuple[str, str], Any], str]] = {
    sr_codes.ROLE[:2]: ("role", _ROLES, "RECIST lesion role"),
    sr_codes.NODAL[:2]: ("nodal", _YES_NO, "'Lymph node lesion' value (SCT Yes or No expected)"),
    sr_codes.METHOD[:2]: ("method", _METHODS, "lesion measurement method"),
    sr_codes.EQUIVOCAL[:2]: ("equivocal", _YES_NO, "'Equivocal new lesion' value (SCT Yes or No expected)"),
    sr_codes.NEW_LESION_ROLE[:2]: ("new_lesion_role", _reverse(sr_codes.NEW_LESION_ROLE_VALUES),
                                   "iRECIST new-lesion role (NLT or NLNT expected)"),
    sr_codes.INCREASED[:2]: ("increased", _YES_NO, "'Increased since the previous assessment' value"),
}
"""Qualitative evaluations of recist's encoding: concept name -> (group attribute, values, what it is)."""


@dataclass
class _Axis:
    key: str
    value: float
    line: dict[str, Any] | None
    image: dict[str, Any] | None
    where: str


@dataclass
class _Group:
    where: str
    lesion_id: str = ""
    tracking_uid: str = ""
    site: str | None = None
    role: str | None = None
    nodal: bool | None = None
    method: str | None = None
    state: tuple[tuple[str, str], str] | None = None
    equivocal: bool | None = None
    new_lesion_role: str | None = None
    increased: bool | None = None
    merged_into: str | None = None
    axes: list[_Axis] = field(default_factory=list)
    other_measurements: list[str] = field(default_factory=list)
    anatomical: str | None = None
    point_mm: list[float] | None = None
    image: dict[str, Any] | None = None
    time_point: str | None = None
    time_point_order: int | None = None
    label: str | None = None


@dataclass
class _Document:
    path: Path
    subject: str
    observer: str
    date: _dt.date
    label: str | None
    order: int | None
    groups: list[_Group]
    images: list[dict[str, Any]]
    instance: int = 0
    warnings: list[str] = field(default_factory=list)


class _Reader:
    def __init__(self, path: Path, ds: Any, headers: Mapping[str, Any]) -> None:
        self.path = path
        self.ds = ds
        self.headers = headers
        self.warnings: list[str] = []
        self.sop_index: dict[str, dict[str, Any]] = {}
        for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
            for study in ds.get(keyword, []):
                for series in study.get("ReferencedSeriesSequence", []):
                    for sop in series.get("ReferencedSOPSequence", []):
                        uid = str(sop.get("ReferencedSOPInstanceUID", ""))
                        self.sop_index[uid] = {
                            "study_uid": str(study.get("StudyInstanceUID", "")),
                            "series_uid": str(series.get("SeriesInstanceUID", "")),
                            "sop_uid": uid,
                            "modality": _MODALITY.get(str(sop.get("ReferencedSOPClassUID", ""))),
                        }

    def error(self, where: str, message: str) -> ExchangeError:
        return ExchangeError(f"{self.path.name}, {where}: {message}")

    def _image(self, item: Any, where: str) -> dict[str, Any] | None:
        refs = item.get("ReferencedSOPSequence")
        if not refs:
            raise self.error(where, "IMAGE content item without ReferencedSOPSequence")
        uid = str(refs[0].get("ReferencedSOPInstanceUID", ""))
        ref = self.sop_index.get(uid)
        if ref is None:
            header = self.headers.get(uid)
            if header is None:
                raise self.error(
                    where, f"image {uid} is neither in the evidence sequences of the document nor in --images"
                )
            ref = {
                "study_uid": str(getattr(header, "StudyInstanceUID", "")),
                "series_uid": str(getattr(header, "SeriesInstanceUID", "")),
                "sop_uid": uid,
                "modality": str(getattr(header, "Modality", "")) or None,
            }
        return {k: v for k, v in ref.items() if v}

    def _scoord3d(self, item: Any, where: str, graphic_type: str) -> list[list[float]]:
        if item.get("GraphicType") != graphic_type:
            raise self.error(where, f"expected a SCOORD3D {graphic_type}, got {item.get('GraphicType')!r}")
        data = [_float32_text(v) for v in item.get("GraphicData", [])]
        if len(data) % 3 or not data:
            raise self.error(where, "SCOORD3D GraphicData is not a list of (x, y, z) triplets")
        if not all(math.isfinite(v) for v in data):
            raise self.error(where, "SCOORD3D GraphicData holds a value that is not a finite number")
        return [data[i : i + 3] for i in range(0, len(data), 3)]

    def _scoord2d(self, item: Any, where: str) -> tuple[list[tuple[float, float]], str | None]:
        """The (column, row) points of a 2D SCOORD line and the SOP UID of its image (SELECTED FROM)."""
        data = [float(v) for v in item.get("GraphicData", [])]
        if len(data) % 2 or not data or not all(math.isfinite(v) for v in data):
            raise self.error(where, "SCOORD GraphicData is not a list of finite (column, row) pairs")
        sop_uid = None
        for child in item.get("ContentSequence", []):
            refs = child.get("ReferencedSOPSequence") if child.get("ValueType") == "IMAGE" else None
            if refs:
                sop_uid = str(refs[0].get("ReferencedSOPInstanceUID", ""))
        return [(data[i], data[i + 1]) for i in range(0, len(data), 2)], sop_uid

    def _geometry(self, sop_uid: str | None, where: str, why: str) -> _Geometry | None:
        header = self.headers.get(sop_uid or "")
        if header is None:
            return None
        try:
            return _Geometry(header, str(sop_uid))
        except ExchangeError as exc:
            raise self.error(where, f"{exc} ({why})") from None

    def _number(self, item: Any, where: str) -> tuple[float, tuple[str, str] | None]:
        values = item.get("MeasuredValueSequence")
        if not values:
            raise self.error(where, "NUM content item without MeasuredValueSequence (no value)")
        value_item = values[0]
        try:
            value = (
                float(value_item.FloatingPointValue)
                if "FloatingPointValue" in value_item
                else float(value_item.NumericValue)
            )
        except (AttributeError, TypeError, ValueError):
            raise self.error(where, "NUM content item without a numeric value") from None
        if not math.isfinite(value) or value < 0:
            raise self.error(where, f"measured value {value!r} is not a finite length >= 0")
        return value, _code_of(value_item, "MeasurementUnitsCodeSequence")

    def _measurement(self, item: Any, where: str, group: _Group) -> None:
        name = _code_of(item)
        key = _AXES.get(name or ("", ""))
        if key is None:
            group.other_measurements.append(_describe(item))
            return
        value, unit = self._number(item, where)
        line = image = None
        pixels: list[tuple[float, float]] | None = None
        pixel_image: str | None = None
        for k, child in enumerate(item.get("ContentSequence", []), start=1):
            child_where = f"{where}.{k}"
            if child.get("ValueType") == "SCOORD3D" and child.get("GraphicType") == "POLYLINE":
                points = self._scoord3d(child, child_where, "POLYLINE")
                if len(points) == 2:
                    line = {"start_mm": points[0], "end_mm": points[1]}
            elif child.get("ValueType") == "SCOORD" and child.get("GraphicType") == "POLYLINE":
                points_2d, pixel_image = self._scoord2d(child, child_where)
                if len(points_2d) == 2:
                    pixels = points_2d
            elif child.get("ValueType") == "IMAGE":
                image = self._image(child, child_where)
        geometry = None
        if pixels is not None:
            geometry = self._geometry(pixel_image, where, "needed for the SCOORD line")
            if image is None and pixel_image and (pixel_image in self.sop_index or pixel_image in self.headers):
                image = self._image(
                    {"ReferencedSOPSequence": [{"ReferencedSOPInstanceUID": pixel_image}]}, where
                )
            if line is None and geometry is not None:
                line = {"start_mm": geometry.to_patient(*pixels[0]), "end_mm": geometry.to_patient(*pixels[1])}
        if unit in _PIXEL_UNITS:
            if pixels is None or geometry is None:
                raise self.error(
                    where,
                    f"{_describe(item)} is {value!r} pixels; converting it needs its SCOORD line and the header of "
                    f"its image {pixel_image or '(none referenced)'}: give the image series with --images",
                )
            value = geometry.length_mm(pixels)
        elif unit in _UNITS_TO_MM:
            value *= _UNITS_TO_MM[unit]
        else:
            unit_text = _describe(item.MeasuredValueSequence[0], "MeasurementUnitsCodeSequence")
            raise self.error(where, f"length unit {unit_text} of {_describe(item)} is not UCUM mm, cm or pixels")
        group.axes.append(_Axis(key, value, line, image, where))

    def _group(self, item: Any, where: str) -> _Group:
        group = _Group(where=where)
        for k, child in enumerate(item.get("ContentSequence", []), start=1):
            child_where = f"{where}.{k}"
            name = _code_of(child)
            value_type = child.get("ValueType")
            if value_type == "TEXT" and name == _TRACKING_ID:
                group.lesion_id = str(child.get("TextValue", "")).strip()
            elif value_type == "UIDREF" and name == _TRACKING_UID:
                group.tracking_uid = str(child.get("UID", ""))
            elif value_type == "TEXT" and name == _TIME_POINT:
                group.time_point = str(child.get("TextValue", ""))
            elif value_type == "NUM" and name == _TIME_POINT_ORDER:
                group.time_point_order = self._order(child, child_where)
            elif value_type == "CODE" and _code_of(child, "ConceptCodeSequence") is not None and \
                    _code_of(child, "ConceptCodeSequence")[0] == _FREE_TEXT:  # fmt: skip
                group.label = _meaning(child, "ConceptCodeSequence").strip() or None
            elif value_type == "CODE" and name in _FINDING_SITES:
                code = _code_of(child, "ConceptCodeSequence")
                group.site = _SITES.get(code) if code in _SITES else _meaning(child, "ConceptCodeSequence")
            elif value_type == "CODE" and name in _FINDING_CATEGORY:
                if _code_of(child, "ConceptCodeSequence") in _ANATOMICAL_STRUCTURE:
                    group.anatomical = _describe(child, "ConceptCodeSequence")
            elif value_type == "CODE":
                self._evaluation(child, child_where, name, group)
            elif value_type == "TEXT" and name == sr_codes.MERGED_INTO[:2]:
                group.merged_into = str(child.get("TextValue", "")).strip()
            elif value_type == "NUM":
                self._measurement(child, child_where, group)
            elif value_type == "SCOORD3D" and name == sr_codes.CENTRE[:2]:
                group.point_mm = self._scoord3d(child, child_where, "POINT")[0]
            elif value_type == "IMAGE":
                group.image = self._image(child, child_where)
        if _TOOL_TAG.match(group.lesion_id):
            group.lesion_id = group.label or ""
        if not group.lesion_id:
            if not group.tracking_uid:
                raise self.error(where, "measurement group without a Tracking Identifier (DCM 112039) or UID")
            group.lesion_id = group.tracking_uid
        return group

    def _order(self, item: Any, where: str) -> int:
        values = item.get("MeasuredValueSequence")
        try:
            number = float(values[0].NumericValue)
        except (AttributeError, IndexError, TypeError, ValueError):
            raise self.error(where, "Time Point Order without a numeric value") from None
        if not math.isfinite(number) or not number.is_integer() or not 0 <= number <= _MAX_TIME_POINT_ORDER:
            raise self.error(where, f"Time Point Order {number!r} is not a whole number from 0 to 1000000")
        return int(number)

    def _evaluation(self, item: Any, where: str, name: tuple[str, str] | None, group: _Group) -> None:
        value = _code_of(item, "ConceptCodeSequence")
        if name == sr_codes.STATE[:2]:
            if value is None:
                raise self.error(where, "RECIST lesion state without a value")
            group.state = (value, where)
            return
        spec = _EVALUATIONS.get(name) if name is not None else None
        if spec is None:
            return
        attribute, table, meaning = spec
        if value not in table:
            raise self.error(where, f"unknown {meaning} {_describe(item, 'ConceptCodeSequence')}")
        setattr(group, attribute, table[value])

    def _skip_reason(self, group: _Group) -> str | None:
        """Why a group is not a lesion measurement (None when it is one)."""
        if group.role is not None:
            return None
        if group.anatomical is not None:
            return f"its finding category is {group.anatomical}, an anatomical structure, not a lesion"
        if not group.axes:
            if group.other_measurements:
                names = ", ".join(group.other_measurements)
                return f"no lesion diameter (Long Axis, Short Axis, Length or Diameter); it measures {names}"
            return "no lesion diameter (Long Axis, Short Axis, Length or Diameter) and no role"
        return None

    def document(self) -> _Document:
        ds = self.ds
        sop_class = str(ds.get("SOPClassUID", ""))
        if sop_class not in _SR_CLASSES:
            raise ExchangeError(
                f"{self.path.name}: SOP class {sop_class or 'missing'} is not an SR document class"
            )
        root_items = ds.get("ContentSequence", [])
        measurements = [
            (k, item) for k, item in enumerate(root_items, start=1) if _code_of(item) == _IMAGING_MEASUREMENTS
        ]
        if not measurements:
            raise ExchangeError(
                f"{self.path.name}: no 'Imaging Measurements' container (DCM 126010): not TID 1500"
            )
        groups = []
        for k, container in measurements:
            for j, item in enumerate(container.get("ContentSequence", []), start=1):
                if item.get("ValueType") == "CONTAINER" and _code_of(item) in (_MEASUREMENT_GROUP, None):
                    group = self._group(item, f"content item {k}.{j}")
                    reason = self._skip_reason(group)
                    if reason is not None:
                        self.warnings.append(
                            f"{self.path.name}, {group.where} (group {group.lesion_id!r}): skipped: {reason}"
                        )
                        continue
                    if group.other_measurements:
                        self.warnings.append(
                            f"{self.path.name}, {group.where} (lesion {group.lesion_id!r}): ignored measurement(s) "
                            f"{', '.join(group.other_measurements)}: not a RECIST diameter"
                        )
                    groups.append(group)
        observer = ""
        for item in root_items:
            if _code_of(item) == _PERSON_OBSERVER and item.get("ValueType") == "PNAME":
                observer = str(item.get("PersonName", "")).rstrip("^")
                break
        context_subject = next(
            (str(item.get("TextValue", "")) for item in root_items
             if _code_of(item) == _SUBJECT_ID and item.get("ValueType") == "TEXT"), ""
        )  # fmt: skip
        subject = str(ds.get("ClinicalTrialSubjectID", "") or context_subject or ds.get("PatientID", ""))
        if not subject:
            raise ExchangeError(f"{self.path.name}: no Clinical Trial Subject ID or Patient ID")
        date_text = str(ds.get("StudyDate", ""))
        try:
            date = _dt.datetime.strptime(date_text, "%Y%m%d").date()
        except ValueError:
            raise ExchangeError(
                f"{self.path.name}: Study Date {date_text!r} is not a DICOM date (YYYYMMDD)"
            ) from None
        labels = {g.time_point for g in groups if g.time_point}
        if len(labels) > 1:
            raise ExchangeError(
                f"{self.path.name}: measurement groups name {len(labels)} time points: {sorted(labels)}"
            )
        description = str(ds.get("SeriesDescription", ""))
        label = labels.pop() if labels else (description.removeprefix("RECIST 1.1 ") or None)
        orders = {g.time_point_order for g in groups if g.time_point_order is not None}
        images = []
        for ref in self.sop_index.values():
            image = {
                "study_uid": ref["study_uid"],
                "series_uid": ref["series_uid"],
                "modality": ref["modality"],
            }
            image = {k: v for k, v in image.items() if v}
            if image not in images and "study_uid" in image and "series_uid" in image:
                images.append(image)
        try:
            instance = int(str(ds.get("InstanceNumber", "") or 0))
        except ValueError:
            instance = 0
        return _Document(
            self.path, subject, observer, date, label, min(orders) if orders else None, groups, images,
            instance=instance, warnings=self.warnings,
        )  # fmt: skip


_PARSE_ERRORS = (Exception,)
"""What reading a damaged file through pydicom can raise: its lazy parsing surfaces damage as
``OSError: No tag to read``, ``NotImplementedError: Unknown Value Representation``,
``BytesLengthException``, ``struct.error``, ``OverflowError`` and more (found by the fuzz test).
pydicom parses outside data here, so any exception while parsing means a damaged file, reported as one
ExchangeError naming it; recist's own errors (RecistError) pass through unchanged."""


def _read_one(path: Path, headers: Mapping[str, Any], skipped: list[str] | None = None) -> _Document | None:
    import pydicom

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExchangeError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ExchangeError(f"{path}: is a folder, not an SR file") from None
    except OSError as exc:
        raise ExchangeError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if skipped is not None and data[128:132] != b"DICM":
        skipped.append(f"{path}: skipped: not a DICOM file (no DICM preamble)")
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(io.BytesIO(data))
        except _PARSE_ERRORS as exc:
            raise ExchangeError(f"{path}: not a readable DICOM file ({type(exc).__name__}: {exc})") from None
        sop_class = str(getattr(ds, "file_meta", {}).get("MediaStorageSOPClassUID", "") or "")
        if skipped is not None and sop_class and sop_class not in _SR_CLASSES:
            skipped.append(f"{path}: skipped: not an SR document (SOP class {sop_class})")
            return None
        reason = check_complete(data)
        if reason is not None:
            raise ExchangeError(f"{path}: truncated or damaged DICOM file ({reason}); get a complete copy")
        try:
            for _ in ds.iterall():  # parse every element now: lazily parsed damage surfaces here
                pass
        except _PARSE_ERRORS as exc:
            raise ExchangeError(f"{path}: damaged DICOM file ({type(exc).__name__}: {exc})") from None
        try:
            return _Reader(path, ds, headers).document()
        except RecistError:
            raise
        except _PARSE_ERRORS as exc:
            raise ExchangeError(f"{path}: malformed SR content ({type(exc).__name__}: {exc})") from None


def read_sr_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    images: Mapping[str, Any] | None = None,
    skipped: list[str] | None = None,
) -> list[_Document]:
    """Parse SR files (ExchangeError naming the file and content item on the first problem).

    Parameters
    ----------
    paths
        The SR files.
    images
        Image headers by SOP Instance UID (``recist.export.dicom_sr.index_images(...).by_sop``): the
        geometry that converts 2D (pixel) SCOORD lines and lengths in pixels.
    skipped
        When given (a folder was imported), files that are not DICOM or not SR documents (images,
        DICOMDIR) are skipped with one line each appended here; otherwise they are errors. Damaged DICOM
        files are errors either way.
    """
    documents = [_read_one(Path(raw), images or {}, skipped) for raw in paths]
    return [doc for doc in documents if doc is not None]
