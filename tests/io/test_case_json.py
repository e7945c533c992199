"""Case-file reading and writing: validation messages, format versions, atomic writes, fuzzing."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recist
from recist.errors import RecistValidationError, UnsupportedFormatError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))
from strategies import cases  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "cases" / "NET-001_partial_response.json"


def write(tmp_path: Path, data) -> Path:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def example() -> dict:
    return json.loads(EXAMPLE.read_text())


def test_example_reads(tmp_path):
    case = recist.read_case(EXAMPLE)
    assert case.subject == "NET-001" and len(case.timepoints) == 3


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["timepoints"][1]["targets"]["T1"].update(long_axis_mm="big"),
         ["case.json", "'week 12'", "'T1'", "long_axis_mm"]),
        (lambda d: d["timepoints"][1]["targets"]["T1"].update(long_axis_mm=-3),
         ["'week 12'", "'T1'", "greater than or equal to 0"]),
        (lambda d: d["timepoints"][1]["targets"].update(T2={"long_axis_mm": 20.0}),
         ["'week 12'", "'T2'", "short_axis_mm is required", "short axis"]),
        (lambda d: d["timepoints"][1]["targets"]["T1"].update(state="too_small"),
         ["'T1'", "exclusive"]),
        (lambda d: d["timepoints"][1].update(date="2024-13-01"), ["'week 12'", "date", "not an ISO date"]),
        (lambda d: d["timepoints"][2].update(date="2024-01-01"), ["'week 24'", "date order"]),
        (lambda d: d["lesions"].append({"id": "T1", "role": "target", "site": "x"}), ["'T1'", "used twice"]),
        (lambda d: d["timepoints"][1]["targets"].update(T9={"long_axis_mm": 1.0}), ["'T9'", "not a lesion"]),
        (lambda d: d["timepoints"][1]["targets"]["T1"].update(long_axs_mm=1.0), ["long_axs_mm", "unknown key"]),
        (lambda d: d["timepoints"][0]["targets"].pop("T1"), ["'baseline'", "'T1'", "no baseline measurement"]),
        (lambda d: d["lesions"][0].update(role="goal"), ["lesions[0]", "'T1'", "role"]),
        (lambda d: d.pop("subject"), ["subject", "missing"]),
    ],
)
def test_errors_name_the_file_timepoint_lesion_and_field(tmp_path, mutate, expected):
    data = example()
    mutate(data)
    with pytest.raises(RecistValidationError) as info:
        recist.read_case(write(tmp_path, data))
    for fragment in expected:
        assert fragment in str(info.value)


def test_unknown_major_version_is_rejected_with_the_supported_ones(tmp_path):
    data = example()
    data["format"] = "recist.case/2"
    with pytest.raises(UnsupportedFormatError, match=r"recist\.case/1"):
        recist.read_case(write(tmp_path, data))
    data["format"] = "something-else"
    with pytest.raises(UnsupportedFormatError):
        recist.read_case(write(tmp_path, data))


@pytest.mark.parametrize("text", ["", "{", "[]", "null", '"x"', "\xff\xfe"])
def test_broken_files(tmp_path, text):
    with pytest.raises(RecistValidationError, match="case.json"):
        recist.read_case(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(RecistValidationError, match="no such file"):
        recist.read_case(tmp_path / "absent.json")


def test_write_is_stable_and_round_trips(tmp_path):
    case = recist.read_case(EXAMPLE)
    out = tmp_path / "out.json"
    recist.write_case(case, out)
    text = out.read_text()
    assert recist.read_case(out) == case
    recist.write_case(recist.read_case(out), out)
    assert out.read_text() == text  # stable: the same case writes the same bytes
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_write_is_atomic_when_the_rename_fails(tmp_path, monkeypatch):
    case = recist.read_case(EXAMPLE)
    out = tmp_path / "out.json"
    recist.write_case(case, out)
    before = out.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        recist.write_case(case.model_copy(update={"subject": "OTHER"}), out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temp file left behind


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(JSON)
def test_random_json_loads_or_raises_validation_error(data):
    try:
        recist.parse_case(data)
    except RecistValidationError:
        pass


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


@FUZZ
@given(cases(), st.data())
def test_mutated_cases_load_or_raise_validation_error(case, data):
    _mutate(case, data)
    try:
        parsed = recist.parse_case(case)
    except RecistValidationError:
        return
    recist.assess(parsed)  # whatever loads can be assessed


def _outcome(load):
    """("ok", the case) or ("error", the message) of a loading function."""
    try:
        return "ok", load()
    except RecistValidationError as exc:
        return "error", str(exc)


def _mutate(case, data):
    paths = [p for p in _paths(case) if p]
    path = data.draw(st.sampled_from(paths))
    parent = case
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.sampled_from(["replace", "delete"])) == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON)


@FUZZ
@given(cases(), st.data())
def test_read_case_and_parse_case_agree_on_every_file(tmp_path_factory, case, data):
    """read_case validates the file's bytes directly (pydantic's JSON mode) and falls back to the dict
    route on any problem: both must accept the same files, give the same case, raise the same message."""
    if data.draw(st.booleans()):
        _mutate(case, data)
    path = tmp_path_factory.mktemp("agree") / "c.json"
    path.write_text(json.dumps(case))
    from_file = _outcome(lambda: recist.read_case(path))
    from_dict = _outcome(lambda: recist.parse_case(json.loads(path.read_bytes()), source=str(path)))
    assert from_file == from_dict


@pytest.mark.parametrize("text", [
    '{"format": "recist.case/1", "subject": "S", "lesions": [{"id": "T1", "role": "target", "site": "liver"}],'
    ' "timepoints": [{"label": "baseline", "day": 0.0, "targets": {"T1": {"long_axis_mm": 10}}}]}',
    '{"subject": "S", "lesions": [{"id": "T1", "role": "target", "site": "liver"}],'
    ' "timepoints": [{"label": "baseline", "day": 0, "targets": {"T1": {"long_axis_mm": 10}}}]}',
    '\ufeff' + json.dumps({"format": "recist.case/1", "subject": "S",
                           "lesions": [{"id": "T1", "role": "target", "site": "liver"}],
                           "timepoints": [{"label": "b", "day": 0, "targets": {"T1": {"long_axis_mm": 1e400}}}]}),
])
def test_both_routes_agree_on_edge_cases(tmp_path, text):
    """A float day, a missing format key, a byte-order mark with an infinite length: same outcome."""
    path = tmp_path / "case.json"
    path.write_text(text, encoding="utf-8")
    assert _outcome(lambda: recist.read_case(path)) == _outcome(
        lambda: recist.parse_case(json.loads(path.read_bytes()), source=str(path)))
    assert _outcome(lambda: recist.read_case(path))[0] == "error"


@settings(max_examples=100, deadline=None)
@given(cases())
def test_write_then_read_is_the_identity(tmp_path_factory, case):
    parsed = recist.parse_case(case)
    out = tmp_path_factory.mktemp("rt") / "c.json"
    recist.write_case(parsed, out)
    assert recist.read_case(out) == parsed


def test_written_files_get_ordinary_permissions(tmp_path):
    out = tmp_path / "out.json"
    recist.write_case(recist.read_case(EXAMPLE), out)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_swapped_axes_are_refused(tmp_path):
    data = example()
    data["timepoints"][1]["targets"]["T2"] = {"long_axis_mm": 10.0, "short_axis_mm": 22.0}
    with pytest.raises(RecistValidationError, match="short_axis_mm 22 is longer than long_axis_mm 10") as info:
        recist.read_case(write(tmp_path, data))
    assert "Value error" not in str(info.value)


def test_misspelt_key_gets_a_suggestion(tmp_path):
    data = example()
    data["timepoints"][1]["targets"]["T1"] = {"long_axs_mm": 10.0}
    with pytest.raises(RecistValidationError, match="did you mean 'long_axis_mm'"):
        recist.read_case(write(tmp_path, data))
