"""Define-XML v2.1 describing the SDTM datasets recist writes (TU, TR, RS and, with subjects, DM).

The document is CDISC ODM 1.3.2 with the Define-XML 2.1 extensions (namespace ``def``), built with lxml:

- ``def:Standards``: SDTMIG 3.4 and the SDTM CT package of :data:`recist.export.cdisc_ct.CT_PACKAGE_DATE`;
- one ``ItemGroupDef`` per dataset (``def:Structure``, ``def:Class``, ``def:ArchiveLocationID`` and its
  ``def:leaf`` naming the XPT file), with an ``ItemRef`` per variable in SDTMIG order (Mandatory "Yes"
  for the Required variables, the key sequence STUDYID, USUBJID, --SEQ as in Dataset-JSON);
- one ``ItemDef`` per variable: DataType (``text``, ``integer``, ``float``, ``date``), Length (the
  longest value written, which is the XPT storage width of a character variable), ``def:Origin``;
- one ``CodeList`` per CDISC codelist governing a variable, listing the terms used in the data (sponsor
  extensions flagged ``def:ExtendedValue="Yes"``; the terms recist may write when the variables are null
  throughout) with the codelist's NCI code as ``nci:ExtCodeID``;
- a ``MethodDef`` for each derivation (USUBJID, --SEQ, --LOBXFL, link groups, sums, responses, ARMCD);
- value-level metadata for the results of TR and RS, whose type, unit and codelist depend on the test: one
  ``def:ValueListDef`` per result variable (TRORRES, TRORRESU, TRSTRESC, TRSTRESN, TRSTRESU; RSORRES,
  RSSTRESC) with an ``ItemRef`` per test code written, each with a ``def:WhereClauseDef`` (``--TESTCD EQ
  code``) and its own ``ItemDef``: a length in mm (LDIAM, LPERP, SUMDIAM) is ``float`` with the UNIT
  codelist (mm) on the unit variables; a coded result (TUMSTATE, the responses, NEWLIND, NEWLPROG) is
  ``text`` with the codelist of :data:`recist.export.cdisc_ct.RESULT_CODELIST`. Mandatory is "Yes" where
  every record of the test has a value (NOT DONE records have none).

Origins (docs/exchange.md, "define.xml"): what a reader measured or recorded is ``Collected`` from the
``Investigator`` (the evaluator); what recist computes is ``Derived`` with its method; identifiers and
test names are ``Assigned`` by the ``Sponsor``; DM's subjects-table values are ``Collected`` from the
``Sponsor`` and the values given on the command line (SITEID, COUNTRY, SEX "U") ``Assigned``.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lxml import etree

from recist._atomic import atomic_write_bytes
from recist.export.cdisc_ct import (
    CODELISTS,
    CT_PACKAGE_DATE,
    SDTMIG_VERSION,
    TEST_NAMES,
    Codelist,
    codelist_for,
    result_codelist,
)
from recist.export.sdtm_spec import Variable, dataset_spec

__all__ = [
    "DEFINE_FILE",
    "ODM_NS",
    "DEF_NS",
    "VALUE_LEVEL",
    "build_define",
    "write_define",
    "data_type",
    "item_length",
]

DEFINE_FILE = "define.xml"
ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}

STRUCTURES = {
    "DM": ("One record per subject", "SPECIAL PURPOSE"),
    "TU": ("One record per identified tumor per subject per assessor", "FINDINGS"),
    "TR": ("One record per tumor measurement/assessment per visit per subject per assessor", "FINDINGS"),
    "RS": ("One record per response assessment per visit per subject per assessor", "FINDINGS"),
}
"""def:Structure and def:Class of each dataset (SDTMIG v3.4 dataset descriptions)."""

# DM's codelists (SDTM CT) beside those of TU/TR/RS: SEX (C66731, not extensible); DTHFL uses No Yes Response.
_SEX = Codelist("C66731", "Sex", {"F": "C16576", "M": "C20197", "U": "C17998", "UNDIFFERENTIATED": "C45908"},
                extensible=False)  # fmt: skip
_DM_CODELISTS = {"SEX": ("SEX", _SEX), "DTHFL": ("NY", CODELISTS["NY"])}

METHODS: dict[str, tuple[str, str]] = {
    "USUBJID": ("Algorithm for USUBJID", "STUDYID, a hyphen and the subject id (unless it starts with them)."),
    "SEQ": ("Algorithm for --SEQ", "1, 2, ... per USUBJID in the order subject, evaluator, visit, record."),
    "LOBXFL": ("Algorithm for --LOBXFL", "Y on the baseline visit's records (the scan before treatment), "
               "except TRSTAT NOT DONE records; else null."),
    "LNKGRP": ("Algorithm for --LNKGRP", "V<VISITNUM>-<EVALID without spaces>: links an evaluator's TR "
               "records of a visit to the RS records they support."),
    "TRSTRES": ("Algorithm for TRSTRESC/TRSTRESN", "TRORRES in mm (the standard unit); SUMDIAM is the sum of "
                "the target lesions' diameters (long axis, short axis of nodes) per RECIST 1.1 section 4.3.1."),
    "RSRES": ("Algorithm for RSORRES/RSSTRESC", "The RECIST 1.1 (and iRECIST) response computed by recist's "
              "rules engine from the visit's TU/TR records (RECIST 1.1 tables 1-3)."),
    "ARMCD": ("Algorithm for ARMCD/ACTARMCD", "The arm in upper case, other characters as underscores, at "
              "most 20 characters."),
}  # fmt: skip
"""MethodDef per derivation: (name, description)."""

_ASSIGNED = {"STUDYID", "DOMAIN", "VISIT", "VISITNUM", "SITEID", "COUNTRY", "SEX"}

VALUE_LEVEL: dict[str, dict[str, tuple[str, ...]]] = {
    "TR": {"coded": ("TRORRES", "TRSTRESC"), "mm": ("TRORRES", "TRORRESU", "TRSTRESC", "TRSTRESN", "TRSTRESU")},
    "RS": {"coded": ("RSORRES", "RSSTRESC"), "mm": ("RSORRES", "RSSTRESC")},
}
"""Per domain, the result variables that get value-level metadata for a coded test and for a test in mm."""


def _origin(domain: str, name: str) -> tuple[str, str, str | None]:
    """(def:Origin Type, Source, MethodDef key) of a variable."""
    short = name[2:] if name.startswith(domain) else name
    derived = {"USUBJID": "USUBJID", "SEQ": "SEQ", "LOBXFL": "LOBXFL", "LNKGRP": "LNKGRP",
               "ARMCD": "ARMCD", "ACTARMCD": "ARMCD"}  # fmt: skip
    if short in derived or name in derived:
        return "Derived", "Sponsor", derived.get(short) or derived[name]
    if domain == "TR" and short in ("STRESC", "STRESN"):
        return "Derived", "Sponsor", "TRSTRES"
    if domain == "RS" and short in ("ORRES", "STRESC"):
        return "Derived", "Sponsor", "RSRES"
    if name in _ASSIGNED or short in ("TESTCD", "TEST", "CAT", "EVAL", "EVALID", "ACPTFL"):
        return "Assigned", "Sponsor", None
    if domain == "DM":
        return "Collected", "Sponsor", None
    return "Collected", "Investigator", None


def data_type(variable: Variable) -> str:
    """Define-XML DataType of a variable: integer (--SEQ, VISITNUM, AGE), float, date (--DTC) or text."""
    if variable.numeric:
        return "integer" if variable.name.endswith("SEQ") or variable.name in ("VISITNUM", "AGE") else "float"
    return "date" if variable.name.endswith("DTC") else "text"


def item_length(variable: Variable, records: Sequence[Mapping[str, Any]]) -> tuple[int, int | None]:
    """(Length, SignificantDigits) of a variable: the longest value written (UTF-8 bytes for text).

    A character variable's Length is the XPT storage width (at least 1); a float's Length counts its
    digits and SignificantDigits its decimals; an integer's Length counts its digits.
    """
    values = [r[variable.name] for r in records if r[variable.name] not in (None, "")]
    if not variable.numeric:
        return max([1, *(len(str(v).encode("utf-8")) for v in values)]), None
    if data_type(variable) == "integer":
        return max([1, *(len(str(int(v))) for v in values)]), None
    texts = [repr(float(v)).removesuffix(".0") for v in values]
    decimals = max([0, *(len(t.partition(".")[2]) for t in texts)])
    return max([1, *(len(t.replace(".", "").lstrip("-")) for t in texts)]), decimals


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    translated = etree.SubElement(element, f"{{{ODM_NS}}}TranslatedText")
    translated.set(XML_LANG, "en")
    translated.text = text
    return element


def _odm(tag: str) -> str:
    return f"{{{ODM_NS}}}{tag}"


def _def(tag: str) -> str:
    return f"{{{DEF_NS}}}{tag}"


def _required(domain: str, name: str) -> bool:
    """SDTMIG v3.4 core "Req" among the variables recist writes."""
    if name in ("STUDYID", "DOMAIN", "USUBJID"):
        return True
    if domain == "DM":
        return name in ("SUBJID", "SITEID", "SEX", "COUNTRY")
    return name in (f"{domain}SEQ", f"{domain}TESTCD", f"{domain}TEST")


def _codelist(name: str) -> tuple[str, Codelist] | None:
    if name in _DM_CODELISTS:
        return _DM_CODELISTS[name]
    codelist = codelist_for(name)
    if codelist is None:
        return None
    key = next(k for k, v in CODELISTS.items() if v is codelist)
    return key, codelist


def build_define(
    datasets: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    study_id: str,
    leaves: Mapping[str, str],
    now: _dt.datetime | None = None,
) -> etree._ElementTree:
    """Build the define.xml tree of ``datasets`` (as written by :func:`recist.export.sdtm.write_sdtm`).

    Parameters
    ----------
    datasets
        ``{"TU": records, ...}``; DM optional.
    study_id
        STUDYID (Study OID and names).
    leaves
        The file each dataset was written to, relative to define.xml (``{"TU": "tu.xpt", ...}``).
    now
        CreationDateTime (default: the current UTC time).
    """
    created = (now or _dt.datetime.now(_dt.timezone.utc)).replace(microsecond=0, tzinfo=None)
    odm = etree.Element(_odm("ODM"), nsmap=_NSMAP)
    odm.set("FileType", "Snapshot")
    odm.set("FileOID", f"recist.{study_id}.define")
    odm.set("ODMVersion", "1.3.2")
    odm.set("CreationDateTime", created.isoformat())
    odm.set("Originator", "recist")
    odm.set(_def("Context"), "Submission")
    study = etree.SubElement(odm, _odm("Study"), OID=f"ST.{study_id}")
    glob = etree.SubElement(study, _odm("GlobalVariables"))
    for tag, text in (("StudyName", study_id), ("StudyDescription", f"Study {study_id}"),
                      ("ProtocolName", study_id)):  # fmt: skip
        etree.SubElement(glob, _odm(tag)).text = text
    mdv = etree.SubElement(study, _odm("MetaDataVersion"), OID="MDV.SDTMIG.3.4", Name=f"{study_id} SDTM")
    mdv.set("Description", f"SDTMIG {SDTMIG_VERSION} tumour response datasets written by recist")
    mdv.set(_def("DefineVersion"), "2.1.0")
    standards = etree.SubElement(mdv, _def("Standards"))
    etree.SubElement(standards, _def("Standard"), OID="STD.SDTMIG", Name="SDTMIG", Type="IG",
                     Version=SDTMIG_VERSION, Status="Final")  # fmt: skip
    etree.SubElement(standards, _def("Standard"), OID="STD.CT", Name="CDISC/NCI", Type="CT",
                     PublishingSet="SDTM", Version=CT_PACKAGE_DATE, Status="Final")  # fmt: skip

    item_defs: list[etree._Element] = []
    used_terms: dict[str, tuple[Codelist, set[str]]] = {}
    methods: list[str] = []
    value_lists: list[etree._Element] = []
    where_clauses: list[etree._Element] = []
    for domain, records in datasets.items():
        variables, label = dataset_spec(domain)
        structure, klass = STRUCTURES[domain]
        group = etree.SubElement(mdv, _odm("ItemGroupDef"), OID=f"IG.{domain}", Domain=domain, Name=domain,
                                 Repeating="No" if domain == "DM" else "Yes", IsReferenceData="No",
                                 SASDatasetName=domain, Purpose="Tabulation")  # fmt: skip
        group.set(_def("Structure"), structure)
        group.set(_def("StandardOID"), "STD.SDTMIG")
        group.set(_def("ArchiveLocationID"), f"LF.{domain}")
        _text(group, _odm("Description"), label)
        keys = {"STUDYID": 1, "USUBJID": 2, f"{domain}SEQ": 3}
        for order, variable in enumerate(variables, start=1):
            oid = f"IT.{domain}.{variable.name}"
            ref = etree.SubElement(group, _odm("ItemRef"), ItemOID=oid, OrderNumber=str(order),
                                   Mandatory="Yes" if _required(domain, variable.name) else "No")  # fmt: skip
            if variable.name in keys:
                ref.set("KeySequence", str(keys[variable.name]))
            origin, source, method = _origin(domain, variable.name)
            if method:
                ref.set("MethodOID", f"MT.{method}")
                if method not in methods:
                    methods.append(method)
            item_def = _item_def(domain, variable, records, origin, source, used_terms)
            item_defs.append(item_def)
            if domain in VALUE_LEVEL and variable.name in {n for names in VALUE_LEVEL[domain].values() for n in names}:
                value_list, vlm_items = _value_list(domain, variable, records, (origin, source, method), used_terms)
                if value_list is not None:
                    etree.SubElement(item_def, _def("ValueListRef"), ValueListOID=value_list.get("OID"))
                    value_lists.append(value_list)
                    item_defs.extend(vlm_items)
                    for ref in value_list.iterfind(_odm("ItemRef")):
                        vlm_method = (ref.get("MethodOID") or "").removeprefix("MT.")
                        if vlm_method and vlm_method not in methods:
                            methods.append(vlm_method)
        if domain in VALUE_LEVEL:
            where_clauses.extend(_where_clause(domain, testcd) for testcd in _test_codes(domain, records))
        etree.SubElement(group, _def("Class"), Name=klass)
        leaf = etree.SubElement(group, _def("leaf"), ID=f"LF.{domain}")
        leaf.set(f"{{{XLINK_NS}}}href", leaves[domain])
        etree.SubElement(leaf, _def("title")).text = leaves[domain]
    # Define-XML 2.1 order: def:Standards, def:ValueListDef*, def:WhereClauseDef*, ItemGroupDef*, ...
    anchor = standards
    for element in value_lists + where_clauses:
        anchor.addnext(element)
        anchor = element
    mdv.extend(item_defs)
    for key, (codelist, terms) in sorted(used_terms.items()):
        mdv.append(_code_list(key, codelist, terms))
    for method in methods:
        name, description = METHODS[method]
        element = etree.SubElement(mdv, _odm("MethodDef"), OID=f"MT.{method}", Name=name, Type="Computation")
        _text(element, _odm("Description"), description)
    return etree.ElementTree(odm)


def _item_def(
    domain: str,
    variable: Variable,
    records: Sequence[Mapping[str, Any]],
    origin: str,
    source: str,
    used_terms: dict[str, tuple[Codelist, set[str]]],
) -> etree._Element:
    kind = data_type(variable)
    item = etree.Element(_odm("ItemDef"), OID=f"IT.{domain}.{variable.name}", Name=variable.name, DataType=kind)
    if kind != "date":
        length, digits = item_length(variable, records)
        item.set("Length", str(length))
        if digits is not None:
            item.set("SignificantDigits", str(digits))
    item.set("SASFieldName", variable.name)
    _text(item, _odm("Description"), variable.label)
    coded = _codelist(variable.name)
    if coded is not None:
        key, codelist = coded
        values = {str(r[variable.name]) for r in records if r[variable.name] not in (None, "")}
        used_terms.setdefault(key, (codelist, set()))[1].update(values)
        etree.SubElement(item, _odm("CodeListRef"), CodeListOID=f"CL.{key}")
    element = etree.SubElement(item, _def("Origin"), Type=origin)
    element.set("Source", source)
    return item


def _test_codes(domain: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The test codes of ``records`` in the order first written."""
    return list(dict.fromkeys(str(r[f"{domain}TESTCD"]) for r in records))


