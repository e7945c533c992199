"""The reading layout (a hanging protocol): what a radiologist sees when a case opens, without resizing.

::

    +---------------------------+---------------------------+--------------+
    | comparison (reference     | current timepoint         | Measurement  |
    | timepoint: baseline,      | (napari's canvas)         | controls     |
    | nadir or chosen)          |                           | (full height)|
    +---------------------------+---------------------------+              |
    | Case table: every lesion row, sums, responses          |              |
    +--------------------------------------------------------+--------------+

The prior is on the left and the current study on the right (chronological order, as on most PACS
comparison layouts); both canvases get the same width, the case table is as tall as its lesion rows and
summary rows need (at most 40 % of the window) and the Measurement controls take the full height of the
right side. The comparison dock has no title row, so its canvas is as tall as the main one; its "Compare
with" box moves into the Measurement controls (under "Timepoint") and each canvas names its timepoint in
its top-left corner. napari's layer list and layer controls are hidden (Window menu brings them back): the reader
works with the plugin's controls and shortcuts.

:func:`apply_reading_layout` builds it (reusing the plugin's widgets already docked in the window); the
session applies it once when a case or the sample opens in a shown window, and the Measurement widget's
"Reading layout" button applies it again. Only Qt layout here; no clinical logic.

While the layout is built the canvases are not drawn (:func:`hold_drawing`): each is drawn once, at its
final size, when the layout is done, instead of at every size the docking passes through (a canvas
draw costs tens of milliseconds in software OpenGL, the first one of a canvas hundreds).
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QApplication, QDockWidget, QWidget

__all__ = ["apply_reading_layout", "make_room", "hold_drawing", "DrawingHold", "TABLE_MAX_FRACTION"]

#: The case table takes at most this fraction of the window height.
TABLE_MAX_FRACTION = 0.4

_NAMES = {"compare": "Timepoint comparison", "measurement": "Measurement", "table": "Case table"}


class DrawingHold:
    """The draw events of napari canvases blocked until :meth:`release`, which draws each canvas once.

    Qt still lays out, resizes and shows the canvases meanwhile (vispy's draw event is what napari draws
    the scene from; blocked, a resize of the canvas widget draws nothing).
    """

    def __init__(self) -> None:
        self._canvases: list = []

    def add(self, canvas) -> None:
        """Hold the drawing of a napari canvas (``QtViewer.canvas``; nothing for an object without one)."""
        emitter = getattr(getattr(canvas, "events", None), "draw", None)
        if emitter is None or not hasattr(emitter, "block"):
            return
        emitter.block()
        self._canvases.append(canvas)

    def release(self) -> None:
        """Let the canvases draw again and ask each for one draw (done by Qt's next turn of events)."""
        canvases, self._canvases = self._canvases, []
        for canvas in canvases:
            canvas.events.draw.unblock()
            try:
                canvas.native.update()
            except RuntimeError:  # its Qt widget is gone (the window closed meanwhile)
                continue


def hold_drawing(viewer) -> DrawingHold:
    """Hold the drawing of ``viewer``'s canvas (see :class:`DrawingHold`); release it when done."""
    hold = DrawingHold()
    hold.add(getattr(getattr(getattr(viewer, "window", None), "_qt_viewer", None), "canvas", None))
    return hold


def _dock_of(widget) -> QDockWidget | None:
    parent = widget.parent() if widget is not None else None
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parent()
    return parent


def _find_widgets(viewer) -> dict:
    """The plugin's widgets already docked in ``viewer``'s window (registered in its session)."""
    from napari_recist._session import get_session

    session = get_session(viewer)
    found = {}
    for kind, widget in session.widgets().items():
        if _dock_of(widget) is not None:
            found[kind] = widget
    return found


def make_room(viewer) -> None:
    """The right dock area takes the full height and the bottom one the width under the canvases; napari's
    layer list and layer controls are hidden (Window menu brings them back): their minimum heights would
    otherwise squeeze a table docked below the canvas."""
    window = viewer.window
    qt_window = window._qt_window
    qt_window.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
    qt_window.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
    qt_window.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
    qt_window.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
    for dock in (window._qt_viewer.dockLayerList, window._qt_viewer.dockLayerControls):
        dock.setVisible(False)


def apply_reading_layout(viewer) -> dict:
    """Dock (or re-dock) the comparison, Measurement and Case table widgets in the reading layout and size
    them; returns the widgets by kind (``"compare"``, ``"measurement"``, ``"table"``).

    Needs a viewer with a window (``napari.Viewer``); sizes are set for the window's current size.
    """
    qt_window = viewer.window._qt_window
    hold = hold_drawing(viewer)
    try:
        widgets = _dock(viewer, hold)
        _size(qt_window, widgets)
        _size(qt_window, widgets)  # again once Qt has laid out the docks at their first sizes
    finally:
        hold.release()
    return widgets


def _dock(viewer, hold: DrawingHold) -> dict:
    """Dock the plugin's widgets (made when missing) in their areas; the comparison canvas held too."""
    from napari_recist._widgets import CaseTableWidget, CompareWidget, MeasurementWidget

    window = viewer.window
    qt_window = window._qt_window
    widgets = _find_widgets(viewer)
    makers = {"compare": CompareWidget, "measurement": MeasurementWidget, "table": CaseTableWidget}
    areas = {"compare": Qt.DockWidgetArea.LeftDockWidgetArea, "measurement": Qt.DockWidgetArea.RightDockWidgetArea,
             "table": Qt.DockWidgetArea.BottomDockWidgetArea}
    make_room(viewer)
    for kind in ("compare", "measurement", "table"):
        widget = widgets.get(kind)
        if widget is None:
            widget = makers[kind](viewer)
            dock = window.add_dock_widget(widget, name=_NAMES[kind], area="left", add_vertical_stretch=False)
            widgets[kind] = widget
        else:
            dock = _dock_of(widget)
        if kind == "compare" and widget.qt_viewer is not None:
            hold.add(widget.qt_viewer.canvas)
        dock.setFloating(False)
        qt_window.removeDockWidget(dock)
        qt_window.addDockWidget(areas[kind], dock)
        dock.setVisible(True)
    # the comparison canvas as tall as the main one: no title row ("Compare with" moves under "Timepoint" in
    # the Measurement controls; each canvas names its timepoint in its top-left corner)
    _dock_of(widgets["compare"]).setTitleBarWidget(QWidget())
    header, form = widgets["compare"].header, widgets["measurement"].form
    if header.parent() is not widgets["measurement"]:
        form.insertRow(1, header)
    return widgets


def _size(qt_window, widgets: dict) -> None:
    """Measurement as wide as its controls, comparison as wide as the main canvas, table as tall as its rows."""
    QApplication.processEvents()
    docks = {kind: _dock_of(widget) for kind, widget in widgets.items()}
    width, height = qt_window.width(), qt_window.height()
    measurement_width = max(widgets["measurement"].minimumSizeHint().width(), 300)
    table = widgets["table"]
    table_height = min(table.wanted_height(), int(TABLE_MAX_FRACTION * height))
    qt_window.resizeDocks([docks["table"]], [table_height], Qt.Orientation.Vertical)
    separators = 3 * qt_window.style().pixelMetric(qt_window.style().PixelMetric.PM_DockWidgetSeparatorExtent)
    canvases = width - measurement_width - separators
    qt_window.resizeDocks([docks["measurement"], docks["compare"]], [measurement_width, canvases // 2],
                          Qt.Orientation.Horizontal)
