"""The iRECIST time-point response ([iR17] Table 2; [iR-FAQ]; RECIST_RULES I1, I5, I6, I8)."""

from __future__ import annotations

from recist.model.enums import IResponse, NewLesionStatus, Response
from recist.rules.overall import overall_response_non_target_only, overall_response_with_targets

__all__ = ["i_response", "baseline_disease_response", "resets", "complete_only_without_new_lesions"]

_I_OF = {
    Response.CR: IResponse.ICR,
    Response.PR: IResponse.IPR,
    Response.SD: IResponse.ISD,
    Response.NON_CR_NON_PD: IResponse.NON_ICR_NON_IUPD,
    Response.PD: IResponse.IUPD,
    Response.NE: IResponse.NE,
}
_RANK = {Response.CR: 3, Response.PR: 2, Response.SD: 1, Response.NON_CR_NON_PD: 1}


def i_response(response: Response) -> IResponse:
    """The iRECIST name of a RECIST 1.1 time-point category: CR iCR, PR iPR, SD iSD, non-CR/non-PD
    non-iCR/non-iUPD, NE NE, and PD iUPD, unconfirmed progression.

    [iR17] Table 2 and RECIST_RULES I1-I2: iRECIST keeps the RECIST 1.1 definitions of CR, PR and SD
    ("if no pseudoprogression occurs, RECIST 1.1 and iRECIST categories ... would be the same"); anything
    that would be RECIST 1.1 PD is iUPD.
    """
    return _I_OF[response]


def baseline_disease_response(
    target: Response | None, non_target: Response | None, *, has_targets: bool
) -> Response:
    """The RECIST 1.1 overall response of the baseline disease alone (targets and non-targets, no new
    lesions), by Table 1 or Table 2 of RECIST 1.1 ([E09] §4.4.1, R27-R28).

    Under iRECIST new lesions are a category of their own ([iR17] Table 2, column "new lesions"), so the
    response of the disease present at baseline is read without them. A category that was not assessed
    gives NE.
    """
    if has_targets:
        if target is None:
            return Response.NE
        return overall_response_with_targets(target, non_target, NewLesionStatus.NO)
    if non_target is None:
        return Response.NE
    return overall_response_non_target_only(non_target, NewLesionStatus.NO)


def resets(now: Response, at_iupd: Response, *, new_lesions_gone: bool) -> bool:
    """Whether a timepoint after iUPD, with no confirming finding, is iSD, iPR or iCR (the "reset").

    ``now`` and ``at_iupd`` are the baseline-disease responses (:func:`baseline_disease_response`) here and
    at the last iUPD assessment. [iR17] Table 2 and RECIST_RULES I5-I6: when iUPD is followed by iSD,
    iPR or iCR the bar is reset; if nothing changes, or disease decreases without reaching them, the
    response stays iUPD. [iR-FAQ] "Assigning response after the appearance of new lesions" (I8): after a
    new-lesion iUPD, further shrinkage of the baseline lesions to iPR or iSD criteria allows iPR or iSD
    (scenario B), but a PR met *before* the new-lesion iUPD with no change since stays iUPD (scenario F).
    Read here: the baseline disease must meet SD or better and be in a better category than at the last
    iUPD (CR > PR > SD, non-CR/non-PD), or every previously identified new lesion must have gone.
    """
    if now not in _RANK:
        return False
    return new_lesions_gone or _RANK[now] > _RANK.get(at_iupd, 0)


def complete_only_without_new_lesions(response: IResponse, *, new_lesions_remain: bool) -> IResponse:
    """iCR needs every lesion gone, previously identified new lesions included; with one remaining the
    response is iPR.

    [iR17] Table 2: iCR is target iCR, non-target iCR and "new lesions: no"; RECIST 1.1 [E09] §4.3.1 CR is
    the disappearance of all lesions. A remaining new lesion (not progressing, after a reset) leaves the
    disappearance of the baseline disease: the response of "target CR, non-target non-CR" (iPR).
    """
    if response == IResponse.ICR and new_lesions_remain:
        return IResponse.IPR
    return response
