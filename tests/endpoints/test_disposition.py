"""Disposition per arm (ICH E3 §10.1, CONSORT item 13) and events/censoring reasons per arm (FDA 2018)."""

from __future__ import annotations

import datetime as dt

from recist.endpoints.disposition import censoring_table, disposition
from recist.endpoints.pfs import CensoringReason, PfsOutcome


def test_disposition_counts_every_randomised_subject_once():
    arm_of = {f"S{i}": "A" if i < 50 else "B" for i in range(100)}
    with_read = {"S0", "S1", "S2", "S50", "S51", "S52", "S53", "S54"}
    left_out = {s: "no read" for s in arm_of if s not in with_read}
    flow = disposition(["A", "B"], arm_of, with_read, with_read, left_out)
    assert [(d.arm, d.randomised, d.with_read, d.analysed, d.n_left_out) for d in flow] == [
        ("A", 50, 3, 3, 47), ("B", 50, 5, 5, 45)]
    assert list(flow[0].left_out) == ["no read"] and len(flow[0].left_out["no read"]) == 47


def test_analysed_without_read_and_unrecorded_reasons():
    flow = disposition(["A"], {"1": "A", "2": "A"}, set(), {"1"}, {})
    assert flow[0].analysed_without_read == 1
    assert flow[0].left_out == {"not analysed (reason not recorded)": ["2"]}


def test_censoring_table_lists_every_category_per_arm():
    d = dt.date(2024, 1, 1)
    outcomes = [PfsOutcome("1", "A", d, True, d, "progression"), PfsOutcome("2", "A", d, True, d, "death"),
                PfsOutcome("3", "B", d, False, d, None, CensoringReason.NEW_THERAPY),
                PfsOutcome("4", "B", d, False, d, None, CensoringReason.NEW_THERAPY)]
    rows = {r.category: r.counts for r in censoring_table(outcomes, ["A", "B"])}
    assert len(rows) == 2 + len(CensoringReason)
    assert rows["progression"] == {"A": 1, "B": 0} and rows["death"] == {"A": 1, "B": 0}
    assert rows[CensoringReason.NEW_THERAPY.value] == {"A": 0, "B": 2}
    assert sum(c["A"] + c["B"] for c in rows.values()) == len(outcomes)
