"""What is recorded is only what the reader drew: real key presses and mouse drags on the canvas of the
sample patient (issue 13, section 1). After every step, what the widget and the table show equals what
the case file holds."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from napari_recist._session import get_session
from qtpy.QtCore import Qt

import recist

from ._canvas import drag, press_key, settle

pytestmark = pytest.mark.gui

SHIFT = Qt.KeyboardModifier.ShiftModifier


def _table_click(qtbot, table, lesion_id: str, timepoint: str) -> None:
    """Click the table cell of a lesion at a timepoint with the mouse."""
    model = table.model
    r = next(i for i, row in enumerate(model.rows) if row.lesion_id == lesion_id)
    c = model.columns.index(timepoint)
    widget = table.table_widget
    item = widget.item(r, c)
    widget.scrollToItem(item)
    rect = widget.visualItemRect(item)
    qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    settle(qtbot)


@pytest.fixture
def reading(make_napari_viewer, sample_patient_dir, tmp_path, qtbot):
    """The sample patient (a working copy) open with the Measurement and Case table widgets docked."""
    work = tmp_path / "patient"
    shutil.copytree(sample_patient_dir, work)
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    viewer.open(str(work), plugin="recist")
    _, measure = viewer.window.add_plugin_dock_widget("recist", "Measurement")
    _, table = viewer.window.add_plugin_dock_widget("recist", "Case table")
    settle(qtbot, 100)
    return viewer, measure, table, work / "case.json"


def assert_agree(measure, table, case_path, timepoint: str, lesion_id: str) -> None:
    """Widget, table and file show the same measurement of a lesion at a timepoint."""
    session = measure.session
    session.controller.flush()  # the autosave is written off the UI thread
    saved = recist.read_case(case_path)
    assert saved == session.controller.case
    entry = next(tp for tp in saved.timepoints if tp.label == timepoint).targets.get(lesion_id)
    header = next(r.header for r in table.model.rows if r.lesion_id == lesion_id)
    cell = table.cell_text(header, timepoint)
    if entry is None or entry.long_axis_mm is None:
        assert cell in ("", "too small", "disappeared", "NE") or cell.startswith(("split", "merged"))
        return
    assert cell == f"{entry.long_axis_mm:.1f}"
    if session.lesion_id == lesion_id and session.timepoint == timepoint:
        assert measure.length.text().startswith(f"long {entry.long_axis_mm:.1f} mm")


def test_shift_l_then_escape_records_nothing(reading, qtbot):
    """Issue 13 steps: week 12, lesion T1, Shift-L over the canvas, drag across T1, Escape. napari's own
    Shift-L (add polyline) wins on a Shapes layer; its empty polyline is dropped; nothing may be recorded."""
    viewer, measure, table, case_path = reading
    session = get_session(viewer)
    _table_click(qtbot, table, "T1", "week 12")
    assert session.timepoint == "week 12" and session.lesion_id == "T1"
    before = recist.read_case(case_path)
    t1 = next(tp for tp in before.timepoints if tp.label == "week 12").targets["T1"]
    assert t1.long_axis_mm == pytest.approx(25.4558)
    z = viewer.dims.point[0]
    press_key(qtbot, viewer, Qt.Key.Key_L, SHIFT)
    drag(qtbot, viewer, (z, -12.0, -84.0), (z, 12.0, -60.0))
    press_key(qtbot, viewer, Qt.Key.Key_Escape)
    session.controller.flush()
    assert recist.read_case(case_path) == before
    assert_agree(measure, table, case_path, "week 12", "T1")
    assert measure.length.text().startswith("long 25.5 mm")
    # and the layer still works: a vertex drag of T1's line is recorded (no TypeError from napari)
    lines = session.lines_layer("week 12")
    lines.mode = "select"
    row = list(zip(lines.features["lesion"], lines.features["axis"])).index(("T1", "long"))
    end = np.asarray(lines.data[row][1])
    lines.selected_data = {row}
    settle(qtbot)
    drag(qtbot, viewer, end, end + np.array([0.0, 3.0, 3.0]))
    session.controller.flush()
    saved = next(tp for tp in recist.read_case(case_path).timepoints if tp.label == "week 12").targets["T1"]
    shown = np.asarray(lines.data[row])
    assert saved.long_axis_mm == pytest.approx(float(np.linalg.norm(shown[1] - shown[0])), abs=1e-3)
    assert saved.long_axis_mm > 25.4558 + 1.0  # the end was dragged outwards by ~(3, 3) mm
    assert_agree(measure, table, case_path, "week 12", "T1")
