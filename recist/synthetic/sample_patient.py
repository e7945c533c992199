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
import io
import logging
import math
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from recist._atomic import atomic_write_bytes, atomic_write_json
from recist.errors import RecistValidationError
from recist.io.case_json import write_case
from recist.model.validate import parse_case

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

#: Table position of the middle of the scanned range (DICOM LPS z, mm). A non-zero value makes sure
#: readers use ImagePositionPatient rather than assume the volume starts at z = 0.
Z_MID_MM = -160.0
GA68_HALF_LIFE_S = 4057.8  # 67.63 min (DDEP / NUBASE), as scanners write RadionuclideHalfLife
GA68_POSITRON_FRACTION = 0.8891
PSF_FWHM_MM = 6.0
CT_NOISE_HU = 8.0
PET_NOISE_FRACTION = 0.05
INT16_MAX = 32767


# --------------------------------------------------------------------------------------------------
# Grids
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grid:
    """An axial voxel grid with identity orientation (rows along +x, columns along +y, slices along +z).

    ``shape`` and ``spacing_mm`` are (z, y, x); ``origin_mm`` is the LPS position (x, y, z) of voxel
    (0, 0, 0). The field of view is centred on x = y = 0 (voxel centres at ``(i - (n - 1) / 2) * spacing``),
    so the voxel EDGES of both sample sizes (3 mm and 0.75 mm pixels) fall on every multiple of 3 mm.
    """

    shape: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    z_start_mm: float

    @property
    def origin_mm(self) -> tuple[float, float, float]:
        nz, ny, nx = self.shape
        dz, dy, dx = self.spacing_mm
        return (-(nx - 1) / 2 * dx, -(ny - 1) / 2 * dy, self.z_start_mm)

    def axes_mm(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Voxel-centre coordinates (z, y, x) in LPS mm, each a 1-D float64 array."""
        nz, ny, nx = self.shape
        dz, dy, dx = self.spacing_mm
        ox, oy, oz = self.origin_mm
        return oz + dz * np.arange(nz), oy + dy * np.arange(ny), ox + dx * np.arange(nx)

    def supersampled(self, factor: tuple[int, int, int]) -> Grid:
        """A finer grid whose blocks of ``factor`` voxels average to this grid's voxels."""
        fz, fy, fx = factor
        nz, ny, nx = self.shape
        dz, dy, dx = self.spacing_mm
        fine = Grid((nz * fz, ny * fy, nx * fx), (dz / fz, dy / fy, dx / fx), 0.0)
        # keep the same block extents: first fine centre half a fine voxel in from the coarse edge
        return _ShiftedGrid(fine.shape, fine.spacing_mm, self.z_start_mm - dz / 2 + dz / fz / 2,
                            (self.origin_mm[0] - dx / 2 + dx / fx / 2, self.origin_mm[1] - dy / 2 + dy / fy / 2))


@dataclass(frozen=True)
class _ShiftedGrid(Grid):
    """A grid whose x/y origin is given explicitly (used for supersampling only)."""

    xy_origin_mm: tuple[float, float] = (0.0, 0.0)

    @property
    def origin_mm(self) -> tuple[float, float, float]:
        return (self.xy_origin_mm[0], self.xy_origin_mm[1], self.z_start_mm)


@dataclass(frozen=True)
class _SizeSpec:
    ct: Grid
    pet: Grid
    pet_supersample: tuple[int, int, int]


_Z_START = Z_MID_MM - 90.0
_SIZES: dict[str, _SizeSpec] = {
    # 128 x 128 x 36 CT at 3 x 3 x 5 mm (384 mm field of view, 180 mm scan length), PET 64 x 64 at 6 mm
    "small": _SizeSpec(
        ct=Grid((36, 128, 128), (5.0, 3.0, 3.0), _Z_START),
        pet=Grid((36, 64, 64), (5.0, 6.0, 6.0), _Z_START),
        pet_supersample=(1, 3, 3),
    ),
    # 512 x 512 x 144 CT at 0.75 x 0.75 x 1.25 mm (same field of view and range), PET 96 x 96 at 4 x 3 mm
    "full": _SizeSpec(
        ct=Grid((144, 512, 512), (1.25, 0.75, 0.75), _Z_START),
        pet=Grid((60, 96, 96), (3.0, 4.0, 4.0), _Z_START),
        pet_supersample=(2, 3, 3),
    ),
}


# --------------------------------------------------------------------------------------------------
# Tissues and shapes
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tissue:
    """A tissue class of the phantom: its label value in ``organs.nii.gz``, CT number and PET uptake."""

    code: int
    name: str
    hu: float
    suv_bw: float


# SSTR-PET uptake after 68Ga-DOTATATE (typical SUVmean: spleen ~20, kidney ~15-20, liver ~7, blood ~1.5),
# portal-venous CT numbers (liver ~100 HU with contrast, ~60 without).
_TISSUES: tuple[Tissue, ...] = (
    Tissue(0, "air", -1000.0, 0.0),
    Tissue(1, "fat", -100.0, 0.3),
    Tissue(2, "muscle", 50.0, 0.7),
    Tissue(3, "liver", 105.0, 7.0),
    Tissue(4, "spleen", 110.0, 20.0),
    Tissue(5, "kidney", 150.0, 18.0),
    Tissue(6, "aorta", 160.0, 1.5),
    Tissue(7, "inferior vena cava", 130.0, 1.5),
    Tissue(8, "cancellous bone", 400.0, 1.5),
    Tissue(9, "cortical bone", 1000.0, 0.5),
    Tissue(10, "intervertebral disc", 90.0, 0.5),
    Tissue(11, "spinal canal", 15.0, 0.2),
    Tissue(12, "stomach wall", 60.0, 3.0),
    Tissue(13, "stomach fluid", 15.0, 1.0),
    Tissue(14, "bowel gas", -1000.0, 0.0),
    Tissue(15, "bowel wall", 40.0, 2.0),
    Tissue(16, "bowel fluid", 20.0, 1.0),
    Tissue(17, "oral contrast", 250.0, 1.0),
    Tissue(18, "colon content", -150.0, 1.0),
    Tissue(19, "gallbladder", 5.0, 0.5),
)
_BY_NAME = {t.name: t for t in _TISSUES}
LESION_CODE_OFFSET = 100  # lesion label L is painted as tissue code 100 + L in the phantom


def tissue_table() -> tuple[Tissue, ...]:
    """The tissue classes of the phantom (label value, name, HU, SUVbw), as written to ``truth.json``."""
    return _TISSUES


Mask = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class _Shape:
    """A solid with an axis-aligned bounding box and an inside test on broadcast (z, y, x) arrays."""

    lo: tuple[float, float, float]  # (x, y, z) mm
    hi: tuple[float, float, float]
    inside: Mask


def _ellipsoid(centre: Sequence[float], semi: Sequence[float], axis: tuple[float, float] = (1.0, 0.0)) -> _Shape:
    """Ellipsoid with semi-axes (a along the in-plane unit vector ``axis``, b across it, c along z)."""
    cx, cy, cz = centre
    a, b, c = semi
    ux, uy = axis
    r = max(a, b)

    def inside(z: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        u = (x - cx) * ux + (y - cy) * uy
        v = -(x - cx) * uy + (y - cy) * ux
        return (u / a) ** 2 + (v / b) ** 2 + ((z - cz) / c) ** 2 <= 1.0 + 1e-9

    return _Shape((cx - r, cy - r, cz - c), (cx + r, cy + r, cz + c), inside)


def _cylinder(cx: float, cy: float, a: float, b: float, z0: float, z1: float) -> _Shape:
    """Elliptic cylinder along z with semi-axes a (x) and b (y), from z0 to z1 (mm)."""

    def inside(z: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        return (((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 <= 1.0) & (z >= z0) & (z <= z1)

    return _Shape((cx - a, cy - b, z0), (cx + a, cy + b, z1), inside)


def _capsule(p0: Sequence[float], p1: Sequence[float], radius: float) -> _Shape:
    """All points within ``radius`` mm of the segment p0-p1 (a bowel loop)."""
    a = np.asarray(p0, float)
    d = np.asarray(p1, float) - a
    dd = float(d @ d)

    def inside(z: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        t = np.clip(((x - a[0]) * d[0] + (y - a[1]) * d[1] + (z - a[2]) * d[2]) / dd, 0.0, 1.0)
        return (x - a[0] - t * d[0]) ** 2 + (y - a[1] - t * d[1]) ** 2 + (z - a[2] - t * d[2]) ** 2 <= radius**2

    lo = np.minimum(p0, p1) - radius
    hi = np.maximum(p0, p1) + radius
    return _Shape(tuple(lo), tuple(hi), inside)


@dataclass(frozen=True)
class _Paint:
    shape: _Shape
    code: int
    within: _Shape | None = None  # clip to another solid (e.g. the abdominal cavity)
    anterior_of_y: float | None = None  # keep only y < this (gas rises anteriorly in a supine patient)


def _z(rel: float) -> float:
    return Z_MID_MM + rel


def _anatomy() -> list[_Paint]:
    """The static anatomy, painted in order (later items overwrite earlier ones)."""
    t = {name: tissue.code for name, tissue in _BY_NAME.items()}
    zlo, zhi = _z(-200), _z(200)
    cavity = _cylinder(0, 0, 140, 95, zlo, zhi)
    paints = [
        _Paint(_cylinder(0, 0, 165, 120, zlo, zhi), t["fat"]),  # body outline, subcutaneous fat
        _Paint(_cylinder(0, 0, 150, 105, zlo, zhi), t["muscle"]),  # abdominal wall
        _Paint(cavity, t["fat"]),  # visceral fat
    ]
    for side in (-1, 1):
        paints.append(_Paint(_cylinder(side * 35, 92, 22, 18, zlo, zhi), t["muscle"]))  # erector spinae
        paints.append(_Paint(_cylinder(side * 38, 55, 14, 14, zlo, _z(10)), t["muscle"]))  # psoas
    # lumbar spine: vertebral bodies (cortex + cancellous bone) with discs, posterior arch, canal
    paints.append(_Paint(_cylinder(0, 96, 22, 17, zlo, zhi), t["cortical bone"]))
    paints.append(_Paint(_cylinder(0, 108, 5, 9, zlo, zhi), t["cortical bone"]))  # spinous process
    for top in np.arange(-200.0, 200.0, 36.0):
        paints.append(_Paint(_cylinder(0, 60, 21, 21, _z(top), _z(top + 28)), t["cortical bone"]))
        paints.append(_Paint(_cylinder(0, 60, 17, 17, _z(top + 2), _z(top + 26)), t["cancellous bone"]))
        paints.append(_Paint(_cylinder(0, 60, 21, 21, _z(top + 28.01), _z(top + 35.99)), t["intervertebral disc"]))
    paints.append(_Paint(_cylinder(0, 93, 9, 9, zlo, zhi), t["spinal canal"]))
    # vessels
    paints.append(_Paint(_cylinder(18, 30, 12, 12, zlo, zhi), t["aorta"]))
    paints.append(_Paint(_cylinder(-22, 30, 12, 11, zlo, zhi), t["inferior vena cava"]))
    # solid organs
    paints.append(_Paint(_ellipsoid((-60, -5, _z(35)), (85, 85, 70)), t["liver"], within=_cylinder(0, 0, 137, 92, zlo, zhi)))
    paints.append(_Paint(_cylinder(-22, 30, 12, 11, zlo, zhi), t["inferior vena cava"]))  # intrahepatic IVC
    paints.append(_Paint(_ellipsoid((-75, -45, _z(5)), (15, 15, 30)), t["gallbladder"], within=cavity))
    paints.append(_Paint(_ellipsoid((95, 45, _z(45)), (30, 40, 45)), t["spleen"], within=_cylinder(0, 0, 137, 92, zlo, zhi)))
    for side in (-1, 1):
        paints.append(_Paint(_ellipsoid((side * 70, 55, _z(-25)), (25, 22, 50)), t["kidney"]))
    # stomach: wall, fluid, gas anteriorly
    paints.append(_Paint(_ellipsoid((50, -45, _z(45)), (40, 30, 35)), t["stomach wall"], within=cavity))
    inner = _ellipsoid((50, -45, _z(45)), (36, 26, 31))
    paints.append(_Paint(inner, t["stomach fluid"]))
    paints.append(_Paint(inner, t["bowel gas"], anterior_of_y=-58))
    # colon (ascending, transverse, descending) with stool and gas; small-bowel loops in the lower abdomen
    colon = [((-95, -10, _z(-95)), (-95, -10, _z(-5)), 22), ((-95, -55, _z(-40)), (105, -55, _z(-40)), 15),
             ((105, 20, _z(-95)), (105, 20, _z(20)), 16)]
    for p0, p1, r in colon:
        paints.append(_Paint(_capsule(p0, p1, r), t["bowel wall"], within=cavity))
        paints.append(_Paint(_capsule(p0, p1, r - 3), t["colon content"]))
        paints.append(_Paint(_capsule(p0, p1, r - 3), t["bowel gas"], anterior_of_y=p0[1] - r / 2))
    loops = [((-60, -60, _z(-78)), (60, -60, _z(-78)), "oral contrast"),
             ((-50, -25, _z(-75)), (40, -25, _z(-75)), "bowel fluid"),
             ((65, -30, _z(-95)), (65, -30, _z(-68)), "bowel fluid"),
             ((-40, -80, _z(-95)), (-40, -80, _z(-66)), "oral contrast"),
             ((20, -85, _z(-90)), (80, -70, _z(-90)), "bowel fluid")]
    for p0, p1, content in loops:
        paints.append(_Paint(_capsule(p0, p1, 11), t["bowel wall"], within=cavity))
        paints.append(_Paint(_capsule(p0, p1, 8), t[content]))
        paints.append(_Paint(_capsule(p0, p1, 8), t["bowel gas"], anterior_of_y=p0[1] - 5))
    return paints


# --------------------------------------------------------------------------------------------------
# Lesions
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _LesionSpec:
    id: str
    label: int  # value in lesions.nii.gz
    role: Literal["target", "non_target", "new"]
    site: str
    nodal: bool
    centre_mm: tuple[float, float, float]
    axis: tuple[float, float]  # in-plane unit vector of the long axis
    long_axis_mm: tuple[float | None, float | None, float | None]  # per timepoint (None: not present)
    short_to_long: float
    z_to_long: float
    hu: float
    suv_bw: float


_R2 = 1.0 / math.sqrt(2.0)
_TIMEPOINTS = (
    # folder, label, date, injection time, scan start, dose (Bq), weight (kg)
    ("baseline", "baseline", dt.date(2024, 1, 10), dt.time(8, 4, 30), dt.time(9, 5, 0), 151.3e6, 72.0),
    ("week12", "week 12", dt.date(2024, 4, 3), dt.time(8, 10, 0), dt.time(9, 12, 0), 148.9e6, 70.5),
    ("week24", "week 24", dt.date(2024, 6, 26), dt.time(8, 1, 0), dt.time(8, 59, 0), 154.2e6, 69.0),
)

_LESIONS: tuple[_LesionSpec, ...] = (
    # liver metastasis, long axis at 45 degrees, shrinking 33.9 -> 25.5 -> 17.0 mm
    _LesionSpec("T1", 1, "target", "liver", False, (-72.0, 0.0, _z(45)), (_R2, _R2),
                (24 * math.sqrt(2), 18 * math.sqrt(2), 12 * math.sqrt(2)), 0.7, 0.8, 60.0, 32.0),
    # liver metastasis, growing 21 -> 27 -> 33 mm
    _LesionSpec("T2", 2, "target", "liver", False, (-34.5, -42.0, _z(20)), (1.0, 0.0),
                (21.0, 27.0, 33.0), 0.8, 0.8, 65.0, 26.0),
    # mesenteric mass (the classic small-bowel NET finding), stable 42 mm
    _LesionSpec("T3", 3, "target", "mesentery", False, (12.0, -18.0, _z(-45)), (1.0, 0.0),
                (42.0, 42.0, 42.0), 30 / 42, 30 / 42, 55.0, 35.0),
    # left para-aortic node: long axis 30 mm along y, short axis 18 mm
    _LesionSpec("T4", 4, "target", "retroperitoneal lymph node", True, (42.0, 12.0, _z(-10)), (0.0, 1.0),
                (30.0, 30.0, 30.0), 0.6, 0.8, 45.0, 28.0),
    # mesenteric node, short axis 12 mm: pathological but not measurable, so a non-target lesion
    _LesionSpec("NT1", 5, "non_target", "mesenteric lymph node", True, (-30.0, -12.0, _z(-50)), (1.0, 0.0),
                (18.0, 18.0, 18.0), 12 / 18, 16 / 18, 45.0, 18.0),
    # new liver lesion at the last follow-up, 15 mm
    _LesionSpec("N1", 6, "new", "liver", False, (-106.5, -15.0, _z(60)), (1.0, 0.0),
                (None, None, 15.0), 0.8, 0.8, 60.0, 24.0),
)


def _lesion_shape(spec: _LesionSpec, long_axis_mm: float) -> _Shape:
    a = long_axis_mm / 2
    return _ellipsoid(spec.centre_mm, (a, a * spec.short_to_long, a * spec.z_to_long), spec.axis)


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------
def _index_range(coords: np.ndarray, lo: float, hi: float) -> slice:
    start = int(np.searchsorted(coords, lo - 1e-6, side="left"))
    stop = int(np.searchsorted(coords, hi + 1e-6, side="right"))
    return slice(start, stop)


def _paint(labels: np.ndarray, grid: Grid, item: _Paint) -> None:
    zs, ys, xs = grid.axes_mm()
    lo, hi = item.shape.lo, item.shape.hi
    sz, sy, sx = _index_range(zs, lo[2], hi[2]), _index_range(ys, lo[1], hi[1]), _index_range(xs, lo[0], hi[0])
    z, y, x = zs[sz][:, None, None], ys[sy][None, :, None], xs[sx][None, None, :]
    mask = item.shape.inside(z, y, x)
    if item.within is not None:
        mask &= item.within.inside(z, y, x)
    if item.anterior_of_y is not None:
        mask &= y < item.anterior_of_y
    labels[sz, sy, sx][mask] = item.code


def _render(grid: Grid, anatomy: list[_Paint], lesions: list[_Paint]) -> np.ndarray:
    labels = np.zeros(grid.shape, np.uint8)
    for item in [*anatomy, *lesions]:
        _paint(labels, grid, item)
    return labels


def _lookup(labels: np.ndarray, attribute: str) -> np.ndarray:
    table = np.zeros(256, np.float32)
    for tissue in _TISSUES:
        table[tissue.code] = getattr(tissue, attribute)
    for spec in _LESIONS:
        table[LESION_CODE_OFFSET + spec.label] = spec.hu if attribute == "hu" else spec.suv_bw
    return table[labels]


def _ct_hu(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """CT numbers with a slight in-plane blur (half a pixel) and Gaussian noise, rounded to integers."""
    from scipy.ndimage import gaussian_filter

    hu = gaussian_filter(_lookup(labels, "hu"), sigma=(0.0, 0.5, 0.5), mode="nearest")
    hu += rng.normal(0.0, CT_NOISE_HU, size=hu.shape).astype(np.float32)
    return np.clip(np.rint(hu), -1024, 3071).astype(np.int16)


def _pet_suv(grid: Grid, factor: tuple[int, int, int], anatomy: list[_Paint], lesions: list[_Paint],
             rng: np.random.Generator) -> np.ndarray:
    """SUVbw on the PET grid: supersampled (partial volume), 6 mm FWHM blur, multiplicative noise."""
    from scipy.ndimage import gaussian_filter

    fine = _lookup(_render(grid.supersampled(factor), anatomy, lesions), "suv_bw")
    nz, ny, nx = grid.shape
    fz, fy, fx = factor
    suv = fine.reshape(nz, fz, ny, fy, nx, fx).mean(axis=(1, 3, 5))
    sigma_vox = [PSF_FWHM_MM / (2 * math.sqrt(2 * math.log(2))) / s for s in grid.spacing_mm]
    suv = gaussian_filter(suv, sigma=sigma_vox, mode="constant")
    suv *= 1.0 + rng.normal(0.0, PET_NOISE_FRACTION, size=suv.shape).astype(np.float32)
    return np.clip(suv, 0.0, None)


# --------------------------------------------------------------------------------------------------
# DICOM
# --------------------------------------------------------------------------------------------------
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
