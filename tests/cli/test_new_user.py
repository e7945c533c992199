"""The command line tried as a new user would (issue #17 section 2 and 4): every mistake is one line,
exit status 2, no traceback; the conventions a user expects (--version, stdin, completion) work."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import recist
from recist.cli import main

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "sample_data" / "cases"
ONE = CASES / "NET-003_target_progression.json"


def _one_error_line(err: str, command: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"recist {command}: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _run(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "recist", *argv], input=stdin, capture_output=True, timeout=120,
                          cwd=ROOT)


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"recist {recist.__version__}"


def test_assess_reads_a_case_from_stdin():
    done = _run("assess", "-", stdin=ONE.read_bytes())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == recist.assess(ONE).to_dict()


def test_assess_stdin_errors_name_stdin():
    done = _run("assess", "-", stdin=b'{"format": "recist.case/1"')
    assert done.returncode == 2
    assert "<stdin>" in _one_error_line(done.stderr.decode(), "assess")


def test_assess_jsonl_for_one_file(capsys):
    assert main(["assess", str(ONE), "--format", "jsonl"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out)["subject"] == "NET-003"


def test_a_large_batch_into_a_closed_pipe(tmp_path):
    """More output than a pipe buffer holds, so the reader really goes away mid-write."""
    for k in range(100):  # about 200 kB of JSON lines, more than a pipe buffer
        shutil.copy(ONE, tmp_path / f"c{k:03d}.json")
    proc = subprocess.Popen([sys.executable, "-m", "recist", "assess", str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""


class _ClosedPipe:
    """A stdout whose reader has gone: every write raises BrokenPipeError."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("command", [
    ["series", str(ROOT / "sample_data" / "patient")],
    ["suv", str(ROOT / "sample_data" / "patient" / "baseline" / "PT")],
    ["measure", str(ROOT / "sample_data" / "patient" / "baseline" / "lesions.nii.gz")],
    ["assess", str(ONE)],
])
def test_every_command_stops_quietly_on_a_closed_pipe(command, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(command) == 141
    assert capsys.readouterr().err == ""


def test_assess_output_that_is_a_folder(tmp_path, capsys):
    assert main(["assess", str(ONE), "-o", str(tmp_path)]) == 2
    assert "is a folder" in _one_error_line(capsys.readouterr().err, "assess")


def test_assess_output_under_a_file(tmp_path, capsys):
    (tmp_path / "plain").write_text("x")
    assert main(["assess", str(ONE), "-o", str(tmp_path / "plain" / "out.json")]) == 2
    assert "is a file, not a folder" in _one_error_line(capsys.readouterr().err, "assess")


def test_assess_output_file_is_replaced_only_with_force(tmp_path, capsys):
    target = tmp_path / "out.json"
    target.write_text("old")
    assert main(["assess", str(ONE), "-o", str(target)]) == 2
    assert "--force" in _one_error_line(capsys.readouterr().err, "assess") and target.read_text() == "old"
    assert main(["assess", str(ONE), "-o", str(target), "--force"]) == 0
    assert json.loads(target.read_text())["subject"] == "NET-003"


@pytest.mark.parametrize("command", ["assess", "series", "suv", "measure"])
def test_nul_byte_in_a_path(capsys, command):
    assert main([command, "case\0.json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "NUL" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["sample", "report", "batch", "simulate"])
def test_output_folder_that_is_a_file(tmp_path, capsys, command):
    plain = tmp_path / "plain"
    plain.write_text("x")
    argv = {
        "sample": ["sample", str(plain)],
        "simulate": ["simulate", str(plain), "--subjects", "4"],
        "report": ["report", str(CASES), "--subjects", str(_subjects(tmp_path)), "--out", str(plain),
                   "--interval-days", "56", *ARMS],
        "batch": ["batch", str(CASES), "--subjects", str(_subjects(tmp_path)), "--out", str(plain),
                  "--interval-days", "56", *ARMS],
    }[command]
    assert main(argv) == 2
    assert "is a file, not a folder" in _one_error_line(capsys.readouterr().err, command)
    assert plain.read_text() == "x"


@pytest.mark.parametrize("command", ["sample", "report", "batch", "simulate"])
def test_non_empty_output_folder_needs_force(tmp_path, capsys, command):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    argv = {
        "sample": ["sample", str(out)],
        "simulate": ["simulate", str(out), "--subjects", "4"],
        "report": ["report", str(CASES), "--subjects", str(_subjects(tmp_path)), "--out", str(out),
                   "--interval-days", "56", *ARMS],
        "batch": ["batch", str(CASES), "--subjects", str(_subjects(tmp_path)), "--out", str(out),
                  "--interval-days", "56", *ARMS],
    }[command]
    assert main(argv) == 2
    line = _one_error_line(capsys.readouterr().err, command)
    assert "is not empty" in line and "--force" in line
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_force_writes_into_a_non_empty_folder(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["simulate", str(out), "--subjects", "2", "--force"]) == 0
    assert (out / "keep.txt").read_text() == "mine" and len(list(out.iterdir())) > 1


ARMS = ("--arms", "A", "--control", "A")  # every subject of _subjects is in arm A


def _subjects(tmp_path: Path) -> Path:
    path = tmp_path / "subjects.csv"
    rows = ["subject,randomisation_date,arm,death_date,new_therapy_date"]
    for case in sorted(CASES.glob("*.json")):
        data = json.loads(case.read_text())
        first = data["timepoints"][0].get("date") or "2024-01-01"
        rows.append(f"{data['subject']},{first},A,,")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_batch_scheduler_without_dask_names_the_extra(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a))
    assert main(["batch", str(CASES), "--subjects", str(_subjects(tmp_path)), "--out", str(tmp_path / "o"),
                 "--interval-days", "56", *ARMS, "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "recist[dask]" in _one_error_line(capsys.readouterr().err, "batch")


def test_series_on_an_empty_folder_says_so(tmp_path, capsys):
    assert main(["series", str(tmp_path)]) == 2
    assert "no DICOM image series" in _one_error_line(capsys.readouterr().err, "series")


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_shell_completion_lists_the_commands(shell, capsys):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    for command in ("assess", "measure", "series", "suv", "completion"):
        assert command in script


def test_bash_completion_completes_a_command(tmp_path, capsys):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "recist.bash"
    script.write_text(capsys.readouterr().out)
    probe = (f'source {script}; COMP_WORDS=(recist ass); COMP_CWORD=1; COMP_LINE="recist ass"; '
             'COMP_POINT=${#COMP_LINE}; _shtab_recist; printf "%s\\n" "${COMPREPLY[@]}"')
    done = subprocess.run([bash, "-c", probe], capture_output=True, text=True, timeout=30)
    assert "assess" in done.stdout.split(), done.stdout + done.stderr


def test_batch_assess_continues_past_an_unexpected_error(tmp_path, capsys, monkeypatch):
    """One case meeting a bug must not abort a whole `recist assess DIR`."""
    for path in CASES.glob("*.json"):
        shutil.copy(path, tmp_path)
    import recist.api

    real = recist.api.assess_case

    def flaky(case, protocol=None):
        if case.subject == "NET-002":
            raise ZeroDivisionError("simulated bug")
        return real(case, protocol)

    monkeypatch.setattr(recist.api, "assess_case", flaky)
    assert main(["assess", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == len(list(CASES.glob("*.json"))) - 1
    assert "NET-002_stable_disease.json" in captured.err and "ZeroDivisionError" in captured.err
    assert "Traceback" not in captured.err


def test_newline_in_a_lesion_id_gives_one_line(tmp_path, capsys):
    case = json.loads(ONE.read_text())
    bad = "T1\nT2"
    case["lesions"][0]["id"] = bad
    case["timepoints"][1]["targets"] = {bad: {"long_axis_mm": -1}}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(case))
    assert main(["assess", str(path)]) == 2
    line = _one_error_line(capsys.readouterr().err, "assess")
    assert repr(bad) in line
