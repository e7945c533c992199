"""Write the plugin's screenshots to docs/screenshots/ (needs an X server; run it under Xvfb):

    xvfb-run -a -s "-screen 0 1920x1200x24" .venv/bin/python docs/make_screenshots.py

The sample patient is opened the way File > Open Sample does (a working copy of the committed
sample_data/patient, here in a temporary cache folder) in a 1600 x 1000 window, which lays itself out in
the plugin's default reading layout (docs/plugin.md): comparison | current timepoint | Measurement, case
table below. Nothing is resized by hand. Three PNGs of the whole window, 1600 x 1000:

- ``ct_lines_measurement_table.png``: week 12 (current) beside the baseline (comparison), both centred on
  T1 by choosing it in the case table, liver window W150/L90 (one click applies it to both), PET off;
- ``pet_suv_fused.png``: the same with the 68Ga-DOTATATE SUVbw fused over the CT (colour map "hot", SUV
  0-30, the plugin's default): tumours > spleen > liver;
- ``timepoint_comparison.png``: week 24 beside the baseline at T2, the growing liver lesion.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "screenshots"
WINDOW = (1600, 1000)


def _settle(app, seconds: float = 0.8) -> None:
    """Let Qt lay out, resize and paint (docks included) before a capture."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def _grab(viewer, app, path: Path) -> None:
    _settle(app)
    if not viewer.window._qt_window.grab().toImage().save(str(path)):
        raise OSError(f"could not write {path}")
    print(path)


def _choose(table, lesion_id: str, timepoint: str) -> None:
    """Click a lesion's cell of the case table (what the reader does to go to it)."""
    row = next(r for r, x in enumerate(table.model.rows) if x.lesion_id == lesion_id)
    table._on_click(row, table.model.columns.index(timepoint))


def _pet(session, visible: bool) -> None:
    for layer in session.image_layers(session.timepoint):
        if layer.metadata["recist"]["series"]["modality"] == "PT":
            layer.visible = visible


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="recist-shots-")
    os.environ.setdefault("XDG_CONFIG_HOME", os.path.join(tmp, "config"))
    os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")  # never the user's working copy
    import napari
    from napari_recist._sample_data import sample_folder
    from napari_recist._session import get_session
    from qtpy.QtWidgets import QApplication

    OUT.mkdir(exist_ok=True)
    viewer = napari.Viewer(show=True, title="recist: synthetic NET patient")
    app = QApplication.instance()
    viewer.window._qt_window.resize(*WINDOW)
    _settle(app, 0.3)
    viewer.open(str(sample_folder()), plugin="recist")
    session = get_session(viewer)
    while len(session.widgets()) < 3:  # the reading layout, applied by the plugin
        app.processEvents()
    _settle(app)
    widgets = session.widgets()
    table, measurement = widgets["table"], widgets["measurement"]
    labels = session.controller.timepoint_labels

    # (a) week 12 beside the baseline at T1, liver window, PET off
    _choose(table, "T1", labels[1])
    _pet(session, False)
    measurement.set_window("liver")  # W150/L90: hypodense liver metastases stand out
    viewer.camera.zoom = 2.0
    _grab(viewer, app, OUT / "ct_lines_measurement_table.png")

    # (b) SUVbw fused over the CT (soft-tissue window), the whole slice
    measurement.set_window("soft tissue")
    _pet(session, True)
    viewer.camera.zoom = 1.3
    _grab(viewer, app, OUT / "pet_suv_fused.png")

    # (c) week 24 beside the baseline at T2 (the PET switched off stays off across timepoints)
    _pet(session, False)
    measurement.set_window("liver")
    _choose(table, "T2", labels[2])
    viewer.camera.zoom = 2.0
    _grab(viewer, app, OUT / "timepoint_comparison.png")
    viewer.close()


if __name__ == "__main__":
    main()
