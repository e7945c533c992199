"""SDTM TU/TR/RS conformance of recist's export, checked against the published standards.

The references are written from the standards, not from what the writer prints:

- SDTMIG v3.4, section 6.3.12 (TU, TR) and 6.3.11 (RS): variable order, labels, types and core
  (Req / Exp / Perm) are in ``SDTMIG_34`` below; Req and Exp variables must be in the dataset (SDTMIG
  v3.4 section 4.1.5), Req variables are never null.
- CDISC SDTM CT: test codes and names (TRTEST of SUMDIAM is "Sum of Diameter", singular, as in CT and in
  the SDTMIG v3.4 TR examples), response values per test as in the SDTMIG v3.4 RS examples.
- SAS XPORT version 5 (the FDA transport format): names <= 8, labels <= 40, character values <= 200 bytes.
- CDISC Dataset-JSON v1.1 (2024-12-05): top-level attribute names and their order, required attributes,
  column attributes, data types and the JSON type of each value.

The exports checked are those of every sample case (sample_data/cases), of the sample patient
(sample_data/patient/case.json) and of the hand-written case with every construct read by two independent
radiologists.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Any

import pyreadstat
import pytest

import recist
from recist.export.sdtm import DOMAINS, SdtmRead, build_sdtm, write_sdtm

sys.path.insert(0, str(Path(__file__).parents[1] / "io"))
from exchange_cases import example_case_dict  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CASES = sorted((REPO / "sample_data" / "cases").glob("*.json"))
SAMPLE_PATIENT = REPO / "sample_data" / "patient" / "case.json"
NOW = dt.datetime(2025, 1, 2, 3, 4, 5)

# SDTMIG v3.4 domain specifications: (name, label, type, core) in IG order. TAETORD/EPOCH/--DY and the
# other timing variables recist cannot fill (no DM/TA/TV) are Perm and listed so the order is complete.
# TRLNKGRP: labelled "Link Group" in the SDTMIG v3.4 TR specification (issue 16 §3; the pharmaverse
# TR specification says the same), unlike TULNKGRP and RSLNKGRP ("Link Group ID"). TRLOBXFL is Exp in the metadata extract and
# Perm in the PDF table; recist writes it either way.
SDTMIG_34: dict[str, list[tuple[str, str, str, str]]] = {
    "TU": [
        ("STUDYID", "Study Identifier", "Char", "Req"),
        ("DOMAIN", "Domain Abbreviation", "Char", "Req"),
        ("USUBJID", "Unique Subject Identifier", "Char", "Req"),
        ("TUSEQ", "Sequence Number", "Num", "Req"),
        ("TUGRPID", "Group ID", "Char", "Perm"),
        ("TUREFID", "Reference ID", "Char", "Perm"),
        ("TUSPID", "Sponsor-Defined Identifier", "Char", "Perm"),
        ("TULNKID", "Link ID", "Char", "Exp"),
        ("TULNKGRP", "Link Group ID", "Char", "Perm"),
        ("TUTESTCD", "Tumor/Lesion ID Short Name", "Char", "Req"),
        ("TUTEST", "Tumor/Lesion ID Test Name", "Char", "Req"),
        ("TUORRES", "Tumor/Lesion ID Result", "Char", "Exp"),
        ("TUSTRESC", "Tumor/Lesion ID Result Std. Format", "Char", "Exp"),
        ("TUNAM", "Laboratory/Vendor Name", "Char", "Perm"),
        ("TULOC", "Location of the Tumor/Lesion", "Char", "Exp"),
        ("TULAT", "Laterality", "Char", "Perm"),
        ("TUDIR", "Directionality", "Char", "Perm"),
        ("TUPORTOT", "Portion or Totality", "Char", "Perm"),
        ("TUMETHOD", "Method of Identification", "Char", "Exp"),
        ("TULOBXFL", "Last Observation Before Exposure Flag", "Char", "Exp"),
        ("TUBLFL", "Baseline Flag", "Char", "Perm"),
        ("TUEVAL", "Evaluator", "Char", "Exp"),
        ("TUEVALID", "Evaluator Identifier", "Char", "Perm"),
        ("TUACPTFL", "Accepted Record Flag", "Char", "Perm"),
        ("VISITNUM", "Visit Number", "Num", "Exp"),
        ("VISIT", "Visit Name", "Char", "Perm"),
        ("VISITDY", "Planned Study Day of Visit", "Num", "Perm"),
        ("TAETORD", "Planned Order of Element within Arm", "Num", "Perm"),
        ("EPOCH", "Epoch", "Char", "Perm"),
        ("TUDTC", "Date/Time of Tumor/Lesion Identification", "Char", "Exp"),
        ("TUDY", "Study Day of Tumor/Lesion Identification", "Num", "Perm"),
    ],
    "TR": [
        ("STUDYID", "Study Identifier", "Char", "Req"),
        ("DOMAIN", "Domain Abbreviation", "Char", "Req"),
        ("USUBJID", "Unique Subject Identifier", "Char", "Req"),
        ("TRSEQ", "Sequence Number", "Num", "Req"),
        ("TRGRPID", "Group ID", "Char", "Perm"),
        ("TRREFID", "Reference ID", "Char", "Perm"),
        ("TRSPID", "Sponsor-Defined Identifier", "Char", "Perm"),
        ("TRLNKID", "Link ID", "Char", "Exp"),
        ("TRLNKGRP", "Link Group", "Char", "Perm"),
        ("TRTESTCD", "Tumor/Lesion Assessment Short Name", "Char", "Req"),
        ("TRTEST", "Tumor/Lesion Assessment Test Name", "Char", "Req"),
        ("TRORRES", "Result or Finding in Original Units", "Char", "Exp"),
        ("TRORRESU", "Original Units", "Char", "Exp"),
        ("TRSTRESC", "Character Result/Finding in Std Format", "Char", "Exp"),
        ("TRSTRESN", "Numeric Result/Finding in Standard Units", "Num", "Exp"),
        ("TRSTRESU", "Standard Units", "Char", "Exp"),
        ("TRSTAT", "Completion Status", "Char", "Perm"),
        ("TRREASND", "Reason Not Done", "Char", "Perm"),
        ("TRNAM", "Laboratory/Vendor Name", "Char", "Perm"),
        ("TRMETHOD", "Method Used to Identify the Tumor/Lesion", "Char", "Exp"),
        ("TRLOBXFL", "Last Observation Before Exposure Flag", "Char", "Exp"),
        ("TRBLFL", "Baseline Flag", "Char", "Perm"),
        ("TREVAL", "Evaluator", "Char", "Exp"),
        ("TREVALID", "Evaluator Identifier", "Char", "Perm"),
        ("TRACPTFL", "Accepted Record Flag", "Char", "Perm"),
        ("VISITNUM", "Visit Number", "Num", "Exp"),
        ("VISIT", "Visit Name", "Char", "Perm"),
        ("VISITDY", "Planned Study Day of Visit", "Num", "Perm"),
        ("TAETORD", "Planned Order of Element within Arm", "Num", "Perm"),
        ("EPOCH", "Epoch", "Char", "Perm"),
        ("TRDTC", "Date/Time of Tumor/Lesion Measurement", "Char", "Exp"),
        ("TRDY", "Study Day of Tumor/Lesion Measurement", "Num", "Perm"),
    ],
    "RS": [
        ("STUDYID", "Study Identifier", "Char", "Req"),
        ("DOMAIN", "Domain Abbreviation", "Char", "Req"),
        ("USUBJID", "Unique Subject Identifier", "Char", "Req"),
        ("RSSEQ", "Sequence Number", "Num", "Req"),
        ("RSGRPID", "Group ID", "Char", "Perm"),
        ("RSREFID", "Reference ID", "Char", "Perm"),
        ("RSSPID", "Sponsor-Defined Identifier", "Char", "Perm"),
        ("RSLNKID", "Link ID", "Char", "Perm"),
        ("RSLNKGRP", "Link Group ID", "Char", "Perm"),
        ("RSTESTCD", "Assessment Short Name", "Char", "Req"),
        ("RSTEST", "Assessment Name", "Char", "Req"),
        ("RSCAT", "Category for Assessment", "Char", "Exp"),
        ("RSSCAT", "Subcategory", "Char", "Perm"),
        ("RSORRES", "Result or Finding in Original Units", "Char", "Exp"),
        ("RSORRESU", "Original Units", "Char", "Perm"),
        ("RSSTRESC", "Character Result/Finding in Std Format", "Char", "Exp"),
        ("RSSTRESN", "Numeric Result/Finding in Standard Units", "Num", "Perm"),
        ("RSSTRESU", "Standard Units", "Char", "Perm"),
        ("RSSTAT", "Completion Status", "Char", "Perm"),
        ("RSREASND", "Reason Not Done", "Char", "Perm"),
        ("RSNAM", "Vendor Name", "Char", "Perm"),
        ("RSMETHOD", "Method of Test or Examination", "Char", "Perm"),
        ("RSLOBXFL", "Last Observation Before Exposure Flag", "Char", "Perm"),
        ("RSBLFL", "Baseline Flag", "Char", "Perm"),
        ("RSDRVFL", "Derived Flag", "Char", "Perm"),
        ("RSEVAL", "Evaluator", "Char", "Perm"),
        ("RSEVALID", "Evaluator Identifier", "Char", "Perm"),
        ("RSACPTFL", "Accepted Record Flag", "Char", "Perm"),
        ("VISITNUM", "Visit Number", "Num", "Exp"),
        ("VISIT", "Visit Name", "Char", "Perm"),
        ("VISITDY", "Planned Study Day of Visit", "Num", "Perm"),
        ("TAETORD", "Planned Order of Element within Arm", "Num", "Perm"),
        ("EPOCH", "Epoch", "Char", "Perm"),
        ("RSDTC", "Date/Time of Assessment", "Char", "Exp"),
        ("RSDY", "Study Day of Assessment", "Num", "Perm"),
    ],
}

# CDISC CT test codes -> test names recist may write (TRTEST codelist C96778 etc.).
TEST_NAMES = {
    "TU": {"TUMIDENT": "Tumor Identification", "TUSPLIT": "Tumor Split", "TUMERGE": "Tumor Merged"},
    "TR": {
        "LDIAM": "Longest Diameter",
        "LPERP": "Longest Perpendicular",
        "SUMDIAM": "Sum of Diameter",
        "TUMSTATE": "Tumor State",
    },
    "RS": {
        "TRGRESP": "Target Response",
        "NTRGRESP": "Non-target Response",
        "NEWLIND": "New Lesion Indicator",
        "NEWLPROG": "New Lesion Progression",
        "OVRLRESP": "Overall Response",
        "BESTRESP": "Best Overall Response",
    },
}
# RECIST 1.1 [E09] Tables 1-3 outcomes per RS test, as submission values of codelist C96785; new lesions as
# NEWLIND "New Lesion Indicator" (C142362, "whether new lesions are present": No Yes Response C66742) and
# NEWLPROG "New Lesion Progression" (C103420, "the equivocality of disease progression based on a newly
# identified lesion"), whose results in the SDTMIG v3.4 RS example 2 are EQUIVOCAL and UNEQUIVOCAL.
RESPONSES = {
    "TRGRESP": {"CR", "PR", "SD", "PD", "NE"},
    "NTRGRESP": {"CR", "NON-CR/NON-PD", "PD", "NE"},
    "NEWLIND": {"Y", "N"},
    "NEWLPROG": {"EQUIVOCAL", "UNEQUIVOCAL"},
    "OVRLRESP": {"CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"},
    "BESTRESP": {"CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"},
}
# TUMSTATE results: C124309 terms PRESENT, ABSENT, EQUIVOCAL, UNEQUIVOCAL, TUMOR MERGED and recist's sponsor
# extensions UNEQUIVOCAL PROGRESSION, SPLIT (docs/exchange.md). A target too small to measure is its
# diameter's TRORRES "TOO SMALL TO MEASURE" standardised to 5 mm (SDTMIG v3.4 TR assumption 4 and example).
TUMOR_STATES = {"PRESENT", "ABSENT", "UNEQUIVOCAL PROGRESSION", "EQUIVOCAL", "UNEQUIVOCAL", "SPLIT",
                "TUMOR MERGED"}  # fmt: skip
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
TESTCD = re.compile(r"^[A-Z_][A-Z0-9_]{0,7}$")


def _reads(path: Path) -> list[SdtmRead]:
    case = recist.read_case(path)
    return [SdtmRead(case, recist.assess(case), None, None, "INVESTIGATOR")]


def _two_radiologists() -> list[SdtmRead]:
    case = recist.parse_case(example_case_dict())
    assessment = recist.assess(case)
    return [
        SdtmRead(case, assessment, "RADIOLOGIST 1", True),
        SdtmRead(case, assessment, "RADIOLOGIST 2", False),
    ]


SOURCES = {p.stem: (lambda p=p: _reads(p)) for p in SAMPLE_CASES}
SOURCES["patient"] = lambda: _reads(SAMPLE_PATIENT)
SOURCES["example-two-readers"] = _two_radiologists


@pytest.fixture(scope="module", params=sorted(SOURCES))
def export(request, tmp_path_factory):
    reads = SOURCES[request.param]()
    datasets = build_sdtm(reads, study_id="NETTRIAL")
    folder = tmp_path_factory.mktemp(request.param)
    write_sdtm(datasets, folder, study_id="NETTRIAL", now=NOW)
    return datasets, folder


def test_sample_data_is_present():
    assert len(SAMPLE_CASES) >= 7 and SAMPLE_PATIENT.is_file()


# ---------------------------------------------------------------------------------------------------
# Dataset structure (SDTMIG v3.4)


@pytest.mark.parametrize("domain", ["TU", "TR", "RS"])
def test_variables_follow_sdtmig_order_labels_and_types(domain):
    spec = {name: (k, label, kind) for k, (name, label, kind, _) in enumerate(SDTMIG_34[domain])}
    positions = []
    for v in DOMAINS[domain]:
        assert v.name in spec, f"{domain}.{v.name} is not an SDTMIG v3.4 {domain} variable"
        position, label, kind = spec[v.name]
        assert v.label == label, f"{domain}.{v.name} label {v.label!r}, SDTMIG v3.4 says {label!r}"
        assert v.numeric == (kind == "Num"), f"{domain}.{v.name} type"
        positions.append(position)
    assert positions == sorted(positions), f"{domain} variables are not in SDTMIG v3.4 order"


@pytest.mark.parametrize("domain", ["TU", "TR", "RS"])
def test_required_and_expected_variables_are_present(domain):
    names = {v.name for v in DOMAINS[domain]}
    missing = [name for name, _, _, core in SDTMIG_34[domain] if core in ("Req", "Exp") and name not in names]
    assert not missing, f"{domain} lacks SDTMIG v3.4 Req/Exp variable(s) {missing}"


def test_required_values_are_never_null(export):
    datasets, _ = export
    for domain, records in datasets.items():
        required = [name for name, _, _, core in SDTMIG_34[domain] if core == "Req"]
        for record in records:
            assert all(record[name] not in ("", None) for name in required), (domain, record)
            assert record["DOMAIN"] == domain and record["STUDYID"] == "NETTRIAL"


def test_sequence_numbers_are_unique_integers_per_subject(export):
    datasets, _ = export
    for domain, records in datasets.items():
        keys = [(r["USUBJID"], r[f"{domain}SEQ"]) for r in records]
        assert len(set(keys)) == len(keys), f"{domain}SEQ repeats within a subject"
        assert all(isinstance(seq, int) and seq >= 1 for _, seq in keys)


def test_test_codes_and_names_are_controlled_terms(export):
    datasets, _ = export
    for domain, records in datasets.items():
        for r in records:
            code, name = r[f"{domain}TESTCD"], r[f"{domain}TEST"]
            assert TESTCD.match(code), f"{domain}TESTCD {code!r} breaks the SDTMIG naming rules"
            assert len(name) <= 40
            assert TEST_NAMES[domain].get(code) == name, (domain, code, name)


def test_dates_are_iso_8601_and_real(export):
    datasets, _ = export
    for domain, records in datasets.items():
        for r in records:
            value = r[f"{domain}DTC"]
            if value == "":
                assert domain == "RS" and r["RSTESTCD"] == "BESTRESP"
                continue
            assert ISO_DATE.match(value), (domain, value)
            dt.date.fromisoformat(value[:10])


def test_visits_are_numbered_consistently(export):
    datasets, _ = export
    visits: dict[tuple[str, int], set[str]] = {}
    for records in datasets.values():
        for r in records:
            if r["VISITNUM"] is not None:
                assert isinstance(r["VISITNUM"], int) and r["VISITNUM"] >= 1
                visits.setdefault((r["USUBJID"], r["VISITNUM"]), set()).add(r["VISIT"])
    assert all(len(names) == 1 for names in visits.values()), visits


def test_tu_identifies_each_lesion_once_per_evaluator(export):
    """SDTMIG v3.4 TU assumption 1: one identification record per lesion per assessor per evaluator."""
    datasets, _ = export
    seen = set()
    for r in datasets["TU"]:
        key = (r["USUBJID"], r["TUEVAL"], r["TUEVALID"], r["TULNKID"], r["TUTESTCD"])
        assert key not in seen, f"lesion identified twice: {key}"
        seen.add(key)
        assert r["TULNKID"] and r["TULOC"] == r["TULOC"].upper() and r["TULOC"]
        assert r["TUORRES"] == r["TUSTRESC"] and r["TUSTRESC"] in {"TARGET", "NON-TARGET", "NEW"}
        if r["TUTESTCD"] != "TUMIDENT":
            assert r["TUSTRESC"] == "TARGET"


def test_tr_links_to_tu_and_rs(export):
    datasets, _ = export
    identified = {(r["USUBJID"], r["TUEVALID"], r["TULNKID"]) for r in datasets["TU"]}
    response_groups = {(r["USUBJID"], r["RSLNKGRP"]) for r in datasets["RS"] if r["RSLNKGRP"]}
    groups = set()
    for r in datasets["TR"]:
        if r["TRTESTCD"] == "SUMDIAM":
            assert r["TRLNKID"] == ""
        else:
            assert (r["USUBJID"], r["TREVALID"], r["TRLNKID"]) in identified, r
        groups.add((r["USUBJID"], r["TRLNKGRP"]))
    assert response_groups <= groups, "an RS record links to no TR records"


def test_tr_results_units_and_not_done(export):
    datasets, _ = export
    for r in datasets["TR"]:
        if r["TRSTAT"]:
            assert r["TRSTAT"] == "NOT DONE" and r["TRREASND"]
            assert r["TRORRES"] == r["TRSTRESC"] == "" and r["TRSTRESN"] is None
        elif r["TRTESTCD"] == "TUMSTATE":
            assert r["TRORRES"] == r["TRSTRESC"] and r["TRSTRESC"] in TUMOR_STATES
            assert r["TRORRESU"] == r["TRSTRESU"] == "" and r["TRSTRESN"] is None
        else:
            assert r["TRORRESU"] == r["TRSTRESU"] == "mm"
            assert isinstance(r["TRSTRESN"], float) and float(r["TRSTRESC"]) == r["TRSTRESN"] >= 0
            if r["TRORRES"] == "TOO SMALL TO MEASURE":
                assert r["TRSTRESN"] == 5.0  # RECIST 1.1 [E09] 4.3.2: the default value of 5 mm
            else:
                assert float(r["TRORRES"]) == r["TRSTRESN"]
            assert r["TRREASND"] == ""


def test_last_observation_before_exposure_flags_the_baseline_only(export):
    datasets, _ = export
    for domain in ("TU", "TR"):
        for r in datasets[domain]:
            flag = r[f"{domain}LOBXFL"]
            assert flag in ("Y", "")
            assert (flag == "Y") == (r["VISITNUM"] == 1 and not r.get("TRSTAT")), (domain, r)


I_RESPONSES = {"iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE"}
"""iRECIST overall responses ([iR17] Table 2) and iBOR: RS records with RSCAT "iRECIST"."""


def test_responses_are_recist_outcomes(export):
    datasets, _ = export
    for r in datasets["RS"]:
        assert r["RSCAT"] in ("RECIST 1.1", "iRECIST")
        if r["RSCAT"] == "iRECIST":
            assert r["RSTESTCD"] in ("OVRLRESP", "BESTRESP") and r["RSORRES"] == r["RSSTRESC"] in I_RESPONSES, r
        else:
            assert r["RSORRES"] == r["RSSTRESC"] in RESPONSES[r["RSTESTCD"]], r
        assert (r["VISITNUM"] is None) == (r["RSTESTCD"] == "BESTRESP")


def test_new_lesion_progression_only_with_new_lesions(export):
    """NEWLIND at every follow-up; NEWLPROG (equivocal or not) only where NEWLIND says new lesions are present."""
    datasets, _ = export
    visits: dict[tuple[str, str, int], dict[str, str]] = {}
    for r in datasets["RS"]:
        if r["RSCAT"] == "RECIST 1.1" and r["VISITNUM"] is not None:
            visits.setdefault((r["USUBJID"], r["RSEVALID"], r["VISITNUM"]), {})[r["RSTESTCD"]] = r["RSSTRESC"]
    for key, tests in visits.items():
        assert "NEWLIND" in tests, key
        assert ("NEWLPROG" in tests) == (tests["NEWLIND"] == "Y"), (key, tests)
        if tests.get("NEWLPROG") == "UNEQUIVOCAL":
            assert tests["OVRLRESP"] == "PD", (key, tests)  # RECIST 1.1 [E09] 4.3.2: a new lesion is PD


def test_evaluator_columns(export):
    datasets, _ = export
    for domain, records in datasets.items():
        evaluators = {r[f"{domain}EVAL"] for r in records}
        assert "" not in evaluators and evaluators <= {"INVESTIGATOR", "INDEPENDENT ASSESSOR"}
        for r in records:
            if r[f"{domain}EVAL"] == "INVESTIGATOR":
                assert r[f"{domain}EVALID"] == "" and r[f"{domain}ACPTFL"] == ""
            else:
                assert r[f"{domain}EVALID"] in {"RADIOLOGIST 1", "RADIOLOGIST 2"}
                assert r[f"{domain}ACPTFL"] in {"Y", "N"}


# ---------------------------------------------------------------------------------------------------
# SAS XPORT version 5


def test_xpt_is_version_5_within_its_limits(export):
    datasets, folder = export
    for domain in datasets:
        path = folder / f"{domain.lower()}.xpt"
        head = path.read_bytes()[:80].decode("ascii")
        assert head.startswith("HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"), "not an XPORT v5 library"
        frame, meta = pyreadstat.read_xport(str(path))
        assert meta.table_name == domain and len(meta.file_label) <= 40
        assert meta.column_names == [v.name for v in DOMAINS[domain]]
        assert meta.column_names_to_labels == {v.name: v.label for v in DOMAINS[domain]}
        assert all(len(name) <= 8 and name == name.upper() for name in meta.column_names)
        assert all(len(label) <= 40 for label in meta.column_labels)
        for v in DOMAINS[domain]:
            width = meta.variable_storage_width[v.name]
            if v.numeric:
                assert meta.readstat_variable_types[v.name] == "double" and width == 8
            else:
                assert meta.readstat_variable_types[v.name] == "string" and 1 <= width <= 200
        assert len(frame) == len(datasets[domain])


# ---------------------------------------------------------------------------------------------------
# CDISC Dataset-JSON v1.1

TOP_LEVEL = ["datasetJSONCreationDateTime", "datasetJSONVersion", "fileOID", "dbLastModifiedDateTime",
             "originator", "sourceSystem", "studyOID", "metaDataVersionOID", "metaDataRef", "itemGroupOID",
             "records", "name", "label", "columns", "rows"]  # fmt: skip
TOP_REQUIRED = {"datasetJSONCreationDateTime", "datasetJSONVersion", "itemGroupOID", "records", "name",
                "label", "columns"}  # fmt: skip
COLUMN_KEYS = [
    "itemOID",
    "name",
    "label",
    "dataType",
    "targetDataType",
    "length",
    "displayFormat",
    "keySequence",
]
DATA_TYPES = {"string", "integer", "decimal", "float", "double", "boolean", "datetime", "date", "time", "URI"}
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(([+-]\d{2}:\d{2})|Z)?$")


def _in_order(keys: list[str], order: list[str]) -> bool:
    return all(k in order for k in keys) and [order.index(k) for k in keys] == sorted(
        order.index(k) for k in keys
    )


def test_dataset_json_follows_v1_1(export):
    datasets, folder = export
    for domain in datasets:
        doc: dict[str, Any] = json.loads((folder / f"{domain.lower()}.json").read_text(encoding="utf-8"))
        keys = list(doc)
        assert _in_order(keys, TOP_LEVEL), f"top-level attributes {keys} are not the v1.1 ones in v1.1 order"
        assert TOP_REQUIRED <= set(keys)
        assert re.match(r"^1\.1(\.(0|[1-9][0-9]*))?$", doc["datasetJSONVersion"])
        assert DATETIME.match(doc["datasetJSONCreationDateTime"])
        assert set(doc["sourceSystem"]) == {"name", "version"}
        assert all(
            isinstance(doc[k], str) and doc[k] for k in ("fileOID", "studyOID", "itemGroupOID", "name")
        )
        assert doc["name"] == domain and doc["itemGroupOID"] == f"IG.{domain}"
        assert doc["records"] == len(doc["rows"]) == len(datasets[domain])
        columns = doc["columns"]
        assert [c["name"] for c in columns] == [v.name for v in DOMAINS[domain]]
        assert len({c["itemOID"] for c in columns}) == len(columns)
        keyseq = [c["keySequence"] for c in columns if "keySequence" in c]
        assert sorted(keyseq) == list(range(1, len(keyseq) + 1))
        for c in columns:
            assert _in_order(list(c), COLUMN_KEYS) and {"itemOID", "name", "label", "dataType"} <= set(c)
            assert c["dataType"] in DATA_TYPES
            assert "length" not in c or (isinstance(c["length"], int) and c["length"] >= 1)
        for row in doc["rows"]:
            assert len(row) == len(columns)
            for c, value in zip(columns, row):
                if value is None:
                    continue
                kind = c["dataType"]
                if kind == "integer":
                    assert isinstance(value, int) and not isinstance(value, bool)
                elif kind in ("float", "double"):
                    assert isinstance(value, (int, float)) and not isinstance(value, bool)
                else:
                    assert isinstance(value, str), (c["name"], value)
                    assert len(value) <= c.get("length", 200)
                    if kind == "date":
                        assert ISO_DATE.match(value)


def test_not_done_baseline_record_is_not_the_last_observation():
    """--LOBXFL flags the last *non-missing* value before exposure (SDTMIG v3.4 TR, TRLOBXFL)."""
    data = example_case_dict()
    data["timepoints"][0]["non_targets"]["NT1"] = "not_evaluated"
    case = recist.parse_case(data)
    datasets = build_sdtm([SdtmRead(case, recist.assess(case), None, None, "INVESTIGATOR")], study_id="S")
    baseline = [r for r in datasets["TR"] if r["VISITNUM"] == 1]
    not_done = [r for r in baseline if r["TRSTAT"] == "NOT DONE"]
    assert [r["TRLNKID"] for r in not_done] == ["NT1"]
    assert [r["TRLOBXFL"] for r in not_done] == [""]
    assert all(r["TRLOBXFL"] == "Y" for r in baseline if not r["TRSTAT"])
