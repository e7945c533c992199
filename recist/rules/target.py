"""Target-lesion sums and response (RECIST 1.1 [E09] §4.2, §4.3.1-4.3.2, §4.4.2; RECIST_RULES R7-R18).

Lengths are integer micrometres (:mod:`recist.rules._exact`); every threshold is an exact integer test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from recist.model.case import TargetEntry
from recist.model.enums import Response, TargetState
from recist.rules._exact import to_um

__all__ = [
    "TOO_SMALL_DEFAULT_MM",
    "TargetSum",
    "lesion_diameter_um",
    "target_sum",
    "meets_partial_response",
    "meets_progression",
    "is_complete_response",
    "target_response",
    "partially_evaluated_response",
    "continuing_partial_response",
    "target_reappeared",
    "zero_baseline_targets",
    "complete_response_overrides_progression",
]

TOO_SMALL_DEFAULT_MM = 5.0
"""A target "too small to measure" counts 5 mm, nodes included ([E09] §4.3.2; R15)."""
_TOO_SMALL_UM = to_um(TOO_SMALL_DEFAULT_MM)
_NODE_NORMAL_UM = to_um(10.0)
_PD_MIN_INCREASE_UM = to_um(5.0)


def lesion_diameter_um(entry: TargetEntry, *, nodal: bool) -> int | None:
    """A target lesion's contribution to the sum of diameters, micrometres; None if not evaluated.

    RECIST 1.1 [E09] §4.2 (R7): the longest diameter of a non-nodal lesion, the short axis of a node.
    §4.3.2 (R15-R17): too small to measure counts 5 mm; disappeared 0 mm; a split lesion the sum of its
    fragments' longest diameters; a lesion merged into another counts 0 mm (the other carries the size,
    convention C4).
    """
    state = entry.state
    if state is None:
        value = entry.short_axis_mm if nodal else entry.long_axis_mm
        return None if value is None else to_um(value)
    if state == TargetState.TOO_SMALL:
        return _TOO_SMALL_UM
    if state in (TargetState.DISAPPEARED, TargetState.MERGED):
        return 0
    if state == TargetState.SPLIT:
        return sum(to_um(f) for f in entry.fragments_mm or ())
    return None  # TargetState.NOT_EVALUATED


@dataclass(frozen=True)
class TargetSum:
    """The sum of diameters of the evaluated targets, micrometres, and the targets not evaluated."""

    sum_um: int
    contributions_um: dict[str, int]
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """True when every target lesion was evaluated."""
        return not self.missing


def target_sum(entries: Mapping[str, TargetEntry | None], nodal: Mapping[str, bool]) -> TargetSum:
    """Sum the diameters of the target lesions named in ``nodal`` (R7); a lesion absent from ``entries``
    or not evaluated is listed in ``missing`` (R18)."""
    contributions: dict[str, int] = {}
    missing: list[str] = []
    for lesion_id, is_node in nodal.items():
        entry = entries.get(lesion_id)
        value = None if entry is None else lesion_diameter_um(entry, nodal=is_node)
        if value is None:
            missing.append(lesion_id)
        else:
            contributions[lesion_id] = value
    return TargetSum(sum(contributions.values()), contributions, tuple(missing))


def meets_partial_response(sum_um: int, baseline_um: int) -> bool:
    """At least a 30 % decrease from the baseline sum (RECIST 1.1 [E09] §4.3.1 PR; R10).

    Exact: ``100 * sum <= 70 * baseline``.

    >>> meets_partial_response(70_000, 100_000), meets_partial_response(70_001, 100_000)
    (True, False)
    """
    return 100 * sum_um <= 70 * baseline_um


def meets_progression(sum_um: int, nadir_um: int) -> bool:
    """At least +20 % AND at least +5 mm over the nadir (RECIST 1.1 [E09] §4.3.1 PD; R11).

    Exact: ``100 * (sum - nadir) >= 20 * nadir`` and ``sum - nadir >= 5 mm``. With a nadir of 0 the
    relative test always holds, so any rise of 5 mm or more is PD.

    >>> meets_progression(120_000, 100_000), meets_progression(119_999, 100_000)
    (True, False)
    """
    increase = sum_um - nadir_um
    return increase >= _PD_MIN_INCREASE_UM and 100 * increase >= 20 * nadir_um


def is_complete_response(contributions_um: Mapping[str, int], nodal: Mapping[str, bool]) -> bool:
    """Every non-nodal target gone (0 mm) and every target node under 10 mm short axis.

    RECIST 1.1 [E09] §4.3.1 CR and §4.3.2 (R9, R14): the sum may be non-zero at CR because target nodes
    keep their actual short axis. Every target must have been evaluated.
    """
    if set(contributions_um) != set(nodal):
        return False
    for lesion_id, value in contributions_um.items():
        if nodal[lesion_id]:
            if value >= _NODE_NORMAL_UM:
                return False
        elif value != 0:
            return False
    return True


def target_response(
    sum_um: int, *, baseline_um: int, nadir_um: int, complete_response: bool, cr_before_pd: bool = False
) -> Response:
    """The target response of a fully evaluated timepoint (RECIST 1.1 [E09] §4.3.1; R9-R13).

    Order of evaluation (R13): PD against the nadir first (a sum still 30 % under baseline can be PD
    against a lower nadir); then CR; then PR against the baseline; otherwise SD. With ``cr_before_pd``
    (protocol option ``normal_nodes_override_sum_pd``, :func:`complete_response_overrides_progression`)
    a timepoint meeting CR is CR even when its sum meets PD.
    """
    if cr_before_pd and complete_response:
        return Response.CR
    if meets_progression(sum_um, nadir_um):
        return Response.PD
    if complete_response:
        return Response.CR
    if meets_partial_response(sum_um, baseline_um):
        return Response.PR
    return Response.SD


def partially_evaluated_response(evaluated_sum_um: int, *, nadir_um: int) -> Response:
    """Target response when some targets were not evaluated (RECIST 1.1 [E09] §4.4.2; R18, C5).

    The timepoint is NE "unless a convincing argument can be made that the contribution of the missing
    lesion(s) would not change the assigned time point response", which holds for PD: if the evaluated
    lesions alone (missing ones counted 0 mm) already meet PD, the timepoint is PD; otherwise NE.
    """
    return Response.PD if meets_progression(evaluated_sum_um, nadir_um) else Response.NE


def continuing_partial_response(response: Response, *, earlier_response: bool) -> Response:
    """Protocol option ``continuing_pr`` (RECIST_RULES H1 reading B; [EORTC-FAQ] R36).

    "A confirmed PR at a next visit is considered to be a continuing PR unless the criteria for PD are met":
    once a PR (or CR) was assigned, an SD that only reflects drift back above -30 % stays PR.
    """
    if earlier_response and response == Response.SD:
        return Response.PR
    return response


def target_reappeared(contributions_um: Mapping[str, int], nodal: Mapping[str, bool]) -> bool:
    """Whether any target lesion has reappeared: a non-nodal target above 0 mm (too small counts) or a
    target node at 10 mm short axis or more ([EORTC-FAQ] "Abnormal lymph node"; R26).

    Used after an overall CR: [E09] Table 3 footnote a, "any disease seen at a subsequent time point ...
    makes the disease PD".
    """
    for lesion_id, value in contributions_um.items():
        if nodal[lesion_id]:
            if value >= _NODE_NORMAL_UM:
                return True
        elif value > 0:
            return True
    return False


def complete_response_overrides_progression(*, normal_nodes_override_sum_pd: bool) -> bool:
    """Whether a timepoint that meets target CR is CR even when its sum meets PD (docs/rules.md, open point
    "target nodes back under 10 mm").

    Example: a single target node 20 -> 3 -> 9 mm. The sum rises 6 mm, +200 % over the nadir, which is PD
    by the literal sum rule (RECIST 1.1 [E09] §4.3.1 PD, R11, evaluated first by R13: reading A, the
    default). But every target node is under 10 mm short axis, which is CR by §4.3.1 and §4.3.2 (R9,
    R14), and a node under 10 mm is normal ([EORTC-FAQ] "Abnormal lymph node": a node has reappeared only
    at 10 mm or more): reading B, CR. Published readings differ, so the protocol chooses.
    """
    return normal_nodes_override_sum_pd


def zero_baseline_targets(baseline_contributions_um: Mapping[str, int]) -> tuple[str, ...]:
    """Target lesions measured 0 mm at baseline, in the order given.

    A target must be measurable at baseline (RECIST 1.1 [E09] §4.2, §3.1.1: at least 10 mm), so a 0 mm
    baseline target is a reading error. Its follow-ups cannot be judged against a baseline sum that lacks
    it: the target response is NE at every follow-up until the baseline is corrected (as for targets not
    evaluated, [E09] §4.4.2, R18). Non-target and new-lesion progression still count.

    >>> zero_baseline_targets({"T1": 0, "T2": 20_000})
    ('T1',)
    """
    return tuple(lesion_id for lesion_id, value in baseline_contributions_um.items() if value == 0)
