"""verify (and every loader of project files) never crashes on damaged files: each damage is reported
naming the file (issue #17, "Review store"), including a hypothesis fuzz test of the loaders."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recist.cli import main
from recist.errors import RecistError
from recist.review.workflow import ReviewProject

from .conftest import CHARTER, NOW, make_case, package_case, timepoints


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A project with one subject: both reads signed (disagreeing), adjudicated, a site read."""
    root = tmp_path_factory.mktemp("damage") / "review"
    project = ReviewProject.init(root, CHARTER, as_="PM1", now=NOW)
    p = project.add_subject("NET-001", timepoints(), as_="PM1", now=NOW, check_images=False)
    for reader, sizes in (("R1", [30, 40, 40]), ("R2", [30, 29, 28])):
        project.save_read(p, package_case(project, p, sizes), as_=reader, now=NOW)
        project.sign(p, as_=reader, now=NOW)
    project.adjudicate(p, choose="A", reason="A is right", as_="ADJ1", now=NOW)
    project.import_site_read("NET-001", make_case("NET-001", [30, 40, 40], start=dt.date(2024, 1, 8)), as_="PM1",
                             now=NOW)
    assert project.verify() == []
    return root


def _copy(template: Path, tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "review"
    shutil.copytree(template, root)
    pseudonym = next(p.name for p in (root / "subjects").iterdir())
    return root, pseudonym


def _verify_cli(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["review", "verify", str(root)])
    captured = capsys.readouterr()
    return code, captured.err


def _use_everything(root: Path) -> None:
    """Every loader a user reaches: open, status, show, results, report (only RecistError may escape)."""
    project = ReviewProject.open(root)
    for call in (lambda: project.status(as_="PM1", now=NOW), lambda: project.results(as_="PM1", now=NOW),
                 lambda: project.report(as_="PM1", now=NOW),
                 lambda: [project.show(p.name, as_="PM1", now=NOW) for p in (root / "subjects").iterdir()]):
        try:
            call()
        except RecistError:
            pass


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("damage, named", [
    (lambda root, p: (root / "subjects" / p / "reads" / "R1.json").write_text('{"format": "recist.review.read/1"}'),
     "reads/R1.json"),
    (lambda root, p: (root / "subjects" / p / "subject.json").write_text('{"format": "recist.review.subject/1"}'),
     "subject.json"),
    (lambda root, p: (root / "subjects" / p / "adjudication.json").write_text(
        '{"format": "recist.review.adjudication/1", "choice": "A"}'), "adjudication.json"),
    (lambda root, p: (root / "subjects" / p / "reads" / "R2.json").write_text(DEEP), "reads/R2.json"),
    (lambda root, p: (root / "project.json").write_text(DEEP), "project.json"),
    (lambda root, p: (root / "charter.json").write_bytes(b'{"format": "recist.charter/1", "trial": "\xff\xfe"}'),
     "charter.json"),
    (lambda root, p: ((root / "audit.jsonl").unlink(), (root / "audit.jsonl").mkdir()), "audit.jsonl"),
    (lambda root, p: ((root / "audit.head").unlink(), (root / "audit.head").mkdir()), "audit.head"),
    (lambda root, p: (root / "audit.head").write_text("[1]"), "audit.head"),
    (lambda root, p: (root / "audit.head").write_text(json.dumps({"seq": 3, "hash": "0" * 64, "size": -5})),
     "audit.head"),
    (lambda root, p: _edit_read(root / "subjects" / p / "reads" / "R1.json",
                                lambda v: v["assessment"]["progression"].update(date="2024-02-30")), "reads/R1.json"),
    (lambda root, p: _edit_read(root / "subjects" / p / "reads" / "R2.json",
                                lambda v: v.update(assessment="PR")), "reads/R2.json"),
])
def test_each_damage_is_reported_naming_the_file(template, tmp_path, capsys, damage, named) -> None:
    root, pseudonym = _copy(template, tmp_path)
    damage(root, pseudonym)
    code, err = _verify_cli(root, capsys)
    assert code != 0 and "Traceback" not in err
    assert named in err, err
    _use_everything_or_one_line(root, capsys)


def _use_everything_or_one_line(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        _use_everything(root)
    except RecistError:
        pass
    for argv in (["review", "status", str(root), "--as", "PM1"], ["review", "results", str(root), "--as", "PM1"]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code in (0, 1, 2) and "Traceback" not in err


def _edit_read(path: Path, change) -> None:
    read = json.loads(path.read_text())
    change(read["versions"][-1])
    path.write_text(json.dumps(read))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | st.floats(allow_nan=False)
    | st.text(max_size=12) | st.sampled_from(["2024-02-30", "A", "B", "signed", "draft", "S-00000000"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["format", "versions", "version", "status", "case", "case_sha256", "assessment",
                         "progression", "date", "day", "subject", "reader", "pseudonym", "date_shift_days",
                         "timepoints", "label", "folders", "choice", "reason", "adjudicator", "time", "reads",
                         "seq", "hash", "size", "trial", "best_overall_response"]), children, max_size=6),
    max_leaves=20,
)
TARGETS = ["reads/R1.json", "reads/R2.json", "subject.json", "adjudication.json", "SITE", "project.json",
           "audit.head", "charter.json"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(TARGETS), value=JSON, keep_format=st.booleans(), cut=st.integers(0, 400))
def test_fuzzed_project_files_never_crash_the_loaders(template, tmp_path_factory, target, value, keep_format,
                                                      cut) -> None:
    root, pseudonym = _copy(template, tmp_path_factory.mktemp("fuzz"))
    if target == "SITE":
        path = root / "site_reads" / f"{pseudonym}.json"
    elif target in ("project.json", "audit.head", "charter.json"):
        path = root / target
    else:
        path = root / "subjects" / pseudonym / target
    original = json.loads(path.read_text())
    if keep_format and isinstance(value, dict) and isinstance(original, dict) and "format" in original:
        value = {**value, "format": original["format"]}
    raw = json.dumps(value).encode()
    if cut and cut < len(raw):
        raw = raw[:cut]  # a truncated file
    path.write_bytes(raw)
    capsys_free_verify = main(["review", "verify", str(root)])  # changed bytes: always a problem, never a crash
    assert capsys_free_verify == 1
    try:
        _use_everything(root)
    except RecistError:
        pass


def test_results_batch_export_and_report_refuse_a_project_that_fails_verify(template, tmp_path, capsys) -> None:
    root, pseudonym = _copy(template, tmp_path)
    site = root / "site_reads" / f"{pseudonym}.json"
    site.write_bytes(site.read_bytes().replace(b'"imported_at": "2024-06-01T12', b'"imported_at": "2024-06-01T13'))
    subjects = tmp_path / "subjects.csv"
    subjects.write_text("subject,randomisation_date,arm,death_date,new_therapy_date\nNET-001,2024-01-01,A,,\n"
                        "NET-999,2024-01-01,B,,\n")
    commands = {
        "results": ["review", "results", str(root), "--as", "PM1"],
        "batch": ["batch", str(root), "--subjects", str(subjects), "--out", str(tmp_path / "b"), "--arms", "A,B",
                  "--control", "A"],
        "export": ["export", "csv", str(root), "--out", str(tmp_path / "e"), "--as", "PM1"],
        "report": ["review", "report", str(root), "--as", "PM1"],
    }
    for name, argv in commands.items():
        assert main(argv) == 2, name
        err = capsys.readouterr().err
        assert "fails `recist review verify`" in err and "--ignore-verify" in err and "site_reads/" in err, (name, err)
    assert main([*commands["results"], "--ignore-verify"]) == 1
    assert "--ignore-verify: the project fails verify" in capsys.readouterr().err
    assert main([*commands["report"], "--ignore-verify"]) == 1
    out = capsys.readouterr()
    assert "--ignore-verify: the project fails verify" in out.err and "kappa" in out.out
    assert main([*commands["batch"][:4], "--out", str(tmp_path / "b2"), "--arms", "A,B", "--control", "A",
                 "--ignore-verify"]) == 1
    assert "the project fails verify" in (tmp_path / "b2" / "problems.csv").read_text()
    capsys.readouterr()
    assert main([*commands["export"][:3], "--out", str(tmp_path / "e2"), "--as", "PM1", "--ignore-verify"]) == 0
    assert "--ignore-verify: the project fails verify" in capsys.readouterr().err
