"""Real Qt mouse and wheel events on a napari canvas (tests and benchmarks/bench_plugin.py).

napari's canvas is a vispy ``SceneCanvas`` whose ``native`` is a QWidget; events sent to it go through
vispy's Qt backend into napari's mouse callbacks and layer modes, exactly as a reader's hand does.
Positions are given in world coordinates and mapped to the widget's pixels with the canvas' own
scene transform (the inverse of napari's ``_map_canvas2world``).
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QPoint, QPointF, Qt
from qtpy.QtGui import QEnterEvent, QMouseEvent, QWheelEvent
from qtpy.QtWidgets import QApplication

__all__ = ["canvas_widget", "world_to_canvas", "enter", "mouse", "drag", "wheel"]


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
    QApplication.sendEvent(widget, event)
    if kind != "release":  # a release is followed by what the caller times or checks
        QApplication.processEvents()


def drag(widget, start: QPointF, end: QPointF, *, steps: int = 4, release: bool = True) -> None:
    """Press at ``start``, move in ``steps`` to ``end`` with the button held, then release (optional)."""
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
