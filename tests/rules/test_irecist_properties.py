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
from hypothesis import strategies as st
from strategies import cases

from recist import assess
from recist.model.enums import IResponse, Response

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


@st.composite
def irecist_cases(draw):
    """Random iRECIST reads: two targets and a non-target; follow-ups 14-80 days apart with new lesions
    re-recorded by id (NLT measured, NLNT possibly increased), some gone, some additional."""
    roles = {f"N{k}": draw(st.sampled_from(["target", "non_target"])) for k in range(1, 5)}
    timepoints = [{"label": "baseline", "day": 0, "targets": {"T1": {"long_axis_mm": 50.0},
                                                             "T2": {"long_axis_mm": 30.0}},
                   "non_targets": {"NT1": "present"}}]
    day, seen = 0, []
    for k in range(1, draw(st.integers(1, 6)) + 1):
        day += draw(st.integers(14, 80))
        tp = {"label": f"FU{k}", "day": day,
              "targets": {"T1": {"long_axis_mm": draw(st.integers(0, 90)) * 1.0}, "T2": {"long_axis_mm": 30.0}},
              "non_targets": {"NT1": draw(st.sampled_from(
                  ["present", "absent", "unequivocal_progression",
                   {"state": "unequivocal_progression", "increased_since_previous": True}]))}}
        new = []
        for lesion_id in [*seen, *([f"N{len(seen) + 1}"] if len(seen) < 4 and draw(st.booleans()) else [])]:
            record = {"id": lesion_id, "site": "liver" if lesion_id in ("N1", "N2") else "bone"}
            if lesion_id not in seen:
                record["role"] = roles[lesion_id]
                seen.append(lesion_id)
            elif draw(st.integers(0, 4)) == 0:
                record["state"] = "absent"
            if roles[lesion_id] == "target" and record.get("state") != "absent":
                record["long_axis_mm"] = draw(st.integers(10, 40)) * 1.0
            elif roles[lesion_id] == "non_target" and lesion_id in seen[:-1] and draw(st.booleans()):
                record["increased_since_previous"] = True
            new.append(record)
        if new:
            tp["new_lesions"] = new
        timepoints.append(tp)
    protocol = {
        "criteria": "iRECIST",
        "irecist_window_variance_days": draw(st.sampled_from([0, 2, 7])),
        "irecist_late_scan_confirms": draw(st.booleans()),
        "irecist_further_increase_from": draw(st.sampled_from(["first_iupd", "previous"])),
        "confirmation": draw(st.booleans()),
    }
    return {"format": "recist.case/1", "subject": "R", "protocol": protocol,
            "lesions": [{"id": "T1", "role": "target", "site": "liver"},
                        {"id": "T2", "role": "target", "site": "lung"},
                        {"id": "NT1", "role": "non_target", "site": "peritoneum"}],
            "timepoints": timepoints}


@SETTINGS
@given(irecist_cases())
def test_random_irecist_reads_keep_the_invariants(case):
    """On reads with re-recorded new lesions: the RECIST 1.1 results are those of the same read under
    RECIST 1.1; target or non-target RECIST 1.1 PD is iUPD or iCPD; iCPD has a reason and lies in the
    window (or later, where the protocol lets late scans confirm), or is an early scan with an additional
    new lesion (I3); nothing after iCPD; iBOR is one of the time-point responses (iUPD standing for NE when
    only NE followed; with confirmation, an unconfirmed response counts as iSD)."""
    result = assess(case)
    plain = assess(_with_criteria(case, "RECIST 1.1")).to_dict()
    both = result.to_dict()
    both.pop("criteria"), both.pop("irecist")
    assert both == plain
    i_tps = result.irecist.timepoints
    after_icpd = False
    for recist_tp, i_tp in zip(result.timepoints, i_tps, strict=True):
        if after_icpd:
            assert i_tp.response is None
            continue
        if Response.PD in (recist_tp.target_response, recist_tp.non_target_response):
            assert i_tp.response in (IResponse.IUPD, IResponse.ICPD)
        if i_tp.response == IResponse.ICPD:
            assert i_tp.confirmed_by
            late_ok = case["protocol"]["irecist_late_scan_confirms"] and i_tp.window == "late"
            assert i_tp.window == "in" or late_ok or (
                i_tp.window == "early" and "additional_new_lesions" in i_tp.confirmed_by)
            after_icpd = True
    responses = {tp.response for tp in i_tps}
    allowed = responses | {IResponse.NE}
    if case["protocol"]["confirmation"]:  # an unconfirmed iCR/iPR counts as iSD; iCR then iPR is iPR (R34)
        allowed |= {IResponse.ISD, IResponse.IPR}
    assert result.irecist.best_overall_response in allowed
