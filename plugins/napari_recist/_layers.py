"""Build napari layer data from DICOM series and case files (no widgets).

Every image layer carries ``metadata["recist"] = {"kind": "image", "series": SeriesRef metadata}``;
a case's lines are one Shapes layer per timepoint with ``{"kind": "lines", "timepoint": label,
"case_path": path}``. Layers are in world coordinates (LPS mm, reversed: see :mod:`napari_recist._world`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from napari.utils.notifications import show_error, show_warning

from napari_recist._controller import CaseController
from napari_recist._presets import PET_COLORMAP, PET_SUV_LIMITS, contrast_limits
from napari_recist._world import SeriesRef, lps_to_world, tilt_deg, world_affine
from recist.errors import RecistError, SuvError

__all__ = ["series_layers", "case_layers", "no_suv_message", "lines_layer_data", "update_lines_layer", "LINE_COLOURS", "line_text",
           "MAX_EXACT_TILT_DEG"]

logger = logging.getLogger(__name__)

#: Line (and label) colours by axis: cyan and lime green, two hues the PET colour map "hot" (black, red,
#: yellow, white) never takes, so lines and labels stay readable over a fused PET; the label also says
#: "long" or "short", so the colour is never the only cue.
#: "proposed": a node's short axis proposed by the plugin, not confirmed or adjusted yet (it does not count),
#: magenta (also a hue "hot" never takes), labelled "proposed".
LINE_COLOURS = {"long": "#00e5ff", "short": "#76ff03", "proposed": "#e040fb"}



#: Feature values of a line the reader is drawing, until the session records it.
LINE_FEATURE_DEFAULTS = {"lesion": "", "axis": "long", "length_mm": 0.0}


def line_text() -> dict:
    """The on-canvas label of a line: lesion, axis and length ("T1 long 25.5 mm"), in the line's colour."""
    from napari.layers.utils.color_encoding import NominalColorEncoding
    from napari.utils.colormaps.categorical_colormap import CategoricalColormap

    colour = NominalColorEncoding(feature="axis", colormap=CategoricalColormap(colormap=dict(LINE_COLOURS)))
    return {"string": "{lesion} {axis} {length_mm:.1f} mm", "size": 10, "anchor": "upper_left", "color": colour}

#: A series tilted more than this from axial is shown by napari without its tilt (the reader is warned).
MAX_EXACT_TILT_DEG = 0.1


def _volume_layer(volume, name: str, timepoint: str | None, unit: str | None = None) -> tuple:
    ref = SeriesRef.from_volume(volume)
    meta = {"kind": "image", "series": ref.to_metadata(), "timepoint": timepoint, "unit": unit}
    kwargs = {"name": name, "affine": world_affine(volume.affine), "metadata": {"recist": meta}}
    return volume.array, kwargs, "image"


def series_layers(folder: str | Path, *, timepoint_of=None, series_filter=None,
                  package: str | None = None) -> list[tuple]:
    """Image layer data for every readable series under ``folder``.

    CT gets the soft-tissue window; PET is converted to SUVbw (``recist.io.pet.load_suv_volume``) with a
    colour map and additive blending, so it fuses over the CT. A series that cannot be loaded, or a PET
    without the SUV header fields, is reported with a napari warning naming the series and the problem
    (the PET is then shown in its stored units). ``timepoint_of(info)`` names the timepoint of a series
    (layer names and metadata); ``series_filter(info)`` selects series. ``package`` names the central-review
    reader package the folder belongs to: a PET without SUV is then explained by :func:`no_suv_message`
    (the reader cannot fix a header; the core lab makes the package).
    """
    from recist.io.dicom import find_series, load_series
    from recist.io.pet import load_suv_volume

    scan = find_series(folder)
    layers = []
    for info in scan.series:
        if series_filter is not None and not series_filter(info):
            continue
        if info.problem:
            show_warning(f"recist: {info.problem}")
            continue
        label = timepoint_of(info) if timepoint_of else None
        prefix = f"{label} " if label else (f"{info.study_date} " if info.study_date else "")
        try:
            volume = load_series(info)
        except RecistError as exc:
            show_warning(f"recist: {exc}")
            continue
        tilt = tilt_deg(volume.affine)
        if tilt > MAX_EXACT_TILT_DEG:
            show_warning(f"recist: {info.modality} series {info.series_uid} is tilted {tilt:.1f} degrees from axial: "
                         "napari shows its slices without the tilt, so a line drawn on the screen is not at the "
                         "voxels shown; measure on an axial reconstruction (lines read from case files stay exact)")
        if info.modality.upper() == "PT":
            try:
                suv = load_suv_volume(volume)
            except SuvError as exc:
                show_warning(no_suv_message(exc, package) if package else
                             f"recist: {exc}. The PET is shown in stored units, not SUV.")
                data, kwargs, kind = _volume_layer(volume, f"{prefix}PET (not SUV)", label)
                kwargs.update(colormap=PET_COLORMAP, blending="additive")
            else:
                data, kwargs, kind = _volume_layer(suv, f"{prefix}PET SUVbw", label, "SUVbw")
                kwargs.update(colormap=PET_COLORMAP, blending="additive", contrast_limits=PET_SUV_LIMITS)
            layers.append((data, kwargs, kind))
        else:
            data, kwargs, kind = _volume_layer(volume, f"{prefix}{info.modality or 'image'}", label,
                                               "HU" if info.modality.upper() == "CT" else None)
            if info.modality.upper() == "CT":
                kwargs.update(colormap="gray", contrast_limits=contrast_limits("soft tissue"))
            layers.append((data, kwargs, kind))
    layers.sort(key=lambda layer: layer[0].dtype.kind == "f" and "PET" in layer[1]["name"])  # CT under PET
    return layers


