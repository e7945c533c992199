"""New-lesion targets under iRECIST (RECIST_RULES I7; [iR17]): "New lesions should be assessed and measured
as they appear using RECIST 1.1 criteria" — an NLT must be measurable by RECIST 1.1 (10 mm longest diameter,
or twice a slice thickness above 5 mm; 15 mm short axis for a node, [E09] §3.1.1), at most 5 in all and 2 per
organ, organs counted as for baseline targets (all nodes one organ, a paired organ one organ). A broken
choice is flagged in ``irecist.problems``; the RECIST 1.1 reading is untouched."""

from __future__ import annotations

import pytest

import recist
from recist.rules.irecist.selection import NewLesionTargetCandidate, new_lesion_target_problems
from tests.rules.irecist_builder import case, nlt


def _problems(*first: dict, slice_mm: float | None = None) -> tuple[str, ...]:
    data = case({"sum": 80.0, "new": list(first)})
    if slice_mm is not None:
        data["timepoints"][1]["slice_thickness_mm"] = slice_mm
    return recist.assess(data).irecist.problems


def node(lesion_id: str, short_mm: float, site: str = "mesenteric lymph node") -> dict:
    return {"id": lesion_id, "site": site, "role": "target", "nodal": True,
            "long_axis_mm": max(short_mm, 20.0), "short_axis_mm": short_mm}


@pytest.mark.parametrize(("size", "flagged"), [(9.9, True), (10.0, False)])
def test_non_nodal_nlt_needs_10_mm(size, flagged):
    problems = _problems(nlt("N1", size))
    assert bool(problems) is flagged
    if flagged:
        assert "N1" in problems[0] and "non-measurable" in problems[0] and "non_target" in problems[0]


@pytest.mark.parametrize(("short", "flagged"), [(14.9, True), (15.0, False)])
def test_nodal_nlt_needs_15_mm_short_axis(short, flagged):
    assert bool(_problems(node("N1", short))) is flagged


def test_slice_thickness_rule_twice_the_slices_above_5_mm():
    assert _problems(nlt("N1", 15.0), slice_mm=8.0)  # 8 mm slices: 16 mm needed
    assert not _problems(nlt("N1", 16.0), slice_mm=8.0)
    assert not _problems(nlt("N1", 10.0), slice_mm=5.0)


def test_measurability_is_judged_where_the_lesion_appears():
    data = case({"sum": 80.0, "new": [nlt("N1", 12.0)]}, {"sum": 80.0, "new": [nlt("N1", 6.0)]})
    assert recist.assess(data).irecist.problems == ()


def test_two_per_organ_paired_organs_and_all_nodes_count_as_one():
    lungs = [nlt("N1", 12.0, site="left lung"), nlt("N2", 12.0, site="right lung"),
             nlt("N3", 12.0, site="lung, right upper lobe")]
    problems = _problems(*lungs)
    assert len(problems) == 1 and "in lung (N1, N2, N3)" in problems[0] and "N3" in problems[0].split(";")[1]
    nodes = [node("N1", 16.0, "mesenteric lymph node"), node("N2", 16.0, "para-aortic node"),
             node("N3", 16.0, "left axillary lymph node")]
    assert any("in lymph nodes" in p for p in _problems(*nodes))
    assert not _problems(nlt("N1", 12.0, site="liver"), nlt("N2", 12.0, site="LIVER"), nlt("N3", 12.0, site="lung"))


def test_at_most_five_in_all():
    sites = ["liver", "liver", "lung", "lung", "bone", "brain"]
    problems = _problems(*[nlt(f"N{k}", 12.0, site=s) for k, s in enumerate(sites)])
    assert problems == ("6 new-lesion targets: iRECIST allows at most 5; record N5 as new-lesion non-targets "
                        "(\"role\": \"non_target\")",)


def test_recist_11_reading_is_not_changed_by_a_flag():
    flagged = case({"sum": 80.0, "new": [nlt("N1", 5.0)]})
    plain = case({"sum": 80.0, "new": [nlt("N1", 12.0)]})
    a, b = recist.assess(flagged), recist.assess(plain)
    assert a.irecist.problems and [t.overall_response for t in a.timepoints] == [t.overall_response for t in b.timepoints]


def test_pure_function_double_slice_thickness_for_nodes():
    c = NewLesionTargetCandidate("N1", "wk8", "node", True, 16.0, 10.0)
    assert new_lesion_target_problems([c]) == []
    assert new_lesion_target_problems([c], double_slice_thickness=True)  # needs 20 mm on 10 mm slices
