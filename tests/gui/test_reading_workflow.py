"""Reading workflow (issue 13 §2): the committed sample is never written; closing napari keeps unsaved
review edits (saved as a draft, or the reader is asked)."""

from __future__ import annotations

import hashlib

import pytest
from napari_recist._sample_data import COMMITTED_SAMPLE
from napari_recist._session import get_session
from qtpy.QtCore import Qt

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
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("recist", "Review")
    assert widget.open_project(project.root, "R1", package=package) and widget.open_subject(pseudonym)
    measure = widget.measurement
    measure.select(lesion_id="NT1", role="non_target", site="peritoneum")
    qtbot.mouseClick(measure.nt_button, Qt.MouseButton.LeftButton)  # NT1 present at the baseline
    assert widget.dirty
    return project, pseudonym, viewer, widget


def _close_event(widget):
    """The Close event napari's main window gets when the reader closes it, through the Review widget's
    filter on that window (returns whether the close is stopped). The window itself is closed by the
    fixture afterwards: napari's own teardown is not run twice."""
    from qtpy.QtGui import QCloseEvent

    event = QCloseEvent()
    return widget.eventFilter(widget.viewer.window._qt_window, event), event


def test_closing_napari_saves_the_readers_unsaved_edits_as_a_draft(make_napari_viewer, qtbot, review):  # noqa: F811
    project, pseudonym, _viewer, widget = _reader_with_an_edit(make_napari_viewer, qtbot, review)
    stopped, _event = _close_event(widget)
    assert not stopped
    versions = project.show(pseudonym, as_="R1")["versions"]
    assert [v["status"] for v in versions] == ["draft"]
    assert [lesion["id"] for lesion in versions[-1]["case"]["lesions"]] == ["NT1"]
    assert not widget.dirty


def test_closing_napari_asks_when_the_draft_cannot_be_saved(make_napari_viewer, qtbot, review):  # noqa: F811
    project, pseudonym, _viewer, widget = _reader_with_an_edit(make_napari_viewer, qtbot, review)
    assert widget.sign()
    widget.measurement.nt_state.setCurrentText("absent")
    qtbot.mouseClick(widget.measurement.nt_button, Qt.MouseButton.LeftButton)  # an edit after signing
    assert widget.dirty
    seen: list[str] = []
    answers = [False, True]
    widget.ask = lambda question: (seen.append(question), answers.pop(0))[1]  # the reader's answers: No, Yes
    stopped, event = _close_event(widget)  # a draft over a signed read is refused: the reader is asked
    assert stopped and not event.isAccepted()
    assert seen and "lose them" in seen[0]
    stopped, _event = _close_event(widget)
    assert not stopped and len(seen) == 2
    assert [v["status"] for v in project.show(pseudonym, as_="R1")["versions"]] == ["signed"]
    widget.dirty = False  # the reader chose to lose them: the fixture's close does not ask again
