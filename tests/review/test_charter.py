"""Charter and manifest loaders: validation messages and property tests on outside data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recist.errors import RecistValidationError, UnsupportedFormatError
from recist.review.charter import load_charter, parse_charter
from recist.review.workflow import load_manifest

from .conftest import CHARTER

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)


def test_defaults_and_roles() -> None:
    charter = parse_charter(CHARTER)
    assert [t.value for t in charter.adjudication.triggers] == ["progression", "progression_date", "best_overall_response"]
    assert charter.role_of("R2") == "reader" and charter.role_of("ADJ1") == "adjudicator"
    assert charter.role_of("nobody") is None
    assert charter.protocol.overrides() == {"confirmation": False, "sd_min_days": 42}
    assert parse_charter(charter.to_dict()) == charter


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"readers": ["R1"]}, None),
        ({"readers": ["R1", "R1"]}, None),
        ({"adjudicators": ["R1"]}, None),
        ({"protocol": {"sd_min_days": -1}}, "protocol.sd_min_days"),
        ({"adjudication": {"triggers": ["coin_toss"]}}, "adjudication.triggers.0"),
        ({"reviewers": ["X"]}, "reviewers"),
    ],
)
def test_bad_charters_name_the_field(change: dict, field: str | None) -> None:
    with pytest.raises(RecistValidationError) as info:
        parse_charter({**CHARTER, **change}, source="charter.json")
    assert "charter.json" in str(info.value)
    if field:
        assert info.value.field == field


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({**CHARTER, "format": "recist.charter/2"}))
    with pytest.raises(UnsupportedFormatError, match="recist.charter/1"):
        load_charter(path)
    path.write_text("{not json")
    with pytest.raises(RecistValidationError, match="not valid JSON"):
        load_charter(path)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_charter_loader_never_crashes(data) -> None:
    try:
        parse_charter(data)
    except RecistValidationError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(CHARTER) + ["x"]), json_values, max_size=8))
def test_charter_loader_on_mutated_charters(change) -> None:
    try:
        parse_charter({**CHARTER, **change})
    except RecistValidationError:
        pass


def test_manifest(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("subject,timepoint,date,folder\nS1,week 8,2024-03-04,b\nS1,baseline,2024-01-08,a\n"
                    "S1,baseline,2024-01-08,a2\nS2,baseline,2024-01-09,/abs\n")
    subjects = load_manifest(path)
    assert [tp.label for tp in subjects["S1"]] == ["baseline", "week 8"]
    assert subjects["S1"][0].folders == (str(tmp_path / "a"), str(tmp_path / "a2"))
    assert subjects["S2"][0].folders == ("/abs",)
    path.write_text("subject,timepoint,date\nS1,baseline,2024-01-08\n")
    with pytest.raises(RecistValidationError, match="folder"):
        load_manifest(path)
    path.write_text("subject,timepoint,date,folder\nS1,baseline,08/01/2024,a\n")
    with pytest.raises(RecistValidationError, match="line 2"):
        load_manifest(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_manifest_loader_never_crashes(tmp_path: Path, text: str) -> None:
    path = tmp_path / "m.csv"
    path.write_text("subject,timepoint,date,folder\n" + text, encoding="utf-8", errors="surrogatepass")
    try:
        load_manifest(path)
    except RecistValidationError:
        pass


def test_arms_and_control_are_optional_and_checked() -> None:
    assert "arms" not in parse_charter(CHARTER).to_dict()  # unset: the JSON form is unchanged
    charter = parse_charter({**CHARTER, "arms": ["placebo", "drug"], "control_arm": "placebo"})
    assert charter.arms == ("placebo", "drug") and charter.control_arm == "placebo"
    assert parse_charter(charter.to_dict()) == charter
    for bad, words in (({"arms": ["a", "b"]}, "both 'arms' and 'control_arm'"),
                       ({"arms": ["a", "b"], "control_arm": "c"}, "not one of the arms"),
                       ({"arms": ["a", "a"], "control_arm": "a"}, "lists an arm twice")):
        with pytest.raises(RecistValidationError, match=words):
            parse_charter({**CHARTER, **bad})


def test_organisations_are_optional_per_person_and_checked() -> None:
    """The Verifying Organization of final-read SRs (issue 16 §2): charter-wide, per person, DICOM LO."""
    assert parse_charter(CHARTER).organization_of("R1") is None
    assert "organization" not in parse_charter(CHARTER).to_dict()  # an older charter writes back the same
    charter = parse_charter({**CHARTER, "organization": "Core Lab", "organizations": {"ADJ1": "Hospital Three"}})
    assert (charter.organization_of("R1"), charter.organization_of("ADJ1")) == ("Core Lab", "Hospital Three")
    assert parse_charter(charter.to_dict()) == charter
    for bad, field in (({"organizations": {"R9": "X"}}, "R9"), ({"organization": "A\\B"}, "organization"),
                       ({"organization": "x" * 65}, "organization"), ({"organizations": {"R1": " "}}, "R1")):
        with pytest.raises(RecistValidationError, match=field):
            parse_charter({**CHARTER, **bad})


def test_modalities_default_to_ct_mr_pt_and_are_checked() -> None:
    assert parse_charter(CHARTER).modalities == ("CT", "MR", "PT")
    assert "modalities" not in parse_charter(CHARTER).to_dict()  # unset: the JSON form is unchanged
    charter = parse_charter({**CHARTER, "modalities": ["CT", "MR"]})
    assert charter.modalities == ("CT", "MR") and parse_charter(charter.to_dict()) == charter
    for bad in ([], ["ct"], ["C T"], "CT"):
        with pytest.raises(RecistValidationError, match="modalities"):
            parse_charter({**CHARTER, "modalities": bad})
