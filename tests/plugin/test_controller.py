"""The plugin's controller (no Qt): edits, responses from recist.assess, undo, autosave, the table."""

import json
import math

import numpy as np
import pytest
from napari_recist._controller import CaseController

import recist
from recist.errors import RecistError, RecistValidationError
from recist.model.case import ImageRef

TPS = [{"label": "baseline", "date": "2024-01-10"}, {"label": "week 8", "date": "2024-03-06"},
       {"label": "week 16", "date": "2024-05-01"}]
IMAGE = ImageRef(study_uid="1.2.3", series_uid="1.2.3.4", sop_uid="1.2.3.4.5", modality="CT")


def _line(length_mm, z=-100.0, x0=10.0):
    return (x0, 20.0, z), (x0 + length_mm, 20.0, z)


@pytest.fixture
def reading(tmp_path):
    ctl = CaseController.new("NET-900", TPS, tmp_path / "case.json")
    ctl.set_long_axis("baseline", "T1", *_line(40), image=IMAGE, site="liver")
    ctl.set_long_axis("baseline", "T2", *_line(30), site="mesenteric lymph node", nodal=True)
    ctl.confirm_short_axis("baseline", "T2")
    ctl.set_non_target("baseline", "NT1", "present", point_mm=(1, 2, 3), site="peritoneum")
    return ctl


def test_new_reading_is_not_assessable_until_a_lesion_exists(tmp_path):
    ctl = CaseController.new("S", TPS)
    assert ctl.assessment is None and "lesion" in ctl.problems
    assert "cannot assess yet" in ctl.table().notes[0]


def test_long_axis_length_and_node_short_axis_proposal(tmp_path):
    reading = CaseController.new("NET-900", TPS, tmp_path / "case.json")
    reading.set_long_axis("baseline", "T1", *_line(40), image=IMAGE, site="liver")
    entry = reading.entry("baseline", "T1")
    assert entry.long_axis_mm == pytest.approx(40.0)
    assert entry.long_axis_line.start_mm == (10.0, 20.0, -100.0)
    assert entry.image == IMAGE
    reading.set_long_axis("baseline", "T2", *_line(30), site="mesenteric lymph node", nodal=True)
    # the node's short axis is only proposed: not in the case, not counted, the timepoint incomplete
    node = reading.entry("baseline", "T2")
    assert node.short_axis_mm is None and node.short_axis_line is None
    assert reading.assessment is None and "short_axis_mm is required" in reading.problems
    assert CaseController.open(tmp_path / "case.json").entry("baseline", "T2").short_axis_mm is None  # reopens
    proposal = reading.proposed_short_axis("baseline", "T2")
    assert proposal.length_mm == pytest.approx(15.0)  # half the long axis, perpendicular, same plane
    sa = np.subtract(proposal.end_mm, proposal.start_mm)
    la = np.subtract(node.long_axis_line.end_mm, node.long_axis_line.start_mm)
    assert abs(sa @ la) < 1e-9 and sa[2] == 0
    table = reading.table()
    assert next(r for r in table.rows if r.lesion_id == "T2").cells[0].text == "SA to confirm"
    assert any("T2 is only proposed" in note and "incomplete" in note for note in table.notes)
    # confirming records it; it then counts
    assert reading.confirm_short_axis("baseline", "T2") == pytest.approx(15.0)
    assert reading.entry("baseline", "T2").short_axis_mm == pytest.approx(15.0)
    assert reading.proposed_short_axis("baseline", "T2") is None
    assert reading.assessment.baseline_sum_mm == pytest.approx(55.0)
    # the reader adjusts the short axis: that is what counts for a node
    reading.set_short_axis("baseline", "T2", (25, 10, -100), (25, 32, -100))
    assert reading.entry("baseline", "T2").short_axis_mm == pytest.approx(22.0)
    assert reading.assessment.baseline_sum_mm == pytest.approx(62.0)
    # re-drawing the long axis keeps the adjusted short axis
    reading.set_long_axis("baseline", "T2", *_line(31))
    assert reading.entry("baseline", "T2").short_axis_mm == pytest.approx(22.0)


def test_ids_are_matched_without_regard_to_case(reading):
    reading.set_long_axis("week 8", "t1", *_line(20))
    assert reading.lesion_ids() == ["T1", "T2", "NT1"]
    assert reading.entry("week 8", "T1").long_axis_mm == pytest.approx(20.0)
    assert reading.resolve_id(" nt1 ") == "NT1" and reading.resolve_id("T9") == "T9"
    with pytest.raises(RecistError, match="baseline lesion"):
        reading.set_new_lesion("week 8", "t2", site="liver")
    reading.set_new_lesion("week 8", "N1", site="bone", point_mm=(1.0, 2.0, 3.0))
    assert reading.next_lesion_id("n") == "n2"
    assert reading.location_mm("week 8", "N1") == (1.0, 2.0, 3.0)


