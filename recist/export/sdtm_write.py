"""Writing the SDTM datasets: CSV, CDISC Dataset-JSON v1.1 and SAS XPORT v5, and ``protocol.json`` beside them.

All writes are atomic. Re-exported by :mod:`recist.export.sdtm`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist.errors import ExchangeError
from recist.export.sdtm_spec import DOMAIN_LABELS, Variable, dataset_spec, format_mm, usubjid

if TYPE_CHECKING:
    from recist.export.sdtm import SdtmRead

__all__ = ["FORMATS", "PROTOCOL_FILE", "write_sdtm", "write_csv", "write_xpt", "write_protocols"]

FORMATS = ("csv", "json", "xpt")


def write_sdtm(
    datasets: dict[str, list[dict[str, Any]]],
    out_dir: str | os.PathLike[str],
    *,
    formats: Sequence[str] = FORMATS,
    study_id: str,
    now: _dt.datetime | None = None,
) -> list[Path]:
    """Write each dataset as ``tu.csv``, ``tu.json`` (Dataset-JSON v1.1) and ``tu.xpt`` (SAS XPORT v5).

    Parameters
    ----------
    datasets
        The output of :func:`build_sdtm`, optionally with ``"DM"`` (:func:`recist.export.sdtm_dm.build_dm`).
    out_dir
        Folder to write into (created).
    formats
        Any of ``"csv"``, ``"json"``, ``"xpt"``.
    study_id
        The study (names the Dataset-JSON ``studyOID``).
    now
        Creation time written into Dataset-JSON (default: the current UTC time).

    Returns
    -------
    list of Path
        The files written.
    """
    from recist.export import dataset_json

    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ExchangeError(f"unknown SDTM format(s) {sorted(unknown)}; choose from {', '.join(FORMATS)}")
    out = Path(out_dir)
    written: list[Path] = []
    created = now or _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    for domain, records in datasets.items():
        variables, label = dataset_spec(domain)
        stem = out / domain.lower()
        if "csv" in formats:
            written.append(write_csv(stem.with_suffix(".csv"), variables, records))
        if "json" in formats:
            doc = dataset_json.to_dataset_json(
                domain, label, variables, records, study_id=study_id, created=created
            )
            written.append(dataset_json.write(stem.with_suffix(".json"), doc))
        if "xpt" in formats:
            written.append(write_xpt(stem.with_suffix(".xpt"), domain, variables, records, label=label))
    return written


PROTOCOL_FILE = "protocol.json"
"""Beside the datasets: each read's protocol options, which SDTM has no variable for."""


def write_protocols(reads: Iterable[SdtmRead], out_dir: str | os.PathLike[str], *, study_id: str) -> Path:
    """Write ``protocol.json``: the protocol options (confirmation, minimum SD duration, ...) of each read.

    SDTM carries the measurements and responses but not the rules' options, so a re-import would assess
    with the defaults; :func:`recist.io.sdtm_import.read_protocols` reads this file back so that
    ``recist assess`` of the imported cases gives the exported responses. Keyed like the records: USUBJID,
    --EVAL and --EVALID.
    """
    from recist._atomic import atomic_write_text

    entries = [
        {
            "USUBJID": usubjid(study_id, read.case.subject),
            "EVAL": read.evaluator,
            "EVALID": read.evaluator_role or "",
            "protocol": read.case.protocol.model_dump(mode="json"),
        }
        for read in reads
    ]
    path = Path(out_dir) / PROTOCOL_FILE
    document = {"format": "recist.sdtm-protocol/1", "study": study_id, "reads": entries}
    atomic_write_text(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
    return path


def write_csv(path: Path, variables: Sequence[Variable], records: Sequence[dict[str, Any]]) -> Path:
    """Write records as CSV (header: variable names in SDTMIG order; nulls as empty cells), atomically."""
    import csv
    import io

    from recist._atomic import atomic_write_text

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([v.name for v in variables])
    for record in records:
        writer.writerow(["" if record[v.name] is None else _cell_text(record[v.name]) for v in variables])
    atomic_write_text(path, buffer.getvalue())
    return path


def _cell_text(value: Any) -> str:
    if isinstance(value, float):
        return format_mm(value)
    return str(value)


def write_xpt(
    path: Path,
    domain: str,
    variables: Sequence[Variable],
    records: Sequence[dict[str, Any]],
    *,
    label: str | None = None,
) -> Path:
    """Write records as SAS XPORT v5 (the FDA transport format) with pyreadstat, atomically.

    Character variables are limited to 200 bytes and labels to 40 characters by the format.
    """
    import tempfile

    import pandas as pd
    import pyreadstat

    from recist._atomic import atomic_write_bytes

    columns: dict[str, Any] = {}
    for v in variables:
        values = [record[v.name] for record in records]
        if v.numeric:
            columns[v.name] = pd.Series(
                [math.nan if x is None else float(x) for x in values], dtype="float64"
            )
        else:
            too_long = [x for x in values if len(str(x).encode("utf-8")) > 200]
            if too_long:
                raise ExchangeError(
                    f"{domain}.{v.name} value {too_long[0]!r} is longer than XPORT's 200 bytes"
                )
            columns[v.name] = pd.Series([str(x) for x in values], dtype="object")
    frame = pd.DataFrame(columns)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp) / path.name
        pyreadstat.write_xport(
            frame,
            str(tmp_path),
            file_label=label or DOMAIN_LABELS[domain],
            column_labels=[v.label for v in variables],
            table_name=domain,
            file_format_version=5,
        )
        atomic_write_bytes(path, tmp_path.read_bytes())
    return path
