"""DICOMweb for remote readers, called with dicomweb-client (the third party's own library) over HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
import requests
from dicomweb_client.api import DICOMwebClient

from recist.review.audit import AuditLog

from .conftest import PASSWORDS, Server


@pytest.fixture
def imaged(server: Server) -> Server:
    """The shared served project: three subjects with two CT timepoints each."""
    return server


@pytest.fixture(autouse=True)
def _sessions() -> Iterator[None]:
    """Close the clients' keep-alive connections after each test (the server waits for them at shutdown)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


_OPEN: list[requests.Session] = []


def _client(server: Server, user: str | None) -> DICOMwebClient:
    session = requests.Session()
    _OPEN.append(session)
    session.verify = str(server.cert)
    session.trust_env = False  # else REQUESTS_CA_BUNDLE overrides session.verify (psf/requests#3829)
    headers = {"Authorization": f"Bearer {server.token(user)}"} if user else {}
    return DICOMwebClient(url=f"{server.url}/dicomweb", session=session, headers=headers)


def _originals(server: Server) -> dict[str, str]:
    """StudyInstanceUID -> PatientID of the identified source series."""
    found = {}
    for path in (server.root.parent / "dicom").rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        found[str(ds.StudyInstanceUID)] = str(ds.PatientID)
    return found


def test_a_reader_lists_and_retrieves_only_de_identified_series_of_their_worklist(imaged: Server) -> None:
    client = _client(imaged, "R1")
    studies = client.search_for_studies()
    with imaged.login("R1") as http:
        worklist = {row["subject"] for row in http.get("/api/status").json()}
    assert {s["00100020"]["Value"][0] for s in studies} == worklist and len(studies) == 6
    originals = _originals(imaged)
    study_uid = studies[0]["0020000D"]["Value"][0]
    assert study_uid not in originals  # UIDs are replaced
    series = client.search_for_series(study_uid)
    series_uid = series[0]["0020000E"]["Value"][0]
    instances = client.retrieve_series(study_uid, series_uid)
    assert len(instances) == 2
    for ds in instances:
        assert str(ds.PatientID) in worklist and str(ds.PatientName) == str(ds.PatientID)
        assert not [phi for phi in ("Doe", "Hospital X", "NET-00", "20240108", "20240304") if phi in str(ds)]
        assert ds.PatientIdentityRemoved == "YES" and ds.pixel_array.shape == (8, 8)
    sop = instances[0].SOPInstanceUID
    assert client.retrieve_instance(study_uid, series_uid, sop).SOPInstanceUID == sop
    metadata = client.retrieve_series_metadata(study_uid, series_uid)
    assert len(metadata) == 2 and "7FE00010" not in metadata[0]
    assert len(client.search_for_instances(study_uid, series_uid)) == 2
    only = client.search_for_studies(search_filters={"PatientID": studies[0]["00100020"]["Value"][0]})
    assert len(only) == 2


def test_anything_outside_the_scope_is_403_and_audited(imaged: Server) -> None:
    original_study = next(iter(_originals(imaged)))
    reader = _client(imaged, "R1")
    before = len(list(AuditLog(imaged.root).entries()))
    with pytest.raises(requests.HTTPError) as refused:
        reader.retrieve_study(original_study)  # an identified original: never served
    assert refused.value.response.status_code == 403
    # the adjudicator sees only subjects that need adjudication: none yet
    adjudicator = _client(imaged, "ADJ1")
    assert adjudicator.search_for_studies() == []
    some_study = reader.search_for_studies()[0]["0020000D"]["Value"][0]
    with pytest.raises(requests.HTTPError) as refused:
        adjudicator.search_for_series(some_study)
    assert refused.value.response.status_code == 403
    entries = list(AuditLog(imaged.root).entries())[before:]
    assert [(e["actor"], e["details"]["attempted"]) for e in entries if e["action"] == "refused"] == [
        ("R1", "dicomweb"), ("ADJ1", "dicomweb")]
    with pytest.raises(requests.HTTPError) as anonymous:
        _client(imaged, None).search_for_studies()
    assert anonymous.value.response.status_code == 401


def test_the_packages_live_outside_the_project(imaged: Server) -> None:
    _client(imaged, "R2").search_for_studies()
    assert not list(imaged.root.rglob("*.dcm"))
    assert list(Path(imaged.home).rglob("dicomweb/R2/*/*/*.dcm"))


def test_the_worklist_gives_what_a_read_must_carry(imaged: Server, tmp_path, monkeypatch, capsys) -> None:
    import io
    import json
    import sys

    from recist.cli import main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORDS["R1"] + "\n"))
    assert main(["review", "login", imaged.url, "--user", "R1", "--ca-cert", str(imaged.cert),
                 "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["review", "worklist", "--server", imaged.url]) == 0
    worklist = json.loads(capsys.readouterr().out)
    assert len(worklist) == 3
    entry = next(e for e in worklist if e["status"] != "signed")
    assert [tp["label"] for tp in entry["timepoints"]] == ["timepoint 1", "timepoint 2"]
    study = entry["timepoints"][0]["studies"][0]
    assert _client(imaged, "R1").search_for_studies(search_filters={"StudyInstanceUID": study})
    # a read written from the worklist alone is accepted
    case = {"format": "recist.case/1", "subject": entry["subject"],
            "lesions": [{"id": "T1", "role": "target", "site": "liver"}],
            "timepoints": [{"label": tp["label"], "date": tp["date"], "targets": {"T1": {"long_axis_mm": 20.0}}}
                           for tp in entry["timepoints"]]}
    with imaged.login("R1") as http:
        saved = http.put(f"/api/subjects/{entry['subject']}/read", json=case)
        assert saved.status_code == 200, saved.text
        assert http.get("/api/worklist").status_code == 200
    with imaged.login("PM1") as http:
        assert http.get("/api/worklist").status_code == 403
