"""How the simulated readers read a subject: target choice, measurement error, new-lesion detection.

Readers measure with a multiplicative log-normal error (a persistent per-lesion part and a per-scan part),
choose targets by their own measured size with a reader preference (RECIST 1.1 section 4.2: at most
five targets, two per organ, lymph nodes one organ), and detect new lesions with a size-dependent
probability; the true case file chooses targets by true size alone. See ``docs/simulation.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recist.synthetic.trial_records import Scan, SimulatedRead, SimulationParameters, TrueLesion


def select_targets(sizes: Sequence[float], organs: Sequence[str], eligible: Sequence[bool],
                    preference: Sequence[float]) -> list[int]:
    """Targets as a reader picks them: by size times preference, at most 2 per organ and 5 in all.

    RECIST 1.1 [E09] §4.2 (all lymph nodes one organ: EORTC RECIST FAQ). Indices in the order chosen.
    """
    order = sorted((i for i in range(len(sizes)) if eligible[i]), key=lambda i: -sizes[i] * preference[i])
    chosen: list[int] = []
    per_organ: dict[str, int] = {}
    for i in order:
        if len(chosen) == 5:
            break
        if per_organ.get(organs[i], 0) < 2:
            chosen.append(i)
            per_organ[organs[i]] = per_organ.get(organs[i], 0) + 1
    return chosen


def organ_for_targets(site: str, nodal: bool) -> str:
    """The organ a lesion counts against for the two-per-organ limit: every lymph node is one organ."""
    return "lymph nodes" if nodal else site


@dataclass(frozen=True)
class ReaderStyle:
    """One reader's habits: log-normal error SDs (persistent per lesion, per scan), target preference, decimals."""

    persistent_sd: float
    scan_sd: float
    preference_sd: float
    decimals: int


def simulated_read(subject: str, reader: str, scans: Sequence[Scan], lesions: Sequence[TrueLesion],
                   style: ReaderStyle, params: SimulationParameters, rng: np.random.Generator) -> SimulatedRead:
    """One reader's case file of the subject's scans (see the module docstring for the behaviour)."""
    n_scans = len(scans)
    base = [lesion for lesion in lesions if not lesion.new]
    new = [lesion for lesion in lesions if lesion.new]
    persistent = rng.normal(0.0, style.persistent_sd, size=len(base))
    noise = persistent[:, None] + rng.normal(0.0, style.scan_sd, size=(len(base), n_scans))
    true_sizes = np.array([lesion.sizes_mm for lesion in base], dtype=float).reshape(len(base), n_scans)
    measured = true_sizes * np.exp(noise)
    preference = np.exp(rng.normal(0.0, style.preference_sd, size=len(base)))
    eligible = [lesion.site not in ("peritoneum", "bone") and measured[i, 0] >= (15.0 if lesion.nodal else 10.0)
                for i, lesion in enumerate(base)]
    chosen = select_targets(list(measured[:, 0]), [organ_for_targets(lesion.site, lesion.nodal) for lesion in base],
                             eligible, list(preference))
    # a node measured under 10 mm short axis at baseline is normal: not recorded as a lesion (RECIST 1.1 §4.2)
    others = [i for i in range(len(base)) if i not in chosen and not (base[i].nodal and measured[i, 0] < 10.0)]
    lesion_map: dict[str, str] = {}
    case_lesions = []
    for n, i in enumerate(chosen, start=1):
        lesion_map[f"T{n}"] = base[i].id
        case_lesions.append({"id": f"T{n}", "role": "target", "site": base[i].site, "nodal": base[i].nodal})
    for n, i in enumerate(others, start=1):
        lesion_map[f"NT{n}"] = base[i].id
        case_lesions.append({"id": f"NT{n}", "role": "non_target", "site": base[i].site, "nodal": base[i].nodal})
    new_ids = {lesion.id: f"N{n}" for n, lesion in enumerate(new, start=1)}
    lesion_map.update({v: k for k, v in new_ids.items()})
    called_unequivocal: set[str] = set()
    nt_progressed: set[str] = set()
    timepoints = []
    false_count = 0

    def fmt(value: float) -> float:
        return round(float(value), style.decimals)

    for k, scan in enumerate(scans):
        targets: dict[str, Any] = {}
        for n, i in enumerate(chosen, start=1):
            lesion = base[i]
            if k > 0 and rng.random() < params.target_not_evaluated_per_scan:
                targets[f"T{n}"] = {"state": "not_evaluated"}
            elif true_sizes[i, k] <= 0.0:
                targets[f"T{n}"] = {"state": "disappeared"}
            elif lesion.nodal:
                targets[f"T{n}"] = {"short_axis_mm": fmt(max(measured[i, k], 1.0)),
                                    "long_axis_mm": fmt(max(measured[i, k] * lesion.long_axis_ratio, 1.0))}
            elif measured[i, k] < 5.0:
                targets[f"T{n}"] = {"state": "too_small"}
            else:
                targets[f"T{n}"] = {"long_axis_mm": fmt(measured[i, k])}
        non_targets: dict[str, Any] = {}
        for n, i in enumerate(others, start=1):
            lesion, key = base[i], f"NT{n}"
            if k == 0:
                non_targets[key] = "present"
            elif true_sizes[i, k] <= 0.0:
                non_targets[key] = "absent"
            elif lesion.progresses and lesion.first_progressed_scan is not None and k >= lesion.first_progressed_scan:
                call = params.non_target_call_probability if key not in nt_progressed else 0.95
                if rng.random() < call:
                    nt_progressed.add(key)
                    non_targets[key] = "unequivocal_progression"
                else:
                    non_targets[key] = "present"
            else:
                non_targets[key] = "present"
        new_lesions = []
        if k > 0:
            for lesion in new:
                size = lesion.sizes_mm[k]
                if size <= 0.0:
                    continue
                lid = new_ids[lesion.id]
                if lid in called_unequivocal:
                    new_lesions.append({"id": lid, "site": lesion.site, "equivocal": False})
                    continue
                p_yes, p_equivocal = next((y, e) for below, y, e in params.new_lesion_detection if size < below)
                u = rng.random()
                if u < p_yes:
                    called_unequivocal.add(lid)
                    new_lesions.append({"id": lid, "site": lesion.site, "equivocal": False})
                elif u < p_yes + p_equivocal:
                    new_lesions.append({"id": lid, "site": lesion.site, "equivocal": True})
            if rng.random() < params.false_equivocal_per_scan:
                false_count += 1
                new_lesions.append({"id": f"E{false_count}", "site": str(rng.choice(["liver", "bone", "lung"])),
                                    "equivocal": True})
            if rng.random() < params.false_new_lesion_per_scan:
                false_count += 1
                new_lesions.append({"id": f"E{false_count}", "site": str(rng.choice(["liver", "bone"])),
                                    "equivocal": False})
        timepoints.append({"label": scan.label, "date": scan.date.isoformat(), "slice_thickness_mm": 5.0,
                           "targets": targets, "non_targets": non_targets, "new_lesions": new_lesions})
    case = {"format": "recist.case/1", "subject": subject, "protocol": {"confirmation": False},
            "lesions": case_lesions, "timepoints": timepoints}
    return SimulatedRead(reader, case, lesion_map)


