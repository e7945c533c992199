"""Adding subjects to a review project: one subject, or every subject of a manifest CSV, all or nothing.

The methods of :class:`recist.review.workflow.ReviewProject` that record new subjects (administrators
only). A subject is checked before anything is recorded: its id, its timepoints (baseline first, dates
increasing, labels unique), that it is not already in the project, and, unless the caller says the
images are not there yet (``check_images=False``), that each timepoint folder holds loadable DICOM series
of the charter's modalities dated the timepoint's date (:func:`recist.review.image_checks.folder_problem`).

Not checking images is explicit, never silent: the audit entry of the addition records
``"images_checked": false`` and the CLI (``--no-image-check``) says so. Simulated reviews, whose
subjects have no images, and core labs that add subjects before their images arrive use it; a missing
or bad series is then found by ``package``, which names the subject and timepoint.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from pathlib import Path

from recist.errors import RecistError, RecistValidationError, ReviewStateError
from recist.review._common import utc as _utc
from recist.review.image_checks import folder_problem, patients_problem
from recist.review.store import read_json, staged_exists
from recist.review.subjects import ManifestRow, SubjectTimepoint, read_manifest

__all__ = ["IntakeMixin"]

_SUBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,99}$")


class IntakeMixin:
    """``add_subject`` and ``add_manifest`` (mixed into :class:`recist.review.workflow.ReviewProject`)."""

    def add_subject(
        self, subject: str, timepoints: Iterable[SubjectTimepoint], *, as_: str, now: _dt.datetime | None = None,
        check_images: bool = True,
    ) -> str:
        """Add a subject with its timepoints (baseline first, dates increasing); returns its pseudonym.

        With ``check_images`` (the default) every timepoint folder must hold loadable DICOM series of the
        charter's modalities dated the timepoint's date; ``check_images=False`` records the subject
        without looking at its folders (audited as ``images_checked: false``).
        """
        now = _utc(now)
        with self._guard(as_, "add subjects", now, subject):
            self._require(as_, ["administrator"], "add subjects", now)
            tps = list(timepoints)
            problem = self._new_subject_problem(subject, tps)
            if problem is not None:
                raise problem
            image_problem = self._images_problem(tps) if check_images else None
            if image_problem is not None:
                raise RecistValidationError(f"subject {subject!r}{image_problem}")
            return self._add_subject(subject, tps, as_=as_, now=now, check_images=check_images)

    def _images_problem(self, tps: list[SubjectTimepoint]) -> str | None:
        """Why a subject's timepoint folders do not hold its images, as ``", timepoint 'x': why"`` or
        ``": why"`` (folders of more than one patient), or None."""
        patients: dict[str, set[str]] = {}
        for tp in tps:
            problem = self._timepoint_images_problem(tp, patients.setdefault(tp.label, set()))
            if problem is not None:
                return f", timepoint {tp.label!r}: {problem}"
        mixed = patients_problem(patients)
        return None if mixed is None else f": {mixed}"

    def _timepoint_images_problem(self, tp: SubjectTimepoint, patient_ids: set[str] | None = None) -> str | None:
        """Why the folders of ``tp`` do not hold its images (the first folder that fails), or None; the
        PatientIDs of its series are added to ``patient_ids`` when given."""
        if not tp.folders:
            return "no DICOM folder is given for this timepoint"
        for folder in tp.folders:
            problem = folder_problem(folder, tp.date, self.charter.modalities, patient_ids)
            if problem is not None:
                return problem
        return None

    def _new_subject_problem(self, subject: str, tps: list[SubjectTimepoint]) -> RecistError | None:
        """Why ``subject`` with ``tps`` cannot be added, images aside (None: it can)."""
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
        for tp in tps:
            relative = [folder for folder in tp.folders if not Path(folder).is_absolute()]
            if relative:
                return RecistValidationError(
                    f"folder {relative[0]!r} is not an absolute path: give the full path of the DICOM folder (on "
                    "the machine that packages the project)", timepoint=tp.label)
        for before, after in zip(tps, tps[1:]):
            if after.date <= before.date:
                return RecistValidationError(
                    f"timepoint dates must increase (baseline first): {after.label} {after.date} is not after "
                    f"{before.label} {before.date}", timepoint=after.label)
        return None

    def _add_subject(self, subject: str, tps: list[SubjectTimepoint], *, as_: str, now: _dt.datetime,
                     check_images: bool) -> str:
        """Record a checked subject (the checks that depend on the project are made again under the lock)."""
        pseudonym = self.pseudonym(subject)
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
                         writes={self._sdir(pseudonym) / "subject.json": data},
                         details={"timepoints": len(tps), "images_checked": check_images})
        return pseudonym

    def add_manifest(self, path: str | Path, *, as_: str, now: _dt.datetime | None = None,
                     check_images: bool = True) -> list[str]:
        """Add every subject of a manifest CSV (see :func:`recist.review.subjects.read_manifest`); returns the
        pseudonyms.

        All or nothing: every subject is checked first (its id, its dates in order, not already in the
        project and, with ``check_images``, every folder as :meth:`add_subject` checks it). A bad manifest
        is refused with one line naming the manifest line of the first problem (and the lines of any
        others), and nothing of the manifest is recorded.
        """
        now = _utc(now)
        with self._guard(as_, "add subjects", now):
            self._require(as_, ["administrator"], "add subjects", now)
            subjects, rows = read_manifest(path)
            problems = self._manifest_problems(subjects, rows, check_images)
            if problems:
                (line, first), others = problems[0], problems[1:]
                more = (f" (also line{'s' if len(others) > 1 else ''} "
                        f"{', '.join(str(n) for n, _ in others[:10])}{' ...' if len(others) > 10 else ''})"
                        if others else "")
                raise RecistValidationError(f"line {line}: {first}{more}; nothing of the manifest was added",
                                            source=str(path))
            with self._locked():  # a subject added meanwhile by another administrator: refused, nothing added
                for subject, tps in subjects.items():
                    problem = self._new_subject_problem(subject, tps)
                    if problem is not None:
                        line = min(r.line for r in rows if r.subject == subject)
                        raise RecistValidationError(f"line {line}: {problem}; nothing of the manifest was added",
                                                    source=str(path))
                return [self._add_subject(s, tps, as_=as_, now=now, check_images=check_images)
                        for s, tps in subjects.items()]

    def _manifest_problems(self, subjects: dict[str, list[SubjectTimepoint]], rows: list[ManifestRow],
                           check_images: bool) -> list[tuple[int, str]]:
        """Every problem of a manifest as (line, one-line message), sorted by line.

        A subject's problem is put on the line of the timepoint it names (dates out of order), else the
        subject's first line; an image problem on the line of the folder.
        """
        found: list[tuple[int, str]] = []
        for subject, tps in subjects.items():
            mine = [r for r in rows if r.subject == subject]
            problem = self._new_subject_problem(subject, tps)
            if problem is not None:
                named = getattr(problem, "timepoint", None)
                line = min((r.line for r in mine if r.timepoint == named), default=mine[0].line)
                found.append((line, f"subject {subject!r}: {problem}"))
                continue
            if not check_images:
                continue
            dates = {tp.label: tp.date for tp in tps}
            patients: dict[str, set[str]] = {}
            clean = True
            for row in mine:
                image_problem = folder_problem(row.folder, dates[row.timepoint], self.charter.modalities,
                                               patients.setdefault(row.timepoint, set()))
                if image_problem is not None:
                    clean = False
                    found.append((row.line, f"subject {subject!r}, timepoint {row.timepoint!r}: {image_problem}"))
            mixed = patients_problem(patients) if clean else None
            if mixed is not None:
                found.append((mine[0].line, f"subject {subject!r}: {mixed}"))
        return sorted(found)
