"""``recist review``: the whole workflow through recist.cli.main, exit statuses and refusals."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from recist.cli import main
from recist.review.workflow import ReviewProject

CHARTER = {"format": "recist.charter/1", "trial": "T", "readers": ["R1", "R2"], "adjudicators": ["ADJ1"],
           "administrators": ["PM1"], "timepoint_labels": {"baseline": "baseline", "week 8": "week 8"}}


def _case(subject: str, sizes: list[float], start: dt.date) -> dict:
    return {"format": "recist.case/1", "subject": subject,
            "lesions": [{"id": "T1", "role": "target", "site": "liver"}],
            "timepoints": [{"label": "baseline" if k == 0 else f"week {8 * k}",
                            "date": (start + dt.timedelta(days=56 * k)).isoformat(),
                            "targets": {"T1": {"long_axis_mm": float(s)}}} for k, s in enumerate(sizes)]}


def test_review_workflow_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    charter = tmp_path / "charter.json"
    charter.write_text(json.dumps(CHARTER))
    d = str(tmp_path / "rev")
    assert main(["review", "init", d, "--charter", str(charter), "--as", "PM1"]) == 0
    assert main(["review", "add-subject", d, "NET-1", "--timepoint", "baseline", "2024-01-08", str(tmp_path),
                 "--timepoint", "week 8", "2024-03-04", str(tmp_path), "--as", "PM1", "--no-image-check"]) == 0
    pseudonym = capsys.readouterr().out.strip().splitlines()[-1]
    project = ReviewProject.open(d)
    assert pseudonym == project.pseudonym("NET-1")
    start = dt.date(2024, 1, 8) + dt.timedelta(days=project.date_shift_days("NET-1"))
    for reader, sizes in (("R1", [30, 40]), ("R2", [30, 29])):
        case = tmp_path / f"{reader}.json"
        case.write_text(json.dumps(_case(pseudonym, sizes, start)))
        assert main(["review", "save", d, pseudonym, str(case), "--as", reader]) == 0
        assert main(["review", "sign", d, pseudonym, "--as", reader]) == 0
    amended = tmp_path / "amended.json"
    amended.write_text(json.dumps(_case(pseudonym, [30, 41], start)))
    assert main(["review", "amend", d, pseudonym, str(amended), "--as", "R1", "--reason", "re-measured"]) == 0
    capsys.readouterr()
    assert main(["review", "show", d, pseudonym, "--as", "R2", "--reader", "R1"]) == 2
    assert "may see only their own" in capsys.readouterr().err
    assert main(["review", "status", d, "--as", "PM1"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status[0]["triggers"] == ["progression", "best_overall_response"]
    assert main(["review", "show", d, pseudonym, "--as", "ADJ1"]) == 0
    view = json.loads(capsys.readouterr().out)
    choice = next(ab for ab, r in view["reads"].items() if r["assessment"]["progression"])
    assert main(["review", "adjudicate", d, pseudonym, "--choose", choice, "--reason", "growth", "--as", "ADJ1"]) == 0
    capsys.readouterr()
    assert main(["review", "results", d, "--as", "PM1"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results[0]["best_overall_response"] == "PD" and results[0]["progression_date"] == "2024-03-04"
    out_csv = tmp_path / "results.csv"
    assert main(["review", "results", d, "--as", "PM1", "--format", "csv", "--out", str(out_csv)]) == 0
    assert out_csv.read_text().splitlines()[1].startswith("NET-1,")
    assert main(["review", "report", d, "--as", "PM1"]) == 0
    assert json.loads(capsys.readouterr().out)["adjudication"]["needed"] == 1
    assert main(["review", "verify", d]) == 0
    read = tmp_path / "rev" / "subjects" / pseudonym / "reads" / "R2.json"
    read.write_text(read.read_text().replace("29.0", "19.0"))
    capsys.readouterr()
    assert main(["review", "verify", d]) == 1
    assert f"subjects/{pseudonym}/reads/R2.json" in capsys.readouterr().err


def test_manifest_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    charter = tmp_path / "charter.json"
    charter.write_text(json.dumps(CHARTER))
    d = str(tmp_path / "rev")
    assert main(["review", "init", d, "--charter", str(charter), "--as", "R1"]) == 2
    assert main(["review", "init", d, "--charter", str(charter), "--as", "PM1"]) == 0
    manifest = tmp_path / "m.csv"
    manifest.write_text("subject,timepoint,date,folder\nA,baseline,2024-01-01,x\nB,baseline,2024-01-02,y\n")
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()  # the manifest's folders must exist
    assert main(["review", "add-subject", d, "--manifest", str(manifest), "--as", "PM1", "--no-image-check"]) == 0
    assert capsys.readouterr().out.split()[-2:][0].startswith("S-")
    assert len(ReviewProject.open(d).status(as_="PM1")) == 2
    assert main(["review", "status", str(tmp_path / "nothing"), "--as", "PM1"]) == 2
    assert "not a review project" in capsys.readouterr().err


def _one_signed_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """A project (folder, pseudonym) with subject NET-1 whose read by R1 is signed, made through the CLI."""
    charter = tmp_path / "charter.json"
    charter.write_text(json.dumps(CHARTER))
    d = str(tmp_path / "rev")
    assert main(["review", "init", d, "--charter", str(charter), "--as", "PM1", "--no-account"]) == 0
    assert main(["review", "add-subject", d, "NET-1", "--timepoint", "baseline", "2024-01-08", str(tmp_path),
                 "--timepoint", "week 8", "2024-03-04", str(tmp_path), "--as", "PM1", "--no-image-check"]) == 0
    pseudonym = capsys.readouterr().out.strip().splitlines()[-1]
    project = ReviewProject.open(d)
    start = dt.date(2024, 1, 8) + dt.timedelta(days=project.date_shift_days("NET-1"))
    case = tmp_path / "R1.json"
    case.write_text(json.dumps(_case(pseudonym, [30, 40], start)))
    assert main(["review", "save", d, pseudonym, str(case), "--as", "R1"]) == 0
    assert main(["review", "sign", d, pseudonym, "--as", "R1"]) == 0
    capsys.readouterr()
    return d, pseudonym


def test_withdraw_subject_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d, pseudonym = _one_signed_read(tmp_path, capsys)
    assert main(["review", "withdraw-subject", d, "NET-1", "--reason", "consent withdrawn", "--as", "R1"]) == 2
    err = capsys.readouterr().err
    assert "only administrators may withdraw subjects" in err and len(err.strip().splitlines()) == 1
    assert main(["review", "withdraw-subject", d, "NET-1", "--reason", "consent withdrawn", "--as", "PM1"]) == 2
    err = capsys.readouterr().err
    assert "signed reads by R1" in err and "--withdraw-reads" in err and len(err.strip().splitlines()) == 1
    assert main(["review", "withdraw-subject", d, "NET-1", "--reason", "consent withdrawn", "--as", "PM1",
                 "--withdraw-reads"]) == 0
    assert f"withdrew subject NET-1 ({pseudonym}); reads withdrawn: R1" in capsys.readouterr().out
    assert main(["review", "results", d, "--as", "PM1"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "withdrawn"
    assert main(["review", "status", d, "--as", "R1"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["review", "verify", d]) == 0


def test_correct_timepoints_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d, pseudonym = _one_signed_read(tmp_path, capsys)
    fix = ["review", "correct-timepoints", d, "NET-1", "--timepoint", "baseline", "2024-01-08", str(tmp_path),
           "--timepoint", "week 8", "2024-03-11", str(tmp_path), "--reason", "visit date mistyped", "--no-image-check"]
    assert main([*fix, "--as", "R2"]) == 2
    err = capsys.readouterr().err
    assert "only administrators may correct timepoints" in err and len(err.strip().splitlines()) == 1
    assert main([*fix, "--as", "PM1"]) == 2
    err = capsys.readouterr().err
    assert "signed reads by R1" in err and len(err.strip().splitlines()) == 1
    bad = [*fix, "--as", "PM1", "--withdraw-reads"]
    bad[bad.index("2024-03-11")] = "2024-13-40"
    assert main(bad) == 2
    err = capsys.readouterr().err
    assert "'2024-13-40' is not an ISO date" in err and len(err.strip().splitlines()) == 1
    assert main([*fix, "--as", "PM1", "--withdraw-reads"]) == 0
    assert f"corrected the timepoints of NET-1 ({pseudonym}); reads withdrawn: R1" in capsys.readouterr().out
    record = json.loads((tmp_path / "rev" / "subjects" / pseudonym / "subject.json").read_text())
    assert [tp["date"] for tp in record["timepoints"]] == ["2024-01-08", "2024-03-11"]
    assert main(["review", "status", d, "--as", "R1"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"subject": pseudonym, "status": "not started", "version": None}]
    assert main(["review", "verify", d]) == 0


def test_issue_14_reproductions_as_the_user_runs_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue #14 §1 and §4 through the CLI: a read on the true dates, a decimal slip, a subject id from a
    reader, and a progression after the charter's data cut-off, which `results` and `batch` must refuse
    (the reproduction: `batch` reported the impossible PFS with exit 0 and no problem listed)."""
    charter = tmp_path / "charter.json"
    charter.write_text(json.dumps({**CHARTER, "timepoint_labels": {}, "data_cutoff": "2024-04-01",
                                   "protocol": {"confirmation": False}}))
    d = str(tmp_path / "rev")
    assert main(["review", "init", d, "--charter", str(charter), "--as", "PM1", "--no-account"]) == 0
    dates = ["2024-01-08", "2024-03-04", "2024-04-29"]  # the cut-off falls between week 8 and week 16
    pseudonyms = {}
    for subject in ("NET-1", "NET-2"):
        tps = [arg for k, (label, date) in enumerate(zip(["baseline", "week 8", "week 16"], dates))
               for arg in ("--timepoint", label, date, str(tmp_path))]
        assert main(["review", "add-subject", d, subject, *tps, "--as", "PM1", "--no-image-check"]) == 0
        pseudonyms[subject] = capsys.readouterr().out.strip().splitlines()[-1]
    project = ReviewProject.open(d)

    def read(subject: str, sizes: list[float], *, true_dates: bool = False) -> str:
        p = pseudonyms[subject]
        shown = project._package_timepoints(p)  # noqa: SLF001 - the labels and dates of the reader package
        case = {"format": "recist.case/1", "subject": p,
                "lesions": [{"id": "T1", "role": "target", "site": "liver"}],
                "timepoints": [{"label": tp["label"], "date": date if true_dates else tp["date"],
                                "targets": {"T1": {"long_axis_mm": float(size)}}}
                               for tp, date, size in zip(shown, dates, sizes)]}
        path = tmp_path / f"{subject}-{len(list(tmp_path.glob('*.json')))}.json"
        path.write_text(json.dumps(case))
        return str(path)

    # a read written on the true (unshifted) dates: refused in one line naming the timepoint and the package
    p1 = pseudonyms["NET-1"]
    assert main(["review", "save", d, p1, read("NET-1", [30, 30, 45], true_dates=True), "--as", "R1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    shown_date = project._package_timepoints(p1)[0]["date"]  # noqa: SLF001
    assert len(err) == 1 and "timepoint 'timepoint 1'" in err[0] and "2024-01-08" in err[0] and shown_date in err[0]
    # a decimal slip: 3600 mm (the issue's) is beyond any body; 250.0 typed as 2500 needs the reader's confirmation
    assert main(["review", "save", d, p1, read("NET-1", [30, 30, 3600]), "--as", "R1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "3600.0 mm is above the physical bound" in err[0]
    slip = read("NET-1", [30, 30, 2500])
    assert main(["review", "save", d, p1, slip, "--as", "R1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "2500 mm is above" in err[0] and "--confirm-large-diameters" in err[0]
    assert main(["review", "save", d, p1, slip, "--as", "R1", "--confirm-large-diameters"]) == 0
    # a reader naming a subject by its id learns nothing: the same line as for an id that does not exist
    lines = []
    for subject in ("NET-2", "NET-9"):
        assert main(["review", "show", d, subject, "--as", "R2"]) == 2
        lines.append(capsys.readouterr().err.strip().replace(subject, "<id>"))
    assert lines[0] == lines[1] and len(lines[0].splitlines()) == 1 and "S-" not in lines[0].split("<id>")[0]
    # both readers agree on progression at week 16 (NET-1, after the cut-off) and at week 8 (NET-2)
    for subject, sizes in (("NET-1", [30, 30, 45]), ("NET-2", [30, 45, 45])):
        for reader in ("R1", "R2"):
            assert main(["review", "save", d, pseudonyms[subject], read(subject, sizes), "--as", reader]) == 0
            assert main(["review", "sign", d, pseudonyms[subject], "--as", reader]) == 0
    capsys.readouterr()
    assert main(["review", "results", d, "--as", "PM1"]) == 1
    captured = capsys.readouterr()
    rows = {row["subject"]: row for row in json.loads(captured.out)}
    assert rows["NET-1"]["status"] == "invalid" and "after the data cut-off 2024-04-01" in rows["NET-1"]["problem"]
    assert (rows["NET-2"]["status"], rows["NET-2"]["progression_date"]) == ("final", "2024-03-04")
    assert "NET-1" in captured.err and "after the data cut-off" in captured.err
    subjects = tmp_path / "subjects.csv"
    subjects.write_text("subject,randomisation_date,arm,death_date,new_therapy_date\n"
                        "NET-1,2024-01-01,A,,\nNET-2,2024-01-01,B,,\n")
    out = tmp_path / "batch"
    assert main(["batch", d, "--subjects", str(subjects), "--out", str(out), "--arms", "A,B", "--control", "A"]) == 1
    problems = (out / "problems.csv").read_text()
    assert "NET-1" in problems and "after the data cut-off 2024-04-01" in problems
    pfs = (out / "pfs_subjects.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in pfs[1:]] == ["NET-2"]  # no PFS computed from the refused date
    assert main(["review", "verify", d]) == 0
