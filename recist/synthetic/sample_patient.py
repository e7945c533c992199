"""A synthetic neuroendocrine-tumour (NET) patient: contrast CT and 68Ga-DOTATATE PET at three timepoints.

The phantom is an abdomen built from ellipsoids, elliptic cylinders and capsules (body outline with fat
and muscle, liver, spleen, kidneys, stomach, gallbladder, bowel loops and colon with contents, aorta,
inferior vena cava, vertebrae with discs) carrying realistic Hounsfield units and SSTR-PET uptake. Six
lesions of KNOWN size sit in it: two liver metastases (one shrinking, one growing), a mesenteric mass, a
retroperitoneal node (targets), a mesenteric node (non-target, short axis 12 mm) and, at the last
follow-up, a new liver lesion. Each timepoint is written as a real DICOM study (CT and PET series with
realistic, fictional PHI-like fields for de-identification tests), label masks as NIfTI in the CT
geometry, the ground-truth case file and a ``truth.json`` with every number the generator used.

Design choices (see also ``docs/sample_data.md``):

- Everything is a function of the ``numpy.random.Generator`` passed in (noise, UIDs, fictional
  identity); dates, times, doses and weights are fixed. The same seed writes byte-identical files.
- Lesions are ellipsoids whose long (and, for nodes, short) axis endpoints lie exactly on voxel
  EDGES of both the "small" (3 mm) and "full" (0.75 mm) grids, in the axial slice through the lesion
  centre (a slice centre). The rasterised mask therefore spans exactly the true diameter edge to edge,
  so a reader measuring to the lesion border and :func:`recist.measure.diameters.measure_lesions`
  (half-way outline) find the ground truth; only the 45-degree lesion T1 comes out up to about one
  pixel shorter.
- The CT is portal-venous (liver ~105 HU, hypodense metastases); PET activity is
  ``SUV * dose decayed to scan start / body weight`` (Bq/ml, decay corrected to START), blurred by a
  6 mm FWHM point-spread function, so SUVmax of small lesions is lower than their true SUV (partial
  volume), as in real scans.
- Follow-ups re-use the baseline position: the anatomy has the same patient coordinates at every
  timepoint (a registered series), only lesions change.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from recist._atomic import atomic_write_json
from recist.errors import RecistValidationError
from recist.io.case_json import write_case
from recist.model.validate import parse_case
from recist.synthetic._sample_dicom import (
    GA68_HALF_LIFE_S,
    _da,
    _Identity,
    _identity,
    _uid,
    _Visit,
    _write_ct,
    _write_pet,
)
from recist.synthetic._sample_phantom import (
    _LESIONS,
    _SIZES,
    _TIMEPOINTS,
    _TISSUES,
    CT_NOISE_HU,
    LESION_CODE_OFFSET,
    PET_NOISE_FRACTION,
    PSF_FWHM_MM,
    Grid,
    _anatomy,
    _ct_hu,
    _lesion_shape,
    _LesionSpec,
    _Paint,
    _paint,
    _pet_suv,
    _render,
    tissue_table,
)

__all__ = [
    "DEFAULT_SEED",
    "SUBJECT_ID",
    "SampleLesion",
    "SampleTimepoint",
    "SamplePatient",
    "make_sample_patient",
    "tissue_table",
    "case_dict",
]

log = logging.getLogger(__name__)

DEFAULT_SEED = 20240110
SUBJECT_ID = "NET-001"
SizeName = Literal["small", "full"]

# --------------------------------------------------------------------------------------------------
# Masks
# --------------------------------------------------------------------------------------------------
def _write_nifti(path: Path, array: np.ndarray, grid: Grid) -> None:
    """Write a (z, y, x) label array as NIfTI in the CT geometry, atomically (temp file + rename)."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(array)
    dz, dy, dx = grid.spacing_mm
    image.SetSpacing((dx, dy, dz))
    image.SetOrigin(grid.origin_mm)
    image.SetDirection((1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))
    tmp = path.with_name(f".{path.name.removesuffix('.nii.gz')}.tmp.nii.gz")
    sitk.WriteImage(image, str(tmp), useCompression=True)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SampleLesion:
    """The ground truth of one lesion at one timepoint (lengths in mm, points in DICOM LPS mm)."""

    id: str
    label: int
    role: str
    site: str
    nodal: bool
    long_axis_mm: float
    short_axis_mm: float
    centre_mm: tuple[float, float, float]
    long_axis_line: tuple[tuple[float, float, float], tuple[float, float, float]]
    short_axis_line: tuple[tuple[float, float, float], tuple[float, float, float]]
    slice_index: int
    sop_uid: str
    hu: float
    suv_bw: float


