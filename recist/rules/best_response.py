"""Best overall response, with and without confirmation (RECIST 1.1 [E09] §4.4.3, §4.6, Table 3;
RECIST_RULES R30-R36 and conventions C1-C3).

Inputs are the overall responses of the follow-up timepoints up to and including progression, each
with its day since baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from recist.model.case import Protocol
from recist.model.enums import Response

__all__ = [
    "ScoredTimepoint",
    "protocol_options",
    "meets_sd_minimum",
    "is_confirmed",
    "best_overall_response",
]

_SD_OR_BETTER = frozenset({Response.CR, Response.PR, Response.SD, Response.NON_CR_NON_PD})
_MAY_LIE_BETWEEN = frozenset({Response.CR, Response.PR, Response.NE})


@dataclass(frozen=True)
class ScoredTimepoint:
    """A follow-up's overall response and its day since baseline."""

    day: int
    response: Response


def protocol_options(protocol: Protocol) -> dict[str, int | bool | None]:
    """The keyword arguments of :func:`best_overall_response` that a protocol sets (confirmation, its
    interval and NE allowance, the SD minimum and whether it applies to NON-CR/NON-PD)."""
    return {
        "confirmation": protocol.confirmation,
        "confirmation_min_days": protocol.confirmation_min_days,
        "sd_min_days": protocol.sd_min_days,
        "max_ne_between": protocol.confirmation_max_ne_between,
        "non_cr_non_pd_min_applies": protocol.sd_min_applies_to_non_cr_non_pd,
    }


def meets_sd_minimum(tp: ScoredTimepoint, *, sd_min_days: int, non_cr_non_pd_min_applies: bool = True) -> bool:
    """Whether ``tp`` shows SD (or better) at or after the SD minimum duration.

    RECIST 1.1 [E09] §4.6.1 (R32) and convention C1: "SD ... at least once after study entry at a
    minimum interval"; a CR or PR timepoint (confirmed or not) counts as SD or better. For subjects with
    non-target disease only, NON-CR/NON-PD plays the part of SD; whether the minimum applies to it is
    the protocol's choice (RECIST_RULES H8; default: it applies).
    """
    if tp.response == Response.NON_CR_NON_PD and not non_cr_non_pd_min_applies:
        return True
    return tp.day >= sd_min_days and tp.response in _SD_OR_BETTER


def is_confirmed(
    timepoints: Sequence[ScoredTimepoint],
    index: int,
    *,
    confirming: frozenset[Response],
    min_days: int,
    max_ne_between: int | None = None,
) -> bool:
    """Whether the response at ``timepoints[index]`` is confirmed by a later timepoint.

    RECIST 1.1 [E09] §4.6.1 (R31) and Table 3 (R34), with conventions C2-C3: confirmed by a later
    timepoint at least ``min_days`` after it whose response is in ``confirming``; only CR, PR or NE
    timepoints may lie between (PR-NE-PR confirms, R35); a repeat earlier than the interval neither
    confirms nor breaks; at most ``max_ne_between`` NE timepoints in between (None: any number, the
    project's default; RECIST_RULES H4).
    """
    start = timepoints[index]
    ne_seen = 0
    for later in timepoints[index + 1 :]:
        if later.day - start.day >= min_days and later.response in confirming:
            return True
        if later.response not in _MAY_LIE_BETWEEN:
            return False
        if later.response == Response.NE:
            ne_seen += 1
            if max_ne_between is not None and ne_seen > max_ne_between:
                return False
    return False


def best_overall_response(
    timepoints: Sequence[ScoredTimepoint],
    *,
    confirmation: bool = False,
    confirmation_min_days: int = 28,
    sd_min_days: int = 42,
    max_ne_between: int | None = None,
    non_target_only: bool = False,
    non_cr_non_pd_min_applies: bool = True,
) -> Response:
    """The best overall response from the follow-ups up to and including progression.

    Without confirmation (RECIST 1.1 [E09] §4.4.3, R33): the best response across timepoints: CR, then
    PR; then SD (or NON-CR/NON-PD for non-target-only subjects) if met at or after the SD minimum
    duration; otherwise PD if progression followed, else NE (SD too early then lost to follow-up: NE).
    For subjects with non-target disease only (``non_target_only``), NON-CR/NON-PD stands where SD would
    (Table 2 footnote: SD is not assigned when nothing can be measured).

    With confirmation (Table 3, R34-R35, C1-C3): a CR confirmed by a later CR gives CR; a CR or PR
    confirmed by a later CR or PR gives PR (a PR followed by a CR is a confirmed PR; a CR followed by a
    PR, where the CR was not real, becomes PR: Table 3 footnote a); unconfirmed CR or PR count only as
    SD or better for the SD minimum; then as above.

    Returns
    -------
    Response
        CR, PR, SD, NON-CR/NON-PD, PD or NE.
    """
    responses = [tp.response for tp in timepoints]
    if confirmation:
        both = frozenset({Response.CR, Response.PR})
        has_cr = any(
            tp.response == Response.CR
            and is_confirmed(timepoints, i, confirming=frozenset({Response.CR}), min_days=confirmation_min_days,
                             max_ne_between=max_ne_between)
            for i, tp in enumerate(timepoints)
        )
        if has_cr:
            return Response.CR
        has_pr = any(
            tp.response in both
            and is_confirmed(timepoints, i, confirming=both, min_days=confirmation_min_days,
                             max_ne_between=max_ne_between)
            for i, tp in enumerate(timepoints)
        )
        if has_pr:
            return Response.PR
    else:
        if Response.CR in responses:
            return Response.CR
        if Response.PR in responses:
            return Response.PR
    stable = [
        tp for tp in timepoints
        if meets_sd_minimum(tp, sd_min_days=sd_min_days, non_cr_non_pd_min_applies=non_cr_non_pd_min_applies)
    ]
    if stable:
        return Response.NON_CR_NON_PD if non_target_only else Response.SD
    if Response.PD in responses:
        return Response.PD
    return Response.NE
