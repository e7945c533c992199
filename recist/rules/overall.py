"""Overall timepoint response (RECIST 1.1 [E09] §4.4.1, Tables 1 and 2; RECIST_RULES R27-R28)."""

from __future__ import annotations

from recist.model.enums import NewLesionStatus, Response

__all__ = ["overall_response_with_targets", "overall_response_non_target_only"]


def overall_response_with_targets(
    target: Response, non_target: Response | None, new_lesions: NewLesionStatus
) -> Response:
    """RECIST 1.1 Table 1, subjects with target disease (with or without non-target disease).

    ``non_target`` None means the subject has no non-target lesions (convention C7): target CR with no
    new lesion is then overall CR. An equivocal new lesion counts as "No" (R24).

    ========= ============================ =========== =======
    Target    Non-target                   New lesions Overall
    ========= ============================ =========== =======
    CR        CR                           No          CR
    CR        Non-CR/non-PD                No          PR
    CR        Not evaluated                No          PR
    PR        Non-PD or not all evaluated  No          PR
    SD        Non-PD or not all evaluated  No          SD
    NE        Non-PD                       No          NE
    PD        Any                          Yes or No   PD
    Any       PD                           Yes or No   PD
    Any       Any                          Yes         PD
    ========= ============================ =========== =======
    """
    if new_lesions == NewLesionStatus.YES or target == Response.PD or non_target == Response.PD:
        return Response.PD
    if target == Response.NE:
        return Response.NE
    if target == Response.CR:
        return Response.CR if non_target in (None, Response.CR) else Response.PR
    if target in (Response.PR, Response.SD):
        return target
    raise ValueError(f"{target!r} is not a target response")


def overall_response_non_target_only(non_target: Response, new_lesions: NewLesionStatus) -> Response:
    """RECIST 1.1 Table 2, subjects with non-target disease only.

    ================== =========== ==============
    Non-target         New lesions Overall
    ================== =========== ==============
    CR                 No          CR
    Non-CR/non-PD      No          Non-CR/non-PD
    Not all evaluated  No          NE
    Unequivocal PD     Yes or No   PD
    Any                Yes         PD
    ================== =========== ==============
    """
    if new_lesions == NewLesionStatus.YES or non_target == Response.PD:
        return Response.PD
    if non_target in (Response.CR, Response.NON_CR_NON_PD, Response.NE):
        return non_target
    raise ValueError(f"{non_target!r} is not a non-target response")
