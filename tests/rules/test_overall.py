"""Overall timepoint response: every row of RECIST 1.1 Tables 1 and 2 (RECIST_RULES R27-R28)."""

import pytest
from casebuilder import target_case

from recist import assess
from recist.model.enums import NewLesionStatus as N
from recist.model.enums import Response as R
from recist.rules.overall import overall_response_non_target_only, overall_response_with_targets

NCNP = R.NON_CR_NON_PD


@pytest.mark.parametrize(
    ("target", "non_target", "new", "expected"),
    [
        (R.CR, R.CR, N.NO, R.CR),
        (R.CR, NCNP, N.NO, R.PR),
        (R.CR, R.NE, N.NO, R.PR),  # "CR | Not evaluated | No | PR"
        (R.PR, NCNP, N.NO, R.PR),  # "PR | Non-PD or not all evaluated | No | PR"
        (R.PR, R.CR, N.NO, R.PR),
        (R.PR, R.NE, N.NO, R.PR),
        (R.SD, NCNP, N.NO, R.SD),
        (R.SD, R.CR, N.NO, R.SD),
        (R.SD, R.NE, N.NO, R.SD),
        (R.NE, NCNP, N.NO, R.NE),  # "Not all evaluated | Non-PD | No | NE"
        (R.NE, R.CR, N.NO, R.NE),
        (R.PD, R.CR, N.NO, R.PD),  # "PD | Any | Yes or No | PD"
        (R.PD, NCNP, N.YES, R.PD),
        (R.PD, R.NE, N.NO, R.PD),
        (R.CR, R.PD, N.NO, R.PD),  # "Any | PD | Yes or No | PD"
        (R.PR, R.PD, N.YES, R.PD),
        (R.NE, R.PD, N.NO, R.PD),
        (R.CR, R.CR, N.YES, R.PD),  # "Any | Any | Yes | PD"
        (R.SD, NCNP, N.YES, R.PD),
        (R.NE, R.NE, N.YES, R.PD),
        (R.CR, None, N.NO, R.CR),  # C7: no non-target lesions at baseline
        (R.PR, None, N.NO, R.PR),
        (R.CR, R.CR, N.EQUIVOCAL, R.CR),  # R24: an equivocal new lesion is not PD
    ],
)
def test_table_1(target, non_target, new, expected):
    assert overall_response_with_targets(target, non_target, new) == expected


@pytest.mark.parametrize(
    ("non_target", "new", "expected"),
    [
        (R.CR, N.NO, R.CR),
        (NCNP, N.NO, NCNP),
        (R.NE, N.NO, R.NE),
        (R.PD, N.NO, R.PD),
        (R.PD, N.YES, R.PD),
        (R.CR, N.YES, R.PD),
        (NCNP, N.YES, R.PD),
        (R.NE, N.YES, R.PD),
        (NCNP, N.EQUIVOCAL, NCNP),
    ],
)
def test_table_2(non_target, new, expected):
    assert overall_response_non_target_only(non_target, new) == expected


def test_table_1_through_the_engine_cr_with_non_target_present_is_pr():
    case = target_case({"T1": 20.0}, [{"targets": {"T1": 0.0}, "non_targets": {"NT1": "present"}}],
                       non_targets={"NT1": "present"})
    tp = assess(case).timepoints[0]
    assert (tp.target_response, tp.non_target_response, tp.overall_response) == (R.CR, NCNP, R.PR)


def test_non_target_only_subject_uses_table_2():
    case = {
        "format": "recist.case/1", "subject": "S",
        "lesions": [{"id": "NT1", "role": "non_target", "site": "peritoneum"}],
        "timepoints": [
            {"label": "b", "day": 0, "non_targets": {"NT1": "present"}},
            {"label": "f1", "day": 56, "non_targets": {"NT1": "present"}},
            {"label": "f2", "day": 112, "non_targets": {"NT1": "absent"}},
        ],
    }
    result = assess(case)
    assert [t.overall_response for t in result.timepoints] == [NCNP, R.CR]
    assert all(t.target_response is None and t.sum_mm is None for t in result.timepoints)
    assert result.best_overall_response == R.CR
