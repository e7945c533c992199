"""iRECIST Table 3 ([iR17], "Scenarios of assignments of best overall response using iRECIST"): every
example, with every combination of the alternatives the table lists at each timepoint ("iCR, iPR, iUPD, or
NE" ...; "Any" is every response). The table assumes a randomised study, without confirmation of iCR/iPR.
Timepoints are 56 days apart, so an iSD meets the RECIST 1.1 minimum duration (42 days).
"""

from __future__ import annotations

import itertools

import pytest
from irecist_builder import nlt, responses

from recist.model.enums import IResponse
from recist.rules.irecist.best_response import i_best_overall_response

CR, PR, SD, UPD, CPD, NE = "iCR", "iPR", "iSD", "iUPD", "iCPD", "NE"
ANY = (CR, PR, SD, UPD, CPD, NE)

TABLE_3 = {
    "example 1": ([(CR,), (CR, PR, UPD, NE), (CR, PR, UPD, NE), (UPD,), (CPD,)], CR),
    "example 2": ([(UPD,), (PR, SD, NE), (CR,), (CR, UPD, NE), (CR, PR, SD, UPD, CPD, NE)], CR),
    "example 3": ([(UPD,), (PR,), (PR, SD, UPD, NE), (PR, SD, UPD, NE, CPD), (PR, SD, UPD, NE, CPD)], PR),
    "example 4": ([(UPD,), (SD, NE), (PR,), (PR, SD, UPD, NE), (PR, SD, UPD, CPD, NE)], PR),
    "example 5": ([(UPD,), (SD,), (SD, UPD, NE), (SD, UPD, CPD, NE), (SD, UPD, CPD, NE)], SD),
    "example 6": ([(UPD,), (CPD,), ANY, ANY, ANY], CPD),
    "example 7": ([(UPD,), (UPD,), (CPD,), ANY, ANY], CPD),
    "example 8": ([(UPD,), (NE,), (NE,), (NE,), (NE,)], UPD),
}


def _sequences():
    for name, (columns, ibor) in TABLE_3.items():
        for sequence in itertools.product(*columns):
            yield pytest.param(sequence, ibor, id=f"{name}:{'-'.join(sequence)}")


@pytest.mark.parametrize(("sequence", "ibor"), list(_sequences()))
def test_every_sequence_of_table_3(sequence, ibor):
    timepoints = [(56 * (k + 1), IResponse(r)) for k, r in enumerate(sequence)]
    assert i_best_overall_response(timepoints) == IResponse(ibor)


# The same examples end to end, from measurements (baseline target sum 80 mm).
IUPD_BY_NEW_LESION = {"sum": 80.0, "new": [nlt("N1", 10.0)]}


def test_example_2_pseudo_progression_to_complete_response():
    """iUPD (new lesion), iPR, iCR (everything gone, the new lesion too): iBOR iCR."""
    from irecist_builder import irecist

    gone = [nlt("N1", 0.0)]
    result = irecist(IUPD_BY_NEW_LESION, {"sum": 50.0, "new": [nlt("N1", 6.0)]},
                     {"sum": "CR", "nt": "absent", "new": gone}, {"sum": "CR", "nt": "absent", "new": gone})
    assert [tp["response"] for tp in result["timepoints"]] == [UPD, PR, CR, CR]
    assert result["best_overall_response"] == CR
    assert result["progression"] is None


def test_example_5_iupd_then_stable():
    """iUPD (targets), iSD, iSD: iBOR iSD."""
    from irecist_builder import irecist

    result = irecist({"sum": 100.0}, {"sum": 90.0}, {"sum": 92.0})
    assert [tp["response"] for tp in result["timepoints"]] == [UPD, SD, SD]
    assert result["best_overall_response"] == SD


def test_example_7_iupd_iupd_icpd():
    """iUPD, iUPD (no iCPD), iCPD: iBOR iCPD, progression dated to the first iUPD."""
    from irecist_builder import irecist

    result = irecist({"sum": 100.0}, {"sum": 102.0}, {"sum": 106.0}, {"sum": 60.0})
    assert [tp["response"] for tp in result["timepoints"]] == [UPD, UPD, CPD, None]
    assert result["best_overall_response"] == CPD
    assert result["progression"]["iupd"]["label"] == "FU1"
    assert result["progression"]["icpd"]["label"] == "FU3"


def test_example_8_iupd_then_only_ne_stays_iupd():
    """iUPD followed only by NE: the time points are NE, iBOR iUPD, nothing confirmed (I5)."""
    from irecist_builder import irecist

    result = irecist({"sum": 100.0}, {"sum": "NE"}, {"sum": "NE"}, {"sum": "NE"}, {"sum": "NE"})
    assert [tp["response"] for tp in result["timepoints"]] == [UPD, NE, NE, NE, NE]
    assert result["best_overall_response"] == UPD
    assert result["progression"] is None


def test_stable_disease_too_early_counts_as_in_recist_1_1():
    """iSD before the SD minimum duration (42 days) cannot be iBOR (RECIST 1.1 R32 kept by I1)."""
    assert i_best_overall_response([(30, IResponse.ISD), (60, IResponse.IUPD)]) == IResponse.IUPD
    assert i_best_overall_response([(30, IResponse.ISD), (60, IResponse.IUPD), (100, IResponse.ICPD)]) == (
        IResponse.ICPD)
    assert responses({"sum": 75.0, "day": 30}) == [SD]
