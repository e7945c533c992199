"""Timepoint comparison: a second canvas showing the reference timepoint (baseline, nadir or a chosen one)
beside the main viewer's current timepoint.

napari has one canvas per viewer, so the widget holds its own ``ViewerModel`` shown by a ``QtViewer``
(the "multiple viewer" pattern). It shows the reference timepoint's layers (the same arrays and affines,
so world coordinates are LPS mm in both). The two canvases are linked both ways: scrolling slices,
panning or zooming either moves the other. The link keeps an offset: choosing a lesion (the case table,
the lesion box: :meth:`napari_recist._session.Session.go_to`) centres the reference on that lesion's
measured line at the reference timepoint (the lesion moves between studies), and later moves keep that
offset. The reference images show what the reader set on the current timepoint's images of the same
modality (window preset, contrast, PET on or off, fusion opacity).

Only what changed is redrawn: an edit updates the reference's lines (one label after a vertex drag); the
images are rebuilt only when the reference timepoint or its series change.

The second canvas lives as long as the main window: the widget watches the main window's Close event
and then closes its canvas and gives it up (closing the widget does the same), so no ``QtViewer``
outlives the viewer.
"""

from __future__ import annotations

import numpy as np
from napari.components.viewer_model import ViewerModel
from napari.layers import Image, Shapes
from napari.qt import QtViewer
from qtpy.QtCore import QEvent
from qtpy.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from napari_recist._controller import CaseController
from napari_recist._layers import lines_layer_data, lines_layer_kwargs, update_lines_layer
from napari_recist._navigation import SliceNavigator
from napari_recist._session import bind_widget, camera_of, display_key, text_overlay
from napari_recist._world import lps_to_world

__all__ = ["CompareWidget"]

