"""CDISC Dataset-JSON v1.1: writing SDTM datasets and reading them back.

A Dataset-JSON v1.1 document is one dataset: top-level metadata (``datasetJSONCreationDateTime``,
``datasetJSONVersion`` "1.1", ``itemGroupOID`` "IG.TU", ``records``, ``name``, ``label``), ``columns``
(``itemOID``, ``name``, ``label``, ``dataType``, ``length`` for strings) and ``rows`` (one array per
record, values in column order, ``null`` for missing). Numbers are written as JSON numbers with data type
``integer`` (--SEQ, VISITNUM) or ``double`` (--STRESN); --DTC variables are ISO 8601 dates (``date``).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recist import __name__ as _package
from recist._atomic import atomic_write_text
from recist.errors import ExchangeError

__all__ = ["DATASET_JSON_VERSION", "to_dataset_json", "write", "read_dataset_json"]

DATASET_JSON_VERSION = "1.1"
_INTEGER_VARIABLES = {"VISITNUM"}


def _data_type(variable: Any) -> str:
    if variable.numeric:
        return "integer" if variable.name.endswith("SEQ") or variable.name in _INTEGER_VARIABLES else "double"
    if variable.name.endswith("DTC"):
        return "date"
    return "string"


def to_dataset_json(
    domain: str,
    label: str,
    variables: Sequence[Any],
    records: Sequence[dict[str, Any]],
    *,
    study_id: str,
    created: _dt.datetime,
) -> dict[str, Any]:
    """Build the Dataset-JSON v1.1 document of one SDTM dataset.

    Parameters
    ----------
    domain, label
        Dataset name (``"TU"``) and label.
    variables
        :class:`recist.export.sdtm.Variable` objects in column order.
    records
        Records keyed by variable name (character nulls ``""``, numeric nulls ``None``).
    study_id
        Used for ``studyOID``.
    created
        ``datasetJSONCreationDateTime`` (ISO 8601, seconds).
    """
    columns = []
    for v in variables:
        column: dict[str, Any] = {
            "itemOID": f"IT.{domain}.{v.name}",
            "name": v.name,
            "label": v.label,
            "dataType": _data_type(v),
        }
        if not v.numeric:
            column["length"] = max([1, *(len(str(r[v.name])) for r in records)])
        if v.name in ("STUDYID", "USUBJID") or v.name == f"{domain}SEQ":
            column["keySequence"] = {"STUDYID": 1, "USUBJID": 2}.get(v.name, 3)
        columns.append(column)
    rows = []
    for record in records:
        row = []
        for v in variables:
            value = record[v.name]
            if value is None or value == "":
                row.append(None)
            elif _data_type(v) == "integer":
                row.append(int(value))
            elif v.numeric:
                row.append(float(value))
            else:
                row.append(str(value))
        rows.append(row)
    return {
        "datasetJSONCreationDateTime": created.strftime("%Y-%m-%dT%H:%M:%S"),
        "datasetJSONVersion": DATASET_JSON_VERSION,
        "fileOID": f"{_package}.{study_id}.{domain}",
        "originator": _package,
        "sourceSystem": {"name": _package, "version": _version()},
        "studyOID": study_id,
        "metaDataVersionOID": "MDV.SDTMIG.3.4",
        "itemGroupOID": f"IG.{domain}",
        "records": len(rows),
        "name": domain,
        "label": label,
        "columns": columns,
        "rows": rows,
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_package)
    except PackageNotFoundError:
        return "unknown"


def write(path: str | os.PathLike[str], document: dict[str, Any]) -> Path:
    """Write a Dataset-JSON document atomically (key order as built: metadata, columns, rows)."""
    atomic_write_text(path, json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    return Path(path)


def read_dataset_json(path: str | os.PathLike[str]) -> tuple[str, list[str], list[dict[str, Any]]]:
    """Read a Dataset-JSON v1.x file.

    Returns
    -------
    name, columns, rows
        The dataset name, the column names, and the rows as dicts keyed by column name.

    Raises
    ------
    ExchangeError
        Not JSON, not Dataset-JSON 1.x, columns without names, a row whose length differs from the
        columns (names the row number, from 1), ``records`` that disagrees with the rows.
    """
    source = Path(path).name
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ExchangeError(f"{source}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ExchangeError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(document, dict):
        raise ExchangeError(f"{source}: not a Dataset-JSON object")
    version = document.get("datasetJSONVersion")
    if not isinstance(version, str) or not version.startswith("1."):
        raise ExchangeError(f"{source}: datasetJSONVersion {version!r} is not Dataset-JSON 1.x (recist writes 1.1)")
    columns = document.get("columns")
    rows = document.get("rows")
    if not isinstance(columns, list) or not isinstance(rows, list):
        raise ExchangeError(f"{source}: 'columns' and 'rows' must be arrays")
    names = []
    for i, column in enumerate(columns, start=1):
        if not isinstance(column, dict) or not isinstance(column.get("name"), str) or not column["name"]:
            raise ExchangeError(f"{source}: column {i} has no name")
        names.append(column["name"])
    records = document.get("records")
    if records is not None and records != len(rows):
        raise ExchangeError(f"{source}: 'records' says {records} but there are {len(rows)} rows")
    out: list[dict[str, Any]] = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != len(names):
            raise ExchangeError(f"{source} row {n}: expected {len(names)} values (one per column)")
        for value in row:
            if isinstance(value, float) and not math.isfinite(value):
                raise ExchangeError(f"{source} row {n}: non-finite number")
            if isinstance(value, (dict, list)):
                raise ExchangeError(f"{source} row {n}: a value is an object or array, not a scalar")
        out.append(dict(zip(names, row)))
    name = document.get("name")
    return (name if isinstance(name, str) else ""), names, out
