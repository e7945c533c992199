"""The iRECIST keys of case files: protocol criteria and options, new-lesion targets and non-targets, and
``increased_since_previous``; one clear error per bad record, and RECIST 1.1 files written as before."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recist
from recist.errors import RecistValidationError
from recist.model.validate import parse_case

CASES = Path(__file__).resolve().parents[2] / "sample_data" / "cases"
PSEUDO = json.loads((CASES / "NET-008_pseudo_progression.json").read_text())


def _with_new(*records: list[dict], protocol: dict | None = None) -> dict:
    """The sample iRECIST case with the new-lesion lists of weeks 8, 14 and 22 replaced by ``records``."""
    data = copy.deepcopy(PSEUDO)
    for tp, new in zip(data["timepoints"][1:], records, strict=False):
        tp["new_lesions"] = new
    if protocol:
        data["protocol"].update(protocol)
    return data


def _error(data: dict) -> RecistValidationError:
    with pytest.raises(RecistValidationError) as caught:
        parse_case(data, source="c.json")
    return caught.value


def test_criteria_default_and_values():
    plain = json.loads((CASES / "NET-001_partial_response.json").read_text())
    assert parse_case(plain).protocol.criteria == "RECIST 1.1"
    assert parse_case(PSEUDO).protocol.criteria == "iRECIST"
    bad = copy.deepcopy(PSEUDO)
    bad["protocol"]["criteria"] = "irRC"
    assert "criteria" in str(_error(bad))


def test_window_must_be_in_order():
    message = str(_error(_with_new(protocol={"irecist_confirmation_min_days": 60})))
    assert "irecist_confirmation_max_days" in message


def nlt(i: str, size: float | None = 12.0, site: str = "liver", **extra) -> dict:
    record = {"id": i, "site": site, "role": "target", **extra}
    if size is not None:
        record["long_axis_mm"] = size
    return record


def test_new_lesion_target_choice_is_flagged_not_refused():
    """The NLT choice (I7: measurable, <= 5, <= 2 per organ) is a clinical rule flagged in the assessment
    (tests/rules/test_irecist_selection.py); the file reads and its RECIST 1.1 reading stays computed."""
    data = _with_new([nlt("N1"), nlt("N2"), nlt("N3", site=" Liver ")])
    result = recist.assess(parse_case(data, source="c.json"))
    assert any("at most 2 per organ" in p for p in result.irecist.problems)


def test_new_lesion_target_must_be_measured():
    error = _error(_with_new([nlt("N1", size=None)]))
    assert error.timepoint == "week 8" and "long_axis_mm is required" in str(error)
    assert parse_case(_with_new([nlt("N1")], [nlt("N1", size=None, state="not_evaluated")]))


def test_role_is_kept_and_first_record_is_present():
    assert "keeps that role" in str(_error(_with_new([nlt("N1")], [nlt("N1", role="non_target")])))
    assert "first recorded" in str(_error(_with_new([{"id": "N1", "site": "bone", "state": "absent"}])))


def test_increased_since_previous_needs_a_previous_record():
    grew = {"id": "N1", "site": "bone", "increased_since_previous": True}
    assert "previous record" in str(_error(_with_new([grew])))
    data = copy.deepcopy(PSEUDO)
    data["timepoints"][0]["non_targets"]["NT1"] = {"state": "present", "increased_since_previous": True}
    assert _error(data).timepoint == "baseline"
    assert "measured" in str(_error(_with_new([nlt("N1")], [nlt("N1", increased_since_previous=True)])))


def test_recist_1_1_case_written_as_before(tmp_path):
    """A RECIST 1.1 case gains no iRECIST key when written; an iRECIST case keeps its keys."""
    for name in ("NET-001_partial_response.json", "NET-004_equivocal_new_lesion.json"):
        case = recist.read_case(CASES / name)
        written = case.to_dict()
        assert "criteria" not in written.get("protocol", {})
        assert "increased_since_previous" not in json.dumps(written)
    again = parse_case(parse_case(PSEUDO).to_dict())
    assert again == parse_case(PSEUDO)
    path = tmp_path / "w.json"
    recist.write_case(parse_case(PSEUDO), path)
    assert recist.read_case(path) == parse_case(PSEUDO)


RECORDS = st.fixed_dictionaries(
    {"id": st.sampled_from(["N1", "N2", "N3"]), "site": st.sampled_from(["liver", "bone"])},
    optional={
        "role": st.sampled_from(["target", "non_target", "other", 3]),
        "state": st.sampled_from(["present", "absent", "not_evaluated", "unequivocal_progression", "gone"]),
        "increased_since_previous": st.sampled_from([True, False, "yes"]),
        "long_axis_mm": st.sampled_from([0.0, 12.0, -1.0, "x"]),
        "nodal": st.booleans(),
        "short_axis_mm": st.sampled_from([0.0, 8.0, 16.0]),
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(RECORDS, max_size=3, unique_by=lambda r: r["id"]), min_size=1, max_size=3))
def test_fuzzed_new_lesion_records_parse_or_fail_cleanly(records):
    """Any new-lesion records either parse (and assess under iRECIST) or raise one RecistValidationError."""
    try:
        case = parse_case(_with_new(*records))
    except RecistValidationError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    result = recist.assess(case)
    assert len(result.irecist.timepoints) == len(result.timepoints)
