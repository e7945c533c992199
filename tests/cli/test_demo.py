"""``recist demo``: the example cases, then simulate -> central review -> batch -> report (small N)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from recist.cli import main

CASES = Path(__file__).resolve().parents[2] / "sample_data" / "cases"


def test_demo_runs_the_whole_trial_and_prints_the_headline(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", str(out), "--subjects", "12", "--seed", "5"]) == 0
    printed = capsys.readouterr().out
    assert f"RECIST 1.1 responses of the {len(list(CASES.glob('*.json')))} example cases" in printed
    assert printed.index("NET-001") < printed.index("Simulated trial")
    report = out / "report" / "report.html"
    assert f"report: {report}" in printed and report.is_file()
    assert (out / "review" / "project.json").is_file() and (out / "trial" / "subjects.csv").is_file()
    # subjects per arm, ORR and PFS events/medians with CI, HR with CI and log-rank p, DCR, adjudication rate
    assert re.search(r"active surveillance \[control\] \(n=\d+\): ORR \d+/\d+ .*median PFS .*95% CI.* \(\d+ events?\)", printed)
    assert re.search(r"lutathera vs active surveillance: HR .*; log-rank p", printed)
    assert re.search(r"lutathera: DCR \d+/\d+", printed)
    assert re.search(r"adjudication: \d+ of 12 subjects with two signed reads", printed)
    # the report names the charter's arms and the simulation's data cut-off
    html = unescape(report.read_text(encoding="utf-8"))
    assert "'active surveillance' (control), 'lutathera'" in html and '<div class="cutoff">' in html
    # a second run replaces the earlier demo's outputs
    assert main(["demo", str(out), "--subjects", "4", "--seed", "5"]) == 0
    assert "4 subjects analysed" in capsys.readouterr().out


def test_demo_refuses_a_foreign_non_empty_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["demo", str(tmp_path), "--subjects", "4"]) == 2
    err = capsys.readouterr().err
    assert "OUT is not empty" in err and "--force" in err
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_two_demo_runs_with_one_seed_print_the_same_headline_and_write_the_same_files(tmp_path, capsys):
    outputs, trees = [], []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["demo", str(out), "--subjects", "4", "--seed", "11"]) == 0
        outputs.append(re.sub(r"in [0-9.]+ s", "in X s", capsys.readouterr().out).replace(str(out), "OUT"))
        trees.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert outputs[0] == outputs[1] and "HR" in outputs[0]
    assert trees[0].keys() == trees[1].keys() and "report/report.html" in trees[0]
    assert [k for k in trees[0] if trees[0][k] != trees[1][k]] == []  # files and figures, byte for byte
    # `make demo` twice in a row in one folder: the same headline again
    assert main(["demo", str(tmp_path / "a"), "--subjects", "4", "--seed", "11"]) == 0
    again = re.sub(r"in [0-9.]+ s", "in X s", capsys.readouterr().out).replace(str(tmp_path / "a"), "OUT")
    assert again == outputs[0]
