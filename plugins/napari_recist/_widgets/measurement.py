"""Measurement widget: timepoint, lesion, role/site/nodal, draw axes, states, from mask, presets, undo.

The controls and their layout are :mod:`napari_recist._widgets._measurement_controls`; this module is what
they do. Keys are Qt shortcuts of the main window (``_keys``; the list is ``_presets.SHORTCUTS``). Questions to
the reader (an implausible line, deleting a lesion) are :meth:`MeasurementWidget.ask`, a modal
``QMessageBox``; tests answer it by clicking its button.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Labels
from napari.utils.notifications import show_error, show_info
from qtpy.QtWidgets import QMessageBox, QWidget

from napari_recist._controller import CaseController
from napari_recist._presets import PREVIEW_KEYS, WINDOWS, contrast_limits
from napari_recist._session import bind_widget
from napari_recist._widgets._from_mask import Preview, show_preview
from napari_recist._widgets._keys import key_set
from napari_recist._widgets._measurement_controls import NEW_LESION_ROLES, NT_STATES, ROLES, build_controls
from napari_recist._world import world_to_lps
from recist.errors import RecistError
from recist.measure.grow import measure_grown

__all__ = ["MeasurementWidget", "ROLES", "NEW_LESION_ROLES", "NT_STATES"]  # constants: _measurement_controls

_PREFIX = {"target": "T", "non_target": "NT", "new": "N"}


class MeasurementWidget(QWidget):
    """Measure lesions of the case open in ``viewer`` (or of ``controller`` when given)."""

    def __init__(self, napari_viewer, controller: CaseController | None = None, parent=None) -> None:
        super().__init__(parent)
        self.viewer, self.session = bind_widget(napari_viewer, controller)
        self.session.register_widget("measurement", self)
        self._updating = False
        self._fresh_id: str | None = None  # an id from "New lesion id" not used yet (its prefix follows the role)
        self.preview: Preview | None = None
        self._click_action = None
        self._build()
        self.session.confirm = self.ask
        self.session.subscribe(self.refresh)
        self._bind_keys()
        self._on_attributes()
        self.refresh()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        build_controls(self)
        self._connect()

    def _connect(self) -> None:
        """What each control does."""
        self.timepoint.currentTextChanged.connect(self._on_timepoint)
        self.lesion.currentTextChanged.connect(self._on_lesion)
        self.site.currentTextChanged.connect(self._on_attributes)
        self.nodal.toggled.connect(self._on_attributes)
        self.equivocal.toggled.connect(self._on_attributes)
        self.new_lesion_role.currentTextChanged.connect(self._on_attributes)
        self.layout_button.clicked.connect(self.reading_layout)
        self.role.currentTextChanged.connect(self._on_role)
        self.long_button.clicked.connect(lambda: self.draw("long"))
        self.short_button.clicked.connect(lambda: self.draw("short"))
        self.confirm_button.clicked.connect(self.confirm_short_axis)
        self.location_button.clicked.connect(self.arm_location)
        self.mask_button.clicked.connect(self.arm_from_mask)
        self.accept_button.clicked.connect(self.accept_preview)
        self.reject_button.clicked.connect(self.reject_preview)
        self.undo_button.clicked.connect(self.undo)
        self.redo_button.clicked.connect(self.redo)
        self.new_lesion_button.clicked.connect(self.new_lesion_id)
        self.apply_button.clicked.connect(self.apply_lesion)
        self.delete_button.clicked.connect(self.delete_measurement)
        self.delete_lesion_button.clicked.connect(self.delete_lesion)
        for state, button in self.state_buttons.items():
            button.clicked.connect(lambda _=False, s=state: self.set_state(s))
        self.split_button.clicked.connect(self.split)
        self.merge_button.clicked.connect(self.merge)
        self.nt_button.clicked.connect(lambda: self.set_non_target(self.nt_state.currentText()))
        for name, button in self.window_buttons.items():
            button.clicked.connect(lambda _=False, n=name: self.set_window(n))

    def _bind_keys(self) -> None:
        """Bind the keys of ``SHORTCUTS`` (and, disabled until a preview waits, ``PREVIEW_KEYS``)."""
        handlers = {
            "Shift+D": ("draw", "long"), "Shift+S": ("draw", "short"), "Shift+C": ("confirm_short_axis",),
            "Shift+W": ("arm_location",), "Shift+F": ("arm_from_mask",), "Ctrl+Z": ("key_undo",),
            "Ctrl+Shift+Z": ("key_redo",), "Shift+Del": ("delete_measurement",), "Shift+T": ("next_timepoint",),
        }
        for n, name in enumerate(WINDOWS, start=1):
            handlers[f"Alt+{n}"] = ("set_window", name)
        self.keys = key_set(self.viewer)
        if self.keys is None:  # a viewer without a window (scripts): napari's own key bindings
            for key, (method, *args) in handlers.items():
                self.viewer.bind_key(key.replace("+", "-"), lambda _v, m=method, a=args: getattr(self, m)(*a),
                                     overwrite=True)
            return
        for key, (method, *args) in handlers.items():
            self.keys.bind(key, self, method, *args)
        for key in PREVIEW_KEYS:
            self.keys.bind(key, self, "reject_preview" if key == "Escape" else "accept_preview", enabled=False)

    def key_undo(self) -> None:
        """Ctrl+Z: napari's own undo when a Labels layer is active (painting), else the reading's."""
        active = self.viewer.layers.selection.active
        if isinstance(active, Labels):
            active.undo()
        else:
            self.undo()

    def key_redo(self) -> None:
        """Ctrl+Shift+Z: as :meth:`key_undo`, forward."""
        active = self.viewer.layers.selection.active
        if isinstance(active, Labels):
            active.redo()
        else:
            self.redo()

    # ------------------------------------------------------------------ questions
    def ask(self, question: str, title: str = "recist") -> bool:
        """Ask the reader a yes/no question in a modal dialog (default: No)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------------ state -> widgets
    @property
    def controller(self) -> CaseController | None:
        return self.session.controller

    def refresh(self) -> None:
        """Update the lists and the length from the session (called after every change)."""
        ctl = self.controller
        if ctl is None:
            self.status.setText("Open a case (File > Open, or File > Open Sample > recist) to measure.")
            return
        self._updating = True
        try:
            labels = ctl.timepoint_labels
            if [self.timepoint.itemText(i) for i in range(self.timepoint.count())] != labels:
                self.timepoint.clear()
                self.timepoint.addItems(labels)
            if self.session.timepoint and self.timepoint.currentText() != self.session.timepoint:
                self.timepoint.setCurrentText(self.session.timepoint)
            ids = ctl.lesion_ids()
            if self.session.timepoint:
                ids += [i for i in ctl.new_lesion_ids(self.session.timepoint) if i not in ids]
            current = self.session.lesion_id
            if [self.lesion.itemText(i) for i in range(self.lesion.count())] != ids:
                self.lesion.clear()
                self.lesion.addItems(ids)
            self.lesion.setCurrentText(current)
            targets = [lesion.id for lesion in ctl.case.lesions if lesion.role.value == "target" and lesion.id != current]
            if [self.merged_into.itemText(i) for i in range(self.merged_into.count())] != targets:
                self.merged_into.clear()
                self.merged_into.addItems(targets)
            self._show_lesion(current)
        finally:
            self._updating = False

    def _show_lesion(self, lesion_id: str) -> None:
        ctl = self.controller
        known = {lesion.id: lesion for lesion in ctl.case.lesions}
        entry = ctl.entry(self.session.timepoint, lesion_id) if self.session.timepoint else None
        if lesion_id in known:
            lesion = known[lesion_id]
            self.role.setCurrentText(lesion.role.value)
            self.site.setCurrentText(lesion.site)
            self.nodal.setChecked(lesion.nodal)
        elif entry is not None and hasattr(entry, "equivocal"):  # a new lesion
            self.role.setCurrentText("new")
            self.site.setCurrentText(entry.site)
            self.nodal.setChecked(entry.nodal)
            self.equivocal.setChecked(entry.equivocal)
        self._on_attributes()
        text = "-"
        if entry is not None:
            if getattr(entry, "state", None) is not None and hasattr(entry, "fragments_mm"):
                text = entry.state.value.replace("_", " ")
            elif hasattr(entry, "long_axis_mm") and (entry.long_axis_mm is not None or entry.short_axis_mm is not None):
                parts = []
                if entry.long_axis_mm is not None:
                    parts.append(f"long {entry.long_axis_mm:.1f} mm")
                if entry.short_axis_mm is not None:
                    parts.append(f"short {entry.short_axis_mm:.1f} mm")
                text = ", ".join(parts)
            elif getattr(entry, "state", None) is not None:
                text = entry.state.value.replace("_", " ")
        proposal = ctl.proposed_short_axis(self.session.timepoint, lesion_id) if self.session.timepoint else None
        if proposal is not None:
            text += f", short {proposal.length_mm:.1f} mm proposed: confirm or adjust"
        self.length.setText(text)
        self.status.setText(ctl.problems or "")

    # ------------------------------------------------------------------ widgets -> session
    def _on_timepoint(self, label: str) -> None:
        if not self._updating and label:
            self.session.set_timepoint(label)

    def _on_lesion(self, lesion_id: str) -> None:
        """The reader chose or typed a lesion: the case's spelling of a known id ("t1" is T1), and the
        view goes to it (timepoint kept, its slice and centre)."""
        if self._updating or not lesion_id or self.controller is None:
            return
        resolved = self.controller.resolve_id(lesion_id)
        self.session.lesion_id = resolved
        if resolved != self._fresh_id:
            self._fresh_id = None
        if resolved != lesion_id and self.lesion.currentText() == lesion_id and self.lesion.isEditable():
            return  # typing: the text is resolved when the reader leaves the box (refresh shows it)
        self.session.go_to(self.session.timepoint, resolved)

    def _on_role(self, role: str) -> None:
        """A fresh id (New lesion id, not used yet) follows the role's prefix (T.., NT.., N..)."""
        if not self._updating and self._fresh_id is not None and self.controller is not None and role:
            self._fresh_id = self.controller.next_lesion_id(_PREFIX[role])
            self.session.lesion_id = self._fresh_id
            self._updating = True
            try:
                self.lesion.setCurrentText(self._fresh_id)
            finally:
                self._updating = False
        self._on_attributes()

    def _on_attributes(self, *_args) -> None:
        self.session.site = self.site.currentText().strip()
        self.session.nodal = self.nodal.isChecked()
        self.session.equivocal = self.equivocal.isChecked()
        self.session.new_lesion_role = NEW_LESION_ROLES[self.new_lesion_role.currentText()]

    def select(self, timepoint: str | None = None, lesion_id: str | None = None, *, role: str | None = None,
               site: str | None = None, nodal: bool | None = None, equivocal: bool | None = None) -> None:
        """Choose what the next action applies to (what the combo boxes do; used by tests and the table)."""
        if timepoint:
            self.session.set_timepoint(timepoint)
        if lesion_id:
            self.session.lesion_id = lesion_id
            self.lesion.setCurrentText(lesion_id)
        if role:
            self.role.setCurrentText(role)
        if site:
            self.site.setCurrentText(site)
        if nodal is not None:
            self.nodal.setChecked(nodal)
        if equivocal is not None:
            self.equivocal.setChecked(equivocal)
        self._on_attributes()

    def _guard(self, action, *args, **kwargs):
        if self.controller is None:
            show_error("recist: no case is open; open a case file or the sample first")
            return None
        try:
            return action(*args, **kwargs)
        except (RecistError, ValueError) as exc:
            show_error(f"recist: {exc}")
            return None

    def draw(self, mode: str) -> None:
        """Start drawing: the long axis, the short axis, or a new lesion's axis (role "new")."""
        self._lesion_text()
        if self.role.currentText() == "new" and mode == "long":
            mode = "new"
        self._guard(self.session.draw, mode)

    def _lesion_text(self) -> None:
        """Take an id being typed in the lesion box (the case's spelling when known)."""
        text = self.lesion.currentText().strip()
        if text and self.controller is not None:
            self.session.lesion_id = self.controller.resolve_id(text)

    def add_line(self, start_mm, end_mm, mode: str = "long") -> float | None:
        """Record a line given in LPS mm (what drawing on the canvas does); returns its length, mm (None
        when nothing was recorded)."""
        self._lesion_text()
        if self.role.currentText() == "new" and mode == "long":
            mode = "new"
        length = self._guard(self.session.record_line, self.session.timepoint, start_mm, end_mm, mode=mode)
        return length

    def add_world_line(self, start_world, end_world, mode: str = "long") -> float | None:
        """Record a line given in napari world coordinates."""
        return self.add_line(world_to_lps(start_world), world_to_lps(end_world), mode)

    def set_state(self, state: str) -> None:
        """Mark the current target lesion at the current timepoint (too small / disappeared / NE)."""
        self._guard(self.controller.set_target_state, self.session.timepoint, self.session.lesion_id, state)

    def split(self) -> None:
        """Mark the lesion split, with the fragments typed in the field."""
        try:
            fragments = [float(v) for v in self.fragments.text().replace(";", ",").split(",") if v.strip()]
        except ValueError:
            show_error(f"recist: fragments must be numbers of mm separated by commas, got {self.fragments.text()!r}")
            return
        self._guard(self.controller.set_target_state, self.session.timepoint, self.session.lesion_id, "split",
                    fragments_mm=fragments)

    def merge(self) -> None:
        """Mark the lesion merged into the chosen target."""
        self._guard(self.controller.set_target_state, self.session.timepoint, self.session.lesion_id, "merged",
                    merged_into=self.merged_into.currentText())

    def set_non_target(self, state: str) -> None:
        """Record the current non-target lesion's state at the current timepoint (creates it if new), with
        the "increased since previous" box (iRECIST); for role "new", the new lesion's state instead."""
        increased = self.nt_increased.isChecked()
        if self.role.currentText() == "new":
            self._guard(self.controller.set_new_lesion, self.session.timepoint, self.session.lesion_id,
                        site=self.session.site, equivocal=self.session.equivocal, role=self.session.new_lesion_role,
                        state=state, increased_since_previous=increased)
            return
        self._guard(self.controller.set_non_target, self.session.timepoint, self.session.lesion_id, state,
                    site=self.session.site, nodal=self.session.nodal, increased_since_previous=increased)

    def apply_lesion(self) -> None:
        """Apply the role, site and nodal flag to the current lesion (a new lesion: its equivocal flag)."""
        role = self.role.currentText()
        if role == "new":
            entry = self.controller.entry(self.session.timepoint, self.session.lesion_id) if self.controller else None
            self._guard(self.controller.set_new_lesion, self.session.timepoint, self.session.lesion_id,
                        site=self.session.site, equivocal=self.session.equivocal,
                        role=self.session.new_lesion_role, nodal=self.session.nodal,
                        start_mm=entry.long_axis_line.start_mm if entry is not None and entry.long_axis_line else None,
                        end_mm=entry.long_axis_line.end_mm if entry is not None and entry.long_axis_line else None)
            return
        self._guard(self.controller.set_lesion, self.session.lesion_id, role=role, site=self.session.site,
                    nodal=self.session.nodal)

    def new_lesion_id(self) -> str | None:
        """Start a new lesion: the next free id, nothing carried over from the lesion shown before. Its
        role is "target" at the baseline and "new" at a follow-up (a lesion first seen after the baseline
        is a new lesion, RECIST 1.1 §4.3.5); its site is empty (to be chosen: the site counts), its nodal
        and equivocal flags off. Changing the role before using the id changes its prefix."""
        if self.controller is None:
            return None
        baseline = self.session.timepoint == self.controller.timepoint_labels[0]
        self._updating = True
        try:
            self.role.setCurrentText("target" if baseline else "new")
            self.site.setCurrentIndex(-1)
            self.site.setCurrentText("")
            self.nodal.setChecked(False)
            self.equivocal.setChecked(False)
            lesion_id = self.controller.next_lesion_id(_PREFIX[self.role.currentText()])
            self.session.lesion_id = lesion_id
            self.lesion.setCurrentText(lesion_id)
        finally:
            self._updating = False
        self._fresh_id = lesion_id
        self._on_attributes()
        self.length.setText("-")
        self.status.setText(f"{lesion_id}: choose its site, then measure it")
        return lesion_id

    def reading_layout(self) -> None:
        """Dock and size the comparison, these controls and the case table (:mod:`napari_recist._layout`)."""
        from napari_recist._layout import apply_reading_layout

        if getattr(self.viewer, "window", None) is not None:
            apply_reading_layout(self.viewer)

    def undo(self) -> None:
        """Undo the last change."""
        if self.controller is not None and not self.controller.undo():
            show_info("recist: nothing to undo")

    def redo(self) -> None:
        """Redo the last undone change."""
        if self.controller is not None and not self.controller.redo():
            show_info("recist: nothing to redo")

    def confirm_short_axis(self) -> None:
        """Record the proposed short axis of the current node as measured."""
        self._lesion_text()
        self._guard(self.controller.confirm_short_axis, self.session.timepoint, self.session.lesion_id)

    def delete_measurement(self) -> None:
        """Remove the current lesion's finding at the current timepoint (undo brings it back)."""
        self._lesion_text()
        ctl = self.controller
        if ctl is None or ctl.entry(self.session.timepoint, self.session.lesion_id) is None:
            show_info(f"recist: {self.session.lesion_id} has nothing recorded at {self.session.timepoint}")
            return
        self._guard(ctl.clear_entry, self.session.timepoint, self.session.lesion_id)

    def delete_lesion(self) -> bool:
        """Remove the current lesion from the case, at every timepoint, after asking (undo brings it back)."""
        self._lesion_text()
        ctl = self.controller
        lesion_id = self.session.lesion_id
        if ctl is None:
            return False
        if not self.ask(f"Delete lesion {lesion_id} and its findings at every timepoint? (Undo brings it back.)"):
            return False
        return self._guard(ctl.delete_lesion, lesion_id) is None and lesion_id not in ctl.lesion_ids()

    def next_timepoint(self) -> None:
        """Show the next timepoint (wrapping to the baseline)."""
        if self.controller is None:
            return
        labels = self.controller.timepoint_labels
        index = labels.index(self.session.timepoint) if self.session.timepoint in labels else -1
        self.session.set_timepoint(labels[(index + 1) % len(labels)])

    def set_window(self, name: str) -> None:
        """Apply a CT window preset to every CT layer."""
        for layer in self.viewer.layers:
            meta = layer.metadata.get("recist", {}) if hasattr(layer, "metadata") else {}
            if meta.get("kind") == "image" and meta["series"]["modality"] == "CT":
                layer.contrast_limits = contrast_limits(name)

    # ------------------------------------------------------------------ clicks on the canvas
    def _arm_click(self, action, message: str) -> None:
        """The next click on the canvas calls ``action(world_point)`` (the lines layer stops drawing)."""
        if self.controller is None:
            show_error("recist: no case is open; open a case file or the sample first")
            return
        self._lesion_text()
        layer = self.session.lines_layer()
        layer.mode = "pan_zoom"
        self._click_action = action
        if self._on_click not in self.viewer.mouse_drag_callbacks:
            self.viewer.mouse_drag_callbacks.append(self._on_click)
        show_info(f"recist: {message}")

    def _on_click(self, viewer, event):
        if event.type != "mouse_press":
            return
        if self._on_click in viewer.mouse_drag_callbacks:
            viewer.mouse_drag_callbacks.remove(self._on_click)
        action, self._click_action = self._click_action, None
        if action is not None:
            action(np.asarray(event.position))

    def arm_location(self) -> None:
        """The next click marks where the current non-target or new lesion is."""
        self._arm_click(self.mark_location, f"click where {self.session.lesion_id} is")

    def mark_location(self, world_point) -> None:
        """Record the location of the current non-target or new lesion at a world point."""
        self._guard(self.session.record_location, self.session.timepoint, world_to_lps(world_point),
                    role=self.role.currentText(), state=self.nt_state.currentText())

    def arm_from_mask(self) -> None:
        """The next click on the canvas grows a region and shows it with its axes for acceptance."""
        self._arm_click(self.from_mask, "click inside the lesion")

    def from_mask(self, world_point) -> Preview | None:
        """Grow the lesion at a world point of the current CT and show it as a preview (nothing recorded)."""
        self.reject_preview()
        layer = self.session.ct_layer()
        if layer is None:
            show_error("recist: no CT image at this timepoint to grow a region in")
            return None
        affine = np.asarray(layer.metadata["recist"]["series"]["affine"])
        nodal = self.nodal.isChecked()
        try:
            grown = measure_grown(np.asarray(layer.data), affine=affine, point_lps_mm=world_to_lps(world_point),
                                  nodal=nodal)
        except RecistError as exc:
            show_error(f"recist: from mask: {exc}")
            return None
        self.preview = show_preview(self.viewer, self.session, grown, layer, lesion_id=self.session.lesion_id,
                                    role=self.role.currentText(), nodal=nodal)
        self._preview_keys(True)
        axes = grown.axes
        self.status.setText(f"{self.session.lesion_id} from mask: long {axes.long_axis_mm:.1f} mm"
                            + (f", short {axes.short_axis_mm:.1f} mm" if nodal else "")
                            + ". Enter accepts, Escape rejects.")
        return self.preview

    def _preview_keys(self, waiting: bool) -> None:
        self.accept_button.setEnabled(waiting)
        self.reject_button.setEnabled(waiting)
        if self.keys is not None:
            for key in PREVIEW_KEYS:
                self.keys.set_enabled(key, waiting)

    def accept_preview(self) -> None:
        """Record the previewed axes (the long axis; a node's short axis too; a new lesion's axis)."""
        preview, self.preview = self.preview, None
        if preview is None:
            return
        preview.remove(self.viewer)
        self._preview_keys(False)
        axes = preview.grown.axes
        session = self.session
        session.lesion_id = preview.lesion_id
        mode = "new" if preview.role == "new" else "long"
        if self._guard(session.record_line, preview.timepoint, *axes.long_axis_endpoints_lps_mm, mode=mode) is None:
            return
        if preview.nodal and mode == "long":
            self._guard(session.record_line, preview.timepoint, *axes.short_axis_endpoints_lps_mm, mode="short")

    def reject_preview(self) -> None:
        """Discard the preview: nothing is recorded."""
        preview, self.preview = self.preview, None
        if preview is not None:
            preview.remove(self.viewer)
            self.status.setText("from mask: rejected, nothing recorded")
        self._preview_keys(False)
