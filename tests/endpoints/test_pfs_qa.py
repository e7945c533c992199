"""Independent QA of PFS event/censoring dates, one hand-built subject per row of the FDA 2018 table.

Sources (expected values below are worked by hand from these, not read off the code):

- [FDA 2018] FDA, "Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics" (Dec 2018),
  table "PFS: date of progression or censoring" (same rows as Table A, Appendix 3 of the 2007 edition):

  ======================================================  =============================================  ==========
  Situation                                               Date of progression or censoring               Outcome
  ======================================================  =============================================  ==========
  No baseline tumour assessments                          Randomisation                                  Censored
  Progression documented between scheduled visits         Earliest of: date of the assessment showing    Progressed
                                                          a new lesion / showing PD of measured lesions
  No progression                                          Date of last radiological assessment           Censored
  Treatment discontinuation for undocumented progression  Date of last radiological assessment           Censored
  Treatment discontinuation for toxicity or other reason  Date of last radiological assessment           Censored
  New anticancer treatment started                        Date of last radiological assessment before    Censored
                                                          the start of the new treatment
  Death before first PD assessment                        Date of death                                  Progressed
  Death between adequate assessment visits                Date of death                                  Progressed
  Death or progression after more than one missed visit   Date of last radiological assessment           Censored
  ======================================================  =============================================  ==========

- [EMA 2012] EMA/CHMP/27994/2008/Rev.1, Appendix 1 to the anticancer guideline (PFS/DFS methodology),
  the appendix referred to by EMA/CHMP/205/95 Rev.5: the primary analysis should count events observed
  after missed assessments at their observed date and should follow subjects to progression whatever
  further anticancer therapy they receive; FDA-style censoring (at the last adequate assessment before
  the missed visits / before new therapy) is a sensitivity analysis.

Schedule used here (different from tests/endpoints/test_pfs.py on purpose): every 6 weeks (42 days)
+/- 7 days from randomisation, so the windows are days 35-49, 77-91, 119-133, 161-175, ... after
randomisation. A visit is missed when its whole window lies after the last adequate assessment and
before the event (docs/endpoints.md). PFS days count randomisation as day 1.
"""

from __future__ import annotations

import datetime as dt

import pytest

import recist
from recist.endpoints.pfs import (
    EMA_2012,
    FDA_2018,
    CensoringReason,
    SubjectAssessments,
    Visit,
    VisitSchedule,
    missed_visits,
    pfs_outcome,
    subject_assessments,
)
from recist.endpoints.subjects import Subject

RAND = dt.date(2024, 1, 1)
Q6W = VisitSchedule(interval_days=42, window_days=7)


def day(n: int) -> dt.date:
    """The date ``n`` days after randomisation (randomisation = day 0 here, study day 1)."""
    return RAND + dt.timedelta(days=n)


def subj(**kw) -> Subject:
    return Subject("Q1", RAND, "experimental", **kw)


def reads(*visits: tuple[int, str], progression: int | None = None) -> SubjectAssessments:
    return SubjectAssessments("Q1", tuple(Visit(day(d), r) for d, r in visits),
                              None if progression is None else day(progression))


def outcome(s: Subject, r: SubjectAssessments | None, rules=FDA_2018):
    out = pfs_outcome(s, r, schedule=Q6W, rules=rules)
    return out.event, out.date, out.event_type, out.censoring_reason


# --- one subject per row of the FDA 2018 table ------------------------------------------------------


def test_row1_no_baseline_assessment_censored_at_randomisation():
    # death on day 20 does not matter: without a baseline the subject cannot contribute to PFS
    s = subj(death_date=day(20))
    for rules in (FDA_2018, EMA_2012):
        assert outcome(s, None, rules) == (False, RAND, None, CensoringReason.NO_BASELINE)
    assert pfs_outcome(s, None, schedule=Q6W).days == 1


