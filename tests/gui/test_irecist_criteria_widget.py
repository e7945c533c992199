"""iRECIST from the widgets alone: the table's Criteria box switches the case to iRECIST (and back), and a
nodal new-lesion target gets its short axis drawn on the canvas with the Short axis button (RECIST 1.1
§4.2: a node is measured by its short axis; iRECIST I7: NLT measurable by RECIST 1.1, 15 mm for a node)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from napari.layers import Layer
from napari_recist._controller import CaseController
from napari_recist._layers import series_layers
from napari_recist._widgets import MeasurementWidget
from napari_recist._widgets.table import CaseTableWidget
from qtpy.QtCore import QPoint, Qt

from ._canvas import drag, drag_tolerance_mm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from dicom_factory import write_series  # noqa: E402

pytestmark = pytest.mark.gui

TIMEPOINTS = [{"label": "baseline", "date": "2024-01-10"}, {"label": "week 8", "date": "2024-03-06"}]


def test_criteria_box_and_a_nodal_nlt_short_axis_drawn_on_the_canvas(make_napari_viewer, qtbot, tmp_path):
    write_series(tmp_path / "ct", shape=(5, 64, 64), spacing_mm=(2.0, 1.0, 1.0))
    viewer = make_napari_viewer()
    for data, kwargs, kind in series_layers(tmp_path / "ct", timepoint_of=lambda _info: "week 8"):
        viewer.add_layer(Layer.create(data, kwargs, kind))
    controller = CaseController.new("SYN-3", TIMEPOINTS, tmp_path / "case.json")
    measure = MeasurementWidget(viewer, controller)
    table = CaseTableWidget(viewer, controller)
    ct = viewer.layers[0]  # the week-8 CT

    def world(row: float, col: float) -> np.ndarray:
        return np.asarray(ct.data_to_world((2, row, col)), dtype=float)

    measure.select("baseline", "T1", role="target", site="liver")
    measure.add_world_line(world(40, 10), world(40, 50))
    measure.select("week 8", "T1")
    measure.add_world_line(world(40, 10), world(40, 50))
    assert table.criteria.currentText() == "RECIST 1.1"
    assert all(row.header != "iRECIST response" for row in table.model.rows)

    # the reader switches the case to iRECIST with the keyboard in the Criteria box
    table.criteria.setFocus()
    qtbot.keyClick(table.criteria, Qt.Key.Key_I)
    assert controller.case.protocol.criteria == "iRECIST"
    assert any(row.header == "iRECIST response" for row in table.model.rows)

    # a new mesenteric node at week 8, nodal ticked with the mouse, marked NLT with the keyboard
    measure.select("week 8", "N1", role="new", site="mesenteric lymph node")
    box = measure.nodal
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert box.isChecked()
    measure.new_lesion_role.setFocus()
    qtbot.keyClick(measure.new_lesion_role, Qt.Key.Key_N)
    assert measure.new_lesion_role.currentText().startswith("NLT")
    viewer.dims.set_point(0, float(world(0, 0)[0]))
    viewer.reset_view()

    def draw(button, start, end) -> None:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        drag(qtbot, viewer, start, end, steps=30)  # a hand drag: many small moves

    draw(measure.long_button, world(20, 10), world(20, 40))  # 30 mm long axis
    entry = controller.entry("week 8", "N1")
    assert entry.nodal and entry.role.value == "target" and entry.long_axis_mm == pytest.approx(30.0, abs=drag_tolerance_mm(viewer))
    assert "short_axis_mm is required" in (controller.problems or "")  # a node is measured by its short axis
    draw(measure.short_button, world(12, 25), world(28, 25))  # 16 mm short axis
    entry = controller.entry("week 8", "N1")
    assert entry.short_axis_mm == pytest.approx(16.0, abs=drag_tolerance_mm(viewer))
    assert entry.long_axis_mm == pytest.approx(30.0, abs=drag_tolerance_mm(viewer))  # the long axis is kept
    assert controller.problems is None
    assert table.cell_text("iRECIST response", "week 8") == "iUPD"
    assert not any("N1" in note for note in table.model.notes)
    # redrawn at 12 mm short axis: under the 15 mm a node needs, flagged (iRECIST I7)
    draw(measure.short_button, world(14, 25), world(26, 25))
    assert any("N1" in note and "non-measurable" in note for note in table.notes.text().splitlines())

    # and back to RECIST 1.1 from the box: the iRECIST rows go
    table.criteria.setFocus()
    qtbot.keyClick(table.criteria, Qt.Key.Key_R)
    assert controller.case.protocol.criteria == "RECIST 1.1"
    assert all(row.header != "iRECIST response" for row in table.model.rows)
