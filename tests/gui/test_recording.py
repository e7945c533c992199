"""What is recorded is only what the reader drew: real key presses and mouse drags on the canvas of the
sample patient (issue 13, section 1). After every step, what the widget and the table show equals what
the case file holds."""

from __future__ import annotations

import numpy as np
import pytest
from napari_recist._session import get_session
from qtpy.QtCore import Qt

import recist

from ._canvas import answer_next_dialog, click, drag, drag_tolerance_mm, press_key, settle
from ._reading import assert_agree, table_click

pytestmark = pytest.mark.gui

SHIFT = Qt.KeyboardModifier.ShiftModifier


def test_shift_l_then_escape_records_nothing(reading, qtbot):
    """Issue 13 steps: week 12, lesion T1, Shift-L over the canvas, drag across T1, Escape. napari's own
    Shift-L (add polyline) wins on a Shapes layer; its empty polyline is dropped; nothing may be recorded."""
    viewer, measure, table, case_path = reading
    session = get_session(viewer)
    table_click(qtbot, table, "T1", "week 12")
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


def test_scripted_session_widget_table_and_file_agree_after_every_step(reading, qtbot):
    """A reading driven by keys, drags, clicks and dialog buttons; after each step the widget, the table
    and the file show the same case (issue 13 §1 and §2)."""
    viewer, measure, table, case_path = reading
    session = get_session(viewer)
    ctl = session.controller
    table_click(qtbot, table, "T1", "week 12")
    z = viewer.dims.point[0]
    # draw T1's long axis with the plugin's key: recorded from the drag, nothing else changes
    others = {lid: ctl.entry("week 12", lid) for lid in ("T2", "T3", "T4")}
    press_key(qtbot, viewer, Qt.Key.Key_D, SHIFT)
    drag(qtbot, viewer, (z, -8.0, -80.0), (z, 8.0, -64.0))
    entry = ctl.entry("week 12", "T1")
    assert entry.long_axis_mm == pytest.approx(np.hypot(16, 16), abs=drag_tolerance_mm(viewer))
    assert {lid: ctl.entry("week 12", lid) for lid in others} == others
    assert_agree(measure, table, case_path, "week 12", "T1")
    drawn = entry.long_axis_mm
    # undo / redo with Ctrl+Z / Ctrl+Shift+Z
    press_key(qtbot, viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ctl.entry("week 12", "T1").long_axis_mm == pytest.approx(25.4558)
    assert_agree(measure, table, case_path, "week 12", "T1")
    press_key(qtbot, viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | SHIFT)
    assert ctl.entry("week 12", "T1").long_axis_mm == pytest.approx(drawn)
    assert_agree(measure, table, case_path, "week 12", "T1")
    # a line across the body outline asks; No records nothing
    seen: list[str] = []
    answer_next_dialog(False, seen)
    drag(qtbot, viewer, (z, 0.0, -72.0), (z, 0.0, -182.0))
    assert seen and "body outline" in seen[0]
    assert ctl.entry("week 12", "T1").long_axis_mm == pytest.approx(drawn)
    assert len(session.lines_layer("week 12").data) == len(ctl.lines("week 12")) + len(ctl.proposals("week 12"))
    assert_agree(measure, table, case_path, "week 12", "T1")
    # typing "t1" is T1 (no second lesion)
    lesions_before = ctl.lesion_ids()
    line_edit = measure.lesion.lineEdit()
    line_edit.selectAll()
    qtbot.keyClicks(line_edit, "t1")
    press_key(qtbot, viewer, Qt.Key.Key_D, SHIFT)
    drag(qtbot, viewer, (z, -7.0, -79.0), (z, 7.0, -65.0))
    assert ctl.lesion_ids() == lesions_before
    assert ctl.entry("week 12", "T1").long_axis_mm == pytest.approx(np.hypot(14, 14), abs=drag_tolerance_mm(viewer))
    assert_agree(measure, table, case_path, "week 12", "T1")
    # choosing a lesion goes to it: T3's slice and centre at week 12
    measure.lesion.setCurrentIndex(measure.lesion.findText("T3"))
    settle(qtbot)
    assert session.lesion_id == "T3"
    assert viewer.dims.point[0] == pytest.approx(ctl.location_mm("week 12", "T3")[2], abs=1e-6)
    # delete lesion T3: asks; Yes removes it everywhere; Ctrl+Z brings it back
    answer_next_dialog(True)
    qtbot.mouseClick(measure.delete_lesion_button, Qt.MouseButton.LeftButton)
    assert "T3" not in ctl.lesion_ids()
    assert_agree(measure, table, case_path, "week 12", "T1")
    press_key(qtbot, viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "T3" in ctl.lesion_ids()
    assert_agree(measure, table, case_path, "week 12", "T3")
    # a non-target's location: Shift+W, then a click
    measure.lesion.setCurrentIndex(measure.lesion.findText("NT1"))
    settle(qtbot)
    znt = viewer.dims.point[0]
    press_key(qtbot, viewer, Qt.Key.Key_W, SHIFT)
    click(qtbot, viewer, (znt, -12.0, -27.0))
    point = ctl.entry("week 12", "NT1").point_mm
    assert point == pytest.approx((-27.0, -12.0, znt), abs=1.0)
    assert ctl.entry("week 12", "NT1").state.value == "present"
    assert_agree(measure, table, case_path, "week 12", "NT1")
    # "New lesion id" at a follow-up: a new lesion, nothing carried over from NT1 (non-target, node)
    qtbot.mouseClick(measure.new_lesion_button, Qt.MouseButton.LeftButton)
    assert measure.lesion.currentText() == "N2" and measure.role.currentText() == "new"
    assert measure.site.currentText() == "" and not measure.nodal.isChecked() and not measure.equivocal.isChecked()
    measure.role.setCurrentText("non_target")  # before it is used, the id follows the role
    assert measure.lesion.currentText() == "NT2"
