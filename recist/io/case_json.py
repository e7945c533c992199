"""Reading and writing case files (``recist.case/1``), atomically and in a stable key order."""

from __future__ import annotations

import json
import os
from pathlib import Path

from recist._atomic import atomic_write_text, dumps_stable
from recist.errors import RecistValidationError
from recist.model.case import Case
from recist.model.validate import parse_case

__all__ = ["read_case", "write_case", "load_json"]


def load_json(path: str | os.PathLike[str]) -> object:
    """Read and decode a JSON file; errors name the file, line and column."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise RecistValidationError("no such file", source=source) from None
    except IsADirectoryError:
        raise RecistValidationError("is a folder, not a case file", source=source) from None
    except OSError as exc:
        raise RecistValidationError(f"cannot read: {exc.strerror}", source=source) from None
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


def read_case(path: str | os.PathLike[str]) -> Case:
    """Read and validate a case file.

    Raises
    ------
    RecistValidationError
        Naming the file, timepoint, lesion and field of the first problem (unknown major format
        versions raise :class:`~recist.errors.UnsupportedFormatError`, which says what is supported).
    """
    return parse_case(load_json(path), source=str(path))


def write_case(case: Case, path: str | os.PathLike[str]) -> None:
    """Write ``case`` to ``path`` atomically (temp file, fsync, rename), keys sorted, 2-space indent."""
    atomic_write_text(path, dumps_stable(case.to_dict()))
