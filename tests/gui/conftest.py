"""GUI tests: napari under pytest-xvfb (never QT_QPA_PLATFORM=offscreen), config and cache in tmp."""

import os
import tempfile

import pytest

_TMP = tempfile.mkdtemp(prefix="recist-gui-")
os.environ.setdefault("XDG_CONFIG_HOME", os.path.join(_TMP, "config"))
os.environ.setdefault("XDG_CACHE_HOME", os.path.join(_TMP, "cache"))

pytest.importorskip("napari")
pytest.importorskip("pytestqt")


@pytest.fixture(scope="session")
def sample_patient_dir(tmp_path_factory):
    """A generated synthetic NET patient (small), once per session."""
    from recist.io.sample import make_sample_patient

    out = tmp_path_factory.mktemp("patient")
    make_sample_patient(out)
    return out