_MIRRORED = ("visible", "opacity", "contrast_limits")


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
        self.navigator = SliceNavigator(self.model, self._reference_ct)
        #: "Compare with [...]": the reading layout makes it the dock's title row (the canvas keeps the height)
        self.header = QWidget()
        row = QHBoxLayout(self.header)
        row.setContentsMargins(6, 2, 6, 2)
        row.addWidget(QLabel("Compare with"))
        row.addWidget(self.reference, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.qt_viewer, 1)
        self.shown: str | None = None
        #: world (z, y, x) of the reference position minus the main position (set by choosing a lesion)
        self.offset = np.zeros(3)
        self._built: tuple | None = None
        self._mirrored_for: str | None = None
        self._lines: Shapes | None = None
        self._linking = False
        self.reference.currentTextChanged.connect(self._on_reference)
        self.session.register_widget("compare", self)
        self.session.subscribe(self.refresh)
        self.session.subscribe_navigation(self._on_navigation)
        self._links = [(viewer.dims.events.point, self._follow), (camera_of(viewer).events.center, self._follow),
                       (camera_of(viewer).events.zoom, self._follow), (viewer.layers.events.inserted, self._refresh),
                       (self.model.dims.events.point, self._lead), (camera_of(self.model).events.center, self._lead),
                       (camera_of(self.model).events.zoom, self._lead)]
        for emitter, callback in self._links:
            emitter.connect(callback)
        self._main_window = getattr(getattr(viewer, "window", None), "_qt_window", None)
        if self._main_window is not None:
            self._main_window.installEventFilter(self)
        self.refresh()

    def _on_reference(self, _text: str) -> None:
        self.offset = np.zeros(3)
        self.refresh()

    def _refresh(self, _event=None) -> None:
        self.refresh()

    def close_canvas(self) -> None:
        """Close the second canvas and give it up (done when the main window or the widget closes)."""
        qt_viewer, self.qt_viewer = self.qt_viewer, None
        if qt_viewer is None:
            return
        for emitter, callback in self._links:
            emitter.disconnect(callback)
        for layer in self.viewer.layers:
            if _modality(layer) is not None:  # the image layers it was connected to (_add_images)
                for name in _MIRRORED:
                    getattr(layer.events, name).disconnect(self._mirror_display)
        self.navigator.close()
        if self._main_window is not None:
            self._main_window.removeEventFilter(self)
            self._main_window = None
        self.model.layers.clear()
        self._lines = None
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
        """The timepoint shown: the baseline, the nadir before the current one, or a chosen label.

        While the current timepoint is the baseline itself (the start of a read), "baseline" and "nadir"
        show the first follow-up instead: the baseline beside itself would show nothing to compare.
        """
        ctl = self.session.controller
        if ctl is None or self.session.timepoint is None:
            return None
        choice = self.reference.currentText()
        if choice in ("baseline", "nadir"):
            current, labels = self.session.timepoint, ctl.timepoint_labels
            shown = ctl.reference_timepoint(current, choice)
            if shown == current and current in labels and labels.index(current) + 1 < len(labels):
                return labels[labels.index(current) + 1]
            return shown
        return choice if choice in ctl.timepoint_labels else ctl.timepoint_labels[0]

    def _reference_ct(self):
        return next((la for la in self.model.layers if isinstance(la, Image)
                     and not str(la.metadata.get("display_key", "")).startswith("PT")),
                    None)

    def refresh(self) -> None:
        """Show the reference timepoint: its images rebuilt only when the timepoint or its series change,
        its lines updated (only what differs) after every edit."""
        if self.qt_viewer is None:  # closed with the main window
            return
        ctl = self.session.controller
        if ctl is not None:
            # "baseline" is the first timepoint: listed once, not again under its own label
            wanted = ["baseline", "nadir", *ctl.timepoint_labels[1:]]
            if [self.reference.itemText(i) for i in range(self.reference.count())] != wanted:
                current = self.reference.currentText()
                self.reference.blockSignals(True)
                self.reference.clear()
                self.reference.addItems(wanted)
                self.reference.setCurrentText(current if current in wanted else "baseline")
                self.reference.blockSignals(False)
        label = self.reference_timepoint()
        if label is None:
            return
        sources = self.session.image_layers(label)
        key = (label, tuple(id(layer) for layer in sources))
        rebuilt = key != self._built
        if rebuilt:
            self._rebuild(label, sources)
            self._built = key
        data, features = lines_layer_data(ctl, label)
        if self._lines is None and data:
            kwargs = lines_layer_kwargs(ctl, label)
            kwargs.pop("_data")
            kwargs["metadata"] = {}
            self._linking, linking = True, self._linking
            try:
                self._lines = self.model.add_shapes(data, **kwargs)
            finally:
                self._linking = linking
            self._lines.editable = False
        elif self._lines is not None:
            update_lines_layer(self._lines, data, features)
        if rebuilt or self._mirrored_for != self.session.timepoint:
            self._mirror_display()
        if rebuilt:
            self._follow()

    def _rebuild(self, label: str, sources: list) -> None:
        self._linking = True  # the model's own resets while layers come and go are not the reader's moves
        try:
            self._add_images(label, sources)
        finally:
            self._linking = False

    def _add_images(self, label: str, sources: list) -> None:
        if len(self.model.layers):  # napari collects garbage after removing layers (~0.1-0.3 s): only if any
            self.model.layers.clear()
        self._lines = None
        for layer in sources:
            self.model.add_layer(Image(layer.data, affine=layer.affine.affine_matrix, name=layer.name,
                                       colormap=layer.colormap, contrast_limits=layer.contrast_limits,
                                       blending=layer.blending, opacity=layer.opacity,
                                       metadata={"display_key": _modality(layer)}))
        for layer in self.viewer.layers:  # the reader's display settings, mirrored (see _mirror_display)
            if _modality(layer) is not None:
                for name in _MIRRORED:
                    getattr(layer.events, name).connect(self._mirror_display)
        self.model.title = f"reference: {label}"
        overlay = text_overlay(self.model)
        overlay.text = f"{label} (comparison)"
        overlay.position = "top_left"
        overlay.visible = True
        self.shown = label
        self.navigator.update()

    def _mirror_display(self, _event=None) -> None:
        """Give the reference images what the reader set on the current timepoint's images of the same
        modality: visible (PET on/off), opacity (fusion), contrast limits (window presets)."""
        if self.qt_viewer is None or self.session.timepoint is None or self.session.switching:
            return  # during a timepoint switch: once at its end (refresh)
        self._mirrored_for = self.session.timepoint
        current = {_modality(layer): layer for layer in self.session.image_layers(self.session.timepoint)}
        for layer in self.model.layers:
            source = current.get(layer.metadata.get("display_key")) if isinstance(layer, Image) else None
            if source is None:
                continue
            for name in _MIRRORED:
                value = getattr(source, name)
                if np.any(np.asarray(getattr(layer, name)) != np.asarray(value)):
                    setattr(layer, name, value)

    def _on_navigation(self, timepoint: str, lesion_id: str | None) -> None:
        """Centre the reference on the chosen lesion's measured line at the reference timepoint."""
        ctl, label = self.session.controller, self.reference_timepoint()
        self.offset = np.zeros(3)
        if ctl is not None and label is not None and lesion_id:
            there = ctl.location_mm(label, lesion_id)
            if there is not None:
                main = self._main_position()
                self.offset = lps_to_world(np.asarray(there, dtype=float)) - main
        self._follow()

    def _main_position(self) -> np.ndarray:
        center = camera_of(self.viewer).center
        return np.array([float(self.viewer.dims.point[0]), float(center[-2]), float(center[-1])])

    def _follow(self, *_event) -> None:
        """Main canvas -> reference (slice, centre, zoom), with the offset."""
        if self._linking or self.qt_viewer is None or not len(self.model.layers):
            return
        self._linking = True
        try:
            if self.model.dims.ndim == self.viewer.dims.ndim >= 3:
                self.model.dims.set_point(0, float(self.viewer.dims.point[0] + self.offset[0]))
                self.navigator.snap()
            main, mine = camera_of(self.viewer), camera_of(self.model)
            center = main.center
            mine.center = (*center[:-2], center[-2] + self.offset[1], center[-1] + self.offset[2])
            mine.zoom = main.zoom
        finally:
            self._linking = False

    def _lead(self, *_event) -> None:
        """Reference canvas -> main (the reader scrolled, panned or zoomed the reference)."""
        if self._linking or self.qt_viewer is None or not len(self.model.layers):
            return
        self._linking = True
        try:
            if self.model.dims.ndim == self.viewer.dims.ndim >= 3:
                self.viewer.dims.set_point(0, float(self.model.dims.point[0] - self.offset[0]))
                self.session.navigator.snap()
            main, mine = camera_of(self.viewer), camera_of(self.model)
            center = mine.center
            main.center = (*center[:-2], center[-2] - self.offset[1], center[-1] - self.offset[2])
            main.zoom = mine.zoom
        finally:
            self._linking = False


def _modality(layer) -> str | None:
    """The display key (modality and unit, :func:`napari_recist._session.display_key`) of a main image layer."""
    meta = layer.metadata.get("recist") if hasattr(layer, "metadata") else None
    if not meta or meta.get("kind") != "image":
        return None
    return display_key(meta)
