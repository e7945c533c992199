"""Start a read from images (issue 13 §2): File > Open of a DICOM folder (one sub-folder per timepoint) or
of a reader package opens an empty case whose timepoints come from the series; a long axis drawn with a
real mouse drag is in the saved case. Refusals are one notification naming the folder."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pytest
from napari.utils.notifications import notification_manager
from napari_recist._controller import read_draft
from napari_recist._session import get_session
from qtpy.QtCore import Qt

import recist
from recist.review.workflow import ReviewProject, SubjectTimepoint

from ._canvas import drag, drag_tolerance_mm, press_key, settle
from ._reading import open_reading

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from dicom_factory import write_series  # noqa: E402

pytestmark = pytest.mark.gui

SHIFT = Qt.KeyboardModifier.ShiftModifier
DATES = (dt.date(2024, 5, 6), dt.date(2024, 1, 8), dt.date(2024, 3, 4))  # folders not in date order


def _write_timepoint(folder: Path, when: dt.date, patient: str = "NET-001") -> None:
    stamp = when.strftime("%Y%m%d")
    write_series(folder, shape=(4, 32, 32), spacing_mm=(3.0, 1.0, 1.0), origin_mm=(-16.0, -16.0, -100.0),
                 extra={"StudyDate": stamp, "SeriesDate": stamp, "PatientID": patient})


def _headers(table) -> list[str]:
    widget = table.table_widget
    return [widget.horizontalHeaderItem(c).text() for c in range(widget.columnCount())]


def _messages(since: int) -> list[str]:
    return [str(n.message) for n in notification_manager.records[since:]]


def _draw_long_axis(qtbot, viewer, measure, timepoint: str, lesion_id: str) -> None:
    """Choose the lesion, press the plugin's draw key over the canvas and drag 20 mm on the CT."""
    session = get_session(viewer)
    measure.select(timepoint, lesion_id, role="target", site="liver")
    settle(qtbot, 50)
    z = float(session.ct_layer(timepoint).data_to_world((1, 0, 0))[0])
    press_key(qtbot, viewer, Qt.Key.Key_D, SHIFT)
    drag(qtbot, viewer, (z, 0.0, -10.0), (z, 0.0, 10.0))


def test_a_dicom_folder_starts_an_empty_read_and_a_drag_is_saved(make_napari_viewer, qtbot, tmp_path):
    images = tmp_path / "NET-001"
    for name, when in zip(("scan-c", "scan-a", "scan-b"), DATES):
        _write_timepoint(images / name, when)
    viewer = make_napari_viewer(show=True)
    measure, table = open_reading(viewer, qtbot, images)
    session = get_session(viewer)
    case_path = images / "case.json"
    assert session.controller.path == case_path and case_path.is_file()
    case = read_draft(case_path)  # a read in progress (recist.read_case wants a baseline lesion)
    assert case.subject == "NET-001" and case.lesions == []
    assert [(tp.label, tp.date) for tp in case.timepoints] == [
        ("baseline", dt.date(2024, 1, 8)), ("timepoint 2", dt.date(2024, 3, 4)), ("timepoint 3", dt.date(2024, 5, 6))]
    assert _headers(table)[:3] == ["baseline\n2024-01-08", "timepoint 2\n2024-03-04", "timepoint 3\n2024-05-06"]
    shown = sorted(layer.metadata["recist"]["timepoint"] for layer in viewer.layers
                   if layer.metadata.get("recist", {}).get("kind") == "image")
    assert shown == ["baseline", "timepoint 2", "timepoint 3"]

    _draw_long_axis(qtbot, viewer, measure, "baseline", "T1")
    session.controller.flush()
    saved = recist.read_case(case_path)
    entry = saved.timepoints[0].targets["T1"]
    assert entry.long_axis_mm == pytest.approx(20.0, abs=drag_tolerance_mm(viewer))
    assert saved == session.controller.case
    row = next(r for r in table.model.rows if r.lesion_id == "T1")
    assert table.cell_text(row.header, "baseline") == f"{entry.long_axis_mm:.1f}"

    # opening the folder again continues the read: the case is never replaced
    viewer2 = make_napari_viewer()
    viewer2.open(str(images), plugin="recist")
    assert recist.read_case(case_path) == saved


