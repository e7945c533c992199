"""CDISC controlled terminology used by the SDTM TU/TR/RS export, kept as data with its version.

The codelist codes, the NCI C-code of every term and the variable-to-codelist links are those of SDTMIG
v3.4 with the SDTM CT package of :data:`CT_PACKAGE_DATE`; the terms were checked against a 2024 SDTM
Terminology extract (codelists C96779, C96782, C96785, C124309, ...) and the SDTMIG v3.4 TU/TR/RS
examples. Each :class:`Codelist` maps the submission values recist writes to their C-codes. Every codelist
used here except No Yes Response is *extensible* in CDISC CT; a value that recist needs but that is not a
published term is listed in ``extensions`` (a sponsor extension, declared in define.xml with
``def:ExtendedValue="Yes"``), so a reviewer sees at once which values are ours. docs/exchange.md explains
each choice.

New lesions in RS (codelist C96782 definitions, SDTMIG v3.4 RS example 2, CDISC RECIST 1.1 supplement):
``NEWLIND`` "New Lesion Indicator" says whether new lesions are present (``Y``/``N``, codelist NY
C66742); ``NEWLPROG`` "New Lesion Progression" assesses "the equivocality of disease progression based on
a newly identified lesion", so it is written only when new lesions are present, ``EQUIVOCAL`` or
``UNEQUIVOCAL`` (codelist C96785). The best overall response test is ``BESTRESP`` (C94536).

:func:`check_term` and :func:`check_result` are what the writer and the tests use to keep every coded
value inside these lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from recist.errors import ExchangeError

__all__ = [
    "CT_PACKAGE",
    "CT_PACKAGE_DATE",
    "SDTMIG_VERSION",
    "Codelist",
    "CODELISTS",
    "VARIABLE_CODELIST",
    "RESULT_CODELIST",
    "TEST_NAMES",
    "check_term",
    "check_result",
    "check_state_term",
    "codelist_for",
    "result_codelist",
]

SDTMIG_VERSION = "3.4"
CT_PACKAGE_DATE = "2024-03-29"
CT_PACKAGE = f"SDTM CT {CT_PACKAGE_DATE}"


@dataclass(frozen=True, eq=False)
class Codelist:
    """One CDISC codelist: its NCI code, name, and the submission values recist may write.

    Attributes
    ----------
    code
        The NCI C-code of the codelist (e.g. ``"C96784"``).
    name
        The codelist name in CDISC CT.
    terms
        Published submission values recist writes, each with its NCI C-code.
    extensions
        Values recist writes that are sponsor extensions of this extensible codelist (no C-code).
    extensible
        Whether CDISC allows sponsors to add terms.
    subset_of
        For a subset of another codelist (same NCI code, fewer terms, as define.xml allows for the values
        of one test): the key of that codelist in :data:`CODELISTS`.
    """

    code: str
    name: str
    terms: Mapping[str, str]
    extensions: tuple[str, ...] = field(default=())
    extensible: bool = True
    subset_of: str | None = None

    @property
    def values(self) -> frozenset[str]:
        """Every value recist may write for this codelist (published terms and extensions)."""
        return frozenset(self.terms) | frozenset(self.extensions)


CODELISTS: dict[str, Codelist] = {
    "TUTESTCD": Codelist(
        "C96784",
        "Tumor or Lesion Identification Test Code",
        {"TUMIDENT": "C94523", "TUSPLIT": "C96642", "TUMERGE": "C94525"},
    ),
    "TUTEST": Codelist(
        "C96783",
        "Tumor or Lesion Identification Test Name",
        {"Tumor Identification": "C94523", "Tumor Split": "C96642", "Tumor Merged": "C94525"},
    ),
    "TUSTRESC": Codelist(
        "C123650",
        "Tumor or Lesion Identification Test Results",
        {"TARGET": "C94520", "NON-TARGET": "C94521", "NEW": "C94522"},
    ),
    "TRTESTCD": Codelist(
        "C96779",
        "Tumor or Lesion Properties Test Code",
        {"LDIAM": "C96684", "LPERP": "C96685", "SUMDIAM": "C96631", "TUMSTATE": "C96643"},
    ),
    "TRTEST": Codelist(
        "C96778",
        "Tumor or Lesion Properties Test Name",
        {
            "Longest Diameter": "C96684",
            "Longest Perpendicular": "C96685",
            "Sum of Diameter": "C96631",
            "Tumor State": "C96643",
        },
    ),
    "TRSTRESC": Codelist(
        "C124309",
        "Tumor or Lesion Properties Test Result",
        {
            "PRESENT": "C25626",
            "ABSENT": "C48190",
            "EQUIVOCAL": "C86071",
            "UNEQUIVOCAL": "C123645",
            "TUMOR MERGED": "C94525",
        },
        # not in the published codelist: a non-target's unequivocal progression and a split target (a target
        # too small to measure is not a state: TRORRES of its diameter, standardised to 5 mm, SDTMIG v3.4 TR)
        extensions=("UNEQUIVOCAL PROGRESSION", "SPLIT"),
    ),
    "RSTESTCD": Codelist(
        "C96782",
        "Oncology Response Assessment Test Code",
        {
            "TRGRESP": "C94534",
            "NTRGRESP": "C94535",
            "NEWLIND": "C142362",
            "NEWLPROG": "C103420",
            "OVRLRESP": "C96613",
            "BESTRESP": "C94536",
        },
    ),
    "RSTEST": Codelist(
        "C96781",
        "Oncology Response Assessment Test Name",
        {
            "Target Response": "C94534",
            "Non-target Response": "C94535",
            "New Lesion Indicator": "C142362",
            "New Lesion Progression": "C103420",
            "Overall Response": "C96613",
            "Best Overall Response": "C94536",
        },
    ),
    "RSSTRESC": Codelist(
        "C96785",
        "Oncology Response Assessment Result",
        {
            "CR": "C4870",
            "PR": "C18058",
            "SD": "C18213",
            "PD": "C35571",
            "NE": "C62222",
            "NON-CR/NON-PD": "C96700",
            "EQUIVOCAL": "C86071",
            "UNEQUIVOCAL": "C123645",
            # iRECIST responses ([iR17]), published terms of the same codelist
            "iCR": "C142357",
            "iPR": "C142358",
            "iSD": "C142359",
            "iUPD": "C142360",
            "iCPD": "C142356",
            "NON-iCR/NON-iUPD": "C142361",
        },
    ),
    "RSCAT": Codelist(
        "C124298", "Category of Oncology Response Assessment", {"RECIST 1.1": "C124415", "iRECIST": "C136711"}
    ),
    "EVAL": Codelist("C78735", "Evaluator", {"INDEPENDENT ASSESSOR": "C78720", "INVESTIGATOR": "C25936"}),
    "EVALID": Codelist(
        "C96777",
        "Medical Evaluator Identifier",
        {"RADIOLOGIST 1": "C94530", "RADIOLOGIST 2": "C94531", "ADJUDICATOR 1": "C150867"},
    ),
    "METHOD": Codelist(
        "C85492", "Method", {"CT SCAN": "C17204", "MRI": "C16809", "X-RAY": "C38101"}, extensions=("CALIPER",)
    ),
    "LOC": Codelist(
        "C74456",
        "Anatomical Location",
        {
            "LIVER": "C12392",
            "LUNG": "C12468",
            "LYMPH NODE": "C12745",
            "BONE": "C12366",
            "PERITONEUM": "C12770",
            "PLEURA": "C12469",
            "ADRENAL GLAND": "C12666",
            "KIDNEY": "C12415",
            "PANCREAS": "C12393",
            "SPLEEN": "C12432",
            "BRAIN": "C12439",
            "SKIN": "C12470",
            "BREAST": "C12971",
            "OVARY": "C12404",
            "STOMACH": "C12391",
            "MESENTERY": "C33103",
        },
    ),
    "UNIT": Codelist("C71620", "Unit", {"mm": "C28251"}),
    "NY": Codelist("C66742", "No Yes Response", {"Y": "C49488", "N": "C49487"}, extensible=False),
    "NEWLPROG": Codelist(
        "C96785",
        "Oncology Response Assessment Result",
        {"EQUIVOCAL": "C86071", "UNEQUIVOCAL": "C123645"},
        subset_of="RSSTRESC",
    ),
}
"""The codelists by short name (the name of the CDISC codelist's submission value where it has one).

``NEWLPROG`` is the subset of C96785 that answers the New Lesion Progression test."""

VARIABLE_CODELIST: dict[str, str] = {
    "TUTESTCD": "TUTESTCD",
    "TUTEST": "TUTEST",
    "TUSTRESC": "TUSTRESC",
    "TUMETHOD": "METHOD",
    "TULOBXFL": "NY",
    "TUEVAL": "EVAL",
    "TUEVALID": "EVALID",
    "TUACPTFL": "NY",
    "TRTESTCD": "TRTESTCD",
    "TRTEST": "TRTEST",
    "TRORRESU": "UNIT",
    "TRSTRESU": "UNIT",
    "TRMETHOD": "METHOD",
    "TRLOBXFL": "NY",
    "TREVAL": "EVAL",
    "TREVALID": "EVALID",
    "TRACPTFL": "NY",
    "RSTESTCD": "RSTESTCD",
    "RSTEST": "RSTEST",
    "RSCAT": "RSCAT",
    "RSEVAL": "EVAL",
    "RSEVALID": "EVALID",
    "RSACPTFL": "NY",
}
"""SDTMIG v3.4 variables with one CDISC codelist for all records, and that codelist (key of :data:`CODELISTS`).

The results (TRORRES/TRSTRESC, RSORRES/RSSTRESC) depend on the test: see :data:`RESULT_CODELIST`. TULOC is
not checked strictly: it is the case's site in upper case, and sites outside the ``LOC`` list (the common
RECIST sites of codelist C74456) are logged as sponsor terms."""

RESULT_CODELIST: dict[str, str | None] = {
    "LDIAM": None,
    "LPERP": None,
    "SUMDIAM": None,
    "TUMSTATE": "TRSTRESC",
    "TRGRESP": "RSSTRESC",
    "NTRGRESP": "RSSTRESC",
    "NEWLIND": "NY",
    "NEWLPROG": "NEWLPROG",
    "OVRLRESP": "RSSTRESC",
    "BESTRESP": "RSSTRESC",
}
"""The codelist of the result (--ORRES = --STRESC) of each test code recist writes; None for a length in mm."""

TEST_NAMES: dict[str, str] = {
    "TUMIDENT": "Tumor Identification",
    "TUSPLIT": "Tumor Split",
    "TUMERGE": "Tumor Merged",
    "LDIAM": "Longest Diameter",
    "LPERP": "Longest Perpendicular",
    "SUMDIAM": "Sum of Diameter",
    "TUMSTATE": "Tumor State",
    "TRGRESP": "Target Response",
    "NTRGRESP": "Non-target Response",
    "NEWLIND": "New Lesion Indicator",
    "NEWLPROG": "New Lesion Progression",
    "OVRLRESP": "Overall Response",
    "BESTRESP": "Best Overall Response",
}
"""--TESTCD to --TEST (the paired test-code and test-name codelists share each term's C-code)."""


def codelist_for(variable: str) -> Codelist | None:
    """The codelist that governs ``variable`` (an SDTM variable name) on every record, or None."""
    key = VARIABLE_CODELIST.get(variable)
    return CODELISTS[key] if key else None


def result_codelist(testcd: str) -> Codelist | None:
    """The codelist of the results of test ``testcd`` (None: a numeric result in mm, or a test recist does not write)."""
    key = RESULT_CODELIST.get(testcd)
    return CODELISTS[key] if key else None


def _refuse(variable: str, value: str, codelist: Codelist, where: str) -> ExchangeError:
    prefix = f"{where}: " if where else ""
    allowed = ", ".join(sorted(codelist.values))
    return ExchangeError(
        f"{prefix}{variable} {value!r} is not in codelist {codelist.code} ({codelist.name}, {CT_PACKAGE}) "
        f"as used by recist; expected one of: {allowed}"
    )


def check_term(variable: str, value: str, *, where: str = "") -> None:
    """Raise :class:`~recist.errors.ExchangeError` if ``value`` is outside the codelist of ``variable``.

    Values that are sponsor extensions of an extensible codelist pass (they are listed as extensions).
    Variables without a codelist accept anything.

    Parameters
    ----------
    variable
        The SDTM variable (``"TRTESTCD"``).
    value
        The value to check; an empty string (SDTM null) always passes.
    where
        Where the value came from (``"TR.csv row 12"``), for the message.
    """
    if value == "":
        return
    codelist = codelist_for(variable)
    if codelist is None or value in codelist.values:
        return
    raise _refuse(variable, value, codelist, where)


def check_result(variable: str, testcd: str, value: str, *, where: str = "") -> None:
    """Check a coded result (``variable`` is --ORRES or --STRESC) of test ``testcd`` against its codelist.

    A null result passes (a NOT DONE record); tests with numeric results (mm) accept anything here.
    """
    codelist = result_codelist(testcd)
    if value == "" or codelist is None or value in codelist.values:
        return
    raise _refuse(f"{variable} of {testcd}", value, codelist, where)


def check_state_term(value: str, *, where: str = "") -> None:
    """Check a TUMSTATE result (TRSTRESC of a TUMSTATE record) against codelist C124309."""
    check_result("TRSTRESC", "TUMSTATE", value, where=where)