@dataclass(frozen=True)
class SampleTimepoint:
    """What was written for one timepoint (paths are absolute)."""

    folder: str
    label: str
    date: dt.date
    ct_dir: Path
    pet_dir: Path
    lesion_mask: Path
    organ_mask: Path
    study_uid: str
    ct_series_uid: str
    pet_series_uid: str
    frame_of_reference_uid: str
    dose_bq: float
    weight_kg: float
    injection_datetime: dt.datetime
    scan_start_datetime: dt.datetime
    lesions: tuple[SampleLesion, ...]

    def lesion(self, lesion_id: str) -> SampleLesion:
        """The lesion ``lesion_id`` at this timepoint (KeyError if it is not present here)."""
        for lesion in self.lesions:
            if lesion.id == lesion_id:
                return lesion
        raise KeyError(f"lesion {lesion_id!r} is not present at timepoint {self.label!r}")


@dataclass(frozen=True)
class SamplePatient:
    """The manifest of a generated sample patient."""

    out_dir: Path
    size: str
    subject: str
    ct_spacing_mm: tuple[float, float, float]
    ct_shape: tuple[int, int, int]
    ct_origin_mm: tuple[float, float, float]
    pet_spacing_mm: tuple[float, float, float]
    pet_shape: tuple[int, int, int]
    pet_origin_mm: tuple[float, float, float]
    case_path: Path
    truth_path: Path
    timepoints: tuple[SampleTimepoint, ...]
    files: tuple[Path, ...] = field(repr=False)


def _round(point: Sequence[float]) -> tuple[float, float, float]:
    return tuple(round(float(v), 4) + 0.0 for v in point)  # + 0.0 turns -0.0 into 0.0


def _lesion_truth(spec: _LesionSpec, long_axis_mm: float, grid: Grid, sop_uids: list[str]) -> SampleLesion:
    a = long_axis_mm / 2
    b = a * spec.short_to_long
    c = np.asarray(spec.centre_mm)
    u = np.array([spec.axis[0], spec.axis[1], 0.0])
    v = np.array([-spec.axis[1], spec.axis[0], 0.0])
    zs = grid.axes_mm()[0]
    k = int(np.argmin(np.abs(zs - c[2])))
    return SampleLesion(
        id=spec.id, label=spec.label, role=spec.role, site=spec.site, nodal=spec.nodal,
        long_axis_mm=round(2 * a, 4), short_axis_mm=round(2 * b, 4), centre_mm=_round(c),
        long_axis_line=(_round(c - a * u), _round(c + a * u)), short_axis_line=(_round(c - b * v), _round(c + b * v)),
        slice_index=k, sop_uid=sop_uids[k], hu=spec.hu, suv_bw=spec.suv_bw,
    )


