"""The plugin's controller (no Qt) with an iRECIST read: NLT/NLNT records kept across edits, the table's
new-lesion cells and its iRECIST row."""

from napari_recist._controller import CaseController

TPS = [{"label": "baseline", "date": "2024-01-10"}, {"label": "week 8", "date": "2024-03-06"},
       {"label": "week 16", "date": "2024-05-01"}]


def _line(length_mm, z=-100.0):
    return (10.0, 20.0, z), (10.0 + length_mm, 20.0, z)


def test_new_lesion_records_and_table(tmp_path):
    ctl = CaseController.new("NET-901", TPS, tmp_path / "case.json")
    ctl.set_long_axis("baseline", "T1", *_line(40), site="liver")
    ctl.set_long_axis("week 8", "T1", *_line(40))
    ctl.set_long_axis("week 16", "T1", *_line(40))
    ctl.set_new_lesion("week 8", "N1", site="bone", role="non_target")
    ctl.set_new_lesion("week 8", "N1", site="bone", start_mm=(0, 0, 0), end_mm=(0, 0, 8))  # a line, role kept
    assert ctl.entry("week 8", "N1").role.value == "non_target"
    assert ctl.entry("week 8", "N1").long_axis_mm == 8.0
    ctl.set_new_lesion("week 16", "N1", site="bone", increased_since_previous=True)
    assert ctl.table().best_i_response == ""  # RECIST 1.1 until the criteria say iRECIST
    assert all(row.header != "iRECIST response" for row in ctl.table().rows)
    ctl.set_criteria("iRECIST")
    table = ctl.table()
    row = next(r for r in table.rows if r.lesion_id == "N1")
    assert row.header == "N1 (new, NLNT)"
    assert [c.text for c in row.cells] == ["", "new 8.0", "new grew"]
    i_row = next(r for r in table.rows if r.header == "iRECIST response")
    assert [c.text for c in i_row.cells] == ["", "iUPD", "iCPD"]  # any NLNT increase confirms (I4 c)
    assert table.best_i_response == "iCPD"
    ctl.set_new_lesion("week 16", "N1", site="bone", state="absent", increased_since_previous=False)
    assert next(r for r in ctl.table().rows if r.lesion_id == "N1").cells[2].text == "gone"


def test_a_non_measurable_new_lesion_target_is_flagged_in_the_table(tmp_path):
    """I7: an NLT must be measurable by RECIST 1.1 where it appears (10 mm); the table says how to fix it."""
    ctl = CaseController.new("NET-902", TPS, tmp_path / "case.json")
    ctl.set_long_axis("baseline", "T1", *_line(40), site="liver")
    ctl.set_long_axis("week 8", "T1", *_line(40))
    ctl.set_criteria("iRECIST")
    ctl.set_new_lesion("week 8", "N1", site="liver", role="target", start_mm=(0, 0, 0), end_mm=(0, 0, 7))
    assert any("N1" in note and "non-measurable" in note and "non_target" in note for note in ctl.table().notes)
    ctl.set_new_lesion("week 8", "N1", site="liver", start_mm=(0, 0, 0), end_mm=(0, 0, 12))
    assert not any("N1" in note for note in ctl.table().notes)