def test_row2_progression_between_scheduled_visits_is_dated_at_the_unscheduled_scan():
    # SD at week 6 (day 42); symptoms -> unscheduled CT on day 63 shows PD; no visit missed (next window 77-91)
    r = reads((42, "SD"), (63, "PD"), progression=63)
    for rules in (FDA_2018, EMA_2012):
        assert outcome(subj(), r, rules) == (True, day(63), "progression", None)
    assert pfs_outcome(subj(), r, schedule=Q6W).days == 64


def test_row3_no_progression_censored_at_last_assessment():
    r = reads((42, "PR"), (84, "PR"), (126, "SD"))
    for rules in (FDA_2018, EMA_2012):
        assert outcome(subj(), r, rules) == (False, day(126), None, CensoringReason.NO_PROGRESSION)


def test_row4_discontinuation_for_undocumented_progression_censored_at_last_assessment():
    # clinical (symptomatic) progression on day 100, never confirmed radiologically: not an event
    s = subj(discontinuation_date=day(100), discontinuation_reason="clinical progression")
    r = reads((42, "SD"), (84, "SD"))
    for rules in (FDA_2018, EMA_2012):
        assert outcome(s, r, rules) == (False, day(84), None, CensoringReason.DISCONTINUED)


def test_row5_discontinuation_for_toxicity_censored_at_last_assessment():
    s = subj(discontinuation_date=day(50), discontinuation_reason="toxicity")
    r = reads((42, "SD"), (84, "SD"), (126, "SD"))  # still scanned after stopping treatment
    for rules in (FDA_2018, EMA_2012):
        assert outcome(s, r, rules) == (False, day(126), None, CensoringReason.DISCONTINUED)


def test_row6_new_anticancer_treatment_censored_at_last_assessment_before_it_fda_event_ema():
    s = subj(new_therapy_date=day(100))
    r = reads((42, "SD"), (84, "SD"), (126, "PD"), progression=126)
    assert outcome(s, r, FDA_2018) == (False, day(84), None, CensoringReason.NEW_THERAPY)
    assert outcome(s, r, EMA_2012) == (True, day(126), "progression", None)


def test_row7_death_before_first_assessment_is_an_event():
    # death on day 30, before the first window (35-49): nothing was missed
    s = subj(death_date=day(30))
    for rules in (FDA_2018, EMA_2012):
        assert outcome(s, SubjectAssessments("Q1"), rules) == (True, day(30), "death", None)
    # death on day 60: one window (35-49) missed -> not "more than one missed visit" -> still an event
    assert outcome(subj(death_date=day(60)), SubjectAssessments("Q1")) == (True, day(60), "death", None)


def test_row8_death_between_adequate_visits_is_an_event():
    s = subj(death_date=day(100))
    r = reads((42, "SD"), (84, "SD"))
    for rules in (FDA_2018, EMA_2012):
        assert outcome(s, r, rules) == (True, day(100), "death", None)


def test_row9_death_after_two_missed_visits_censored_fda_event_ema():
    # last adequate day 42; windows 77-91 and 119-133 both lie between day 42 and day 140
    s = subj(death_date=day(140))
    r = reads((42, "SD"))
    assert outcome(s, r, FDA_2018) == (False, day(42), None, CensoringReason.MISSED_VISITS)
    assert outcome(s, r, EMA_2012) == (True, day(140), "death", None)


def test_row9_progression_after_two_missed_visits_censored_fda_event_ema():
    r = reads((42, "SD"), (140, "PD"), progression=140)
    assert outcome(subj(), r, FDA_2018) == (False, day(42), None, CensoringReason.MISSED_VISITS)
    assert outcome(subj(), r, EMA_2012) == (True, day(140), "progression", None)


def test_ne_visits_count_as_missed():
    # NE reads at weeks 12 and 18 are not adequate: windows 77-91 and 119-133 count as missed
    r = reads((42, "SD"), (84, "NE"), (126, "NE"), (168, "PD"), progression=168)
    assert outcome(subj(), r, FDA_2018) == (False, day(42), None, CensoringReason.MISSED_VISITS)
    assert outcome(subj(), r, EMA_2012) == (True, day(168), "progression", None)


