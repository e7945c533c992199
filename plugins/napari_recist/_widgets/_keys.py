"""The plugin's keyboard shortcuts: Qt shortcuts of the napari main window, one set per window.

napari dispatches a key pressed on the canvas to the active layer's key map first, then to the
viewer's; a key that a layer binds (Shift-L is the Shapes layer's "add polyline") never reaches a
binding made with ``viewer.bind_key`` while that layer is active. The plugin therefore

- uses only keys that no napari layer, the viewer or napari's menus bind (checked against napari's
  default key bindings of every layer type in ``tests/gui/test_keys.py``), and
- binds them as ``QShortcut`` objects of the main window (context: the window), which Qt handles
  before any widget sees the key press: they work whatever layer is active and wherever the focus is
  in the window, except in a text field, which keeps its own keys (typing "D" in the lesion box types it).

One :class:`KeySet` per main window: a second Measurement widget (the Review widget docks one) takes
over the keys instead of adding ambiguous duplicates, which Qt would ignore.
"""

from __future__ import annotations

import weakref

from qtpy.QtCore import Qt
from qtpy.QtGui import QKeySequence

try:
    from qtpy.QtGui import QShortcut
except ImportError:  # Qt5 bindings
    from qtpy.QtWidgets import QShortcut

__all__ = ["KeySet", "key_set"]

_SETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class KeySet:
    """Shortcuts of one main window, each calling a method of an object held weakly (a closed widget is
    neither kept alive nor called)."""

    def __init__(self, window) -> None:
        self._window = weakref.ref(window)  # the key of _SETS: held weakly
        self.shortcuts: dict[str, QShortcut] = {}
        self._handlers: dict[str, tuple[weakref.ref, str, tuple]] = {}

    def bind(self, key: str, owner, method: str, *args, enabled: bool = True) -> None:
        """Call ``owner.method(*args)`` on ``key`` (a QKeySequence string such as "Shift+D"); replaces an
        earlier binding of the key."""
        self._handlers[key] = (weakref.ref(owner), method, args)
        shortcut = self.shortcuts.get(key)
        if shortcut is None:
            shortcut = QShortcut(QKeySequence(key), self._window())
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(lambda key=key: self._fire(key))
            self.shortcuts[key] = shortcut
        shortcut.setEnabled(enabled)

    def set_enabled(self, key: str, enabled: bool) -> None:
        """Turn one shortcut on or off (Enter / Escape only while a From-mask preview waits)."""
        if key in self.shortcuts:
            self.shortcuts[key].setEnabled(enabled)

    def _fire(self, key: str) -> None:
        ref, method, args = self._handlers[key]
        owner = ref()
        if owner is not None:
            getattr(owner, method)(*args)


def key_set(viewer) -> KeySet | None:
    """The key set of ``viewer``'s main window (None for a viewer without a window)."""
    window = getattr(getattr(viewer, "window", None), "_qt_window", None)
    if window is None:
        return None
    keys = _SETS.get(window)
    if keys is None:
        keys = KeySet(window)
        _SETS[window] = keys
    return keys
