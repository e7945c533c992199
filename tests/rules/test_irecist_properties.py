"""Properties of iRECIST beside RECIST 1.1 (hypothesis), and the RECIST 1.1 results left unchanged.

``data/recist11_reference.json`` holds the RECIST 1.1 assessments of the sample cases and of 50 generated
cases as the engine gave them before iRECIST was added (commit 8088604; made with the ``cases()`` strategy
and ``recist.assess``). If a later, deliberate RECIST 1.1 rule change alters one of them, regenerate the
file and say so in the commit.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import cases

from recist import assess
from recist.model.enums import IResponse, Response

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REFERENCE = json.loads((Path(__file__).parent / "data" / "recist11_reference.json").read_text())
REPO = Path(__file__).resolve().parents[2]


def _with_criteria(case: dict, criteria: str) -> dict:
    changed = copy.deepcopy(case)
    changed.setdefault("protocol", {})["criteria"] = criteria
    return changed


@pytest.mark.parametrize("name", sorted(REFERENCE["sample_data"]))
def test_sample_cases_assess_exactly_as_before(name):
    assert assess(REPO / "sample_data" / "cases" / name).to_dict() == REFERENCE["sample_data"][name]


def test_generated_cases_assess_exactly_as_before():
    for entry in REFERENCE["generated"]:
        assert assess(entry["case"]).to_dict() == entry["assessment"]


@SETTINGS
@given(cases())
def test_criteria_recist_1_1_is_the_default_and_adds_nothing(case):
    plain = assess(case).to_dict()
    assert "irecist" not in plain and "criteria" not in plain
    assert assess(_with_criteria(case, "RECIST 1.1")).to_dict() == plain


@SETTINGS
@given(cases())
def test_irecist_leaves_the_recist_1_1_results_as_they_are(case):
    plain = assess(case).to_dict()
    both = assess(_with_criteria(case, "iRECIST")).to_dict()
    assert both.pop("criteria") == "iRECIST"
    both.pop("irecist")
    assert both == plain


@SETTINGS
@given(cases())
def test_a_recist_1_1_progression_is_iupd_or_icpd(case):
    """RECIST_RULES I2: anything that would be RECIST 1.1 PD is iUPD (or confirms iCPD); after iCPD no
    response is assigned. The strategy's new lesions are new at each timepoint, as RECIST 1.1 records them."""
    result = assess(_with_criteria(case, "iRECIST"))
    for recist_tp, i_tp in zip(result.timepoints, result.irecist.timepoints, strict=True):
        assert i_tp.label == recist_tp.label
        if recist_tp.overall_response == Response.PD:
            assert i_tp.response in (IResponse.IUPD, IResponse.ICPD, None)
    first_pd = next((tp for tp in result.timepoints if tp.overall_response == Response.PD), None)
    if first_pd is not None:
        assert result.irecist.first_iupd is not None
        assert result.irecist.first_iupd.day <= first_pd.day


@SETTINGS
@given(cases())
def test_confirmed_progression_is_dated_to_an_iupd_before_its_confirmation(case):
    result = assess(_with_criteria(case, "iRECIST")).irecist
    responses = {tp.label: tp.response for tp in result.timepoints}
    if result.progression is None:
        assert IResponse.ICPD not in responses.values()
        return
    assert responses[result.progression.iupd.label] == IResponse.IUPD
    assert responses[result.progression.icpd.label] == IResponse.ICPD
    assert result.progression.iupd.day < result.progression.icpd.day
    assert result.best_overall_response != IResponse.NE or IResponse.IUPD not in responses.values()
