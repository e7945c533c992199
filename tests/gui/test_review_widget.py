"""The Review widget on a small generated review project: a reader reads from their de-identified package,
saves, signs and amends; refusals become notifications; the adjudicator sees Read A and Read B side by
side (tables and two colours of lines) and records the choice. Everything goes through ReviewProject."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pytest
from napari.utils.notifications import notification_manager
from napari_recist._session import get_session
from napari_recist._widgets.review import READ_COLOURS

from recist.review.workflow import ReviewProject, SubjectTimepoint

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from dicom_factory import write_series  # noqa: E402

pytestmark = pytest.mark.gui

CHARTER = {
    "format": "recist.charter/1", "trial": "NET-3", "protocol": {"confirmation": False, "sd_min_days": 42},
    "visit_schedule": {"interval_days": 56, "window_days": 7},
    "readers": ["R1", "R2"], "adjudicators": ["ADJ1"], "administrators": ["PM1"],
    "timepoint_labels": {"baseline": "baseline", "week 8": "week 8"},  # packages show these labels
}
DATES = (dt.date(2024, 1, 8), dt.date(2024, 3, 4))


@pytest.fixture
def review(tmp_path):
    """A project (PM1) with one subject of two CT timepoints and R1's de-identified package."""
    folders = []
    for k, when in enumerate(DATES):
        folder = tmp_path / "dicom" / f"tp{k}"
        stamp = when.strftime("%Y%m%d")
        write_series(folder, shape=(4, 32, 32), spacing_mm=(3.0, 1.0, 1.0), origin_mm=(-16.0, -16.0, -100.0),
                     extra={"StudyDate": stamp, "SeriesDate": stamp, "PatientName": "Doe^Jane",
                            "PatientID": "NET-001"})
        folders.append(folder)
    project = ReviewProject.init(tmp_path / "project", CHARTER, as_="PM1")
    pseudonym = project.add_subject("NET-001", [SubjectTimepoint(label, when, (str(folder),)) for label, when, folder
                                                in zip(("baseline", "week 8"), DATES, folders)], as_="PM1")
    manifest = project.package("R1", tmp_path / "package_R1", as_="PM1")
    return project, pseudonym, tmp_path / "package_R1", manifest


def _messages(since: int) -> list[str]:
    return [str(n.message) for n in notification_manager.records[since:]]


def _line_case(pseudonym, manifest, sizes_mm):
    """A one-target case on the package's (shifted) dates, as R2 would save it."""
    tps = manifest["subjects"][0]["timepoints"]
    return {"format": "recist.case/1", "subject": pseudonym,
            "lesions": [{"id": "T1", "role": "target", "site": "liver"}],
            "timepoints": [{"label": tp["label"], "date": tp["date"], "targets": {"T1": {"long_axis_mm": size}}}
                           for tp, size in zip(tps, sizes_mm)]}


def test_reader_then_adjudicator(make_napari_viewer, review):
    project, pseudonym, package, manifest = review
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("recist", "Review")
    session = get_session(viewer)

    # an identity the charter does not name is refused (notification, nothing opened)
    seen = len(notification_manager.records)
    assert widget.open_project(project.root, "NOBODY", package=package) is False
    assert any("refused" in m for m in _messages(seen))

    # ---- reader R1 reads from the package
    assert widget.open_project(project.root, "R1", package=package)
    assert widget.subjects.count() == 1 and "not started" in widget.subjects.item(0).text()
    assert widget.open_subject(pseudonym)
    ctl = session.controller
    shifted = [tp["date"] for tp in manifest["subjects"][0]["timepoints"]]
    assert ctl.case.subject == pseudonym and [tp.date.isoformat() for tp in ctl.case.timepoints] == shifted
    images = [layer for layer in viewer.layers if layer.metadata.get("recist", {}).get("kind") == "image"]
    assert sorted(layer.metadata["recist"]["timepoint"] for layer in images) == ["baseline", "week 8"]
    measure = widget.measurement
    z = float(session.ct_layer("baseline").data_to_world((1, 0, 0))[0])
    measure.select("baseline", "T1", role="target", site="liver")
    assert measure.add_world_line((z, 0.0, -15.0), (z, 0.0, 15.0)) == pytest.approx(30.0)
    measure.select("week 8", "T1")
    measure.add_world_line((z, 0.0, -15.0), (z, 0.0, 25.0))  # 40 mm: +33 %, PD
    assert widget.dirty
    assert widget.sign()  # saves the draft, then signs
    read = project.show(pseudonym, as_="R1")["versions"]
    assert [v["status"] for v in read] == ["signed"] and read[-1]["case"] == ctl.case.to_dict()
    assert "signed v1" in widget.subjects.item(0).text()

    # a draft over a signed read, an amendment without reason, adjudicating as a reader: all refused
    measure.add_world_line((z, 0.0, -15.0), (z, 0.0, 24.0))
    seen = len(notification_manager.records)
    assert widget.save_draft() is False
    assert widget.amend("  ") is False
    assert widget.adjudicate("A", "I prefer mine") is False
    messages = _messages(seen)
    assert any("amend" in m for m in messages) and any("reason" in m for m in messages)
    assert any("refused" in m and "adjudicat" in m for m in messages)
    assert widget.amend("re-measured T1 at week 8")
    assert [v["version"] for v in project.show(pseudonym, as_="R1")["versions"]] == [1, 2]

    # ---- R2 signs a different read through the API (SD): the reads disagree
    project.save_read(pseudonym, _line_case(pseudonym, manifest, [30.0, 31.0]), as_="R2")
    project.sign(pseudonym, as_="R2")

    # ---- the adjudicator
    assert widget.open_project(project.root, "ADJ1", package=package)
    assert widget.subjects.count() == 1 and "progression" in widget.subjects.item(0).text()
    assert widget.open_subject(pseudonym)
    view = project.show(pseudonym, as_="ADJ1")
    for ab in ("A", "B"):
        sums = view["reads"][ab]["assessment"]["timepoints"][0]["sum_mm"]
        assert widget.read_tables[ab].cell_text("Sum (mm)", "week 8") == f"{sums:.1f}"
        layers = widget.read_layers(ab)
        assert sorted(layer.metadata["recist"]["timepoint"] for layer in layers) == ["baseline", "week 8"]
        assert all(np.allclose(layer.edge_color, _rgba(READ_COLOURS[ab])) for layer in layers)
    widget.timepoint.setCurrentText("week 8")
    visible = {layer.name for layer in viewer.layers if layer.visible}
    assert {"week 8 Read A lines", "week 8 Read B lines"} <= visible
    assert not visible & {"baseline Read A lines", "baseline Read B lines"}
    # a click in Read B's table shows that read's lesion at its timepoint
    table_b = widget.read_tables["B"]
    table_b._on_click(next(i for i, r in enumerate(table_b.model.rows) if r.lesion_id == "T1"), 0)
    assert session.timepoint == "baseline"
    seen = len(notification_manager.records)
    assert widget.adjudicate("A", "") is False and any("reason" in m for m in _messages(seen))
    pd_read = next(ab for ab, r in view["reads"].items() if r["assessment"]["progression"])
    assert widget.adjudicate(pd_read, "T1 growth at week 8 is real on the images")
    (result,) = project.results(as_="PM1")
    assert result["status"] == "final" and result["source"] == "adjudication" and result["read"] == pd_read
    assert result["reader"] == "R1" and result["best_overall_response"] == "PD"
    assert "adjudicated" in widget.subjects.item(0).text()
    assert project.verify() == []


