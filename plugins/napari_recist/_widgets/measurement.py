"""Measurement widget: timepoint, lesion, role/site/nodal, draw axes, states, from mask, presets, undo."""

from __future__ import annotations

import numpy as np
from napari.utils.notifications import show_error, show_info
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from napari_recist._controller import SITES, CaseController
from napari_recist._grow import axes_from_click
from napari_recist._presets import SHORTCUTS, WINDOWS, contrast_limits
from napari_recist._session import bind_widget
from napari_recist._world import world_to_lps
from recist.errors import RecistError

__all__ = ["MeasurementWidget"]

ROLES = ("target", "non_target", "new")
NT_STATES = ("present", "absent", "unequivocal_progression", "not_evaluated")
NEW_LESION_ROLES = {"-": None, "NLT (new-lesion target)": "target", "NLNT (new-lesion non-target)": "non_target"}
"""The iRECIST role of a new lesion, as the combo box shows it -> the case file's ``role``."""


class MeasurementWidget(QWidget):
    """Measure lesions of the case open in ``viewer`` (or of ``controller`` when given)."""

    def __init__(self, napari_viewer, controller: CaseController | None = None, parent=None) -> None:
        super().__init__(parent)
        self.viewer, self.session = bind_widget(napari_viewer, controller)
        self._updating = False
        self._build()
        self.session.register_widget("measurement", self)
        self.session.subscribe(self.refresh)
        self._bind_keys()
        self.refresh()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.timepoint = QComboBox()
        self.lesion = QComboBox()
        self.lesion.setEditable(True)
        self.role = QComboBox()
        self.role.addItems(ROLES)
        self.site = QComboBox()
        self.site.setEditable(True)
        self.site.addItems(SITES)
        self.nodal = QCheckBox("nodal (short axis counts)")
        self.equivocal = QCheckBox("equivocal")
        self.new_lesion_role = QComboBox()  # iRECIST: a new lesion followed as NLT or NLNT
        self.new_lesion_role.addItems(tuple(NEW_LESION_ROLES))
        self.length = QLabel("-")
        self.length.setStyleSheet("font-size: 15px; font-weight: bold")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        form = self.form = QFormLayout()
        form.addRow("Timepoint", self.timepoint)
        form.addRow("Lesion", self.lesion)
        form.addRow("Role", self.role)
        form.addRow("Site", self.site)
        form.addRow("", self.nodal)
        form.addRow("", self.equivocal)
        form.addRow("iRECIST", self.new_lesion_role)
        form.addRow("Length", self.length)

        draw = QGroupBox("Measure")
        grid = QGridLayout(draw)
        self.long_button = QPushButton("Long axis (Shift-L)")
        self.short_button = QPushButton("Short axis (Shift-S)")
        self.mask_button = QPushButton("From mask (Shift-F)")
        self.undo_button = QPushButton("Undo (Shift-U)")
        self.new_lesion_button = QPushButton("New lesion id")
        for n, button in enumerate((self.long_button, self.short_button, self.mask_button, self.undo_button)):
            grid.addWidget(button, n // 2, n % 2)
        grid.addWidget(self.new_lesion_button, 2, 0)
        self.apply_button = QPushButton("Apply role / site")
        grid.addWidget(self.apply_button, 2, 1)

        states = QGroupBox("Target state")
        row = QGridLayout(states)
        self.state_buttons = {}
        for n, (state, text) in enumerate((("too_small", "Too small"), ("disappeared", "Disappeared"),
                                           ("not_evaluated", "Not evaluated"))):
            button = QPushButton(text)
            self.state_buttons[state] = button
            row.addWidget(button, 0, n)
        self.fragments = QLineEdit()
        self.fragments.setPlaceholderText("fragments mm, e.g. 12, 8")
        self.split_button = QPushButton("Split")
        self.merged_into = QComboBox()
        self.merge_button = QPushButton("Merged into")
        row.addWidget(self.fragments, 1, 0, 1, 2)
        row.addWidget(self.split_button, 1, 2)
        row.addWidget(self.merge_button, 2, 0)
        row.addWidget(self.merged_into, 2, 1, 1, 2)

        nt = QGroupBox("Non-target state (also a new lesion's, role \"new\")")
        nt_row = QHBoxLayout(nt)
        self.nt_state = QComboBox()
        self.nt_state.addItems(NT_STATES)
        self.nt_increased = QCheckBox("increased since previous")  # iRECIST "further increase" (INCLA)
        self.nt_button = QPushButton("Set")
        nt_row.addWidget(self.nt_state)
        nt_row.addWidget(self.nt_increased)
        nt_row.addWidget(self.nt_button)

        window = QGroupBox("Window (CT)")
        w_row = QHBoxLayout(window)
        self.window_buttons = {}
        for name in WINDOWS:
            button = QPushButton(name)
            button.setToolTip("W{:.0f} / L{:.0f}".format(*WINDOWS[name]))
            self.window_buttons[name] = button
            w_row.addWidget(button)

        keys = QLabel("Keys: " + ", ".join(f"{k} {v}" for k, v in SHORTCUTS.items()))
        keys.setWordWrap(True)
        keys.setStyleSheet("color: gray; font-size: 10px")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for box in (draw, states, nt, window):
            layout.addWidget(box)
        layout.addWidget(self.status)
        layout.addWidget(keys)
        self.layout_button = QPushButton("Reading layout")
        self.layout_button.setToolTip("comparison | current timepoint | these controls, the case table below "
                                      "(docs/plugin.md)")
        layout.addWidget(self.layout_button)
        layout.addStretch(1)

        self.timepoint.currentTextChanged.connect(self._on_timepoint)
        self.lesion.currentTextChanged.connect(self._on_lesion)
        self.site.currentTextChanged.connect(self._on_attributes)
        self.nodal.toggled.connect(self._on_attributes)
        self.equivocal.toggled.connect(self._on_attributes)
        self.new_lesion_role.currentTextChanged.connect(self._on_attributes)
        self.role.currentTextChanged.connect(self._on_attributes)
        self.long_button.clicked.connect(lambda: self.draw("long"))
        self.short_button.clicked.connect(lambda: self.draw("short"))
        self.mask_button.clicked.connect(self.arm_from_mask)
        self.undo_button.clicked.connect(self.undo)
        self.layout_button.clicked.connect(self.reading_layout)
        self.new_lesion_button.clicked.connect(self.new_lesion_id)
        self.apply_button.clicked.connect(self.apply_lesion)
        for state, button in self.state_buttons.items():
            button.clicked.connect(lambda _=False, s=state: self.set_state(s))
        self.split_button.clicked.connect(self.split)
        self.merge_button.clicked.connect(self.merge)
        self.nt_button.clicked.connect(lambda: self.set_non_target(self.nt_state.currentText()))
        for name, button in self.window_buttons.items():
            button.clicked.connect(lambda _=False, n=name: self.set_window(n))

    def _bind_keys(self) -> None:
        bindings = {
            "Shift-L": lambda v: self.draw("long"),
            "Shift-S": lambda v: self.draw("short"),
            "Shift-F": lambda v: self.arm_from_mask(),
            "Shift-U": lambda v: self.undo(),
            "Shift-T": lambda v: self.next_timepoint(),
        }
        for n, name in enumerate(WINDOWS, start=1):
            bindings[f"Alt-{n}"] = lambda v, name=name: self.set_window(name)
        for key, func in bindings.items():
            self.viewer.bind_key(key, func, overwrite=True)

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
        if lesion_id in known:
            lesion = known[lesion_id]
            self.role.setCurrentText(lesion.role.value)
            self.site.setCurrentText(lesion.site)
            self.nodal.setChecked(lesion.nodal)
        entry = ctl.entry(self.session.timepoint, lesion_id) if self.session.timepoint else None
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
        self.length.setText(text)
        self.status.setText(ctl.problems or "")

    # ------------------------------------------------------------------ widgets -> session
    def _on_timepoint(self, label: str) -> None:
        if not self._updating and label:
            self.session.set_timepoint(label)

    def _on_lesion(self, lesion_id: str) -> None:
        if not self._updating and lesion_id:
            self.session.lesion_id = lesion_id
            self.refresh()

    def _on_attributes(self, *_args) -> None:
        self.session.site = self.site.currentText() or "other"
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
        if self.role.currentText() == "new" and mode == "long":
            mode = "new"
        self._guard(self.session.draw, mode)

    def add_line(self, start_mm, end_mm, mode: str = "long") -> float | None:
        """Record a line given in LPS mm (what drawing on the canvas does); returns its length, mm."""
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
                        role=self.session.new_lesion_role,
                        start_mm=entry.long_axis_line.start_mm if entry is not None and entry.long_axis_line else None,
                        end_mm=entry.long_axis_line.end_mm if entry is not None and entry.long_axis_line else None)
            return
        self._guard(self.controller.set_lesion, self.session.lesion_id, role=role, site=self.session.site,
                    nodal=self.session.nodal)

    def new_lesion_id(self) -> str | None:
        """Choose the next free id for the role (T.., NT.., N..)."""
        if self.controller is None:
            return None
        prefix = {"target": "T", "non_target": "NT", "new": "N"}[self.role.currentText()]
        lesion_id = self.controller.next_lesion_id(prefix)
        self.session.lesion_id = lesion_id
        self.lesion.setCurrentText(lesion_id)
        return lesion_id

    def undo(self) -> None:
        """Undo the last change."""
        if self.controller is not None and not self.controller.undo():
            show_info("recist: nothing to undo")

    def reading_layout(self) -> None:
        """Dock and size the comparison, these controls and the case table (:mod:`napari_recist._layout`)."""
        from napari_recist._layout import apply_reading_layout

        if getattr(self.viewer, "window", None) is not None:
            apply_reading_layout(self.viewer)

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

    # ------------------------------------------------------------------ from mask
    def arm_from_mask(self) -> None:
        """The next click on the canvas grows a region and proposes its axes."""
        def on_click(viewer, event):
            if event.type == "mouse_press":
                viewer.mouse_drag_callbacks.remove(on_click)
                self.from_mask(np.asarray(event.position))

        if on_click not in self.viewer.mouse_drag_callbacks:
            self.viewer.mouse_drag_callbacks.append(on_click)
        show_info("recist: click inside the lesion")

    def from_mask(self, world_point) -> None:
        """Grow a region at a world point of the current CT and record the proposed RECIST axes."""
        layer = self.session.ct_layer()
        if layer is None:
            show_error("recist: no CT image at this timepoint to grow a region in")
            return
        affine = np.asarray(layer.metadata["recist"]["series"]["affine"])
        try:
            axes = axes_from_click(layer.data, affine=affine, point_lps_mm=world_to_lps(world_point))
        except RecistError as exc:
            show_error(f"recist: {exc}")
            return
        long_ends = axes.long_axis_endpoints_lps_mm
        if self.role.currentText() == "new":
            self.add_line(*long_ends, mode="new")
            return
        self.add_line(*long_ends, mode="long")
        lesion = next((x for x in self.controller.case.lesions if x.id == self.session.lesion_id), None)
        if lesion is not None and lesion.nodal:
            self.add_line(*axes.short_axis_endpoints_lps_mm, mode="short")
