"""SDTM TU/TR/RS export: structure, controlled terms, the three file formats, and errors."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pyreadstat
import pytest

import recist
from recist.errors import ExchangeError
from recist.export import cdisc_ct
from recist.export.sdtm import DOMAINS, SdtmRead, build_sdtm, format_mm, write_sdtm

sys.path.insert(0, str(Path(__file__).parents[1] / "io"))
from exchange_cases import example_case_dict  # noqa: E402

NOW = dt.datetime(2025, 1, 2, 3, 4, 5)


@pytest.fixture(scope="module")
def example():
    case = recist.parse_case(example_case_dict())
    return case, recist.assess(case)


@pytest.fixture(scope="module")
def datasets(example):
    case, assessment = example
    return build_sdtm([SdtmRead(case, assessment)], study_id="STUDY1")


def _records(datasets, domain, **where):
    return [r for r in datasets[domain] if all(r[k] == v for k, v in where.items())]


def test_variable_order_and_labels_follow_sdtmig(datasets):
    assert [v.name for v in DOMAINS["TU"]][:4] == ["STUDYID", "DOMAIN", "USUBJID", "TUSEQ"]
    for domain, variables in DOMAINS.items():
        names = [v.name for v in variables]
        assert names.index("VISITNUM") < names.index("VISIT") < names.index(f"{domain}DTC") == len(names) - 1
        assert all(len(v.label) <= 40 and len(v.name) <= 8 for v in variables)
        assert all(list(record) == names for record in datasets[domain])


def test_every_coded_value_is_in_its_codelist(datasets):
    checked = 0
    for domain, records in datasets.items():
        for record in records:
            for name, value in record.items():
                codelist = cdisc_ct.codelist_for(name)
                if codelist is not None and value:
                    assert value in codelist.values, (domain, name, value)
                    checked += 1
            if domain == "TR" and record["TRTESTCD"] == "TUMSTATE" and record["TRSTRESC"]:
                assert record["TRSTRESC"] in cdisc_ct.CODELISTS["TRSTRESC"].values
            testcd = record.get(f"{domain}TESTCD")
            assert cdisc_ct.TEST_NAMES[testcd] == record[f"{domain}TEST"]
    assert checked > 100


def test_codelists_carry_the_ct_version():
    assert cdisc_ct.CT_PACKAGE_DATE == "2024-03-29"
    assert cdisc_ct.CODELISTS["TRTESTCD"].code == "C96779"
    assert cdisc_ct.CODELISTS["TUTESTCD"].code == "C96784"
    assert cdisc_ct.CODELISTS["RSTESTCD"].code == "C96782"
    # NCI C-codes of the terms (CDISC SDTM CT): the test codes and the results they take
    rstestcd = cdisc_ct.CODELISTS["RSTESTCD"].terms
    assert (rstestcd["NEWLPROG"], rstestcd["NEWLIND"], rstestcd["BESTRESP"]) == ("C103420", "C142362", "C94536")
    results = cdisc_ct.CODELISTS["RSSTRESC"].terms
    assert (results["EQUIVOCAL"], results["UNEQUIVOCAL"], results["NON-CR/NON-PD"]) == ("C86071", "C123645", "C96700")
    assert cdisc_ct.result_codelist("NEWLPROG").values == {"EQUIVOCAL", "UNEQUIVOCAL"}
    assert cdisc_ct.result_codelist("NEWLIND").code == "C66742"
    assert "Y" not in cdisc_ct.CODELISTS["RSSTRESC"].values  # Y/N are No Yes Response terms, not C96785
    assert cdisc_ct.CODELISTS["TRSTRESC"].terms["TUMOR MERGED"] == "C94525"
    # too small to measure is the diameter's original result in the SDTMIG v3.4 TR example, not a state
    assert "TOO SMALL TO MEASURE" not in cdisc_ct.CODELISTS["TRSTRESC"].values
    with pytest.raises(ExchangeError, match="C96785"):
        cdisc_ct.check_result("RSSTRESC", "NEWLPROG", "Y", where="RS row 4")
    with pytest.raises(ExchangeError, match="C96779"):
        cdisc_ct.check_term("TRTESTCD", "DIAMETER", where="TR row 3")


def test_tu_identifies_each_lesion_once_per_evaluator(datasets):
    tu = datasets["TU"]
    ident = _records(datasets, "TU", TUTESTCD="TUMIDENT")
    assert [(r["TULNKID"], r["TUSTRESC"], r["VISITNUM"]) for r in ident] == [
        ("T1", "TARGET", 1), ("T2", "TARGET", 1), ("T3", "TARGET", 1), ("T4", "TARGET", 1),
        ("NT1", "NON-TARGET", 1), ("NT2", "NON-TARGET", 1), ("N1", "NEW", 2), ("N2", "NEW", 3),
    ]  # fmt: skip
    assert _records(datasets, "TU", TULNKID="T2")[0]["TULOC"] == "MESENTERIC LYMPH NODE"
    assert _records(datasets, "TU", TULNKID="T4")[0]["TUMETHOD"] == "MRI"
    assert {r["TUEVAL"] for r in tu} == {"INDEPENDENT ASSESSOR"} and {r["TUEVALID"] for r in tu} == {
        "RADIOLOGIST 1"
    }
    assert [r["TUSEQ"] for r in tu] == list(range(1, len(tu) + 1))
    assert {r["TUDTC"] for r in ident if r["VISITNUM"] == 1} == {"2024-01-10"}
    split = _records(datasets, "TU", TUTESTCD="TUSPLIT")
    assert [(r["TULNKID"], r["VISITNUM"]) for r in split] == [("T3.1", 2), ("T3.2", 2)]
    merge = _records(datasets, "TU", TUTESTCD="TUMERGE")
    assert [(r["TULNKID"], r["TUGRPID"], r["VISITNUM"]) for r in merge] == [("T4", "T3", 3)]


def test_tr_diameters_states_and_sums(datasets, example):
    _, assessment = example
    t2 = {(r["VISITNUM"], r["TRTESTCD"]): r["TRSTRESC"] for r in _records(datasets, "TR", TRLNKID="T2")}
    assert t2 == {
        (1, "LPERP"): "18",
        (1, "LDIAM"): "25",
        (2, "LPERP"): "5",
        (3, "LPERP"): "7",
    }
    # SDTMIG v3.4 TR assumption 4 and example: TRORRES "TOO SMALL TO MEASURE" standardised to 5 mm
    # (RECIST 1.1 [E09] 4.3.2 default value), on the node's short-axis test
    small = _records(datasets, "TR", TRLNKID="T2", VISITNUM=2)[0]
    assert (small["TRORRES"], small["TRORRESU"], small["TRSTRESN"], small["TRSTRESU"]) == (
        "TOO SMALL TO MEASURE", "mm", 5.0, "mm")  # fmt: skip
    t1 = _records(datasets, "TR", TRLNKID="T1", VISITNUM=1)[0]
    assert (t1["TRORRES"], t1["TRORRESU"], t1["TRSTRESN"], t1["TRSTRESU"]) == ("32.5", "mm", 32.5, "mm")
    assert t1["TRLOBXFL"] == "Y" and t1["TRLNKGRP"] == "V1-RADIOLOGIST1"
    assert _records(datasets, "TR", TRLNKID="T1", VISITNUM=3)[0]["TRSTRESC"] == "ABSENT"
    not_done = _records(datasets, "TR", TRLNKID="T4", VISITNUM=2)[0]
    assert (not_done["TRTESTCD"], not_done["TRSTAT"], not_done["TRORRES"]) == ("LDIAM", "NOT DONE", "")
    fragments = _records(datasets, "TR", VISITNUM=2, TRTESTCD="LDIAM")
    assert {r["TRLNKID"]: r["TRSTRESN"] for r in fragments if r["TRLNKID"].startswith("T3.")} == {
        "T3.1": 8.0,
        "T3.2": 6.5,
    }
    merged = _records(datasets, "TR", TRLNKID="T4", VISITNUM=3)[0]
    # C124309's term for a tumour that coalesced into another is "TUMOR MERGED" (C94525)
    assert (merged["TRSTRESC"], merged["TRGRPID"]) == ("TUMOR MERGED", "T3")
    nt = {
        (r["TRLNKID"], r["VISITNUM"]): (r["TRSTRESC"], r["TRSTAT"])
        for r in _records(datasets, "TR", TRTESTCD="TUMSTATE")
    }
    assert nt[("NT1", 3)] == ("UNEQUIVOCAL PROGRESSION", "")
    assert nt[("NT2", 2)] == ("", "NOT DONE")
    assert nt[("N1", 2)] == ("EQUIVOCAL", "") and nt[("N1", 3)] == ("UNEQUIVOCAL", "")
    sums = {r["VISITNUM"]: r["TRSTRESN"] for r in _records(datasets, "TR", TRTESTCD="SUMDIAM")}
    assert sums[1] == assessment.baseline_sum_mm == 32.5 + 18 + 21 + 15
    for k, tp in enumerate(assessment.timepoints, start=2):
        assert sums.get(k) == tp.sum_mm


def test_rs_responses_per_visit(datasets, example):
    _, assessment = example
    rs = datasets["RS"]
    assert {r["RSCAT"] for r in rs} == {"RECIST 1.1"}
    for k, tp in enumerate(assessment.timepoints, start=2):
        got = {r["RSTESTCD"]: r["RSSTRESC"] for r in rs if r["VISITNUM"] == k}
        assert got["OVRLRESP"] == tp.overall_response.value
        # NEWLIND: new lesions present (Y/N); NEWLPROG only with new lesions: EQUIVOCAL or UNEQUIVOCAL
        # (SDTMIG v3.4 RS example 2; CDISC CT C103420, C142362)
        assert (got["NEWLIND"], got.get("NEWLPROG")) == {
            "NO": ("N", None), "YES": ("Y", "UNEQUIVOCAL"), "EQUIVOCAL": ("Y", "EQUIVOCAL")
        }[tp.new_lesions.value]  # fmt: skip
        assert got.get("TRGRESP") == (tp.target_response.value if tp.target_response else None)
        assert got.get("NTRGRESP") == (tp.non_target_response.value if tp.non_target_response else None)
    best = [r for r in rs if r["RSTESTCD"] == "BESTRESP"]  # C96782 BESTRESP (C94536)
    assert len(best) == 1 and best[0]["RSSTRESC"] == assessment.best_overall_response.value
    assert best[0]["VISITNUM"] is None and best[0]["VISIT"] == ""


def test_several_evaluators_with_acceptance(example):
    case, assessment = example
    reads = [
        SdtmRead(case, assessment, "RADIOLOGIST 2", accepted=False),
        SdtmRead(case, assessment, "RADIOLOGIST 1", accepted=True),
        SdtmRead(case, assessment, "ADJUDICATOR 1", accepted=None),
    ]
    datasets = build_sdtm(reads, study_id="S")
    order = []
    for r in datasets["RS"]:
        if not order or order[-1] != r["RSEVALID"]:
            order.append(r["RSEVALID"])
    assert order == ["RADIOLOGIST 1", "RADIOLOGIST 2", "ADJUDICATOR 1"]
    flags = {r["TREVALID"]: r["TRACPTFL"] for r in datasets["TR"]}
    assert flags == {"RADIOLOGIST 1": "Y", "RADIOLOGIST 2": "N", "ADJUDICATOR 1": ""}
    assert [r["RSSEQ"] for r in datasets["RS"]] == list(range(1, len(datasets["RS"]) + 1))
    with pytest.raises(ExchangeError, match="two reads"):
        build_sdtm([reads[0], reads[0]], study_id="S")


def test_errors_name_the_problem(example):
    case, assessment = example
    data = example_case_dict()
    del data["timepoints"][1]["date"]
    data["timepoints"][1]["day"] = 56
    dayonly = recist.parse_case(data)
    with pytest.raises(ExchangeError, match="'week 8': no scan date"):
        build_sdtm([SdtmRead(dayonly, recist.assess(dayonly))], study_id="S")
    data = example_case_dict()
    data["lesions"][1]["site"] = "pelvis"
    bad_site = recist.parse_case(data)
    with pytest.raises(ExchangeError, match="lesion 'T2'.*lymph node"):
        build_sdtm([SdtmRead(bad_site, recist.assess(bad_site))], study_id="S")
    with pytest.raises(ExchangeError, match="C96777"):
        build_sdtm([SdtmRead(case, assessment, "READER A")], study_id="S")
    other = recist.parse_case({**example_case_dict(), "timepoints": example_case_dict()["timepoints"][:2]})
    with pytest.raises(ExchangeError, match="assessment has"):
        build_sdtm([SdtmRead(case, recist.assess(other))], study_id="S")
    with pytest.raises(ExchangeError, match="STUDYID"):
        build_sdtm([SdtmRead(case, assessment)], study_id="")


def test_format_mm_is_exact():
    for value in (0.0, 5.0, 12.25, 0.1, 1 / 3, 123456.789):
        assert float(format_mm(value)) == value
    assert format_mm(32.0) == "32"


def test_files_csv_dataset_json_and_xpt(datasets, tmp_path):
    written = write_sdtm(datasets, tmp_path, study_id="STUDY1", now=NOW)
    assert sorted(p.name for p in written) == sorted(
        f"{d}.{x}" for d in ("tu", "tr", "rs") for x in ("csv", "json", "xpt")
    )
    header = (tmp_path / "tr.csv").read_text().splitlines()[0].split(",")
    assert header == [v.name for v in DOMAINS["TR"]]

    doc = json.loads((tmp_path / "tr.json").read_text())
    assert doc["datasetJSONVersion"] == "1.1"
    assert doc["datasetJSONCreationDateTime"] == "2025-01-02T03:04:05"
    assert (doc["itemGroupOID"], doc["name"], doc["label"]) == ("IG.TR", "TR", "Tumor/Lesion Results")
    assert doc["records"] == len(doc["rows"]) == len(datasets["TR"])
    columns = {c["name"]: c for c in doc["columns"]}
    assert list(columns) == header
    assert columns["TRSTRESN"]["dataType"] == "double" and columns["TRSEQ"]["dataType"] == "integer"
    assert columns["TRDTC"]["dataType"] == "date"
    assert columns["TRTESTCD"]["itemOID"] == "IT.TR.TRTESTCD" and columns["TRTESTCD"]["length"] == 8
    assert all({"itemOID", "name", "label", "dataType"} <= set(c) for c in doc["columns"])
    first = dict(zip(header, doc["rows"][0]))
    assert first["TRSEQ"] == 1 and first["TRGRPID"] is None

    frame, meta = pyreadstat.read_xport(str(tmp_path / "tr.xpt"))
    assert list(frame.columns) == header
    assert meta.column_names_to_labels["TRSTRESN"] == "Numeric Result/Finding in Standard Units"
    assert meta.table_name == "TR"
    assert len(frame) == len(datasets["TR"])
    assert frame["TRSTRESN"].dropna().tolist() == [
        r["TRSTRESN"] for r in datasets["TR"] if r["TRSTRESN"] is not None
    ]
    with pytest.raises(ExchangeError, match="unknown SDTM format"):
        write_sdtm(datasets, tmp_path, formats=["sas7bdat"], study_id="S")


def test_the_sample_patient_exports_and_returns(repo_dir, tmp_path):
    from recist.io.sdtm_import import cases_from_sdtm, read_sdtm

    path = repo_dir / "sample_data" / "patient" / "case.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent: generate it with sample_data/make_sample_data.py")
    case = recist.read_case(path)
    assessment = recist.assess(case)
    datasets = build_sdtm([SdtmRead(case, assessment)], study_id="NET-3")
    write_sdtm(datasets, tmp_path, study_id="NET-3")
    lperp = [r for r in datasets["TR"] if r["TRTESTCD"] == "LPERP" and r["TRLNKID"] == "T4"]
    assert lperp and all(r["TRSTRESU"] == "mm" for r in lperp)  # the nodal target's short axis
    for suffix in ("json", "csv", "xpt"):
        folder = tmp_path / suffix
        folder.mkdir()
        for domain in ("tu", "tr", "rs"):
            (folder / f"{domain}.{suffix}").write_bytes((tmp_path / f"{domain}.{suffix}").read_bytes())
        imported = cases_from_sdtm(read_sdtm(folder))[0].case
        again = recist.assess(imported)
        assert [t.overall_response for t in again.timepoints] == [
            t.overall_response for t in assessment.timepoints
        ]
        assert [t.sum_mm for t in again.timepoints] == [t.sum_mm for t in assessment.timepoints]
        assert again.discrepancies == ()


def test_public_names_stay_importable_from_recist_export_sdtm():
    """Users' scripts import these from recist.export.sdtm; the split into sdtm_spec/sdtm_write keeps them."""
    import importlib

    sdtm = importlib.import_module("recist.export.sdtm")
    before_split = ["SdtmRead", "Variable", "DOMAINS", "DOMAIN_LABELS", "METHOD_TERMS", "build_sdtm", "write_sdtm",
                    "format_mm", "usubjid", "write_protocols", "PROTOCOL_FILE", "visit_group", "reads_from_review",
                    "dataset_spec", "FORMATS", "write_csv", "write_xpt"]  # fmt: skip
    assert set(before_split) <= set(sdtm.__all__)
    spec = importlib.import_module("recist.export.sdtm_spec")
    write = importlib.import_module("recist.export.sdtm_write")
    for name in before_split:
        assert hasattr(sdtm, name), name
        for module in (spec, write):
            if hasattr(module, name):
                assert getattr(module, name) is getattr(sdtm, name), name
