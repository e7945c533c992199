"""Helpers of the reading tests: open a read with its widgets docked, click a case-table cell as the reader does, and check that the Measurement
widget, the Case table and the case file on disk show the same measurement."""

from __future__ import annotations

from qtpy.QtCore import Qt

import recist

from ._canvas import settle

__all__ = ["open_reading", "open_soft_tissue_read", "table_click", "assert_agree"]


def open_reading(viewer, qtbot, path, size=(1600, 1000)):
    """Open ``path`` (a case folder, DICOM folder or reader package) with the recist reader in ``viewer``'s
    shown window of ``size``, with the Measurement and Case table widgets docked; returns both widgets."""
    viewer.window._qt_window.resize(*size)
    viewer.open(str(path), plugin="recist")
    _, measure = viewer.window.add_plugin_dock_widget("recist", "Measurement")
    _, table = viewer.window.add_plugin_dock_widget("recist", "Case table")
    settle(qtbot, 100)
    return measure, table


def _soft_tissue(_k: int, rows: int, columns: int):
    """Stored values of a slice at 40 HU everywhere (RescaleIntercept -1024): all of it is body."""
    import numpy as np

    return np.full((rows, columns), 40 + 1024, dtype=np.int16)


def open_soft_tissue_read(make_napari_viewer, qtbot, folder, lesion_id: str = "T1", site: str = "liver"):
    """A read started from one generated CT of 3 x 128 x 128 voxels of 3 mm (a 384 mm field, all of it
    body at 40 HU, so no line in it crosses the body outline) in a shown 1600 x 1000 window, with
    ``lesion_id`` and its ``site`` typed in the Measurement widget's boxes. Returns
    ``(viewer, measurement widget, table widget, timepoint label, world z of the middle slice)``."""
    import sys
    from pathlib import Path

    from napari_recist._session import get_session

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
    from dicom_factory import write_series

    write_series(folder / "baseline", shape=(3, 128, 128), spacing_mm=(5.0, 3.0, 3.0),
                 origin_mm=(-190.5, -190.5, -10.0), pixel_fn=_soft_tissue,
                 extra={"StudyDate": "20240108", "SeriesDate": "20240108", "PatientID": folder.name})
    viewer = make_napari_viewer(show=True)
    measure, table = open_reading(viewer, qtbot, folder)
    for box, text in ((measure.lesion, lesion_id), (measure.site, site)):
        box.lineEdit().selectAll()
        qtbot.keyClicks(box.lineEdit(), text)
    session = get_session(viewer)
    label = session.controller.timepoint_labels[0]
    z = float(session.ct_layer(label).data_to_world((1, 0, 0))[0])
    return viewer, measure, table, label, z


def table_click(qtbot, table, lesion_id: str, timepoint: str) -> None:
    """Click the table cell of a lesion at a timepoint with the mouse."""
    model = table.model
    r = next(i for i, row in enumerate(model.rows) if row.lesion_id == lesion_id)
    c = model.columns.index(timepoint)
    widget = table.table_widget
    item = widget.item(r, c)
    widget.scrollToItem(item)
    rect = widget.visualItemRect(item)
    qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    settle(qtbot)


def assert_agree(measure, table, case_path, timepoint: str, lesion_id: str) -> None:
    """Widget, table and file show the same measurement of a lesion at a timepoint."""
    session = measure.session
    session.controller.flush()  # the autosave is written off the UI thread
    saved = recist.read_case(case_path)
    assert saved == session.controller.case
    tp = next(tp for tp in saved.timepoints if tp.label == timepoint)
    entry = tp.targets.get(lesion_id)
    header = next(r.header for r in table.model.rows if r.lesion_id == lesion_id)
    cell = table.cell_text(header, timepoint)
    if lesion_id in tp.non_targets:
        words = {"present": "present", "absent": "absent", "unequivocal_progression": "unequivocal PD",
                 "not_evaluated": "NE"}
        assert cell.startswith(words[tp.non_targets[lesion_id].state.value])
        return
    if entry is None or entry.long_axis_mm is None:
        assert cell in ("", "too small", "disappeared", "NE") or cell.startswith(("split", "merged"))
        return
    nodal = next(lesion.nodal for lesion in saved.lesions if lesion.id == lesion_id)
    if nodal:  # a node counts by its short axis (RECIST 1.1 §3.1.1, §4.2), which the table shows
        assert cell == (f"{entry.short_axis_mm:.1f} SA" if entry.short_axis_mm is not None else "SA to confirm")
    else:
        assert cell == f"{entry.long_axis_mm:.1f}"
    if session.lesion_id == lesion_id and session.timepoint == timepoint:
        assert measure.length.text().startswith(f"long {entry.long_axis_mm:.1f} mm")
        if nodal and entry.short_axis_mm is not None:
            assert f"short {entry.short_axis_mm:.1f} mm" in measure.length.text()


