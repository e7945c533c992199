"""Helpers of the reading tests: open a read with its widgets docked, click a case-table cell as the reader does, and check that the Measurement
widget, the Case table and the case file on disk show the same measurement."""

from __future__ import annotations

from qtpy.QtCore import Qt

import recist

from ._canvas import settle

__all__ = ["open_reading", "table_click", "assert_agree"]


def open_reading(viewer, qtbot, path, size=(1600, 1000)):
    """Open ``path`` (a case folder, DICOM folder or reader package) with the recist reader in ``viewer``'s
    shown window of ``size``, with the Measurement and Case table widgets docked; returns both widgets."""
    viewer.window._qt_window.resize(*size)
    viewer.open(str(path), plugin="recist")
    _, measure = viewer.window.add_plugin_dock_widget("recist", "Measurement")
    _, table = viewer.window.add_plugin_dock_widget("recist", "Case table")
    settle(qtbot, 100)
    return measure, table


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


