"""The 2 + 1 workflow: reads, signatures, versions, access rules, adjudication and results."""

from __future__ import annotations

import json

import pytest

from recist.errors import BlindingError, ReviewStateError
from recist.review.esign import record_sha256
from recist.review.workflow import SIGNATURE_MEANING, ReviewProject

from .conftest import NOW, make_case, package_case


def _sign_both(project: ReviewProject, subject: str, a_sizes: list[float], b_sizes: list[float]) -> str:
    p = project.pseudonym(subject)
    project.save_read(p, package_case(project, p, a_sizes), as_="R1", now=NOW)  # labels and dates the readers see
    project.sign(p, as_="R1", now=NOW)
    project.save_read(p, package_case(project, p, b_sizes), as_="R2", now=NOW)
    project.sign(p, as_="R2", now=NOW)
    return p


def test_whole_workflow_two_readers_and_an_adjudicator(project: ReviewProject) -> None:
    agree = _sign_both(project, "NET-001", [30, 20, 18], [30, 20, 18])  # PR both
    disagree = _sign_both(project, "NET-002", [30, 40, 40], [30, 29, 28])  # PD vs SD
    rows = {r["subject"]: r for r in project.status(as_="PM1", now=NOW)}
    assert rows["NET-001"]["needs_adjudication"] is False
    assert rows["NET-002"]["needs_adjudication"] is True
    assert set(rows["NET-002"]["triggers"]) == {"progression", "best_overall_response"}
    assert rows["NET-003"]["needs_adjudication"] is None
    assert rows["NET-003"]["reads"] == {"R1": "not started", "R2": "not started"}

    # the adjudicator sees only the subject that needs adjudication, without reader identities
    adj_rows = project.status(as_="ADJ1", now=NOW)
    assert [r["subject"] for r in adj_rows] == [disagree]
    view = project.show(disagree, as_="ADJ1", now=NOW)
    assert set(view["reads"]) == {"A", "B"}
    text = json.dumps(view)
    assert "R1" not in text and "R2" not in text and "signature" not in text
    with pytest.raises(BlindingError):
        project.show(agree, as_="ADJ1", now=NOW)

    # pick the read that has progression
    pd_label = next(ab for ab, r in view["reads"].items() if r["assessment"]["progression"])
    project.adjudicate(disagree, choose=pd_label, reason="new measurement confirms growth", as_="ADJ1", now=NOW)
    results = {r["subject"]: r for r in project.results(as_="PM1", now=NOW)}
    assert results["NET-001"]["source"] == "agreement" and results["NET-001"]["read"] == "A"
    assert results["NET-001"]["best_overall_response"] == "PR"
    assert results["NET-002"]["source"] == "adjudication"
    assert results["NET-002"]["best_overall_response"] == "PD"
    assert results["NET-002"]["reader"] == "R1"  # R1 measured the growth
    assert results["NET-002"]["progression_day"] == 56
    # the true calendar date of the week-8 scan added by the administrator (2024-01-08 + 56 days)
    assert results["NET-002"]["progression_date"] == "2024-03-04"
    assert results["NET-003"]["status"] == "awaiting reads"
    assert project.verify() == []
    csv_text = ReviewProject.results_csv(list(results.values()))
    assert csv_text.splitlines()[0].startswith("subject,pseudonym,status")


def test_charter_protocol_overrides_the_case(tmp_path) -> None:
    from .conftest import CHARTER, timepoints

    charter = {**CHARTER, "protocol": {"sd_min_days": 100}}
    proj = ReviewProject.init(tmp_path / "r", charter, as_="PM1", now=NOW)
    p = proj.add_subject("X-1", timepoints(), as_="PM1", now=NOW, check_images=False)
    case = package_case(proj, p, [30, 29, 28])
    case["protocol"] = {"sd_min_days": 42}
    proj.save_read(p, case, as_="R1", now=NOW)
    proj.sign(p, as_="R1", now=NOW)
    # day 112 >= 42 would give SD; the charter's 100 days still allow SD at day 112 but not at day 56
    signed = proj.show(p, as_="R1")["versions"][-1]["assessment"]
    assert signed["best_overall_response"] == "SD"
    case2 = package_case(proj, p, [30, 29, None])
    case2["protocol"] = {"sd_min_days": 42}
    proj.amend(p, case2, as_="R1", reason="second follow-up was not evaluable", now=NOW)
    assert proj.show(p, as_="R1")["versions"][-1]["assessment"]["best_overall_response"] == "NE"


def test_signature_versions_and_amendment(project: ReviewProject) -> None:
    p = project.pseudonym("NET-001")
    assert project.save_read(p, package_case(project, p, [30, 20, 18]), as_="R1", now=NOW) == 1
    assert project.save_read(p, package_case(project, p, [30, 21, 18]), as_="R1", now=NOW) == 1  # draft replaced
    assert project.sign(p, as_="R1", now=NOW) == 1
    read = project.show(p, as_="R1")
    signature = read["versions"][0]["signature"]
    assert {k: signature[k] for k in ("signer", "name", "time", "meaning", "subject")} == {
        "signer": "R1", "name": "R1", "time": NOW.isoformat(), "meaning": SIGNATURE_MEANING, "subject": p}
    assert signature["record_sha256"] == record_sha256(read["versions"][0])  # 11.70: linked to its record
    with pytest.raises(ReviewStateError, match="amend"):
        project.save_read(p, package_case(project, p, [30, 22, 18]), as_="R1", now=NOW)
    with pytest.raises(ReviewStateError, match="reason"):
        project.amend(p, package_case(project, p, [30, 22, 18]), as_="R1", reason="  ", now=NOW)
    assert project.amend(p, package_case(project, p, [30, 22, 18]), as_="R1", reason="re-measured T1", now=NOW) == 2
    read = project.show(p, as_="R1")
    assert [v["version"] for v in read["versions"]] == [1, 2]
    assert read["versions"][0]["case"]["timepoints"][1]["targets"]["T1"]["long_axis_mm"] == 21.0
    assert read["versions"][1]["reason"] == "re-measured T1" and read["versions"][1]["status"] == "signed"
    old = project.show(p, as_="R1", version=1)
    assert [v["version"] for v in old["versions"]] == [1]
    with pytest.raises(BlindingError, match="pseudonym"):
        project.save_read("NET-002", make_case("NET-002", [30, 20]), as_="R2", now=NOW)


