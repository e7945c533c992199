"""Read CDISC SDTM TU/TR/RS datasets back into cases: one case per subject per evaluator.

The reader accepts what :mod:`recist.export.sdtm` writes (CSV, Dataset-JSON v1.1 or SAS XPORT) and the
same structure from other systems. It is the inverse of the export mapping in docs/exchange.md, so that
``recist assess`` of an imported case gives the responses that were exported. Every problem raises
:class:`~recist.errors.ExchangeError` naming the file and the row (numbered from 1, header excluded).

What SDTM does not carry comes back as the case-file default, except the protocol options, which
recist's export writes beside the datasets (``protocol.json``, :func:`read_protocols`): image references and line endpoints, slice thickness, tumour markers. The RS responses of each visit are
attached as the timepoint's ``recorded`` block (``recorded=True``), so ``recist assess`` reports any
disagreement between the exchanged responses and the ones it computes.

This module finds the datasets of a folder and reads recist's ``protocol.json``; the file formats are read
by :mod:`recist.io.sdtm_datasets`, the datasets checked by :mod:`recist.io.sdtm_checks` and the cases
rebuilt by :mod:`recist.io.sdtm_cases`. Every public name of those stays importable from here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from recist.errors import ExchangeError
from recist.io.sdtm_cases import ImportedRead, cases_from_sdtm
from recist.io.sdtm_checks import check_datasets
from recist.io.sdtm_datasets import DatasetRow, read_domain
from recist.model.case import Protocol

__all__ = ["ImportedRead", "read_sdtm", "read_domain", "read_protocols", "check_datasets", "cases_from_sdtm"]


def read_sdtm(folder: str | os.PathLike[str], *, warnings: list[str] | None = None) -> dict[str, list[DatasetRow]]:
    """Find and read TU, TR and RS in ``folder`` (Dataset-JSON preferred, then CSV, then XPORT).

    Parameters
    ----------
    folder
        The folder holding the datasets.
    warnings
        A list that receives one line per problem that loses data without being an error (no RS, or an RS
        without records).

    Raises
    ------
    ExchangeError
        No TU or TR; an unreadable, truncated or inconsistent dataset (see :func:`check_datasets`).
    """
    base = Path(folder)
    if not base.is_dir():
        raise ExchangeError(f"{base}: not a folder; give the folder holding tu/tr/rs datasets")
    found: dict[str, list[DatasetRow]] = {}
    files: dict[str, Path] = {}
    for domain in ("TU", "TR", "RS"):
        for suffix in (".json", ".csv", ".xpt"):
            candidates = [p for p in base.iterdir() if p.name.lower() == f"{domain.lower()}{suffix}"]
            if candidates:
                files[domain] = candidates[0]
                found[domain] = read_domain(candidates[0])
                break
    for domain in ("TU", "TR"):
        if domain not in found:
            raise ExchangeError(f"{base}: no {domain} dataset ({domain.lower()}.json, .csv or .xpt)")
    if not found.get("RS") and warnings is not None:
        # an RS without records loses the same as no RS; an .xpt cut right after its OBS header record holds
        # a whole number of (zero) rows, so only its emptiness shows
        what = (f"{base}: no RS dataset (rs.json, .csv or .xpt)" if "RS" not in found
                else f"{files['RS']}: the RS dataset holds no records (empty, or cut after its header)")
        warnings.append(
            f"{what}: the responses recorded by the evaluators are lost; "
            "recist computes them from TU/TR, so disagreements with the original assessment cannot be shown"
        )
    check_datasets(found)
    return found


def read_protocols(folder: str | os.PathLike[str]) -> dict[tuple[str, str, str], Protocol]:
    """The protocol options of each read from ``protocol.json`` beside the datasets (none: ``{}``).

    Keys are (USUBJID, --EVAL, --EVALID), as :func:`recist.export.sdtm.write_protocols` writes them.

    Raises
    ------
    ExchangeError
        A file that is not recist's protocol file or holds invalid options (naming the entry).
    """
    path = Path(folder) / "protocol.json"
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise ExchangeError(f"{path.name}: not JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != "recist.sdtm-protocol/1":
        raise ExchangeError(f"{path.name}: 'format' must be 'recist.sdtm-protocol/1'")
    reads = document.get("reads")
    if not isinstance(reads, list):
        raise ExchangeError(f"{path.name}: 'reads' must be a list")
    out: dict[tuple[str, str, str], Protocol] = {}
    for k, entry in enumerate(reads, start=1):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(n), str) for n in ("USUBJID", "EVAL", "EVALID")):
            raise ExchangeError(f"{path.name}, read {k}: USUBJID, EVAL and EVALID must be text")
        try:
            out[(entry["USUBJID"], entry["EVAL"], entry["EVALID"])] = Protocol.model_validate(entry.get("protocol"))
        except ValueError as exc:
            first = str(exc).splitlines()[0:3]
            raise ExchangeError(f"{path.name}, read {k}: invalid protocol options ({' '.join(first)})") from None
    return out
