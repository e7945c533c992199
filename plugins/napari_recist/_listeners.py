"""Listeners held weakly: a widget listening to the controller or the session is not kept alive by it.

The session is global per viewer and holds the controller; a strong reference to a bound method would keep
a closed viewer's widgets and window alive. Qt-free.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["WeakListeners"]


class WeakListeners:
    """A list of callbacks; bound methods are held by :class:`weakref.WeakMethod`, other callables strongly.

    Calling the list calls every live listener with the given arguments and drops the dead ones.
    """

    def __init__(self) -> None:
        self._refs: list[Callable[[], Callable[..., None] | None]] = []

    def add(self, listener: Callable[..., None]) -> None:
        """Call ``listener`` on every notification from now on."""
        self._refs.append(weakref.WeakMethod(listener) if hasattr(listener, "__self__") else (lambda: listener))

    def remove(self, listener: Callable[..., None]) -> None:
        """Stop calling ``listener`` (and forget dead listeners)."""
        self._refs = [ref for ref in self._refs if ref() not in (None, listener)]

    def __call__(self, *args: Any) -> None:
        for ref in list(self._refs):
            listener = ref()
            if listener is None:
                self._refs.remove(ref)
            else:
                listener(*args)
