"""A synthetic randomised trial shaped like NCT04954820, for demonstrations and end-to-end tests.

NCT04954820 is a French randomised phase II trial: patients with a small-intestinal neuroendocrine tumour
(NET) who already had Lutathera (177Lu-DOTATATE) retreatment are randomised 1:1 to two more cycles or to
active surveillance; the primary endpoint is PFS by RECIST 1.1 assessed by blinded independent central
review (two readers and an adjudicator). This module makes a trial of that shape from a random
generator: the subjects table, the review charter, each subject's TRUE lesion course and three reads of
it (central readers R1 and R2, and the site investigator), each a ``recist.case/1`` case file.

The model, its parameters and their sources are in ``docs/simulation.md``. In short:

- Time to (latent) progression is Weibull per arm; the lesion course is the tumour
  regression-growth model ``size(t) = size0 * (exp(-d t) + exp(g t) - 1)`` (Stein et al., Clin Cancer
  Res 2011), its growth rate solved so that the sum of the true targets reaches RECIST progression at the
  latent time (or, for a subject who progresses by a new lesion or a non-target lesion, later).
- Readers measure with a multiplicative log-normal error (a persistent per-lesion part and a per-scan
  part), choose targets by their own measured size with a reader preference, and detect new lesions
  with a size-dependent probability (sometimes calling them equivocal first, rarely a false one).
- Visits every 84 days after randomisation (+/- 7), some missed; imaging stops at progression;
  a few subjects start new therapy, drop out or die.

Everything is a function of the ``numpy.random.Generator`` passed in: the same seed gives the same
trial, byte for byte. Nothing here reads a clock or global state.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recist._atomic import atomic_write_json, atomic_write_text
from recist.errors import RecistValidationError
from recist.model.validate import parse_case
from recist.rules.assess import assess_case
from recist.synthetic.trial_reads import (
    ReaderStyle,
    organ_for_targets,
    select_targets,
    simulated_read,
    truth_case,
)
from recist.synthetic.trial_records import (
    ARM_CONTROL,
    ARM_EXPERIMENTAL,
    ARMS,
    DAYS_PER_MONTH,
    INTERVAL_DAYS,
    READERS,
    SITE_READER,
    TRIAL_NAME,
    WINDOW_DAYS,
    Scan,
    SimulatedRead,
    SimulatedSubject,
    SimulatedTrial,
    SimulationParameters,
    TrueLesion,
    _iso,
)

__all__ = [
    "ARM_CONTROL",
    "ARM_EXPERIMENTAL",
    "ARMS",
    "READERS",
    "SITE_READER",
    "INTERVAL_DAYS",
    "WINDOW_DAYS",
    "DAYS_PER_MONTH",
    "SimulationParameters",
    "Scan",
    "TrueLesion",
    "SimulatedRead",
    "SimulatedSubject",
    "SimulatedTrial",
    "simulate_trial",
    "write_trial",
    "trial_charter",
]

log = logging.getLogger(__name__)

def trial_charter(trial: str = TRIAL_NAME) -> dict[str, Any]:
    """The review charter of the simulated trial (``recist.charter/1``).

    No confirmation of response (randomised trial, RECIST 1.1 §4.6), SD at least 42 days after baseline,
    CT every 84 days +/- 7, adjudication on any disagreement in progression, its date or best overall
    response (FDA 2018 imaging guidance, "2 + 1" paradigm). Readers R1 and R2, adjudicator ADJ1,
    administrator PM1. Arms :data:`ARMS`, control :data:`ARM_CONTROL`.
    """
    return {
        "format": "recist.charter/1", "trial": trial, "criteria": "RECIST 1.1",
        "protocol": {"confirmation": False, "confirmation_min_days": 28, "sd_min_days": 42},
        "visit_schedule": {"interval_days": INTERVAL_DAYS, "window_days": WINDOW_DAYS},
        "adjudication": {"triggers": ["progression", "progression_date", "best_overall_response"],
                         "progression_date_tolerance_days": 0},
        "readers": list(READERS), "adjudicators": ["ADJ1"], "administrators": ["PM1"],
        "arms": list(ARMS), "control_arm": ARM_CONTROL,
    }


# ---------------------------------------------------------------------------------------------- the model
def tumour_size(size0_mm: np.ndarray, shrink_per_day: np.ndarray, grow_per_day: np.ndarray,
                day: np.ndarray) -> np.ndarray:
    """Tumour regression-growth model: ``size0 * (exp(-d t) + exp(g t) - 1)``, millimetres.

    The two-rate regression-growth model of Stein WD et al., "Tumor regression and growth rates
    determined in five intramural NCI prostate cancer trials", Clin Cancer Res 2011;17:907-917.
    Broadcasts lesions (rows) against days (columns); ``day`` counts from the baseline scan.
    """
    t = np.asarray(day, dtype=float)[None, :]
    d = np.asarray(shrink_per_day, dtype=float)[:, None]
    g = np.asarray(grow_per_day, dtype=float)[:, None]
    return np.asarray(size0_mm, dtype=float)[:, None] * (np.exp(-d * t) + np.exp(g * t) - 1.0)


def _progression_margin(sums: np.ndarray) -> float:
    """How far the last sum is beyond RECIST PD of the running minimum: >= 20 % and >= 5 mm ([E09] §4.3.1)."""
    nadir = float(np.min(sums[:-1])) if sums.size > 1 else float(sums[0])
    return float(sums[-1]) - nadir - max(0.2 * nadir, 5.0)


def _solve_growth_rate(size0: np.ndarray, shrink: np.ndarray, spread: np.ndarray, day_pd: float) -> float:
    """The subject growth rate g (per day) at which the sum of ``size0`` lesions reaches PD on ``day_pd``.

    Lesion i grows at ``g * spread[i]``. Found by bisection on log g (the margin grows with g).
    """
    days = np.linspace(0.0, day_pd, 48)

    def margin(g: float) -> float:
        return _progression_margin(tumour_size(size0, shrink, g * spread, days).sum(axis=0))

    lo, hi = 1e-6, 0.1
    if margin(hi) < 0:
        return hi
    if margin(lo) > 0:
        return lo
    for _ in range(50):
        mid = math.sqrt(lo * hi)
        if margin(mid) > 0:
            hi = mid
        else:
            lo = mid
    return hi


@dataclass
class _Baseline:
    id: str
    site: str
    nodal: bool
    size_mm: float
    long_axis_ratio: float = 1.0
    measurable_kind: bool = True  # a lesion that can be measured at all (peritoneum, bone: no)


def _baseline_lesions(rng: np.random.Generator) -> list[_Baseline]:
    """The lesions at baseline of a small-intestinal NET with liver metastases (docs/simulation.md)."""
    lesions: list[_Baseline] = []

    def add(site: str, nodal: bool, size: float, *, ratio: float = 1.0, kind: bool = True) -> None:
        lesions.append(_Baseline(f"L{len(lesions) + 1}", site, nodal, round(float(size), 1), ratio, kind))

    n_liver = int(rng.choice([0, 1, 2, 3, 4, 5], p=[0.12, 0.2, 0.22, 0.2, 0.14, 0.12]))
    for _ in range(n_liver):
        add("liver", False, float(np.clip(rng.lognormal(math.log(22.0), 0.45), 6.0, 90.0)))
    if rng.random() < 0.6:
        add("mesentery", False, float(np.clip(rng.lognormal(math.log(28.0), 0.3), 12.0, 70.0)))
    for site in ("mesenteric lymph node", "retroperitoneal lymph node"):
        for _ in range(int(rng.choice([0, 1, 2], p=[0.5, 0.35, 0.15]))):
            add(site, True, float(np.clip(rng.lognormal(math.log(15.0), 0.3), 8.0, 40.0)), ratio=float(rng.uniform(1.2, 1.8)))
    if rng.random() < 0.25:
        add("peritoneum", False, float(rng.uniform(5.0, 15.0)), kind=False)
    if rng.random() < 0.2:
        add("bone", False, float(rng.uniform(8.0, 20.0)), kind=False)
    if not any(b.measurable_kind and b.size_mm >= (15.0 if b.nodal else 10.0) for b in lesions):
        add("liver", False, float(rng.uniform(15.0, 35.0)))
    return lesions


def _truncate(case: dict[str, Any], n_scans: int) -> dict[str, Any]:
    return {**case, "timepoints": case["timepoints"][:n_scans]}


def _progression_index(case: dict[str, Any]) -> int | None:
    """Index (into the case's timepoints) of the scan that documents progression, or None."""
    progression = assess_case(parse_case(case)).progression
    if progression is None:
        return None
    labels = [tp["label"] for tp in case["timepoints"]]
    return labels.index(progression.label)


def _simulate_subject(subject: str, arm: str, randomised: dt.date, data_cutoff: dt.date,
                      params: SimulationParameters, rng: np.random.Generator) -> SimulatedSubject:
    baseline_offset = -int(rng.integers(3, 29))  # baseline CT within 28 days before randomisation
    baseline_date = randomised + dt.timedelta(days=baseline_offset)
    lesions0 = _baseline_lesions(rng)

    # latent progression: Weibull with the arm's median (days from randomisation)
    shape = params.weibull_shape
    median_days = params.latent_median(arm) * DAYS_PER_MONTH
    scale = median_days / math.log(2.0) ** (1.0 / shape)
    latent_days = float(scale * rng.weibull(shape))
    mode = str(rng.choice(["growth", "new_lesion", "non_target"], p=list(params.progression_mode_probabilities)))
    non_measurable = [b for b in lesions0 if not b.measurable_kind]
    if mode == "non_target" and not non_measurable:
        mode = "growth"
    day_latent = latent_days - baseline_offset  # days from the baseline scan

    # clinical events (days from randomisation)
    death_day = None
    new_therapy_day = None
    dropout_day = None
    if rng.random() < params.death_before_progression_probability:
        death_day = float(rng.uniform(20.0, max(latent_days, 21.0)))
    if rng.random() < params.new_therapy_before_progression_probability:
        new_therapy_day = float(rng.uniform(40.0, max(latent_days, 41.0)))
    if rng.random() < params.dropout_probability:
        dropout_day = float(rng.uniform(60.0, 700.0))

    # the schedule: day k * 84 after randomisation, +/- jitter, some missed; up to the cut-off
    scans = [Scan("baseline", baseline_date, 0)]
    stop_day = min(d for d in (death_day, new_therapy_day, dropout_day, float("inf")) if d is not None)
    k = 1
    while True:
        visit_day = k * INTERVAL_DAYS + int(rng.integers(-params.visit_jitter_days, params.visit_jitter_days + 1))
        date = randomised + dt.timedelta(days=visit_day)
        if date > data_cutoff or visit_day > stop_day:
            break
        if rng.random() >= params.missed_visit_probability:
            scans.append(Scan(f"week {12 * k}", date, (date - baseline_date).days))
        k += 1
    days = np.array([s.day for s in scans], dtype=float)

    # lesion kinetics
    n0 = len(lesions0)
    size0 = np.array([b.size_mm for b in lesions0])
    shrink_median = params.shrink_rate(arm)
    if shrink_median > 0:
        shrink_subject = float(rng.lognormal(math.log(shrink_median), params.shrink_rate_sd))
    else:
        shrink_subject = 0.0
    shrink = shrink_subject * np.exp(rng.normal(0.0, params.lesion_rate_sd, size=n0))
    spread = np.exp(rng.normal(0.0, params.lesion_rate_sd, size=n0))
    truth_target_idx = select_targets(
        list(size0), [organ_for_targets(b.site, b.nodal) for b in lesions0],
        [b.measurable_kind and b.size_mm >= (15.0 if b.nodal else 10.0) for b in lesions0], [1.0] * n0)
    growth_day = day_latent if mode == "growth" else day_latent * float(rng.uniform(1.3, 2.0))
    idx = np.array(truth_target_idx)
    g = _solve_growth_rate(size0[idx], shrink[idx], spread[idx], max(growth_day, 1.0))
    sizes = np.minimum(tumour_size(size0, shrink, g * spread, days), 250.0)
    sizes = np.where(sizes < 2.0, 0.0, np.round(sizes, 1))

    lesions: list[TrueLesion] = []
    progressing_nt = None
    if mode == "non_target":
        progressing_nt = non_measurable[int(rng.integers(len(non_measurable)))].id
    first_after = next((i for i, d in enumerate(days) if i > 0 and d >= day_latent), None)
    for j, b in enumerate(lesions0):
        progresses = b.id == progressing_nt and first_after is not None
        lesions.append(TrueLesion(b.id, b.site, b.nodal, tuple(float(v) for v in sizes[j]), 0, b.long_axis_ratio,
                                  progresses, first_after if progresses else None))
    if mode == "new_lesion" and first_after is not None:
        site = str(rng.choice(["liver", "liver", "bone", "peritoneum", "lung"]))
        size_new0 = float(rng.uniform(4.0, 8.0))
        rate = math.log(1.6) / INTERVAL_DAYS
        new_sizes = tuple(0.0 if i < first_after else round(min(size_new0 * math.exp(rate * (d - day_latent)), 250.0), 1)
                          for i, d in enumerate(days))
        lesions.append(TrueLesion(f"L{n0 + 1}", site, False, new_sizes, first_after))

    # the true course and the reads, over every scan the schedule allows
    truth = truth_case(subject, scans, lesions)
    styles = {
        reader: ReaderStyle(params.reader_persistent_sd, params.reader_scan_sd, params.selection_preference_sd, 1)
        for reader in READERS
    }
    styles[SITE_READER] = ReaderStyle(params.site_persistent_sd, params.site_scan_sd, params.selection_preference_sd, 0)
    reads = {reader: simulated_read(subject, reader, scans, lesions, style, params, rng)
             for reader, style in styles.items()}

    # imaging stops at progression (true course and site read both, standing in for central confirmation)
    true_pd = _progression_index(truth)
    site_pd = _progression_index(reads[SITE_READER].case)
    n_keep = len(scans)
    if true_pd is not None and site_pd is not None:
        extra = 1 if rng.random() < params.extra_scan_after_progression_probability else 0
        n_keep = min(len(scans), max(true_pd, site_pd) + 1 + extra)
    scans = scans[:n_keep]
    lesions = [TrueLesion(x.id, x.site, x.nodal, x.sizes_mm[:n_keep], x.first_scan, x.long_axis_ratio, x.progresses,
                          x.first_progressed_scan) for x in lesions if x.first_scan < n_keep]
    truth = _truncate(truth, n_keep)
    reads = {r: SimulatedRead(r, _truncate(read.case, n_keep), read.lesion_map) for r, read in reads.items()}
    truth_assessment = assess_case(parse_case(truth))
    true_progression_date = truth_assessment.progression.date if truth_assessment.progression else None

    # dates after progression
    death_date = randomised + dt.timedelta(days=int(death_day)) if death_day is not None else None
    new_therapy_date = randomised + dt.timedelta(days=int(new_therapy_day)) if new_therapy_day is not None else None
    progressed = true_progression_date is not None or site_pd is not None
    if progressed and death_date is None and rng.random() < params.death_after_progression_probability:
        death_date = scans[-1].date + dt.timedelta(days=int(rng.uniform(30.0, 400.0)))
    if progressed and new_therapy_date is None and rng.random() < params.new_therapy_after_progression_probability:
        new_therapy_date = scans[-1].date + dt.timedelta(days=int(rng.uniform(14.0, 90.0)))
    if death_date is not None and death_date > data_cutoff:
        death_date = None
    if new_therapy_date is not None and (new_therapy_date > data_cutoff or (death_date and new_therapy_date > death_date)):
        new_therapy_date = None
    ends = [data_cutoff, death_date, randomised + dt.timedelta(days=int(dropout_day)) if dropout_day else None]
    last_contact = min(d for d in ends if d is not None)

    return SimulatedSubject(
        subject=subject, arm=arm, randomisation_date=randomised, scans=tuple(scans), lesions=tuple(lesions),
        progression_mode=mode, latent_progression_date=randomised + dt.timedelta(days=int(round(latent_days))),
        true_progression_date=true_progression_date,
        true_best_overall_response=truth_assessment.best_overall_response.value,
        death_date=death_date, new_therapy_date=new_therapy_date, last_contact_date=last_contact, truth=truth,
        reads=reads,
    )


def _months(start: dt.date, months: float) -> dt.date:
    return start + dt.timedelta(days=int(round(months * DAYS_PER_MONTH)))


def simulate_trial(
    n_subjects: int = 100,
    *,
    rng: np.random.Generator,
    start_date: dt.date = dt.date(2022, 1, 3),
    parameters: SimulationParameters | None = None,
) -> SimulatedTrial:
    """Simulate the trial: ``n_subjects`` randomised 1:1 (permuted blocks of 4) over the accrual period.

    Parameters
    ----------
    n_subjects
        Number of randomised subjects (at least 2).
    rng
        The only source of randomness. Subject ``i`` draws from the ``i``-th child generator spawned
        from it, so the first subjects of a larger trial are those of a smaller one with the same seed.
    start_date
        First randomisation; the data cut-off is ``accrual_months + min_follow_up_months`` later.
    parameters
        The model's numbers (default :class:`SimulationParameters`).

    Returns
    -------
    SimulatedTrial
        Subjects ordered by randomisation date, ids ``SIM-001`` ...

    Examples
    --------
    >>> import numpy as np
    >>> trial = simulate_trial(4, rng=np.random.default_rng(1))
    >>> sorted({s.arm for s in trial.subjects})
    ['active surveillance', 'lutathera']
    """
    if not isinstance(n_subjects, int) or n_subjects < 2:
        raise RecistValidationError(f"n_subjects must be an integer of at least 2, not {n_subjects!r}",
                                    field="n_subjects")
    params = parameters or SimulationParameters()
    children = rng.spawn(n_subjects)
    accrual_days = int(round(params.accrual_months * DAYS_PER_MONTH))
    offsets = np.sort(rng.integers(0, accrual_days + 1, size=n_subjects))
    arms: list[str] = []
    while len(arms) < n_subjects:
        arms.extend(str(a) for a in rng.permutation([ARM_CONTROL, ARM_CONTROL, ARM_EXPERIMENTAL, ARM_EXPERIMENTAL]))
    data_cutoff = _months(start_date, params.accrual_months + params.min_follow_up_months)
    width = max(3, len(str(n_subjects)))
    subjects = tuple(
        _simulate_subject(f"SIM-{i + 1:0{width}d}", arms[i], start_date + dt.timedelta(days=int(offsets[i])),
                          data_cutoff, params, children[i])
        for i in range(n_subjects)
    )
    log.info("simulated %d subjects up to the cut-off %s", n_subjects, data_cutoff)
    return SimulatedTrial(subjects, trial_charter(), params, start_date, data_cutoff)


def _truth_record(s: SimulatedSubject, data_cutoff: dt.date) -> dict[str, Any]:
    days, event = s.true_pfs(data_cutoff)
    return {
        "format": "recist.simulation.truth/1", "subject": s.subject, "arm": s.arm,
        "randomisation_date": s.randomisation_date.isoformat(), "progression_mode": s.progression_mode,
        "latent_progression_date": s.latent_progression_date.isoformat(),
        "true_progression_date": _iso(s.true_progression_date) or None,
        "true_best_overall_response": s.true_best_overall_response,
        "true_pfs_days": days, "true_pfs_event": event,
        "scans": [{"label": x.label, "date": x.date.isoformat(), "day": x.day} for x in s.scans],
        "lesions": [{"id": x.id, "site": x.site, "nodal": x.nodal, "sizes_mm": list(x.sizes_mm),
                     "first_scan": x.first_scan, "progresses": x.progresses} for x in s.lesions],
        "case": s.truth,
        "lesion_maps": {r: read.lesion_map for r, read in sorted(s.reads.items())},
    }


def write_trial(trial: SimulatedTrial, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the trial into ``out_dir`` (created) and return the main paths written.

    Layout::

        subjects.csv            the subjects table (recist.endpoints.subjects)
        charter.json            the review charter (recist.review.charter)
        reads/R1/<subject>.json, reads/R2/<subject>.json   central reads (recist.case/1, true dates)
        site/<subject>.json     investigator reads
        truth/<subject>.json    the true course: sizes per scan, true progression, the true case
        truth.csv               one row per subject: progression mode, true progression and PFS
        simulation.json         parameters, start date and data cut-off

    Every case is validated (``recist.parse_case``) before it is written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "subjects.csv", trial.subjects_csv())
    atomic_write_json(out / "charter.json", trial.charter)
    atomic_write_text(out / "truth.csv", trial.truth_csv())
    atomic_write_json(out / "simulation.json", {
        "format": "recist.simulation/1", "trial": trial.charter["trial"], "subjects": len(trial.subjects),
        "start_date": trial.start_date.isoformat(), "data_cutoff": trial.data_cutoff.isoformat(),
        "parameters": trial.parameters.to_dict(),
    })
    for s in trial.subjects:
        for reader, read in s.reads.items():
            folder = out / "site" if reader == SITE_READER else out / "reads" / reader
            parse_case(read.case, source=f"{s.subject} ({reader})")
            atomic_write_json(folder / f"{s.subject}.json", read.case)
        atomic_write_json(out / "truth" / f"{s.subject}.json", _truth_record(s, trial.data_cutoff))
    return {"subjects": out / "subjects.csv", "charter": out / "charter.json", "reads": out / "reads",
            "site": out / "site", "truth": out / "truth", "truth_csv": out / "truth.csv"}

