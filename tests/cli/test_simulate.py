"""``recist simulate``: files, summary lines, the --review run and one-line errors."""

from __future__ import annotations

import json

from recist.cli import main


def test_simulate_writes_the_trial_and_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "trial"
    assert main(["simulate", str(out), "--subjects", "8", "--seed", "5"]) == 0
    text = capsys.readouterr().out
    assert "simulated 8 subjects (seed 5)" in text
    assert "active surveillance: 4 subjects" in text and "lutathera: 4 subjects" in text
    assert "needing adjudication" in text
    assert (out / "subjects.csv").read_text().count("\n") == 9
    assert json.loads((out / "charter.json").read_text())["visit_schedule"]["interval_days"] == 84
    assert len(list((out / "reads" / "R1").glob("*.json"))) == 8
    assert len(list((out / "truth").glob("*.json"))) == 8
    assert not (out / "review").exists()


def test_simulate_with_review_runs_the_central_review(tmp_path, capsys):
    out = tmp_path / "trial"
    assert main(["simulate", str(out), "--subjects", "6", "--seed", "2", "--review"]) == 0
    text = capsys.readouterr().out
    assert "central review in" in text and "adjudicated" in text
    assert (out / "review" / "project.json").is_file()
    assert len(list((out / "final_reads").glob("*.json"))) == 6


def test_simulate_refuses_a_used_folder_and_too_few_subjects(tmp_path, capsys):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x.txt").write_text("x")
    assert main(["simulate", str(tmp_path / "used")]) == 2
    err = capsys.readouterr().err
    assert "new or empty folder" in err and len(err.strip().splitlines()) == 1
    assert main(["simulate", str(tmp_path / "new"), "--subjects", "1"]) == 2
    assert "at least 2" in capsys.readouterr().err
