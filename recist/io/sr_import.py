"""Read DICOM SR Measurement Reports (TID 1500) back into cases.

Reads what :mod:`recist.export.dicom_sr` writes, exactly, and TID 1500 reports from other tools: any
measurement group (TID 1501 or the planar/volumetric ROI groups TID 1410/1411) with a tracking
identifier becomes a lesion, its Long axis / Short axis (or Length, Diameter) measurements the lesion's
axes in mm. A group without recist's role evaluation is taken as a target lesion (a tracked length
measurement is what other tools write for RECIST targets); a site naming a lymph node makes it nodal.

Documents are grouped by subject (Clinical Trial Subject ID, else Patient ID) and observer (Person
Observer Name), one case per group, one timepoint per document, in order of study date and then of the
Time Point Order. The timepoint's label is the Time Point of TID 1502 (else the Series Description or the
study date), its date the Study Date.

Coordinates: SCOORD3D values are 32-bit floats in DICOM; each is read back as the shortest decimal of its
float32, so line endpoints with up to 7 significant digits return exactly. Two-dimensional SCOORD lines
(pixel coordinates) are not converted (that needs the image geometry): the measured value is kept.

Every malformed document raises :class:`~recist.errors.ExchangeError` naming the file and the content
item (its position in the content tree, e.g. ``content item 1.5.3.8``).
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recist.errors import ExchangeError, RecistValidationError
from recist.io import sr_codes
from recist.model.case import Case, Protocol
from recist.model.validate import parse_case

__all__ = ["ImportedSR", "read_sr_files", "cases_from_sr"]

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
_FINDING_SITE = ("363698007", "SCT")
_TIME_POINT = ("C2348792", "UMLS")
_TIME_POINT_ORDER = ("126073", "DCM")
_PERSON_OBSERVER = ("121008", "DCM")
_AXES = {
    sr_codes.LONG_AXIS[:2]: "long_axis_mm",
    sr_codes.LENGTH[:2]: "long_axis_mm",
    sr_codes.DIAMETER[:2]: "long_axis_mm",
    sr_codes.SHORT_AXIS[:2]: "short_axis_mm",
}
_UNITS_TO_MM = {("mm", "UCUM"): 1.0, ("cm", "UCUM"): 10.0}


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
}
"""Qualitative evaluations of recist's encoding: concept name -> (group attribute, values, what it is)."""


@dataclass(frozen=True)
class ImportedSR:
    """One case rebuilt from SR documents: one subject as read by one observer."""

    case: Case
    observer: str
    files: tuple[Path, ...]


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
    merged_into: str | None = None
    axes: list[tuple[str, float, dict[str, Any] | None, dict[str, Any] | None, str]] = field(
        default_factory=list
    )
    point_mm: list[float] | None = None
    image: dict[str, Any] | None = None
    time_point: str | None = None
    time_point_order: int | None = None


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


def _code_of(item: Any, keyword: str = "ConceptNameCodeSequence") -> tuple[str, str] | None:
    seq = item.get(keyword)
    if not seq:
        return None
    code = seq[0]
    return (str(code.get("CodeValue", code.get("LongCodeValue", code.get("URNCodeValue", "")))),
            str(code.get("CodingSchemeDesignator", "")))  # fmt: skip


def _meaning(item: Any, keyword: str) -> str:
    seq = item.get(keyword)
    return str(seq[0].get("CodeMeaning", "")) if seq else ""


def _float32_text(value: float) -> float:
    import numpy as np

    return float(str(np.float32(value)))


