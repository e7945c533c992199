"""CDISC controlled terminology used by the SDTM TU/TR/RS export, kept as data with its version.

The codelist codes and the variable-to-codelist links are those of SDTMIG v3.4 with the SDTM CT package
of :data:`CT_PACKAGE_DATE`. Each :class:`Codelist` lists the submission values recist writes. Every
codelist used here is *extensible* in CDISC CT; a value that recist needs but that we could not confirm
in the published package is listed in ``extensions`` (a sponsor extension, to be declared in define.xml),
so a reviewer sees at once which values are ours. docs/exchange.md explains each choice.

:func:`check_term` is what the writer and the tests use to keep every coded value inside these lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from recist.errors import ExchangeError

__all__ = [
    "CT_PACKAGE",
    "CT_PACKAGE_DATE",
    "SDTMIG_VERSION",
    "Codelist",
    "CODELISTS",
    "VARIABLE_CODELIST",
    "TEST_NAMES",
    "check_term",
    "check_state_term",
    "codelist_for",
]

SDTMIG_VERSION = "3.4"
CT_PACKAGE_DATE = "2024-03-29"
CT_PACKAGE = f"SDTM CT {CT_PACKAGE_DATE}"


@dataclass(frozen=True)
class Codelist:
    """One CDISC codelist: its NCI code, name, and the submission values recist may write.

    Attributes
    ----------
    code
        The NCI C-code of the codelist (e.g. ``"C96784"``).
    name
        The codelist name in CDISC CT.
    terms
        Published submission values recist writes.
    extensions
        Values recist writes that are sponsor extensions of this extensible codelist.
    extensible
        Whether CDISC allows sponsors to add terms (all codelists used here are).
    """

    code: str
    name: str
    terms: tuple[str, ...]
    extensions: tuple[str, ...] = field(default=())
    extensible: bool = True

    @property
    def values(self) -> frozenset[str]:
        """Every value recist may write for this codelist (published terms and extensions)."""
        return frozenset(self.terms) | frozenset(self.extensions)


CODELISTS: dict[str, Codelist] = {
    "TUTESTCD": Codelist(
        "C96784", "Tumor or Lesion Identification Test Code", ("TUMIDENT", "TUSPLIT", "TUMERGE")
    ),
    "TUTEST": Codelist(
        "C96783",
        "Tumor or Lesion Identification Test Name",
        ("Tumor Identification", "Tumor Split", "Tumor Merged"),
    ),
    "TUSTRESC": Codelist(
        "C123650", "Tumor or Lesion Identification Test Results", ("TARGET", "NON-TARGET", "NEW")
    ),
    "TRTESTCD": Codelist(
        "C96779", "Tumor or Lesion Properties Test Code", ("LDIAM", "LPERP", "SUMDIAM", "TUMSTATE")
    ),
    "TRTEST": Codelist(
        "C96778",
        "Tumor or Lesion Properties Test Name",
        ("Longest Diameter", "Longest Perpendicular", "Sum of Diameter", "Tumor State"),
    ),
    "TRSTRESC": Codelist(
        "C124309",
        "Tumor or Lesion Properties Test Result",
        ("PRESENT", "ABSENT", "UNEQUIVOCAL PROGRESSION", "EQUIVOCAL", "UNEQUIVOCAL", "TOO SMALL TO MEASURE"),
        extensions=("SPLIT", "MERGED"),
    ),
    "RSTESTCD": Codelist(
        "C96782",
        "Oncology Response Assessment Test Code",
        ("TRGRESP", "NTRGRESP", "NEWLPROG", "OVRLRESP", "BESTRSP"),
    ),
    "RSTEST": Codelist(
        "C96781",
        "Oncology Response Assessment Test Name",
        (
            "Target Response",
            "Non-target Response",
            "New Lesion Progression",
            "Overall Response",
            "Best Overall Response",
        ),
    ),
    "RSSTRESC": Codelist(
        "C96785",
        "Oncology Response Assessment Result",
        ("CR", "PR", "SD", "PD", "NE", "NON-CR/NON-PD", "Y", "N", "EQUIVOCAL"),
        # iRECIST responses ([iR17]) as the CDISC pilot iRECIST RS example writes them (pharmaversesdtm
        # rs_onco_irecist); not confirmed here against the CT package, hence extensions.
        extensions=("iCR", "iPR", "iSD", "iUPD", "iCPD", "NON-iCR/NON-iUPD"),
    ),
    "RSCAT": Codelist(
        "C124298", "Category of Oncology Response Assessment", ("RECIST 1.1",), extensions=("iRECIST",)
    ),
    "EVAL": Codelist("C78735", "Evaluator", ("INDEPENDENT ASSESSOR", "INVESTIGATOR")),
    "EVALID": Codelist(
        "C96777", "Medical Evaluator Identifier", ("RADIOLOGIST 1", "RADIOLOGIST 2", "ADJUDICATOR 1")
    ),
    "METHOD": Codelist("C85492", "Method", ("CT SCAN", "MRI", "X-RAY"), extensions=("CALIPER",)),
    "LOC": Codelist(
        "C74456",
        "Anatomical Location",
        (
            "LIVER",
            "LUNG",
            "LYMPH NODE",
            "BONE",
            "PERITONEUM",
            "PLEURA",
            "ADRENAL GLAND",
            "KIDNEY",
            "PANCREAS",
            "SPLEEN",
            "BRAIN",
            "SKIN",
            "BREAST",
            "OVARY",
            "STOMACH",
            "MESENTERY",
        ),
    ),
    "UNIT": Codelist("C71620", "Unit", ("mm",)),
    "NY": Codelist("C66742", "No Yes Response", ("Y", "N"), extensible=False),
}
"""The codelists by short name (the name of the CDISC codelist's submission value where it has one)."""

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
    "RSSTRESC": "RSSTRESC",
    "RSEVAL": "EVAL",
    "RSEVALID": "EVALID",
    "RSACPTFL": "NY",
}
"""SDTMIG v3.4 variables with a CDISC codelist, and that codelist (key of :data:`CODELISTS`).

TRSTRESC is coded only for TUMSTATE records (numeric results carry the number as text), see
:func:`check_state_term`. TULOC is not checked strictly: it is the case's site in upper case, and sites
outside the ``LOC`` list (the common RECIST sites of codelist C74456) are logged as sponsor terms."""

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
    "NEWLPROG": "New Lesion Progression",
    "OVRLRESP": "Overall Response",
    "BESTRSP": "Best Overall Response",
}
"""--TESTCD to --TEST (the paired test-code and test-name codelists)."""


def codelist_for(variable: str) -> Codelist | None:
    """The codelist that governs ``variable`` (an SDTM variable name), or None if it has none."""
    key = VARIABLE_CODELIST.get(variable)
    return CODELISTS[key] if key else None


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
    prefix = f"{where}: " if where else ""
    allowed = ", ".join(sorted(codelist.values))
    raise ExchangeError(
        f"{prefix}{variable} {value!r} is not in codelist {codelist.code} ({codelist.name}, {CT_PACKAGE}) "
        f"as used by recist; expected one of: {allowed}"
    )


def check_state_term(value: str, *, where: str = "") -> None:
    """Check a TUMSTATE result (TRSTRESC of a TUMSTATE record) against codelist C124309."""
    if value == "" or value in CODELISTS["TRSTRESC"].values:
        return
    prefix = f"{where}: " if where else ""
    allowed = ", ".join(sorted(CODELISTS["TRSTRESC"].values))
    raise ExchangeError(
        f"{prefix}TUMSTATE result {value!r} is not in codelist C124309 ({CT_PACKAGE}); expected one of: {allowed}"
    )
