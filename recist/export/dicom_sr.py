"""DICOM Comprehensive 3D SR (TID 1500 Measurement Report) of a case: one document per timepoint per reader.

Each document is written in the study of the timepoint's images (it inherits patient and study from
them, through highdicom) and holds, per lesion, one TID 1501 measurement group:

- Tracking Identifier (the lesion id) and Tracking Unique Identifier (:func:`~recist.io.sr_codes.tracking_uid`
  of subject and lesion id: the same UID for the lesion at every timepoint);
- Finding "Lesion", Finding Site (SNOMED CT for common sites, else the local scheme with the site text),
  Measurement Method "RECIST 1.1" (DCM 126081), the Time Point Context (TID 1502: label and order);
- Long axis (SCT 103339001) and Short axis (SCT 103340004) in mm, each with its line as a SCOORD3D
  POLYLINE in patient coordinates (LPS mm) and its source image;
- qualitative evaluations: the lesion's RECIST role, whether it is a node, its state (too small,
  disappeared, split, merged, present, absent, unequivocal progression, not evaluated), new-lesion
  equivocality; a merged lesion names the lesion it merged into; a non-target's point is a SCOORD3D POINT;
  under iRECIST, a new lesion's role as new-lesion target or non-target (NLT/NLNT), its state, and
  "increased since the previous assessment".

The image library (TID 1600) lists the referenced images. :mod:`recist.io.sr_import` reads the documents
back into the same case. docs/exchange.md has the full mapping.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recist._atomic import atomic_write_bytes
from recist.errors import ExchangeError
from recist.io import sr_codes
from recist.model.case import Case, ImageRef, Lesion, Line, NonTargetEntry, TargetEntry

__all__ = ["ImageIndex", "index_images", "build_sr", "export_sr"]

log = logging.getLogger(__name__)

MANUFACTURER = "recist"
_YES_NO = {True: sr_codes.YES, False: sr_codes.NO}


@dataclass(frozen=True)
class ImageIndex:
    """DICOM image headers (no pixels) by SOP Instance UID, from the ``--images`` series.

    Attributes
    ----------
    by_sop
        Header dataset of each image.
    """

    by_sop: dict[str, Any]

    def study(self, study_uid: str) -> list[Any]:
        """The headers of ``study_uid``, in series then instance order."""
        found = [ds for ds in self.by_sop.values() if ds.StudyInstanceUID == study_uid]
        return sorted(
            found, key=lambda ds: (str(ds.SeriesInstanceUID), int(getattr(ds, "InstanceNumber", 0) or 0))
        )

    def dated(self, date: _dt.date) -> list[Any]:
        """The headers whose StudyDate is ``date``."""
        text = date.strftime("%Y%m%d")
        return [ds for ds in self.by_sop.values() if str(getattr(ds, "StudyDate", "")) == text]


def index_images(folders: Iterable[str | os.PathLike[str]]) -> ImageIndex:
    """Read the headers of every image file below ``folders`` (files that are not DICOM are skipped).

    Raises
    ------
    ExchangeError
        A folder that does not exist or holds no DICOM image.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    by_sop: dict[str, Any] = {}
    for folder in folders:
        root = Path(folder)
        if not root.exists():
            raise ExchangeError(f"{root}: no such image folder or file (--images)")
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        count = 0
        for path in files:
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except (InvalidDicomError, OSError, ValueError, EOFError):
                continue
            if "SOPInstanceUID" not in ds or "StudyInstanceUID" not in ds or "Rows" not in ds:
                continue
            by_sop[str(ds.SOPInstanceUID)] = ds
            count += 1
        if count == 0:
            raise ExchangeError(f"{root}: no DICOM image found (give the folders of the CT/MR series)")
    return ImageIndex(by_sop)


def _code(code: tuple[str, str, str]) -> Any:
    from highdicom.sr import CodedConcept

    value, scheme, meaning = code
    return CodedConcept(value=value, scheme_designator=scheme, meaning=meaning)