def _rgba(hex_colour: str) -> np.ndarray:
    value = hex_colour.lstrip("#")
    return np.array([int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0])


def test_adjudicator_sees_the_values_of_read_a_and_read_b(make_napari_viewer, qtbot, review):
    """Read A and Read B tables below the canvas, every value cell visible in a 1280 x 800 window."""
    project, pseudonym, package, manifest = review
    for reader, sizes in (("R1", [30.0, 40.0]), ("R2", [30.0, 31.0])):
        project.save_read(pseudonym, _line_case(pseudonym, manifest, sizes), as_=reader)
        project.sign(pseudonym, as_=reader)
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)
    _, widget = viewer.window.add_plugin_dock_widget("recist", "Review")
    assert widget.open_project(project.root, "ADJ1", package=package)
    assert widget.open_subject(pseudonym)
    qtbot.wait(300)
    for ab in ("A", "B"):
        table = widget.read_tables[ab]
        grid = table.table_widget
        assert table.isVisible()
        viewport = grid.viewport().rect()
        for r, row in enumerate(table.model.rows):
            if row.header not in ("T1 (T, liver)", "Sum (mm)", "Overall response"):
                continue
            for c in range(len(table.model.columns)):
                rect = grid.visualRect(grid.model().index(r, c))
                assert viewport.contains(rect), (ab, row.header, c)
                text = grid.item(r, c).text()
                assert grid.fontMetrics().horizontalAdvance(text) <= rect.width(), (ab, text)
    assert widget.read_tables["A"].cell_text("T1 (T, liver)", "week 8") in ("40.0", "31.0")


def test_a_package_pet_without_suv_says_which_value_is_missing(make_napari_viewer, tmp_path):
    """A PET of a reader package whose headers lack an SUV value: shown in stored units, and the warning
    names the missing tag and that the core lab's package lacks it (a reader cannot fix a header)."""
    from napari.layers import Layer
    from napari_recist._layers import series_layers

    write_series(tmp_path / "pt", shape=(3, 16, 16), spacing_mm=(3.0, 2.0, 2.0), modality="PT")
    viewer = make_napari_viewer()
    seen = len(notification_manager.records)
    layers = series_layers(tmp_path / "pt", timepoint_of=lambda _info: "baseline",
                           package="the reader package P1 (S-001, baseline)")
    for data, kwargs, kind in layers:
        viewer.add_layer(Layer.create(data, kwargs, kind))
    (message,) = [m for m in _messages(seen) if "SUV" in m]
    assert message.startswith("recist: no SUV for this PET of the reader package P1 (S-001, baseline): ")
    assert "is missing or empty" in message and "(00" in message  # the tag, as Keyword (gggg,eeee)
    assert "fix the header" not in message and "re-export" not in message
    assert "core lab" in message and "stored units" in message
    assert [layer.name for layer in viewer.layers] == ["baseline PET (not SUV)"]
