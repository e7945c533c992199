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
    """The synthetic NET patient (small), once per session: a copy of the committed sample_data/patient
    (byte-identical to a fresh generation, tests/plugin/test_sample_data.py), generated when absent."""
    import shutil

    from napari_recist._sample_data import COMMITTED_SAMPLE

    from recist.synthetic.sample_patient import make_sample_patient

    out = tmp_path_factory.mktemp("patient")
    if (COMMITTED_SAMPLE / "case.json").is_file():
        shutil.copytree(COMMITTED_SAMPLE, out, dirs_exist_ok=True)
    else:
        make_sample_patient(out)
    return out
