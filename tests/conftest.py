"""Shared test fixtures: the repository root and the ../shared reference folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RECIST_SHARED_DIR", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    """The root of the checkout."""
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared folder beside the checkout (reference data); skips where it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"../shared is absent ({SHARED}): reference-data tests need it beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def ibsi_dro_dir(shared_dir: Path) -> Path:
    """The IBSI/OncoRay SUV digital reference objects; skips where they are absent."""
    path = shared_dir / "reference" / "ibsi-suv-dro" / "DRO"
    if not path.is_dir():
        pytest.skip(f"IBSI SUV reference objects absent at {path}")
    return path