def make_sample_patient(
    out_dir: str | os.PathLike[str],
    *,
    seed: int | None = None,
    size: SizeName = "small",
    rng: np.random.Generator | None = None,
    progress: Callable[[str], None] | None = None,
) -> SamplePatient:
    """Generate the synthetic NET patient (CT + 68Ga-DOTATATE PET at baseline, week 12, week 24).

    Parameters
    ----------
    out_dir
        Folder to write into (created). Layout: ``{baseline,week12,week24}/{CT,PT}/*.dcm``,
        ``{timepoint}/lesions.nii.gz`` and ``organs.nii.gz`` (label masks in the CT geometry),
        ``case.json`` (the ground-truth case file) and ``truth.json`` (every number used).
    seed
        Seed of the random generator (default :data:`DEFAULT_SEED`); give either ``seed`` or ``rng``.
    size
        ``"small"``: CT 128 x 128 x 36 at 3 x 3 x 5 mm, PET 64 x 64 x 36 at 6 x 6 x 5 mm (about 5 MB);
        ``"full"``: CT 512 x 512 x 144 at 0.75 x 0.75 x 1.25 mm, PET 96 x 96 x 60 at 4 x 4 x 3 mm.
    rng
        The random generator to draw noise, UIDs and the fictional identity from.
    progress
        Called with a short message after each step (for a progress bar); optional.

    Returns
    -------
    SamplePatient
        Paths, UIDs and the ground-truth lesion sizes of every timepoint.

    Examples
    --------
    >>> import tempfile
    >>> patient = make_sample_patient(tempfile.mkdtemp(), seed=1)
    >>> patient.timepoints[0].lesion("T2").long_axis_mm
    21.0
    """
    if size not in _SIZES:
        raise RecistValidationError(f"unknown sample size {size!r}: use 'small' or 'full'", field="size")
    if seed is not None and rng is not None:
        raise RecistValidationError("give either seed or rng, not both", field="seed")
    if rng is None:
        rng = np.random.default_rng(DEFAULT_SEED if seed is None else seed)
    spec = _SIZES[size]
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    notify = progress or (lambda message: None)

    identity = _identity(rng)
    anatomy = _anatomy()
    organs_ct = _render(spec.ct, anatomy, [])
    files: list[Path] = []
    timepoints: list[SampleTimepoint] = []
    for index, (folder, label, date, injection, scan_start, dose_bq, weight_kg) in enumerate(_TIMEPOINTS):
        accession = f"A{int(rng.integers(10**8, 10**9))}"
        visit = _Visit(
            folder=folder, label=label, date=date, injection=injection, scan_start=scan_start,
            dose_bq=dose_bq, weight_kg=weight_kg, accession=accession,
            study_uid=_uid(identity, size, folder, "study"), frame_uid=_uid(identity, size, folder, "frame"),
            ct_series_uid=_uid(identity, size, folder, "CT series"),
            pet_series_uid=_uid(identity, size, folder, "PT series"),
        )
        present = [(s, s.long_axis_mm[index]) for s in _LESIONS if s.long_axis_mm[index] is not None]
        lesion_paints = [_Paint(_lesion_shape(s, d), LESION_CODE_OFFSET + s.label) for s, d in present]
        labels = organs_ct.copy()
        for item in lesion_paints:
            _paint(labels, spec.ct, item)
        tp_dir = out / folder
        ct_dir, pet_dir = tp_dir / "CT", tp_dir / "PT"
        ct_dir.mkdir(parents=True, exist_ok=True)
        pet_dir.mkdir(parents=True, exist_ok=True)

        sop_uids = _write_ct(ct_dir, _ct_hu(labels, rng), spec.ct, identity, visit, size)
        notify(f"{folder}: CT")
        suv = _pet_suv(spec.pet, spec.pet_supersample, anatomy, lesion_paints, rng)
        _write_pet(pet_dir, suv, spec.pet, identity, visit, size)
        notify(f"{folder}: PET")

        lesion_mask = np.where(labels >= LESION_CODE_OFFSET, labels - LESION_CODE_OFFSET, 0).astype(np.uint8)
        lesion_path, organ_path = tp_dir / "lesions.nii.gz", tp_dir / "organs.nii.gz"
        _write_nifti(lesion_path, lesion_mask, spec.ct)
        _write_nifti(organ_path, organs_ct, spec.ct)
        files += sorted(ct_dir.glob("*.dcm")) + sorted(pet_dir.glob("*.dcm")) + [lesion_path, organ_path]
        notify(f"{folder}: masks")
        timepoints.append(SampleTimepoint(
            folder=folder, label=label, date=date, ct_dir=ct_dir, pet_dir=pet_dir,
            lesion_mask=lesion_path, organ_mask=organ_path, study_uid=visit.study_uid,
            ct_series_uid=visit.ct_series_uid, pet_series_uid=visit.pet_series_uid,
            frame_of_reference_uid=visit.frame_uid, dose_bq=dose_bq, weight_kg=weight_kg,
            injection_datetime=dt.datetime.combine(date, injection),
            scan_start_datetime=dt.datetime.combine(date, scan_start),
            lesions=tuple(_lesion_truth(s, d, spec.ct, sop_uids) for s, d in present),
        ))

    patient = SamplePatient(
        out_dir=out, size=size, subject=SUBJECT_ID,
        ct_spacing_mm=spec.ct.spacing_mm, ct_shape=spec.ct.shape, ct_origin_mm=spec.ct.origin_mm,
        pet_spacing_mm=spec.pet.spacing_mm, pet_shape=spec.pet.shape, pet_origin_mm=spec.pet.origin_mm,
        case_path=out / "case.json", truth_path=out / "truth.json", timepoints=tuple(timepoints),
        files=tuple([*files, out / "case.json", out / "truth.json"]),
    )
    _write_case(patient)
    atomic_write_json(patient.truth_path, _truth(patient, identity))
    notify("case.json, truth.json")
    log.info("wrote the %s sample patient to %s (%d files)", size, out, len(patient.files))
    return patient


