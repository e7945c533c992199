"""iRECIST best overall response, iBOR ([iR17] Table 3; RECIST_RULES I9)."""

from __future__ import annotations

from collections.abc import Sequence

from recist.model.enums import IResponse, Response
from recist.rules.best_response import ScoredTimepoint, best_overall_response

__all__ = ["i_best_overall_response"]

_AS_RECIST = {
    IResponse.ICR: Response.CR,
    IResponse.IPR: Response.PR,
    IResponse.ISD: Response.SD,
    IResponse.NON_ICR_NON_IUPD: Response.NON_CR_NON_PD,
    IResponse.NE: Response.NE,
    IResponse.IUPD: Response.NE,
    IResponse.ICPD: Response.PD,
}
_AS_I = {
    Response.CR: IResponse.ICR,
    Response.PR: IResponse.IPR,
    Response.SD: IResponse.ISD,
    Response.NON_CR_NON_PD: IResponse.NON_ICR_NON_IUPD,
    Response.PD: IResponse.ICPD,
}


def i_best_overall_response(
    timepoints: Sequence[tuple[int, IResponse | None]],
    *,
    confirmation: bool = False,
    confirmation_min_days: int = 28,
    sd_min_days: int = 42,
    max_ne_between: int | None = None,
    non_target_only: bool = False,
    non_cr_non_pd_min_applies: bool = True,
) -> IResponse:
    """iBOR from the (day, time-point response) of the follow-ups.

    [iR17] Table 3 (RECIST_RULES I9): the best time-point response, by the RECIST 1.1 rules for best
    response (SD minimum duration, confirmation of iCR/iPR where the protocol requires it); iUPD does not
    prevent a later iCR, iPR or iSD from being the iBOR (examples 2-5); the responses after iCPD do not
    count (examples 6-7, "Any"); iUPD followed only by NE is iUPD (example 8). An iUPD stands like NE in
    the RECIST 1.1 best-response rules (neither a response nor a progression), and the result is iUPD
    where those rules give NE after an iUPD.
    """
    scored: list[ScoredTimepoint] = []
    for day, response in timepoints:
        if response is None:
            break
        scored.append(ScoredTimepoint(day, _AS_RECIST[response]))
        if response == IResponse.ICPD:
            break
    best = best_overall_response(
        scored,
        confirmation=confirmation,
        confirmation_min_days=confirmation_min_days,
        sd_min_days=sd_min_days,
        max_ne_between=max_ne_between,
        non_target_only=non_target_only,
        non_cr_non_pd_min_applies=non_cr_non_pd_min_applies,
    )
    if best == Response.NE:
        seen = {response for _, response in timepoints[: len(scored)]}
        return IResponse.IUPD if IResponse.IUPD in seen else IResponse.NE
    return _AS_I[best]