# --- edge cases ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("event_day", "missed", "fda_event"), [
    (133, 1, True),   # scan on the last day of the 119-133 window: that visit was attended (late)
    (134, 2, False),  # one day later the 119-133 window is wholly before the scan: two missed
])
def test_progression_on_a_window_boundary(event_day, missed, fda_event):
    assert missed_visits(day(42), day(event_day), randomisation_date=RAND, schedule=Q6W) == missed
    r = reads((42, "SD"), (event_day, "PD"), progression=event_day)
    fda = pfs_outcome(subj(), r, schedule=Q6W)
    assert (fda.event, fda.date) == ((True, day(event_day)) if fda_event else (False, day(42)))
    ema = pfs_outcome(subj(), r, schedule=Q6W, rules=EMA_2012)
    assert (ema.event, ema.date) == (True, day(event_day))


def test_last_adequate_on_the_first_day_of_a_window_attends_that_visit():
    # read on day 77 (first day of window 77-91) is visit 2; PD on day 176 misses windows 119-133 and 161-175
    assert missed_visits(day(77), day(176), randomisation_date=RAND, schedule=Q6W) == 2
    # PD on day 175 (last day of window 161-175) misses only 119-133
    assert missed_visits(day(77), day(175), randomisation_date=RAND, schedule=Q6W) == 1


@pytest.mark.parametrize(("death_day", "fda"), [
    (133, (True, day(133), "death", None)),
    (134, (False, day(42), None, CensoringReason.MISSED_VISITS)),
])
def test_death_exactly_at_the_two_missed_visit_limit(death_day, fda):
    s = subj(death_date=day(death_day))
    r = reads((42, "SD"))
    assert outcome(s, r, FDA_2018) == fda
    assert outcome(s, r, EMA_2012) == (True, day(death_day), "death", None)


def test_new_therapy_on_the_day_of_the_progression_scan_does_not_censor():
    s = subj(new_therapy_date=day(84))
    r = reads((42, "SD"), (84, "PD"), progression=84)
    for rules in (FDA_2018, EMA_2012):
        assert outcome(s, r, rules) == (True, day(84), "progression", None)


def test_new_therapy_on_the_day_of_a_non_progression_scan_censors_at_that_scan():
    s = subj(new_therapy_date=day(84))
    r = reads((42, "SD"), (84, "SD"), (126, "PD"), progression=126)
    assert outcome(s, r, FDA_2018) == (False, day(84), None, CensoringReason.NEW_THERAPY)


def test_only_ne_assessments():
    r = reads((42, "NE"), (84, "NE"))
    for rules in (FDA_2018, EMA_2012):
        assert outcome(subj(), r, rules) == (False, RAND, None, CensoringReason.NO_ADEQUATE_ASSESSMENT)
    # death on day 60: only window 35-49 missed -> event under both readings
    assert outcome(subj(death_date=day(60)), r) == (True, day(60), "death", None)
    # death on day 100: windows 35-49 and 77-91 missed -> FDA censors at randomisation, EMA counts it
    s = subj(death_date=day(100))
    assert outcome(s, r, FDA_2018) == (False, RAND, None, CensoringReason.MISSED_VISITS)
    assert outcome(s, r, EMA_2012) == (True, day(100), "death", None)


def _case(baseline: str, follow_ups: list[tuple[str, float, list[dict] | None]]) -> dict:
    tps = [{"label": "baseline", "date": baseline, "targets": {"T1": {"long_axis_mm": 40.0}}}]
    for i, (date, size, new) in enumerate(follow_ups, start=1):
        tp = {"label": f"fu{i}", "date": date, "targets": {"T1": {"long_axis_mm": size}}}
        if new:
            tp["new_lesions"] = new
        tps.append(tp)
    return {"format": "recist.case/1", "subject": "Q1",
            "lesions": [{"id": "T1", "role": "target", "site": "liver"}], "timepoints": tps}


