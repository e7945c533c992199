"""Measuring on generated series in napari: world <-> LPS on oblique series, 'From mask' against
recist.measure.diameters, and editing a line by dragging a vertex (length, table and saved case follow)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from napari.layers import Layer
from napari_recist._controller import CaseController
from napari_recist._layers import series_layers
from napari_recist._session import get_session
from napari_recist._widgets import MeasurementWidget
from napari_recist._world import tilt_deg
from qtpy.QtCore import Qt

import recist
from recist.io.dicom import find_series, load_series
from recist.measure.diameters import measure_lesions
from recist.measure.geometry import index_to_patient, line_length_mm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from dicom_factory import write_series  # noqa: E402

from ._canvas import click, press_key, settle  # noqa: E402

pytestmark = pytest.mark.gui

TILT = np.deg2rad(20.0)
#: ImageOrientationPatient: rotated 20 degrees within the axial plane, and tilted 20 degrees about LPS x
#: (a gantry tilt: the slice normal leaves the z axis).
IN_PLANE = (np.cos(TILT), np.sin(TILT), 0.0, -np.sin(TILT), np.cos(TILT), 0.0)
TILTED = (1.0, 0.0, 0.0, 0.0, np.cos(TILT), np.sin(TILT))


def _reading(make_napari_viewer, folder: Path, case_path: Path | None = None, *, show: bool = False):
    """A viewer showing the series of ``folder`` as the baseline of a new case, and its widget."""
    viewer = make_napari_viewer(show=show)
    for data, kwargs, kind in series_layers(folder, timepoint_of=lambda _info: "baseline"):
        viewer.add_layer(Layer.create(data, kwargs, kind))
    controller = CaseController.new("SYN-1", [{"label": "baseline", "date": "2024-01-10"},
                                              {"label": "week 8", "date": "2024-03-06"}], case_path)
    widget = MeasurementWidget(viewer, controller)
    return viewer, get_session(viewer), widget


@pytest.mark.filterwarnings("ignore:Non-orthogonal slicing:UserWarning")  # napari's, for the tilt
@pytest.mark.parametrize("orientation", [IN_PLANE, TILTED], ids=["in-plane rotation", "gantry tilt"])
def test_world_lines_convert_to_index_to_patient_on_oblique_series(make_napari_viewer, tmp_path, orientation):
    from napari.utils.notifications import notification_manager

    write_series(tmp_path / "ct", shape=(6, 24, 20), spacing_mm=(3.0, 0.9, 0.7), orientation=orientation)
    volume = load_series(find_series(tmp_path / "ct").series[0])
    seen = len(notification_manager.records)
    viewer, session, _widget = _reading(make_napari_viewer, tmp_path / "ct")
    tilt_warnings = [n for n in notification_manager.records[seen:] if "tilted 20.0 degrees" in str(n.message)]
    assert len(tilt_warnings) == (0 if orientation is IN_PLANE else 1)
    ct = session.ct_layer("baseline")
    start_index, end_index = np.array([2.0, 3.0, 4.0]), np.array([2.0, 17.0, 15.0])
    expected = index_to_patient(np.array([start_index, end_index]), origin_mm=volume.origin_mm,
                                spacing_mm=volume.spacing_mm, direction=volume.direction)
    # napari places every voxel at its patient position (world = LPS reversed)
    world = np.array([ct.data_to_world(start_index), ct.data_to_world(end_index)])
    np.testing.assert_allclose(world[:, ::-1], expected, atol=1e-6)
    # a line added to the timepoint's Shapes layer, as drawing does, lands on those LPS points
    lines = session.lines_layer("baseline")
    session.lesion_id = "T1"
    lines.add_lines([world])
    entry = session.controller.entry("baseline", "T1")
    np.testing.assert_allclose([entry.long_axis_line.start_mm, entry.long_axis_line.end_mm], expected, atol=1e-3)
    assert entry.long_axis_mm == pytest.approx(line_length_mm(*expected), abs=1e-3)
    assert entry.image.sop_uid == volume.sop_instance_uids[2]
    # what napari shows: the affine restricted to the displayed (y, x) axes, so a rotation within the slice
    # is shown exactly and a tilt is dropped from the 2-D view; the plugin warns for a tilted series
    shown = ct._data_to_world.set_slice(list(viewer.dims.displayed)).affine_matrix
    np.testing.assert_allclose(shown, np.asarray(ct.affine.affine_matrix)[1:, 1:])
    assert tilt_deg(volume.affine) == pytest.approx(0.0 if orientation is IN_PLANE else 20.0, abs=1e-6)


def _lesion_pixels(k: int, rows: int, columns: int) -> np.ndarray:
    """Stored values (HU + 1024) of a slice: liver-like 100 HU with noise, a 40 HU ellipse on slices 2-4."""
    rng = np.random.default_rng(k)
    hu = 100.0 + rng.normal(0.0, 4.0, (rows, columns))
    hu[_ellipse(rows, columns) & (2 <= k <= 4)] = 40.0 + rng.normal(0.0, 4.0, (rows, columns))[
        _ellipse(rows, columns) & (2 <= k <= 4)]
    return np.round(hu + 1024).astype(np.int16)


def _ellipse(rows: int, columns: int) -> np.ndarray:
    yy, xx = np.mgrid[:rows, :columns]
    u, v = xx - 30.0, yy - 26.0
    c, s = np.cos(np.deg2rad(30)), np.sin(np.deg2rad(30))
    return ((c * u + s * v) / 14.0) ** 2 + ((-s * u + c * v) / 8.0) ** 2 <= 1.0


def test_from_mask_previews_then_records_the_axes_of_recist_measure_diameters(make_napari_viewer, tmp_path, qtbot):
    """Shift+F, a click on the canvas: the grown region and its axes are shown, nothing is recorded;
    Escape discards them; again, and Enter records the axes recist.measure.diameters gives the lesion."""
    write_series(tmp_path / "ct", shape=(6, 56, 64), spacing_mm=(2.5, 0.8, 0.8), orientation=IN_PLANE,
                 pixel_fn=_lesion_pixels)
    volume = load_series(find_series(tmp_path / "ct").series[0])
    viewer, session, _ = _reading(make_napari_viewer, tmp_path / "ct", tmp_path / "case.json", show=True)
    settle(qtbot, 100)  # the reading layout docks the Measurement widget that has the keys
    widget = session.widgets()["measurement"]
    truth = np.zeros(volume.array.shape, bool)
    truth[2:5] = _ellipse(*volume.array.shape[1:])  # the lesion spans slices 2-4: grown in 3-D
    (expected,) = measure_lesions(truth, spacing_mm=volume.spacing_mm, origin_mm=volume.origin_mm,
                                  direction=volume.direction)
    widget.select("baseline", "T1", role="target", site="liver")
    click_world = session.ct_layer().data_to_world((3, 26, 30))
    viewer.dims.set_point(0, float(click_world[0]))
    settle(qtbot)
    press_key(qtbot, viewer, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    click(qtbot, viewer, click_world)
    assert widget.preview is not None and session.controller.entry("baseline", "T1") is None
    previews = [layer for layer in viewer.layers if layer.metadata.get("recist", {}).get("kind") == "preview"]
    assert len(previews) == 2 and previews[0].data.sum() == truth.sum()
    assert viewer.layers.selection.active is session.lines_layer("baseline")  # napari's keys unchanged
    press_key(qtbot, viewer, Qt.Key.Key_Escape)
    assert widget.preview is None and session.controller.entry("baseline", "T1") is None
    assert not any(layer.metadata.get("recist", {}).get("kind") == "preview" for layer in viewer.layers)
    assert not (tmp_path / "case.json").exists()
    press_key(qtbot, viewer, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    click(qtbot, viewer, click_world)
    press_key(qtbot, viewer, Qt.Key.Key_Return)
    entry = session.controller.entry("baseline", "T1")
    assert widget.preview is None
    pixel_diagonal = float(np.hypot(0.8, 0.8))
    assert entry.long_axis_mm == pytest.approx(expected.long_axis_mm, abs=pixel_diagonal)
    got = np.array([entry.long_axis_line.start_mm, entry.long_axis_line.end_mm])
    want = np.array(expected.long_axis_endpoints_lps_mm)
    if np.linalg.norm(got[0] - want[0]) > np.linalg.norm(got[0] - want[1]):
        want = want[::-1]
    np.testing.assert_allclose(got, want, atol=2 * pixel_diagonal)
    session.controller.flush()  # the autosave is written off the UI thread
    assert recist.read_case(tmp_path / "case.json").timepoints[0].targets["T1"].long_axis_mm == entry.long_axis_mm
    # a click outside any lesion (the region leaks to the border) is refused: no preview, nothing recorded
    before = session.controller.case
    press_key(qtbot, viewer, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    click(qtbot, viewer, session.ct_layer().data_to_world((3, 5, 5)))
    assert widget.preview is None and session.controller.case == before


def _drag_vertex(layer, index: int, vertex: int, world_point) -> None:
    """What napari's select-mode drag of one vertex does: CHANGING, move the vertex, CHANGED."""
    from napari.layers.base._base_constants import ActionType

    vertices = ((0, 1),)
    layer.selected_data = {index}
    layer.events.data(value=layer.data, action=ActionType.CHANGING, data_indices=(index,), vertex_indices=vertices)
    moved = np.array(layer.data[index], dtype=float)
    moved[vertex] = layer.world_to_data(world_point)
    layer._data_view.edit(index, moved)
    layer.events.data(value=layer.data, action=ActionType.CHANGED, data_indices=(index,), vertex_indices=vertices)