def no_suv_message(error: Exception, package: str) -> str:
    """Why a PET of a reader package is shown without SUV: the missing header value (as
    :mod:`recist.measure.suv` names it), that the core lab's package lacks it, and what the reader sees."""
    reason = str(error).split("; fix the header", 1)[0].rstrip(". ")
    return (f"recist: no SUV for this PET of {package}: {reason}. The core lab made the package without this "
            "value (de-identification removes patient weight and dose details unless the project keeps them); "
            "the PET is shown in its stored units (intensity only, not SUV). Ask the core lab for a package "
            "that keeps it to read SUV.")


def lines_layer_data(controller: CaseController, timepoint: str) -> tuple[list, pd.DataFrame]:
    """Shapes data (world coordinates) and features (lesion, axis, length_mm) of a timepoint's lines, the
    proposed (unconfirmed) short axes of nodes last (axis "proposed")."""
    data, lesions, axes, lengths = [], [], [], []
    for lesion_id, axis, line in controller.lines(timepoint):
        data.append(lps_to_world(np.array([line.start_mm, line.end_mm])))
        lesions.append(lesion_id)
        axes.append(axis)
        lengths.append(line.length_mm)
    for lesion_id, line in controller.proposals(timepoint):
        data.append(lps_to_world(np.array([line.start_mm, line.end_mm])))
        lesions.append(lesion_id)
        axes.append("proposed")
        lengths.append(line.length_mm)
    features = pd.DataFrame({"lesion": pd.Series(lesions, dtype=object), "axis": pd.Series(axes, dtype=object),
                             "length_mm": pd.Series(lengths, dtype=float)})
    return data, features


def update_lines_layer(layer, data: list, features: pd.DataFrame) -> str:
    """Make a Shapes layer show ``data`` and ``features`` (from :func:`lines_layer_data`), changing only
    what differs: nothing when they are equal, the lengths (features and labels) when the same lines moved
    (the reader's drag has already moved them on the canvas), the whole layer otherwise.

    Returns what was done: ``"none"``, ``"features"`` or ``"rebuilt"`` (tests and the benchmark check it).
    """
    old = layer.features
    same_lines = (len(old) == len(data) and old["lesion"].tolist() == list(features["lesion"])
                  and old["axis"].tolist() == list(features["axis"])
                  and all(np.allclose(np.asarray(a, dtype=float), b, atol=1e-6) for a, b in zip(layer.data, data)))
    if same_lines:
        lengths = np.asarray(features["length_mm"], dtype=float)
        changed = np.flatnonzero(~np.isclose(old["length_mm"].to_numpy(dtype=float), lengths, rtol=0.0, atol=1e-9))
        if not len(changed):
            return "none"
        column = old.columns.get_loc("length_mm")
        for i in changed:  # in place: the layer's feature table itself (no re-validation of every column)
            old.iat[int(i), column] = float(lengths[i])
        layer.refresh_text()
        return "features"
    layer.data = []
    if data:
        layer.add_lines(data, edge_color=[LINE_COLOURS[a] for a in features["axis"]], edge_width=1.5)
    layer.features = features
    layer.refresh_text()
    return "rebuilt"


def lines_layer_kwargs(controller: CaseController, timepoint: str) -> dict:
    """Keyword arguments of a timepoint's Shapes layer."""
    data, features = lines_layer_data(controller, timepoint)
    return {
        "name": f"{timepoint} lines",
        "ndim": 3,
        "shape_type": "line",
        "edge_width": 1.5,
        "edge_color": [LINE_COLOURS[a] for a in features["axis"]] or "#00e5ff",
        "features": features,
        "feature_defaults": dict(LINE_FEATURE_DEFAULTS),
        "text": line_text(),
        "metadata": {"recist": {"kind": "lines", "timepoint": timepoint,
                                "case_path": str(controller.path) if controller.path else None}},
        "_data": data,
    }


def case_layers(path: str | Path) -> list[tuple]:
    """Layers of a case file: the series found beside it (its timepoints) and each timepoint's lines.

    Only the first timepoint's layers are visible (the reading session shows one timepoint at a time and
    opens on the baseline): napari neither slices nor draws the others until they are shown. The viewer
    the case opens in (napari's current viewer) gets its reading session first
    (:func:`napari_recist._session.get_session`), so the session adopts the layers as napari adds them and
    lays out the reading window once they are in.

    Returns the napari null sentinel ``[(None,)]`` after an error notification naming the file when
    the case cannot be read.
    """
    try:
        controller = CaseController.open(path)
    except RecistError as exc:
        show_error(f"recist: cannot open the case: {exc}")
        return [(None,)]
    folder = Path(path).parent

    def timepoint_of(info):
        return controller.timepoint_for_series(info.study_uid, info.series_uid, info.study_date)

    layers = []
    if any(p.is_dir() or p.suffix.lower() != ".json" for p in folder.iterdir()):  # images beside the case
        layers = series_layers(folder, timepoint_of=timepoint_of, series_filter=lambda i: timepoint_of(i) is not None)
    for label in controller.timepoint_labels:
        kwargs = lines_layer_kwargs(controller, label)
        data = kwargs.pop("_data")
        layers.append((data, kwargs, "shapes"))
    shown = controller.timepoint_labels[0]
    for _data, kwargs, _kind in layers:
        if kwargs["metadata"]["recist"].get("timepoint") != shown:
            kwargs["visible"] = False
    _bind_current_viewer()
    return layers


def _bind_current_viewer() -> None:
    """Make sure the viewer a case is opened in (napari's current one) has its reading session."""
    import napari

    viewer = napari.current_viewer()
    if viewer is not None:
        from napari_recist._session import get_session

        get_session(viewer)
