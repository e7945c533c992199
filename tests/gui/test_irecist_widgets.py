"""iRECIST in napari: the reader marks a new lesion as a new-lesion target (NLT) in the measurement widget,
and the case table shows the iRECIST responses and the iBOR beside RECIST 1.1."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from napari.layers import Layer
from napari_recist._controller import CaseController
from napari_recist._layers import series_layers
from napari_recist._session import get_session
from napari_recist._widgets import MeasurementWidget
from napari_recist._widgets.table import CaseTableWidget
from qtpy.QtCore import QPoint, Qt

import recist

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from dicom_factory import write_series  # noqa: E402

pytestmark = pytest.mark.gui

TIMEPOINTS = [{"label": "baseline", "date": "2024-01-10"}, {"label": "week 8", "date": "2024-03-06"},
              {"label": "week 16", "date": "2024-05-01"}]


def test_reader_records_an_nlt_and_the_table_shows_pseudo_progression(make_napari_viewer, qtbot, tmp_path):
    write_series(tmp_path / "ct", shape=(6, 24, 20), spacing_mm=(3.0, 1.0, 1.0))
    viewer = make_napari_viewer()
    for data, kwargs, kind in series_layers(tmp_path / "ct", timepoint_of=lambda _info: "baseline"):
        viewer.add_layer(Layer.create(data, kwargs, kind))
    controller = CaseController.new("SYN-2", TIMEPOINTS, tmp_path / "case.json")
    controller.set_criteria("iRECIST")
    measure = MeasurementWidget(viewer, controller)
    table = CaseTableWidget(viewer, controller)
    session = get_session(viewer)
    z = float(session.ct_layer().data_to_world((2, 0, 0))[0])

    def line(length_mm: float):
        return (z, -110.0, -95.0), (z, -110.0, -95.0 + length_mm)

    measure.select("baseline", "T1", role="target", site="liver")
    measure.add_world_line(*line(20.0))
    measure.select("week 8", "T1")
    measure.add_world_line(*line(20.0))
    # a new lesion at week 8, marked NLT with the keyboard in the iRECIST combo box
    measure.select("week 8", "N1", role="new", site="lung")
    measure.new_lesion_role.setFocus()
    qtbot.keyClick(measure.new_lesion_role, Qt.Key_N)
    assert measure.new_lesion_role.currentText().startswith("NLT")
    measure.add_world_line(*line(12.0))
    assert controller.entry("week 8", "N1").role.value == "target"
    # week 16: the target shrinks by 40 % (PR), the NLT is the same: iPR, the bar is reset
    measure.select("week 16", "T1", role="target")
    measure.add_world_line(*line(12.0))
    measure.select("week 16", "N1", role="new", site="lung")
    measure.add_world_line(*line(12.0))
    assert table.cell_text("Overall response", "week 8") == "PD"
    assert table.cell_text("iRECIST response", "week 8") == "iUPD"
    assert table.cell_text("iRECIST response", "week 16") == "iPR"
    assert "N1 (new, NLT)" in [row.header for row in table.model.rows]
    assert table.best.text() == "Best overall response: PD; iBOR: iPR"
    # the new lesion gone at week 16, set with the state box; the non-target grew (iRECIST INCLA)
    measure.nt_state.setCurrentText("absent")
    qtbot.mouseClick(measure.nt_button, Qt.LeftButton)
    assert controller.entry("week 16", "N1").state.value == "absent"
    assert controller.entry("week 16", "N1").role.value == "target"
    assert table.cell_text("N1 (new, NLT)", "week 16") == "gone"
    measure.select("week 16", "NT1", role="non_target", site="peritoneum")
    measure.nt_state.setCurrentText("present")
    box = measure.nt_increased  # click on its indicator, at the left end of the box
    qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))
    assert box.isChecked()
    qtbot.mouseClick(measure.nt_button, Qt.LeftButton)
    assert controller.entry("week 16", "NT1").increased_since_previous is True
    controller.flush()
    saved = recist.read_case(tmp_path / "case.json")
    assert saved.protocol.criteria == "iRECIST"
    assert saved.timepoints[2].new_lesions[0].role.value == "target"
