"""Target selection (RECIST 1.1 §4.2, RECIST_RULES R6)."""

import pytest

from recist.model.enums import LesionRole, Measurability
from recist.rules.selection import SelectionCandidate, organ_of, propose_targets, selection_problems

T, NT = LesionRole.TARGET, LesionRole.NON_TARGET
M, NM, NP = Measurability.MEASURABLE, Measurability.NON_MEASURABLE, Measurability.NON_PATHOLOGICAL


def cand(i, site, size, *, role=T, nodal=False, meas=M):
    return SelectionCandidate(i, role, site, nodal, size, meas)


def test_at_most_five_targets():
    ok = [cand(f"T{i}", f"organ{i}", 20) for i in range(5)]
    assert selection_problems(ok) == []
    too_many = ok + [cand("T6", "organ6", 20)]
    problems = selection_problems(too_many)
    assert len(problems) == 1 and "6 target lesions" in problems[0] and "at most 5" in problems[0]


def test_at_most_two_per_organ_and_all_nodes_are_one_organ():
    assert selection_problems([cand("T1", "liver", 20), cand("T2", "Liver ", 20)]) == []
    problems = selection_problems([cand("T1", "liver", 20), cand("T2", "liver", 20), cand("T3", "liver", 20)])
    assert len(problems) == 1 and "T1, T2, T3" in problems[0] and "liver" in problems[0]
    nodes = [cand(f"N{i}", site, 20, nodal=True) for i, site in enumerate(["mesenteric", "iliac", "axillary"])]
    problems = selection_problems(nodes)
    assert len(problems) == 1 and "lymph nodes" in problems[0]


def test_targets_must_be_measurable():
    problems = selection_problems([cand("T1", "liver", 8.0, meas=NM)])
    assert len(problems) == 1 and "T1" in problems[0] and "non-measurable" in problems[0]


def test_normal_node_as_non_target_is_flagged():
    problems = selection_problems([cand("NT1", "node", 8.0, role=NT, nodal=True, meas=NP)])
    assert len(problems) == 1 and "NT1" in problems[0]


def test_organ_of():
    assert organ_of("Iliac lymph node", nodal=True) == organ_of("mesentery", nodal=True)
    assert organ_of("  LIVER", nodal=False) == "liver"


def test_proposal_largest_first_within_limits_and_representative():
    candidates = [
        cand("L1", "liver", 50), cand("L2", "liver", 45), cand("L3", "liver", 40),
        cand("N1", "node a", 30, nodal=True), cand("N2", "node b", 25, nodal=True), cand("N3", "node c", 20, nodal=True),
        cand("P1", "pancreas", 12), cand("S1", "lung", 9, meas=NM), cand("B1", "bone", 11),
    ]
    chosen = propose_targets(candidates)
    assert len(chosen) == 5
    assert "L3" not in chosen and "N3" not in chosen and "S1" not in chosen
    # every involved organ with a measurable lesion is represented before second lesions are taken
    assert set(chosen[:4]) == {"L1", "N1", "P1", "B1"}
    assert chosen[4] == "L2"
    assert selection_problems([c for c in candidates if c.id in chosen]) == []


def test_proposal_ties_do_not_depend_on_input_order():
    a = [cand("T2", "liver", 20), cand("T1", "liver", 20), cand("T3", "liver", 20)]
    assert propose_targets(a) == propose_targets(list(reversed(a))) == ["T1", "T2"]


def test_a_non_target_must_be_present_at_baseline():
    from recist import assess

    case = {"format": "recist.case/1", "subject": "S",
            "lesions": [{"id": "T1", "role": "target", "site": "liver"},
                        {"id": "NT1", "role": "non_target", "site": "bone"}],
            "timepoints": [{"label": "b", "day": 0, "targets": {"T1": {"long_axis_mm": 20.0}},
                            "non_targets": {"NT1": "absent"}}, {"label": "f", "day": 50}]}
    problems = assess(case).baseline.problems
    assert len(problems) == 1 and "NT1" in problems[0] and "absent at baseline" in problems[0]


# [EORTC-FAQ] "Paired organs": "'lung', 'kidney', 'ovaries', 'lymph nodes' etc are considered as 1 organ,
# irrespective of the number of parts they may be made up of."
@pytest.mark.parametrize(
    ("first", "second"),
    [("left lung", "right lung"), ("Left kidney", "right kidney"), ("left ovary", "Ovaries"),
     ("lung, right upper lobe", "LUNG - left lower lobe"), ("right lung", "lungs"), ("lt kidney", "kidney")],
)
def test_paired_organ_sides_are_one_organ(first, second):
    assert organ_of(first, nodal=False) == organ_of(second, nodal=False)


@pytest.mark.parametrize("organ", ["lung", "kidney", "ovary"])
def test_three_targets_in_a_paired_organ_are_a_selection_problem(organ):
    candidates = [cand("T1", f"left {organ}", 20), cand("T2", f"right {organ}", 20), cand("T3", f"left {organ}", 15)]
    problems = selection_problems(candidates)
    assert len(problems) == 1 and "3 target lesions in" in problems[0] and organ in problems[0]
    # two on each side is still two too many for the one organ
    four = candidates + [cand("T4", f"right {organ}", 12)]
    assert "4 target lesions in" in selection_problems(four)[0]
    # and the proposal keeps at most two of them
    assert len(propose_targets(four)) == 2


def test_different_organs_stay_different():
    assert organ_of("left lung", nodal=False) != organ_of("left kidney", nodal=False)
    assert organ_of("liver", nodal=False) != organ_of("lung", nodal=False)
    assert organ_of("pleura", nodal=False) == "pleura"
