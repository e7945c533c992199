"""The synthetic sample patient's phantom: grids, tissues, shapes, lesions and their rendering to CT and PET.

Units: millimetres in DICOM patient coordinates (LPS), Hounsfield units for CT, SUVbw (g/ml) for PET
uptake. See :mod:`recist.synthetic.sample_patient` for the design choices (lesion axes on voxel edges,
partial volume from a 6 mm FWHM point-spread function, registered follow-ups).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

log = logging.getLogger("recist.synthetic.sample_patient")

#: Table position of the middle of the scanned range (DICOM LPS z, mm). A non-zero value makes sure
#: readers use ImagePositionPatient rather than assume the volume starts at z = 0.
Z_MID_MM = -160.0
PSF_FWHM_MM = 6.0
CT_NOISE_HU = 8.0
PET_NOISE_FRACTION = 0.05


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
