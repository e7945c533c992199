"""Who is counted where: subject disposition per arm, and PFS events and censoring reasons per arm.

ICH E3 (1995) §10.1 asks a study report to account for every randomised subject: how many were
randomised per arm, how many were analysed, and each subject left out with the reason. CONSORT 2010
(item 13, the flow diagram) asks the same per arm. FDA 2018 guidance (PFS) asks for the censoring
reasons to be summarised per arm, because unbalanced censoring (e.g. more new therapy before
progression in one arm) can bias PFS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from recist.endpoints.pfs import CensoringReason, PfsOutcome

__all__ = ["ArmDisposition", "disposition", "CensoringRow", "censoring_table"]


@dataclass(frozen=True)
class ArmDisposition:
    """The subjects of one arm, from randomisation to analysis.

    Attributes
    ----------
    arm
        Arm label.
    randomised
        Rows of the subjects table with this arm.
    with_read
        Randomised subjects with a tumour read in the source.
    analysed
        Subjects in the analysis (the denominator of ORR/DCR and the PFS population).
    analysed_without_read
        Analysed subjects without a read (``recist report``: BOR NE, censored at randomisation).
    left_out
        Reason -> subject ids of the randomised subjects not analysed.
    """

    arm: str
    randomised: int
    with_read: int
    analysed: int
    analysed_without_read: int = 0
    left_out: dict[str, list[str]] = field(default_factory=dict)

    @property
    def n_left_out(self) -> int:
        return sum(map(len, self.left_out.values()))


def disposition(
    arms: Sequence[str],
    arm_of: Mapping[str, str],
    with_read: set[str],
    analysed: set[str],
    left_out: Mapping[str, str],
) -> list[ArmDisposition]:
    """Per-arm counts of randomised, with a read, analysed, and left out by reason.

    Parameters
    ----------
    arms
        The arms in reporting order.
    arm_of
        Subject id -> arm for every randomised subject (every row of the subjects table).
    with_read
        Subjects with a read.
    analysed
        Subjects analysed.
    left_out
        Subject id -> reason, for the randomised subjects not analysed (a subject missing here gets
        "not analysed (reason not recorded)", which should not happen).

    Examples
    --------
    >>> d = disposition(["A"], {"1": "A", "2": "A", "3": "A"}, {"1", "2"}, {"1"}, {"2": "bad read", "3": "no read"})
    >>> d[0].randomised, d[0].with_read, d[0].analysed, d[0].left_out
    (3, 2, 1, {'bad read': ['2'], 'no read': ['3']})
    """
    out = []
    for arm in arms:
        members = sorted(s for s, a in arm_of.items() if a == arm)
        reasons: dict[str, list[str]] = {}
        for subject in members:
            if subject not in analysed:
                reasons.setdefault(left_out.get(subject, "not analysed (reason not recorded)"), []).append(subject)
        out.append(ArmDisposition(
            arm, len(members), sum(s in with_read for s in members), sum(s in analysed for s in members),
            sum(s in analysed and s not in with_read for s in members), dict(sorted(reasons.items())),
        ))
    return out


@dataclass(frozen=True)
class CensoringRow:
    """One line of the events-and-censoring table: a category and its count in each arm."""

    category: str
    kind: str  # "event" or "censored"
    counts: dict[str, int]


def censoring_table(outcomes: Sequence[PfsOutcome], arms: Sequence[str]) -> list[CensoringRow]:
    """PFS events by type and censored subjects by reason, per arm (FDA 2018 guidance, PFS).

    Every category of :class:`~recist.endpoints.pfs.CensoringReason` is listed (zeros included), so
    that tables of different analyses line up; event types are progression and death.

    Examples
    --------
    >>> import datetime as dt
    >>> d = dt.date(2024, 1, 1)
    >>> rows = censoring_table([PfsOutcome("1", "A", d, True, d, "death")], ["A"])
    >>> [(r.category, r.counts["A"]) for r in rows][:2]
    [('progression', 0), ('death', 1)]
    """
    rows = [CensoringRow(kind, "event", {a: sum(o.event and o.event_type == kind and o.arm == a for o in outcomes)
                                         for a in arms}) for kind in ("progression", "death")]
    rows += [CensoringRow(reason.value, "censored",
                          {a: sum(not o.event and o.censoring_reason == reason and o.arm == a for o in outcomes)
                           for a in arms}) for reason in CensoringReason]
    return rows
