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

A read that its accountable people have signed (the final read of a central review,
:mod:`recist.export.review_sr`) is written with ``verified_by``: VerificationFlag ``VERIFIED``, one
Verifying Observer Sequence item per signer (printed name, organisation, the date and time of the
signature: PS3.3 C.17.2.1) and PreliminaryFlag ``FINAL``. Every document is CompletionFlag ``COMPLETE``.
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
from recist.export.sr_header import (
    VerifyingObserver,
    check_subject_and_date,
    clinical_trial,
    local_scheme,
    person_name,
    subject_context,
    verifying_observer_item,
    with_type2,
)
from recist.io import sr_codes
from recist.model.case import Case, ImageRef, Lesion, Line, NonTargetEntry, TargetEntry

__all__ = ["ImageIndex", "VerifyingObserver", "index_images", "build_sr", "export_sr"]

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
        """One axis: its NUM with the line as a 2D SCOORD on its image (what viewers draw) and as SCOORD3D.

        The 2D SCOORD (pixel column/row of the source image, SELECTED FROM it) is written when the line lies
        in that image's plane; it is what OHIF/dcmjs read (one SCOORD per measurement, the image named by
        the SCOORD). The SCOORD3D keeps the exact patient coordinates that :mod:`recist.io.sr_import` reads.
        Without a line, the NUM names its source image directly.
        """
        import numpy as np
        from highdicom.sr import (
            CoordinatesForMeasurement,
            CoordinatesForMeasurement3D,
            Measurement,
            SourceImageForMeasurement,
            SourceImageForRegion,
        )

        coordinates: list[Any] = []
        pixels = None
        if line is not None:
            header = self._header(image, lesion_id) if image is not None and image.sop_uid else None
            pixels = _pixel_line(header, line) if header is not None else None
            if pixels is not None:
                coordinates.append(
                    CoordinatesForMeasurement(
                        graphic_type="POLYLINE",
                        graphic_data=np.array(pixels, dtype=np.float64),
                        source_image=SourceImageForRegion(
                            referenced_sop_class_uid=header.SOPClassUID,
                            referenced_sop_instance_uid=header.SOPInstanceUID,
                        ),
                    )
                )
            points = np.array([line.start_mm, line.end_mm], dtype=np.float64)
            coordinates.append(
                CoordinatesForMeasurement3D(
                    graphic_type="POLYLINE",
                    graphic_data=points,
                    frame_of_reference_uid=self._frame_of_reference(image, lesion_id),
                )
            )
        images = None if pixels is not None else self._source_image(image, lesion_id, SourceImageForMeasurement)
        return Measurement(
            name=_code(name),
            value=float(value_mm),
            unit=_code(sr_codes.MM),
            referenced_images=images or None,
            referenced_coordinates=coordinates or None,
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
            # no Time Point Order NUM: OHIF/dcmjs take the group's first NUM for the measurement
            # (issue 16 §2); the order is the SR's Instance Number and the study date
            time_point_context=TimePointContext(time_point=self.timepoint.label),
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


_PLANE_TOLERANCE_MM = 0.01
"""How far from an image's plane a line endpoint may lie and still be drawn on that image (float32 rounding)."""


def _pixel_line(header: Any, line: Line) -> list[list[float]] | None:
    """The line's endpoints as SCOORD (column, row) of ``header``'s image, or None when off its plane.

    DICOM image coordinates put the centre of the top-left pixel at (0.5, 0.5) (PS3.3 C.18.6.1.2); the
    image plane is Image Position/Orientation (Patient) with Pixel Spacing (row spacing, column spacing).
    """
    import numpy as np

    try:
        origin = np.array([float(v) for v in header.ImagePositionPatient])
        cosines = np.array([float(v) for v in header.ImageOrientationPatient])
        row_spacing, col_spacing = (float(v) for v in header.PixelSpacing)
    except (AttributeError, TypeError, ValueError):
        return None
    if origin.shape != (3,) or cosines.shape != (6,) or min(row_spacing, col_spacing) <= 0:
        return None
    x_dir, y_dir = cosines[:3], cosines[3:]
    normal = np.cross(x_dir, y_dir)
    pixels = []
    for point in (line.start_mm, line.end_mm):
        d = np.array(point, dtype=np.float64) - origin
        if abs(float(d @ normal)) > _PLANE_TOLERANCE_MM:
            return None
        pixels.append([float(d @ x_dir) / col_spacing + 0.5, float(d @ y_dir) / row_spacing + 0.5])
    return pixels


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


def _referenced(case: Case, index: int) -> bool:
    """Whether timepoint ``index`` names its images (else its study is found by date)."""
    tp = case.timepoints[index]
    return bool(tp.images) or any(
        e.image is not None for e in [*tp.targets.values(), *tp.non_targets.values(), *tp.new_lesions]
    )


def build_sr(case: Case, index: int, images: ImageIndex, *, reader: str, series_number: int = 900,
             patient_id: str | None = None, verified_by: Sequence[VerifyingObserver] = ()) -> Any:  # fmt: skip
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
    patient_id
        The Patient ID the case's images are known to carry (from the timepoints that name their images),
        which lets a timepoint found by date only be written to a patient whose ID is not the subject's.
    verified_by
        The people who signed the read, in order: the document is then VERIFIED (one Verifying Observer
        item each, dated by their signature) and FINAL; without them it is UNVERIFIED and PRELIMINARY.

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
    check_subject_and_date(case, tp, headers[0], linked=_referenced(case, index), patient_id=patient_id)
    observers = [verifying_observer_item(v) for v in verified_by]
    report = MeasurementReport(
        observation_context=ObservationContext(
            observer_person_context=ObserverContext(
                observer_type=codes.DCM.Person,
                observer_identifying_attributes=PersonObserverIdentifyingAttributes(
                    name=person_name(reader)
                ),
            )
        ),
        procedure_reported=_procedure(headers),
        imaging_measurements=groups or None,
        referenced_images=library,
    )
    try:
        sr = Comprehensive3DSR(
            evidence=[with_type2(ds) for ds in library],
            content=report[0],
            series_instance_uid=UID(),
            series_number=series_number,
            sop_instance_uid=UID(),
            instance_number=index + 1,
            manufacturer=MANUFACTURER,
            is_complete=True,
            is_final=bool(verified_by),
            is_verified=bool(verified_by),
            verifying_observer_name=person_name(verified_by[0].name) if verified_by else None,
            verifying_organization=verified_by[0].organization if verified_by else None,
            series_description=f"RECIST 1.1 {tp.label}"[:64],
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise ExchangeError(
            f"subject {case.subject!r}, timepoint {tp.label!r}: cannot build the SR: {exc}"
        ) from None
    if observers:  # one item per signer, each dated by its signature (highdicom writes one, dated now)
        sr.VerifyingObserverSequence = observers
    clinical_trial(sr, headers[0], case.subject)
    subject_context(sr, headers[0], case.subject)
    sr.CodingSchemeIdentificationSequence = [local_scheme()]
    return sr


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "x"


def export_sr(
    case: Case, images: ImageIndex, out_dir: str | os.PathLike[str], *, reader: str = "READER",
    verified_by: Sequence[VerifyingObserver] = (),
) -> list[Path]:
    """Write one SR file per timepoint of ``case`` into ``out_dir``; return the paths.

    File names are ``<subject>_<reader>_<nn>_<label>.dcm`` (nn: timepoint number from 01). ``verified_by``
    (the signers of the read) makes every document VERIFIED (see :func:`build_sr`).
    """
    out = Path(out_dir)
    patients = set()
    for index in range(len(case.timepoints)):
        if _referenced(case, index):
            patients.add(str(getattr(_study_headers(case, index, images)[0], "PatientID", "") or ""))
    if len(patients) > 1:
        raise ExchangeError(
            f"subject {case.subject!r}: the timepoints name studies of {len(patients)} patients "
            f"({', '.join(sorted(repr(p) for p in patients))}); one case is one patient"
        )
    patient_id = patients.pop() if patients else None
    documents = [  # every document is built before one is written: a refused timepoint leaves no file behind
        (out / f"{_slug(case.subject)}_{_slug(reader)}_{index + 1:02d}_{_slug(tp.label)}.dcm",
         _encode(build_sr(case, index, images, reader=reader, patient_id=patient_id, verified_by=verified_by)))
        for index, tp in enumerate(case.timepoints)
    ]
    for path, data in documents:
        atomic_write_bytes(path, data)
    return [path for path, _ in documents]


def _encode(dataset: Any) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