def _site_code(site: str) -> tuple[str, str, str]:
    if len(site) > 64:
        raise ExchangeError(f"site {site!r} is longer than the 64 characters of a DICOM code meaning")
    return sr_codes.site_code(site)


class _Document:
    """Builds the measurement groups of one timepoint."""

    def __init__(self, case: Case, index: int, headers: list[Any], images: ImageIndex) -> None:
        self.case = case
        self.index = index
        self.timepoint = case.timepoints[index]
        self.headers = headers
        self.images = images
        self.referenced: dict[str, Any] = {}
        self.groups: list[Any] = []

    def _frame_of_reference(self, image: ImageRef | None, lesion_id: str) -> str:
        header = self._header(image, lesion_id) if image is not None and image.sop_uid else None
        for ds in [header, *self.headers]:
            if ds is not None and "FrameOfReferenceUID" in ds:
                return str(ds.FrameOfReferenceUID)
        raise ExchangeError(
            f"timepoint {self.timepoint.label!r}, lesion {lesion_id!r}: the images have no FrameOfReferenceUID, "
            "so the lines cannot be written as patient coordinates"
        )

    def _header(self, image: ImageRef, lesion_id: str) -> Any:
        ds = self.images.by_sop.get(image.sop_uid or "")
        if ds is None:
            raise ExchangeError(
                f"timepoint {self.timepoint.label!r}, lesion {lesion_id!r}: image {image.sop_uid} is not among "
                "the --images series; give the series the case refers to"
            )
        self.referenced[image.sop_uid] = ds
        return ds

    def _source_image(self, image: ImageRef | None, lesion_id: str, cls: Any) -> list[Any]:
        if image is None or image.sop_uid is None:
            return []
        ds = self._header(image, lesion_id)
        return [cls(referenced_sop_class_uid=ds.SOPClassUID, referenced_sop_instance_uid=ds.SOPInstanceUID)]

    def _axis_measurements(self, item: Any, lesion_id: str) -> list:
        """Long- and short-axis measurements of a target entry or a new lesion (whichever axes it has)."""
        return [
            self._measurement(code, value, line, item.image, lesion_id)
            for code, value, line in (
                (sr_codes.LONG_AXIS, item.long_axis_mm, item.long_axis_line),
                (sr_codes.SHORT_AXIS, item.short_axis_mm, item.short_axis_line),
            )
            if value is not None
        ]

    def _measurement(self, name: tuple[str, str, str], value_mm: float, line: Line | None, image: ImageRef | None,
                     lesion_id: str) -> Any:  # fmt: skip
        import numpy as np
        from highdicom.sr import CoordinatesForMeasurement3D, Measurement, SourceImageForMeasurement

        coordinates = None
        if line is not None:
            points = np.array([line.start_mm, line.end_mm], dtype=np.float64)
            coordinates = [
                CoordinatesForMeasurement3D(
                    graphic_type="POLYLINE",
                    graphic_data=points,
                    frame_of_reference_uid=self._frame_of_reference(image, lesion_id),
                )
            ]
        return Measurement(
            name=_code(name),
            value=float(value_mm),
            unit=_code(sr_codes.MM),
            referenced_images=self._source_image(image, lesion_id, SourceImageForMeasurement) or None,
            referenced_coordinates=coordinates,
        )

    def _group(self, lesion_id: str, site: str, evaluations: list[tuple[Any, Any]], measurements: list[Any],
               image: ImageRef | None, extra: Sequence[Any] = ()) -> None:  # fmt: skip
        from highdicom.sr import (
            FindingSite,
            MeasurementsAndQualitativeEvaluations,
            QualitativeEvaluation,
            SourceImageForMeasurementGroup,
            TimePointContext,
            TrackingIdentifier,
        )

        group = MeasurementsAndQualitativeEvaluations(
            tracking_identifier=TrackingIdentifier(
                uid=sr_codes.tracking_uid(self.case.subject, lesion_id), identifier=lesion_id
            ),
            time_point_context=TimePointContext(
                time_point=self.timepoint.label, time_point_order=self.index + 1
            ),
            finding_type=_code(sr_codes.LESION),
            method=_code(sr_codes.RECIST_1_1),
            finding_sites=[FindingSite(anatomic_location=_code(_site_code(site)))],
            measurements=measurements or None,
            qualitative_evaluations=[QualitativeEvaluation(_code(n), _code(v)) for n, v in evaluations]
            or None,
            source_images=self._source_image(image, lesion_id, SourceImageForMeasurementGroup) or None,
        )
        group[0].ContentSequence.extend(extra)
        self.groups.append(group)

    def _target(self, lesion: Lesion, entry: TargetEntry) -> None:
        from highdicom.sr import RelationshipTypeValues, TextContentItem

        evaluations = [
            (sr_codes.ROLE, sr_codes.ROLE_VALUES["target"]),
            (sr_codes.NODAL, _YES_NO[lesion.nodal]),
            (sr_codes.METHOD, sr_codes.METHOD_VALUES[lesion.method.value]),
        ]
        if entry.state is not None:
            evaluations.append((sr_codes.STATE, sr_codes.TARGET_STATE_VALUES[entry.state.value]))
        measurements = self._axis_measurements(entry, lesion.id)
        axis = sr_codes.SHORT_AXIS if lesion.nodal else sr_codes.LONG_AXIS
        for fragment_mm in entry.fragments_mm or []:
            measurements.append(self._measurement(axis, fragment_mm, None, None, lesion.id))
        extra = []
        if entry.merged_into is not None:
            extra.append(
                TextContentItem(
                    name=_code(sr_codes.MERGED_INTO),
                    value=entry.merged_into,
                    relationship_type=RelationshipTypeValues.CONTAINS,
                )
            )
        self._group(lesion.id, lesion.site, evaluations, measurements, entry.image, extra)

    def _non_target(self, lesion: Lesion, nt: NonTargetEntry) -> None:
        import numpy as np
        from highdicom.sr import RelationshipTypeValues, Scoord3DContentItem

        evaluations = [
            (sr_codes.ROLE, sr_codes.ROLE_VALUES["non_target"]),
            (sr_codes.NODAL, _YES_NO[lesion.nodal]),
            (sr_codes.METHOD, sr_codes.METHOD_VALUES[lesion.method.value]),
            (sr_codes.STATE, sr_codes.NON_TARGET_STATE_VALUES[nt.state.value]),
        ]
        if nt.increased_since_previous:
            evaluations.append((sr_codes.INCREASED, sr_codes.YES))
        measurements = []
        if nt.short_axis_mm is not None:
            measurements.append(
                self._measurement(sr_codes.SHORT_AXIS, nt.short_axis_mm, None, nt.image, lesion.id)
            )
        extra = []
        if nt.point_mm is not None:
            extra.append(
                Scoord3DContentItem(
                    name=_code(sr_codes.CENTRE),
                    graphic_type="POINT",
                    graphic_data=np.array([nt.point_mm], dtype=np.float64),
                    frame_of_reference_uid=self._frame_of_reference(nt.image, lesion.id),
                    relationship_type=RelationshipTypeValues.CONTAINS,
                )
            )
        self._group(lesion.id, lesion.site, evaluations, measurements, nt.image, extra)

    def build(self) -> list[Any]:
        tp = self.timepoint
        for lesion in self.case.lesions:
            if lesion.id in tp.targets:
                self._target(lesion, tp.targets[lesion.id])
            elif lesion.id in tp.non_targets:
                self._non_target(lesion, tp.non_targets[lesion.id])
        for new in tp.new_lesions:
            evaluations = [
                (sr_codes.ROLE, sr_codes.ROLE_VALUES["new"]),
                (sr_codes.NODAL, _YES_NO[new.nodal]),
                (sr_codes.EQUIVOCAL, _YES_NO[new.equivocal]),
            ]
            if new.role is not None:  # iRECIST: marked new-lesion target (NLT) or non-target (NLNT)
                evaluations.append((sr_codes.NEW_LESION_ROLE, sr_codes.NEW_LESION_ROLE_VALUES[new.role.value]))
            if new.state is not None:
                evaluations.append((sr_codes.STATE, sr_codes.NON_TARGET_STATE_VALUES[new.state.value]))
            if new.increased_since_previous:
                evaluations.append((sr_codes.INCREASED, sr_codes.YES))
            measurements = self._axis_measurements(new, new.id)
            self._group(new.id, new.site, evaluations, measurements, new.image)
        return self.groups


