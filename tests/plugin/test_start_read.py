"""start_read without a viewer: a protected folder is read in a working copy, and a reader package's
manifest from outside (fuzzed) either starts a read or is refused with one DicomLoadError."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from napari_recist._controller import read_draft
from napari_recist._start_read import start_read

from recist.errors import DicomLoadError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from dicom_factory import write_series  # noqa: E402


def _timepoint(folder: Path, when: dt.date) -> None:
    stamp = when.strftime("%Y%m%d")
    write_series(folder, shape=(2, 8, 8), extra={"StudyDate": stamp, "PatientID": "NET-9"})


def test_a_folder_in_a_repository_is_read_in_a_working_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    images = repo / "data" / "NET-9"
    _timepoint(images / "a", dt.date(2024, 2, 1))
    before = sorted(p.relative_to(repo) for p in repo.rglob("*"))
    path = start_read(images)
    assert (tmp_path / "cache") in path.parents and path.name == "case.json"
    assert (path.parent / "a").is_dir()  # the images were copied beside the case
    assert sorted(p.relative_to(repo) for p in repo.rglob("*")) == before  # nothing written in the repository
    assert read_draft(path).subject == "NET-9"
    assert start_read(images) == path  # opening again continues the same working copy


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=st.dictionaries(st.sampled_from(["subject", "timepoints", "x"]),
                                     _json | st.just("..") | st.just("S-1"), max_size=3),
       timepoints=st.lists(st.dictionaries(st.sampled_from(["label", "date", "folder"]),
                                           _json | st.just("S-1/tp") | st.just("2024-02-01") | st.just("../S-1/tp"),
                                           max_size=3), max_size=3))
def test_a_fuzzed_manifest_starts_a_read_or_is_refused(tmp_path_factory, subject, timepoints):
    package = tmp_path_factory.mktemp("package")
    _timepoint(package / "S-1" / "tp", dt.date(2024, 2, 1))
    entry = dict(subject)
    entry.setdefault("subject", "S-1")
    entry.setdefault("timepoints", timepoints)
    (package / "manifest.json").write_text(json.dumps({"format": "recist.review.package/1", "subjects": [entry]}))
    try:
        path = start_read(package)
    except DicomLoadError as exc:
        assert str(package) in str(exc)
    else:
        assert read_draft(path).timepoints
