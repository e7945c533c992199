"""Real Qt mouse and wheel events on a napari canvas (tests and benchmarks/bench_plugin.py).

napari's canvas is a vispy ``SceneCanvas`` whose ``native`` is a QWidget; events sent to it go through
vispy's Qt backend into napari's mouse callbacks and layer modes, exactly as a reader's hand does.
Positions are given in world coordinates and mapped to the widget's pixels with the canvas' own
scene transform (the inverse of napari's ``_map_canvas2world``).

Every move sent reaches napari, in order, before the next event (a drag ends where it was meant to):

- vispy drops a mouse move that comes less than 10 ms after the previous move it delivered
  (``vispy.app.base._vispy_mouse_move``), so :func:`mouse` spaces moves by :data:`MOVE_INTERVAL_S`,
  processing Qt events while it waits;
- napari handles at most one move per 5 ms (its move handler is throttled with superqt's ``qthrottled``);
  a move within that time waits for the throttle's timer, and a release sent before the timer fires ends a
  drawing one step short. After each move :func:`mouse` flushes that throttle (what its timer would do a
  few ms later), so the move is handled before the helper returns.

A helper that sent moves faster drew lines shorter than the test meant, which loose tolerances hid.
"""

from __future__ import annotations

import time

import numpy as np
from qtpy.QtCore import QPoint, QPointF, Qt
from qtpy.QtGui import QEnterEvent, QMouseEvent, QWheelEvent
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QApplication

__all__ = ["canvas_widget", "world_to_canvas", "enter", "mouse", "drag", "wheel", "MOVE_INTERVAL_S"]

#: Time between two mouse moves sent, s (vispy drops a move within 10 ms of the previous one).
MOVE_INTERVAL_S = 0.015
_last_move = 0.0  # time.perf_counter() after the last move was handled


def canvas_widget(viewer_or_qt_viewer):
    """The QWidget of a viewer's canvas (``viewer`` with a window, or a ``QtViewer``)."""
    qt_viewer = getattr(getattr(viewer_or_qt_viewer, "window", None), "_qt_viewer", viewer_or_qt_viewer)
    return qt_viewer.canvas.native


def world_to_canvas(viewer_or_qt_viewer, world_point) -> QPointF:
    """Widget pixel position (logical) of a world point on the displayed plane."""
    qt_viewer = getattr(getattr(viewer_or_qt_viewer, "window", None), "_qt_viewer", viewer_or_qt_viewer)
    canvas = qt_viewer.canvas
    view = canvas.view
    displayed = list(qt_viewer.viewer.dims.displayed)
    xy = [float(np.asarray(world_point)[d]) for d in displayed[::-1]]
    mapped = (view.transform * view.scene.transform).map(xy)
    ratio = canvas.native.devicePixelRatioF()
    return QPointF(float(mapped[0]) / ratio, float(mapped[1]) / ratio)


def enter(widget, pos: QPointF) -> None:
    """The pointer enters ``widget`` at ``pos`` (napari shows cursor status only while it is over the canvas)."""
    global_pos = QPointF(widget.mapToGlobal(QPoint(round(pos.x()), round(pos.y()))))
    QApplication.sendEvent(widget, QEnterEvent(pos, pos, global_pos))
    QApplication.processEvents()


def mouse(widget, kind: str, pos: QPointF, *, buttons=Qt.MouseButton.LeftButton,
          modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Send one mouse event (``"press"``, ``"move"`` or ``"release"``) to ``widget`` at ``pos``."""
    types = {"press": QMouseEvent.Type.MouseButtonPress, "move": QMouseEvent.Type.MouseMove,
             "release": QMouseEvent.Type.MouseButtonRelease}
    button = Qt.MouseButton.NoButton if kind == "move" else Qt.MouseButton.LeftButton
    held = Qt.MouseButton.NoButton if kind == "release" else buttons
    global_pos = QPointF(widget.mapToGlobal(QPoint(round(pos.x()), round(pos.y()))))
    event = QMouseEvent(types[kind], pos, global_pos, button, held, modifiers)
    if kind == "move":
        _wait_for_next_move()
    QApplication.sendEvent(widget, event)
    if kind == "move":
        global _last_move
        _last_move = time.perf_counter()  # after vispy took its own time stamp
        for throttled in _throttled_move_handlers(widget):
            throttled.flush(restart_timer=False)  # a move napari's throttle held back is handled now
    if kind != "release":  # a release is followed by what the caller times or checks
        QApplication.processEvents()


def _wait_for_next_move() -> None:
    """Process Qt events until :data:`MOVE_INTERVAL_S` has passed since the last move was sent."""
    while (left := _last_move + MOVE_INTERVAL_S - time.perf_counter()) > 0:
        QTest.qWait(max(1, int(left * 1000) + 1))


def _throttled_move_handlers(widget) -> list:
    """The handlers of the canvas' vispy mouse moves that superqt throttles (napari's ``_on_mouse_move``)."""
    vispy_canvas = getattr(widget, "_vispy_canvas", None)
    if vispy_canvas is None:
        return []
    return [cb for cb in vispy_canvas.events.mouse_move.callbacks if callable(getattr(cb, "flush", None))
            and callable(getattr(cb, "throttle", None))]


def drag(widget, start: QPointF, end: QPointF, *, steps: int = 4, release: bool = True) -> None:
    """Press at ``start``, move in ``steps`` to ``end`` with the button held, then release (optional).
    Every move reaches napari (see the module docstring), so the drag ends where it was meant to."""
    mouse(widget, "move", start, buttons=Qt.MouseButton.NoButton)
    mouse(widget, "press", start)
    for k in range(1, steps + 1):
        t = k / steps
        mouse(widget, "move", QPointF(start.x() + t * (end.x() - start.x()), start.y() + t * (end.y() - start.y())))
    if release:
        mouse(widget, "release", end)


def wheel(widget, pos: QPointF, notches: int = 1, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Turn the mouse wheel by ``notches`` (positive: away from the user) over ``widget`` at ``pos``."""
    global_pos = QPointF(widget.mapToGlobal(QPoint(round(pos.x()), round(pos.y()))))
    event = QWheelEvent(pos, global_pos, QPoint(0, 0), QPoint(0, 120 * notches), Qt.MouseButton.NoButton,
                        modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
