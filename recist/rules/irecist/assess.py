"""Walk a case's follow-ups under iRECIST, on top of the RECIST 1.1 time-point results.

Orchestration only: every rule it applies is a small function of :mod:`recist.rules.irecist` (each
citing [iR17] or the [iR-FAQ]). Pure: the case, its protocol, the days and the RECIST 1.1
:class:`~recist.model.assessment.TimepointAssessment` of every follow-up in; an
:class:`~recist.model.assessment.IRecistAssessment` out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from recist.model.assessment import (
    IRecistAssessment,
    IRecistEvent,
    IRecistProgression,
    IRecistTimepoint,
    TimepointAssessment,
)
from recist.model.case import Case, Protocol, Timepoint
from recist.model.enums import IResponse, LesionRole, Response
from recist.rules._exact import to_mm, to_um
from recist.rules.best_response import protocol_options
from recist.rules.irecist.best_response import i_best_overall_response
from recist.rules.irecist.confirmation import (
    ADDITIONAL_NEW_LESIONS,
    NEW_CATEGORY,
    NEW_LESION,
    NEW_LESION_GROWTH,
    TARGET,
    may_confirm,
    non_target_increased,
    progressed_categories,
    target_grew_further,
)
from recist.rules.irecist.new_lesions import (
    additional_new_lesions,
    new_lesion_non_targets_increased,
    new_lesion_non_targets_progressed,
    new_lesion_target_sum_um,
    new_lesion_targets_grew,
    new_lesion_targets_progressed,
    new_lesions_present,
)
from recist.rules.irecist.selection import NewLesionTargetCandidate, new_lesion_target_problems
from recist.rules.irecist.timepoint import (
    baseline_disease_response,
    complete_only_without_new_lesions,
    i_response,
    resets,
)
from recist.rules.irecist.window import confirmation_window

__all__ = ["assess_irecist"]


@dataclass
class _NewLesions:
    """The new lesions identified so far: their roles and nodal flags, the NLT nadir (for I6)."""

    identified: set[str] = field(default_factory=set)
    roles: dict[str, LesionRole] = field(default_factory=dict)
    nodal: dict[str, bool] = field(default_factory=dict)
    nadir_ids: frozenset[str] = frozenset()
    nadir_um: int | None = None

    def nlt(self) -> frozenset[str]:
        return frozenset(i for i in self.identified if self.roles[i] == LesionRole.TARGET)

    def nlnt(self) -> frozenset[str]:
        return frozenset(i for i in self.identified if self.roles[i] != LesionRole.TARGET)

    def record(self, tp: Timepoint, additional: Sequence[str]) -> None:
        """Add this timepoint's additional new lesions, then follow the NLT sum's nadir for the current set."""
        self.identified.update(additional)
        ids = self.nlt()
        sum_um = new_lesion_target_sum_um(tp.new_lesions, ids, self.nodal) if ids else None
        if ids != self.nadir_ids:
            self.nadir_ids, self.nadir_um = ids, sum_um
        elif sum_um is not None:
            self.nadir_um = sum_um if self.nadir_um is None else min(self.nadir_um, sum_um)


@dataclass
class _Pending:
    """An unconfirmed progression: where it started, the assessment its window counts from, the
    categories in iUPD and the references of further growth."""

    start: int
    dated: int
    ref: int
    categories: set[str]
    base_at_ref: Response
    target_ref_um: int | None
    nlt_ids: frozenset[str]
    nlt_ref_um: int | None


def _event(tp: Timepoint, day: int, assigned_at: Timepoint | None = None) -> IRecistEvent:
    return IRecistEvent(tp.label, tp.date, day, None if assigned_at is None else assigned_at.label)


def iupd_dated_from(
    index: int, additional: Sequence[str], first_seen: Mapping[str, int], *, earliest: int
) -> int:
    """The follow-up an iUPD assigned at follow-up ``index`` is dated to: the first appearance of an
    additional new lesion first recorded equivocal, else ``index``.

    [iR17]: new lesions are assessed by RECIST 1.1 (RECIST_RULES I7), and RECIST 1.1 [E09] §4.3.5 (R24):
    "If repeat scans confirm there is definitely a new lesion, then progression should be declared using
    the date of the initial scan". So the iUPD, and the iCPD that confirms it (whose date is the iUPD's,
    I6), is dated to the scan that first showed the lesion, never before ``earliest`` (the follow-up after
    the last reset: an episode does not start inside an earlier one). The time-point responses and the
    confirmation window stay with the assessment at which iUPD was assigned (docs/rules.md H).
    """
    starts = [first_seen[i] for i in additional if i in first_seen]
    return max(min([index, *starts]), min(earliest, index))


def _sum_um(result: TimepointAssessment) -> int | None:
    return None if result.sum_mm is None else to_um(result.sum_mm)


def _new_lesion_targets(case: Case) -> list[NewLesionTargetCandidate]:
    """Every new-lesion target as first recorded, in order (the record that must be measurable, I7)."""
    found: dict[str, NewLesionTargetCandidate] = {}
    seen: set[str] = set()
    for tp in case.follow_ups:
        for lesion in tp.new_lesions:
            if lesion.id in seen:
                continue
            seen.add(lesion.id)
            size = lesion.short_axis_mm if lesion.nodal else lesion.long_axis_mm
            if lesion.role == LesionRole.TARGET and size is not None:
                found[lesion.id] = NewLesionTargetCandidate(
                    lesion.id, tp.label, lesion.site, lesion.nodal, size, tp.slice_thickness_mm)
    return list(found.values())


def assess_irecist(
    case: Case, protocol: Protocol, days: Sequence[int], results: Sequence[TimepointAssessment]
) -> IRecistAssessment:
    """The iRECIST reading of ``case`` from its RECIST 1.1 time-point ``results``.

    Parameters
    ----------
    case
        The validated case.
    protocol
        The protocol in force (the iRECIST window, variance and readings).
    days
        Days since baseline of every timepoint, baseline first.
    results
        The RECIST 1.1 assessment of every follow-up, in order.

    Notes
    -----
    Without a pending iUPD, the time-point response is the RECIST 1.1 one with an "i" (I1), new lesions
    being read as iRECIST reads them: new lesions seen for the first time, or, after a reset, previously
    identified ones meeting RECIST 1.1 progression (I6), make iUPD. With a pending iUPD, a confirming
    finding inside the window gives iCPD (I3, I4); without one, a reset gives iSD/iPR/iCR (I6, I8),
    NE stays NE, anything else stays iUPD (I5). After iCPD no response is assigned. The progression date
    is the first iUPD of the confirmed episode (I6), dated back to the first appearance of an equivocal
    new lesion that made it (:func:`iupd_dated_from`, R24).
    """
    has_targets = any(lesion.role == LesionRole.TARGET for lesion in case.lesions)
    new = _NewLesions()
    pending: _Pending | None = None
    confirmed: IRecistProgression | None = None
    first_iupd: IRecistEvent | None = None
    last_sum_um: int | None = None
    first_seen: dict[str, int] = {}
    earliest = 0  # the follow-up after the last reset
    out: list[IRecistTimepoint] = []
    for index, (tp, result) in enumerate(zip(case.follow_ups, results)):
        day = days[index + 1]
        if confirmed is not None:
            out.append(IRecistTimepoint(tp.label, tp.date, day, None))
            continue
        additional = additional_new_lesions(tp.new_lesions, new.identified)
        for lesion in tp.new_lesions:
            first_seen.setdefault(lesion.id, index)
        for lesion in tp.new_lesions:
            new.roles.setdefault(lesion.id, lesion.role or LesionRole.NON_TARGET)
            new.nodal.setdefault(lesion.id, lesion.nodal)
        nlt, nlnt = new.nlt(), new.nlnt()
        nlt_sum = new_lesion_target_sum_um(tp.new_lesions, nlt, new.nodal) if nlt else None
        nlt_here = nlt | {i for i in additional if new.roles[i] == LesionRole.TARGET}
        shown_sum = new_lesion_target_sum_um(tp.new_lesions, nlt_here, new.nodal) if nlt_here else None
        sum_um = _sum_um(result)
        if result.source == "recorded" and (result.target_response if has_targets else result.non_target_response) is None:
            base = result.overall_response  # recorded overall only: the categories are not known
        else:
            base = baseline_disease_response(result.target_response, result.non_target_response, has_targets=has_targets)
        remaining = new_lesions_present(tp.new_lesions, new.identified, nlt, new.nodal)
        progressed = progressed_categories(result.target_response, result.non_target_response)
        window = None
        reasons: list[str] = []
        if pending is None:
            new_progression = bool(additional) or (
                new_lesion_targets_progressed(nlt_sum, new.nadir_um if new.nadir_ids == nlt else None)
                or new_lesion_non_targets_progressed(tp.new_lesions, nlnt)
            )
            if base == Response.PD or new_progression:
                response = IResponse.IUPD
                categories = set(progressed) | ({NEW_LESION} if new_progression else set())
                if base == Response.PD and not progressed:
                    categories.add("recorded")
                dated = iupd_dated_from(index, additional, first_seen, earliest=earliest)
                pending = _Pending(
                    start=index, dated=dated, ref=index, categories=categories, base_at_ref=base,
                    target_ref_um=sum_um if TARGET in progressed and not result.sum_is_lower_bound else None,
                    nlt_ids=nlt_here,
                    nlt_ref_um=None,
                )
                if first_iupd is None:
                    first_iupd = _event(case.follow_ups[dated], days[dated + 1], tp if dated != index else None)
            else:
                response = complete_only_without_new_lesions(i_response(base), new_lesions_remain=remaining)
        else:
            window = confirmation_window(
                day - days[pending.ref + 1],
                min_days=protocol.irecist_confirmation_min_days,
                max_days=protocol.irecist_confirmation_max_days,
                variance_days=protocol.irecist_window_variance_days,
            )
            if additional:
                reasons.append(ADDITIONAL_NEW_LESIONS)
            reference = last_sum_um if protocol.irecist_further_increase_from == "previous" else pending.target_ref_um
            if TARGET in pending.categories and target_grew_further(sum_um, reference):
                reasons.append(TARGET)
            if "non_target" in pending.categories and non_target_increased(tp.non_targets):
                reasons.append("non_target")
            episode_nlt_sum = (
                new_lesion_target_sum_um(tp.new_lesions, pending.nlt_ids, new.nodal) if pending.nlt_ids else None
            )
            if new_lesion_targets_grew(episode_nlt_sum, pending.nlt_ref_um) or new_lesion_non_targets_increased(
                tp.new_lesions, nlnt
            ):
                reasons.append(NEW_LESION_GROWTH)
            if progressed - pending.categories:
                reasons.append(NEW_CATEGORY)
            if may_confirm(window, reasons, late_scan_confirms=protocol.irecist_late_scan_confirms):
                response = IResponse.ICPD
                start = case.follow_ups[pending.dated]
                assigned = case.follow_ups[pending.start] if pending.dated != pending.start else None
                confirmed = IRecistProgression(
                    _event(start, days[pending.dated + 1], assigned), _event(tp, day), tuple(reasons)
                )
            elif not reasons and not progressed and resets(base, pending.base_at_ref, new_lesions_gone=not remaining):
                response = complete_only_without_new_lesions(i_response(base), new_lesions_remain=remaining)
                pending = None
                earliest = index + 1
            elif not reasons and base == Response.NE:
                response = IResponse.NE
            else:
                response = IResponse.IUPD
                pending.categories |= progressed | ({NEW_LESION} if additional else set())
                if pending.target_ref_um is None and TARGET in progressed and not result.sum_is_lower_bound:
                    pending.target_ref_um = sum_um
                if window != "early":
                    pending.ref, pending.base_at_ref = index, base
        if pending is not None and pending.start == index:
            pending.nlt_ref_um = (
                new_lesion_target_sum_um(tp.new_lesions, pending.nlt_ids, new.nodal) if pending.nlt_ids else None
            )
        out.append(IRecistTimepoint(
            tp.label, tp.date, day, response,
            iupd_categories=tuple(sorted(pending.categories)) if pending is not None and response == IResponse.IUPD
            else (),
            confirmed_by=tuple(reasons) if response == IResponse.ICPD else (),
            window=window,
            new_lesion_target_sum_mm=None if shown_sum is None else to_mm(shown_sum),
            additional_new_lesions=additional,
        ))
        new.record(tp, additional)
        if sum_um is not None and not result.sum_is_lower_bound:
            last_sum_um = sum_um
    ibor = i_best_overall_response(
        [(tp.day, tp.response) for tp in out], non_target_only=not has_targets, **protocol_options(protocol)
    )
    problems = new_lesion_target_problems(
        _new_lesion_targets(case), double_slice_thickness=protocol.nodes_double_slice_thickness)
    return IRecistAssessment(tuple(out), ibor, first_iupd, confirmed, tuple(problems))

