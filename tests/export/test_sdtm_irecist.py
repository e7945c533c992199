"""SDTM RS of an iRECIST case: RSCAT "iRECIST" records (overall response per visit, iBOR) beside the
RECIST 1.1 ones, which stay as they were; the importer reads the RECIST 1.1 ones back."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import recist
from recist.export.sdtm import SdtmRead, build_sdtm, write_sdtm
from recist.io.sdtm_import import read_sdtm

CASES = Path(__file__).resolve().parents[2] / "sample_data" / "cases"
PSEUDO = json.loads((CASES / "NET-008_pseudo_progression.json").read_text())


def _rs(case_dict: dict) -> list[dict]:
    case = recist.parse_case(case_dict)
    return build_sdtm([SdtmRead(case, recist.assess(case))], study_id="S")["RS"]


def _by_category(records: list[dict], category: str) -> list[tuple[str, str, str]]:
    return [(r["VISIT"], r["RSTESTCD"], r["RSSTRESC"]) for r in records if r["RSCAT"] == category]


def test_irecist_records_beside_recist_1_1():
    records = _rs(PSEUDO)
    i_records = _by_category(records, "iRECIST")
    assert [(code, value) for _, code, value in i_records] == [
        ("OVRLRESP", "iUPD"), ("OVRLRESP", "iPR"), ("OVRLRESP", "iPR"), ("BESTRESP", "iPR")]
    assert [visit for visit, code, _ in i_records if code == "OVRLRESP"] == [
        visit for visit, code, _ in _by_category(records, "RECIST 1.1") if code == "OVRLRESP"]
    plain = copy.deepcopy(PSEUDO)
    plain["protocol"]["criteria"] = "RECIST 1.1"
    recist_only = _by_category(_rs(plain), "RECIST 1.1")
    assert _by_category(records, "RECIST 1.1") == recist_only
    assert _by_category(_rs(plain), "iRECIST") == []


def test_no_record_after_icpd():
    confirmed = copy.deepcopy(PSEUDO)
    confirmed["timepoints"][2]["targets"] = {"T1": {"long_axis_mm": 57.0}, "T2": {"long_axis_mm": 30.0}}
    values = [value for _, code, value in _by_category(_rs(confirmed), "iRECIST") if code == "OVRLRESP"]
    assert values == ["iUPD", "iCPD"]


def test_written_files_read_back_with_the_irecist_records(tmp_path):
    case = recist.parse_case(PSEUDO)
    write_sdtm(build_sdtm([SdtmRead(case, recist.assess(case))], study_id="S"), tmp_path, study_id="S")
    rows = read_sdtm(tmp_path)["RS"]
    assert {row["RSCAT"] for row in rows} == {"RECIST 1.1", "iRECIST"}


def test_re_recorded_new_lesion_states_round_trip(tmp_path):
    """A new lesion recorded absent (or not evaluated, or unequivocally progressing) at a later visit is
    written as that TUMSTATE, not as a new finding, and read back so; the NLT/NLNT role is not carried."""
    from recist.io.sdtm_import import cases_from_sdtm

    data = copy.deepcopy(PSEUDO)
    data["timepoints"][2]["new_lesions"].append({"id": "N2", "site": "bone"})
    data["timepoints"][3]["new_lesions"].append({"id": "N2", "site": "bone", "state": "unequivocal_progression"})
    data["timepoints"].append({"label": "week 30", "date": "2024-09-02",
                               "targets": {"T1": {"long_axis_mm": 25.0}, "T2": {"long_axis_mm": 12.0}},
                               "non_targets": {"NT1": "present"},
                               "new_lesions": [{"id": "N1", "site": "liver", "state": "not_evaluated"}]})
    case = recist.parse_case(data)
    datasets = build_sdtm([SdtmRead(case, recist.assess(case))], study_id="S")
    states = {(r["VISIT"], r["TRLNKID"]): (r["TRSTRESC"], r["TRSTAT"]) for r in datasets["TR"]
              if r["TRTESTCD"] == "TUMSTATE" and r["TRLNKID"].startswith("N") and r["TRLNKID"] != "NT1"}
    assert states[("week 22", "N1")] == ("ABSENT", "")
    assert states[("week 22", "N2")] == ("UNEQUIVOCAL PROGRESSION", "")
    assert states[("week 30", "N1")] == ("", "NOT DONE")
    write_sdtm(datasets, tmp_path, study_id="S")
    back = cases_from_sdtm(read_sdtm(tmp_path), recorded=False)[0].case
    for mine, theirs in zip(case.timepoints, back.timepoints, strict=True):
        assert [(n.id, n.state) for n in theirs.new_lesions] == [(n.id, n.state) for n in mine.new_lesions]
