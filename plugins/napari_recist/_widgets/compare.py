"""Timepoint comparison: a second canvas showing the reference timepoint (baseline or nadir) beside the
main viewer's current timepoint, linked by patient position.

napari has one canvas per viewer, so the widget holds its own ``ViewerModel`` shown by a ``QtViewer``
(the "multiple viewer" pattern). It shows the reference timepoint's layers (the same arrays and affines,
so world coordinates are LPS mm in both) and follows the main viewer's slice position (``dims.point``),
camera centre and zoom: the same lesion region appears in both at once.

The second canvas lives as long as the main window: the widget watches the main window's Close event
and then closes its canvas and gives it up (closing the widget does the same), so no ``QtViewer``
outlives the viewer.
"""

from __future__ import annotations

from napari.components.viewer_model import ViewerModel
from napari.layers import Image, Shapes
from napari.qt import QtViewer
from qtpy.QtCore import QEvent
from qtpy.QtWidgets import QComboBox, QFormLayout, QVBoxLayout, QWidget

from napari_recist._controller import CaseController
from napari_recist._session import bind_widget, camera_of

__all__ = ["CompareWidget"]


class CompareWidget(QWidget):
    """Reference timepoint (baseline, nadir or a chosen one) in a linked second canvas."""

    def __init__(self, napari_viewer, controller: CaseController | None = None, parent=None) -> None:
        super().__init__(parent)
        self.viewer, self.session = bind_widget(napari_viewer, controller)
        viewer = self.viewer
        self.reference = QComboBox()
        self.reference.addItems(["baseline", "nadir"])
        self.model = ViewerModel(title="reference")
        self.qt_viewer = QtViewer(self.model)
        form = QFormLayout()
        form.addRow("Compare with", self.reference)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.qt_viewer, 1)
        self.shown: str | None = None
        self.reference.currentTextChanged.connect(self._on_reference)
        self.session.subscribe(self.refresh)
        viewer.dims.events.point.connect(self._follow)
        camera_of(viewer).events.center.connect(self._follow)
        camera_of(viewer).events.zoom.connect(self._follow)
        self._main_window = getattr(getattr(viewer, "window", None), "_qt_window", None)
        if self._main_window is not None:
            self._main_window.installEventFilter(self)
        self.refresh()

    def _on_reference(self, _text: str) -> None:
        self.refresh()

    def close_canvas(self) -> None:
        """Close the second canvas and give it up (done when the main window or the widget closes)."""
        qt_viewer, self.qt_viewer = self.qt_viewer, None
        if qt_viewer is None:
            return
        self.viewer.dims.events.point.disconnect(self._follow)
        camera_of(self.viewer).events.center.disconnect(self._follow)
        camera_of(self.viewer).events.zoom.disconnect(self._follow)
        if self._main_window is not None:
            self._main_window.removeEventFilter(self)
            self._main_window = None
        self.model.layers.clear()
        qt_viewer.close()
        qt_viewer.setParent(None)  # back to Python ownership: freed with its last reference, here

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if watched is self._main_window and event.type() == QEvent.Type.Close:
            self.close_canvas()
        return False

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.close_canvas()
        super().closeEvent(event)

    def reference_timepoint(self) -> str | None:
        """The timepoint shown: the baseline, the nadir before the current one, or a chosen label."""
        ctl = self.session.controller
        if ctl is None or self.session.timepoint is None:
            return None
        choice = self.reference.currentText()
        if choice in ("baseline", "nadir"):
            return ctl.reference_timepoint(self.session.timepoint, choice)
        return choice

    def refresh(self) -> None:
        """Show the reference timepoint's layers (rebuilt when it or the case changes)."""
        if self.qt_viewer is None:  # closed with the main window
            return
        ctl = self.session.controller
        if ctl is not None:
            wanted = ["baseline", "nadir", *ctl.timepoint_labels]
            if [self.reference.itemText(i) for i in range(self.reference.count())] != wanted:
                current = self.reference.currentText()
                self.reference.blockSignals(True)
                self.reference.clear()
                self.reference.addItems(wanted)
                self.reference.setCurrentText(current)
                self.reference.blockSignals(False)
        label = self.reference_timepoint()
        if label is None:
            return
        self.model.layers.clear()
        shown = {_modality(layer): layer.visible for layer in self.session.image_layers(self.session.timepoint)}
        for layer in self.session.image_layers(label):
            # the same modalities as the main view shows (a PET hidden there is hidden here too)
            self.model.add_layer(Image(layer.data, affine=layer.affine.affine_matrix, name=layer.name,
                                       colormap=layer.colormap, contrast_limits=layer.contrast_limits,
                                       blending=layer.blending, opacity=layer.opacity,
                                       visible=shown.get(_modality(layer), True)))
        lines = self.session.lines_layer(label)
        if len(lines.data):
            self.model.add_layer(Shapes(list(lines.data), shape_type="line", edge_color=lines.edge_color,
                                        edge_width=1.5, features=lines.features, text=
                                        {"string": "{lesion} {length_mm:.1f} mm", "color": "white", "size": 9},
                                        name=lines.name))
        self.model.title = f"reference: {label}"
        self.shown = label
        self._follow()

    def _follow(self, *_event) -> None:
        if self.qt_viewer is None or not len(self.model.layers):
            return
        point = self.viewer.dims.point
        if len(point) == self.model.dims.ndim:
            self.model.dims.point = point
        main, mine = camera_of(self.viewer), camera_of(self.model)
        mine.center = main.center
        mine.zoom = main.zoom


def _modality(layer) -> str:
    return layer.metadata["recist"]["series"]["modality"]