def test_a_reader_package_starts_a_read_on_its_pseudonym_labels_and_dates(make_napari_viewer, qtbot, tmp_path):
    charter = {"format": "recist.charter/1", "trial": "NET-3", "readers": ["R1", "R2"], "adjudicators": ["ADJ1"],
               "administrators": ["PM1"], "timepoint_labels": {"baseline": "baseline", "week 8": "week 8"}}
    folders = []
    for k, when in enumerate(DATES[1:]):
        _write_timepoint(tmp_path / "dicom" / f"tp{k}", when)
        folders.append(tmp_path / "dicom" / f"tp{k}")
    project = ReviewProject.init(tmp_path / "project", charter, as_="PM1")
    pseudonym = project.add_subject("NET-001", [SubjectTimepoint(label, when, (str(folder),)) for label, when, folder
                                                in zip(("baseline", "week 8"), DATES[1:], folders)], as_="PM1")
    manifest = project.package("R1", tmp_path / "package_R1", as_="PM1")
    viewer = make_napari_viewer(show=True)
    measure, table = open_reading(viewer, qtbot, tmp_path / "package_R1")
    session = get_session(viewer)
    case_path = tmp_path / "package_R1" / pseudonym / "case.json"
    assert session.controller.path == case_path
    tps = manifest["subjects"][0]["timepoints"]
    case = read_draft(case_path)  # a read in progress (recist.read_case wants a baseline lesion)
    assert case.subject == pseudonym
    assert [(tp.label, tp.date.isoformat()) for tp in case.timepoints] == [(tp["label"], tp["date"]) for tp in tps]
    assert _headers(table)[:2] == [f"{tp['label']}\n{tp['date']}" for tp in tps]
    # the read fits the review project's checks (subject, labels, shifted dates)
    _draw_long_axis(qtbot, viewer, measure, "week 8", "T1")
    session.controller.flush()
    saved = read_draft(case_path)
    assert saved.timepoints[1].targets["T1"].long_axis_mm == pytest.approx(20.0, abs=drag_tolerance_mm(viewer))
    assert np.isclose(saved.timepoints[1].targets["T1"].long_axis_mm, session.controller.entry("week 8", "T1").long_axis_mm)


@pytest.mark.parametrize("layout", ["empty", "two subjects", "bad timepoint"])
def test_refusals_name_the_folder(make_napari_viewer, tmp_path, layout):
    images = tmp_path / "images"
    if layout == "empty":
        (images / "tp1").mkdir(parents=True)
        (images / "tp1" / "notes.txt").write_text("no images here")
        expected = "no DICOM image series"
    elif layout == "two subjects":
        _write_timepoint(images / "a", DATES[1], patient="NET-001")
        _write_timepoint(images / "b", DATES[2], patient="NET-002")
        expected = "2 subjects"
    else:
        _write_timepoint(images / "a", DATES[1])
        (images / "b").mkdir()
        (images / "b" / "slice.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 40)  # truncated DICOM file
        expected = "'b' has no loadable DICOM image series"
    from napari_recist._start_read import start_read

    from recist.errors import DicomLoadError

    viewer = make_napari_viewer()
    seen = len(notification_manager.records)
    if layout != "empty":
        viewer.open(str(images), plugin="recist")
        messages = [m for m in _messages(seen) if "cannot start a read" in m]
        assert len(messages) == 1 and str(images) in messages[0] and expected in messages[0], _messages(seen)
    with pytest.raises(DicomLoadError, match=expected):
        start_read(images)
    assert not (images / "case.json").exists()