# --------------------------------------------------------------------------------------------------
# Case file and truth
# --------------------------------------------------------------------------------------------------
def _line(points: tuple[tuple[float, float, float], tuple[float, float, float]]) -> dict:
    return {"start_mm": list(points[0]), "end_mm": list(points[1])}


def case_dict(patient: SamplePatient) -> dict:
    """The ground-truth case (``recist.case/1`` with image references) of a generated patient, as a dict.

    Targets carry ``long_axis_mm`` (non-nodal) or ``short_axis_mm`` and ``long_axis_mm`` (nodes), the
    endpoints of each measured axis in LPS mm and the CT slice (SOP instance UID) they lie on.
    """
    first = patient.timepoints[0]
    lesions = [
        {"id": lesion.id, "role": lesion.role, "site": lesion.site, "nodal": lesion.nodal}
        for lesion in first.lesions
    ]
    timepoints = []
    for tp in patient.timepoints:
        ct_ref = {"study_uid": tp.study_uid, "series_uid": tp.ct_series_uid, "modality": "CT"}
        targets, non_targets, new_lesions = {}, {}, []
        for lesion in tp.lesions:
            image = {**ct_ref, "sop_uid": lesion.sop_uid}
            if lesion.role == "target":
                entry = {"long_axis_mm": lesion.long_axis_mm, "long_axis_line": _line(lesion.long_axis_line),
                         "image": image}
                if lesion.nodal:
                    entry |= {"short_axis_mm": lesion.short_axis_mm,
                              "short_axis_line": _line(lesion.short_axis_line)}
                targets[lesion.id] = entry
            elif lesion.role == "non_target":
                non_targets[lesion.id] = {"state": "present", "short_axis_mm": lesion.short_axis_mm,
                                          "point_mm": list(lesion.centre_mm), "image": image}
            else:
                new_lesions.append({"id": lesion.id, "site": lesion.site, "equivocal": False,
                                    "nodal": lesion.nodal, "long_axis_mm": lesion.long_axis_mm,
                                    "long_axis_line": _line(lesion.long_axis_line), "image": image})
        timepoints.append({
            "label": tp.label, "date": tp.date.isoformat(), "slice_thickness_mm": patient.ct_spacing_mm[0],
            "targets": targets, "non_targets": non_targets, "new_lesions": new_lesions,
            "images": [ct_ref, {"study_uid": tp.study_uid, "series_uid": tp.pet_series_uid, "modality": "PT"}],
        })
    return {
        "format": "recist.case/1",
        "subject": patient.subject,
        "protocol": {"confirmation": False, "confirmation_min_days": 28, "sd_min_days": 42},
        "lesions": lesions,
        "timepoints": timepoints,
    }


