"""The plugin's keys: none is bound by napari (any layer type, the viewer, the menus), and each reaches the
plugin whatever layer is active (a key press on the canvas, as the keyboard gives it)."""

from __future__ import annotations

import numpy as np
import pytest
from napari_recist._controller import CaseController
from napari_recist._presets import PREVIEW_KEYS, SHORTCUTS
from napari_recist._widgets import MeasurementWidget
from qtpy.QtCore import Qt
from qtpy.QtGui import QKeySequence

from ._canvas import activate, canvas_widget, settle

pytestmark = pytest.mark.gui

LAYER_TYPES = ("Image", "Labels", "Points", "Shapes", "Surface", "Tracks", "Vectors")


def _normal(key: str) -> str:
    return QKeySequence(str(key)).toString()


def _napari_keys(viewer) -> set[str]:
    """Every key napari binds: default layer/viewer shortcuts, layer class key maps, app-model bindings."""
    from napari import layers
    from napari._app_model import get_app_model
    from napari.components import ViewerModel
    from napari.utils.shortcuts import default_shortcuts

    keys = {_normal(kb) for bindings in default_shortcuts.values() for kb in bindings}
    for cls in [getattr(layers, name) for name in LAYER_TYPES] + [ViewerModel]:
        for klass in cls.__mro__:
            keys |= {_normal(k) for k in (getattr(klass, "class_keymap", None) or {})}
    keys |= {_normal(kb.keybinding) for kb in get_app_model().keybindings}
    menu = viewer.window._qt_window.menuBar()
    keys |= {_normal(f"Alt+{a.text()[a.text().index('&') + 1]}") for a in menu.actions() if "&" in a.text()}
    return keys


def test_no_plugin_key_is_bound_by_napari(make_napari_viewer):
    viewer = make_napari_viewer()
    taken = _napari_keys(viewer)
    assert _normal("Shift+L") in taken  # the key of the issue: the Shapes layer's "add polyline"
    # Ctrl+Z / Ctrl+Shift+Z (the undo/redo) are also the Labels layer's undo/redo of painting: the
    # plugin hands them to an active Labels layer (test below); every other key is free
    clashes = sorted(key for key in SHORTCUTS if _normal(key) in taken)
    assert clashes == ["Ctrl+Shift+Z", "Ctrl+Z"], f"napari binds {clashes}"
    # Enter and Escape are napari's (finish drawing): the plugin takes them only while a preview waits
    assert {_normal(k) for k in PREVIEW_KEYS} & taken


def _add_one_layer_of_each_type(viewer) -> dict:
    rng = np.random.default_rng(0)
    return {
        "Image": viewer.add_image(rng.random((4, 16, 16))),
        "Labels": viewer.add_labels(np.zeros((4, 16, 16), np.uint8)),
        "Points": viewer.add_points([[1, 2, 3]]),
        "Shapes": viewer.add_shapes([[[1, 2, 2], [1, 8, 8]]], shape_type="line"),
        "Surface": viewer.add_surface((np.array([[0, 0, 0], [0, 5, 0], [0, 0, 5.0]]), np.array([[0, 1, 2]]))),
        "Tracks": viewer.add_tracks(np.array([[0, 0, 1, 2, 3], [0, 1, 2, 3, 4]], float)),
        "Vectors": viewer.add_vectors(np.array([[[1, 2, 3], [0, 1, 1]]], float)),
    }


_METHODS = ("draw", "confirm_short_axis", "arm_location", "arm_from_mask", "key_undo", "key_redo",
            "delete_measurement", "next_timepoint", "set_window")


def test_every_plugin_key_reaches_the_plugin_with_each_layer_type_active(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    controller = CaseController.new("S", [{"label": "baseline", "date": "2024-01-10"}])
    widget = MeasurementWidget(viewer, controller)
    layers = _add_one_layer_of_each_type(viewer)
    calls: list[tuple] = []
    for name in _METHODS:
        setattr(widget, name, lambda *args, name=name: calls.append((name, *args)))
    activate(qtbot, viewer)
    canvas = canvas_widget(viewer)
    for layer_type, layer in layers.items():
        viewer.layers.selection.active = layer
        for key in SHORTCUTS:
            calls.clear()
            sequence = QKeySequence(key)[0]
            canvas.setFocus()
            qtbot.keyClick(canvas, sequence.key(), sequence.keyboardModifiers())
            assert len(calls) == 1, f"{key} with a {layer_type} layer active: {calls}"
            if key == "Shift+D":
                assert calls == [("draw", "long")]
    settle(qtbot)


def test_ctrl_z_undoes_the_reading_and_leaves_labels_painting_to_napari(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    controller = CaseController.new("S", [{"label": "baseline", "date": "2024-01-10"}])
    MeasurementWidget(viewer, controller)
    controller.set_non_target("baseline", "NT1", "present", site="liver")
    activate(qtbot, viewer)
    canvas = canvas_widget(viewer)
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert controller.lesion_ids() == []
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert controller.lesion_ids() == ["NT1"]
    labels = viewer.add_labels(np.zeros((8, 8), np.uint8))
    labels.paint((4, 4), 1)
    assert labels.data.any()
    viewer.layers.selection.active = labels
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not labels.data.any() and controller.lesion_ids() == ["NT1"]
