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
    referenced: set[str] = set()
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
        domain, column = item.get("OID").split(".")[1:]
        origin = item.find("def:Origin", NS)
        assert origin is not None and origin.get("Type") in ("Collected", "Derived", "Assigned")
        ref = item.find("odm:CodeListRef", NS)
        if ref is not None:
            used_codelists.add(ref.get("CodeListOID"))
            terms = {e.get("CodedValue") for e in codelists[ref.get("CodeListOID")].iterfind("odm:EnumeratedItem", NS)}
            values = {str(v) for v in frames[domain][column] if str(v)}
            assert values <= terms, f"{domain}.{column}: {values - terms} not in its codelist"
        item_ref = mdv.find(f"odm:ItemGroupDef/odm:ItemRef[@ItemOID='{item.get('OID')}']", NS)
        method = item_ref.get("MethodOID")
        assert (origin.get("Type") == "Derived") == (method is not None), column
        assert method is None or method in methods
    assert used_codelists == set(codelists)
    for codelist in codelists.values():
        assert codelist.find("odm:Alias", NS).get("Context") == "nci:ExtCodeID"
    assert len({c.find("odm:Alias", NS).get("Name") for c in codelists.values()}) == len(codelists)
    sex = codelists["CL.SEX"]
    assert [e.get("CodedValue") for e in sex.iterfind("odm:EnumeratedItem", NS)] == ["U"]


def test_without_subjects_define_describes_tu_tr_rs_only(tmp_path):
    out = _export(tmp_path, with_dm=False)
    tree = etree.parse(str(out / "define.xml"))
    names = [g.get("Name") for g in tree.getroot().iterfind(".//odm:ItemGroupDef", NS)]
    assert names == ["TU", "TR", "RS"] and not (out / "dm.xpt").exists()