def _where_clause(domain: str, testcd: str) -> etree._Element:
    """``<domain>TESTCD EQ testcd``: the records a value-level definition applies to."""
    clause = etree.Element(_def("WhereClauseDef"), OID=f"WC.{domain}.{testcd}")
    check = etree.SubElement(clause, _odm("RangeCheck"), Comparator="EQ", SoftHard="Soft")
    check.set(_def("ItemOID"), f"IT.{domain}.{domain}TESTCD")
    etree.SubElement(check, _odm("CheckValue")).text = testcd
    return clause


def _value_list(
    domain: str,
    variable: Variable,
    records: Sequence[Mapping[str, Any]],
    origin: tuple[str, str, str | None],
    used_terms: dict[str, tuple[Codelist, set[str]]],
) -> tuple[etree._Element | None, list[etree._Element]]:
    """The def:ValueListDef of a result variable (one ItemRef per test code it applies to) and its ItemDefs."""
    value_list = etree.Element(_def("ValueListDef"), OID=f"VL.{domain}.{variable.name}")
    items: list[etree._Element] = []
    for testcd in _test_codes(domain, records):
        codelist = result_codelist(testcd)
        if variable.name not in VALUE_LEVEL[domain]["coded" if codelist is not None else "mm"]:
            continue
        matching = [r for r in records if r[f"{domain}TESTCD"] == testcd]
        oid = f"IT.{domain}.{variable.name}.{testcd}"
        # recist computes the sum: derived, whatever the origin of the measurements in the same variable
        item_origin = ("Derived", "Sponsor", "TRSTRES") if testcd == "SUMDIAM" else origin
        present = all(r[variable.name] not in (None, "") for r in matching)
        ref = etree.SubElement(value_list, _odm("ItemRef"), ItemOID=oid, OrderNumber=str(len(items) + 1),
                               Mandatory="Yes" if present else "No")  # fmt: skip
        if item_origin[2]:
            ref.set("MethodOID", f"MT.{item_origin[2]}")
        etree.SubElement(ref, _def("WhereClauseRef"), WhereClauseOID=f"WC.{domain}.{testcd}")
        items.append(_value_item(oid, variable, testcd, codelist, matching, item_origin, used_terms))
    return (value_list if items else None), items


