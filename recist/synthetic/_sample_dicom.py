"""DICOM writing for the synthetic sample patient: fictional identities, visits, CT and PET series.

The identity fields (names, institutions, physicians, ids) are fictional but PHI-like on purpose, so that
de-identification can be tested on them. Every UID is derived from the seeded identity (a name-based
UUID under a fixed namespace, PS3.5 B.2), so the same seed writes byte-identical files. The PET series
is decay corrected to START in Bq/ml with the radiopharmaceutical module filled as a scanner writes it
(PS3.3 C.8.9.1, C.8.9.2); stored values are int16 with one RescaleSlope per slice.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from recist._atomic import atomic_write_bytes

if TYPE_CHECKING:
    from recist.synthetic._sample_phantom import Grid

GA68_HALF_LIFE_S = 4057.8  # 67.63 min (DDEP / NUBASE), as scanners write RadionuclideHalfLife
GA68_POSITRON_FRACTION = 0.8891
INT16_MAX = 32767


_NAMES = (("MUSTERMANN^ERIKA^M", "F"), ("DOE^JANE^A", "F"), ("ROE^RICHARD^J", "M"), ("SMITH^JOHN^P", "M"),
          ("PUBLIC^JOHN^Q", "M"), ("NORDMANN^KARI", "F"))
_INSTITUTIONS = (("Example University Hospital", "1 Example Road, Sampletown"),
                 ("St. Nowhere Medical Centre", "22 Fictional Lane, Imaginary City"))
_PHYSICIANS = ("WATSON^JOHN^H^DR", "QUINN^MICHAELA^^DR", "KILDARE^JAMES^^DR", "ZHIVAGO^YURI^^DR")


@dataclass(frozen=True)
class _Identity:
    patient_name: str
    patient_sex: str
    patient_id: str
    birth_date: dt.date
    institution: str
    institution_address: str
    referring_physician: str
    uid_entropy: str


def _identity(rng: np.random.Generator) -> _Identity:
    name, sex = _NAMES[int(rng.integers(len(_NAMES)))]
    institution, address = _INSTITUTIONS[int(rng.integers(len(_INSTITUTIONS)))]
    birth = dt.date(1958, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 15)))
    return _Identity(
        patient_name=name,
        patient_sex=sex,
        patient_id=f"{int(rng.integers(10**7, 10**8))}",
        birth_date=birth,
        institution=institution,
        institution_address=address,
        referring_physician=_PHYSICIANS[int(rng.integers(len(_PHYSICIANS)))],
        uid_entropy=f"{int(rng.integers(2**62)):x}{int(rng.integers(2**62)):x}",
    )


_UID_NAMESPACE = uuid.UUID("6f1c4a52-52b1-5c55-9d0c-7265636973ff")


def _uid(identity: _Identity, size: str, *parts: object) -> str:
    """A deterministic UID under the ``2.25`` root: a name-based (SHA-1) UUID as a decimal integer.

    DICOM PS3.5 B.2 and ISO/IEC 9834-8 allow any UUID under ``2.25``. (``pydicom.uid.generate_uid`` with
    ``prefix=None`` ignores its entropy sources and returns a random UUID, so it cannot be used here.)
    """
    name = "/".join(["recist.sample", identity.uid_entropy, size, *map(str, parts)])
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, name).int}"


def _ds_number(value: float) -> str:
    """A decimal string (VR DS, at most 16 characters) for ``value``."""
    from pydicom.valuerep import format_number_as_ds

    return format_number_as_ds(float(value))


def _da(date: dt.date) -> str:
    return date.strftime("%Y%m%d")


def _tm(time: dt.time) -> str:
    return time.strftime("%H%M%S")


def _age(birth: dt.date, on: dt.date) -> str:
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return f"{years:03d}Y"


def _code(value: str, scheme: str, meaning: str):
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


@dataclass(frozen=True)
class _Visit:
    folder: str
    label: str
    date: dt.date
    injection: dt.time
    scan_start: dt.time
    dose_bq: float
    weight_kg: float
    accession: str
    study_uid: str
    frame_uid: str
    ct_series_uid: str
    pet_series_uid: str

    @property
    def uptake_s(self) -> float:
        start = dt.datetime.combine(self.date, self.scan_start)
        return (start - dt.datetime.combine(self.date, self.injection)).total_seconds()

    @property
    def ct_time(self) -> dt.time:
        t = dt.datetime.combine(self.date, self.scan_start) - dt.timedelta(minutes=7)
        return t.time()

    @property
    def study_time(self) -> dt.time:
        return (dt.datetime.combine(self.date, self.scan_start) - dt.timedelta(minutes=10)).time()


def _common(ds, identity: _Identity, visit: _Visit) -> None:
    """Patient, study, equipment and frame-of-reference attributes shared by the CT and PET series."""
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = identity.patient_name
    ds.PatientID = identity.patient_id
    ds.IssuerOfPatientID = identity.institution
    ds.PatientBirthDate = _da(identity.birth_date)
    ds.PatientSex = identity.patient_sex
    ds.PatientAge = _age(identity.birth_date, visit.date)
    ds.PatientWeight = _ds_number(visit.weight_kg)
    ds.PatientSize = "1.68"
    ds.StudyInstanceUID = visit.study_uid
    ds.StudyDate = _da(visit.date)
    ds.StudyTime = _tm(visit.study_time)
    ds.StudyID = visit.accession[-6:]
    ds.AccessionNumber = visit.accession
    ds.StudyDescription = "PET-CT Ga-68 DOTATATE with contrast"
    ds.ReferringPhysicianName = identity.referring_physician
    ds.InstitutionName = identity.institution
    ds.InstitutionAddress = identity.institution_address
    ds.StationName = "PETCT01"
    ds.Manufacturer = "recist synthetic phantom"
    ds.ManufacturerModelName = "recist.io.sample"
    ds.DeviceSerialNumber = "0000"
    ds.SoftwareVersions = "1"
    ds.OperatorsName = "TECH^ALEX"
    ds.FrameOfReferenceUID = visit.frame_uid
    ds.PositionReferenceIndicator = ""
    ds.BodyPartExamined = "ABDOMEN"
    ds.ContentDate = ds.InstanceCreationDate = ds.SeriesDate = ds.AcquisitionDate = _da(visit.date)
    # private block as some scanners write: a copy of identifying data that de-identification must remove
    block = ds.private_block(0x0029, "RECIST SYNTHETIC PHI", create=True)
    block.add_new(0x10, "LO", identity.patient_name.replace("^", " "))
    block.add_new(0x11, "LO", identity.patient_id)


def _slice_geometry(ds, grid: Grid, k: int) -> None:
    dz, dy, dx = grid.spacing_mm
    ox, oy, oz = grid.origin_mm
    z = oz + k * dz
    ds.ImagePositionPatient = [_ds_number(ox), _ds_number(oy), _ds_number(z)]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.PixelSpacing = [_ds_number(dy), _ds_number(dx)]  # row spacing (y), column spacing (x)
    ds.SliceThickness = _ds_number(dz)
    ds.SpacingBetweenSlices = _ds_number(dz)
    ds.SliceLocation = _ds_number(z)
    ds.Rows, ds.Columns = grid.shape[1], grid.shape[2]
    ds.InstanceNumber = k + 1


def _encode(ds, sop_class: str) -> bytes:
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _instance(identity: _Identity, visit: _Visit, size: str, grid: Grid, k: int, *, sop_class: str,
              modality: str, series: tuple[str, int, str], time: dt.time):
    """A new image instance (slice ``k``) with the attributes every series of the sample shares."""
    from pydicom.dataset import Dataset

    ds = Dataset()
    _common(ds, identity, visit)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = _uid(identity, size, visit.folder, modality, k)
    ds.Modality = modality
    ds.SeriesInstanceUID, ds.SeriesNumber, ds.SeriesDescription = series
    ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = ds.InstanceCreationTime = _tm(time)
    ds.AcquisitionNumber = 1
    _slice_geometry(ds, grid, k)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.LossyImageCompression = "00"
    return ds


def _write_ct(folder: Path, hu: np.ndarray, grid: Grid, identity: _Identity, visit: _Visit, size: str) -> list[str]:
    from pydicom.uid import CTImageStorage

    sop_uids = []
    for k in range(grid.shape[0]):
        ds = _instance(identity, visit, size, grid, k, sop_class=CTImageStorage, modality="CT",
                       series=(visit.ct_series_uid, 2, f"ABD PORTAL VENOUS {grid.spacing_mm[0]:g}mm"),
                       time=visit.ct_time)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.PatientPosition = "HFS"  # PET states it with PatientOrientationCodeSequence instead
        ds.KVP = "120"
        ds.XRayTubeCurrent = 180
        ds.ConvolutionKernel = "STANDARD"
        ds.ContrastBolusAgent = "Iohexol 350 mg I/ml"
        ds.ContrastBolusRoute = "IV"
        ds.ContrastBolusVolume = "90"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
        ds.WindowCenter, ds.WindowWidth = "40", "400"
        ds.PixelData = (hu[k].astype(np.int32) + 1024).astype("<u2").tobytes()
        sop_uids.append(ds.SOPInstanceUID)
        atomic_write_bytes(folder / f"CT{k + 1:04d}.dcm", _encode(ds, CTImageStorage))
    return sop_uids


def _write_pet(folder: Path, suv: np.ndarray, grid: Grid, identity: _Identity, visit: _Visit, size: str) -> None:
    """PET in Bq/ml decay corrected to the scan start: activity = SUVbw * dose * 2^(-t/T½) / weight_g."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.uid import PositronEmissionTomographyImageStorage as PETStorage

    decayed_dose_bq = visit.dose_bq * 2.0 ** (-visit.uptake_s / GA68_HALF_LIFE_S)
    activity = suv.astype(np.float64) * decayed_dose_bq / (visit.weight_kg * 1000.0)
    frame_ms = 180_000
    lam_t = math.log(2) / GA68_HALF_LIFE_S * frame_ms / 1000
    injection_dt = dt.datetime.combine(visit.date, visit.injection)

    for k in range(grid.shape[0]):
        ds = _instance(identity, visit, size, grid, k, sop_class=PETStorage, modality="PT",
                       series=(visit.pet_series_uid, 3, "PET AC Ga68 DOTATATE"), time=visit.scan_start)
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.Units = "BQML"
        ds.CountsSource = "EMISSION"
        ds.SeriesType = ["STATIC", "IMAGE"]
        ds.DecayCorrection = "START"
        ds.CorrectedImage = ["DECY", "ATTN", "SCAT", "DTIM", "RAN", "NORM"]
        ds.RandomsCorrectionMethod = "DLYD"
        ds.AttenuationCorrectionMethod = "CT-based"
        ds.ReconstructionMethod = "OSEM 3i21s"
        ds.CollimatorType = "NONE"
        ds.NumberOfSlices = grid.shape[0]
        ds.ImageIndex = k + 1
        ds.FrameReferenceTime = "0"
        ds.ActualFrameDuration = frame_ms
        ds.DecayFactor = _ds_number(lam_t / (1 - math.exp(-lam_t)))
        ds.PatientGantryRelationshipCodeSequence = DicomSequence([_code("102540008", "SCT", "headfirst")])
        orientation = _code("102538003", "SCT", "recumbent")
        orientation.PatientOrientationModifierCodeSequence = DicomSequence([_code("40199007", "SCT", "supine")])
        ds.PatientOrientationCodeSequence = DicomSequence([orientation])
        drug = Dataset()
        drug.Radiopharmaceutical = "Ga-68 DOTATATE"
        drug.RadiopharmaceuticalRoute = "Intravenous"
        drug.RadiopharmaceuticalStartTime = _tm(visit.injection)
        drug.RadiopharmaceuticalStartDateTime = injection_dt.strftime("%Y%m%d%H%M%S")
        drug.RadionuclideTotalDose = _ds_number(visit.dose_bq)
        drug.RadionuclideHalfLife = _ds_number(GA68_HALF_LIFE_S)
        drug.RadionuclidePositronFraction = _ds_number(GA68_POSITRON_FRACTION)
        drug.RadionuclideCodeSequence = DicomSequence([_code("35337001", "SCT", "^68^Gallium")])
        drug.RadiopharmaceuticalCodeSequence = DicomSequence([_code("724025002", "SCT", "Dotatate Ga^68^")])
        ds.RadiopharmaceuticalInformationSequence = DicomSequence([drug])
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        peak = float(activity[k].max())
        slope = _ds_number(peak / INT16_MAX if peak > 0 else 1.0)
        ds.RescaleIntercept, ds.RescaleSlope = "0", slope
        stored = np.clip(np.rint(activity[k] / float(slope)), 0, INT16_MAX).astype("<i2")
        ds.PixelData = stored.tobytes()
        atomic_write_bytes(folder / f"PT{k + 1:04d}.dcm", _encode(ds, PETStorage))
