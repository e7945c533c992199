"""The data cut-off of an analysis: what is known on that date, and nothing after it.

Each analysis of a trial has a data cut-off date fixed in advance; tumour assessments, deaths and other
dates after it are not used, so that an analysis can be reproduced and arms are followed for the same
calendar period (FDA 2018 guidance, "Clinical Trial Endpoints for the Approval of Cancer Drugs and
Biologics", PFS: subjects without an event are censored at their last adequate assessment, which at an
analysis is the last one on or before the cut-off; EMA/CHMP/27994/2008/Rev.1 Appendix 1 (2012) §4, on
the timing of the data cut-off for PFS analyses).

Choices (written in ``docs/endpoints.md``):

- A scan dated on the cut-off day is used (the cut-off is the last day of data).
- A subject randomised after the cut-off is not part of the analysis (disposition: "randomised after the
  data cut-off").
- Death, new anticancer therapy, last contact and treatment discontinuation after the cut-off are not yet
  known: they are removed, and the subject is followed up to the cut-off.
- Reads are truncated before they are assessed (:func:`truncate_case`), so confirmation of response and
  of progression uses only scans up to the cut-off, like the best overall response.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from recist.endpoints.subjects import Subject

__all__ = ["subject_at_cutoff", "truncate_case"]


def subject_at_cutoff(subject: Subject, cutoff: dt.date) -> Subject | None:
    """The subject as known on ``cutoff``: later dates removed; ``None`` if randomised after it.

    Examples
    --------
    >>> s = Subject("S1", dt.date(2024, 1, 1), "A", death_date=dt.date(2024, 9, 1))
    >>> subject_at_cutoff(s, dt.date(2024, 6, 30)).death_date is None
    True
    >>> subject_at_cutoff(s, dt.date(2023, 12, 31)) is None
    True
    """
    if subject.randomisation_date > cutoff:
        return None

    def known(date: dt.date | None) -> dt.date | None:
        return date if date is not None and date <= cutoff else None

    discontinued = known(subject.discontinuation_date)
    return dataclasses.replace(
        subject,
        death_date=known(subject.death_date),
        new_therapy_date=known(subject.new_therapy_date),
        last_contact_date=known(subject.last_contact_date),
        discontinuation_date=discontinued,
        discontinuation_reason=subject.discontinuation_reason if discontinued else None,
    )


def truncate_case(case: Any, last_date: dt.date) -> tuple[Any, int]:
    """The case without its follow-up timepoints dated after ``last_date``, and how many were removed.

    A follow-up's date is its ``date``, or the baseline date plus its ``day`` when only the day is given;
    a follow-up that cannot be dated is kept (PFS will then report it). The baseline is always kept.

    Parameters
    ----------
    case
        A :class:`recist.model.case.Case`, a case-file dict or the path of a case file.
    last_date
        The last day of data, in the case's own calendar (a de-identified read's dates are shifted: pass
        the cut-off shifted the same way).

    Returns
    -------
    tuple
        The (re-validated) :class:`~recist.model.case.Case`, and the number of timepoints removed.
    """
    from recist.io.case_json import read_case
    from recist.model.case import Case
    from recist.model.validate import parse_case

    parsed = case if isinstance(case, Case) else parse_case(case) if isinstance(case, dict) else read_case(case)
    data = parsed.model_dump(mode="json", exclude_none=True)
    timepoints = data["timepoints"]
    baseline = parsed.timepoints[0]
    base_date = baseline.date - dt.timedelta(days=baseline.day or 0) if baseline.date else None
    kept = [timepoints[0]]
    for raw, tp in zip(timepoints[1:], parsed.timepoints[1:]):
        date = tp.date or (base_date + dt.timedelta(days=tp.day) if base_date and tp.day is not None else None)
        if date is None or date <= last_date:
            kept.append(raw)
    removed = len(timepoints) - len(kept)
    if not removed:
        return parsed, 0
    return parse_case({**data, "timepoints": kept}), removed
