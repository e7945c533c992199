"""Kappa, progression-date agreement and EDR/LDR, checked from their published definitions."""

from __future__ import annotations

import random

import pytest

from recist.review.agreement import cohen_kappa, discrepancy_rates, progression_date_agreement


def _table_pairs(table: list[list[int]], cats: list[str]) -> list[tuple[str, str]]:
    return [(cats[i], cats[j]) for i, row in enumerate(table) for j, n in enumerate(row) for _ in range(n)]


def test_kappa_of_a_hand_computed_table() -> None:
    # p_o = 35/50 = 0.7; rows 0.5/0.5, columns 0.6/0.4; p_e = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4
    result = cohen_kappa(_table_pairs([[20, 5], [10, 15]], ["PD", "SD"]))
    assert result["kappa"] == pytest.approx(0.4)
    assert result["observed_agreement"] == pytest.approx(0.7)
    assert result["ci95"][0] < 0.4 < result["ci95"][1]


def test_kappa_se_agrees_with_the_bootstrap() -> None:
    cats = ["CR", "PR", "SD", "PD"]
    pairs = _table_pairs([[10, 3, 1, 0], [4, 40, 8, 2], [1, 6, 50, 7], [0, 1, 6, 61]], cats)
    se = cohen_kappa(pairs, cats)["se"]
    rng = random.Random(7)
    boot = [cohen_kappa([rng.choice(pairs) for _ in pairs], cats)["kappa"] for _ in range(600)]
    mean = sum(boot) / len(boot)
    sd = (sum((b - mean) ** 2 for b in boot) / (len(boot) - 1)) ** 0.5
    assert se == pytest.approx(sd, rel=0.15)


def test_kappa_perfect_and_undefined() -> None:
    assert cohen_kappa([("PR", "PR"), ("SD", "SD")])["kappa"] == pytest.approx(1.0)
    assert cohen_kappa([("SD", "SD")] * 3)["kappa"] is None  # p_e = 1
    assert cohen_kappa([])["kappa"] is None


def test_progression_date_classes() -> None:
    pd = lambda day: {"day": day}  # noqa: E731
    counts = progression_date_agreement(
        [(pd(56), pd(56)), (pd(56), pd(112)), (pd(56), pd(224)), (pd(56), None), (None, None)], visit_interval_days=56
    )
    assert counts == {"same_date": 1, "within_one_visit": 1, "discordant": 2, "no_progression": 1}


def test_edr_ldr_follow_amit_2011() -> None:
    pd = lambda d: {"date": d}  # noqa: E731
    pairs = [  # (site, central)
        (pd("2024-03-01"), pd("2024-03-01")),  # a: agree
        (pd("2024-03-01"), pd("2024-05-01")),  # b: site earlier
        (pd("2024-03-01"), None),  # d: no central PD
        (pd("2024-05-01"), pd("2024-03-01")),  # c: site later
        (None, pd("2024-03-01")),  # e: no site PD
        (None, pd("2024-04-01")),  # e
        (None, None),
    ]
    rates = discrepancy_rates(pairs)
    assert (rates["a"], rates["b"], rates["c"], rates["d"], rates["e"]) == (1, 1, 1, 1, 2)
    assert rates["edr"] == pytest.approx((1 + 1) / (1 + 1 + 1 + 1))  # (b + d) / (a + b + c + d)
    assert rates["ldr"] == pytest.approx((1 + 2) / (1 + 1 + 1 + 2))  # (c + e) / (b + c + d + e)
    assert discrepancy_rates([(None, None)])["edr"] is None


def test_report_with_site_reads(tmp_path) -> None:
    import datetime as dt

    from recist.review.workflow import ReviewProject

    from .conftest import CHARTER, NOW, make_case, package_case, timepoints

    project = ReviewProject.init(tmp_path / "r", CHARTER, as_="PM1", now=NOW)
    for n, (a, b, site) in enumerate([([30, 40, 40], [30, 40, 40], [30, 29, 40]),
                                      ([30, 20, 18], [30, 29, 28], [30, 20, 18])]):
        subject = f"S{n}"
        project.add_subject(subject, timepoints(), as_="PM1", now=NOW, check_images=False)
        p = project.pseudonym(subject)
        for reader, sizes in (("R1", a), ("R2", b)):
            project.save_read(p, package_case(project, p, sizes), as_=reader, now=NOW)
            project.sign(p, as_=reader, now=NOW)
        project.import_site_read(subject, make_case(subject, site, start=dt.date(2024, 1, 8)), as_="PM1", now=NOW)
    with pytest.raises(Exception, match="does not need"):
        project.show(project.pseudonym("S0"), as_="ADJ1", now=NOW)
    project.adjudicate(project.pseudonym("S1"), choose="A", reason="A measured correctly", as_="ADJ1", now=NOW)
    report = project.report(as_="PM1", now=NOW)
    assert report["subjects_with_two_signed_reads"] == 2
    assert report["adjudication"]["rate"] == pytest.approx(0.5)
    assert report["adjudication"]["per_trigger"]["best_overall_response"]["count"] == 1
    assert sum(v["count"] for v in report["adjudicator_choice"]["per_reader"].values()) == 1
    site = report["site_vs_central"]
    # S0: central PD at week 8 (day 56), site PD at week 16 (day 112): site later (c); S1: neither PD
    assert (site["a"], site["b"], site["c"], site["d"], site["e"]) == (0, 0, 1, 0, 0)
    assert site["ldr"] == pytest.approx(1.0) and site["edr"] == pytest.approx(0.0)
    # site reads are never shown to readers
    shown = project.show(project.pseudonym("S0"), as_="R1")
    assert "imported_at" not in str(shown) and "S0" not in str(shown)
    assert [v["case"]["timepoints"][1]["targets"]["T1"]["long_axis_mm"] for v in shown["versions"]] == [40.0]
