"""Case files at the edges (issue #17 section 2): huge numbers and lists, deep nesting, truncations,
bad paths. Each is refused with one RecistValidationError naming the file, never another exception."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recist
from recist.errors import RecistError, RecistValidationError
from recist.model.case import MAX_ITEMS, MAX_LENGTH_MM, MAX_SLICE_THICKNESS_MM

EXAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "cases" / "NET-001_partial_response.json"


def example() -> dict:
    return json.loads(EXAMPLE.read_text())


def _refused(tmp_path: Path, text: str | bytes) -> RecistValidationError:
    path = tmp_path / "case.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(RecistValidationError) as exc:
        recist.read_case(path)
    assert str(path) in str(exc.value)
    assert "\n" not in str(exc.value)
    return exc.value


def test_a_5000_digit_integer(tmp_path):
    case = example()
    case["timepoints"][1]["targets"]["T1"] = {"long_axis_mm": 123456789}
    text = json.dumps(case).replace("123456789", "9" * 5000)
    assert "holds a number JSON cannot read" in str(_refused(tmp_path, text))


def test_a_5000_digit_integer_in_a_charter(tmp_path):
    from recist.review.charter import load_charter

    path = tmp_path / "charter.json"
    path.write_text('{"format": "recist.charter/1", "interval_days": ' + "7" * 5000 + "}")
    with pytest.raises(RecistValidationError, match="charter.json"):
        load_charter(path)


@pytest.mark.parametrize(("key", "value", "bound"), [
    ("long_axis_mm", 1e306, MAX_LENGTH_MM),
    ("long_axis_mm", MAX_LENGTH_MM + 1, MAX_LENGTH_MM),
])
def test_lengths_above_a_physical_bound(tmp_path, key, value, bound):
    case = example()
    case["timepoints"][1]["targets"]["T1"] = {key: value}
    error = _refused(tmp_path, json.dumps(case))
    assert "physical bound" in str(error) and f"{bound:g} mm" in str(error)
    assert error.lesion == "T1" and error.timepoint == case["timepoints"][1]["label"]


def test_slice_thickness_1e308(tmp_path):
    case = example()
    case["timepoints"][0]["slice_thickness_mm"] = 1e308
    error = _refused(tmp_path, json.dumps(case))
    assert f"{MAX_SLICE_THICKNESS_MM:g} mm" in str(error)


def test_2000_split_fragments_of_1e305(tmp_path):
    case = example()
    case["timepoints"][1]["targets"]["T1"] = {"state": "split", "fragments_mm": [1e305] * 2000}
    _refused(tmp_path, json.dumps(case))


def test_fragments_at_the_bound_sum_exactly():
    case = example()
    case["timepoints"][1]["targets"]["T1"] = {"state": "split", "fragments_mm": [MAX_LENGTH_MM] * 100}
    result = recist.assess(case)  # 300 m of fragments: absurd but finite; no overflow in the exact sums
    assert result.timepoints[0].sum_mm >= MAX_LENGTH_MM * 100


def test_a_million_lesions_is_refused_fast(tmp_path, monkeypatch):
    import recist.io.case_json as case_json

    monkeypatch.setattr(case_json, "MAX_CASE_SEPARATORS", 10_000_000)  # past the byte pre-check: the model's bound
    case = example()
    case["lesions"] = [0] * 1_000_000
    started = time.perf_counter()
    error = _refused(tmp_path, json.dumps(case))
    assert time.perf_counter() - started < 3.0
    assert f"{MAX_ITEMS}" in str(error) and "1000000 items" in str(error)


def test_a_file_larger_than_any_case_is_refused_before_parsing(tmp_path, monkeypatch):
    import recist.io.case_json as case_json

    monkeypatch.setattr(case_json, "MAX_CASE_BYTES", 100)
    error = _refused(tmp_path, json.dumps(example()))
    assert "larger than any case file" in str(error)
    monkeypatch.setattr(case_json, "MAX_JSON_BYTES", 100)
    assert "larger than any file recist reads" in str(_refused(tmp_path, json.dumps(example())))


def test_ten_million_items_are_refused_before_parsing(tmp_path):
    """Ten million ``{}`` in ``lesions`` (30 MB) took 12 s and 1.5 GB before the list-length check."""
    case = example()
    case["lesions"] = "LESIONS"
    text = json.dumps(case).replace('"LESIONS"', "[" + ",".join(["{}"] * 10_000_000) + "]")
    started = time.perf_counter()
    error = _refused(tmp_path, text)
    assert time.perf_counter() - started < 2.0
    assert "larger than any case file" in str(error) or "more values than any case file" in str(error)


def test_a_million_items_under_the_size_bound(tmp_path):
    case = example()
    case["lesions"] = "LESIONS"
    text = json.dumps(case).replace('"LESIONS"', "[" + ",".join(["0"] * 1_000_000) + "]")
    started = time.perf_counter()
    assert "more values than any case file" in str(_refused(tmp_path, text))
    assert time.perf_counter() - started < 1.0


def test_nested_100000_deep(tmp_path):
    _refused(tmp_path, "[" * 100_000 + "]" * 100_000)
    _refused(tmp_path, '{"format": "recist.case/1", "subject": ' + "[" * 100_000 + "]" * 100_000 + "}")


def test_nul_byte_in_the_path():
    with pytest.raises(RecistValidationError, match="NUL"):
        recist.read_case("case\0.json")


def test_not_utf8(tmp_path):
    _refused(tmp_path, b"\xff\xfe{}")


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXTREME = st.sampled_from([
    1e306, -1e306, 1e308, float("inf"), float("-inf"), 10**30, -(10**30), 2**63, 0, -0.0, 5e-324, "1e3", True,
    None, [], {}, "x" * 300, "\0", "\n", [1e305] * 50,
])


def _leaves(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, (*prefix, i))
    else:
        yield prefix


@FUZZ
@given(data=st.data())
def test_extreme_values_anywhere_load_or_raise_recist_errors(tmp_path_factory, data):
    """An extreme number or wrong type at any leaf of a real case: it loads and assesses, or one
    RecistValidationError; nothing else escapes (OverflowError, ValueError ...)."""
    case = example()
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from([p for p in _leaves(case) if p]))
        parent = case
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = copy.deepcopy(data.draw(EXTREME))
    file = tmp_path_factory.mktemp("extreme") / "case.json"
    file.write_text(json.dumps(case, allow_nan=True))
    try:
        recist.assess(recist.read_case(file))
    except RecistError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(cut=st.integers(0, 2000), junk=st.binary(max_size=8))
def test_truncated_files_raise_recist_errors(tmp_path_factory, cut, junk):
    raw = EXAMPLE.read_bytes()
    file = tmp_path_factory.mktemp("cut") / "case.json"
    file.write_bytes(raw[: cut % len(raw)] + junk)
    try:
        recist.read_case(file)
    except RecistValidationError:
        pass
