"""The Measurement widget's controls and their layout (what the reader sees), without their behaviour:
:class:`napari_recist._widgets.measurement.MeasurementWidget` connects them to what they do.

The form (timepoint, lesion, role, site, flags, iRECIST role, length), the Measure buttons with their keys as
tool tips, the target and non-target states, the CT window presets, the list of keys and the "Reading
layout" button, in a scroll area (the reading layout gives the controls the full height of the right side;
at 1280 x 800 they must not make the window taller).
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from napari_recist._controller import SITES
from napari_recist._presets import SHORTCUTS, WINDOWS

__all__ = ["build_controls", "ROLES", "NEW_LESION_ROLES", "NT_STATES"]

ROLES = ("target", "non_target", "new")
NEW_LESION_ROLES = {"-": None, "NLT (new-lesion target)": "target", "NLNT (new-lesion non-target)": "non_target"}
"""The iRECIST role of a new lesion, as the combo box shows it -> the case file's ``role``."""
NT_STATES = ("present", "absent", "unequivocal_progression", "not_evaluated")


def build_controls(w: QWidget) -> None:
    """Make the controls as attributes of the Measurement widget ``w`` (``w.timepoint``, ``w.lesion``,
    ``w.long_button``, ``w.state_buttons``, ``w.window_buttons``, ``w.form`` ...) and lay them out in it."""
    w.timepoint = QComboBox()
    w.lesion = QComboBox()
    w.lesion.setEditable(True)
    w.role = QComboBox()
    w.role.addItems(ROLES)
    w.site = QComboBox()
    w.site.setEditable(True)
    w.site.addItems(SITES)
    w.nodal = QCheckBox("nodal (short axis counts)")
    w.equivocal = QCheckBox("equivocal")
    w.new_lesion_role = QComboBox()  # iRECIST: a new lesion followed as NLT or NLNT
    w.new_lesion_role.addItems(tuple(NEW_LESION_ROLES))
    w.length = QLabel("-")
    w.length.setStyleSheet("font-size: 15px; font-weight: bold")
    w.status = QLabel("")
    w.status.setWordWrap(True)
    form = w.form = QFormLayout()
    form.addRow("Timepoint", w.timepoint)
    form.addRow("Lesion", w.lesion)
    form.addRow("Role", w.role)
    form.addRow("Site", w.site)
    form.addRow("", w.nodal)
    form.addRow("", w.equivocal)
    form.addRow("iRECIST", w.new_lesion_role)
    form.addRow("Length", w.length)

    draw = QGroupBox("Measure")
    grid = QGridLayout(draw)
    w.long_button = QPushButton("Long axis")
    w.short_button = QPushButton("Short axis")
    w.confirm_button = QPushButton("Confirm SA")
    w.location_button = QPushButton("Location")
    w.mask_button = QPushButton("From mask")
    w.accept_button = QPushButton("Accept")
    w.reject_button = QPushButton("Reject")
    w.undo_button = QPushButton("Undo")
    w.redo_button = QPushButton("Redo")
    w.new_lesion_button = QPushButton("New lesion id")
    w.apply_button = QPushButton("Apply role/site")
    w.delete_button = QPushButton("Delete")
    w.delete_lesion_button = QPushButton("Delete lesion")
    tips = {w.long_button: "draw the long axis (Shift+D)", w.short_button: "draw the short axis (Shift+S)",
            w.confirm_button: "confirm a node's proposed short axis (Shift+C)",
            w.location_button: "click where a non-target or new lesion is (Shift+W)",
            w.mask_button: "grow the lesion from a click and preview its axes (Shift+F)",
            w.accept_button: "record the From-mask preview (Enter)",
            w.reject_button: "discard the From-mask preview (Escape)", w.undo_button: "undo (Ctrl+Z)",
            w.redo_button: "redo (Ctrl+Shift+Z)",
            w.delete_button: "delete the lesion's finding at this timepoint (Shift+Del)",
            w.delete_lesion_button: "delete the lesion at every timepoint (asks first)"}
    buttons = (w.long_button, w.short_button, w.confirm_button, w.location_button,
               w.mask_button, w.accept_button, w.reject_button, w.undo_button, w.redo_button,
               w.new_lesion_button, w.apply_button, w.delete_button, w.delete_lesion_button)
    for n, button in enumerate(buttons):
        button.setToolTip(tips.get(button, ""))
        grid.addWidget(button, n // 2, n % 2)
    w.accept_button.setEnabled(False)
    w.reject_button.setEnabled(False)

    states = QGroupBox("Target state")
    row = QGridLayout(states)
    w.state_buttons = {}
    for n, (state, text) in enumerate((("too_small", "Too small"), ("disappeared", "Disappeared"),
                                       ("not_evaluated", "Not evaluated"))):
        button = QPushButton(text)
        w.state_buttons[state] = button
        row.addWidget(button, 0, n)
    w.fragments = QLineEdit()
    w.fragments.setPlaceholderText("fragments mm, e.g. 12, 8")
    w.split_button = QPushButton("Split")
    w.merged_into = QComboBox()
    w.merge_button = QPushButton("Merged into")
    row.addWidget(w.fragments, 1, 0, 1, 2)
    row.addWidget(w.split_button, 1, 2)
    row.addWidget(w.merge_button, 2, 0)
    row.addWidget(w.merged_into, 2, 1, 1, 2)

    nt = QGroupBox("Non-target state (also a new lesion's, role \"new\")")
    nt_row = QHBoxLayout(nt)
    w.nt_state = QComboBox()
    w.nt_state.addItems(NT_STATES)
    w.nt_increased = QCheckBox("increased since previous")  # iRECIST "further increase" (INCLA)
    w.nt_button = QPushButton("Set")
    nt_row.addWidget(w.nt_state)
    nt_row.addWidget(w.nt_increased)
    nt_row.addWidget(w.nt_button)

    window = QGroupBox("Window (CT)")
    w_row = QHBoxLayout(window)
    w.window_buttons = {}
    for name in WINDOWS:
        button = QPushButton(name)
        button.setToolTip("W{:.0f} / L{:.0f}".format(*WINDOWS[name]))
        w.window_buttons[name] = button
        w_row.addWidget(button)

    keys = QLabel("Keys: " + ", ".join(f"{k} {v}" for k, v in SHORTCUTS.items()))
    keys.setWordWrap(True)
    keys.setStyleSheet("color: gray; font-size: 10px")
    # the controls scroll when the window is too low for them (the reading layout gives them the full
    # height of the right side; at 1280 x 800 they must not make the window taller)
    inner = QWidget()
    layout = QVBoxLayout(inner)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addLayout(form)
    for box in (draw, states, nt, window):
        layout.addWidget(box)
    layout.addWidget(w.status)
    layout.addWidget(keys)
    w.layout_button = QPushButton("Reading layout")
    w.layout_button.setToolTip("comparison | current timepoint | these controls, the case table below "
                                  "(docs/plugin.md)")
    layout.addWidget(w.layout_button)
    layout.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(inner)
    scroll.setMinimumWidth(inner.minimumSizeHint().width())  # a scroll bar, when shown, narrows the buttons
    outer = QVBoxLayout(w)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scroll)
