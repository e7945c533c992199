"""SDTM import of the CDISC CT new-lesion tests, and of the values recist wrote before it followed them.

From the standards (not from what the writer prints): NEWLIND "New Lesion Indicator" (C142362) says
"whether new lesions are present" (Y/N, No Yes Response C66742); NEWLPROG "New Lesion Progression"
(C103420) is "an assessment of the equivocality of disease progression based on a newly identified lesion",
EQUIVOCAL at the visit with an equivocal new lesion and UNEQUIVOCAL when it is confirmed (SDTMIG v3.4 RS
example 2). RECIST 1.1 [E09] section 4.3.2: an equivocal new lesion is not progression; an unequivocal one is.

Earlier recist exports wrote NEWLPROG Y/N/EQUIVOCAL at every follow-up, BESTRSP and TUMSTATE MERGED;
those folders still import, with one warning per kind naming the first record.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from exchange_cases import example_case_dict

import recist
from recist.cli import main
from recist.errors import ExchangeError
from recist.export.sdtm import SdtmRead, build_sdtm, write_sdtm
from recist.io.sdtm_import import cases_from_sdtm, read_sdtm


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


REPO = Path(__file__).resolve().parents[2]
NO_NEW_LESIONS = REPO / "sample_data" / "cases" / "NET-001_partial_response.json"


@pytest.fixture()
def exported(tmp_path):
    """The example case (equivocal, then unequivocal new lesions) and a subject without new lesions."""
    if not NO_NEW_LESIONS.is_file():
        pytest.skip(f"{NO_NEW_LESIONS} is absent: generate it with sample_data/make_sample_data.py")
    cases = [recist.parse_case(example_case_dict()), recist.read_case(NO_NEW_LESIONS)]
    assessments = {case.subject: recist.assess(case) for case in cases}
    reads = [SdtmRead(case, assessments[case.subject]) for case in cases]
    out = tmp_path / "sdtm"
    write_sdtm(build_sdtm(reads, study_id="STUDY1"), out, formats=("csv",), study_id="STUDY1")
    return out, assessments


def _rs(folder: Path, row: dict[str, str], testcd: str) -> dict[str, str] | None:
    """The record of test ``testcd`` of the same subject and visit as ``row``."""
    found = [
        r
        for r in _rs_rows(folder)
        if (r["USUBJID"], r["VISITNUM"], r["RSTESTCD"]) == (row["USUBJID"], row["VISITNUM"], testcd)
    ]
    return found[0] if found else None


def _rs_rows(folder: Path) -> list[dict[str, str]]:
    return _rows(folder / "rs.csv")


def _as_old_recist(folder: Path) -> None:
    """Rewrite a folder in recist's earlier vocabulary: NEWLPROG Y/N/EQUIVOCAL per visit, BESTRSP, MERGED,
    and a target too small to measure as a TUMSTATE record."""
    old = []
    for row in _rs_rows(folder):
        if row["RSTESTCD"] == "NEWLIND":
            progression = _rs(folder, row, "NEWLPROG")
            if progression is None:  # no new lesions: the old export wrote NEWLPROG N
                old.append({**row, "RSTESTCD": "NEWLPROG", "RSTEST": "New Lesion Progression"})
            continue
        if row["RSTESTCD"] == "NEWLPROG" and row["RSSTRESC"] == "UNEQUIVOCAL":
            row = {**row, "RSORRES": "Y", "RSSTRESC": "Y"}
        if row["RSTESTCD"] == "BESTRESP":
            row = {**row, "RSTESTCD": "BESTRSP"}
        old.append(row)
    _write(folder / "rs.csv", old)
    tr = [
        {**r, "TRORRES": "MERGED", "TRSTRESC": "MERGED"} if r["TRSTRESC"] == "TUMOR MERGED" else r
        for r in _rows(folder / "tr.csv")
    ]
    small = {"TRTESTCD": "TUMSTATE", "TRTEST": "Tumor State", "TRSTRESC": "TOO SMALL TO MEASURE", "TRSTRESN": "",
             "TRORRESU": "", "TRSTRESU": "", "TRMETHOD": ""}  # fmt: skip
    tr = [{**r, **small} if r["TRORRES"] == "TOO SMALL TO MEASURE" else r for r in tr]
    _write(folder / "tr.csv", tr)


def test_recorded_new_lesions_come_from_newlind_and_newlprog(exported):
    folder, assessments = exported
    seen = set()
    for read in cases_from_sdtm(read_sdtm(folder)):
        recorded = [tp.recorded.new_lesions for tp in read.case.timepoints[1:]]
        assert recorded == [tp.new_lesions for tp in assessments[read.case.subject].timepoints]
        seen.update(str(v) for v in recorded)
    assert seen == {"NO", "EQUIVOCAL", "YES"}


def test_a_folder_written_by_the_earlier_recist_imports_with_warnings(exported, tmp_path, capsys):
    folder, _ = exported
    assert main(["import", "sdtm", str(folder), "--out", str(tmp_path / "new")]) == 0
    assert "warning" not in capsys.readouterr().err
    _as_old_recist(folder)
    assert {r["RSSTRESC"] for r in _rs_rows(folder) if r["RSTESTCD"] == "NEWLPROG"} == {"N", "Y", "EQUIVOCAL"}
    assert main(["import", "sdtm", str(folder), "--out", str(tmp_path / "old")]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 4, err
    assert any("NEWLPROG 'Y'/'N'" in line and "rs.csv row " in line for line in warnings)
    assert any("'BESTRSP'" in line and "BESTRESP" in line for line in warnings)
    assert any("'MERGED'" in line and "TUMOR MERGED" in line and "tr.csv row " in line for line in warnings)
    assert any("'TOO SMALL TO MEASURE'" in line and "TRORRES" in line for line in warnings)
    # the same cases, recorded responses included, as from the export in CDISC terms
    new = {p.name: p.read_text() for p in (tmp_path / "new").glob("*.json")}
    assert len(new) == 2 and new == {p.name: p.read_text() for p in (tmp_path / "old").glob("*.json")}


@pytest.mark.parametrize(
    ("indicator", "progression", "message"),
    [
        ("N", "UNEQUIVOCAL", "NEWLPROG contradicts NEWLIND"),
        ("Y", "Y?", "is not EQUIVOCAL or UNEQUIVOCAL"),
        ("YES", None, "is not Y or N"),
    ],
)
def test_bad_new_lesion_records_are_refused_naming_the_row(exported, indicator, progression, message):
    folder, _ = exported
    rows = _rs_rows(folder)
    visit = next(r["VISITNUM"] for r in rows if r["RSTESTCD"] == "NEWLPROG" and r["RSSTRESC"] == "UNEQUIVOCAL")
    for row in rows:
        if row["VISITNUM"] == visit and row["RSTESTCD"] == "NEWLIND":
            row["RSORRES"] = row["RSSTRESC"] = indicator
        if row["VISITNUM"] == visit and row["RSTESTCD"] == "NEWLPROG" and progression is not None:
            row["RSORRES"] = row["RSSTRESC"] = progression
    _write(folder / "rs.csv", rows)
    with pytest.raises(ExchangeError, match=rf"rs\.csv row \d+: .*{message}"):
        cases_from_sdtm(read_sdtm(folder))


def test_newlind_alone_is_read_as_new_lesions(exported):
    """Another system may collect only the yes/no question (the supplement allows NEWLIND alone)."""
    folder, assessments = exported
    _write(folder / "rs.csv", [r for r in _rs_rows(folder) if r["RSTESTCD"] != "NEWLPROG"])
    for read in cases_from_sdtm(read_sdtm(folder)):
        recorded = [str(tp.recorded.new_lesions) for tp in read.case.timepoints[1:]]
        expected = [str(t.new_lesions) for t in assessments[read.case.subject].timepoints]
        assert recorded == ["NO" if status == "NO" else "YES" for status in expected]
