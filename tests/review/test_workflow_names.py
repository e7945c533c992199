"""Users' scripts import from ``recist.review.workflow``: splitting the module keeps every name there."""

from __future__ import annotations

import importlib

import pytest

# every public name recist.review.workflow offered before it was split into journal, intake and reads
NAMES = ["ReviewProject", "SubjectTimepoint", "SIGNATURE_MEANING", "PROJECT_FORMAT", "JOURNAL_NAME",
         "PENDING_SUFFIX", "PSEUDONYM", "load_manifest", "load_manifest_rows", "calendar_case", "verify_project"]
METHODS = ["init", "open", "add_subject", "add_manifest", "package", "save_read", "sign", "amend", "show", "status",
           "adjudicate", "results", "results_csv", "report", "import_site_read", "withdraw_subject",
           "correct_timepoints", "verify", "install_server_key", "log_event", "pseudonym", "date_shift_days",
           "subject_pseudonyms"]


@pytest.mark.parametrize("name", NAMES)
def test_public_names_stay_importable_from_workflow(name: str) -> None:
    workflow = importlib.import_module("recist.review.workflow")
    assert name in workflow.__all__
    assert getattr(workflow, name) is not None


def test_review_project_keeps_every_method() -> None:
    from recist.review.workflow import ReviewProject

    missing = [m for m in METHODS if not callable(getattr(ReviewProject, m, None))]
    assert missing == []


def test_the_split_modules_stay_small() -> None:
    from pathlib import Path

    import recist.review as review

    folder = Path(review.__file__).parent
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.py")}
    assert sizes["workflow.py"] < 600, sizes
