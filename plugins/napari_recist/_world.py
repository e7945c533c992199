"""World coordinates of the plugin: napari world axes are patient LPS millimetres, reversed.

Convention (docs/plugin.md): napari world axes are ``(z_lps, y_lps, x_lps)`` in mm. An image layer's
``affine`` is the series' :attr:`recist.io.dicom.Volume.affine` (index ``(z, y, x)`` -> LPS ``(x, y, z)``)
with its output rows reversed, so a voxel lands at its patient position whatever the origin, spacing and
orientation. A Shapes line drawn in world coordinates converts to LPS by reversing each point's
coordinates. For an axial series the screen shows the patient's right on the left and anterior at the
top (the radiological convention), since LPS x grows to the patient's left and y to posterior.

No Qt here: these are plain functions, tested in tests/plugin/.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import ArrayLike, NDArray

from recist.model.case import ImageRef

__all__ = ["SeriesRef", "world_affine", "world_to_lps", "lps_to_world", "tilt_deg", "REVERSE"]

#: Swaps LPS (x, y, z, 1) and world (z, y, x, 1) homogeneous coordinates (its own inverse).
REVERSE = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=float)


def world_affine(volume_affine: ArrayLike) -> NDArray[np.float64]:
    """The napari layer affine (index (z, y, x) -> world (z_lps, y_lps, x_lps)) of a series affine."""
    affine = np.asarray(volume_affine, dtype=float)
    if affine.shape != (4, 4):
        raise ValueError(f"a series affine is 4x4, got shape {affine.shape}")
    return REVERSE @ affine


def tilt_deg(volume_affine: ArrayLike) -> float:
    """Angle in degrees between a series' slice normal (its z index axis) and the LPS z axis.

    0 for axial series, whatever their in-plane rotation. napari's 2-D view shows the affine restricted
    to the two displayed axes, so a rotation within the slice is shown exactly, while a tilt (gantry tilt,
    oblique reformat) is dropped from the view (napari warns "Non-orthogonal slicing ... displayed without
    applying an out-of-slice rotation or shear"): the plugin then warns the reader (docs/plugin.md).
    """
    column = np.asarray(volume_affine, dtype=float)[:3, 0]
    cosine = abs(column[2]) / np.linalg.norm(column)
    return float(np.degrees(np.arccos(np.clip(cosine, 0.0, 1.0))))


def world_to_lps(points_world: ArrayLike) -> NDArray[np.float64]:
    """World points (..., 3) in (z, y, x) LPS order to LPS (x, y, z) mm."""
    return np.asarray(points_world, dtype=float)[..., ::-1].copy()


def lps_to_world(points_lps: ArrayLike) -> NDArray[np.float64]:
    """LPS (x, y, z) mm points (..., 3) to world (z, y, x) order."""
    return np.asarray(points_lps, dtype=float)[..., ::-1].copy()


@dataclass(frozen=True)
class SeriesRef:
    """What the plugin keeps of a loaded series to reference it in a case file.

    Attributes
    ----------
    affine
        4x4, index (z, y, x, 1) -> LPS (x, y, z, 1) mm (:attr:`recist.io.dicom.Volume.affine`).
    sop_uids
        SOPInstanceUID of each z slice, in array order.
    shape
        Array shape (z, y, x).
    instance_numbers
        DICOM InstanceNumber of each z slice (None where absent); empty when not known.
    """

    study_uid: str
    series_uid: str
    modality: str
    study_date: date | None
    affine: tuple[tuple[float, ...], ...]
    sop_uids: tuple[str, ...]
    shape: tuple[int, int, int]
    instance_numbers: tuple[int | None, ...] = ()

    @classmethod
    def from_volume(cls, volume) -> SeriesRef:
        """Take the references and geometry of a :class:`recist.io.dicom.Volume`."""
        numbers = tuple(_instance_number(header) for header in getattr(volume, "headers", ()) or ())
        return cls(
            study_uid=volume.study_uid, series_uid=volume.series_uid, modality=str(volume.modality),
            study_date=volume.study_date, affine=tuple(map(tuple, np.asarray(volume.affine).tolist())),
            sop_uids=tuple(volume.sop_instance_uids), shape=tuple(int(n) for n in volume.array.shape),
            instance_numbers=numbers,
        )

    @property
    def slice_normal(self) -> NDArray[np.float64]:
        """Unit LPS vector of the array's z index axis (the normal of its image planes)."""
        column = np.asarray(self.affine)[:3, 0]
        return column / np.linalg.norm(column)

    def index_of(self, point_lps: ArrayLike) -> NDArray[np.float64]:
        """Fractional (z, y, x) index of an LPS point."""
        affine = np.asarray(self.affine)
        return np.linalg.solve(affine[:3, :3], np.asarray(point_lps, dtype=float) - affine[:3, 3])

    def slice_of(self, point_lps: ArrayLike) -> int:
        """The index of the slice nearest to an LPS point (may be outside ``0 .. n-1``)."""
        return int(round(float(self.index_of(point_lps)[0])))

    def snap_to_slice(self, point_lps: ArrayLike) -> NDArray[np.float64]:
        """An LPS point moved along the slice normal onto the nearest image plane of the series (the
        first or last one when the point is beyond them): a line is stored on the slice it was drawn on."""
        index = self.index_of(point_lps)
        index[0] = min(max(round(float(index[0])), 0), self.shape[0] - 1)
        affine = np.asarray(self.affine)
        return affine[:3, :3] @ index + affine[:3, 3]

    def image_ref(self, point_lps: ArrayLike | None = None) -> ImageRef:
        """The ImageRef of the slice holding ``point_lps`` (the series alone when no point or no slice)."""
        sop = None
        if point_lps is not None and self.sop_uids:
            k = self.slice_of(point_lps)
            if 0 <= k < len(self.sop_uids):
                sop = self.sop_uids[k]
        return ImageRef(study_uid=self.study_uid, series_uid=self.series_uid, sop_uid=sop,
                        modality=self.modality or None)

    def to_metadata(self) -> dict:
        """A plain dict for a napari layer's ``metadata``."""
        return {"study_uid": self.study_uid, "series_uid": self.series_uid, "modality": self.modality,
                "study_date": self.study_date.isoformat() if self.study_date else None,
                "affine": [list(row) for row in self.affine], "sop_uids": list(self.sop_uids),
                "shape": list(self.shape), "instance_numbers": list(self.instance_numbers)}

    @classmethod
    def from_metadata(cls, data: dict) -> SeriesRef:
        """Inverse of :meth:`to_metadata`."""
        when = data.get("study_date")
        return cls(study_uid=data["study_uid"], series_uid=data["series_uid"], modality=data["modality"],
                   study_date=date.fromisoformat(when) if when else None,
                   affine=tuple(tuple(float(v) for v in row) for row in data["affine"]),
                   sop_uids=tuple(data["sop_uids"]), shape=tuple(data["shape"]),
                   instance_numbers=tuple(data.get("instance_numbers", ())))


def _instance_number(header) -> int | None:
    value = getattr(header, "InstanceNumber", None) if header is not None else None
    try:
        return int(value) if value is not None and str(value).strip() != "" else None
    except (TypeError, ValueError):
        return None
