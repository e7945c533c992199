"""``recist export sdtm|sr|csv`` and ``recist import sdtm|sr`` through recist.cli.main."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
import warnings
from pathlib import Path

import pytest

import recist
from recist.cli import main
from recist.review.workflow import ReviewProject, SubjectTimepoint

sys.path.insert(0, str(Path(__file__).parents[1] / "io"))
from exchange_cases import example_case_dict, write_images  # noqa: E402

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
CHARTER = {
    "format": "recist.charter/1", "trial": "NET-3", "protocol": {"confirmation": False, "sd_min_days": 42},
    "visit_schedule": {"interval_days": 56, "window_days": 7}, "readers": ["R1", "R2"], "adjudicators": ["ADJ1"],
    "administrators": ["PM1"], "timepoint_labels": {"baseline": "baseline", "week 8": "week 8", "week 16": "week 16"},
}  # fmt: skip


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    path = tmp_path / "cases" / "ex.json"
    path.parent.mkdir()
    path.write_text(json.dumps(example_case_dict()))
    return path


def _overall(path: Path) -> list[str]:
    return [t.overall_response.value for t in recist.assess(path).timepoints]


def test_export_and_import_sdtm(tmp_path, case_file, capsys):
    out = tmp_path / "sdtm"
    status = main(["export", "sdtm", str(case_file.parent), "--out", str(out), "--study", "NET-3",
                   "--role", "RADIOLOGIST 1", "--evaluator", "INDEPENDENT ASSESSOR"])  # fmt: skip
    assert status == 0
    assert "wrote 11 files" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{d}.{x}" for d in ("rs", "tr", "tu") for x in ("csv", "json", "xpt")] + ["protocol.json", "define.xml"]
    )
    with (out / "tr.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["STUDYID"] for r in rows} == {"NET-3"} and {r["TRACPTFL"] for r in rows} == {"Y"}
    cases = tmp_path / "imported"
    assert main(["import", "sdtm", str(out), "--out", str(cases)]) == 0
    imported = sorted(cases.glob("*.json"))
    assert [p.name for p in imported] == ["EX-001_RADIOLOGIST-1.json"]
    assert _overall(imported[0]) == _overall(case_file)
    assert recist.assess(imported[0]).discrepancies == ()


def test_export_sdtm_json_only_and_investigator(tmp_path, case_file):
    out = tmp_path / "sdtm"
    assert main(["export", "sdtm", str(case_file), "--out", str(out), "--format", "json"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["define.xml", "protocol.json", "rs.json", "tr.json", "tu.json"]
    doc = json.loads((out / "tu.json").read_text())
    columns = [c["name"] for c in doc["columns"]]
    row = dict(zip(columns, doc["rows"][0]))
    assert (row["TUEVAL"], row["TUEVALID"], row["TUACPTFL"]) == ("INVESTIGATOR", None, None)


def test_export_csv(tmp_path, case_file, capsys):
    out = tmp_path / "tables"
    assert main(["export", "csv", str(case_file), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["lesions.csv", "responses.csv"]
    with (out / "responses.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["overall_response"] for r in rows[1:]] == _overall(case_file)


def test_export_and_import_sr(tmp_path, case_file):
    series = write_images(recist.read_case(case_file), tmp_path / "images")
    out = tmp_path / "sr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        status = main(["export", "sr", str(case_file), "--images", *map(str, series), "--out", str(out),
                       "--reader", "RADIOLOGIST 1"])  # fmt: skip
    assert status == 0
    assert len(list(out.glob("*.dcm"))) == 3
    cases = tmp_path / "from-sr"
    assert main(["import", "sr", str(out), "--out", str(cases)]) == 0
    imported = list(cases.glob("*.json"))
    assert [p.name for p in imported] == ["EX-001_RADIOLOGIST-1.json"]
    assert _overall(imported[0]) == _overall(case_file)


def test_errors_are_one_line_messages(tmp_path, case_file, capsys):
    assert (
        main(["export", "sr", str(case_file), "--images", str(tmp_path / "none"), "--out", str(tmp_path)])
        == 2
    )
    assert "no such image folder" in capsys.readouterr().err
    assert main(["import", "sdtm", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recist import: error:") and err.count("\n") == 1
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.dcm").write_bytes(b"nope")
    assert main(["import", "sr", str(tmp_path / "bad"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err  # in a folder, a file that is not DICOM is skipped with a warning
    assert "x.dcm: skipped: not a DICOM file" in err and "error: nothing to import" in err
    assert main(["import", "sr", str(tmp_path / "bad" / "x.dcm"), "--out", str(tmp_path / "o")]) == 2
    assert "x.dcm: not a readable DICOM file" in capsys.readouterr().err  # named, it is an error


def _make_case(subject: str, sizes: list[float], start: dt.date) -> dict:
    return {
        "format": "recist.case/1", "subject": subject,
        "lesions": [{"id": "T1", "role": "target", "site": "liver"}],
        "timepoints": [
            {"label": "baseline" if k == 0 else f"week {8 * k}", "date": (start + dt.timedelta(days=56 * k)).isoformat(),
             "targets": {"T1": {"long_axis_mm": float(size)}}}
            for k, size in enumerate(sizes)
        ],
    }  # fmt: skip


@pytest.fixture
def review_project(tmp_path: Path) -> Path:
    root = tmp_path / "review"
    project = ReviewProject.init(root, CHARTER, as_="PM1", now=NOW)
    start = dt.date(2024, 1, 8)
    for subject, a, b in (("NET-001", [30, 20, 18], [30, 20, 18]), ("NET-002", [30, 40, 40], [30, 29, 28])):
        tps = [SubjectTimepoint(label, start + dt.timedelta(days=56 * k), ("/nonexistent",))
               for k, label in enumerate(["baseline", "week 8", "week 16"])]  # fmt: skip
        project.add_subject(subject, tps, as_="PM1", now=NOW, check_images=False)
        p = project.pseudonym(subject)
        shifted = start + dt.timedelta(days=project.date_shift_days(subject))
        for reader, sizes in (("R1", a), ("R2", b)):
            project.save_read(p, _make_case(p, sizes, shifted), as_=reader, now=NOW)
            project.sign(p, as_=reader, now=NOW)
    disagree = project.pseudonym("NET-002")
    view = project.show(disagree, as_="ADJ1", now=NOW)
    pd_label = next(ab for ab, r in view["reads"].items() if r["assessment"]["progression"])
    project.adjudicate(disagree, choose=pd_label, reason="growth confirmed", as_="ADJ1", now=NOW)
    return root


def test_export_sdtm_of_a_review_project(tmp_path, review_project, capsys):
    out = tmp_path / "sdtm"
    assert main(["export", "sdtm", str(review_project), "--out", str(out), "--format", "csv"]) == 2
    assert "--as" in capsys.readouterr().err
    assert (
        main(["export", "sdtm", str(review_project), "--out", str(out), "--format", "csv", "--as", "PM1"])
        == 0
    )
    with (out / "rs.csv").open() as handle:
        rs = list(csv.DictReader(handle))
    # true ids, not pseudonyms, with the study prefix; STUDYID is the charter's trial (issue 16 §3)
    assert {r["USUBJID"] for r in rs} == {"NET-3-NET-001", "NET-3-NET-002"}
    assert {r["STUDYID"] for r in rs} == {"NET-3"}
    assert {r["RSEVAL"] for r in rs} == {"INDEPENDENT ASSESSOR"}
    flags = {(r["USUBJID"].removeprefix("NET-3-"), r["RSEVALID"]): r["RSACPTFL"] for r in rs}
    assert (
        flags[("NET-002", "RADIOLOGIST 1")] == "Y" and flags[("NET-002", "RADIOLOGIST 2")] == "N"
    )  # R1 saw PD
    assert sorted(flags[("NET-001", role)] for role in ("RADIOLOGIST 1", "RADIOLOGIST 2")) == ["N", "Y"]
    best = {(r["USUBJID"].removeprefix("NET-3-"), r["RSEVALID"]): r["RSSTRESC"] for r in rs if r["RSTESTCD"] == "BESTRESP"}
    assert best[("NET-002", "RADIOLOGIST 1")] == "PD" and best[("NET-002", "RADIOLOGIST 2")] == "SD"
    with (out / "tu.csv").open() as handle:
        tu = list(csv.DictReader(handle))
    assert {r["TUDTC"] for r in tu} == {"2024-01-08"}  # calendar date, the review's date shift undone
    cases = tmp_path / "cases"
    assert main(["import", "sdtm", str(out), "--out", str(cases)]) == 0
    assert len(list(cases.glob("*.json"))) == 4
    assert {recist.read_case(p).subject for p in cases.glob("*.json")} == {"NET-001", "NET-002"}  # prefix gone
    assert main(["export", "csv", str(review_project), "--out", str(tmp_path / "t"), "--as", "PM1"]) == 0
