"""Reading and writing case files (``recist.case/1``), atomically and in a stable key order."""

from __future__ import annotations

import json
import os

from pydantic import ValidationError

from recist._atomic import atomic_write_text, dumps_stable
from recist.errors import RecistValidationError
from recist.model.case import Case
from recist.model.validate import check_case, parse_case

__all__ = ["read_case", "write_case", "load_json", "decode_json", "parse_case_bytes", "MAX_JSON_BYTES",
           "MAX_CASE_BYTES", "MAX_CASE_SEPARATORS"]

#: Largest JSON file read (bytes): reading a larger one whole would cost memory before any check ran.
MAX_JSON_BYTES = 64 * 1024 * 1024
#: Largest case file (bytes). A real case file is a few kilobytes (100 timepoints of 100 lesions are
#: about 1 MB).
MAX_CASE_BYTES = 16 * 1024 * 1024
#: Most commas a case file may hold, counted on its bytes before any parsing: a bound on the number of
#: values (ten million ``{}`` in one list would otherwise take seconds and gigabytes to parse before
#: the list-length check could refuse them). Real case files hold a few thousand.
MAX_CASE_SEPARATORS = 500_000


def _check_path(path: str | os.PathLike[str], source: str) -> None:
    if "\0" in os.fspath(path):
        raise RecistValidationError("the path holds a NUL character; give the file's real name", source=repr(source))


def _read_bytes(path: str | os.PathLike[str], source: str) -> bytes:
    _check_path(path, source)
    try:
        with open(path, "rb", buffering=0) as fh:  # unbuffered: one read of the whole file
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_JSON_BYTES:
                raise RecistValidationError(
                    f"is {size / 2**20:.0f} MiB, larger than any file recist reads ({MAX_JSON_BYTES // 2**20} MiB at most); "
                    "is this the right file?", source=source)
            return fh.readall()
    except FileNotFoundError:
        raise RecistValidationError("no such file", source=source) from None
    except IsADirectoryError:
        raise RecistValidationError("is a folder, not a case file", source=source) from None
    except OSError as exc:
        raise RecistValidationError(f"cannot read: {exc.strerror or exc}", source=source) from None


def decode_json(raw: bytes | str, source: str) -> object:
    """Decode JSON text; every failure is a :class:`RecistValidationError` naming ``source``.

    The one JSON decoder of the files recist reads (case files, charters, SDTM JSON): besides syntax
    errors it refuses text that is not UTF-8, nesting too deep for the parser, integers longer than
    Python converts (4,300 digits) and text longer than :data:`MAX_JSON_BYTES`.
    """
    if len(raw) > MAX_JSON_BYTES:
        raise RecistValidationError(f"is larger than {MAX_JSON_BYTES // 2**20} MiB: not a file recist reads",
                                    source=source)
    return _decode(raw, source)


def _decode(raw: bytes | str, source: str) -> object:
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
    except ValueError as exc:  # json.loads's integer-length limit (a number of thousands of digits)
        raise RecistValidationError(f"holds a number JSON cannot read here ({exc})", source=source) from None


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
    return parse_case_bytes(_read_bytes(path, source), source)


def parse_case_bytes(raw: bytes, source: str) -> Case:
    """Validate the bytes of a case file (read from a file or standard input) into a :class:`Case`.

    Raises
    ------
    RecistValidationError
        As :func:`read_case`; ``source`` names the origin in the messages.
    """
    if len(raw) > MAX_CASE_BYTES:
        raise RecistValidationError(f"is {len(raw) / 2**20:.0f} MiB, larger than any case file "
                                    f"({MAX_CASE_BYTES // 2**20} MiB at most); is this the right file?", source=source)
    separators = raw.count(b",")
    if separators > MAX_CASE_SEPARATORS:
        raise RecistValidationError(f"holds {separators:,} commas, more values than any case file has "
                                    f"({MAX_CASE_SEPARATORS:,} at most); is this the right file?", source=source)
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
