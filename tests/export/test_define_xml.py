"""define.xml v2.1 of ``recist export sdtm``: well-formed, schema-valid, and true to the XPT files written.

The schema is the CDISC Define-XML 2.1.0 XSD (with ODM 1.3.2) as shipped in the PyPI package
``defineutils`` (a test dependency); nothing is downloaded at run time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyreadstat
import pytest
from lxml import etree

from recist.cli import main
from recist.export.define_xml import DEF_NS, ODM_NS

REPO = Path(__file__).resolve().parents[2]
PATIENT = REPO / "sample_data" / "patient" / "case.json"
NS = {"odm": ODM_NS, "def": DEF_NS, "xlink": "http://www.w3.org/1999/xlink"}


def _export(tmp: Path, *, with_dm: bool) -> Path:
    if not PATIENT.is_file():
        pytest.skip(f"{PATIENT} is absent: generate it with sample_data/make_sample_data.py")
    subject = json.loads(PATIENT.read_text(encoding="utf-8"))["subject"]
    out = tmp / "out"
    argv = ["export", "sdtm", str(PATIENT), "--out", str(out), "--study", "NCT04954820"]
    if with_dm:
        subjects = tmp / "subjects.csv"
        subjects.write_text(
            f"subject,randomisation_date,arm,death_date,new_therapy_date\n{subject},2024-01-03,Lutathera,,\n"
        )
        argv += ["--subjects", str(subjects), "--site-id", "101", "--country", "NLD"]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = _export(tmp_path_factory.mktemp("define"), with_dm=True)
    return out, etree.parse(str(out / "define.xml"))


def test_define_is_valid_against_the_define_xml_2_1_schema(exported):
    defineutils = pytest.importorskip("defineutils", reason="defineutils (Define-XML 2.1 XSD) is not installed")
    xsd = Path(defineutils.__file__).parent / "validate" / "schema" / "cdisc-define-2.1" / "define2-1-0.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    _, tree = exported
    assert schema.validate(tree), str(schema.error_log)
    root = tree.getroot()
    assert root.get("ODMVersion") == "1.3.2" and root.get(f"{{{DEF_NS}}}Context") == "Submission"
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv.get(f"{{{DEF_NS}}}DefineVersion") == "2.1.0"
    standards = {(s.get("Name"), s.get("Version")) for s in mdv.iterfind("def:Standards/def:Standard", NS)}
    assert ("SDTMIG", "3.4") in standards


def test_every_dataset_and_variable_written_is_described_and_nothing_else(exported):
    out, tree = exported
    mdv = tree.getroot().find("odm:Study/odm:MetaDataVersion", NS)
    groups = {g.get("Name"): g for g in mdv.iterfind("odm:ItemGroupDef", NS)}
    written = {p.stem.upper() for p in out.glob("*.xpt")}
    assert set(groups) == written == {"TU", "TR", "RS", "DM"}
    item_defs = {i.get("OID"): i for i in mdv.iterfind("odm:ItemDef", NS)}
    # value-level ItemDefs are referenced from def:ValueListDef, the others from the datasets
    referenced: set[str] = {r.get("ItemOID") for r in mdv.iterfind("def:ValueListDef/odm:ItemRef", NS)}
    for name, group in groups.items():
        frame, meta = pyreadstat.read_xport(str(out / f"{name.lower()}.xpt"))
        leaf = group.find("def:leaf", NS)
        assert leaf.get("ID") == group.get(f"{{{DEF_NS}}}ArchiveLocationID")
        assert (out / leaf.get(f"{{{NS['xlink']}}}href")).is_file()
        assert group.get(f"{{{DEF_NS}}}Structure") and group.find("def:Class", NS).get("Name")
        assert group.find("odm:Description/odm:TranslatedText", NS).text == meta.file_label
        refs = sorted(group.iterfind("odm:ItemRef", NS), key=lambda r: int(r.get("OrderNumber")))
        oids = [r.get("ItemOID") for r in refs]
        referenced.update(oids)
        assert [item_defs[oid].get("Name") for oid in oids] == meta.column_names
        for ref in refs:
            item = item_defs[ref.get("ItemOID")]
            column = item.get("Name")
            label = item.find("odm:Description/odm:TranslatedText", NS).text
            assert label == meta.column_names_to_labels[column]
            kind = item.get("DataType")
            if meta.readstat_variable_types[column] == "double":
                assert kind in ("integer", "float"), column
                values = frame[column].dropna()
                if kind == "integer":
                    assert (values == values.round()).all(), column
                    assert all(len(str(int(v))) <= int(item.get("Length")) for v in values), column
            else:
                assert kind in ("text", "date"), column
                if kind == "text":
                    assert int(item.get("Length")) == meta.variable_storage_width[column], column
                    longest = max([1, *(len(str(v).encode()) for v in frame[column])])
                    assert int(item.get("Length")) == longest, column
            if ref.get("Mandatory") == "Yes":
                assert (frame[column].astype(str).str.len() > 0).all(), f"{name}.{column} is mandatory but null"
    assert referenced == set(item_defs), "ItemDefs that no dataset uses"


def test_codelists_methods_and_origins_resolve(exported):
    out, tree = exported
    mdv = tree.getroot().find("odm:Study/odm:MetaDataVersion", NS)
    codelists = {c.get("OID"): c for c in mdv.iterfind("odm:CodeList", NS)}
    methods = {m.get("OID") for m in mdv.iterfind("odm:MethodDef", NS)}
    frames = {p.stem.upper(): pyreadstat.read_xport(str(p))[0] for p in out.glob("*.xpt")}
    used_codelists: set[str] = set()
    for item in mdv.iterfind("odm:ItemDef", NS):
        domain, column, *test = item.get("OID").split(".")[1:]
        origin = item.find("def:Origin", NS)
        assert origin is not None and origin.get("Type") in ("Collected", "Derived", "Assigned")
        ref = item.find("odm:CodeListRef", NS)
        frame = frames[domain]
        if test:  # value-level: the records of that test code
            frame = frame[frame[f"{domain}TESTCD"] == test[0]]
        if ref is not None:
            used_codelists.add(ref.get("CodeListOID"))
            terms = {e.get("CodedValue") for e in codelists[ref.get("CodeListOID")].iterfind("odm:EnumeratedItem", NS)}
            values = {str(v) for v in frame[column] if str(v)}
            assert values <= terms, f"{domain}.{column} {test}: {values - terms} not in its codelist"
        item_ref = mdv.find(f"*/odm:ItemRef[@ItemOID='{item.get('OID')}']", NS)
        method = item_ref.get("MethodOID")
        assert (origin.get("Type") == "Derived") == (method is not None), column
        assert method is None or method in methods
    assert used_codelists == set(codelists)
    by_code: dict[str, list[str]] = {}
    for codelist in codelists.values():
        assert codelist.find("odm:Alias", NS).get("Context") == "nci:ExtCodeID"
        by_code.setdefault(codelist.find("odm:Alias", NS).get("Name"), []).append(codelist.get("Name"))
        for term in codelist.iterfind("odm:EnumeratedItem", NS):  # a C-code on every published term
            extended = term.get(f"{{{DEF_NS}}}ExtendedValue") == "Yes"
            alias = term.find("odm:Alias", NS)
            assert extended == (alias is None), term.get("CodedValue")
            assert alias is None or (alias.get("Context") == "nci:ExtCodeID" and alias.get("Name").startswith("C"))
    # one codelist per NCI code, except subsets of it for one test (NEWLPROG's results within C96785)
    for code, names in by_code.items():
        assert len([n for n in names if "subset" not in n]) == 1, (code, names)
    sex = codelists["CL.SEX"]
    assert [e.get("CodedValue") for e in sex.iterfind("odm:EnumeratedItem", NS)] == ["U"]


def test_without_subjects_define_describes_tu_tr_rs_only(tmp_path):
    out = _export(tmp_path, with_dm=False)
    tree = etree.parse(str(out / "define.xml"))
    names = [g.get("Name") for g in tree.getroot().iterfind(".//odm:ItemGroupDef", NS)]
    assert names == ["TU", "TR", "RS"] and not (out / "dm.xpt").exists()


# Value-level metadata: what each test code's results are, in the CDISC terms of the standards.
# From the SDTMIG v3.4 TR examples (LDIAM, LPERP, SUMDIAM in mm) and CDISC CT: TUMSTATE results in Tumor or
# Lesion Properties Test Result (C124309); TRGRESP, NTRGRESP, OVRLRESP, BESTRESP and NEWLPROG results in
# Oncology Response Assessment Result (C96785); NEWLIND results in No Yes Response (C66742).
NUMERIC_MM = {"LDIAM", "LPERP", "SUMDIAM"}
RESULT_CODES = {"TUMSTATE": "C124309", "TRGRESP": "C96785", "NTRGRESP": "C96785", "OVRLRESP": "C96785",
                "BESTRESP": "C96785", "NEWLPROG": "C96785", "NEWLIND": "C66742"}  # fmt: skip


def test_every_test_code_written_has_value_level_metadata(exported):
    out, tree = exported
    mdv = tree.getroot().find("odm:Study/odm:MetaDataVersion", NS)
    item_defs = {i.get("OID"): i for i in mdv.iterfind("odm:ItemDef", NS)}
    codelists = {c.get("OID"): c for c in mdv.iterfind("odm:CodeList", NS)}
    clauses = {w.get("OID"): w for w in mdv.iterfind("def:WhereClauseDef", NS)}
    lists = {v.get("OID"): v for v in mdv.iterfind("def:ValueListDef", NS)}
    seen_tests = set()
    for domain, results in (("TR", ("TRORRES", "TRSTRESC")), ("RS", ("RSORRES", "RSSTRESC"))):
        frame = pyreadstat.read_xport(str(out / f"{domain.lower()}.xpt"))[0]
        for column in results:
            parent = item_defs[f"IT.{domain}.{column}"]
            value_list = lists[parent.find("def:ValueListRef", NS).get("ValueListOID")]
            by_test = {}
            for ref in value_list.iterfind("odm:ItemRef", NS):
                clause = clauses[ref.find("def:WhereClauseRef", NS).get("WhereClauseOID")]
                check = clause.find("odm:RangeCheck", NS)
                assert check.get("Comparator") == "EQ"
                assert check.get(f"{{{DEF_NS}}}ItemOID") == f"IT.{domain}.{domain}TESTCD" in item_defs
                by_test[check.find("odm:CheckValue", NS).text] = (ref, item_defs[ref.get("ItemOID")])
            assert set(by_test) == set(frame[f"{domain}TESTCD"]), f"{domain}.{column}: a test code without VLM"
            for testcd, (ref, item) in by_test.items():
                seen_tests.add(testcd)
                values = frame.loc[frame[f"{domain}TESTCD"] == testcd, column]
                assert (ref.get("Mandatory") == "Yes") == bool((values != "").all()), (column, testcd)
                if testcd in NUMERIC_MM:
                    # a number, or TRORRES "TOO SMALL TO MEASURE" (SDTMIG v3.4 TR example) which makes it text
                    texts = {v for v in values if v} - {v for v in values if v.replace(".", "", 1).isdigit()}
                    assert texts <= {"TOO SMALL TO MEASURE"}
                    assert item.get("DataType") == ("text" if texts else "float")
                    assert item.find("odm:CodeListRef", NS) is None
                    numbers = [float(v) for v in values if v and v not in texts]
                    assert all(len(v.replace(".", "")) <= int(item.get("Length")) for v in values if v)
                    assert numbers and all(n >= 0 for n in numbers)
                    assert "mm" in item.find("odm:Description/odm:TranslatedText", NS).text
                else:
                    assert item.get("DataType") == "text"
                    codelist = codelists[item.find("odm:CodeListRef", NS).get("CodeListOID")]
                    assert codelist.find("odm:Alias", NS).get("Name") == RESULT_CODES[testcd], testcd
                    assert {v for v in values if v} <= {e.get("CodedValue") for e in codelist.iterfind(
                        "odm:EnumeratedItem", NS)}  # fmt: skip
    assert {"LDIAM", "TUMSTATE", "SUMDIAM", "OVRLRESP", "NEWLIND"} <= seen_tests
    # the unit of every length: codelist UNIT (C71620) with mm, on TRORRESU and TRSTRESU
    for column in ("TRORRESU", "TRSTRESU"):
        value_list = lists[item_defs[f"IT.TR.{column}"].find("def:ValueListRef", NS).get("ValueListOID")]
        for ref in value_list.iterfind("odm:ItemRef", NS):
            codelist = codelists[item_defs[ref.get("ItemOID")].find("odm:CodeListRef", NS).get("CodeListOID")]
            assert codelist.find("odm:Alias", NS).get("Name") == "C71620"
            assert [e.get("CodedValue") for e in codelist.iterfind("odm:EnumeratedItem", NS)] == ["mm"]
    # every reference resolves: value lists, where clauses, codelists
    for ref in mdv.iterfind(".//def:ValueListRef", NS):
        assert ref.get("ValueListOID") in lists
    for ref in mdv.iterfind(".//def:WhereClauseRef", NS):
        assert ref.get("WhereClauseOID") in clauses
    for ref in mdv.iterfind(".//odm:CodeListRef", NS):
        assert ref.get("CodeListOID") in codelists


def test_cdisc_stylesheet_shows_each_test_codes_value_level_metadata(exported):
    """Reviewers read define.xml through CDISC's define2-1.xsl (shipped in defineutils): the rendered page
    lists, under each result variable, one row per test code ('TRTESTCD = "LDIAM"') with its type and codelist."""
    definehtml = pytest.importorskip("defineutils.definehtml", reason="defineutils is not installed")
    out, _ = exported
    page = definehtml.DefineHtml(out / "define.xml").transform_to_html_string()
    text = " ".join(etree.HTML(page).itertext())
    text = " ".join(text.split())
    for domain in ("TR", "RS"):
        codes = set(pyreadstat.read_xport(str(out / f"{domain.lower()}.xpt"))[0][f"{domain}TESTCD"])
        for code in codes:
            assert f'{domain}TESTCD = "{code}"' in text, (domain, code)
    assert 'TRTESTCD = "LDIAM" Longest Diameter in mm float' in text
    # the NCI C-codes beside the codelists and their terms (No Yes Response: N C49487, Y C49488)
    assert "No Yes Response [ C66742 ]" in text and "N [ C49487 ] Y [ C49488 ]" in text


def test_a_diameter_too_small_to_measure_is_text_in_its_value_level_metadata():
    """TRORRES "TOO SMALL TO MEASURE" (SDTMIG v3.4 TR example) makes that test's TRORRES text, not float,
    while TRSTRESN keeps the standardised 5 mm as a float."""
    import sys

    import recist
    from recist.export.define_xml import build_define
    from recist.export.sdtm import SdtmRead, build_sdtm

    sys.path.insert(0, str(Path(__file__).parents[1] / "io"))
    from exchange_cases import example_case_dict

    case = recist.parse_case(example_case_dict())
    datasets = build_sdtm([SdtmRead(case, recist.assess(case))], study_id="S1")
    tree = build_define(datasets, study_id="S1", leaves={d: f"{d.lower()}.xpt" for d in datasets})
    mdv = tree.getroot().find("odm:Study/odm:MetaDataVersion", NS)
    items = {i.get("OID"): i for i in mdv.iterfind("odm:ItemDef", NS)}
    orres = items["IT.TR.TRORRES.LPERP"]  # the node T2 is too small at week 8
    assert orres.get("DataType") == "text" and int(orres.get("Length")) == len("TOO SMALL TO MEASURE")
    assert "TOO SMALL TO MEASURE" in orres.find("odm:Description/odm:TranslatedText", NS).text
    assert items["IT.TR.TRSTRESN.LPERP"].get("DataType") == "float"
    assert items["IT.TR.TRORRES.LDIAM"].get("DataType") == "float"
