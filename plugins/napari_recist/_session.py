"""One reading session per napari viewer: binds a :class:`CaseController` to the viewer's layers.

The session adopts the layers the reader made (``metadata["recist"]``), shows one timepoint at a time,
turns lines drawn on a timepoint's Shapes layer into controller edits (the length in mm appears at once
as the shape's text) and rebuilds the Shapes layers from the case after every change (so undo and
reopening show exactly what is saved). Widgets share it through :func:`get_session`.

Recording (docs/plugin.md, "What is recorded"): a timepoint's Shapes layer shows the case's lines, in
the order of :func:`napari_recist._layers.lines_layer_data`; a shape beyond them is one the reader just
drew. So a line is recorded only from the shape just drawn (napari's "added" event names no shape: it
reports index -1 even when it dropped an empty drawing, so "the last shape of the layer" may be another
lesion's line) or from a shape just edited (its index in the event, which names its lesion and axis).
A cancelled or empty drawing, a shape that is not a line, a line shorter than a pixel: nothing is
recorded and the layer is rebuilt from the case. A line that no target can have
(:func:`recist.measure.plausible.implausible_line`) is recorded only when the reader confirms it
(:attr:`Session.confirm`). While napari is still inside its drawing code the recording waits for the
next turn of the event loop (rebuilding a layer from inside napari's ``_finish_drawing`` breaks it).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QObject, Signal

from napari_recist._controller import CaseController
from napari_recist._layers import lines_layer_data, lines_layer_kwargs, update_lines_layer
from napari_recist._listeners import WeakListeners
from napari_recist._navigation import SliceNavigator, status_text
from napari_recist._world import SeriesRef, lps_to_world, world_to_lps
from recist.errors import RecistError
from recist.measure.plausible import implausible_line, line_leaves_body

__all__ = ["Session", "get_session", "bind_widget", "camera_of", "text_overlay", "display_key"]

logger = logging.getLogger(__name__)

_SESSIONS: dict[int, Session] = {}


def display_key(meta: dict) -> str:
    """What an image's display settings are kept by across timepoints: its modality and unit (a PET in SUV
    and one in stored units do not share contrast limits)."""
    return f"{meta['series']['modality']} {meta.get('unit') or ''}".strip()


def camera_of(viewer):
    """The camera of a viewer model (``viewer.scene.camera`` from napari 0.9, ``viewer.camera`` before)."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None and hasattr(scene, "camera") else viewer.camera


def text_overlay(viewer):
    """The text overlay of a viewer model (``viewer.canvas.overlays.text`` from napari 0.9,
    ``viewer.text_overlay`` before), or None."""
    overlays = getattr(getattr(viewer, "canvas", None), "overlays", None)
    if overlays is not None and hasattr(overlays, "text"):
        return overlays.text
    return getattr(viewer, "text_overlay", None)


def get_session(viewer) -> Session:
    """The session of ``viewer`` (created on first use; it holds the viewer weakly)."""
    for key in [k for k, s in _SESSIONS.items() if s.viewer is None]:
        del _SESSIONS[key]
    session = _SESSIONS.get(id(viewer))
    if session is None or session.viewer is not viewer:
        session = Session(viewer)
        _SESSIONS[id(viewer)] = session
        weakref.finalize(viewer, _SESSIONS.pop, id(viewer), None)
    return session


def bind_widget(napari_viewer, controller=None):
    """The real viewer behind napari's proxy and its session, with ``controller`` set on it when given.

    Every widget starts with this: napari hands widgets a PublicOnlyProxy of the viewer.
    """
    viewer = getattr(napari_viewer, "__wrapped__", napari_viewer)
    session = get_session(viewer)
    if controller is not None:
        session.set_controller(controller)
    return viewer, session


