"""Write the plugin's screenshots to docs/screenshots/ (run under an X server, e.g.
``xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_screenshots.py``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "screenshots"


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="recist-shots-")
    os.environ.setdefault("XDG_CONFIG_HOME", os.path.join(tmp, "config"))
    os.environ.setdefault("XDG_CACHE_HOME", os.path.join(tmp, "cache"))
    import napari

    from napari_recist._session import get_session
    from recist.io.sample import make_sample_patient

    patient = make_sample_patient(Path(tmp) / "patient")
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    viewer.open(str(patient.out_dir), plugin="recist")
    viewer.window.add_plugin_dock_widget("recist", "Measurement")
    viewer.window.add_plugin_dock_widget("recist", "Case table", tabify=False)
    session = get_session(viewer)
    labels = session.controller.timepoint_labels
    session.go_to(labels[1], "T1")
    viewer.camera.zoom *= 1.5
    OUT.mkdir(exist_ok=True)
    viewer.screenshot(str(OUT / "canvas_fused_ct_pet.png"), canvas_only=True, flash=False)
    viewer.screenshot(str(OUT / "window_measurement_and_table.png"), canvas_only=False, flash=False)
    _, compare = viewer.window.add_plugin_dock_widget("recist", "Timepoint comparison")
    session.go_to(labels[2], "T2")
    viewer.screenshot(str(OUT / "window_timepoint_comparison.png"), canvas_only=False, flash=False)
    compare.close_canvas()
    viewer.close()
    print("\n".join(str(p) for p in sorted(OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
