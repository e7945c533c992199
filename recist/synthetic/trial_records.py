"""Plain data of a simulated trial: its constants, parameters, scans, true lesions, reads and subjects.

Dates are calendar dates, sizes millimetres, times days unless a name says otherwise. The trial is made
by :func:`recist.synthetic.trial_sim.simulate_trial`; see ``docs/simulation.md`` for the model.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass, field
from typing import Any

ARM_CONTROL = "active surveillance"
ARM_EXPERIMENTAL = "lutathera"
ARMS = (ARM_CONTROL, ARM_EXPERIMENTAL)
"""Arm labels; the control arm sorts first, so report tools that default to the first arm pick it."""
READERS = ("R1", "R2")
SITE_READER = "site"
INTERVAL_DAYS = 84
"""CT every 12 weeks, counted from randomisation (the trial's imaging schedule)."""
WINDOW_DAYS = 7
DAYS_PER_MONTH = 30.4375
TRIAL_NAME = "SIM-NCT04954820"


@dataclass(frozen=True)
class SimulationParameters:
    """Every number of the model (docs/simulation.md gives the source or the reason of each).

    Times are in months or days as named; ``*_sd`` are standard deviations of natural logarithms
    (about the coefficient of variation for small values).
    """

    latent_median_months: tuple[tuple[str, float], ...] = ((ARM_EXPERIMENTAL, 13.2), (ARM_CONTROL, 7.0))
    """Median of the latent (continuous) time to progression per arm. The observed median lands on the
    next 12-weekly scan, about 1.4 months later on average: 13.8-14.6 and 8.3 months."""
    weibull_shape: float = 1.3
    accrual_months: float = 18.0
    min_follow_up_months: float = 12.0
    shrink_rate_median_per_day: tuple[tuple[str, float], ...] = ((ARM_EXPERIMENTAL, 0.0011), (ARM_CONTROL, 0.0))
    shrink_rate_sd: float = 0.9
    lesion_rate_sd: float = 0.35
    progression_mode_probabilities: tuple[float, float, float] = (0.6, 0.3, 0.1)
    """Growth of the target sum, a new lesion, unequivocal progression of a non-target lesion."""
    reader_persistent_sd: float = 0.06
    reader_scan_sd: float = 0.065
    site_persistent_sd: float = 0.09
    site_scan_sd: float = 0.10
    selection_preference_sd: float = 0.3
    """Log-normal spread of a reader's preference when ranking candidate targets (reproducibility,
    conspicuity): 0 would make every reader pick the largest lesions."""
    missed_visit_probability: float = 0.06
    visit_jitter_days: int = 7
    false_equivocal_per_scan: float = 0.03
    false_new_lesion_per_scan: float = 0.002
    target_not_evaluated_per_scan: float = 0.01
    non_target_call_probability: float = 0.8
    new_lesion_detection: tuple[tuple[float, float, float], ...] = ((8.0, 0.65, 0.25), (12.0, 0.88, 0.08),
                                                                    (math.inf, 0.97, 0.03))
    """(size below mm, probability called unequivocal, probability called equivocal) of a true new
    lesion the first time a reader sees it; once called unequivocal a lesion stays so."""
    death_before_progression_probability: float = 0.04
    death_after_progression_probability: float = 0.15
    new_therapy_before_progression_probability: float = 0.05
    new_therapy_after_progression_probability: float = 0.5
    dropout_probability: float = 0.03
    extra_scan_after_progression_probability: float = 0.3

    def latent_median(self, arm: str) -> float:
        return dict(self.latent_median_months)[arm]

    def shrink_rate(self, arm: str) -> float:
        return dict(self.shrink_rate_median_per_day)[arm]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "new_lesion_detection":
                value = [[None if math.isinf(b) else b, y, e] for b, y, e in value]
            elif isinstance(value, tuple) and value and isinstance(value[0], tuple):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


@dataclass(frozen=True)
class Scan:
    """One CT of a subject: its label, calendar date and day since the baseline scan."""

    label: str
    date: dt.date
    day: int


@dataclass(frozen=True)
class TrueLesion:
    """A lesion's true course: its size at every scan of the subject (0: absent or not yet there).

    ``sizes_mm`` is the longest diameter, or for a node the short axis (``long_axis_ratio`` gives the
    node's long axis). ``first_scan`` is the index of the scan where a new lesion first shows (0 for
    lesions present at baseline). ``progresses`` marks the non-target lesion whose unequivocal growth is
    the subject's progression (from ``first_progressed_scan`` on).
    """

    id: str
    site: str
    nodal: bool
    sizes_mm: tuple[float, ...]
    first_scan: int = 0
    long_axis_ratio: float = 1.0
    progresses: bool = False
    first_progressed_scan: int | None = None

    @property
    def new(self) -> bool:
        return self.first_scan > 0

    def measurable_at_baseline(self) -> bool:
        """RECIST 1.1 §3.1 on CT with slices of 5 mm or less: 10 mm longest diameter, 15 mm node short axis."""
        if self.new:
            return False
        return self.sizes_mm[0] >= (15.0 if self.nodal else 10.0)


@dataclass(frozen=True)
class SimulatedRead:
    """One reader's read of one subject: the case file (dict) and which true lesion each case id is."""

    reader: str
    case: dict[str, Any]
    lesion_map: dict[str, str]


@dataclass(frozen=True)
class SimulatedSubject:
    """One randomised subject: clinical dates, the true course and the three reads."""

    subject: str
    arm: str
    randomisation_date: dt.date
    scans: tuple[Scan, ...]
    lesions: tuple[TrueLesion, ...]
    progression_mode: str
    latent_progression_date: dt.date
    true_progression_date: dt.date | None
    true_best_overall_response: str
    death_date: dt.date | None
    new_therapy_date: dt.date | None
    last_contact_date: dt.date
    truth: dict[str, Any]
    reads: dict[str, SimulatedRead] = field(default_factory=dict)

    def true_pfs(self, data_cutoff: dt.date) -> tuple[int, bool]:
        """True PFS (days, randomisation day = day 1) and whether it is an event, by the true course.

        Event: the earlier of the scan that shows RECIST progression on the true sizes and death.
        Otherwise censored at the last scan (or at randomisation when there is no follow-up scan).
        """
        events = [d for d in (self.true_progression_date, self.death_date) if d is not None and d <= data_cutoff]
        if events:
            return (min(events) - self.randomisation_date).days + 1, True
        follow_ups = [s.date for s in self.scans[1:]]
        last = max(follow_ups) if follow_ups else self.randomisation_date
        return max((last - self.randomisation_date).days + 1, 1), False


@dataclass(frozen=True)
class SimulatedTrial:
    """The whole synthetic trial."""

    subjects: tuple[SimulatedSubject, ...]
    charter: dict[str, Any]
    parameters: SimulationParameters
    start_date: dt.date
    data_cutoff: dt.date

    def subjects_csv(self) -> str:
        """The subjects table in the form :func:`recist.endpoints.subjects.read_subjects` reads."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["subject", "randomisation_date", "arm", "death_date", "new_therapy_date",
                         "last_contact_date"])
        for s in self.subjects:
            writer.writerow([s.subject, s.randomisation_date.isoformat(), s.arm, _iso(s.death_date),
                             _iso(s.new_therapy_date), s.last_contact_date.isoformat()])
        return out.getvalue()

    def truth_csv(self) -> str:
        """One row per subject: arm, progression mode, latent and true progression, true PFS."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["subject", "arm", "progression_mode", "latent_progression_date", "true_progression_date",
                         "true_best_overall_response", "true_pfs_days", "true_pfs_event", "scans"])
        for s in self.subjects:
            days, event = s.true_pfs(self.data_cutoff)
            writer.writerow([s.subject, s.arm, s.progression_mode, s.latent_progression_date.isoformat(),
                             _iso(s.true_progression_date), s.true_best_overall_response, days, int(event),
                             len(s.scans)])
        return out.getvalue()


def _iso(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()