@pytest.mark.parametrize(("baseline", "expected_days"), [
    ("2024-01-01", 85),  # baseline scan on the randomisation day
    ("2023-12-18", 85),  # baseline scan 14 days before randomisation: PFS still runs from randomisation
])
def test_randomisation_date_vs_baseline_scan_date(baseline, expected_days):
    # follow-ups on 2024-02-12 (day 42) and 2024-03-25 (day 84), no progression: censored on day 84,
    # 85 study days; the baseline scan date never enters PFS time (FDA 2018: time from randomisation)
    case = _case(baseline, [("2024-02-12", 38.0, None), ("2024-03-25", 37.0, None)])
    sa = subject_assessments(recist.assess(case))
    out = pfs_outcome(subj(), sa, schedule=Q6W)
    assert (out.event, out.date, out.days) == (False, day(84), expected_days)


def test_follow_up_given_as_days_from_baseline_is_dated_from_the_baseline_scan():
    # case written in study days relative to the baseline scan (14 days before randomisation):
    # "day 56" is 2023-12-18 + 56 = 2024-02-12, i.e. day 42 after randomisation
    data = {"subject": "Q1", "baseline_date": "2023-12-18",
            "timepoints": [{"label": "fu1", "day": 56, "overall_response": "SD"}]}
    sa = subject_assessments(data)
    assert sa.timepoints[0].date == day(42)
    assert pfs_outcome(subj(), sa, schedule=Q6W).days == 43


def test_progression_backdated_by_an_equivocal_new_lesion_from_the_engine():
    # equivocal bone lesion first seen on day 42 (overall SD), unequivocal on day 126: RECIST 1.1 dates
    # PD to the first observation; FDA 2018 "date of radiological assessment showing new lesion"
    case = _case("2023-12-28", [
        ("2024-02-12", 39.0, [{"id": "N1", "site": "bone", "equivocal": True}]),
        ("2024-05-06", 39.0, [{"id": "N1", "site": "bone", "equivocal": False}]),
    ])
    sa = subject_assessments(recist.assess(case))
    assert sa.progression_date == day(42)
    assert [v.overall_response for v in sa.timepoints] == ["SD", "PD"]
    for rules in (FDA_2018, EMA_2012):
        assert outcome(subj(), sa, rules) == (True, day(42), "progression", None)
    # a new therapy started between the two scans (day 100) does not censor: PD is dated before it
    assert outcome(subj(new_therapy_date=day(100)), sa) == (True, day(42), "progression", None)
    # the confirming scan came after two missed visits (windows 77-91, 119-133 empty), but the event is
    # dated at day 42, before any missed visit, so it stands under FDA 2018 too
    late = _case("2023-12-28", [
        ("2024-02-12", 39.0, [{"id": "N1", "site": "bone", "equivocal": True}]),
        ("2024-06-17", 39.0, [{"id": "N1", "site": "bone", "equivocal": False}]),  # day 168
    ])
    sa_late = subject_assessments(recist.assess(late))
    assert outcome(subj(), sa_late) == (True, day(42), "progression", None)


def test_earliest_of_death_and_progression():
    # death on day 70 before the PD scan on day 84: event is death on day 70
    r = reads((42, "SD"), (84, "PD"), progression=84)
    assert outcome(subj(death_date=day(70)), r) == (True, day(70), "death", None)


def test_death_on_the_day_of_an_adequate_scan_is_not_after_missed_visits():
    # windows 77-91 and 119-133 passed without a scan, but a scan on day 134 (SD) shows the subject was
    # followed up to the death on that same day: the death is not "after more than one missed visit"
    # (FDA 2018 rows "death between adequate assessment visits" / "... after more than one missed
    # visit"); a scan one day before the death gives an event, so must a scan on the same day
    r = reads((42, "SD"), (134, "SD"))
    assert outcome(subj(death_date=day(135)), r) == (True, day(135), "death", None)
    assert outcome(subj(death_date=day(134)), r) == (True, day(134), "death", None)
