"""Drive napari's canvas as a reader does: Qt key presses and mouse drags on the real vispy canvas widget.

The helpers take world points (napari world = LPS reversed, mm) and send real Qt events to the canvas
widget through :mod:`.canvas_events` (which maps them with vispy's own scene transform and spaces mouse
moves so that vispy drops none), so napari's mouse and key bindings (and the plugin's Qt shortcuts) see
exactly what a mouse and keyboard would give them.
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QApplication

from . import canvas_events
from .canvas_events import canvas_widget, world_to_canvas

__all__ = ["canvas_widget", "world_to_canvas", "drag", "drag_tolerance_mm", "click", "activate", "press_key", "settle", "answer_next_dialog"]


def drag(qtbot, viewer, start_world, end_world, steps: int = 5) -> None:
    """Press the left button at ``start_world``, move in ``steps`` to ``end_world`` and release."""
    canvas_events.drag(canvas_widget(viewer), world_to_canvas(viewer, start_world), world_to_canvas(viewer, end_world),
                       steps=steps)
    settle(qtbot)


def drag_tolerance_mm(viewer) -> float:
    """How far a dragged length can be from the recorded one, mm: events carry whole canvas pixels, so each
    end may move by up to half a pixel in x and y (together under one pixel, two for a line)."""
    from napari_recist._session import camera_of

    return 2.0 / float(camera_of(viewer).zoom)


def click(qtbot, viewer, world_point) -> None:
    """A left click (press and release without moving) at a world point."""
    widget, pos = canvas_widget(viewer), world_to_canvas(viewer, world_point)
    canvas_events.mouse(widget, "move", pos, buttons=Qt.MouseButton.NoButton)
    canvas_events.mouse(widget, "press", pos)
    canvas_events.mouse(widget, "release", pos)
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
