"""Reading workflow (issue 13 §2): the committed sample is never written; closing napari keeps unsaved
review edits (saved as a draft, or the reader is asked)."""

from __future__ import annotations

import hashlib

import pytest
from napari_recist._sample_data import COMMITTED_SAMPLE
from napari_recist._session import get_session
from qtpy.QtCore import Qt

from ._canvas import answer_next_dialog
from .test_review_widget import review  # noqa: F401 (fixture)

pytestmark = pytest.mark.gui


def _digest(folder) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.json"))}


def test_opening_the_committed_sample_never_writes_into_the_repository(make_napari_viewer, qtbot):
    if not (COMMITTED_SAMPLE / "case.json").is_file():
        pytest.skip("sample_data/patient is not in this checkout")
    before = _digest(COMMITTED_SAMPLE)
    viewer = make_napari_viewer()
    viewer.open(str(COMMITTED_SAMPLE), plugin="recist")  # what `napari sample_data/patient` does
    _, measure = viewer.window.add_plugin_dock_widget("recist", "Measurement")
    ctl = get_session(viewer).controller
    assert COMMITTED_SAMPLE.resolve() not in ctl.path.resolve().parents
    measure.select("week 12", "T1")
    qtbot.mouseClick(measure.delete_button, Qt.MouseButton.LeftButton)  # an edit: autosaved, but elsewhere
    assert ctl.entry("week 12", "T1") is None
    ctl.flush()
    assert _digest(COMMITTED_SAMPLE) == before
    assert not (COMMITTED_SAMPLE / "case.history.json").exists()
    assert ctl.path.is_file() and (ctl.path.parent / "case.history.json").is_file()


def _reader_with_an_edit(make_napari_viewer, qtbot, review):  # noqa: F811
    project, pseudonym, package, _manifest = review
    viewer = make_napari_viewer(show=True)
    _, widget = viewer.window.add_plugin_dock_widget("recist", "Review")
    assert widget.open_project(project.root, "R1", package=package) and widget.open_subject(pseudonym)
    measure = widget.measurement
    measure.select(lesion_id="NT1", role="non_target", site="peritoneum")
    qtbot.mouseClick(measure.nt_button, Qt.MouseButton.LeftButton)  # NT1 present at the baseline
    assert widget.dirty
    return project, pseudonym, viewer, widget


def _close_window(qtbot, viewer) -> bool:
    """Close napari's main window as File > Close Window does (``_QtMainWindow.close``: Qt sends the window
    its Close event, the Review widget's filter sees it first); returns whether the window is gone.

    When it is gone, the rest of napari's ``Window.close`` (its theme teardown) is done here and the window
    forgotten: Qt deleted its widgets with it (``WA_DeleteOnClose``), and make_napari_viewer's teardown,
    which closes the window again, would otherwise touch deleted Qt objects.
    """
    from qtpy.QtWidgets import QApplication

    window = viewer.window._qt_window
    destroyed = []
    window.destroyed.connect(lambda *_: destroyed.append(True))
    window.close()
    qtbot.wait(50)
    if not destroyed:  # the close was refused: the window stays, shown
        assert window.isVisible() and window in QApplication.topLevelWidgets()
        return False
    viewer.window._teardown()
    del viewer.window._qt_window
    return True


def test_closing_napari_saves_the_readers_unsaved_edits_as_a_draft(make_napari_viewer, qtbot, review):  # noqa: F811
    project, pseudonym, viewer, widget = _reader_with_an_edit(make_napari_viewer, qtbot, review)
    assert _close_window(qtbot, viewer)
    versions = project.show(pseudonym, as_="R1")["versions"]
    assert [v["status"] for v in versions] == ["draft"]
    assert [lesion["id"] for lesion in versions[-1]["case"]["lesions"]] == ["NT1"]


def test_closing_napari_asks_when_the_draft_cannot_be_saved(make_napari_viewer, qtbot, review):  # noqa: F811
    project, pseudonym, viewer, widget = _reader_with_an_edit(make_napari_viewer, qtbot, review)
    assert widget.sign()
    widget.measurement.nt_state.setCurrentText("absent")
    qtbot.mouseClick(widget.measurement.nt_button, Qt.MouseButton.LeftButton)  # an edit after signing
    assert widget.dirty
    seen: list[str] = []
    answer_next_dialog(False, seen)  # a draft over a signed read is refused: the reader is asked; No
    assert not _close_window(qtbot, viewer)
    assert len(seen) == 1 and "lose them" in seen[0]
    assert widget.dirty  # still open, the edit still there
    answer_next_dialog(True, seen)  # asked again; Yes: napari closes, the edit is lost, the signed read kept
    assert _close_window(qtbot, viewer)
    assert len(seen) == 2 and "lose them" in seen[1]
    assert [v["status"] for v in project.show(pseudonym, as_="R1")["versions"]] == ["signed"]
