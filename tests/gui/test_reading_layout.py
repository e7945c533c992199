"""The reading layout and navigation as a radiologist uses them (issue 13 §3), through real Qt events on the
shown window: the default layout at 1600x1000 and 1280x800, wheel and arrow keys one image, lines on the
image slices, the status bar, the comparison canvas linked both ways, PET display kept across timepoints,
line labels."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from napari_recist._layers import LINE_COLOURS
from napari_recist._navigation import slice_grid
from napari_recist._session import get_session
from qtpy.QtCore import QPointF, Qt
from qtpy.QtWidgets import QApplication

from .canvas_events import canvas_widget, drag, enter, mouse, wheel, world_to_canvas

pytestmark = pytest.mark.gui


def _open(make_napari_viewer, qtbot, patient: Path, tmp_path: Path, size=(1600, 1000)):
    """The sample patient opened as a reader does (File > Open of its folder) in a shown window of ``size``;
    waits for the reading layout the plugin applies by itself."""
    work = tmp_path / "patient"
    shutil.copytree(patient, work)
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(*size)
    viewer.open(str(work), plugin="recist")
    session = get_session(viewer)
    qtbot.waitUntil(lambda: set(session.widgets()) == {"measurement", "table", "compare"}, timeout=10000)
    qtbot.wait(100)
    return viewer, session


def _visible_in(widget, window) -> bool:
    """Whether ``widget`` is shown and lies wholly inside ``window``."""
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return (widget.isVisible() and widget.width() > 0 and widget.height() > 0 and top_left.x() >= 0
            and top_left.y() >= 0 and top_left.x() + widget.width() <= window.width()
            and top_left.y() + widget.height() <= window.height())


def test_default_layout_shows_both_timepoints_controls_and_every_lesion_row(make_napari_viewer, qtbot,
                                                                            sample_patient_dir, tmp_path):
    viewer, session = _open(make_napari_viewer, qtbot, sample_patient_dir, tmp_path, (1600, 1000))
    _check_layout(viewer, session, (1600, 1000))
    # a smaller screen: the "Reading layout" button lays the same out again
    viewer.window._qt_window.resize(1280, 800)
    qtbot.mouseClick(session.widgets()["measurement"].layout_button, Qt.MouseButton.LeftButton)
    qtbot.wait(100)
    _check_layout(viewer, session, (1280, 800))
    assert len([w for w in viewer.window._qt_window.findChildren(type(session.widgets()["table"]))]) == 1


def _check_layout(viewer, session, size) -> None:
    window = viewer.window._qt_window
    assert (window.width(), window.height()) == size
    widgets = session.widgets()
    main_canvas, reference_canvas = canvas_widget(viewer), widgets["compare"].qt_viewer.canvas.native
    # current and comparison timepoints side by side, the same size, the comparison on the left
    for canvas in (main_canvas, reference_canvas):
        assert _visible_in(canvas, window)
        assert canvas.width() >= 0.3 * size[0] and canvas.height() >= 0.4 * size[1]
    assert reference_canvas.mapTo(window, reference_canvas.rect().topLeft()).x() < main_canvas.mapTo(
        window, main_canvas.rect().topLeft()).x()
    assert abs(reference_canvas.width() - main_canvas.width()) <= 0.03 * main_canvas.width()
    assert abs(reference_canvas.height() - main_canvas.height()) <= 2
    # the measurement controls, whole
    measurement = widgets["measurement"]
    assert _visible_in(measurement, window)
    assert measurement.height() >= measurement.minimumSizeHint().height()
    for button in (measurement.long_button, measurement.short_button, *measurement.window_buttons.values()):
        assert _visible_in(button, window)
    # the case table: every lesion row visible, cells wide enough for their text
    table = widgets["table"]
    grid = table.table_widget
    viewport = grid.viewport().rect()
    lesion_rows = [r for r, row in enumerate(table.model.rows) if row.lesion_id]
    assert len(lesion_rows) == 6
    for r in lesion_rows:
        for c in range(len(table.model.columns)):
            rect = grid.visualRect(grid.model().index(r, c))
            assert viewport.contains(rect), (r, c)
            text = grid.item(r, c).text()
            assert grid.fontMetrics().horizontalAdvance(text) <= rect.width(), text
    # napari's layer list and controls make room (the Window menu brings them back)
    assert not viewer.window._qt_viewer.dockLayerList.isVisible()


def test_wheel_arrows_status_bar_and_lines_on_slices(make_napari_viewer, qtbot, sample_patient_dir, tmp_path):
    viewer, session = _open(make_napari_viewer, qtbot, sample_patient_dir, tmp_path)
    z0, spacing, n = slice_grid(session.ct_layer())
    assert spacing > 1.0  # the sample CT: 5 mm slices, so 1 mm steps would fall between images
    assert viewer.dims.range[0].step == pytest.approx(spacing)
    canvas = canvas_widget(viewer)
    centre = QPointF(canvas.width() / 2, canvas.height() / 2)
    mouse(canvas, "move", centre, buttons=Qt.MouseButton.NoButton)
    viewer.dims.set_current_step(0, n // 2)
    start = viewer.dims.point[0]
    zoom = viewer.camera.zoom
    wheel(canvas, centre, 1)  # away from the reader: back one image (napari's direction)
    assert viewer.dims.point[0] == pytest.approx(start - spacing)
    wheel(canvas, centre, -2)
    assert viewer.dims.point[0] == pytest.approx(start + spacing)
    wheel(canvas, centre, -1)
    wheel(canvas, centre, 1)
    wheel(canvas, centre, 1)
    assert viewer.dims.point[0] == pytest.approx(start)
    assert viewer.camera.zoom == pytest.approx(zoom)  # the wheel scrolls images, it does not zoom
    qtbot.keyClick(canvas, Qt.Key.Key_Up)
    assert viewer.dims.point[0] == pytest.approx(start + spacing)
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    qtbot.keyClick(canvas, Qt.Key.Key_Left)
    assert viewer.dims.point[0] == pytest.approx(start - 2 * spacing)
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert viewer.dims.point[0] == pytest.approx(start - spacing)
    # every position is an image of the CT
    k = (viewer.dims.point[0] - z0) / spacing
    assert k == pytest.approx(round(k)) and 0 <= round(k) < n
    # Ctrl + wheel zooms, and leaves the slice
    wheel(canvas, centre, 1, modifiers=Qt.KeyboardModifier.ControlModifier)
    assert viewer.camera.zoom > zoom
    assert viewer.dims.point[0] == pytest.approx(start - spacing)
    _check_status_bar(viewer, session, qtbot)
    _check_line_on_slice(viewer, session, qtbot)


def _check_line_on_slice(viewer, session, qtbot) -> None:
    """A line drawn while the position is between two images is stored on the image it was drawn on."""
    measurement = session.widgets()["measurement"]
    label = session.controller.timepoint_labels[1]
    measurement.timepoint.setCurrentText(label)
    z0, spacing, _n = slice_grid(session.ct_layer())
    viewer.dims.set_point(0, z0 + 10 * spacing + 0.4 * spacing)  # between two images (a script, a plugin)
    measurement.lesion.setCurrentText("T9")
    qtbot.mouseClick(measurement.long_button, Qt.MouseButton.LeftButton)
    canvas = canvas_widget(viewer)
    world = np.array(viewer.dims.point, dtype=float)
    start, end = world + [0, -10.0, -10.0], world + [0, 10.0, 10.0]
    drag(canvas, world_to_canvas(viewer, start), world_to_canvas(viewer, end))
    qtbot.wait(50)
    entry = session.controller.entry(label, "T9")
    assert entry is not None
    on_slice = z0 + 10 * spacing
    assert entry.long_axis_line.start_mm[2] == pytest.approx(on_slice)
    assert entry.long_axis_line.end_mm[2] == pytest.approx(on_slice)
    index = session.series(label).sop_uids.index(entry.image.sop_uid)
    assert session.ct_layer().data_to_world((index, 0, 0))[0] == pytest.approx(on_slice)


def _check_status_bar(viewer, session, qtbot) -> None:
    """The status bar: the image as k / n with its DICOM InstanceNumber, the HU and the SUV under the cursor."""
    session.go_to(session.controller.timepoint_labels[0], "T1")
    location = session.controller.location_mm(session.controller.timepoint_labels[0], "T1")
    canvas = canvas_widget(viewer)
    ct = session.ct_layer()
    index = np.round(ct.world_to_data(np.array(location[::-1], dtype=float))).astype(int)
    point = np.asarray(ct.data_to_world(index), dtype=float)  # the centre of the voxel at the lesion
    enter(canvas, world_to_canvas(viewer, point))
    mouse(canvas, "move", world_to_canvas(viewer, point), buttons=Qt.MouseButton.NoButton)
    number = ct.metadata["recist"]["series"]["instance_numbers"][index[0]]
    expected = (f"CT image {index[0] + 1}/{ct.data.shape[0]} (InstanceNumber {number})  "
                f"{float(ct.data[tuple(index)]):.0f} HU")
    qtbot.waitUntil(lambda: expected in str(viewer.status), timeout=5000)
    qtbot.wait(200)  # napari's own status, computed in its thread, does not replace it
    assert expected in str(viewer.status)
    status = str(viewer.status)
    assert "SUVbw" in status


def test_comparison_follows_both_ways_applies_windows_and_centres_on_the_lesion(make_napari_viewer, qtbot,
                                                                                 sample_patient_dir, tmp_path):
    viewer, session = _open(make_napari_viewer, qtbot, sample_patient_dir, tmp_path)
    widgets = session.widgets()
    compare, measurement, table = widgets["compare"], widgets["measurement"], widgets["table"]
    ctl = session.controller
    labels = ctl.timepoint_labels
    # "baseline" once (the first timepoint is the baseline)
    entries = [compare.reference.itemText(i) for i in range(compare.reference.count())]
    assert entries.count("baseline") == 1 and entries == ["baseline", "nadir", *labels[1:]]
    # choosing a lesion in the table centres the comparison on its line at the baseline
    measurement.timepoint.setCurrentText(labels[2])
    row = next(r for r, x in enumerate(table.model.rows) if x.lesion_id == "T2")
    grid = table.table_widget
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton,
                     pos=grid.visualRect(grid.model().index(row, 2)).center())
    assert session.timepoint == labels[2]
    there = np.asarray(ctl.location_mm(labels[0], "T2"))[::-1]  # world (z, y, x)
    reference_ct = compare._reference_ct()
    z0, spacing, _n = slice_grid(reference_ct)
    assert compare.model.dims.point[0] == pytest.approx(there[0], abs=spacing / 2)
    np.testing.assert_allclose(compare.model.camera.center[-2:], there[1:], atol=1e-6)
    # the wheel on the comparison scrolls both; Ctrl + wheel on the comparison zooms both
    reference_canvas = compare.qt_viewer.canvas.native
    centre = QPointF(reference_canvas.width() / 2, reference_canvas.height() / 2)
    mouse(reference_canvas, "move", centre, buttons=Qt.MouseButton.NoButton)
    main_before, reference_before = viewer.dims.point[0], compare.model.dims.point[0]
    wheel(reference_canvas, centre, -1)
    assert compare.model.dims.point[0] == pytest.approx(reference_before + spacing)
    assert viewer.dims.point[0] == pytest.approx(main_before + spacing)
    wheel(reference_canvas, centre, 1, modifiers=Qt.KeyboardModifier.ControlModifier)
    assert viewer.camera.zoom == pytest.approx(compare.model.camera.zoom)
    # panning the main canvas (drag in pan mode) moves the comparison by the same amount
    viewer.layers.selection.active = session.ct_layer()
    canvas = canvas_widget(viewer)
    before_main, before_reference = np.array(viewer.camera.center), np.array(compare.model.camera.center)
    drag(canvas, QPointF(canvas.width() / 2, canvas.height() / 2), QPointF(canvas.width() / 2 + 40,
                                                                           canvas.height() / 2 + 30))
    moved = np.array(viewer.camera.center) - before_main
    assert np.linalg.norm(moved[-2:]) > 1.0
    np.testing.assert_allclose(np.array(compare.model.camera.center) - before_reference, moved, atol=1e-6)
    # a window preset button applies to the comparison's CT too
    qtbot.mouseClick(measurement.window_buttons["liver"], Qt.MouseButton.LeftButton)
    assert tuple(reference_ct.contrast_limits) == pytest.approx((15.0, 165.0))
    _check_pet_display_and_labels(viewer, session, qtbot)


def _check_pet_display_and_labels(viewer, session, qtbot) -> None:
    """PET on/off and fusion opacity stay across timepoint switches (comparison too); labels name the axis."""
    measurement, compare = session.widgets()["measurement"], session.widgets()["compare"]
    labels = session.controller.timepoint_labels
    measurement.timepoint.setCurrentText(labels[1])

    def pet(label):
        return next(la for la in session.image_layers(label) if la.metadata["recist"]["series"]["modality"] == "PT")

    # the reader turns the PET off (the layer's eye) and back on at 40 % fusion opacity, then switches
    pet(labels[1]).visible = False
    window = viewer.window._qt_window  # keys go to the active window (the plugin's are window shortcuts)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    qtbot.keyClick(canvas_widget(viewer), Qt.Key.Key_T, Qt.KeyboardModifier.ShiftModifier)  # next timepoint
    assert session.timepoint == labels[2]
    assert not pet(labels[2]).visible
    compare_pet = next(la for la in compare.model.layers if str(la.metadata.get("display_key")).startswith("PT"))
    assert not compare_pet.visible
    pet(labels[2]).visible = True
    pet(labels[2]).opacity = 0.4
    measurement.timepoint.setCurrentText(labels[0])
    assert pet(labels[0]).visible and pet(labels[0]).opacity == pytest.approx(0.4)
    assert compare_pet.opacity == pytest.approx(0.4)
    # labels say which axis, in a colour the PET colour map ("hot") never takes
    lines = session.lines_layer(labels[0])
    strings = list(lines.text.string._values) if hasattr(lines.text.string, "_values") else []
    assert any(" long " in s for s in strings) and any(" short " in s for s in strings)
    hot = pet(labels[0]).colormap.map(np.linspace(0.0, 1.0, 256))[:, :3]
    for axis, colour in LINE_COLOURS.items():
        rgb = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        assert np.min(np.linalg.norm(hot - rgb, axis=1)) > 0.5, axis
        if axis not in list(lines.features["axis"]):  # "proposed": only while a node's short axis is unconfirmed
            continue
        shown = lines.text.color._values[list(lines.features["axis"]).index(axis)][:3]
        np.testing.assert_allclose(shown, rgb, atol=1e-3)
