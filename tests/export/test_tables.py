"""Tidy CSV tables: one row per lesion per timepoint, one row per timepoint."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import recist
from recist.export.sdtm import SdtmRead
from recist.export.tables import LESION_COLUMNS, RESPONSE_COLUMNS, lesion_rows, response_rows, write_tables

sys.path.insert(0, str(Path(__file__).parents[1] / "io"))
from exchange_cases import example_case_dict  # noqa: E402


def _read():
    case = recist.parse_case(example_case_dict())
    return SdtmRead(case, recist.assess(case), "RADIOLOGIST 1")


def test_one_row_per_lesion_per_timepoint():
    read = _read()
    rows = lesion_rows(read)
    keys = [(r["timepoint"], r["lesion"]) for r in rows]
    assert len(keys) == len(set(keys)) == 6 + (6 + 1) + (6 + 2)  # 6 lesions; N1 at week 8; N1, N2 at week 16
    week8 = {r["lesion"]: r for r in rows if r["timepoint"] == "week 8"}
    assert week8["T3"]["state"] == "split" and week8["T3"]["fragments_mm"] == "8;6.5"
    assert (
        week8["NT2"]["state"] == "not_evaluated" and week8["N1"]["kind"] == "new" and week8["N1"]["equivocal"]
    )
    assert week8["T1"]["long_axis_mm"] == 20.25 and week8["T1"]["day"] == 56
    week16 = {r["lesion"]: r for r in rows if r["timepoint"] == "week 16"}
    assert week16["T4"]["merged_into"] == "T3" and week16["N2"]["short_axis_mm"] == 16.0


def test_one_row_per_timepoint_with_responses():
    read = _read()
    rows = response_rows(read)
    assert [r["timepoint"] for r in rows] == ["baseline", "week 8", "week 16"]
    assert rows[0]["sum_mm"] == read.assessment.baseline_sum_mm and rows[0]["day"] == 0
    for row, tp in zip(rows[1:], read.assessment.timepoints):
        assert row["overall_response"] == tp.overall_response.value
        assert row["sum_mm"] == tp.sum_mm and row["new_lesions"] == tp.new_lesions.value
    assert {r["best_overall_response"] for r in rows} == {read.assessment.best_overall_response.value}


def test_written_files_have_the_columns(tmp_path):
    read = _read()
    lesions, responses = write_tables([read, read], tmp_path)
    with lesions.open() as handle:
        table = list(csv.DictReader(handle))
    assert tuple(table[0]) == LESION_COLUMNS
    assert len(table) == 2 * len(lesion_rows(read))
    assert table[0]["nodal"] == "false" and table[0]["long_axis_mm"] == "32.5" and table[0]["state"] == ""
    with responses.open() as handle:
        table = list(csv.DictReader(handle))
    assert tuple(table[0]) == RESPONSE_COLUMNS and table[0]["evaluator"] == "RADIOLOGIST 1"
    assert table[0]["target_response"] == "" and table[1]["overall_response"]
