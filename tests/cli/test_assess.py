"""``recist assess`` through main(argv) and once as a subprocess."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import recist
from recist.cli import main

CASES = Path(__file__).resolve().parents[2] / "sample_data" / "cases"


def test_one_file_prints_the_assessment_json(capsys):
    path = CASES / "NET-003_target_progression.json"
    assert main(["assess", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == recist.assess(path).to_dict()
    assert out["progression"]["trigger"] == "target"


def test_folder_gives_json_lines(capsys):
    assert main(["assess", str(CASES)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(list(CASES.glob("*.json")))
    assert {json.loads(line)["subject"] for line in lines} >= {"NET-001", "NET-006"}


def test_output_text_is_that_of_the_json_module(capsys):
    """The JSON text is exactly what ``json.dumps`` writes (UTF-8, no ASCII escapes): indented for one
    file, compact JSON lines for several."""
    one = CASES / "NET-001_partial_response.json"
    assert main(["assess", str(one)]) == 0
    assert capsys.readouterr().out == json.dumps(recist.assess(one).to_dict(), indent=2, ensure_ascii=False) + "\n"
    assert main(["assess", str(CASES)]) == 0
    expected = "".join(
        json.dumps(recist.assess(path).to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
        for path in sorted(CASES.glob("*.json"))
    )
    assert capsys.readouterr().out == expected


def test_csv_one_row_per_timepoint(capsys, tmp_path):
    out = tmp_path / "r.csv"
    assert main(["assess", str(CASES), "--format", "csv", "--output", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    expected = sum(len(recist.read_case(p).timepoints) - 1 for p in CASES.glob("*.json"))
    assert len(rows) == expected
    assert {r["overall_response"] for r in rows} >= {"PR", "SD", "PD", "CR", "NON-CR/NON-PD", "NE"}


def test_bad_single_file_is_a_one_line_error_with_status_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "recist.case/1", "subject": "X", "lesions": [], "timepoints": []}')
    assert main(["assess", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0] and "timepoints" in err[0]


def test_batch_reports_bad_cases_and_assesses_the_rest(tmp_path, capsys):
    for path in CASES.glob("*.json"):
        shutil.copy(path, tmp_path)
    (tmp_path / "zz_broken.json").write_text("{not json")
    assert main(["assess", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "zz_broken.json" in captured.err and "Traceback" not in captured.err
    assert len(captured.out.splitlines()) == len(list(CASES.glob("*.json")))


def test_schema_matches_the_copy_in_docs(capsys):
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    docs = json.loads((Path(__file__).resolve().parents[2] / "docs" / "case.schema.json").read_text())
    assert printed == docs


def test_demo_prints_the_sample_responses(capsys, tmp_path):
    assert main(["demo", str(tmp_path / "out"), "--cases-only"]) == 0
    out = capsys.readouterr().out
    assert "NET-004" in out and "best overall response PD" in out


def test_python_dash_m_recist_works_like_recist():
    path = CASES / "NET-005_nodal_complete_response.json"
    proc = subprocess.run([sys.executable, "-m", "recist", "assess", str(path)], capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["best_overall_response"] == "CR"
    bad = subprocess.run([sys.executable, "-m", "recist", "assess", str(path.parent / "absent.json")],
                         capture_output=True, text=True, check=False, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "absent.json" in bad.stderr


def test_workers_give_the_same_output_in_the_same_order(tmp_path):
    for path in CASES.glob("*.json"):
        shutil.copy(path, tmp_path)
    (tmp_path / "b_broken.json").write_text("[]")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert main(["assess", str(tmp_path), "-o", str(one)]) == 1
    assert main(["assess", str(tmp_path), "-o", str(two), "--workers", "2"]) == 1
    assert one.read_text() == two.read_text() and one.read_text().count("\n") == len(list(CASES.glob("*.json")))


def test_a_folder_gives_its_visible_json_files_in_name_order(tmp_path):
    from recist.cli.assess import collect_case_files

    for name in ("b.json", "a.json", ".hidden.json", "notes.txt", "B.json"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "folder.json").mkdir()
    assert [p.name for p in collect_case_files([str(tmp_path)])] == ["B.json", "a.json", "b.json"]
