"""Fixtures of the central-review tests: a charter, a project with subjects, small cases."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from recist.review.workflow import ReviewProject, SubjectTimepoint

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
CHARTER: dict[str, Any] = {
    "format": "recist.charter/1",
    "trial": "NET-3",
    "protocol": {"confirmation": False, "sd_min_days": 42},
    "visit_schedule": {"interval_days": 56, "window_days": 7},
    "readers": ["R1", "R2"],
    "adjudicators": ["ADJ1"],
    "administrators": ["PM1"],
}


def load_factory() -> Any:
    """tests/io/dicom_factory.py (loaded by path: tests/ is not a package)."""
    path = Path(__file__).resolve().parents[1] / "io" / "dicom_factory.py"
    spec = importlib.util.spec_from_file_location("recist_test_dicom_factory", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def make_case(subject: str, sizes_mm: list[float | None], *, start: dt.date = dt.date(2020, 1, 6),
              interval_days: int = 56, new_lesion_at: int | None = None,
              labels: list[str] | None = None) -> dict[str, Any]:
    """A one-target case: baseline then follow-ups every ``interval_days`` with the given long axes.

    A size of None records the target as not evaluated. ``labels`` default to baseline, week 8, ...
    """
    timepoints = []
    for k, size in enumerate(sizes_mm):
        tp: dict[str, Any] = {
            "label": labels[k] if labels else ("baseline" if k == 0 else f"week {k * interval_days // 7}"),
            "date": (start + dt.timedelta(days=k * interval_days)).isoformat(),
            "targets": {"T1": {"state": "not_evaluated"} if size is None else {"long_axis_mm": float(size)}},
        }
        if new_lesion_at is not None and k >= new_lesion_at:
            tp["new_lesions"] = [{"id": "N1", "site": "bone", "equivocal": False}]
        timepoints.append(tp)
    return {
        "format": "recist.case/1",
        "subject": subject,
        "lesions": [{"id": "T1", "role": "target", "site": "liver"}],
        "timepoints": timepoints,
    }


def package_case(project: ReviewProject, pseudonym: str, sizes_mm: list[float | None], **kwargs: Any) -> dict[str, Any]:
    """A read of ``pseudonym`` written as a reader does from the package: pseudonym, package labels and dates."""
    shown = project._package_timepoints(pseudonym)  # noqa: SLF001 - what the package manifest lists
    return make_case(pseudonym, sizes_mm, start=dt.date.fromisoformat(shown[0]["date"]),
                     labels=[tp["label"] for tp in shown], **kwargs)


def timepoints(n: int = 3, start: dt.date = dt.date(2024, 1, 8), folder: str = "/nonexistent") -> list[SubjectTimepoint]:
    labels = ["baseline"] + [f"week {8 * k}" for k in range(1, n)]
    return [SubjectTimepoint(label, start + dt.timedelta(days=56 * k), (folder,)) for k, label in enumerate(labels)]


@pytest.fixture
def project(tmp_path: Path) -> ReviewProject:
    """A project with three subjects (no images) created by PM1."""
    proj = ReviewProject.init(tmp_path / "review", CHARTER, as_="PM1", now=NOW)
    for subject in ("NET-001", "NET-002", "NET-003"):
        proj.add_subject(subject, timepoints(), as_="PM1", now=NOW, check_images=False)
    return proj
