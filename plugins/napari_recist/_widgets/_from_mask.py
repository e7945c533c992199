"""'From mask' as a preview: the grown region and its axes are shown, the reader accepts or rejects them.

The growing, the measurement and the refusals are :func:`recist.measure.grow.measure_grown` (no
plugin logic). This module only shows the result: a Labels layer of the region (on the CT's grid) and a
Shapes layer of its long (cyan) and short (yellow) axes, on the slice of largest extent (where the axes
are), and removes them when the reader decides. Nothing is recorded until the reader accepts
(Enter or the Accept button); Escape or Reject records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from napari_recist._layers import LINE_COLOURS
from napari_recist._world import lps_to_world
from recist.measure.grow import GrownLesion

__all__ = ["Preview", "show_preview"]


@dataclass
class Preview:
    """A grown lesion waiting for the reader's decision, and the layers that show it."""

    grown: GrownLesion
    timepoint: str
    lesion_id: str
    role: str
    nodal: bool
    layers: tuple

    def remove(self, viewer) -> None:
        """Take the preview layers off the viewer."""
        for layer in self.layers:
            if layer in viewer.layers:
                viewer.layers.remove(layer)


def show_preview(viewer, session, grown: GrownLesion, ct_layer, *, lesion_id: str, role: str, nodal: bool) -> Preview:
    """Show ``grown`` over ``ct_layer`` (region and axes) at its slice of largest extent; keep the
    timepoint's lines layer active so that napari's layer keys do not change."""
    active = viewer.layers.selection.active
    region = viewer.add_labels(grown.mask.astype(np.uint8), affine=ct_layer.affine.affine_matrix, opacity=0.35,
                               name=f"{lesion_id} from mask (preview)",
                               metadata={"recist": {"kind": "preview"}})
    axes = grown.axes
    lines = [lps_to_world(np.array(axes.long_axis_endpoints_lps_mm))]
    colours = [LINE_COLOURS["long"]]
    names = [f"{lesion_id} long {axes.long_axis_mm:.1f} mm"]
    if nodal:
        lines.append(lps_to_world(np.array(axes.short_axis_endpoints_lps_mm)))
        colours.append(LINE_COLOURS["short"])
        names.append(f"{lesion_id} short {axes.short_axis_mm:.1f} mm")
    shapes = viewer.add_shapes(lines, shape_type="line", edge_color=colours, edge_width=1.5,
                               features={"label": names}, text={"string": "{label}", "color": "white", "size": 10},
                               name=f"{lesion_id} from mask axes (preview)", metadata={"recist": {"kind": "preview"}})
    if active is not None and active in viewer.layers:
        viewer.layers.selection.active = active
    z = float(lps_to_world(np.array(axes.long_axis_endpoints_lps_mm[0]))[0])
    viewer.dims.set_point(0, z)
    return Preview(grown, session.timepoint, lesion_id, role, nodal, (region, shapes))