def truth_case(subject: str, scans: Sequence[Scan], lesions: Sequence[TrueLesion]) -> dict[str, Any]:
    """The case file of the true sizes, targets chosen by size alone (RECIST 1.1 §4.2)."""
    base = [lesion for lesion in lesions if not lesion.new]
    eligible = [lesion.measurable_at_baseline() and lesion.site not in ("peritoneum", "bone") for lesion in base]
    chosen = select_targets([lesion.sizes_mm[0] for lesion in base],
                             [organ_for_targets(lesion.site, lesion.nodal) for lesion in base], eligible, [1.0] * len(base))
    others = [i for i in range(len(base)) if i not in chosen and not (base[i].nodal and base[i].sizes_mm[0] < 10.0)]
    case_lesions = [{"id": base[i].id, "role": "target", "site": base[i].site, "nodal": base[i].nodal} for i in chosen]
    case_lesions += [{"id": base[i].id, "role": "non_target", "site": base[i].site, "nodal": base[i].nodal}
                     for i in others]
    timepoints = []
    for k, scan in enumerate(scans):
        targets: dict[str, Any] = {}
        for i in chosen:
            size = base[i].sizes_mm[k]
            if size <= 0.0:
                targets[base[i].id] = {"state": "disappeared"}
            elif base[i].nodal:
                targets[base[i].id] = {"short_axis_mm": size, "long_axis_mm": round(size * base[i].long_axis_ratio, 1)}
            elif size < 5.0:
                targets[base[i].id] = {"state": "too_small"}
            else:
                targets[base[i].id] = {"long_axis_mm": size}
        non_targets: dict[str, Any] = {}
        for i in others:
            lesion = base[i]
            if k > 0 and lesion.sizes_mm[k] <= 0.0:
                non_targets[lesion.id] = "absent"
            elif lesion.progresses and lesion.first_progressed_scan is not None and k >= lesion.first_progressed_scan:
                non_targets[lesion.id] = "unequivocal_progression"
            else:
                non_targets[lesion.id] = "present"
        new_lesions = [{"id": lesion.id, "site": lesion.site, "equivocal": False}
                       for lesion in lesions if lesion.new and k > 0 and lesion.sizes_mm[k] > 0.0]
        timepoints.append({"label": scan.label, "date": scan.date.isoformat(), "slice_thickness_mm": 5.0,
                           "targets": targets, "non_targets": non_targets, "new_lesions": new_lesions})
    return {"format": "recist.case/1", "subject": subject, "protocol": {"confirmation": False},
            "lesions": case_lesions, "timepoints": timepoints}