def test_a_replaced_draft_is_kept_and_its_audit_entry_refers_to_it(project: ReviewProject) -> None:
    """21 CFR 11.10(e): a change must not obscure what was recorded before. Saving over a draft keeps the
    replaced draft (case, saving time, version) in the project, and the audit entry of the save names it
    with its case hash; the project still verifies intact."""
    p = project.pseudonym("NET-001")
    project.save_read(p, package_case(project, p, [30, 20, 18]), as_="R1", now=NOW)
    first = project.show(p, as_="R1")["versions"][0]
    later = NOW.replace(hour=13)
    project.save_read(p, package_case(project, p, [30, 21, 18]), as_="R1", now=later)
    entry = [e for e in project.audit.entries() if e["action"] == "save"][-1]
    replaced = entry["details"]["replaced_draft"]
    kept = json.loads((project.root / replaced["file"]).read_text())
    assert kept["version"] == first and kept["reader"] == "R1"
    assert kept["version"]["saved_at"] == replaced["saved_at"] == NOW.isoformat()
    assert kept["replaced_at"] == later.isoformat() and replaced["case_sha256"] == kept["version"]["case_sha256"]
    assert replaced["file"] in entry["files"]  # recorded by the entry's file hashes, so verify covers it
    project.save_read(p, package_case(project, p, [30, 22, 18]), as_="R1", now=later.replace(hour=14))
    assert len(list((project.root / replaced["file"]).parent.glob("*.json"))) == 2  # none overwritten
    assert project.verify() == []
    assert [v["version"] for v in project.show(p, as_="R1")["versions"]] == [1]  # the read itself: one draft


def test_reader_cannot_see_another_readers_read_and_refusals_are_logged(project: ReviewProject) -> None:
    p = project.pseudonym("NET-001")
    project.save_read(p, package_case(project, p, [30, 20, 18]), as_="R1", now=NOW)
    with pytest.raises(BlindingError):
        project.show(p, as_="R2", reader="R1", now=NOW)
    assert project.show(p, as_="R2")["versions"] == []  # R2 sees only their own (empty) read
    with pytest.raises(BlindingError):
        project.sign(p, as_="ADJ1", now=NOW)
    with pytest.raises(BlindingError):
        project.save_read(p, package_case(project, p, [30, 30, 30]), as_="INTRUDER", now=NOW)
    with pytest.raises(BlindingError):
        project.results(as_="R1", now=NOW)
    with pytest.raises(BlindingError):
        project.adjudicate(p, choose="A", reason="x", as_="ADJ1", now=NOW)  # reads not both signed
    refused = [e for e in project.audit.entries() if e["action"] == "refused"]
    assert [(e["actor"], e["details"]["attempted"]) for e in refused] == [
        ("R2", "show"), ("ADJ1", "sign reads"), ("INTRUDER", "save reads"), ("R1", "export results"),
        ("ADJ1", "adjudicate"),
    ]
    assert project.verify() == []


def test_reader_status_shows_only_own_progress(project: ReviewProject) -> None:
    p = project.pseudonym("NET-002")
    project.save_read(p, package_case(project, p, [30, 20, 20]), as_="R2", now=NOW)
    rows = project.status(as_="R2", now=NOW)
    assert {r["subject"] for r in rows} == {project.pseudonym(s) for s in ("NET-001", "NET-002", "NET-003")}
    assert "NET-" not in json.dumps(rows)
    assert next(r for r in rows if r["subject"] == p)["status"] == "draft"
    assert all(r["status"] == "not started" for r in project.status(as_="R1", now=NOW))


def test_adjudicated_reads_are_locked(project: ReviewProject) -> None:
    p = _sign_both(project, "NET-002", [30, 40, 40], [30, 29, 28])
    project.adjudicate(p, choose="A", reason="A is right", as_="ADJ1", now=NOW)
    with pytest.raises(ReviewStateError, match="adjudicated"):
        project.amend(p, package_case(project, p, [30, 40, 40]), as_="R1", reason="late change", now=NOW)
    with pytest.raises(ReviewStateError, match="already"):
        project.adjudicate(p, choose="B", reason="again", as_="ADJ1", now=NOW)


def test_ab_labels_are_deterministic_and_mix_readers(project: ReviewProject) -> None:
    from recist.review.adjudication import ab_readers

    secret = b"k" * 32
    labels = [ab_readers(secret, f"S-{i:08X}", ("R1", "R2"))["A"] for i in range(200)]
    assert labels == [ab_readers(secret, f"S-{i:08X}", ("R1", "R2"))["A"] for i in range(200)]
    assert 60 < labels.count("R1") < 140


def test_init_requires_an_administrator_and_an_empty_folder(tmp_path) -> None:
    from .conftest import CHARTER

    with pytest.raises(BlindingError):
        ReviewProject.init(tmp_path / "a", CHARTER, as_="R1", now=NOW)
    ReviewProject.init(tmp_path / "b", CHARTER, as_="PM1", now=NOW)
    with pytest.raises(ReviewStateError, match="not empty"):
        ReviewProject.init(tmp_path / "b", CHARTER, as_="PM1", now=NOW)
