"""Target-lesion selection at baseline (RECIST 1.1 [E09] §4.2; RECIST_RULES R6).

At most 5 target lesions in total and at most 2 per organ; all lymph nodes together count as one organ
([EORTC-FAQ] "Two target lesions"), and so does each paired organ (lung, kidney, ovary, ...: [EORTC-FAQ]
"Paired organs"); only measurable lesions may be targets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from recist.model.enums import LesionRole, Measurability, NonTargetState

__all__ = [
    "SelectionCandidate",
    "baseline_state_problems",
    "organ_of",
    "over_organ_limit",
    "selection_problems",
    "propose_targets",
    "MAX_TARGETS",
    "MAX_TARGETS_PER_ORGAN",
]

MAX_TARGETS = 5
"""At most five target lesions in total ([E09] §4.2)."""
MAX_TARGETS_PER_ORGAN = 2
"""At most two target lesions per organ ([E09] §4.2)."""
LYMPH_NODES = "lymph nodes"

LATERALITY_WORDS = frozenset({"left", "right", "bilateral", "lt", "rt", "l", "r", "both"})
"""Words that name a side or part of an organ, not another organ ([EORTC-FAQ] "Paired organs")."""
LUNG_PART_WORDS = frozenset({"upper", "middle", "lower", "lobe", "lingula", "lingular"})
"""Lung lobes are parts of the one organ "lung" ([EORTC-FAQ] "Paired organs")."""
SINGULAR_ORGANS = {"lungs": "lung", "kidneys": "kidney", "ovaries": "ovary", "adrenals": "adrenal",
                   "breasts": "breast", "testes": "testis", "adrenal glands": "adrenal gland"}
"""Plural forms of paired organs, counted as the one organ they name."""


@dataclass(frozen=True)
class SelectionCandidate:
    """A baseline lesion as selection sees it: its role, organ and size (mm, None if not measured)."""

    id: str
    role: LesionRole
    site: str
    nodal: bool
    size_mm: float | None
    measurability: Measurability


def organ_of(site: str, *, nodal: bool) -> str:
    """The organ a lesion counts against for the "2 per organ" rule of RECIST 1.1 §4.2.

    Every lymph node is one organ ([EORTC-FAQ] "Two target lesions"). Paired organs count as one organ
    whatever side the lesion is on: "'lung', 'kidney', 'ovaries', 'lymph nodes' etc are considered as 1
    organ, irrespective of the number of parts they may be made up of" ([EORTC-FAQ] "Paired organs"). So
    the words of laterality (left, right, bilateral, lt, rt) are dropped from the site, a plural paired
    organ is made singular, and the lobes of the lung count as the lung. Sites are compared case-,
    punctuation- and space-insensitively.

    >>> organ_of("Mesenteric lymph node", nodal=True), organ_of(" Liver ", nodal=False)
    ('lymph nodes', 'liver')
    >>> organ_of("Left lung", nodal=False), organ_of("lung, right upper lobe", nodal=False)
    ('lung', 'lung')
    >>> organ_of("right kidney", nodal=False), organ_of("Ovaries", nodal=False)
    ('kidney', 'ovary')
    """
    if nodal:
        return LYMPH_NODES
    words = [w for w in "".join(c if c.isalnum() else " " for c in site.lower()).split()
             if w not in LATERALITY_WORDS]
    organ = " ".join(words)
    organ = SINGULAR_ORGANS.get(organ, organ)
    if "lung" in words or "lungs" in words:
        rest = [w for w in words if w not in LUNG_PART_WORDS and w not in ("lung", "lungs")]
        if not rest:
            return "lung"
    return organ


def over_organ_limit(lesions: Iterable[tuple[str, str, bool]]) -> dict[str, list[str]]:
    """The organs holding more than 2 of ``lesions`` (id, site, nodal), with their ids in the given order.

    RECIST 1.1 §4.2 "a maximum of two lesions per organ", organs as :func:`organ_of` counts them.
    """
    by_organ: dict[str, list[str]] = defaultdict(list)
    for lesion_id, site, nodal in lesions:
        by_organ[organ_of(site, nodal=nodal)].append(lesion_id)
    return {organ: ids for organ, ids in by_organ.items() if len(ids) > MAX_TARGETS_PER_ORGAN}


def selection_problems(candidates: Sequence[SelectionCandidate]) -> list[str]:
    """Every way the chosen targets break RECIST 1.1 §4.2, as sentences that say how to fix them.

    Checks: more than 5 targets; more than 2 targets in one organ (all nodes one organ); a target that
    is not measurable at baseline; a non-target node under 10 mm short axis (normal, R3: not a lesion).
    """
    problems: list[str] = []
    targets = [c for c in candidates if c.role == LesionRole.TARGET]
    if len(targets) > MAX_TARGETS:
        problems.append(
            f"{len(targets)} target lesions: RECIST 1.1 §4.2 allows at most {MAX_TARGETS}; "
            "make the others non-targets"
        )
    for organ, ids in over_organ_limit((c.id, c.site, c.nodal) for c in targets).items():
        problems.append(
            f"{len(ids)} target lesions in {organ} ({', '.join(sorted(ids))}): RECIST 1.1 §4.2 allows at most "
                f"{MAX_TARGETS_PER_ORGAN} per organ (all lymph nodes count as one organ)"
            )
    for c in targets:
        if c.measurability != Measurability.MEASURABLE:
            size = f" ({c.size_mm:g} mm {'short axis' if c.nodal else 'longest diameter'})" if c.size_mm is not None else ""
            problems.append(
                f"{c.id} is a target but {c.measurability.value.replace('_', '-')} at baseline{size}: "
                "only measurable lesions may be targets (RECIST 1.1 §3.1, §4.2); make it a non-target"
            )
    for c in candidates:
        if c.role == LesionRole.NON_TARGET and c.measurability == Measurability.NON_PATHOLOGICAL:
            problems.append(
                f"{c.id} is a lymph node under 10 mm short axis at baseline: normal, not a lesion "
                "(RECIST 1.1 §4.2); remove it"
            )
    return problems


def baseline_state_problems(non_target_states: Mapping[str, NonTargetState]) -> list[str]:
    """Non-target lesions whose baseline state makes no sense: a baseline lesion is present by definition
    ([E09] §4.2: all lesions are identified at baseline), so "absent", "not evaluated" or "unequivocal
    progression" at baseline is a reading error."""
    return [
        f"{lesion_id} is recorded {state.value.replace('_', ' ')} at baseline: a baseline lesion is present; "
        "correct its state or remove it"
        for lesion_id, state in non_target_states.items()
        if state != NonTargetState.PRESENT
    ]


