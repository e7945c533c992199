"""End to end in napari: sample patient, docked widgets, lines, roles, table vs recist.assess, save, reopen."""

import gc
import shutil
import weakref

import numpy as np
import pytest
from napari_recist._reader import get_reader
from napari_recist._session import get_session

import recist

pytestmark = pytest.mark.gui


def _open(viewer, path):
    viewer.open(str(path), plugin="recist")


def test_end_to_end_on_the_sample_patient(make_napari_viewer, sample_patient_dir, tmp_path):
    work = tmp_path / "patient"
    shutil.copytree(sample_patient_dir, work)
    viewer = make_napari_viewer()
    _open(viewer, work)
    names = [layer.name for layer in viewer.layers]
    assert any("CT" in n for n in names) and any("PET SUVbw" in n for n in names), names
    _, measure = viewer.window.add_plugin_dock_widget("recist", "Measurement")
    _, table = viewer.window.add_plugin_dock_widget("recist", "Case table")
    session = get_session(viewer)
    ctl = session.controller
    assert ctl is not None and ctl.path == work / "case.json"
    original = ctl.case
    # world coordinates: the CT voxel (0, 0, 0) lies at the series origin (LPS), reversed
    ct = session.ct_layer("baseline")
    series = ct.metadata["recist"]["series"]
    origin_lps = np.asarray(series["affine"])[:3, 3]
    assert np.allclose(ct.data_to_world((0, 0, 0)), origin_lps[::-1])
    # draw a new long axis for T1 at week 12 (world coordinates, through the widget's callback)
    label = ctl.timepoint_labels[1]
    measure.select(label, "T1")
    z = float(ct.data_to_world((10, 0, 0))[0])
    length = measure.add_world_line((z, -20.0, -60.0), (z, -20.0, -30.0))
    assert length == pytest.approx(30.0)
    assert ctl.entry(label, "T1").long_axis_mm == pytest.approx(30.0)
    week_series = session.ct_layer(label).metadata["recist"]["series"]
    assert ctl.entry(label, "T1").image.series_uid == week_series["series_uid"]
    assert ctl.entry(label, "T1").image.sop_uid == week_series["sop_uids"][10]
    expected = recist.assess(ctl.case)
    tp = expected.timepoints[0]
    assert table.cell_text("Sum (mm)", label) == f"{tp.sum_mm:.1f}"
    assert table.cell_text("Overall response", label) == tp.overall_response.value
    # node: proposed short axis, then a state and a role change
    measure.select(label, "T4")
    short_before = ctl.entry(label, "T4").short_axis_mm
    measure.add_world_line((z, 10.0, 0.0), (z, 10.0, 20.0))  # re-drawn long axis keeps the short axis
    assert ctl.entry(label, "T4").long_axis_mm == pytest.approx(20.0)
    assert ctl.entry(label, "T4").short_axis_mm == pytest.approx(short_before)
    measure.set_state("too_small")
    assert table.cell_text(next(r.header for r in table.model.rows if r.lesion_id == "T4"), label) == "too small"
    measure.select(label, "NT1")
    measure.set_non_target("absent")
    measure.select(ctl.timepoint_labels[2], "N9", role="new", site="bone", equivocal=True)
    measure.add_world_line((z, 0.0, 0.0), (z, 0.0, 12.0))
    assert ctl.case.timepoints[2].new_lesions[-1].equivocal is True
    expected = recist.assess(ctl.case)
    for tp in expected.timepoints:
        assert table.cell_text("Overall response", tp.label) == tp.overall_response.value
    assert table.best.text().endswith(expected.best_overall_response.value)
    # the lines layer shows the lines of the timepoint with their lengths
    lines = session.lines_layer(label)
    assert "T1" in list(lines.features["lesion"])
    # undo the last change, then a table click navigates
    measure.select(label, "T1", role="target")
    before = ctl.case
    measure.set_state("not_evaluated")
    assert ctl.entry(label, "T1").state.value == "not_evaluated"
    measure.undo()
    assert ctl.case == before
    row = next(i for i, r in enumerate(table.model.rows) if r.lesion_id == "T1")
    table._on_click(row, 0)
    assert session.timepoint == ctl.timepoint_labels[0]
    # on the image nearest to the lesion's line (the slider is on the CT's slices)
    spacing = abs(session.ct_layer().affine.affine_matrix[0, 0])
    assert viewer.dims.point[0] == pytest.approx(ctl.location_mm(ctl.timepoint_labels[0], "T1")[2], abs=spacing / 2)
    # autosaved (off the UI thread: wait for it); reopening gives exactly the same case
    ctl.flush()
    saved = recist.read_case(work / "case.json")
    assert saved == ctl.case != original
    viewer2 = make_napari_viewer()
    _open(viewer2, work / "case.json")
    assert get_session(viewer2).controller.case == saved


