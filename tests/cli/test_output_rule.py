"""The one output rule of every command (issue #17 section 2, :mod:`recist.cli._output`), run as a user runs
the CLI: a non-empty output folder or an existing output file is refused (one line, exit status 2, nothing
touched) unless ``--force``; a new or empty folder is fine; a file where a folder is expected and a folder
where a file is expected are one line, exit status 2."""

from __future__ import annotations

import datetime as dt
import json
import sys
import warnings
from pathlib import Path

import pytest

import recist
from recist.cli import main
from recist.review.workflow import ReviewProject

from .test_new_user import _one_error_line

sys.path.insert(0, str(Path(__file__).parents[1] / "io"))
from exchange_cases import example_case_dict, write_images  # noqa: E402

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
CHARTER = {
    "format": "recist.charter/1", "trial": "NET-3", "protocol": {"confirmation": False, "sd_min_days": 42},
    "visit_schedule": {"interval_days": 56, "window_days": 7}, "readers": ["R1", "R2"], "adjudicators": ["ADJ1"],
    "administrators": ["PM1"], "timepoint_labels": {"baseline": "baseline"},
}  # fmt: skip


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """A case file, its image series, its SDTM export and its SR export (made once by the CLI itself)."""
    root = tmp_path_factory.mktemp("inputs")
    case = root / "cases" / "ex.json"
    case.parent.mkdir()
    case.write_text(json.dumps(example_case_dict()))
    series = write_images(recist.read_case(case), root / "images")
    assert main(["export", "sdtm", str(case), "--out", str(root / "sdtm"), "--format", "csv"]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert main(["export", "sr", str(case), "--images", *map(str, series), "--out", str(root / "sr")]) == 0
    return {"case": case, "images": root / "images", "sdtm": root / "sdtm", "sr": root / "sr"}


def _folder_argv(command: str, inputs: dict[str, Path], out: Path) -> list[str]:
    images = [str(p) for p in sorted(inputs["images"].iterdir())]
    return {
        "export sdtm": ["export", "sdtm", str(inputs["case"]), "--format", "csv", "--out", str(out)],
        "export csv": ["export", "csv", str(inputs["case"]), "--out", str(out)],
        "export sr": ["export", "sr", str(inputs["case"]), "--images", *images, "--out", str(out)],
        "import sdtm": ["import", "sdtm", str(inputs["sdtm"]), "--out", str(out)],
        "import sr": ["import", "sr", str(inputs["sr"]), "--out", str(out)],
    }[command]


FOLDER_COMMANDS = ["export sdtm", "export csv", "export sr", "import sdtm", "import sr"]


def _main(argv: list[str]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the test images lack some SR-relevant attributes
        return main(argv)


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_non_empty_output_folder_is_refused_then_forced(tmp_path, capsys, inputs, command):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert _main(_folder_argv(command, inputs, out)) == 2
    line = _one_error_line(capsys.readouterr().err, command.split()[0])
    assert "is not empty" in line and "--force" in line and str(out) in line
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert _main([*_folder_argv(command, inputs, out), "--force"]) == 0
    assert (out / "keep.txt").read_text() == "mine" and len(list(out.iterdir())) > 1


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_empty_output_folder_is_fine(tmp_path, inputs, command):
    out = tmp_path / "out"
    out.mkdir()
    assert _main(_folder_argv(command, inputs, out)) == 0
    assert list(out.iterdir())


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_output_folder_that_is_a_file(tmp_path, capsys, inputs, command):
    plain = tmp_path / "plain"
    plain.write_text("x")
    assert _main(_folder_argv(command, inputs, plain)) == 2
    assert "is a file, not a folder" in _one_error_line(capsys.readouterr().err, command.split()[0])
    assert plain.read_text() == "x"


def test_import_again_with_force_replaces_instead_of_doubling(tmp_path, inputs):
    """Importing the same data twice gives the same cases, not a second copy each (which `assess DIR` and
    `batch` would count twice)."""
    out = tmp_path / "cases"
    assert main(["import", "sdtm", str(inputs["sdtm"]), "--out", str(out)]) == 0
    first = sorted(p.name for p in out.iterdir())
    assert main(["import", "sdtm", str(inputs["sdtm"]), "--out", str(out)]) == 2
    assert main(["import", "sdtm", str(inputs["sdtm"]), "--out", str(out), "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == first


def test_assess_existing_output_file_needs_force(tmp_path, capsys, inputs):
    target = tmp_path / "out.json"
    target.write_text("old")
    assert main(["assess", str(inputs["case"]), "-o", str(target)]) == 2
    line = _one_error_line(capsys.readouterr().err, "assess")
    assert str(target) in line and "--force" in line
    assert target.read_text() == "old"
    assert main(["assess", str(inputs["case"]), "-o", str(target), "--force"]) == 0
    assert json.loads(target.read_text())["subject"] == "EX-001"


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "review"
    ReviewProject.init(root, CHARTER, as_="PM1", now=NOW)
    return root


def test_review_results_output_file(tmp_path, capsys, project):
    target = tmp_path / "results.json"
    assert main(["review", "results", str(project), "--as", "PM1", "--out", str(target)]) == 0
    assert json.loads(target.read_text()) == []
    target.write_text("old")
    assert main(["review", "results", str(project), "--as", "PM1", "--out", str(target)]) == 2
    assert "--force" in _one_error_line(capsys.readouterr().err, "review")
    assert target.read_text() == "old"
    assert main(["review", "results", str(project), "--as", "PM1", "--out", str(target), "--force"]) == 0
    assert json.loads(target.read_text()) == []
    assert main(["review", "results", str(project), "--as", "PM1", "--out", str(tmp_path)]) == 2
    assert "is a folder" in _one_error_line(capsys.readouterr().err, "review")


def test_review_init_and_package_into_a_file(tmp_path, capsys, project):
    plain = tmp_path / "plain"
    plain.write_text("x")
    charter = tmp_path / "charter.json"
    charter.write_text(json.dumps(CHARTER))
    for folder in (plain, plain / "sub"):
        assert main(["review", "init", str(folder), "--charter", str(charter), "--as", "PM1", "--no-account"]) == 2
        assert str(folder) in _one_error_line(capsys.readouterr().err, "review")
        assert main(["review", "package", str(project), "--reader", "R1", str(folder), "--as", "PM1"]) == 2
        assert str(folder) in _one_error_line(capsys.readouterr().err, "review")
    assert plain.read_text() == "x"