def _study_headers(case: Case, index: int, images: ImageIndex) -> list[Any]:
    """The image headers of the study a timepoint was read on (by its image references, else its date)."""
    tp = case.timepoints[index]
    refs = list(tp.images)
    for entry in [*tp.targets.values(), *tp.non_targets.values(), *tp.new_lesions]:
        if entry.image is not None:
            refs.append(entry.image)
    studies = list(dict.fromkeys(ref.study_uid for ref in refs))
    if len(studies) > 1:
        raise ExchangeError(
            f"subject {case.subject!r}, timepoint {tp.label!r}: images of {len(studies)} studies are referenced; "
            "an SR document belongs to one study"
        )
    if studies:
        headers = images.study(studies[0])
        if not headers:
            raise ExchangeError(
                f"subject {case.subject!r}, timepoint {tp.label!r}: study {studies[0]} is not among the --images "
                "series; give the series of every timepoint"
            )
        series = {ref.series_uid for ref in refs}
        preferred = [ds for ds in headers if str(ds.SeriesInstanceUID) in series]
        return preferred or headers
    headers = images.dated(tp.date) if tp.date is not None else []
    if not headers:
        raise ExchangeError(
            f"subject {case.subject!r}, timepoint {tp.label!r}: no image reference and no --images series dated "
            f"{tp.date}; give the timepoint's image series"
        )
    if len({str(ds.StudyInstanceUID) for ds in headers}) > 1:
        raise ExchangeError(
            f"subject {case.subject!r}, timepoint {tp.label!r}: several --images studies are dated {tp.date}; "
            "add the study to the case's 'images'"
        )
    return headers


