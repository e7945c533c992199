"""PFS event and censoring dates, one test per row of the FDA 2018 table (and the EMA 2012 differences)."""

from __future__ import annotations

import datetime as dt

import pytest

from recist.endpoints.pfs import (
    EMA_2012,
    FDA_2018,
    CensoringReason,
    SubjectAssessments,
    Visit,
    VisitSchedule,
    missed_visits,
    pfs_outcome,
    pfs_outcomes,
    subject_assessments,
)
from recist.endpoints.subjects import Subject
from recist.errors import RecistValidationError

RAND = dt.date(2024, 1, 1)
SCHEDULE = VisitSchedule(interval_days=56, window_days=7)  # every 8 weeks +/- 7 days


def day(n: int) -> dt.date:
    return RAND + dt.timedelta(days=n)


def subject(**kw) -> Subject:
    return Subject("S1", RAND, kw.pop("arm", "A"), **kw)


def reads(*visits: tuple[int, str], progression: int | None = None) -> SubjectAssessments:
    return SubjectAssessments(
        "S1", tuple(Visit(day(d), r) for d, r in visits), day(progression) if progression is not None else None
    )


def test_no_baseline_is_censored_at_randomisation():
    for r in (None, SubjectAssessments("S1", has_baseline=False)):
        out = pfs_outcome(subject(death_date=day(30)), r, schedule=SCHEDULE)
        assert (out.event, out.date, out.censoring_reason) == (False, RAND, CensoringReason.NO_BASELINE)
        assert out.days == 1


def test_no_adequate_post_baseline_assessment_is_censored_at_randomisation():
    out = pfs_outcome(subject(), reads((56, "NE")), schedule=SCHEDULE)
    assert (out.event, out.date, out.censoring_reason) == (False, RAND, CensoringReason.NO_ADEQUATE_ASSESSMENT)


def test_progression_between_visits_is_an_event_at_the_read_date():
    out = pfs_outcome(subject(), reads((56, "SD"), (90, "PD"), progression=90), schedule=SCHEDULE)
    assert (out.event, out.date, out.event_type) == (True, day(90), "progression")
    assert out.days == 91


def test_no_progression_is_censored_at_last_adequate_assessment_not_at_an_ne_read():
    out = pfs_outcome(subject(last_contact_date=day(200)), reads((56, "PR"), (112, "SD"), (168, "NE")),
                      schedule=SCHEDULE)
    assert (out.event, out.date, out.censoring_reason) == (False, day(112), CensoringReason.NO_PROGRESSION)


def test_discontinuation_without_progression_is_censored_at_last_adequate_assessment():
    out = pfs_outcome(subject(discontinuation_date=day(60), discontinuation_reason="toxicity"),
                      reads((56, "SD"), (112, "SD")), schedule=SCHEDULE)
    assert (out.event, out.date, out.censoring_reason) == (False, day(112), CensoringReason.DISCONTINUED)


def test_new_therapy_censors_at_last_adequate_assessment_before_it_fda_but_not_ema():
    r = reads((56, "SD"), (112, "SD"), (168, "PD"), progression=168)
    s = subject(new_therapy_date=day(130))
    fda = pfs_outcome(s, r, schedule=SCHEDULE)
    assert (fda.event, fda.date, fda.censoring_reason) == (False, day(112), CensoringReason.NEW_THERAPY)
    ema = pfs_outcome(s, r, schedule=SCHEDULE, rules=EMA_2012)
    assert (ema.event, ema.date, ema.event_type) == (True, day(168), "progression")
    # new therapy after progression changes nothing
    later = pfs_outcome(subject(new_therapy_date=day(170)), r, schedule=SCHEDULE)
    assert (later.event, later.date) == (True, day(168))


def test_new_therapy_before_any_adequate_assessment_censors_at_randomisation():
    out = pfs_outcome(subject(new_therapy_date=day(20)), reads((56, "SD")), schedule=SCHEDULE)
    assert (out.event, out.date, out.censoring_reason) == (False, RAND, CensoringReason.NEW_THERAPY)


def test_death_before_first_assessment_is_an_event():
    out = pfs_outcome(subject(death_date=day(40)), reads(), schedule=SCHEDULE)
    assert (out.event, out.date, out.event_type) == (True, day(40), "death")
    assert "before the first" in out.rule


def test_death_between_adequate_visits_is_an_event():
    out = pfs_outcome(subject(death_date=day(150)), reads((56, "SD"), (112, "SD")), schedule=SCHEDULE)
    assert (out.event, out.date, out.event_type) == (True, day(150), "death")


def test_death_after_two_missed_visits_is_censored_fda_counted_ema():
    # last adequate day 56; visits due 112 and 168 (windows 105-119, 161-175) missed; death day 190
    s = subject(death_date=day(190))
    r = reads((56, "SD"))
    fda = pfs_outcome(s, r, schedule=SCHEDULE)
    assert (fda.event, fda.date, fda.censoring_reason) == (False, day(56), CensoringReason.MISSED_VISITS)
    ema = pfs_outcome(s, r, schedule=SCHEDULE, rules=EMA_2012)
    assert (ema.event, ema.date, ema.event_type) == (True, day(190), "death")


