"""Adding subjects to a review project: one subject, or every subject of a manifest CSV, all or nothing.

The methods of :class:`recist.review.workflow.ReviewProject` that record new subjects (administrators
only). A subject is checked before anything is recorded: its id, its timepoints (baseline first, dates
increasing, labels unique), that it is not already in the project.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from pathlib import Path

from recist.errors import RecistError, RecistValidationError, ReviewStateError
from recist.review._common import utc as _utc
from recist.review.store import read_json, staged_exists
from recist.review.subjects import SubjectTimepoint, load_manifest_rows

__all__ = ["IntakeMixin"]

_SUBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,99}$")


class IntakeMixin:
    """``add_subject`` and ``add_manifest`` (mixed into :class:`recist.review.workflow.ReviewProject`)."""

    def add_subject(
        self, subject: str, timepoints: Iterable[SubjectTimepoint], *, as_: str, now: _dt.datetime | None = None
    ) -> str:
        """Add a subject with its timepoints (baseline first, dates increasing); returns its pseudonym."""
        now = _utc(now)
        with self._guard(as_, "add subjects", now, subject):
            return self._add_subject(subject, timepoints, as_=as_, now=now)

    def _new_subject_problem(self, subject: str, tps: list[SubjectTimepoint]) -> RecistError | None:
        """Why ``subject`` with ``tps`` cannot be added (None: it can)."""
        if not isinstance(subject, str) or not _SUBJECT_ID.match(subject):
            return RecistValidationError(
                f"subject id {subject!r} must be 1-100 letters, digits, spaces, '_', '.' or '-'", field="subject")
        problem = self._timepoints_problem(subject, tps)
        if problem is not None:
            return problem
        path = self._sdir(self.pseudonym(subject)) / "subject.json"
        if staged_exists(path):  # on disk, or added earlier in the same batch
            existing = read_json(path, "subject")["subject"]
            return ReviewStateError(
                f"subject {subject!r} is already in the project" if existing == subject
                else f"pseudonym collision between {subject!r} and {existing!r}: rename one subject")
        return None

    @staticmethod
    def _timepoints_problem(subject: str, tps: list[SubjectTimepoint]) -> RecistError | None:
        """Why ``tps`` cannot be the timepoints of ``subject`` (None: they can)."""
        if not tps:
            return RecistValidationError(f"subject {subject!r} has no timepoint", field="timepoints")
        labels = [tp.label for tp in tps]
        if len(set(labels)) != len(labels):
            return RecistValidationError(f"subject {subject!r} lists a timepoint label twice: {labels}")
        for before, after in zip(tps, tps[1:]):
            if after.date <= before.date:
                return RecistValidationError(
                    f"timepoint dates must increase (baseline first): {after.label} {after.date} is not after "
                    f"{before.label} {before.date}", timepoint=after.label)
        return None

    def _add_subject(self, subject: str, timepoints: Iterable[SubjectTimepoint], *, as_: str,
                     now: _dt.datetime) -> str:
        self._require(as_, ["administrator"], "add subjects", now)
        tps = list(timepoints)
        pseudonym = self.pseudonym(subject) if isinstance(subject, str) else ""
        with self._locked():
            problem = self._new_subject_problem(subject, tps)
            if problem is not None:
                raise problem
            data = {
                "format": "recist.review.subject/1",
                "subject": subject,
                "pseudonym": pseudonym,
                "date_shift_days": self.date_shift_days(subject),
                "timepoints": [tp.to_dict() for tp in tps],
            }
            self._commit(actor=as_, action="add", now=now, subject=subject,
                         writes={self._sdir(pseudonym) / "subject.json": data}, details={"timepoints": len(tps)})
        return pseudonym

    def add_manifest(self, path: str | Path, *, as_: str, now: _dt.datetime | None = None) -> list[str]:
        """Add every subject of a manifest CSV (see :func:`load_manifest`); returns the pseudonyms.

        All or nothing: every subject is checked first (its id, its dates in order, not already in the
        project, every DICOM folder present); a bad one is reported with the manifest row where it begins
        and nothing of the manifest is recorded.
        """
        now = _utc(now)
        with self._guard(as_, "add subjects", now):
            self._require(as_, ["administrator"], "add subjects", now)
            subjects, rows = load_manifest_rows(path)
            with self._locked():
                for subject, tps in subjects.items():
                    problem = self._new_subject_problem(subject, tps)
                    missing = [f for tp in tps for f in tp.folders if not Path(f).is_dir()]
                    if problem is None and missing:
                        problem = RecistValidationError(f"folder {missing[0]} does not exist (or is not a folder)")
                    if problem is not None:
                        raise RecistValidationError(
                            f"row {rows[subject]} (subject {subject!r}): {problem}; nothing of the manifest was added",
                            source=str(path))
                return [self._add_subject(s, tps, as_=as_, now=now) for s, tps in subjects.items()]