def _value_item(
    oid: str,
    variable: Variable,
    testcd: str,
    codelist: Codelist | None,
    matching: Sequence[Mapping[str, Any]],
    origin: tuple[str, str, str | None],
    used_terms: dict[str, tuple[Codelist, set[str]]],
) -> etree._Element:
    """The ItemDef of ``variable`` on the records of test ``testcd``: type, length, unit or codelist."""
    unit = variable.name.endswith("U")
    values = {str(r[variable.name]) for r in matching if r[variable.name] not in (None, "")}
    if codelist is not None or unit:
        kind, (length, digits) = "text", item_length(Variable(variable.name, variable.label), matching)
        key = next(k for k, v in CODELISTS.items() if v is codelist) if codelist is not None else "UNIT"
        description = f"{TEST_NAMES[testcd]}: " + ("unit of the length" if unit else CODELISTS[key].name)
    else:
        key, description = None, f"{TEST_NAMES[testcd]} in mm"
        texts = sorted(v for v in values if not _is_number(v))
        if texts:  # an original result standardised to a number, e.g. TOO SMALL TO MEASURE (5 mm)
            kind, (length, digits) = "text", item_length(Variable(variable.name, variable.label), matching)
            description += f", or {', '.join(texts)} (standardised in the --STRES variables)"
        else:
            kind = "float"
            length, digits = item_length(Variable(variable.name, variable.label, numeric=True), matching)
    item = etree.Element(_odm("ItemDef"), OID=oid, Name=variable.name, DataType=kind, Length=str(length))
    if digits is not None:
        item.set("SignificantDigits", str(digits))
    item.set("SASFieldName", variable.name)
    _text(item, _odm("Description"), description)
    if key is not None:
        used_terms.setdefault(key, (CODELISTS[key], set()))[1].update(values)
        etree.SubElement(item, _odm("CodeListRef"), CodeListOID=f"CL.{key}")
    element = etree.SubElement(item, _def("Origin"), Type=origin[0])
    element.set("Source", origin[1])
    return item


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _code_list(key: str, codelist: Codelist, terms: set[str]) -> etree._Element:
    name = f"{codelist.name} ({key} subset)" if codelist.subset_of else codelist.name
    element = etree.Element(_odm("CodeList"), OID=f"CL.{key}", Name=name, DataType="text")
    element.set(_def("StandardOID"), "STD.CT")
    # the terms used in the data; a codelist of variables that are null throughout lists what recist may write
    for order, term in enumerate(sorted(terms or codelist.values), start=1):
        item = etree.SubElement(element, _odm("EnumeratedItem"), CodedValue=term, OrderNumber=str(order))
        if term in codelist.terms:
            etree.SubElement(item, _odm("Alias"), Context="nci:ExtCodeID", Name=codelist.terms[term])
        else:
            item.set(_def("ExtendedValue"), "Yes")
    etree.SubElement(element, _odm("Alias"), Context="nci:ExtCodeID", Name=codelist.code)
    return element


def write_define(
    datasets: Mapping[str, Sequence[Mapping[str, Any]]],
    out_dir: str | os.PathLike[str],
    *,
    study_id: str,
    formats: Sequence[str] = ("xpt",),
    now: _dt.datetime | None = None,
) -> Path:
    """Write ``define.xml`` beside the datasets, atomically; its leaves name the XPT files (else JSON)."""
    suffix = "xpt" if "xpt" in formats else "json" if "json" in formats else "csv"
    leaves = {domain: f"{domain.lower()}.{suffix}" for domain in datasets}
    tree = build_define(datasets, study_id=study_id, leaves=leaves, now=now)
    path = Path(out_dir) / DEFINE_FILE
    atomic_write_bytes(path, etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    return path
