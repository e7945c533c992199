"""SDTM DM (Demographics) of ``recist export sdtm --subjects``, checked against SDTMIG v3.4 section 5.2.

The reference below is written from the SDTMIG v3.4 DM specification (variable, label, type, core), not
from what the writer prints. Required variables recist has no source for are either given by the user
(SITEID, COUNTRY) or written as the CDISC term for "unknown" (SEX "U", codelist C66731).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from recist.cli import main
from recist.export.sdtm_dm import DM_VARIABLES, arm_code

REPO = Path(__file__).resolve().parents[2]
PATIENT = REPO / "sample_data" / "patient" / "case.json"

# SDTMIG v3.4 DM: the Required and Expected variables, in IG order (Permissible ones are not written).
DM_34 = [
    ("STUDYID", "Study Identifier", "Char", "Req"),
    ("DOMAIN", "Domain Abbreviation", "Char", "Req"),
    ("USUBJID", "Unique Subject Identifier", "Char", "Req"),
    ("SUBJID", "Subject Identifier for the Study", "Char", "Req"),
    ("RFSTDTC", "Subject Reference Start Date/Time", "Char", "Exp"),
    ("RFENDTC", "Subject Reference End Date/Time", "Char", "Exp"),
    ("RFXSTDTC", "Date/Time of First Study Treatment", "Char", "Exp"),
    ("RFXENDTC", "Date/Time of Last Study Treatment", "Char", "Exp"),
    ("RFICDTC", "Date/Time of Informed Consent", "Char", "Exp"),
    ("RFPENDTC", "Date/Time of End of Participation", "Char", "Exp"),
    ("DTHDTC", "Date/Time of Death", "Char", "Exp"),
    ("DTHFL", "Subject Death Flag", "Char", "Exp"),
    ("SITEID", "Study Site Identifier", "Char", "Req"),
    ("AGE", "Age", "Num", "Exp"),
    ("AGEU", "Age Units", "Char", "Exp"),
    ("SEX", "Sex", "Char", "Req"),
    ("RACE", "Race", "Char", "Exp"),
    ("ARMCD", "Planned Arm Code", "Char", "Exp"),
    ("ARM", "Description of Planned Arm", "Char", "Exp"),
    ("ACTARMCD", "Actual Arm Code", "Char", "Exp"),
    ("ACTARM", "Description of Actual Arm", "Char", "Exp"),
    ("ARMNRS", "Reason Arm and/or Actual Arm is Null", "Char", "Exp"),
    ("ACTARMUD", "Description of Unplanned Actual Arm", "Char", "Exp"),
    ("COUNTRY", "Country", "Char", "Req"),
]
REQUIRED = [name for name, _, _, core in DM_34 if core == "Req"]


def _subjects_csv(path: Path, subject: str, *, extra: str = "") -> Path:
    path.write_text(
        "subject,randomisation_date,arm,death_date,new_therapy_date\n"
        f"{subject},2024-01-03,Lutathera,2024-09-30,\n"
        f"NET-900,2024-02-01,surveillance,,\n{extra}",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def patient():
    if not PATIENT.is_file():
        pytest.skip(f"{PATIENT} is absent: generate it with sample_data/make_sample_data.py")
    return json.loads(PATIENT.read_text(encoding="utf-8"))["subject"]


@pytest.fixture(scope="module")
def exported(patient, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dm")
    subjects = _subjects_csv(tmp / "subjects.csv", patient)
    out = tmp / "out"
    argv = ["export", "sdtm", str(PATIENT), "--out", str(out), "--study", "NCT04954820",
            "--subjects", str(subjects), "--site-id", "101", "--country", "NLD"]  # fmt: skip
    assert main(argv) == 0
    return out


def test_dm_variables_follow_sdtmig_34():
    assert [(v.name, v.label, "Num" if v.numeric else "Char") for v in DM_VARIABLES] == [
        (name, label, kind) for name, label, kind, _ in DM_34
    ]


def test_dm_xpt_and_dataset_json_read_back(exported, patient):
    frame, meta = pyreadstat.read_xport(str(exported / "dm.xpt"))
    assert meta.table_name == "DM" and meta.file_label == "Demographics"
    assert meta.column_names_to_labels == {name: label for name, label, _, _ in DM_34}
    assert meta.readstat_variable_types["AGE"] == "double"
    assert len(frame) == 2  # one record per subject of the subjects table
    assert frame["USUBJID"].is_unique
    for name in REQUIRED:
        assert (frame[name].astype(str).str.len() > 0).all(), f"{name} is Required and null"
    row = frame.set_index("SUBJID").loc[patient]
    assert row["USUBJID"] == f"NCT04954820-{patient}"
    assert (row["STUDYID"], row["DOMAIN"], row["SITEID"], row["COUNTRY"]) == ("NCT04954820", "DM", "101", "NLD")
    assert (row["ARM"], row["ARMCD"]) == ("Lutathera", "LUTATHERA")
    assert (row["ACTARM"], row["ACTARMCD"]) == (row["ARM"], row["ARMCD"])
    assert (row["RFSTDTC"], row["DTHDTC"], row["DTHFL"], row["SEX"]) == ("2024-01-03", "2024-09-30", "Y", "U")
    alive = frame.set_index("SUBJID").loc["NET-900"]
    assert (alive["DTHDTC"], alive["DTHFL"], alive["ARMCD"]) == ("", "", "SURVEILLANCE")
    assert pd.isna(alive["AGE"])
    # USUBJID is the one the other datasets use
    tu, _ = pyreadstat.read_xport(str(exported / "tu.xpt"))
    assert set(tu["USUBJID"]) <= set(frame["USUBJID"])
    doc = json.loads((exported / "dm.json").read_text(encoding="utf-8"))
    assert doc["datasetJSONVersion"] == "1.1" and doc["itemGroupOID"] == "IG.DM" and doc["records"] == 2
    assert [c["name"] for c in doc["columns"]] == [name for name, _, _, _ in DM_34]
    assert {c["name"]: c["dataType"] for c in doc["columns"]}["AGE"] == "integer"
    rows = [dict(zip([c["name"] for c in doc["columns"]], r)) for r in doc["rows"]]
    assert {r["SUBJID"]: r["ARM"] for r in rows} == {patient: "Lutathera", "NET-900": "surveillance"}
    assert all(r["AGE"] is None and r["SEX"] == "U" for r in rows)


@pytest.mark.parametrize(
    ("drop", "needed"), [("--country", "--country"), ("--site-id", "--site-id")]
)
def test_missing_site_or_country_is_refused_naming_the_option(patient, tmp_path, capsys, drop, needed):
    subjects = _subjects_csv(tmp_path / "subjects.csv", patient)
    argv = ["export", "sdtm", str(PATIENT), "--out", str(tmp_path / "out"), "--subjects", str(subjects),
            "--site-id", "101", "--country", "NLD"]  # fmt: skip
    index = argv.index(drop)
    del argv[index : index + 2]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needed in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_subject_without_a_subjects_row_and_bad_country_are_refused(patient, tmp_path, capsys):
    subjects = tmp_path / "subjects.csv"
    subjects.write_text("subject,randomisation_date,arm,death_date,new_therapy_date\nOTHER,2024-01-03,a,,\n")
    base = ["export", "sdtm", str(PATIENT), "--out", str(tmp_path / "out"), "--subjects", str(subjects),
            "--site-id", "101"]  # fmt: skip
    assert main([*base, "--country", "NLD"]) == 2
    assert repr(patient) in capsys.readouterr().err
    _subjects_csv(subjects, patient)
    assert main([*base, "--country", "Netherlands"]) == 2
    assert "alpha-3" in capsys.readouterr().err


def test_arm_codes():
    assert arm_code("177Lu-DOTATATE 7.4 GBq") == "177LU_DOTATATE_7_4_G"  # 20 characters
    assert len(arm_code("x" * 40)) == 20