def test_dragging_a_line_end_updates_length_table_and_saved_case(make_napari_viewer, tmp_path):
    write_series(tmp_path / "ct", shape=(6, 24, 20), spacing_mm=(3.0, 1.0, 1.0))
    viewer, session, widget = _reading(make_napari_viewer, tmp_path / "ct", tmp_path / "case.json")
    z = float(session.ct_layer().data_to_world((2, 0, 0))[0])
    widget.select("baseline", "T1", role="target", site="liver")
    assert widget.add_world_line((z, -110.0, -95.0), (z, -110.0, -75.0)) == pytest.approx(20.0)
    widget.select("baseline", "T2", role="target", site="mesenteric lymph node", nodal=True)
    widget.add_world_line((z, -100.0, -95.0), (z, -100.0, -71.0))  # node: short axis proposed, 12 mm
    assert session.controller.entry("baseline", "T2").short_axis_mm is None  # a proposal does not count
    lines = session.lines_layer("baseline")
    row = next(i for i, (lesion, axis) in enumerate(zip(lines.features["lesion"], lines.features["axis"]))
               if lesion == "T1" and axis == "long")
    _drag_vertex(lines, row, 1, (z, -110.0, -70.0))
    entry = session.controller.entry("baseline", "T1")
    assert entry.long_axis_mm == pytest.approx(25.0)
    widget.select(lesion_id="T1")
    assert widget.length.text() == "long 25.0 mm"
    session.controller.flush()  # the autosave is written off the UI thread
    saved = CaseController.open(tmp_path / "case.json").case  # incomplete (T2's short axis): reopens anyway
    assert saved.timepoints[0].targets["T1"].long_axis_mm == pytest.approx(25.0)
    assert saved == session.controller.case
    # the layer was rebuilt from the case: its text shows the new length
    lines = session.lines_layer("baseline")
    lengths = dict(zip(zip(lines.features["lesion"], lines.features["axis"]), lines.features["length_mm"]))
    assert lengths[("T1", "long")] == pytest.approx(25.0)
    # dragging the end of the node's proposed short axis records it (adjusted: now it counts)
    short_row = list(zip(lines.features["lesion"], lines.features["axis"])).index(("T2", "proposed"))
    start = np.asarray(lines.data[short_row][0])
    _drag_vertex(lines, short_row, 1, start + np.array([0.0, 15.0, 0.0]))
    assert session.controller.entry("baseline", "T2").short_axis_mm == pytest.approx(15.0)
    session.controller.flush()
    assert recist.read_case(tmp_path / "case.json").timepoints[0].targets["T2"].short_axis_mm == pytest.approx(15.0)
    # undo takes the short axis back to a proposal, and saves it
    widget.undo()
    session.controller.flush()
    assert CaseController.open(tmp_path / "case.json").entry("baseline", "T2").short_axis_mm is None
    assert session.controller.proposed_short_axis("baseline", "T2").length_mm == pytest.approx(12.0)
