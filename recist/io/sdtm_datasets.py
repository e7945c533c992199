"""Reading one SDTM dataset file (CSV, CDISC Dataset-JSON 1.x or SAS XPORT v5) into rows of text values.

Part of the SDTM import (:mod:`recist.io.sdtm_import`): this module knows the file formats only, not
what the TU, TR and RS variables mean. Every problem raises :class:`~recist.errors.ExchangeError` naming
the file and the row (numbered from 1, header excluded).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recist.errors import ExchangeError

__all__ = ["read_domain"]


@dataclass(frozen=True)
class DatasetRow:
    """One record of a dataset: its values as text by upper-case variable name, and where it is
    (``"tu.csv row 3"``, numbered from 1 after the header); a missing variable reads as ``""``."""

    values: Mapping[str, str]
    where: str

    def __getitem__(self, key: str) -> str:
        return self.values.get(key, "")


def _text(value: Any) -> str:
    """A cell as text: nulls (None, NaN) become "", integral floats lose their ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value).strip()


def _read_csv(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header:
                raise ExchangeError(f"{path.name}: empty file, expected a header row of SDTM variable names")
            rows = []
            for n, cells in enumerate(reader, start=1):
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) != len(header):
                    raise ExchangeError(f"{path.name} row {n}: {len(cells)} cells but {len(header)} columns")
                rows.append(dict(zip([h.strip() for h in header], cells)))
            return rows
    except UnicodeDecodeError:
        raise ExchangeError(f"{path.name}: not UTF-8 text") from None
    except csv.Error as exc:
        raise ExchangeError(f"{path.name}: not valid CSV ({exc})") from None


def _read_json(path: Path) -> list[dict[str, Any]]:
    """Rows of a CDISC Dataset-JSON 1.x file (``columns`` + ``rows``)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ExchangeError(f"{path.name}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ExchangeError(f"{path.name}: not JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise ExchangeError(f"{path.name}: JSON nested too deeply") from None
    except ValueError as exc:  # json's integer-length limit (a number of thousands of digits), as decode_json
        raise ExchangeError(f"{path.name}: holds a number JSON cannot read ({exc})") from None
    if not isinstance(document, dict):
        raise ExchangeError(f"{path.name}: not a Dataset-JSON object")
    version = document.get("datasetJSONVersion")
    if not isinstance(version, str) or not version.startswith("1."):
        raise ExchangeError(
            f"{path.name}: datasetJSONVersion {version!r} is not Dataset-JSON 1.x (recist writes 1.1)"
        )
    columns, rows = document.get("columns"), document.get("rows")
    if not isinstance(columns, list) or not isinstance(rows, list):
        raise ExchangeError(f"{path.name}: 'columns' and 'rows' must be arrays")
    names = []
    for i, column in enumerate(columns, start=1):
        if not isinstance(column, dict) or not isinstance(column.get("name"), str) or not column["name"]:
            raise ExchangeError(f"{path.name}: column {i} has no name")
        names.append(column["name"])
    records = document.get("records")
    if records is not None and records != len(rows):
        raise ExchangeError(f"{path.name}: 'records' says {records!r} but there are {len(rows)} rows")
    out = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != len(names):
            raise ExchangeError(
                f"{path.name} row {n}: expected an array of {len(names)} values (one per column)"
            )
        if any(isinstance(value, (dict, list)) for value in row):
            raise ExchangeError(f"{path.name} row {n}: a value is an object or array, not a scalar")
        out.append(dict(zip(names, row)))
    return out


_XPT_OBS_HEADER = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
_XPT_RECORD = 80


def _check_xpt_size(path: Path, data: bytes, rows: int, row_bytes: int) -> None:
    """Refuse an XPORT file whose size does not hold exactly the rows read (a truncated or padded file).

    SAS XPORT v5 (SAS TS-140) is a sequence of 80-byte records; the observations follow the OBS header
    record, each ``row_bytes`` long (the sum of the NAMESTR lengths), the last record padded with blanks.
    XPORT v5 has no row count in its header, so the size is the check: the data must be the rows read
    plus fewer than 80 bytes of blank padding, and the file a whole number of records.
    """
    start = data.find(_XPT_OBS_HEADER)
    if start < 0:
        raise ExchangeError(f"{path.name}: no OBS header record: not a SAS XPORT v5 dataset")
    start += _XPT_RECORD
    if data.find(b"HEADER RECORD*******MEMBER  HEADER RECORD", start) >= 0:
        raise ExchangeError(f"{path.name}: holds several datasets; give one dataset per .xpt file")
    body = len(data) - start
    expected = rows * row_bytes
    padding = data[start + expected :]
    if len(data) % _XPT_RECORD or body < expected or len(padding) >= max(_XPT_RECORD, row_bytes) or padding.strip(b" "):
        whole, rest = divmod(body, row_bytes) if row_bytes else (0, body)
        raise ExchangeError(
            f"{path.name}: truncated or damaged SAS XPORT file: {len(data)} bytes hold {body} bytes of "
            f"observations ({whole} rows of {row_bytes} bytes and {rest} bytes more) but {rows} rows were read; "
            "get a complete copy of the dataset"
        )


def _read_xpt(path: Path) -> list[dict[str, Any]]:
    import pyreadstat

    try:
        data = path.read_bytes()
        frame, meta = pyreadstat.read_xport(str(path))
    except Exception as exc:  # pyreadstat raises its own ReadstatError and plain exceptions
        raise ExchangeError(f"{path.name}: not a readable SAS XPORT file ({exc})") from None
    widths = getattr(meta, "variable_storage_width", None) or {}
    row_bytes = sum(int(widths.get(name, 0) or 0) for name in frame.columns)
    if row_bytes <= 0:
        raise ExchangeError(f"{path.name}: the XPORT header gives no variable lengths")
    _check_xpt_size(path, data, len(frame), row_bytes)
    return frame.to_dict(orient="records")


_READERS = {".json": _read_json, ".csv": _read_csv, ".xpt": _read_xpt}


def read_domain(path: str | os.PathLike[str]) -> list[DatasetRow]:
    """Read one dataset file (.csv, .json Dataset-JSON, .xpt) into rows of text values.

    Raises
    ------
    ExchangeError
        Unknown file type, unreadable file, ragged rows.
    """
    file = Path(path)
    reader = _READERS.get(file.suffix.lower())
    if reader is None:
        raise ExchangeError(f"{file.name}: unknown dataset file type; use .csv, .json (Dataset-JSON) or .xpt")
    if not file.is_file():
        raise ExchangeError(f"{file}: no such file")
    rows = reader(file)
    return [
        DatasetRow({str(k).strip().upper(): _text(v) for k, v in row.items()}, f"{file.name} row {n}")
        for n, row in enumerate(rows, start=1)
    ]