def test_progression_after_one_missed_visit_is_still_an_event():
    # last adequate day 56; visit 112 missed; PD read on day 165 (inside the window of visit 168)
    out = pfs_outcome(subject(), reads((56, "SD"), (165, "PD"), progression=165), schedule=SCHEDULE)
    assert (out.event, out.date) == (True, day(165))


def test_progression_after_two_missed_visits_is_censored_before_them():
    out = pfs_outcome(subject(), reads((56, "SD"), (112, "NE"), (220, "PD"), progression=220), schedule=SCHEDULE)
    assert (out.event, out.date, out.censoring_reason) == (False, day(56), CensoringReason.MISSED_VISITS)


def test_death_long_after_randomisation_without_assessments_is_censored_at_randomisation_fda():
    out = pfs_outcome(subject(death_date=day(150)), reads(), schedule=SCHEDULE)
    assert (out.event, out.date, out.censoring_reason) == (False, RAND, CensoringReason.MISSED_VISITS)


def test_earliest_of_progression_and_death():
    out = pfs_outcome(subject(death_date=day(100)), reads((56, "SD"), (112, "PD"), progression=112),
                      schedule=SCHEDULE)
    assert (out.date, out.event_type) == (day(100), "death")


@pytest.mark.parametrize(
    ("last", "event", "expected"),
    [(0, 48, 0), (0, 64, 1), (0, 63, 0), (56, 119, 0), (56, 120, 1), (56, 176, 2), (50, 400, 6)],
)
def test_missed_visit_count(last, event, expected):
    # visits due day 56, 112, 168 ... window +/- 7: missed when the whole window is inside (last, event)
    assert missed_visits(day(last), day(event), randomisation_date=RAND, schedule=SCHEDULE) == expected


def test_schedule_validation():
    with pytest.raises(RecistValidationError, match="window_days"):
        VisitSchedule(interval_days=14, window_days=7)
    with pytest.raises(RecistValidationError, match="interval_days"):
        VisitSchedule(interval_days=0, window_days=0)


def test_read_before_randomisation_is_rejected():
    with pytest.raises(RecistValidationError, match="before randomisation"):
        pfs_outcome(subject(), reads((-3, "SD")), schedule=SCHEDULE)


def test_outcomes_for_a_table_and_stray_reads():
    subjects = [subject(), Subject("S2", RAND, "B")]
    out = pfs_outcomes(subjects, {"S1": reads((56, "PD"), progression=56)}, schedule=SCHEDULE)
    assert [(o.subject, o.event) for o in out] == [("S1", True), ("S2", False)]
    assert out[1].censoring_reason is CensoringReason.NO_BASELINE
    with pytest.raises(RecistValidationError, match="S9"):
        pfs_outcomes(subjects, {"S9": SubjectAssessments("S9")}, schedule=SCHEDULE)
    assert out[0].to_row()["rules"] == FDA_2018.name


def test_converter_from_assessment_json():
    data = {
        "subject": "S1",
        "best_overall_response": "PR",
        "timepoints": [
            {"label": "week 8", "date": "2024-02-26", "day": 56, "overall_response": "PR",
             "change_from_baseline_pct": -40.0},
            {"label": "week 16", "date": None, "day": 112, "overall_response": "PD",
             "change_from_baseline_pct": -10.0},
        ],
        "progression": {"label": "week 16", "date": None, "day": 112, "trigger": "new_lesion"},
    }
    sa = subject_assessments(data)
    assert sa.timepoints == (Visit(dt.date(2024, 2, 26), "PR", -40.0), Visit(dt.date(2024, 4, 22), "PD", -10.0))
    assert sa.progression_date == dt.date(2024, 4, 22)
    assert sa.best_overall_response == "PR"
    undated = {"subject": "S1", "timepoints": [{"label": "week 8", "day": 56, "overall_response": "SD"}]}
    with pytest.raises(RecistValidationError, match="week 8"):
        subject_assessments(undated)
    assert subject_assessments(undated, baseline_date=RAND).timepoints[0].date == day(56)


def test_converter_from_the_rules_engine(repo_dir):
    import recist

    case = repo_dir / "sample_data" / "cases" / "NET-004_equivocal_new_lesion.json"
    if not case.exists():
        pytest.skip(f"sample case absent: {case}")
    sa = subject_assessments(recist.assess(case))
    # the equivocal new lesion seen at week 12 and confirmed at week 24 dates progression to week 12
    assert sa.subject == "NET-004"
    assert [v.date for v in sa.timepoints] == [dt.date(2024, 5, 27), dt.date(2024, 8, 19)]
    assert [v.overall_response for v in sa.timepoints] == ["SD", "PD"]
    assert sa.progression_date == dt.date(2024, 5, 27)
    out = pfs_outcome(Subject("NET-004", dt.date(2024, 3, 1), "A"), sa, schedule=VisitSchedule(84, 7))
    assert (out.event, out.date, out.event_type) == (True, dt.date(2024, 5, 27), "progression")


def test_enum_responses_are_normalised_to_their_values():
    from recist.model.enums import Response

    sa = SubjectAssessments("S1", ((day(56), Response.NE), (day(112), Response.SD)),
                            best_overall_response=Response.SD)
    assert [v.overall_response for v in sa.timepoints] == ["NE", "SD"] and sa.best_overall_response == "SD"
    out = pfs_outcome(subject(), sa, schedule=SCHEDULE)
    assert out.date == day(112)