def propose_targets(candidates: Iterable[SelectionCandidate]) -> list[str]:
    """Propose target lesions from the measurable candidates, largest first, within the limits.

    RECIST 1.1 §4.2 asks for targets "representative of all involved organs", chosen by size. The
    proposal first takes the largest measurable lesion of each organ (largest organs' lesions first),
    then the second largest of each organ, until 5 targets (at most 2 per organ, all nodes one organ).
    Ties go to the lesion whose id sorts first, so the proposal never depends on input order. Size is the longest diameter, or the short axis for nodes.
    The reader confirms: reproducibility of measurement may outweigh size ([S16]).

    Returns
    -------
    list of str
        Lesion ids in the order chosen.
    """
    measurable = [c for c in candidates if c.measurability == Measurability.MEASURABLE and c.size_mm is not None]
    by_organ: dict[str, list[SelectionCandidate]] = defaultdict(list)
    for c in sorted(measurable, key=lambda c: (-c.size_mm, c.id)):  # type: ignore[operator]
        by_organ[organ_of(c.site, nodal=c.nodal)].append(c)
    chosen: list[str] = []
    for rank in range(MAX_TARGETS_PER_ORGAN):
        tier = [lesions[rank] for lesions in by_organ.values() if len(lesions) > rank]
        for c in sorted(tier, key=lambda c: (-c.size_mm, c.id)):  # type: ignore[operator]
            if len(chosen) < MAX_TARGETS:
                chosen.append(c.id)
    return chosen
