"""File > Open Sample: the committed patient is copied to the cache (never edited in place); generated
only when absent."""

import filecmp
import hashlib

import pytest
from napari_recist import _sample_data
from napari_recist._sample_data import COMMITTED_SAMPLE, sample_folder

import recist


def _digest(folder):
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return h.hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "recist" / "sample-patient"


@pytest.mark.skipif(not (COMMITTED_SAMPLE / "case.json").is_file(), reason="no committed sample_data/patient")
def test_committed_sample_is_copied_to_the_cache_and_edits_stay_there(cache, monkeypatch):
    def no_generation(*_a, **_k):
        raise AssertionError("the committed sample exists: nothing should be generated")

    monkeypatch.setattr("recist.synthetic.sample_patient.make_sample_patient", no_generation)
    before = _digest(COMMITTED_SAMPLE)
    work = sample_folder()
    assert work == cache
    assert filecmp.cmp(work / "case.json", COMMITTED_SAMPLE / "case.json", shallow=False)
    assert sorted(p.relative_to(work) for p in work.rglob("*.dcm")) == sorted(
        p.relative_to(COMMITTED_SAMPLE) for p in COMMITTED_SAMPLE.rglob("*.dcm"))
    case = recist.read_case(work / "case.json")
    recist.write_case(case.model_copy(update={"subject": "EDITED"}), work / "case.json")
    assert sample_folder() == work  # reused: the reading goes on
    assert recist.read_case(work / "case.json").subject == "EDITED"
    assert _digest(COMMITTED_SAMPLE) == before
    assert not list(cache.parent.glob(".sample-patient-*"))  # no staging folder left behind


def test_incomplete_working_copy_is_replaced(cache, tmp_path, monkeypatch):
    committed = tmp_path / "committed"
    (committed / "baseline").mkdir(parents=True)
    (committed / "case.json").write_text("{}")
    (committed / "baseline" / "x.dcm").write_bytes(b"x")
    cache.mkdir(parents=True)
    (cache / "stale.txt").write_text("half a copy")
    assert sample_folder(committed) == cache
    assert not (cache / "stale.txt").exists() and (cache / "baseline" / "x.dcm").read_bytes() == b"x"


@pytest.mark.slow
def test_generated_when_no_committed_copy(cache, tmp_path):
    work = sample_folder(tmp_path / "absent")
    assert (work / "case.json").is_file()
    assert len(list(work.rglob("*.dcm"))) == 3 * (36 + 36)
    assert _sample_data._cache_dir() == work
    if (COMMITTED_SAMPLE / "case.json").is_file():  # the committed copy is the default-seed small patient
        assert (work / "case.json").read_bytes() == (COMMITTED_SAMPLE / "case.json").read_bytes()
