"""A measurement no RECIST target can have asks before it is recorded (issue 13 §1): a line over 300 mm
dragged with real mouse events on a large CT (384 mm field, every pixel inside the body, so the length is
the only reason). No: nothing is recorded, and the widget, the table and the file agree; Yes: recorded."""

from __future__ import annotations

import numpy as np
import pytest
from napari_recist._controller import read_draft
from napari_recist._session import get_session
from qtpy.QtCore import Qt

from recist.measure.plausible import MAX_PLAUSIBLE_MM

from ._canvas import answer_next_dialog, drag, drag_tolerance_mm, press_key, settle
from ._reading import assert_agree, open_soft_tissue_read

pytestmark = pytest.mark.gui

SHIFT = Qt.KeyboardModifier.ShiftModifier


def test_a_line_longer_than_any_target_asks_and_no_records_nothing(make_napari_viewer, qtbot, tmp_path):
    viewer, measure, table, label, z = open_soft_tissue_read(make_napari_viewer, qtbot, tmp_path / "NET-001")
    session = get_session(viewer)
    ctl = session.controller
    case_path = ctl.path
    start, end = np.array([z, 0.0, -160.0]), np.array([z, 0.0, 160.0])  # 320 mm across the field
    assert np.linalg.norm(end - start) > MAX_PLAUSIBLE_MM

    seen: list[str] = []
    answer_next_dialog(False, seen)
    press_key(qtbot, viewer, Qt.Key.Key_D, SHIFT)
    drag(qtbot, viewer, start, end)
    assert len(seen) == 1 and "T1" in seen[0] and "more than any target lesion" in seen[0]
    assert "body outline" not in seen[0]
    # No: nothing recorded anywhere; the drawn line is gone from the canvas
    assert ctl.entry(label, "T1") is None
    assert len(session.lines_layer(label).data) == 0
    assert not measure.length.text().startswith("long")
    assert all(row.lesion_id != "T1" or table.cell_text(row.header, label) == "" for row in table.model.rows)
    ctl.flush()
    saved = read_draft(case_path)
    assert saved == ctl.case and not saved.timepoints[0].targets

    answer_next_dialog(True, seen)
    press_key(qtbot, viewer, Qt.Key.Key_D, SHIFT)
    drag(qtbot, viewer, start, end)
    settle(qtbot)
    assert len(seen) == 2 and "more than any target lesion" in seen[1]
    # Yes: recorded as drawn, and the widget, the table and the file say the same
    entry = ctl.entry(label, "T1")
    assert entry is not None and entry.long_axis_mm == pytest.approx(320.0, abs=drag_tolerance_mm(viewer))
    assert len(session.lines_layer(label).data) == 1
    assert_agree(measure, table, case_path, label, "T1")