def _write_case(patient: SamplePatient) -> None:
    """Validate the ground-truth case through the case model and write it (atomic, stable order)."""
    write_case(parse_case(case_dict(patient), source="recist.io.sample"), patient.case_path)


def _truth(patient: SamplePatient, identity: _Identity) -> dict:
    def rel(path: Path) -> str:
        return path.relative_to(patient.out_dir).as_posix()

    return {
        "format": "recist.sample-truth/1",
        "size": patient.size,
        "subject": patient.subject,
        "phi": {
            "PatientName": identity.patient_name, "PatientID": identity.patient_id,
            "PatientBirthDate": _da(identity.birth_date), "PatientSex": identity.patient_sex,
            "InstitutionName": identity.institution, "InstitutionAddress": identity.institution_address,
            "ReferringPhysicianName": identity.referring_physician,
            "private_block": {"group": "0x0029", "creator": "RECIST SYNTHETIC PHI",
                              "elements": {"0x10": "PatientName", "0x11": "PatientID"}},
        },
        "ct": {"shape_zyx": list(patient.ct_shape), "spacing_mm_zyx": list(patient.ct_spacing_mm),
               "origin_mm_xyz": list(patient.ct_origin_mm), "noise_hu": CT_NOISE_HU},
        "pet": {"shape_zyx": list(patient.pet_shape), "spacing_mm_zyx": list(patient.pet_spacing_mm),
                "origin_mm_xyz": list(patient.pet_origin_mm), "psf_fwhm_mm": PSF_FWHM_MM,
                "noise_fraction": PET_NOISE_FRACTION, "half_life_s": GA68_HALF_LIFE_S},
        "tissues": [{"label": t.code, "name": t.name, "hu": t.hu, "suv_bw": t.suv_bw} for t in _TISSUES],
        "lesion_labels": {str(s.label): s.id for s in _LESIONS},
        "timepoints": [
            {
                "folder": tp.folder, "label": tp.label, "date": tp.date.isoformat(),
                "ct_dir": rel(tp.ct_dir), "pet_dir": rel(tp.pet_dir),
                "lesion_mask": rel(tp.lesion_mask), "organ_mask": rel(tp.organ_mask),
                "study_uid": tp.study_uid, "ct_series_uid": tp.ct_series_uid, "pet_series_uid": tp.pet_series_uid,
                "frame_of_reference_uid": tp.frame_of_reference_uid,
                "dose_bq": tp.dose_bq, "weight_kg": tp.weight_kg,
                "injection_datetime": tp.injection_datetime.isoformat(),
                "scan_start_datetime": tp.scan_start_datetime.isoformat(),
                "lesions": [
                    {"id": le.id, "label": le.label, "role": le.role, "site": le.site, "nodal": le.nodal,
                     "long_axis_mm": le.long_axis_mm, "short_axis_mm": le.short_axis_mm,
                     "centre_mm": list(le.centre_mm), "long_axis_line": _line(le.long_axis_line),
                     "short_axis_line": _line(le.short_axis_line), "slice_index": le.slice_index,
                     "sop_uid": le.sop_uid, "hu": le.hu, "suv_bw": le.suv_bw}
                    for le in tp.lesions
                ],
            }
            for tp in patient.timepoints
        ],
    }