@contextmanager
def _scene_paused(viewer):
    """Redraw napari's canvas once after many layer changes instead of after each (napari's own pause
    flag of its scene graph; without a window, or in another napari version, nothing is paused)."""
    canvas = getattr(getattr(getattr(viewer, "window", None), "_qt_viewer", None), "canvas", None)
    if canvas is None or not hasattr(canvas, "_pause_scene_graph") or not hasattr(canvas, "_update_scenegraph"):
        yield
        return
    canvas._pause_scene_graph = True
    try:
        yield
    finally:
        canvas._pause_scene_graph = False
        canvas._update_scenegraph()


class _SaveErrors(QObject):
    """Carries a failed background autosave from the writer thread to the UI thread (a queued signal)."""

    failed = Signal(str)


class Session:
    """The case being read in one viewer and the mapping between its layers and timepoints.

    Attributes
    ----------
    mode
        What the next line drawn means: ``"long"``, ``"short"`` or ``"new"`` (a new lesion's long axis).
    lesion_id, site, nodal, equivocal, new_lesion_role
        The lesion being measured and the attributes given to a lesion created by a line (a new lesion's
        iRECIST role: NLT ``"target"``, NLNT ``"non_target"`` or None).
    confirm
        ``confirm(question) -> bool``: asks the reader before an implausible line is recorded. The
        Measurement widget installs a dialog; without one the answer is no (nothing implausible is
        recorded unasked).
    """

    def __init__(self, viewer, controller: CaseController | None = None) -> None:
        self._viewer = weakref.ref(viewer)
        self.controller = controller
        self.timepoint: str | None = None
        self.mode = "long"
        self.lesion_id = "T1"
        self.site = ""
        self.nodal = False
        self.equivocal = False
        #: iRECIST: a new lesion drawn is a new-lesion target ("target"), non-target ("non_target") or
        #: neither (None: the case records no iRECIST role).
        self.new_lesion_role: str | None = None
        self._confirm: Callable[[], Callable[[str], bool] | None] = lambda: _refuse
        self._syncing = False
        self._listeners = WeakListeners()
        self._navigation_listeners = WeakListeners()
        #: What the reader set on the shown images, by modality (visible, opacity, contrast limits): kept
        #: across timepoint switches (a PET switched off stays off, a fusion opacity stays).
        self.display: dict[str, dict] = {}
        self._status_busy = False
        #: True while a timepoint switch changes layers (the comparison then waits for the end of it)
        self.switching = False
        self._save_errors = _SaveErrors()
        self._save_errors.failed.connect(lambda message: show_error(f"recist: the autosave failed: {message}"))
        self._widgets: dict[str, weakref.ref] = {}
        self._layout_done = False
        self._drawing_held = None
        self.navigator = SliceNavigator(viewer, lambda: self.ct_layer() if self.timepoint else None)
        viewer.layers.events.inserted.connect(self._on_inserted)
        if hasattr(viewer, "events") and hasattr(viewer.events, "status"):
            # napari computes its status in a thread and sets it only when its text changes: the plugin's
            # text is set on every cursor move and replaces napari's whenever napari sets one
            viewer.events.status.connect(self._on_status, position="last")
            viewer.cursor.events.position.connect(self._on_status)
        for layer in list(viewer.layers):
            self._adopt(layer)

    @property
    def viewer(self):
        """The viewer (None once it is gone)."""
        return self._viewer()

    @property
    def confirm(self) -> Callable[[str], bool]:
        """``confirm(question) -> bool`` (see the class docstring)."""
        return self._confirm() or _refuse

    @confirm.setter
    def confirm(self, ask: Callable[[str], bool]) -> None:
        # a widget's bound method is held weakly: the session (global) must not keep a closed widget alive
        self._confirm = weakref.WeakMethod(ask) if hasattr(ask, "__self__") else (lambda: ask)

    # ------------------------------------------------------------------ wiring
    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every case change or timepoint switch (a bound method is held
        weakly, so a closed widget is not kept alive by the session)."""
        self._listeners.add(listener)

    def register_widget(self, kind: str, widget) -> None:
        """Remember the plugin's widget of ``kind`` ("measurement", "table", "compare") in this viewer, weakly
        (the reading layout reuses it instead of docking a second one)."""
        self._widgets[kind] = weakref.ref(widget)

    def widgets(self) -> dict:
        """The registered widgets that still exist, by kind."""
        alive = {kind: ref() for kind, ref in self._widgets.items()}
        return {kind: widget for kind, widget in alive.items() if widget is not None}

    def _schedule_layout(self) -> None:
        """Apply the reading layout once, after the reader has added every layer of the case (a case or the
        sample opened in a shown window; see :mod:`napari_recist._layout`). The canvas is not drawn until
        then: napari would draw it after the layers it adds and again at every size the docking passes
        through, for a picture nobody sees."""
        if self._layout_done:
            return
        self._layout_done = True
        from qtpy.QtCore import QTimer

        from napari_recist._layout import hold_drawing

        if self._shown_window() is not None:
            self._drawing_held = hold_drawing(self.viewer)
        QTimer.singleShot(0, self._apply_layout)

    def _shown_window(self):
        """The viewer's Qt main window when it is shown, else None (scripts, tests without a window)."""
        viewer = self.viewer
        qt_window = getattr(getattr(viewer, "window", None), "_qt_window", None) if viewer is not None else None
        return qt_window if qt_window is not None and qt_window.isVisible() else None

    def _apply_layout(self) -> None:
        held, self._drawing_held = self._drawing_held, None
        try:
            if self._shown_window() is None or self.controller is None:
                self._layout_done = False  # a hidden window (scripts, tests): not now
                return
            from napari_recist._layout import apply_reading_layout

            apply_reading_layout(self.viewer)
        finally:
            if held is not None:
                held.release()

    def subscribe_navigation(self, listener: Callable[[str, str | None], None]) -> None:
        """Call ``listener(timepoint, lesion_id)`` after :meth:`go_to` (held weakly like :meth:`subscribe`)."""
        self._navigation_listeners.add(listener)

    def _notify_navigation(self, timepoint: str, lesion_id: str | None) -> None:
        self._navigation_listeners(timepoint, lesion_id)

    def _on_status(self, event) -> None:
        """Replace napari's status text by the slice (InstanceNumber) and the HU / SUV under the cursor."""
        viewer = self.viewer
        if self._status_busy or viewer is None or self.timepoint is None or not viewer.mouse_over_canvas:
            return
        layers = [la for la in self.image_layers(self.timepoint) if la.visible]
        try:
            text = status_text(self.timepoint, layers, viewer.cursor.position)
        except (ValueError, IndexError, KeyError):  # a layer being replaced while the cursor moves
            return
        if text is None or text == viewer.status:
            return
        self._status_busy = True
        try:
            viewer.status = text
        finally:
            self._status_busy = False
        self._save_errors = _SaveErrors()
        self._save_errors.failed.connect(lambda message: show_error(f"recist: the autosave failed: {message}"))

    def _notify(self) -> None:
        self._listeners()

    def _on_inserted(self, event) -> None:
        self._adopt(event.value)

    def _adopt(self, layer) -> None:
        meta = layer.metadata.get("recist") if hasattr(layer, "metadata") else None
        if not meta:
            return
        if meta.get("kind") == "lines":
            case_path = meta.get("case_path")
            if case_path and (self.controller is None or self.controller.path != Path(case_path)):
                try:  # the case's other lines layers are still to come: none made here
                    self.set_controller(CaseController.open(case_path), make_lines=False)
                except RecistError as exc:
                    show_error(f"recist: {exc}")
                    return
            layer.events.data.connect(lambda event, layer=layer: self._on_lines_changed(layer, event))
            if case_path:
                self._schedule_layout()
        if meta.get("kind") == "image" and self.controller is not None and not meta.get("timepoint"):
            ref = SeriesRef.from_metadata(meta["series"])
            meta["timepoint"] = self.controller.timepoint_for_series(ref.study_uid, ref.series_uid, ref.study_date)
        if self.controller is not None and self.timepoint is None:
            self.set_timepoint(self.controller.timepoint_labels[0])
        elif self.timepoint is not None:
            self._apply_visibility()

    def set_controller(self, controller: CaseController, *, make_lines: bool = True) -> None:
        """Read another case in this viewer.

        ``make_lines``: also add the Shapes layer of every timepoint that has none (False while napari adds
        the layers of an opened case one by one: its own lines layers are on their way; a timepoint whose
        layer is missing gets one when it is shown, :meth:`lines_layer`)."""
        if self.controller is not None and self.controller is not controller:
            self.controller.unsubscribe(self._on_case_changed)
        self.controller = controller
        controller.background_save = True  # the autosave off the UI thread (docs/plugin.md)
        controller.on_save_error = lambda exc: self._save_errors.failed.emit(str(exc))
        controller.subscribe(self._on_case_changed)
        for layer in self._layers("image"):
            meta = layer.metadata["recist"]
            if not meta.get("timepoint"):
                ref = SeriesRef.from_metadata(meta["series"])
                meta["timepoint"] = controller.timepoint_for_series(ref.study_uid, ref.series_uid, ref.study_date)
        self.timepoint = None
        self.set_timepoint(controller.timepoint_labels[0])
        self.sync_lines(make=make_lines)

    # ------------------------------------------------------------------ layers
    def _layers(self, kind: str, timepoint: str | None = None) -> list:
        out = []
        for layer in self.viewer.layers:
            meta = layer.metadata.get("recist") if hasattr(layer, "metadata") else None
            if meta and meta.get("kind") == kind and (timepoint is None or meta.get("timepoint") == timepoint):
                out.append(layer)
        return out

    def image_layers(self, timepoint: str) -> list:
        """The image layers of a timepoint (CT first)."""
        return self._layers("image", timepoint)

    def ct_layer(self, timepoint: str | None = None):
        """The CT (or first non-PET) image layer of a timepoint, or None."""
        layers = self.image_layers(timepoint or self.timepoint)
        return next((la for la in layers if la.metadata["recist"]["series"]["modality"] != "PT"),
                    layers[0] if layers else None)

    def lines_layer(self, timepoint: str | None = None):
        """The Shapes layer of a timepoint's lines (created when missing)."""
        timepoint = timepoint or self.timepoint
        found = self._layers("lines", timepoint)
        if found:
            return found[0]
        kwargs = lines_layer_kwargs(self.controller, timepoint)
        data = kwargs.pop("_data")
        return self.viewer.add_shapes(data, **kwargs)

    def series(self, timepoint: str | None = None) -> SeriesRef | None:
        """The series lines are referenced to at a timepoint (its CT), or None."""
        layer = self.ct_layer(timepoint)
        return SeriesRef.from_metadata(layer.metadata["recist"]["series"]) if layer is not None else None

    def set_timepoint(self, timepoint: str) -> None:
        """Show one timepoint: its images and lines; the others are hidden."""
        if self.controller is None or timepoint not in self.controller.timepoint_labels:
            return
        self._remember_display()
        self.timepoint = timepoint
        self._apply_visibility()
        layer = self.lines_layer(timepoint)
        self.viewer.layers.selection.active = layer
        self.navigator.update()
        self._name_canvas(f"{timepoint} (current)")
        self._notify()

    def _name_canvas(self, text: str) -> None:
        """The timepoint shown, in the canvas' top-left corner (napari's text overlay)."""
        overlay = text_overlay(self.viewer)
        if overlay is not None:
            overlay.text = text
            overlay.position = "top_left"
            overlay.visible = True

    def _remember_display(self) -> None:
        """Keep what the reader set on the shown timepoint's images (by modality) for the next one."""
        if self.timepoint is None:
            return
        for layer in self._layers("image", self.timepoint):
            self.display[display_key(layer.metadata["recist"])] = {
                "visible": bool(layer.visible), "opacity": float(layer.opacity),
                "contrast_limits": tuple(layer.contrast_limits)}

    def _apply_visibility(self) -> None:
        """Show the current timepoint's layers (its images as the reader left the previous timepoint's, by
        modality) and hide the others, changing only what differs, with the canvas redrawn once."""
        changes = []
        for layer in self.viewer.layers:
            meta = layer.metadata.get("recist") if hasattr(layer, "metadata") else None
            if not meta or meta.get("timepoint") is None:
                continue
            shown = meta["timepoint"] == self.timepoint
            kept = self.display.get(display_key(meta)) if meta.get("kind") == "image" and shown else None
            wanted = {"visible": shown} if kept is None else kept
            for name, value in wanted.items():
                if np.any(np.asarray(getattr(layer, name)) != np.asarray(value)):
                    changes.append((layer, name, value))
        if not changes:
            return
        self.switching = True
        try:
            with _scene_paused(self.viewer):
                for layer, name, value in changes:
                    setattr(layer, name, value)
        finally:
            self.switching = False

    def sync_lines(self, *, make: bool = True) -> None:
        """Make every timepoint's Shapes layer show the case's lines, changing only what differs
        (:func:`napari_recist._layers.update_lines_layer`: after a vertex drag, one length label);
        ``make``: add the layers that are missing (else only the existing ones are updated)."""
        if self.controller is None:
            return
        self._syncing = True
        try:
            for label in self.controller.timepoint_labels:
                layers = [self.lines_layer(label)] if make else self._layers("lines", label)
                for layer in layers:
                    update_lines_layer(layer, *lines_layer_data(self.controller, label))
        finally:
            self._syncing = False

    def _on_case_changed(self) -> None:
        self.sync_lines()
        self._notify()

    # ------------------------------------------------------------------ drawing
    def draw(self, mode: str) -> None:
        """Start drawing a line of ``mode`` ("long", "short" or "new") on the current timepoint."""
        self.mode = mode
        layer = self.lines_layer()
        self.viewer.layers.selection.active = layer
        layer.mode = "add_line"

    def _on_lines_changed(self, layer, event) -> None:
        if self._syncing or self.controller is None:
            return
        action = str(getattr(event, "action", "")).rsplit(".", 1)[-1].lower()
        if action not in ("added", "changed", "removed"):
            return
        timepoint = layer.metadata["recist"]["timepoint"]
        known = len(lines_layer_data(self.controller, timepoint)[0])
        if action == "added":
            drawn = [(np.array(layer.data[i], dtype=float), layer.shape_type[i]) for i in range(known, len(layer.data))]
            self._when_drawn(layer, lambda: self._record_drawn(timepoint, drawn))
        elif action == "changed":
            features = layer.features
            edited = [(np.array(layer.data[i], dtype=float), str(features["lesion"].iloc[i]), str(features["axis"].iloc[i]))
                      for i in getattr(event, "data_indices", ()) or () if 0 <= i < min(known, len(layer.data))]
            if edited:
                self._when_drawn(layer, lambda: self._record_edited(timepoint, edited))
        else:
            self._when_drawn(layer, self.sync_lines)  # napari's own delete: the case decides what is shown

    @staticmethod
    def _when_drawn(layer, action: Callable[[], None]) -> None:
        """Run ``action`` now, or on the next turn of the event loop while napari is still drawing.

        napari 0.9 has no public "a shape is being drawn" state: its Shapes layer stays in its ``add_*``
        mode before, during and after a drawing, and emits the "added" event of a drawn shape from inside
        its drawing code, before it clears the private ``_is_creating`` flag read here (a public
        ``Shapes.is_creating`` is proposed upstream: napari issue #9208, pull request #9275, not released).
        """
        if getattr(layer, "_is_creating", False):
            from qtpy.QtCore import QTimer

            QTimer.singleShot(0, action)
        else:
            action()

    def _record_drawn(self, timepoint: str, drawn: list) -> None:
        if self.controller is None or not drawn:
            return  # a cancelled or empty drawing (napari dropped it): nothing to record
        if len(drawn) > 1:
            show_error("recist: more than one new shape at once; nothing was recorded: draw one line at a time")
            self.sync_lines()
            return
        points, kind = drawn[0]
        if kind != "line" or len(points) != 2:
            show_error(f"recist: a {kind} is not a measurement; nothing was recorded: draw lines "
                       "(Long axis, Short axis)")
            self.sync_lines()
            return
        start, end = world_to_lps(points[0]), world_to_lps(points[1])
        if float(np.linalg.norm(end - start)) < self.pixel_mm(timepoint):
            show_info("recist: the line is shorter than a pixel; nothing was recorded")
            self.sync_lines()
            return
        self._record(timepoint, start, end)

    def _record_edited(self, timepoint: str, edited: list) -> None:
        for points, lesion_id, axis in edited:
            if self.controller is None:
                return
            if not self._record(timepoint, world_to_lps(points[0]), world_to_lps(points[-1]),
                                mode="short" if axis == "proposed" else axis, lesion_id=lesion_id):
                return

    def _record(self, timepoint: str, start, end, **kwargs) -> bool:
        try:
            if self.record_line(timepoint, start, end, **kwargs) is None:
                return False
        except RecistError as exc:
            show_error(f"recist: {exc}")
            self.sync_lines()
            return False
        return True

    def pixel_mm(self, timepoint: str) -> float:
        """The smallest in-plane pixel spacing of a timepoint's CT, mm (1 mm without an image)."""
        series = self.series(timepoint)
        if series is None:
            return 1.0
        return float(np.linalg.norm(np.asarray(series.affine)[:3, 1:3], axis=0).min())

    def implausible(self, timepoint: str, start_mm, end_mm) -> list[str]:
        """Why a line at a timepoint cannot be a target's measurement (empty when it can)."""
        length = float(np.linalg.norm(np.subtract(end_mm, start_mm)))
        leaves = False
        layer = self.ct_layer(timepoint)
        if layer is not None and layer.metadata["recist"]["series"]["modality"] == "CT":
            series = SeriesRef.from_metadata(layer.metadata["recist"]["series"])
            a, b = series.index_of(start_mm), series.index_of(end_mm)
            k = int(round(float(a[0] + b[0]) / 2))
            if 0 <= k < layer.data.shape[0]:
                leaves = line_leaves_body(np.asarray(layer.data[k]), a[1:], b[1:])
        return implausible_line(length, leaves_body=leaves)

    def record_line(self, timepoint: str, start_mm, end_mm, *, mode: str | None = None,
                    lesion_id: str | None = None) -> float | None:
        """Give a line drawn at a timepoint (LPS mm endpoints) to the controller; returns its length, mm,
        or None when the reader declined to record an implausible line."""
        mode = mode or self.mode
        lesion_id = self.controller.resolve_id(lesion_id or self.lesion_id)
        reasons = self.implausible(timepoint, start_mm, end_mm)
        if reasons and not self.confirm(f"{lesion_id} at {timepoint}: {'; '.join(reasons)}. Record it anyway?"):
            show_info(f"recist: {lesion_id} at {timepoint}: nothing was recorded")
            self.sync_lines()
            return None
        series = self.series(timepoint)
        if series is not None:  # on the image plane it was drawn on (the slice of its middle)
            middle = series.snap_to_slice(np.add(start_mm, end_mm) / 2) - np.add(start_mm, end_mm) / 2
            start_mm, end_mm = np.add(start_mm, middle), np.add(end_mm, middle)
        image = series.image_ref(np.add(start_mm, end_mm) / 2) if series else None
        normal = series.slice_normal if series else None
        if mode == "short":
            return self.controller.set_short_axis(timepoint, lesion_id, start_mm, end_mm)
        if mode == "new":
            self.controller.set_new_lesion(timepoint, lesion_id, site=self.site, equivocal=self.equivocal,
                                           start_mm=start_mm, end_mm=end_mm, image=image,
                                           role=self.new_lesion_role, nodal=self.nodal)
            return float(np.linalg.norm(np.subtract(end_mm, start_mm)))
        return self.controller.set_long_axis(timepoint, lesion_id, start_mm, end_mm, image=image,
                                             plane_normal=normal, site=self.site, nodal=self.nodal)

    def record_location(self, timepoint: str, point_mm, *, role: str, lesion_id: str | None = None,
                        state: str = "present") -> None:
        """Record where a non-target (``role`` "non_target") or new lesion (``role`` "new") is: a click,
        LPS mm. A non-target keeps its state at the timepoint (``state`` when it has none yet); a new
        lesion keeps its line and takes the site and equivocal flag chosen."""
        ctl = self.controller
        lesion_id = ctl.resolve_id(lesion_id or self.lesion_id)
        series = self.series(timepoint)
        image = series.image_ref(point_mm) if series else None
        if role == "new":
            ctl.set_new_lesion(timepoint, lesion_id, site=self.site, equivocal=self.equivocal, point_mm=point_mm,
                               image=image, role=self.new_lesion_role, nodal=self.nodal)
            return
        if role != "non_target":
            raise RecistError(f"{lesion_id} is a target: its lines give its location; a click marks non-target "
                              "and new lesions")
        current = getattr(ctl.entry(timepoint, lesion_id), "state", None)
        ctl.set_non_target(timepoint, lesion_id, current.value if current is not None else state,
                           point_mm=point_mm, image=image, site=self.site, nodal=self.nodal)

    # ------------------------------------------------------------------ navigation
    def go_to(self, timepoint: str, lesion_id: str | None, controller: CaseController | None = None) -> None:
        """Show ``timepoint`` at the slice and position of ``lesion_id``'s finding there.

        ``controller``: the case to take the position from when it is not the one being read (the
        adjudicator's Read A / Read B); only the layers of ``timepoint`` are then shown.
        """
        if controller is None or controller is self.controller:
            controller = self.controller
            self.set_timepoint(timepoint)
        else:
            self.show_timepoint_layers(timepoint)
        location = controller.location_mm(timepoint, lesion_id) if lesion_id else None
        if location is None and lesion_id:  # not measured here: go where it was at the baseline
            for label in controller.timepoint_labels:
                location = controller.location_mm(label, lesion_id)
                if location is not None:
                    break
        if location is not None:
            self.center_on(location)
        self._notify_navigation(timepoint, lesion_id)

    def center_on(self, location_mm) -> None:
        """Move the slice (the image nearest to the point) and the camera centre to an LPS point (mm)."""
        world = lps_to_world(np.asarray(location_mm, dtype=float))
        self.viewer.dims.set_point(0, float(world[0]))
        self.navigator.snap()
        camera_of(self.viewer).center = tuple(float(v) for v in world)

    def show_timepoint_layers(self, timepoint: str) -> None:
        """Show only the layers of ``timepoint`` (any layer whose metadata names a timepoint) without a
        case being read (the adjudicator's view)."""
        self._remember_display()
        self.timepoint = timepoint
        self._apply_visibility()
        self._name_canvas(timepoint)
        self._notify()

    def clear(self) -> None:
        """Stop reading: forget the controller and remove every layer the plugin made."""
        if self.controller is not None:
            self.controller.unsubscribe(self._on_case_changed)
        self.controller = None
        self.timepoint = None
        for layer in [la for la in self.viewer.layers if la.metadata.get("recist")]:
            self.viewer.layers.remove(layer)
        self._notify()


def _refuse(question: str) -> bool:
    """The answer without a dialog: no (an implausible line is not recorded unasked)."""
    logger.info("recist: not confirmed (no dialog): %s", question)
    return False
