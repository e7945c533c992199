"""Assess a whole case: every follow-up's responses, the best overall response and progression.

This module only orchestrates: each rule it applies is a small function of its own module
(measurability, selection, target, non_target, new_lesions, overall, best_response), each citing its
source. Pure: a :class:`~recist.model.case.Case` in, an :class:`~recist.model.assessment.Assessment` out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from recist.model.assessment import (
    Assessment,
    BaselineAssessment,
    BaselineLesionAssessment,
    Discrepancy,
    Progression,
    TimepointAssessment,
)
from recist.model.case import Case, Protocol, Recorded, Timepoint
from recist.model.enums import (
    LesionRole,
    Measurability,
    NewLesionStatus,
    ProgressionTrigger,
    Response,
    TumourMarkers,
)
from recist.model.validate import timepoint_days
from recist.rules._exact import percent_change, to_mm
from recist.rules.best_response import ScoredTimepoint, best_overall_response, protocol_options
from recist.rules.irecist.assess import assess_irecist
from recist.rules.measurability import classify_node, classify_non_nodal
from recist.rules.new_lesions import is_seen, is_unequivocal, new_lesion_status
from recist.rules.non_target import non_target_nodes_normal, non_target_reappeared, non_target_response
from recist.rules.overall import overall_response_non_target_only, overall_response_with_targets
from recist.rules.selection import (
    SelectionCandidate,
    baseline_state_problems,
    propose_targets,
    selection_problems,
)
from recist.rules.target import (
    complete_response_overrides_progression,
    continuing_partial_response,
    is_complete_response,
    partially_evaluated_response,
    target_reappeared,
    target_response,
    target_sum,
    zero_baseline_targets,
)

__all__ = ["assess_case", "assess_baseline", "find_progression"]



def _triggers(
    target: Response | None, non_target: Response | None, new: NewLesionStatus
) -> tuple[ProgressionTrigger, ...]:
    """What made a timepoint PD, in the order target, non-target, new lesion."""
    found = []
    if target == Response.PD:
        found.append(ProgressionTrigger.TARGET)
    if non_target == Response.PD:
        found.append(ProgressionTrigger.NON_TARGET)
    if new == NewLesionStatus.YES:
        found.append(ProgressionTrigger.NEW_LESION)
    return tuple(found)


def assess_baseline(case: Case) -> BaselineAssessment:
    """Measurability of every baseline lesion (R1-R4), selection problems (R6) and the baseline sum (R7)."""
    baseline = case.baseline
    protocol = case.protocol
    candidates: list[SelectionCandidate] = []
    lesions: list[BaselineLesionAssessment] = []
    for lesion in case.lesions:
        if lesion.role == LesionRole.TARGET:
            entry = baseline.targets[lesion.id]
            size = entry.short_axis_mm if lesion.nodal else entry.long_axis_mm
        else:
            nt = baseline.non_targets.get(lesion.id)
            size = None if nt is None else (nt.short_axis_mm if lesion.nodal else nt.long_axis_mm)
        if size is None:
            measurability = Measurability.NON_MEASURABLE
        elif lesion.nodal:
            measurability = classify_node(
                size,
                slice_thickness_mm=baseline.slice_thickness_mm,
                double_slice_thickness=protocol.nodes_double_slice_thickness,
            )
        else:
            measurability = classify_non_nodal(
                size, method=lesion.method, slice_thickness_mm=baseline.slice_thickness_mm
            )
        candidates.append(SelectionCandidate(lesion.id, lesion.role, lesion.site, lesion.nodal, size, measurability))
        lesions.append(
            BaselineLesionAssessment(
                lesion.id, lesion.role, measurability, measurability == Measurability.MEASURABLE, size
            )
        )
    nodal = {lesion.id: lesion.nodal for lesion in case.lesions if lesion.role == LesionRole.TARGET}
    sum_mm = to_mm(target_sum(baseline.targets, nodal).sum_um) if nodal else None
    problems = selection_problems(candidates) + baseline_state_problems(
        {lesion_id: entry.state for lesion_id, entry in baseline.non_targets.items()}
    )
    return BaselineAssessment(tuple(lesions), tuple(problems), sum_mm, tuple(propose_targets(candidates)))


def _recorded_timepoint(
    tp: Timepoint, day: int, recorded: Recorded, *, has_targets: bool, has_non_targets: bool
) -> tuple[TimepointAssessment, tuple[ProgressionTrigger, ...]]:
    """A follow-up assessed from responses recorded elsewhere (case-file contract, "recorded")."""
    new = recorded.new_lesions or new_lesion_status(tp.new_lesions)
    target = recorded.target if has_targets else None
    non_target = recorded.non_target if has_non_targets else None
    overall = recorded.overall
    if overall is None:
        if has_targets and target is not None:
            overall = overall_response_with_targets(target, non_target, new)
        elif not has_targets and non_target is not None:
            overall = overall_response_non_target_only(non_target, new)
        else:
            overall = Response.PD if new == NewLesionStatus.YES else Response.NE
    triggers: tuple[ProgressionTrigger, ...] = ()
    if overall == Response.PD:
        triggers = _triggers(target, non_target, new) or (ProgressionTrigger.RECORDED,)
    result = TimepointAssessment(
        label=tp.label, date=tp.date, day=day, sum_mm=None, nadir_mm=None, change_from_baseline_pct=None,
        change_from_nadir_pct=None, target_response=target, non_target_response=non_target, new_lesions=new,
        overall_response=overall, source="recorded",
    )
    return result, triggers


def _discrepancies(tp: Timepoint, result: TimepointAssessment) -> list[Discrepancy]:
    """Recorded responses that differ from the computed ones."""
    recorded = tp.recorded
    if recorded is None:
        return []
    found = []
    for name, rec, computed in (
        ("target", recorded.target, result.target_response),
        ("non_target", recorded.non_target, result.non_target_response),
        ("new_lesions", recorded.new_lesions, result.new_lesions),
        ("overall", recorded.overall, result.overall_response),
    ):
        if rec is not None and rec != computed:
            found.append(Discrepancy(tp.label, name, rec.value, None if computed is None else computed.value))
    return found


def find_progression(
    case: Case, days: Sequence[int], results: Sequence[TimepointAssessment],
    triggers: Sequence[tuple[ProgressionTrigger, ...]],
) -> tuple[int, Progression] | None:
    """The follow-up index and description of progression, or None.

    The date of progression is that of the first timepoint showing PD (R37). An equivocal new lesion
    confirmed at a later scan (same id, no longer equivocal) dates progression back to the scan that
    first showed it (RECIST 1.1 [E09] §4.3.5, R24), even if the confirmation comes after another PD.
    """
    follow_ups = case.follow_ups
    first_pd = next((i for i, r in enumerate(results) if r.overall_response == Response.PD), None)
    best: tuple[int, Progression] | None = None
    if first_pd is not None:
        tp = follow_ups[first_pd]
        best = (first_pd, Progression(tp.label, tp.date, days[first_pd + 1], triggers[first_pd][0], triggers[first_pd]))
    first_seen: dict[str, int] = {}
    for i, tp in enumerate(follow_ups):
        for lesion in tp.new_lesions:
            first_seen.setdefault(lesion.id, i)
            start = first_seen[lesion.id]
            if is_seen(lesion) and is_unequivocal(lesion) and start < i and (best is None or start < best[0]):
                first = follow_ups[start]
                best = (start, Progression(first.label, first.date, days[start + 1], ProgressionTrigger.NEW_LESION,
                                           (ProgressionTrigger.NEW_LESION,), confirmed_at=tp.label))
    return best


def assess_case(case: Case, protocol: Protocol | None = None) -> Assessment:
    """Assess every follow-up of ``case`` and its best overall response and progression.

    Parameters
    ----------
    case
        A validated case (see :func:`recist.parse_case`).
    protocol
        Protocol options overriding the case's own (for example a review charter's).

    Notes
    -----
    Per follow-up: the target sum and response (R7-R18, exact arithmetic), the non-target response
    (R19-R22), new lesions (R23-R26) and the overall response by Table 1 or Table 2 (R27-R28). The nadir
    is the smallest sum of a fully evaluated timepoint before this one, baseline included (R11, C6).
    Best overall response (R30-R36) uses the overall responses up to progression, the progression
    timepoint counting as PD (so a back-dated progression, R24, ends the best-response window there).
    When the protocol's criteria are iRECIST, the iRECIST reading is added from these results
    (:func:`recist.rules.irecist.assess.assess_irecist`); the RECIST 1.1 results stay as they are.
    """
    protocol = protocol or case.protocol
    days = timepoint_days(case)
    targets = {lesion.id: lesion.nodal for lesion in case.lesions if lesion.role == LesionRole.TARGET}
    non_targets = {lesion.id: lesion.nodal for lesion in case.lesions if lesion.role == LesionRole.NON_TARGET}
    has_targets = bool(targets)
    baseline = assess_baseline(case) if protocol is case.protocol else assess_baseline(
        case.model_copy(update={"protocol": protocol}))
    baseline_sum = target_sum(case.baseline.targets, targets)
    baseline_um = baseline_sum.sum_um if has_targets else 0
    zero_at_baseline = zero_baseline_targets(baseline_sum.contributions_um)
    if zero_at_baseline:
        baseline = dataclasses.replace(baseline, problems=baseline.problems + (
            f"target {', '.join(map(repr, zero_at_baseline))} measured 0 mm at baseline: a target must be "
            "measurable at baseline (RECIST 1.1 §4.2); every follow-up's target response is NE until the "
            "baseline measurement is corrected",))
    cr_before_pd = complete_response_overrides_progression(
        normal_nodes_override_sum_pd=protocol.normal_nodes_override_sum_pd)
    nadir_um = baseline_um
    last_evaluable_cr = False
    earlier_response = False
    markers_elevated = case.baseline.tumour_markers == TumourMarkers.ABOVE_ULN
    results: list[TimepointAssessment] = []
    triggers: list[tuple[ProgressionTrigger, ...]] = []
    discrepancies: list[Discrepancy] = []
    for tp, day in zip(case.follow_ups, days[1:]):
        if not tp.targets and not tp.non_targets and tp.recorded is not None:
            result, hit = _recorded_timepoint(
                tp, day, tp.recorded, has_targets=has_targets, has_non_targets=bool(non_targets) or markers_elevated
            )
        else:
            new = new_lesion_status(tp.new_lesions)
            sum_um = None
            lower_bound = False
            target = None
            missing: tuple[str, ...] = ()
            if has_targets:
                ts = target_sum(tp.targets, targets)
                missing = ts.missing
                reappeared = (
                    protocol.reappearance_after_cr_is_pd and last_evaluable_cr
                    and target_reappeared(ts.contributions_um, targets)
                )
                if zero_at_baseline:
                    target, reappeared = Response.NE, False
                elif ts.complete:
                    target = target_response(
                        ts.sum_um, baseline_um=baseline_um, nadir_um=nadir_um,
                        complete_response=is_complete_response(ts.contributions_um, targets)
                        and non_target_nodes_normal(tp.non_targets, non_targets),
                        cr_before_pd=cr_before_pd,
                    )
                    if protocol.continuing_pr:
                        target = continuing_partial_response(target, earlier_response=earlier_response)
                    sum_um = ts.sum_um
                else:
                    target = partially_evaluated_response(ts.sum_um, nadir_um=nadir_um)
                if reappeared:
                    target = Response.PD
                if not ts.complete and target == Response.PD:
                    sum_um, lower_bound = ts.sum_um, True
            non_target = non_target_response(
                tp.non_targets, non_targets, tumour_markers=tp.tumour_markers,
                markers_elevated_at_baseline=markers_elevated, ne_with_present=protocol.non_target_ne_with_present,
            )
            if (
                protocol.reappearance_after_cr_is_pd and last_evaluable_cr
                and non_target not in (None, Response.PD) and non_target_reappeared(tp.non_targets, non_targets)
            ):
                non_target = Response.PD
            if has_targets:
                overall = overall_response_with_targets(target, non_target, new)  # type: ignore[arg-type]
            else:
                overall = overall_response_non_target_only(non_target, new)  # type: ignore[arg-type]
            hit = _triggers(target, non_target, new) if overall == Response.PD else ()
            result = TimepointAssessment(
                label=tp.label, date=tp.date, day=day,
                sum_mm=None if sum_um is None else to_mm(sum_um),
                nadir_mm=to_mm(nadir_um) if has_targets else None,
                change_from_baseline_pct=None if sum_um is None else percent_change(sum_um, baseline_um),
                change_from_nadir_pct=None if sum_um is None else percent_change(sum_um, nadir_um),
                target_response=target, non_target_response=non_target, new_lesions=new,
                overall_response=overall, sum_is_lower_bound=lower_bound, not_evaluated=missing,
            )
            if tp.recorded is not None:
                discrepancies.extend(_discrepancies(tp, result))
            if sum_um is not None and not lower_bound:
                nadir_um = min(nadir_um, sum_um)
            if target in (Response.PR, Response.CR):
                earlier_response = True
        if result.overall_response != Response.NE:
            last_evaluable_cr = result.overall_response == Response.CR
        results.append(result)
        triggers.append(hit)
    progression = find_progression(case, days, results, triggers)
    window = results if progression is None else results[: progression[0] + 1]
    scored = [ScoredTimepoint(r.day, r.overall_response) for r in window]
    if progression is not None:
        scored[-1] = ScoredTimepoint(scored[-1].day, Response.PD)
    bor = best_overall_response(scored, non_target_only=not has_targets, **protocol_options(protocol))
    irecist = None
    if protocol.criteria == "iRECIST":
        irecist = assess_irecist(case, protocol, days, results)
    return Assessment(
        subject=case.subject,
        baseline=baseline,
        timepoints=tuple(results),
        best_overall_response=bor,
        progression=None if progression is None else progression[1],
        discrepancies=tuple(discrepancies),
        baseline_date=case.baseline.date,
        irecist=irecist,
    )
