"""Drive napari's canvas as a reader does: Qt key presses and mouse drags on the real vispy canvas widget.

Mouse moves are spaced by 15 ms: vispy drops a move that follows the previous one within 10 ms
(and napari then never learns what is under the cursor). The helpers map world points (napari world = LPS reversed, mm) to canvas pixels through vispy's own scene
transform and send real Qt events to the canvas widget, so napari's mouse and key bindings (and the
plugin's Qt shortcuts) see exactly what a mouse and keyboard would give them.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QEvent, QPoint, QPointF, Qt
from qtpy.QtGui import QMouseEvent
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QApplication

__all__ = ["canvas_widget", "world_to_canvas", "drag", "click", "activate", "press_key", "settle", "answer_next_dialog"]


def canvas_widget(viewer):
    """The Qt widget of the viewer's vispy canvas (where mouse events are delivered)."""
    return viewer.window._qt_viewer.canvas.native


def world_to_canvas(viewer, world_point) -> QPoint:
    """Canvas pixel of a world point on the displayed slice (through vispy's scene transform)."""
    canvas = viewer.window._qt_viewer.canvas
    view = canvas.view
    transform = view.transform * view.scene.transform
    displayed = list(viewer.dims.displayed)
    xy = np.asarray(world_point, dtype=float)[displayed][::-1]
    mapped = transform.map(list(xy))
    return QPoint(int(round(mapped[0])), int(round(mapped[1])))


def _send(widget, kind, pos: QPoint, button, buttons, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    if kind == QEvent.Type.MouseMove:
        QTest.qWait(15)  # vispy drops a mouse move that comes less than 10 ms after the previous one
    local = QPointF(pos)
    global_pos = QPointF(widget.mapToGlobal(pos))
    event = QMouseEvent(kind, local, global_pos, button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def drag(qtbot, viewer, start_world, end_world, steps: int = 5) -> None:
    """Press the left button at ``start_world``, move in ``steps`` to ``end_world`` and release."""
    widget = canvas_widget(viewer)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    start, end = world_to_canvas(viewer, start_world), world_to_canvas(viewer, end_world)
    _send(widget, QEvent.Type.MouseMove, start, none, none)
    _send(widget, QEvent.Type.MouseButtonPress, start, left, left)
    for n in range(1, steps + 1):
        f = n / steps
        pos = QPoint(int(round(start.x() + f * (end.x() - start.x()))),
                     int(round(start.y() + f * (end.y() - start.y()))))
        _send(widget, QEvent.Type.MouseMove, pos, none, left)
    _send(widget, QEvent.Type.MouseMove, end, none, left)  # once more: the last move must not be dropped
    QTest.qWait(15)
    _send(widget, QEvent.Type.MouseButtonRelease, end, left, none)
    settle(qtbot)


def click(qtbot, viewer, world_point) -> None:
    """A left click (press and release without moving) at a world point."""
    widget = canvas_widget(viewer)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    pos = world_to_canvas(viewer, world_point)
    _send(widget, QEvent.Type.MouseMove, pos, none, none)
    _send(widget, QEvent.Type.MouseButtonPress, pos, left, left)
    _send(widget, QEvent.Type.MouseButtonRelease, pos, left, none)
    settle(qtbot)


def activate(qtbot, viewer) -> None:
    """Make the viewer's main window the active window (keys go to the active window; without a window
    manager under Xvfb nothing activates it by itself)."""
    window = viewer.window._qt_window
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)


def press_key(qtbot, viewer, key, modifiers=Qt.KeyboardModifier.NoModifier, widget=None) -> None:
    """A key press and release on the canvas (or ``widget``) of the active main window, as the keyboard
    gives it (Qt shortcuts first, then the widget with the focus)."""
    activate(qtbot, viewer)
    target = widget if widget is not None else canvas_widget(viewer)
    target.setFocus()
    qtbot.keyClick(target, key, modifiers)
    settle(qtbot)


def settle(qtbot, ms: int = 30) -> None:
    """Let queued Qt events (deferred recording, repaints) run."""
    qtbot.wait(ms)


_TIMERS: list = []


def answer_next_dialog(yes: bool, seen: list | None = None, delay_ms: int = 100) -> None:
    """Click Yes or No on the next modal question box, as the reader would (``seen`` gets its text).
    A QTimer polls for the box (kept referenced here until it has answered)."""
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QMessageBox

    timer = QTimer()
    timer.setInterval(delay_ms)

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            boxes = [w for w in QApplication.allWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
            if not boxes:
                return
            box = boxes[-1]
        timer.stop()
        _TIMERS.remove(timer)
        if seen is not None:
            seen.append(box.text())
        box.button(QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.No).click()

    timer.timeout.connect(click)
    _TIMERS.append(timer)
    timer.start()
