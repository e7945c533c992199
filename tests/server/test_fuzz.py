"""Outside data the server and its tools read: PEM keys, --since, the accounts and token files, HTTP bodies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recist.errors import AuditError, RecistValidationError, ReviewStateError
from recist.review.accounts import Accounts
from recist.review.audit_table import parse_since
from recist.review.keys import load_public_key

from .conftest import Server

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=12)


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: ("-----BEGIN PUBLIC KEY-----\n" + t).encode()))
def test_a_public_key_file_is_a_key_or_one_clear_error(data: bytes) -> None:
    with pytest.raises(AuditError, match="public key"):
        load_public_key(data, source="key.pem")


@FUZZ
@given(st.text(max_size=40))
def test_since_is_a_time_or_one_clear_error(text: str) -> None:
    try:
        when = parse_since(text)
    except RecistValidationError as exc:
        assert "--since" in str(exc)
    else:
        assert when is None or when.tzinfo is not None


@FUZZ
@given(st.binary(max_size=200) | JSON.map(lambda obj: json.dumps(obj).encode()))
def test_a_damaged_accounts_file_is_one_clear_error(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "accounts.json").write_bytes(data)
    accounts = Accounts(tmp_path)
    try:
        users = accounts.all()
    except ReviewStateError as exc:
        assert "accounts.json" in str(exc)
    else:
        assert users == []  # only an empty, valid file gets here
    (tmp_path / "accounts.json").unlink()


@FUZZ
@given(st.binary(max_size=200) | JSON.map(lambda obj: json.dumps(obj).encode()))
def test_a_damaged_token_file_is_one_clear_error(tmp_path: Path, monkeypatch, data: bytes) -> None:
    from recist.server.client import saved_login, token_file

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    token_file().parent.mkdir(parents=True, exist_ok=True)
    token_file().write_bytes(data)
    try:
        login = saved_login("https://core-lab.example")
    except RecistValidationError as exc:
        assert "tokens.json" in str(exc)
    else:
        assert login is None or isinstance(login, dict)


_TOKENS: dict[int, str] = {}


def _token(server: Server) -> str:
    """One R2 session for all examples (a login costs an argon2 hash)."""
    if server.port not in _TOKENS:
        _TOKENS[server.port] = server.token("R2")
    return _TOKENS[server.port]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON)
def test_any_json_body_gets_a_clear_answer_never_a_server_error(server: Server, body: object) -> None:
    with server.client() as http:
        assert http.post("/api/login", json=body).status_code in (401, 422)
        http.headers["Authorization"] = f"Bearer {_token(server)}"
        answer = http.put("/api/subjects/S-00000000/read", json=body)
        assert answer.status_code in (404, 409, 422), answer.text
        assert isinstance(answer.json()["detail"], (str, list))
