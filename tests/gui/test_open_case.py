"""Opening a case as a reader does (File > Open of the patient folder: napari's ``viewer.open`` with the
recist reader), with no plugin widget opened before: the reading session comes with the case, shows the
first timepoint only, lays out the reading window by itself and draws its canvases once it is laid out."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from napari_recist._widgets import CaseTableWidget, CompareWidget, MeasurementWidget

pytestmark = pytest.mark.gui


def test_open_alone_lays_out_the_reading_window(make_napari_viewer, qtbot, sample_patient_dir, tmp_path):
    work = tmp_path / "patient"
    shutil.copytree(sample_patient_dir, work)
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(1600, 1000)
    viewer.open(str(work), plugin="recist")  # what File > Open does; nothing of the plugin asked for before
    kinds = (CompareWidget, MeasurementWidget, CaseTableWidget)
    qtbot.waitUntil(lambda: all(len(window.findChildren(kind)) == 1 for kind in kinds), timeout=20000)
    qtbot.wait(200)
    measurement = window.findChildren(MeasurementWidget)[0]
    compare = window.findChildren(CompareWidget)[0]
    assert measurement.isVisible() and compare.isVisible() and window.findChildren(CaseTableWidget)[0].isVisible()
    # one timepoint shown (the baseline), one lines layer per timepoint (none made twice)
    shown = sorted(layer.name for layer in viewer.layers if layer.visible)
    assert shown == ["baseline CT", "baseline PET SUVbw", "baseline lines"], shown
    lines = sorted(layer.metadata["recist"]["timepoint"] for layer in viewer.layers
                   if layer.metadata.get("recist", {}).get("kind") == "lines")
    assert lines == ["baseline", "week 12", "week 24"], [layer.name for layer in viewer.layers]
    assert measurement.timepoint.currentText() == "baseline"
    # both canvases draw again after the layout (drawing is held only while the docks are sized) and
    # show the image: not a black canvas
    for canvas in (viewer.window._qt_viewer.canvas, compare.qt_viewer.canvas):
        assert not canvas.events.draw.blocked()
    picture = viewer.screenshot(canvas_only=True, flash=False)
    assert np.asarray(picture)[..., :3].max() > 50


def test_open_with_a_widget_docked_first_makes_no_second_lines_layer(make_napari_viewer, qtbot, sample_patient_dir,
                                                                     tmp_path):
    work = tmp_path / "patient"
    shutil.copytree(sample_patient_dir, work)
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    viewer.window.add_plugin_dock_widget("recist", "Measurement")  # the reader opened the controls first
    viewer.open(str(work), plugin="recist")
    window = viewer.window._qt_window
    qtbot.waitUntil(lambda: len(window.findChildren(CompareWidget)) == 1, timeout=20000)
    qtbot.wait(200)
    lines = sorted(layer.metadata["recist"]["timepoint"] for layer in viewer.layers
                   if layer.metadata.get("recist", {}).get("kind") == "lines")
    assert lines == ["baseline", "week 12", "week 24"], [layer.name for layer in viewer.layers]
    assert len(window.findChildren(MeasurementWidget)) == 1