def _procedure(headers: list[Any]) -> Any:
    from pydicom.sr.codedict import codes

    modality = str(getattr(headers[0], "Modality", ""))
    if modality == "CT":
        return codes.LN.CTUnspecifiedBodyRegion
    if modality == "MR":
        return codes.LN.MRIUnspecifiedBodyRegion
    return _code(("363679005", "SCT", "Imaging"))


def build_sr(case: Case, index: int, images: ImageIndex, *, reader: str, series_number: int = 900) -> Any:
    """The Comprehensive 3D SR (TID 1500) of timepoint ``index`` of ``case``, as a pydicom dataset.

    Parameters
    ----------
    case
        The case (one subject, one reader).
    index
        Which timepoint (0 is the baseline).
    images
        Headers of the images the case refers to (:func:`index_images`).
    reader
        The observer (person name) recorded in the observation context.
    series_number
        Series Number of the SR series.

    Raises
    ------
    ExchangeError
        A timepoint whose study is not among the images, an image reference that is not there, images
        without a frame of reference for the lines.
    """
    from highdicom import UID
    from highdicom.sr import (
        Comprehensive3DSR,
        MeasurementReport,
        ObservationContext,
        ObserverContext,
        PersonObserverIdentifyingAttributes,
    )
    from pydicom.sr.codedict import codes

    headers = _study_headers(case, index, images)
    document = _Document(case, index, headers, images)
    groups = document.build()
    library = list(document.referenced.values()) or headers[:1]
    tp = case.timepoints[index]
    if tp.date is not None and str(getattr(headers[0], "StudyDate", "")) != tp.date.strftime("%Y%m%d"):
        log.warning(
            "subject %s, timepoint %s: case date %s differs from the study date %s of the images; "
            "the SR carries the study date",
            case.subject, tp.label, tp.date, getattr(headers[0], "StudyDate", ""),
        )  # fmt: skip
    report = MeasurementReport(
        observation_context=ObservationContext(
            observer_person_context=ObserverContext(
                observer_type=codes.DCM.Person,
                observer_identifying_attributes=PersonObserverIdentifyingAttributes(
                    name=_person_name(reader)
                ),
            )
        ),
        procedure_reported=_procedure(headers),
        imaging_measurements=groups or None,
        referenced_images=library,
    )
    try:
        sr = Comprehensive3DSR(
            evidence=[_with_type2(ds) for ds in library],
            content=report[0],
            series_instance_uid=UID(),
            series_number=series_number,
            sop_instance_uid=UID(),
            instance_number=index + 1,
            manufacturer=MANUFACTURER,
            is_complete=True,
            series_description=f"RECIST 1.1 {tp.label}"[:64],
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise ExchangeError(
            f"subject {case.subject!r}, timepoint {tp.label!r}: cannot build the SR: {exc}"
        ) from None
    _clinical_trial(sr, headers[0], case.subject)
    sr.CodingSchemeIdentificationSequence = [_local_scheme()]
    return sr


_TYPE2_PATIENT_STUDY = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
)


