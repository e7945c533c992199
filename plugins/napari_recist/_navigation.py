"""Slice navigation as on a reading workstation: one image per wheel notch or arrow key, the slider on the
CT's own slices, and a status bar with the slice's DICOM InstanceNumber and the HU / SUV under the cursor.

napari steps its slider by the smallest scale of all layers; the Shapes layers of lines have scale 1, so
the slider moved 1 mm, between the CT's slices. :class:`SliceNavigator` keeps the slider's step equal to
the slice spacing of the timepoint's CT and its start on that CT's slices (re-applied whenever napari
recomputes the range), so every position of the slider is an image. The mouse wheel moves one image per
notch (Ctrl + wheel zooms; napari's default is the reverse), the Up / Down arrows move one image, as
napari's Left / Right arrows then do.

No clinical logic here: positions and values are read from the layers.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable

import numpy as np

from napari_recist._world import SeriesRef

__all__ = ["SliceNavigator", "slice_grid", "status_text"]

#: Zoom factor of one Ctrl + wheel notch.
ZOOM_PER_NOTCH = 1.15


def slice_grid(layer) -> tuple[float, float, int]:
    """The world z of an image layer's first slice, the spacing between slices (mm, > 0) and the number of
    slices, ``(z_first, spacing, n)``; z_first is the lowest slice position."""
    affine = np.asarray(layer.affine.affine_matrix, dtype=float)
    n = int(layer.data.shape[0])
    z0, dz = float(affine[0, 3]), float(affine[0, 0])
    if dz < 0:
        z0, dz = z0 + dz * (n - 1), -dz
    return z0, (dz if dz > 0 else 1.0), n


class SliceNavigator:
    """Keeps a viewer model's slider on the slices of ``grid_layer()`` and binds wheel and arrow keys.

    Parameters
    ----------
    viewer
        A napari ``Viewer`` or ``ViewerModel`` (the comparison canvas has one too).
    grid_layer
        Returns the image layer whose slices the slider steps through (the timepoint's CT), or None.
    """

    def __init__(self, viewer, grid_layer: Callable[[], object | None]) -> None:
        self._viewer = weakref.ref(viewer)  # the session holds the navigator; the viewer must not be kept
        self.grid_layer = grid_layer
        self._fixing = False
        self._wheel_progress = 0.0
        viewer.dims.events.range.connect(self.update)
        callbacks = viewer.mouse_wheel_callbacks
        for callback in [c for c in callbacks if getattr(c, "__name__", "") == "dims_scroll"]:
            callbacks.remove(callback)  # napari's Ctrl + wheel slice scrolling: the wheel alone does it here
        callbacks.append(self._on_wheel)
        if hasattr(viewer, "bind_key"):
            viewer.bind_key("Up", lambda _v: self.step(1), overwrite=True)
            viewer.bind_key("Down", lambda _v: self.step(-1), overwrite=True)

    @property
    def viewer(self):
        """The viewer model (None once it is gone)."""
        return self._viewer()

    def close(self) -> None:
        """Stop following the viewer (the comparison canvas closes before its model)."""
        self.viewer.dims.events.range.disconnect(self.update)
        if self._on_wheel in self.viewer.mouse_wheel_callbacks:
            self.viewer.mouse_wheel_callbacks.remove(self._on_wheel)

    def update(self, _event=None) -> None:
        """Put the slider's step on the grid layer's slices (called when napari recomputes the range)."""
        if self._fixing or self.viewer is None or self.viewer.dims.ndim < 3:
            return
        layer = self.grid_layer()
        if layer is None:
            return
        z0, dz, n = slice_grid(layer)
        start, stop, _step = self.viewer.dims.range[0]
        z_last = z0 + dz * (n - 1)
        new_start = z0 - math.ceil(round((z0 - min(start, z0)) / dz, 6)) * dz
        new_stop = z_last + math.ceil(round((max(stop, z_last) - z_last) / dz, 6)) * dz
        wanted = (new_start, new_stop, dz)
        if np.allclose(tuple(self.viewer.dims.range[0]), wanted):
            return
        self._fixing = True
        try:
            ranges = list(self.viewer.dims.range)
            ranges[0] = wanted
            self.viewer.dims.range = ranges
            self.snap()
        finally:
            self._fixing = False

    def snap(self) -> None:
        """Move the slice position onto the nearest slice of the grid layer."""
        layer = self.grid_layer()
        if layer is None or self.viewer is None or self.viewer.dims.ndim < 3:
            return
        z0, dz, n = slice_grid(layer)
        z = float(self.viewer.dims.point[0])
        k = min(max(round((z - z0) / dz), 0), n - 1)
        if not math.isclose(z, z0 + k * dz, abs_tol=1e-6):
            self.viewer.dims.set_point(0, z0 + k * dz)

    def step(self, images: int) -> None:
        """Move ``images`` slices (positive: towards higher world z, the patient's head)."""
        if self.viewer is None or self.viewer.dims.ndim < 3 or 0 in self.viewer.dims.displayed:
            return
        self.update()
        dims = self.viewer.dims
        dims.set_current_step(0, dims.current_step[0] + images)

    def _on_wheel(self, viewer, event) -> None:
        """One image per wheel notch (napari's direction: away from the reader = back one image); fine
        wheels and touchpads add up to a notch. Ctrl + wheel zooms."""
        delta = float(event.delta[1])
        if not delta or (event.modifiers and "Control" not in event.modifiers):
            return
        if "Control" in event.modifiers:
            camera = getattr(getattr(viewer, "scene", None), "camera", None) or viewer.camera
            camera.zoom = camera.zoom * ZOOM_PER_NOTCH ** delta
        else:
            inverted = bool(getattr(getattr(event, "native", None), "inverted", lambda: False)())
            self._wheel_progress += delta * (1 if inverted else -1)
            images = int(self._wheel_progress)  # towards zero: whole notches only
            self._wheel_progress -= images
            if images:
                self.step(images)
        event.handled = True  # not also napari's camera zoom


def status_text(timepoint: str | None, layers, world_point) -> str | None:
    """The status bar text at a world point: per image layer of the timepoint (CT first) the slice as
    image k of n with its DICOM InstanceNumber, and the value under the cursor (HU for CT, SUVbw for a PET in
    SUV, stored units otherwise); None when no image layer is given."""
    parts = []
    for layer in layers:
        meta = layer.metadata["recist"]
        ref = SeriesRef.from_metadata(meta["series"])
        index = np.asarray(layer.world_to_data(world_point), dtype=float)
        k = int(round(float(index[0])))
        n = int(layer.data.shape[0])
        if not 0 <= k < n:
            parts.append(f"{ref.modality}: outside the series")
            continue
        number = ref.instance_numbers[k] if k < len(ref.instance_numbers) else None
        text = f"{ref.modality} image {k + 1}/{n}" + (f" (InstanceNumber {number})" if number is not None else "")
        inside = all(0 <= round(float(i)) < s for i, s in zip(index[1:], layer.data.shape[1:]))
        if inside:
            value = float(layer.data[k, int(round(float(index[1]))), int(round(float(index[2])))])
            if ref.modality.upper() == "CT":
                text += f"  {value:.0f} HU"
            elif meta.get("unit") == "SUVbw":
                text += f"  SUVbw {value:.2f}"
            else:
                text += f"  {value:.4g} (stored units, not SUV)"
        parts.append(text)
    if not parts:
        return None
    return (f"{timepoint}: " if timepoint else "") + "   |   ".join(parts)