class _Reader:
    def __init__(self, path: Path, ds: Any) -> None:
        self.path = path
        self.ds = ds
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

    def _image(self, item: Any, where: str) -> dict[str, Any]:
        refs = item.get("ReferencedSOPSequence")
        if not refs:
            raise self.error(where, "IMAGE content item without ReferencedSOPSequence")
        uid = str(refs[0].get("ReferencedSOPInstanceUID", ""))
        ref = self.sop_index.get(uid)
        if ref is None:
            raise self.error(where, f"image {uid} is not listed in the evidence sequences of the document")
        return {k: v for k, v in ref.items() if v}

    def _scoord3d(self, item: Any, where: str, graphic_type: str) -> list[list[float]]:
        if item.get("GraphicType") != graphic_type:
            raise self.error(where, f"expected a SCOORD3D {graphic_type}, got {item.get('GraphicType')!r}")
        data = [_float32_text(v) for v in item.get("GraphicData", [])]
        if len(data) % 3 or not data:
            raise self.error(where, "SCOORD3D GraphicData is not a list of (x, y, z) triplets")
        return [data[i : i + 3] for i in range(0, len(data), 3)]

    def _number(self, item: Any, where: str) -> tuple[float, str]:
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
        unit = _code_of(value_item, "MeasurementUnitsCodeSequence")
        if unit not in _UNITS_TO_MM:
            raise self.error(where, f"length unit {unit} is not UCUM mm or cm")
        return value * _UNITS_TO_MM[unit], where

    def _measurement(self, item: Any, where: str, group: _Group) -> None:
        name = _code_of(item)
        key = _AXES.get(name or ("", ""))
        if key is None:
            return
        value, _ = self._number(item, where)
        line = image = None
        for k, child in enumerate(item.get("ContentSequence", []), start=1):
            child_where = f"{where}.{k}"
            if child.get("ValueType") == "SCOORD3D" and child.get("GraphicType") == "POLYLINE":
                points = self._scoord3d(child, child_where, "POLYLINE")
                if len(points) == 2:
                    line = {"start_mm": points[0], "end_mm": points[1]}
            elif child.get("ValueType") == "IMAGE":
                image = self._image(child, child_where)
        group.axes.append((key, value, line, image, where))

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
                group.time_point_order = int(self._number_plain(child, child_where))
            elif value_type == "CODE" and name == _FINDING_SITE:
                code = _code_of(child, "ConceptCodeSequence")
                group.site = _SITES.get(code) if code in _SITES else _meaning(child, "ConceptCodeSequence")
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
        if not group.lesion_id:
            if not group.tracking_uid:
                raise self.error(where, "measurement group without a Tracking Identifier (DCM 112039) or UID")
            group.lesion_id = group.tracking_uid
        return group

    def _number_plain(self, item: Any, where: str) -> float:
        values = item.get("MeasuredValueSequence")
        try:
            return float(values[0].NumericValue)
        except (AttributeError, IndexError, TypeError, ValueError):
            raise self.error(where, "NUM content item without a numeric value") from None

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
            raise self.error(where, f"unknown {meaning} {value}")
        setattr(group, attribute, table[value])

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
                    groups.append(self._group(item, f"content item {k}.{j}"))
        observer = ""
        for item in root_items:
            if _code_of(item) == _PERSON_OBSERVER and item.get("ValueType") == "PNAME":
                observer = str(item.get("PersonName", "")).rstrip("^")
                break
        subject = str(ds.get("ClinicalTrialSubjectID", "") or ds.get("PatientID", ""))
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
            if image not in images:
                images.append(image)
        return _Document(
            self.path, subject, observer, date, label, min(orders) if orders else None, groups, images
        )


