"""Best overall response (RECIST 1.1 §4.4.3, §4.6, Table 3; RECIST_RULES R30-R36, C1-C3).

Table 3 rows are tested through whole cases, since their footnote (a CR truly met makes later disease
PD) acts on the timepoint responses themselves.
"""

import pytest
from casebuilder import target_case

from recist import assess
from recist.model.enums import Response as R
from recist.rules.best_response import ScoredTimepoint, best_overall_response, is_confirmed

CONFIRM = {"confirmation": True, "confirmation_min_days": 28, "sd_min_days": 42}
# target sizes (baseline 100 mm) that give each target response at a follow-up
SIZE = {"CR": 0.0, "PR": 60.0, "SD": 90.0, "PD": 130.0}


def sequence_case(responses, days, *, protocol=CONFIRM):
    fus = []
    for response, day in zip(responses, days):
        if response == "NE":
            fus.append({"day": day, "targets": {"T1": {"state": "not_evaluated"}}})
        else:
            fus.append({"day": day, "targets": {"T1": SIZE[response]}})
    return target_case({"T1": 100.0}, fus, protocol=protocol)


@pytest.mark.parametrize(
    ("first", "then", "early_first", "expected"),
    [
        ("CR", "CR", False, "CR"),
        ("CR", "CR", True, "CR"),
        # CR then PR: "SD, PD or PR". A CR truly met makes the disease seen next PD (footnote a):
        ("CR", "PR", False, "SD"),
        ("CR", "PR", True, "PD"),
        ("CR", "SD", False, "SD"),  # "SD provided minimum criteria for SD duration met, otherwise PD"
        ("CR", "SD", True, "PD"),
        ("CR", "PD", False, "SD"),
        ("CR", "PD", True, "PD"),
        ("CR", "NE", False, "SD"),  # "SD provided minimum criteria for SD duration met, otherwise NE"
        ("CR", "NE", True, "NE"),
        ("PR", "CR", False, "PR"),
        ("PR", "PR", False, "PR"),
        ("PR", "SD", False, "SD"),
        ("PR", "PD", False, "SD"),
        ("PR", "PD", True, "PD"),
        ("PR", "NE", False, "SD"),
        ("PR", "NE", True, "NE"),
        ("NE", "NE", False, "NE"),
    ],
)
def test_table_3(first, then, early_first, expected):
    # the first follow-up before (day 35) or after (day 56) the 42-day SD minimum; the second 35 days later
    day = 35 if early_first else 56
    result = assess(sequence_case([first, then], [day, day + 35]))
    assert [t.overall_response.value for t in result.timepoints][0] == first
    assert result.best_overall_response.value == expected


def test_cr_then_pr_when_cr_was_not_real_gives_pr():
    """Table 3 footnote a, second half: a CR followed by a PR (possible only as recorded responses: from
    a nadir of 0 any measured regrowth of 5 mm is PD by R11) counts as a confirmed PR."""
    case = target_case({"T1": 100.0}, [{"day": 56, "recorded": {"overall": "CR"}},
                                       {"day": 91, "recorded": {"overall": "PR"}}], protocol=CONFIRM)
    assert assess(case).best_overall_response == R.PR


def test_measured_regrowth_from_zero_is_pd_even_without_the_reappearance_rule():
    protocol = dict(CONFIRM, reappearance_after_cr_is_pd=False)
    result = assess(sequence_case(["CR", "PR"][:1], [56], protocol=protocol))
    assert result.timepoints[0].overall_response == R.CR
    regrowth = target_case({"T1": 100.0}, [{"day": 56, "targets": {"T1": 0.0}}, {"day": 91, "targets": {"T1": 60.0}}],
                           protocol=protocol)
    assert assess(regrowth).timepoints[1].target_response == R.PD


def test_confirmation_needs_the_minimum_interval():
    assert assess(sequence_case(["PR", "PR"], [56, 83])).best_overall_response == R.SD  # 27 days
    assert assess(sequence_case(["PR", "PR"], [56, 84])).best_overall_response == R.PR  # 28 days


def test_pr_ne_pr_confirms():
    """R35: PR-NE-PR is a confirmed response in most trials."""
    assert assess(sequence_case(["PR", "NE", "PR"], [56, 84, 112])).best_overall_response == R.PR


def test_pr_sd_pr_does_not_confirm():
    """C2 / contract: only CR, PR or NE may lie between a response and its confirmation."""
    assert assess(sequence_case(["PR", "SD", "PR"], [56, 84, 112])).best_overall_response == R.SD


def test_early_repeat_neither_confirms_nor_breaks():
    result = assess(sequence_case(["PR", "PR", "PR"], [56, 70, 90]))
    assert result.best_overall_response == R.PR


def test_max_ne_between_option():
    """H4 reading A: at most one NE between a response and its confirmation."""
    protocol = dict(CONFIRM, confirmation_max_ne_between=1)
    assert assess(sequence_case(["PR", "NE", "NE", "PR"], [56, 70, 84, 112])).best_overall_response == R.PR
    limited = assess(sequence_case(["PR", "NE", "NE", "PR"], [56, 70, 84, 112], protocol=protocol))
    assert limited.best_overall_response == R.SD


def test_pr_then_cr_is_confirmed_pr_and_cr_needs_its_own_confirmation():
    """C3."""
    assert assess(sequence_case(["PR", "CR"], [56, 91])).best_overall_response == R.PR
    assert assess(sequence_case(["PR", "CR", "CR"], [56, 91, 126])).best_overall_response == R.CR


@pytest.mark.parametrize(
    ("responses", "days", "expected"),
    [
        (["SD", "PR", "PD"], [56, 112, 168], "PR"),  # R33 example: SD, PR, PD gives PR
        (["SD", "PD"], [35, 91], "PD"),  # SD too early, then PD: PD
        (["SD", "NE"], [35, 91], "NE"),  # SD too early, then lost to follow-up: NE
        (["SD"], [35], "NE"),
        (["SD"], [42], "SD"),  # day >= sd_min_days meets the minimum
        (["SD"], [41], "NE"),
        (["PR"], [28], "PR"),  # without confirmation a single PR is the best response
        (["NE", "NE"], [56, 112], "NE"),
        (["PD"], [56], "PD"),
    ],
)
def test_best_response_without_confirmation(responses, days, expected):
    protocol = {"confirmation": False, "sd_min_days": 42}
    assert assess(sequence_case(responses, days, protocol=protocol)).best_overall_response.value == expected


def test_responses_after_progression_do_not_count():
    """R30: best response is taken until progression."""
    protocol = {"confirmation": False}
    result = assess(sequence_case(["SD", "PD", "PR"], [35, 91, 150], protocol=protocol))
    assert result.best_overall_response == R.PD


def test_is_confirmed_directly():
    tps = [ScoredTimepoint(56, R.PR), ScoredTimepoint(70, R.NE), ScoredTimepoint(84, R.PR)]
    assert is_confirmed(tps, 0, confirming=frozenset({R.PR, R.CR}), min_days=28)
    assert not is_confirmed(tps, 0, confirming=frozenset({R.PR, R.CR}), min_days=28, max_ne_between=0)


def test_non_cr_non_pd_minimum_duration_option():
    """RECIST_RULES H8: whether the SD minimum applies to NON-CR/NON-PD is the protocol's choice."""
    tps = [ScoredTimepoint(35, R.NON_CR_NON_PD), ScoredTimepoint(91, R.PD)]
    assert best_overall_response(tps, non_target_only=True) == R.PD
    assert best_overall_response(tps, non_target_only=True, non_cr_non_pd_min_applies=False) == R.NON_CR_NON_PD
