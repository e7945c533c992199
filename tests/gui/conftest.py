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


@pytest.fixture
def reading(make_napari_viewer, sample_patient_dir, tmp_path, qtbot):
    """The sample patient (a working copy) open with the Measurement and Case table widgets docked:
    ``(viewer, measurement widget, table widget, case file path)``."""
    import shutil

    from ._reading import open_reading

    work = tmp_path / "patient"
    shutil.copytree(sample_patient_dir, work)
    viewer = make_napari_viewer(show=True)
    measure, table = open_reading(viewer, qtbot, work)
    return viewer, measure, table, work / "case.json"


@pytest.fixture(autouse=True)
def no_unanswered_dialogs(qapp):
    """A modal dialog that no test answers would block the run: close one still open at two checks 3 s
    apart and fail the test. (Two checks: a long paint, such as llvmpipe compiling shaders on a loaded
    machine, can hold the event loop for seconds; the test's own answer must get its turn first.)"""
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    left_open = []
    seen_before = []

    def close_modal():
        modal = QApplication.activeModalWidget()
        if modal is not None and seen_before and seen_before[-1] is modal:
            left_open.append(getattr(modal, "text", lambda: type(modal).__name__)())
            modal.reject()
            modal = None
        seen_before[:] = [modal] if modal is not None else []

    timer = QTimer()
    timer.setInterval(3000)
    timer.timeout.connect(close_modal)
    timer.start()
    yield
    timer.stop()
    assert not left_open, f"a dialog was left unanswered: {left_open}"
