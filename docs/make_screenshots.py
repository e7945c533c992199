"""Write the plugin's screenshots to docs/screenshots/ (needs an X server; run it under Xvfb):

    xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python docs/make_screenshots.py

The sample patient is opened the way File > Open Sample does (a working copy of the committed
sample_data/patient, here in a temporary cache folder). Three PNGs of the whole window, 1280 x 800:

- ``ct_lines_measurement_table.png``: week-12 CT (liver window W150/L90) with the case's lines, the
  Measurement dock (right) and the Case table dock (bottom);
- ``pet_suv_fused.png``: baseline 68Ga-DOTATATE SUVbw fused over the CT (colour map "hot", SUV 0-30, the
  plugin's default, docs/plugin.md) at the slice of T1: tumours > spleen > liver;
- ``timepoint_comparison.png``: week 24 beside the baseline in the Timepoint comparison dock (liver
  window; the reference shows the same modalities as the main view).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "screenshots"
SIZE = (1280, 800)
WINDOW = (1600, 1000)  # laid out larger, saved at SIZE


def _settle(app, seconds: float = 0.6) -> None:
    """Let Qt lay out, resize and paint (docks included) before a capture."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def _grab(viewer, app, path: Path) -> None:
    _settle(app)
    image = viewer.window._qt_window.grab().toImage()
    if (image.width(), image.height()) != SIZE:
        from qtpy.QtCore import Qt

        image = image.scaled(*SIZE, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    if not image.save(str(path)):
        raise OSError(f"could not write {path}")
    print(path)


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="recist-shots-")
    os.environ.setdefault("XDG_CONFIG_HOME", os.path.join(tmp, "config"))
    os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")  # never the user's working copy
    import napari
    from napari_recist._sample_data import sample_folder
    from napari_recist._session import get_session
    from napari_recist._widgets import CaseTableWidget, CompareWidget, MeasurementWidget
    from qtpy.QtWidgets import QApplication

    OUT.mkdir(exist_ok=True)
    viewer = napari.Viewer(show=True, title="recist: synthetic NET patient")
    app = QApplication.instance()
    viewer.window._qt_window.resize(*WINDOW)
    viewer.open(str(sample_folder()), plugin="recist")
    session = get_session(viewer)
    labels = session.controller.timepoint_labels
    measurement = MeasurementWidget(viewer)
    table = CaseTableWidget(viewer)
    viewer.window.add_dock_widget(measurement, name="Measurement", area="right")
    table_dock = viewer.window.add_dock_widget(table, name="Case table", area="bottom")
    _settle(app)
    from qtpy.QtCore import Qt

    viewer.window._qt_window.resizeDocks([table_dock], [330], Qt.Orientation.Vertical)
    camera = viewer.scene.camera

    # (a) CT with the lesion lines, the measurement and case-table docks
    session.lesion_id = "T1"
    session.go_to(labels[1], "T1")
    for layer in session.image_layers(labels[1]):
        layer.visible = "PET" not in layer.name
    measurement.set_window("liver")  # W150/L90: hypodense liver metastases stand out
    measurement.refresh()
    camera.zoom = 2.2
    _grab(viewer, app, OUT / "ct_lines_measurement_table.png")

    # (b) SUVbw fused over the CT at the slice of T1 (liver), where the spleen is seen too
    measurement.set_window("soft tissue")
    session.go_to(labels[0], "T1")
    camera.center = (camera.center[0], 0.0, 0.0)
    camera.zoom = 1.6
    _grab(viewer, app, OUT / "pet_suv_fused.png")

    # (c) the timepoint comparison: week 24 beside the baseline
    compare = CompareWidget(viewer)
    viewer.window.add_dock_widget(compare, name="Timepoint comparison", area="right", tabify=True)
    measurement.set_window("liver")
    session.lesion_id = "T2"
    session.go_to(labels[2], "T2")
    for layer in session.image_layers(labels[2]):
        layer.visible = "PET" not in layer.name  # the reference shows what the main view shows
    camera.zoom = 2.2
    compare.refresh()
    _grab(viewer, app, OUT / "timepoint_comparison.png")
    viewer.close()


if __name__ == "__main__":
    main()
