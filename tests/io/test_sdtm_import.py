"""SDTM import: round trips (case -> SDTM -> case -> assess) and malformed files raising ExchangeError."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from exchange_cases import cases, example_case_dict, without_recorded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from module_split import assert_public_names_kept

import recist
from recist.errors import ExchangeError
from recist.export.sdtm import SdtmRead, build_sdtm, write_sdtm
from recist.io.sdtm_import import cases_from_sdtm, read_domain, read_sdtm


def _responses(assessment):
    return [
        (t.label, t.target_response, t.non_target_response, t.new_lesions, t.overall_response, t.sum_mm)
        for t in assessment.timepoints
    ] + [assessment.best_overall_response]


def _export(tmp_path: Path, reads, formats=("csv", "json", "xpt")) -> Path:
    datasets = build_sdtm(reads, study_id="STUDY1")
    write_sdtm(datasets, tmp_path, formats=formats, study_id="STUDY1")
    return tmp_path


def _only(folder: Path, suffix: str, dest: Path) -> Path:
    dest.mkdir()
    for domain in ("tu", "tr", "rs"):
        shutil.copy(folder / f"{domain}.{suffix}", dest)
    return dest


@pytest.mark.parametrize("suffix", ["json", "csv", "xpt"])
def test_round_trip_of_every_construct(tmp_path, suffix):
    case = recist.parse_case(example_case_dict())
    assessment = recist.assess(case)
    out = _export(tmp_path / "out", [SdtmRead(case, assessment)])
    reads = cases_from_sdtm(read_sdtm(_only(out, suffix, tmp_path / suffix)))
    assert len(reads) == 1
    read = reads[0]
    assert (read.evaluator, read.evaluator_role, read.accepted) == (
        "INDEPENDENT ASSESSOR",
        "RADIOLOGIST 1",
        True,
    )
    assert without_recorded(read.case) == case.to_dict()
    again = recist.assess(read.case)
    assert _responses(again) == _responses(assessment)
    assert again.discrepancies == ()
    recorded = read.case.timepoints[1].recorded
    assert recorded.overall == assessment.timepoints[0].overall_response


def test_one_case_per_subject_per_evaluator(tmp_path):
    first = recist.parse_case(example_case_dict())
    second_data = example_case_dict()
    second_data["subject"] = "EX-002"
    second = recist.parse_case(second_data)
    reads = [
        SdtmRead(first, recist.assess(first), "RADIOLOGIST 1", accepted=False),
        SdtmRead(first, recist.assess(first), "RADIOLOGIST 2", accepted=True),
        SdtmRead(second, recist.assess(second), None, accepted=None, evaluator="INVESTIGATOR"),
    ]
    imported = cases_from_sdtm(read_sdtm(_export(tmp_path, reads, formats=("json",))))
    keys = sorted((r.case.subject, r.evaluator, r.evaluator_role, r.accepted) for r in imported)
    assert keys == [
        ("EX-001", "INDEPENDENT ASSESSOR", "RADIOLOGIST 1", False),
        ("EX-001", "INDEPENDENT ASSESSOR", "RADIOLOGIST 2", True),
        ("EX-002", "INVESTIGATOR", "", None),
    ]


def test_protocol_and_recorded_options(tmp_path):
    case = recist.parse_case(example_case_dict())
    out = _export(tmp_path, [SdtmRead(case, recist.assess(case))], formats=("csv",))
    protocol = recist.Protocol(confirmation=True)
    read = cases_from_sdtm(read_sdtm(out), protocol=protocol, recorded=False)[0]
    assert read.case.protocol == protocol
    assert all(tp.recorded is None for tp in read.case.timepoints)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_random_cases_round_trip(tmp_path_factory, case):
    folder = tmp_path_factory.mktemp("sdtm")
    assessment = recist.assess(case)
    out = _export(folder, [SdtmRead(case, assessment)], formats=("csv",))
    read = cases_from_sdtm(read_sdtm(out))[0]
    assert without_recorded(read.case) == case.to_dict()
    again = recist.assess(read.case)
    assert _responses(again) == _responses(assessment)
    assert again.discrepancies == ()


@pytest.fixture(scope="module")
def exported_csv(tmp_path_factory):
    case = recist.parse_case(example_case_dict())
    folder = tmp_path_factory.mktemp("csv")
    return _export(folder, [SdtmRead(case, recist.assess(case))], formats=("csv",))


def _table(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def _write_table(path: Path, table: list[list[str]]) -> None:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(table)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    domain=st.sampled_from(["tu", "tr", "rs"]),
    row=st.integers(1, 40),
    column=st.integers(0, 30),
    value=st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            ["", "NaN", "-1", "1e309", "TARGET", "T9", "ABSENT", "2024-13-01", "LDIAM", "0", "Y"]
        ),
    ),
    drop=st.booleans(),
)
def test_mutated_files_load_or_raise_exchange_error(
    tmp_path_factory, exported_csv, domain, row, column, value, drop
):
    folder = tmp_path_factory.mktemp("mutated")
    for name in ("tu", "tr", "rs"):
        shutil.copy(exported_csv / f"{name}.csv", folder)
    path = folder / f"{domain}.csv"
    table = _table(path)
    r = min(row, len(table) - 1)
    if drop:
        del table[r]
    else:
        table[r][min(column, len(table[r]) - 1)] = value
    _write_table(path, table)
    try:
        reads = cases_from_sdtm(read_sdtm(folder))
    except ExchangeError as exc:
        assert str(exc)
    else:
        for read in reads:
            recist.assess(read.case)


def _mutate(folder: Path, domain: str, row: int, column: str, value: str) -> None:
    path = folder / f"{domain}.csv"
    table = _table(path)
    table[row][table[0].index(column)] = value
    _write_table(path, table)


@pytest.mark.parametrize(
    ("domain", "row", "column", "value", "message"),
    [
        ("tr", 1, "TRTESTCD", "DIAMETER", r"tr\.csv row 1: TRTESTCD 'DIAMETER'"),
        ("tr", 2, "TRSTRESC", "big", r"tr\.csv row 2: TRSTRESN '[0-9.]+' differs from TRSTRESC 'big'"),
        ("tr", 2, "TRLNKID", "T99", r"tr\.csv row 2: TRLNKID 'T99' of subject 'STUDY1-EX-001' has no TU record"),
        ("tu", 3, "TUSTRESC", "MAYBE", r"tu\.csv row 3: TUSTRESC 'MAYBE'"),
        ("tu", 1, "TUDTC", "10/01/2024", r"tu\.csv row 1: TUDTC '10/01/2024' is not an ISO 8601 date"),
        ("tr", 1, "VISITNUM", "x", r"tr\.csv row 1: VISITNUM 'x' is not a number"),
        ("rs", 1, "RSSTRESC", "GOOD", r"rs\.csv row 1: TRGRESP 'GOOD'"),
        ("tr", 1, "TRDTC", "2024-01-11", r"tr\.csv row 1: TRDTC 2024-01-11 differs"),
    ],
)
def test_malformed_records_name_the_row(tmp_path, exported_csv, domain, row, column, value, message):
    folder = tmp_path / "bad"
    folder.mkdir()
    for name in ("tu", "tr", "rs"):
        shutil.copy(exported_csv / f"{name}.csv", folder)
    _mutate(folder, domain, row, column, value)
    with pytest.raises(ExchangeError, match=message):
        cases_from_sdtm(read_sdtm(folder))


def test_malformed_files(tmp_path):
    with pytest.raises(ExchangeError, match="not a folder"):
        read_sdtm(tmp_path / "missing")
    with pytest.raises(ExchangeError, match="no TU dataset"):
        read_sdtm(tmp_path)
    bad = tmp_path / "tu.json"
    bad.write_text("{not json")
    with pytest.raises(ExchangeError, match="tu.json: not JSON"):
        read_domain(bad)
    bad.write_text(json.dumps({"datasetJSONVersion": "2.0", "columns": [], "rows": []}))
    with pytest.raises(ExchangeError, match="not Dataset-JSON 1.x"):
        read_domain(bad)
    bad.write_text(json.dumps({"datasetJSONVersion": "1.1", "columns": [{"name": "A"}], "rows": [[1, 2]]}))
    with pytest.raises(ExchangeError, match="tu.json row 1: expected an array of 1 values"):
        read_domain(bad)
    xpt = tmp_path / "tu.xpt"
    xpt.write_bytes(b"HEADER RECORD" * 10)
    with pytest.raises(ExchangeError, match="tu.xpt: not a readable SAS XPORT"):
        read_domain(xpt)
    ragged = tmp_path / "tr.csv"
    ragged.write_text("USUBJID,TRLNKID\nS1\n")
    with pytest.raises(ExchangeError, match="tr.csv row 1: 1 cells but 2 columns"):
        read_domain(ragged)
    with pytest.raises(ExchangeError, match="unknown dataset file type"):
        read_domain(tmp_path / "tu.sas7bdat")


def test_public_names_stay_importable_from_recist_io_sdtm_import():
    """Users' scripts and docs/exchange.md import these from recist.io.sdtm_import; the split into
    sdtm_datasets/sdtm_checks/sdtm_cases keeps them there."""
    before_split = ["ImportedRead", "read_sdtm", "read_domain", "read_protocols", "check_datasets", "cases_from_sdtm"]
    parts = ["recist.io.sdtm_datasets", "recist.io.sdtm_checks", "recist.io.sdtm_cases"]
    assert_public_names_kept("recist.io.sdtm_import", before_split, parts)