def read_sr_files(paths: Iterable[str | os.PathLike[str]]) -> list[_Document]:
    """Parse SR files (ExchangeError naming the file and content item on the first problem)."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    documents = []
    for raw in paths:
        path = Path(raw)
        try:
            ds = pydicom.dcmread(path)
        except FileNotFoundError:
            raise ExchangeError(f"{path}: no such file") from None
        except (InvalidDicomError, OSError, EOFError, ValueError) as exc:
            raise ExchangeError(f"{path.name}: not a readable DICOM file ({exc})") from None
        try:
            documents.append(_Reader(path, ds).document())
        except ExchangeError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise ExchangeError(f"{path.name}: malformed SR content ({type(exc).__name__}: {exc})") from None
    return documents


def _entry(doc: _Document, group: _Group, kind: str) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    fragments = []
    for key, value, line, image, where in group.axes:
        if group.state is not None and _TARGET_STATES.get(group.state[0]) == "split":
            fragments.append(value)
            continue
        if key in entry:
            raise ExchangeError(
                f"{doc.path.name}, {where}: a second {key.removesuffix('_mm').replace('_', ' ')}"
            )
        entry[key] = value
        if line is not None and kind != "non_target":
            entry[key.replace("_mm", "_line")] = line
        if image is not None and group.image is None:
            group.image = image
    if fragments:
        entry["fragments_mm"] = fragments
    if group.image is not None:
        entry["image"] = group.image
    return entry


def _state(doc: _Document, group: _Group, table: dict[tuple[str, str], str]) -> str:
    assert group.state is not None
    code, where = group.state
    if code not in table:
        raise ExchangeError(
            f"{doc.path.name}, {where}: lesion state {code} does not apply to this kind of lesion"
        )
    return table[code]


def _timepoint(doc: _Document, lesions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    targets: dict[str, Any] = {}
    non_targets: dict[str, Any] = {}
    new_lesions: list[dict[str, Any]] = []
    for group in doc.groups:
        site = group.site or "unspecified"
        nodal = group.nodal if group.nodal is not None else "node" in site.lower()
        role = group.role or "target"
        if role == "new":
            new = {"id": group.lesion_id, "site": site, "nodal": nodal, "equivocal": bool(group.equivocal)}
            new.update(_entry(doc, group, "new"))
            new_lesions.append(new)
            continue
        lesion = {"id": group.lesion_id, "role": role, "site": site, "nodal": nodal}
        lesions.setdefault(group.lesion_id, lesion | ({"method": group.method} if group.method else {}))
        if role == "target":
            entry = _entry(doc, group, "target")
            if group.state is not None:
                entry["state"] = _state(doc, group, _TARGET_STATES)
            if group.merged_into is not None:
                entry["merged_into"] = group.merged_into
            targets[group.lesion_id] = entry
        else:
            entry = _entry(doc, group, "non_target")
            entry["state"] = _state(doc, group, _NON_TARGET_STATES) if group.state is not None else "present"
            if group.point_mm is not None:
                entry["point_mm"] = group.point_mm
            non_targets[group.lesion_id] = entry
    return {
        "label": doc.label or doc.date.isoformat(),
        "date": doc.date.isoformat(),
        "targets": targets,
        "non_targets": non_targets,
        "new_lesions": new_lesions,
        "images": doc.images,
    }


def cases_from_sr(documents: Sequence[_Document], *, protocol: Protocol | None = None) -> list[ImportedSR]:
    """Assemble parsed SR documents into one case per subject per observer.

    Raises
    ------
    ExchangeError
        Two documents for the same subject, observer and date; documents that do not make a valid case
        (the message names the files).
    """
    by_key: dict[tuple[str, str], list[_Document]] = {}
    for doc in documents:
        by_key.setdefault((doc.subject, doc.observer), []).append(doc)
    results = []
    for (subject, observer), docs in by_key.items():
        docs.sort(key=lambda d: (d.date, d.order if d.order is not None else 0))
        lesions: dict[str, dict[str, Any]] = {}
        timepoints = [_timepoint(doc, lesions) for doc in docs]
        data: dict[str, Any] = {
            "format": "recist.case/1",
            "subject": subject,
            "lesions": list(lesions.values()),
            "timepoints": timepoints,
        }
        if protocol is not None:
            data["protocol"] = protocol.model_dump(mode="json")
        names = ", ".join(d.path.name for d in docs)
        try:
            case = parse_case(data, source=f"SR of subject {subject}")
        except RecistValidationError as exc:
            raise ExchangeError(f"the SR documents {names} do not make a valid case: {exc}") from None
        results.append(ImportedSR(case=case, observer=observer, files=tuple(d.path for d in docs)))
    return results