def test_delete_lesion_and_redo_survive_reopening(reading, tmp_path):
    reading.set_long_axis("week 8", "T1", *_line(20))
    reading.delete_lesion("t1")
    assert "T1" not in reading.lesion_ids() and reading.entry("week 8", "T1") is None
    with pytest.raises(RecistError, match="no lesion T1"):
        reading.delete_lesion("T1")
    reopened = CaseController.open(tmp_path / "case.json")
    assert reopened.case == reading.case and reopened.can_undo
    assert reopened.undo() and "T1" in reopened.lesion_ids()
    assert recist.read_case(tmp_path / "case.json") == reopened.case
    again = CaseController.open(tmp_path / "case.json")
    assert again.can_redo and again.redo() and "T1" not in again.lesion_ids()
    # an edit forgets what was undone
    again.undo()
    again.clear_entry("week 8", "T1")
    assert not again.can_redo
    # a case file changed by another tool: its old history is not used
    (tmp_path / "case.json").write_text((tmp_path / "case.json").read_text().replace("NET-900", "NET-901"))
    assert not CaseController.open(tmp_path / "case.json").can_undo


def test_responses_match_recist_assess_and_autosave_round_trips(reading, tmp_path):
    reading.set_long_axis("week 8", "T1", *_line(20))
    reading.set_target_state("week 8", "T2", "too_small")
    reading.set_non_target("week 8", "NT1", "present")
    reading.set_long_axis("week 16", "T1", *_line(30))
    reading.set_target_state("week 16", "T2", "disappeared")
    reading.set_non_target("week 16", "NT1", "present")
    reading.set_new_lesion("week 16", "N1", site="bone", equivocal=True)
    saved = recist.read_case(tmp_path / "case.json")
    assert saved == reading.case
    expected = recist.assess(saved).to_dict()
    table = reading.table()
    rows = {row.header: row for row in table.rows}
    sums = [c.text for c in rows["Sum (mm)"].cells]
    assert sums[1] == f"{expected['timepoints'][0]['sum_mm']:.1f}"
    assert [c.text for c in rows["Overall response"].cells][1:] == [
        t["overall_response"] for t in expected["timepoints"]]
    assert table.best_overall_response == expected["best_overall_response"]
    assert rows["N1 (new)"].cells[2].text == "equivocal"
    assert reading.reference_timepoint("week 16", "nadir") == "week 8"
    assert reading.reference_timepoint("week 16", "baseline") == "baseline"


def test_undo_restores_previous_case_and_saves(reading, tmp_path):
    before = reading.case
    reading.set_long_axis("week 8", "T1", *_line(12))
    assert reading.undo() is True
    assert reading.case == before
    assert recist.read_case(tmp_path / "case.json") == before
    while reading.undo():
        pass
    assert reading.case.lesions == [] and not reading.can_undo


def test_listeners_are_called_on_every_change(reading):
    calls = []
    reading.subscribe(lambda: calls.append(1))
    reading.set_target_state("week 8", "T1", "split", fragments_mm=[5, 6])
    reading.set_target_state("week 8", "T2", "merged", merged_into="T1")
    assert len(calls) == 2
    cells = {row.lesion_id: row.cells[1].text for row in reading.table().rows if row.lesion_id}
    assert cells["T1"] == "split 5.0 + 6.0" and cells["T2"] == "merged into T1"


def test_role_change_moves_entries(reading):
    reading.set_lesion("T1", role="non_target")
    assert reading.entry("baseline", "T1").state.value == "present"
    assert reading.entry("baseline", "T1").long_axis_mm == pytest.approx(40)
    reading.set_lesion("T1", role="target", site="lung")
    assert reading.entry("baseline", "T1").long_axis_mm == pytest.approx(40)
    assert reading.case.lesion("T1").site == "lung"


def test_measurability_problem_is_shown_next_to_the_lesion(tmp_path):
    ctl = CaseController.new("S", TPS[:2])
    ctl.set_long_axis("baseline", "T1", *_line(6), site="liver")  # < 10 mm: not measurable
    row = next(r for r in ctl.table().rows if r.lesion_id == "T1")
    assert "measurable" in row.problem


def test_bad_edits_raise_recist_errors_and_keep_state(reading):
    before = reading.case
    with pytest.raises(RecistError):
        reading.set_short_axis("week 8", "T1", (0, 0, 0), (1, 0, 0))  # no long axis yet
    with pytest.raises(RecistError):
        reading.set_long_axis("nope", "T1", *_line(5))
    with pytest.raises(RecistError):
        reading.set_long_axis("baseline", "NT1", *_line(5))
    with pytest.raises(RecistValidationError):
        reading.set_target_state("week 8", "T1", "split")  # split needs fragments
    with pytest.raises(ValueError):
        reading.set_non_target("week 8", "NT1", "gone")
    assert reading.case == before


def test_open_corrupt_case_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(RecistValidationError, match="bad.json"):
        CaseController.open(bad)


def test_location_and_timepoint_lookup(reading):
    assert reading.location_mm("baseline", "T1") == pytest.approx((30.0, 20.0, -100.0))
    assert reading.location_mm("baseline", "NT1") == (1, 2, 3)
    assert reading.timepoint_for_series("x", IMAGE.series_uid) == "baseline"
    import datetime as dt

    assert reading.timepoint_for_series("x", "y", dt.date(2024, 3, 6)) == "week 8"
    assert reading.timepoint_for_series("x", "y", None) is None
    assert math.isclose(len(reading.lines("baseline")), 3)
    assert json.loads((reading.path).read_text())["subject"] == "NET-900"