def test_compare_shows_the_first_follow_up_beside_the_baseline(reading, qtbot):
    """A read opens on the baseline: the comparison shows the first follow-up beside it (the baseline beside
    itself shows nothing to compare); at a follow-up (Shift+T, the next timepoint) it shows the baseline."""
    from qtpy.QtCore import Qt

    from ._canvas import press_key

    viewer, _measure, _table, _case = reading
    session = get_session(viewer)
    compare = session.widgets()["compare"]
    labels = session.controller.timepoint_labels
    assert session.timepoint == labels[0]
    assert compare.shown == labels[1]
    press_key(qtbot, viewer, Qt.Key.Key_T, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: session.timepoint == labels[1], timeout=5000)
    assert compare.shown == labels[0]


def test_compare_widget_follows_position(make_napari_viewer, sample_patient_dir):
    viewer = make_napari_viewer()
    _open(viewer, sample_patient_dir)
    _, compare = viewer.window.add_plugin_dock_widget("recist", "Timepoint comparison")
    session = get_session(viewer)
    session.set_timepoint(session.controller.timepoint_labels[2])
    assert compare.shown == session.controller.timepoint_labels[0]
    viewer.dims.set_point(0, viewer.dims.point[0] + 10)
    assert compare.model.dims.point[0] == pytest.approx(viewer.dims.point[0])
    assert any("CT" in layer.name for layer in compare.model.layers)
    # the reference shows the modalities the main view shows: a PET hidden there is hidden here
    for layer in session.image_layers(session.timepoint):
        layer.visible = "PET" not in layer.name
    compare.refresh()
    shown = {layer.name: layer.visible for layer in compare.model.layers if layer.name.endswith(("CT", "SUVbw"))}
    assert any(v for n, v in shown.items() if "CT" in n) and not any(v for n, v in shown.items() if "PET" in n)
    # closing the viewer closes and frees the reference canvas (the napari fixture also counts leaks)
    canvas = weakref.ref(compare.qt_viewer)
    viewer.close()
    assert compare.qt_viewer is None
    gc.collect()
    assert canvas() is None


def test_reader_rejects_foreign_and_reports_bad_input(tmp_path, make_napari_viewer):
    (tmp_path / "notes.txt").write_text("hello")
    assert get_reader(str(tmp_path / "notes.txt")) is None
    assert get_reader(str(tmp_path)) is None
    assert get_reader(str(tmp_path / "missing.json")) is None
    assert get_reader([str(tmp_path), str(tmp_path)]) is None
    bad = tmp_path / "case.json"
    bad.write_text('{"format": "recist.case/1", "subject": 3}')
    reader = get_reader(str(bad))
    assert reader is not None
    assert reader(str(bad)) == [(None,)]  # error notification, no layers, no exception


def test_npe2_validate():
    from npe2 import PluginManifest

    manifest = PluginManifest.from_distribution("recist")
    assert manifest.name == "recist"
    assert all(c.id.startswith("recist.") for c in manifest.contributions.commands)
