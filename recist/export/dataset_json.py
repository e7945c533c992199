"""CDISC Dataset-JSON v1.1: writing SDTM datasets (the reader is :mod:`recist.io.sdtm_import`).

A Dataset-JSON v1.1 document is one dataset: top-level metadata (``datasetJSONCreationDateTime``,
``datasetJSONVersion`` "1.1", ``itemGroupOID`` "IG.TU", ``records``, ``name``, ``label``), ``columns``
(``itemOID``, ``name``, ``label``, ``dataType``, ``length`` for strings) and ``rows`` (one array per
record, values in column order, ``null`` for missing). Numbers are written as JSON numbers with data type
``integer`` (--SEQ, VISITNUM) or ``double`` (--STRESN); --DTC variables are ISO 8601 dates (``date``).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recist._atomic import atomic_write_text

__all__ = ["DATASET_JSON_VERSION", "to_dataset_json", "write"]

_package = "recist"

DATASET_JSON_VERSION = "1.1"
_INTEGER_VARIABLES = {"VISITNUM", "AGE"}


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
