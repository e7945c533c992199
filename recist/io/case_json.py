"""Reading and writing case files (``recist.case/1``), atomically and in a stable key order."""

from __future__ import annotations

import json
import os

from pydantic import ValidationError

from recist._atomic import atomic_write_text, dumps_stable
from recist.errors import RecistValidationError
from recist.model.case import Case
from recist.model.validate import check_case, parse_case

__all__ = ["read_case", "write_case", "load_json"]


def _read_bytes(path: str | os.PathLike[str], source: str) -> bytes:
    try:
        with open(path, "rb", buffering=0) as fh:  # unbuffered: one read of the whole file
            return fh.readall()
    except FileNotFoundError:
        raise RecistValidationError("no such file", source=source) from None
    except IsADirectoryError:
        raise RecistValidationError("is a folder, not a case file", source=source) from None
    except OSError as exc:
        raise RecistValidationError(f"cannot read: {exc.strerror}", source=source) from None


def _decode(raw: bytes, source: str) -> object:
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise RecistValidationError("is not UTF-8 text; save the case file as UTF-8 JSON", source=source) from None
    except json.JSONDecodeError as exc:
        raise RecistValidationError(
            f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", source=source
        ) from None
    except RecursionError:
        raise RecistValidationError("JSON nested too deeply", source=source) from None


def load_json(path: str | os.PathLike[str]) -> object:
    """Read and decode a JSON file; errors name the file, line and column."""
    source = str(path)
    return _decode(_read_bytes(path, source), source)


def read_case(path: str | os.PathLike[str]) -> Case:
    """Read and validate a case file.

    The file's bytes are validated straight into a :class:`Case` by pydantic's JSON parser, which is
    faster than decoding them to Python objects first. Anything that does not pass (or a file without
    its ``format`` key) takes the ordinary route, :func:`load_json` then
    :func:`~recist.model.validate.parse_case`, whose errors name the file, timepoint and lesion: both
    routes accept the same files and give the same case (tests/io/test_case_json.py checks this on
    random and mutated files).

    Raises
    ------
    RecistValidationError
        Naming the file, timepoint, lesion and field of the first problem (unknown major format
        versions raise :class:`~recist.errors.UnsupportedFormatError`, which says what is supported).
    """
    source = str(path)
    raw = _read_bytes(path, source)
    try:
        case = Case.model_validate_json(raw)
    except (ValidationError, RecursionError):
        case = None
    if case is None or "format" not in case.model_fields_set:
        return parse_case(_decode(raw, source), source=source)
    try:
        check_case(case)
    except RecistValidationError as exc:
        raise exc.with_source(source) from None
    return case


def write_case(case: Case, path: str | os.PathLike[str]) -> None:
    """Write ``case`` to ``path`` atomically (temp file, fsync, rename), keys sorted, 2-space indent."""
    atomic_write_text(path, dumps_stable(case.to_dict()))