def _with_type2(header: Any) -> Any:
    """A copy of an image header with the type 2 patient/study attributes present (empty if absent).

    highdicom copies them into the SR; DICOM lets them be empty but not missing (PS3.3 C.7.1.1, C.7.2.1).
    """
    import copy

    ds = copy.copy(header)
    for keyword in _TYPE2_PATIENT_STUDY:
        if keyword not in ds:
            setattr(ds, keyword, "")
    return ds


def _person_name(reader: str) -> str:
    """A DICOM PN for a reader: a name without components becomes a family name ("RADIOLOGIST 1^")."""
    if not reader or len(reader) > 64 or "\\" in reader:
        raise ExchangeError(f"reader name {reader!r} must be 1-64 characters without backslashes")
    return reader if "^" in reader else f"{reader}^"


def _clinical_trial(sr: Any, header: Any, subject: str) -> None:
    """Clinical Trial Subject module: the case's subject id, the trial attributes of the images."""
    image_subject = str(getattr(header, "ClinicalTrialSubjectID", "") or "")
    if image_subject and image_subject != subject:
        log.warning(
            "the images name trial subject %s, the case %s: the SR carries the case's", image_subject, subject
        )
    sr.ClinicalTrialSponsorName = str(getattr(header, "ClinicalTrialSponsorName", "") or "UNSPECIFIED")
    sr.ClinicalTrialProtocolID = str(getattr(header, "ClinicalTrialProtocolID", "") or "UNSPECIFIED")
    sr.ClinicalTrialProtocolName = str(getattr(header, "ClinicalTrialProtocolName", "") or "")
    sr.ClinicalTrialSiteID = str(getattr(header, "ClinicalTrialSiteID", "") or "")
    sr.ClinicalTrialSiteName = str(getattr(header, "ClinicalTrialSiteName", "") or "")
    sr.ClinicalTrialSubjectID = subject


def _local_scheme() -> Any:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodingSchemeDesignator = sr_codes.LOCAL_SCHEME
    item.CodingSchemeName = "recist local codes for RECIST 1.1 lesion roles and states"
    item.CodingSchemeResponsibleOrganization = "recist project"
    return item


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "x"


def export_sr(
    case: Case, images: ImageIndex, out_dir: str | os.PathLike[str], *, reader: str = "READER"
) -> list[Path]:
    """Write one SR file per timepoint of ``case`` into ``out_dir``; return the paths.

    File names are ``<subject>_<reader>_<nn>_<label>.dcm`` (nn: timepoint number from 01).
    """
    out = Path(out_dir)
    written = []
    for index, tp in enumerate(case.timepoints):
        sr = build_sr(case, index, images, reader=reader)
        path = out / f"{_slug(case.subject)}_{_slug(reader)}_{index + 1:02d}_{_slug(tp.label)}.dcm"
        atomic_write_bytes(path, _encode(sr))
        written.append(path)
    return written


def _encode(dataset: Any) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
