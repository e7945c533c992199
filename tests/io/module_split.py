"""Checking that a module split into parts still offers every public name it had, as the parts' objects."""

from __future__ import annotations

import importlib
from collections.abc import Sequence


def assert_public_names_kept(module: str, names: Sequence[str], parts: Sequence[str]) -> None:
    """Assert each of ``names`` is in ``module.__all__``, importable from ``module``, defined there or in one of
    ``parts`` (module names), and the very object of every part that also has it."""
    facade = importlib.import_module(module)
    assert set(names) <= set(facade.__all__), sorted(set(names) - set(facade.__all__))
    pieces = [importlib.import_module(part) for part in parts]
    for name in names:
        assert hasattr(facade, name), name
        homes = [piece for piece in pieces if hasattr(piece, name)]
        for piece in homes:
            assert getattr(piece, name) is getattr(facade, name), (piece.__name__, name)
        assert getattr(facade, name).__module__ in {piece.__name__ for piece in homes} | {module}, name
