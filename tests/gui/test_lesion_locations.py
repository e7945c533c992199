"""Non-target and new lesions get a location from a click, and choosing any lesion goes to it (issue 13 §2):
on the sample patient, Shift+W then a click on the canvas places a new lesion (week 12) and moves the
non-target NT1 (week 24, another slice); a click on a table cell and a choice in the lesion box then show
that lesion's timepoint, slice and centre. Everything through the widgets, keys and canvas events."""

from __future__ import annotations

import numpy as np
import pytest
from napari_recist._session import camera_of, get_session
from napari_recist._world import lps_to_world
from qtpy.QtCore import Qt

import recist

from ._canvas import click, drag_tolerance_mm, press_key, settle
from ._reading import assert_agree, table_click

pytestmark = pytest.mark.gui

SHIFT = Qt.KeyboardModifier.ShiftModifier


def _shown_at(viewer, session, timepoint: str, lps_mm, tolerance_mm: float) -> None:
    """The viewer shows ``timepoint`` on the slice of ``lps_mm`` (world z) centred on it (world y, x)."""
    world = lps_to_world(np.asarray(lps_mm, dtype=float))
    assert session.timepoint == timepoint
    assert viewer.dims.point[0] == pytest.approx(world[0], abs=1e-6)
    np.testing.assert_allclose(np.asarray(camera_of(viewer).center)[-2:], world[1:], atol=tolerance_mm)
    shown = [layer.metadata["recist"]["timepoint"] for layer in session.image_layers(timepoint) if layer.visible]
    assert shown, f"no image of {timepoint} is shown"


def test_click_locations_of_new_and_non_target_lesions_and_going_to_them(reading, qtbot):
    viewer, measure, table, case_path = reading
    session = get_session(viewer)
    ctl = session.controller
    tolerance = drag_tolerance_mm(viewer)  # a click lands on a whole canvas pixel

    # week 12: a new lesion, placed with Shift+W and a click on T4's slice, away from the centre
    table_click(qtbot, table, "T4", "week 12")
    qtbot.mouseClick(measure.new_lesion_button, Qt.MouseButton.LeftButton)
    new_id = measure.lesion.currentText()
    assert measure.role.currentText() == "new" and new_id not in ctl.lesion_ids()
    measure.site.lineEdit().selectAll()
    qtbot.keyClicks(measure.site.lineEdit(), "liver")
    z_new = viewer.dims.point[0]
    press_key(qtbot, viewer, Qt.Key.Key_W, SHIFT)
    click(qtbot, viewer, (z_new, 30.0, 80.0))
    new = next(n for n in ctl.case.timepoints[1].new_lesions if n.id == new_id)
    assert new.point_mm == pytest.approx((80.0, 30.0, z_new), abs=tolerance)
    assert new.site == "liver" and new.image is not None
    row = next(r for r in table.model.rows if r.lesion_id == new_id)
    assert table.cell_text(row.header, "week 12").startswith("new")
    ctl.flush()
    assert recist.read_case(case_path) == ctl.case

    # week 24: NT1 moves to a point three images higher (Up arrow), its state kept
    table_click(qtbot, table, "NT1", "week 24")
    z0 = viewer.dims.point[0]
    for _ in range(3):
        press_key(qtbot, viewer, Qt.Key.Key_Up)
    z_nt = viewer.dims.point[0]
    assert z_nt > z0
    press_key(qtbot, viewer, Qt.Key.Key_W, SHIFT)
    click(qtbot, viewer, (z_nt, -5.0, -40.0))
    nt1 = ctl.entry("week 24", "NT1")
    assert nt1.point_mm == pytest.approx((-40.0, -5.0, z_nt), abs=tolerance)
    assert nt1.state.value == "present"
    assert_agree(measure, table, case_path, "week 24", "NT1")

    # elsewhere (T1 at the baseline), then the new lesion's table cell: week 12, its slice and centre
    table_click(qtbot, table, "T1", "baseline")
    _shown_at(viewer, session, "baseline", ctl.location_mm("baseline", "T1"), 1e-6)
    table_click(qtbot, table, new_id, "week 12")
    _shown_at(viewer, session, "week 12", new.point_mm, 1e-6)
    assert measure.lesion.currentText() == new_id and measure.timepoint.currentText() == "week 12"

    # the timepoint box, then the lesion box: NT1 at week 24, on its new slice
    measure.timepoint.setCurrentText("week 24")
    settle(qtbot)
    measure.lesion.setCurrentIndex(measure.lesion.findText("NT1"))
    settle(qtbot)
    _shown_at(viewer, session, "week 24", nt1.point_mm, 1e-6)
    # and its cell at the baseline: NT1 where it was at the baseline
    table_click(qtbot, table, "NT1", "baseline")
    _shown_at(viewer, session, "baseline", ctl.location_mm("baseline", "NT1"), 1e-6)
