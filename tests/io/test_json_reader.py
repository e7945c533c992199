"""The shared JSON reader (``recist.io.case_json.load_json`` / ``decode_json``) that case files and
charters go through: any bytes give a value or one RecistValidationError naming the file."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recist.errors import RecistValidationError
from recist.io.case_json import decode_json, load_json
from recist.review.charter import load_charter

CHARTER = {"format": "recist.charter/1", "interval_days": 56}


@pytest.mark.parametrize("raw", [
    b"9" * 5000, b"[" * 100_000, b"\xff", b"", b"{", b'{"a": 1e400}', b"\x00", b'"\\ud800"',
])
def test_hostile_bytes(raw):
    try:
        decode_json(raw, "x.json")
    except RecistValidationError as exc:
        assert str(exc).startswith("x.json: ") and "\n" not in str(exc)


def test_folder_and_missing_file(tmp_path):
    with pytest.raises(RecistValidationError, match="is a folder"):
        load_json(tmp_path)
    with pytest.raises(RecistValidationError, match="no such file"):
        load_json(tmp_path / "absent.json")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 200), junk=st.binary(max_size=6), digits=st.integers(1, 6000))
def test_charter_files_cut_or_extended(tmp_path_factory, cut, junk, digits):
    """A charter file truncated anywhere, followed by junk, or holding a number of thousands of digits."""
    text = json.dumps(CHARTER).replace("56", "5" * digits).encode()
    path = tmp_path_factory.mktemp("charter") / "charter.json"
    path.write_bytes(text[: cut % (len(text) + 1)] + junk)
    try:
        load_charter(path)
    except RecistValidationError as exc:
        assert str(path) in str(exc)


def test_a_5000_digit_integer_in_sdtm_dataset_json(tmp_path):
    from recist.errors import ExchangeError
    from recist.io.sdtm_import import read_domain

    path = tmp_path / "tr.json"
    path.write_text('{"datasetJSONVersion": "1.1", "rows": [[' + "9" * 5000 + "]]}")
    with pytest.raises(ExchangeError, match="tr.json: holds a number JSON cannot read"):
        read_domain(path)
