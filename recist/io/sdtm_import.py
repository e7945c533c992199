"""Read CDISC SDTM TU/TR/RS datasets back into cases: one case per subject per evaluator.

The reader accepts what :mod:`recist.export.sdtm` writes (CSV, Dataset-JSON v1.1 or SAS XPORT) and the
same structure from other systems. It is the inverse of the export mapping in docs/exchange.md, so that
``recist assess`` of an imported case gives the responses that were exported. Every problem raises
:class:`~recist.errors.ExchangeError` naming the file and the row (numbered from 1, header excluded).

What SDTM does not carry comes back as the case-file default, except the protocol options, which
recist's export writes beside the datasets (``protocol.json``, :func:`read_protocols`): image references and line endpoints, slice thickness, tumour markers. The RS responses of each visit are
attached as the timepoint's ``recorded`` block (``recorded=True``), so ``recist assess`` reports any
disagreement between the exchanged responses and the ones it computes.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recist.errors import ExchangeError, RecistValidationError
from recist.model.case import Case, Protocol
from recist.model.validate import parse_case

__all__ = ["ImportedRead", "read_sdtm", "read_domain", "read_protocols", "check_datasets", "cases_from_sdtm"]

# Inverse of the export's vocabulary (recist.export.sdtm); kept here because io sits below export.
_METHODS = {"CT SCAN": "CT", "CT": "CT", "MRI": "MRI", "CALIPER": "caliper", "X-RAY": "chest_xray"}
_TOO_SMALL = "TOO SMALL TO MEASURE"
"""TRORRES of a diameter too small to measure, standardised in TRSTRESC/TRSTRESN (SDTMIG v3.4 TR assumption 4)."""
_TARGET_STATES = {
    _TOO_SMALL: "too_small",  # recist's earlier TUMSTATE form, read with a warning
    "ABSENT": "disappeared",
    "SPLIT": "split",
    "TUMOR MERGED": "merged",
    "MERGED": "merged",  # recist's earlier value, not a CDISC term (C124309 has TUMOR MERGED): read with a warning
}
_NON_TARGET_STATES = {
    "PRESENT": "present",
    "ABSENT": "absent",
    "UNEQUIVOCAL PROGRESSION": "unequivocal_progression",
}
_NEW_STATES = {"EQUIVOCAL": True, "UNEQUIVOCAL": False, "PRESENT": False}
_NEW_LESION_STATES = {"ABSENT": "absent", "UNEQUIVOCAL PROGRESSION": "unequivocal_progression"}
"""TUMSTATE of a new lesion re-recorded under iRECIST (gone, or unequivocally progressing)."""
_NEWLIND = {"Y": "YES", "N": "NO"}
"""NEWLIND "New Lesion Indicator" (codelist NY): whether new lesions are present."""
_NEWLPROG = {"EQUIVOCAL": "EQUIVOCAL", "UNEQUIVOCAL": "YES"}
"""NEWLPROG "New Lesion Progression" (codelist C96785): how equivocal the new lesions' progression is."""
_LEGACY_NEWLPROG = {"Y": "YES", "N": "NO"}
"""NEWLPROG values recist wrote before it followed CDISC CT (Y/N are not C96785 terms): read with a warning."""
_RESPONSES = {"CR", "PR", "SD", "PD", "NE", "NON-CR/NON-PD"}
_RS_FIELDS = {"TRGRESP": "target", "NTRGRESP": "non_target", "OVRLRESP": "overall"}
_NEW_LESION_TESTS = ("NEWLIND", "NEWLPROG")
_LEGACY = {
    "MERGED": "TUMSTATE 'MERGED' is recist's old value; CDISC CT C124309 has 'TUMOR MERGED' (read as merged)",
    "NEWLPROG": "NEWLPROG 'Y'/'N' are recist's old values; CDISC CT has NEWLIND 'Y'/'N' for new lesions present "
    "and NEWLPROG 'EQUIVOCAL'/'UNEQUIVOCAL' (C96785) (read as new lesions yes/no)",
    "BESTRSP": "RSTESTCD 'BESTRSP' is recist's old test code; CDISC CT C96782 has 'BESTRESP' (ignored, as BESTRESP is)",
    "TOOSMALL": "TUMSTATE 'TOO SMALL TO MEASURE' is recist's old form; SDTMIG v3.4 puts it in the diameter's "
    "TRORRES with TRSTRESC 5 (read as too small)",
}
"""Values of recist's earlier SDTM exports that are read, with one warning per kind naming the first record."""
_REQUIRED = {
    "TU": ("USUBJID", "TULNKID", "TUTESTCD", "TUSTRESC", "TULOC", "VISITNUM", "VISIT", "TUDTC"),
    "TR": ("USUBJID", "TRLNKID", "TRTESTCD", "TRSTRESC", "VISITNUM", "VISIT", "TRDTC"),
    "RS": ("USUBJID", "RSTESTCD", "RSSTRESC", "VISITNUM", "VISIT"),
}
_FRAGMENT = re.compile(r"^(?P<parent>.+)\.(?P<k>[1-9][0-9]*)$")


@dataclass(frozen=True)
class ImportedRead:
    """One subject as read by one evaluator, rebuilt from SDTM.

    Attributes
    ----------
    case
        The rebuilt case.
    evaluator, evaluator_role
        --EVAL and --EVALID (``""`` where null).
    accepted
        --ACPTFL: True ("Y"), False ("N") or None (null).
    """

    case: Case
    evaluator: str
    evaluator_role: str
    accepted: bool | None


@dataclass(frozen=True)
class _Row:
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


def read_domain(path: str | os.PathLike[str]) -> list[_Row]:
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
        _Row({str(k).strip().upper(): _text(v) for k, v in row.items()}, f"{file.name} row {n}")
        for n, row in enumerate(rows, start=1)
    ]


def read_sdtm(folder: str | os.PathLike[str], *, warnings: list[str] | None = None) -> dict[str, list[_Row]]:
    """Find and read TU, TR and RS in ``folder`` (Dataset-JSON preferred, then CSV, then XPORT).

    Parameters
    ----------
    folder
        The folder holding the datasets.
    warnings
        A list that receives one line per problem that loses data without being an error (no RS).

    Raises
    ------
    ExchangeError
        No TU or TR; an unreadable, truncated or inconsistent dataset (see :func:`check_datasets`).
    """
    base = Path(folder)
    if not base.is_dir():
        raise ExchangeError(f"{base}: not a folder; give the folder holding tu/tr/rs datasets")
    found: dict[str, list[_Row]] = {}
    for domain in ("TU", "TR", "RS"):
        for suffix in (".json", ".csv", ".xpt"):
            candidates = [p for p in base.iterdir() if p.name.lower() == f"{domain.lower()}{suffix}"]
            if candidates:
                found[domain] = read_domain(candidates[0])
                break
    for domain in ("TU", "TR"):
        if domain not in found:
            raise ExchangeError(f"{base}: no {domain} dataset ({domain.lower()}.json, .csv or .xpt)")
    if "RS" not in found and warnings is not None:
        warnings.append(
            f"{base}: no RS dataset (rs.json, .csv or .xpt): the responses recorded by the evaluators are lost; "
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


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_datasets(datasets: Mapping[str, Iterable[_Row]]) -> None:
    """Refuse SDTM datasets that are inconsistent in themselves or with each other (SDTMIG v3.4).

    - one STUDYID per dataset;
    - --SEQ unique per subject within a domain (SDTMIG 4.1.5: it identifies the record);
    - TRSTRESN equal to TRSTRESC where both are numbers, and TRORRES equal to TRSTRESC where the
      original and standard units are the same (a standard result must restate the original);
    - every TR TRLNKID identified in TU, every RS visit present in TR, for the same subject and evaluator
      (a dataset cut short, or records deleted, leave references dangling).

    Raises
    ------
    ExchangeError
        Naming the file and row (numbered from 1 after the header) and what is wrong.
    """
    for domain, rows in datasets.items():
        p = domain
        study: tuple[str, str] | None = None
        seen_seq: dict[tuple[str, str], str] = {}
        for row in rows:
            if row["STUDYID"]:
                if study is None:
                    study = (row["STUDYID"], row.where)
                elif row["STUDYID"] != study[0]:
                    raise ExchangeError(
                        f"{row.where}: STUDYID {row['STUDYID']!r} but {study[1]} has {study[0]!r}; one dataset "
                        "holds one study: split the file by study"
                    )
            seq = row[f"{p}SEQ"]
            if seq:
                key = (row["USUBJID"], seq)
                if key in seen_seq:
                    raise ExchangeError(
                        f"{row.where}: {p}SEQ {seq} of subject {row['USUBJID']!r} repeats {seen_seq[key]}; "
                        f"--SEQ must identify one record per subject"
                    )
                seen_seq[key] = row.where
            if domain == "TR":
                _check_results(row)
    _check_references(datasets)


def _check_results(row: _Row) -> None:
    stresc, stresn, orres = row["TRSTRESC"], row["TRSTRESN"], row["TRORRES"]
    if stresn:
        numeric = _number(stresn)
        if numeric is None or _number(stresc) != numeric:
            raise ExchangeError(
                f"{row.where}: TRSTRESN {stresn!r} differs from TRSTRESC {stresc!r}; the numeric and character "
                "standard results must be the same value"
            )
    if orres.upper() == _TOO_SMALL and _number(stresc) is not None:
        return  # a character result standardised to a number (SDTMIG v3.4 TR assumption 4: 5 mm)
    if orres and stresc and (row["TRORRESU"] or "") == (row["TRSTRESU"] or ""):
        a, b = _number(orres), _number(stresc)
        if (a != b) if (a is not None and b is not None) else (orres.upper() != stresc.upper()):
            raise ExchangeError(
                f"{row.where}: TRORRES {orres!r} differs from TRSTRESC {stresc!r} in the same unit; fix the "
                "record so the standard result restates the original"
            )


def _check_references(datasets: Mapping[str, Iterable[_Row]]) -> None:
    def owner(row: _Row, p: str) -> tuple[str, str, str]:
        return (row["USUBJID"], row[f"{p}EVAL"], row[f"{p}EVALID"])

    links = {(*owner(row, "TU"), row["TULNKID"]) for row in datasets.get("TU", [])}
    visits = set()
    for row in datasets.get("TR", []):
        visits.add((*owner(row, "TR"), row["VISITNUM"]))
        link = row["TRLNKID"]
        fragment = _FRAGMENT.match(link)
        known = (*owner(row, "TR"), link) in links or (
            fragment is not None and (*owner(row, "TR"), fragment["parent"]) in links
        )
        if link and not known:
            raise ExchangeError(
                f"{row.where}: TRLNKID {link!r} of subject {row['USUBJID']!r} has no TU record; TU is missing "
                "this lesion's identification (truncated or filtered?)"
            )
    for row in datasets.get("RS", []):
        if row["VISITNUM"] and (*owner(row, "RS"), row["VISITNUM"]) not in visits:
            raise ExchangeError(
                f"{row.where}: RS response at visit {row['VISITNUM']} of subject {row['USUBJID']!r} has no TR "
                "records at that visit; TR is missing the measurements it was assessed from (truncated or filtered?)"
            )


def _check_columns(domain: str, rows: list[_Row]) -> None:
    for row in rows:
        missing = [name for name in _REQUIRED[domain] if name not in row.values]
        if missing:
            raise ExchangeError(f"{row.where}: missing variable(s) {', '.join(missing)} of {domain}")
        if row["DOMAIN"] not in ("", domain):
            raise ExchangeError(f"{row.where}: DOMAIN is {row['DOMAIN']!r}, expected {domain!r}")
        return


def _visitnum(row: _Row, prefix: str) -> int:
    text = row["VISITNUM"]
    try:
        number = float(text)
    except ValueError:
        raise ExchangeError(f"{row.where}: VISITNUM {text!r} is not a number") from None
    if not number.is_integer() or not 0 < number < 1e6:
        raise ExchangeError(f"{row.where}: VISITNUM {text!r} must be a positive whole number")
    return int(number)


def _mm(row: _Row, prefix: str) -> float:
    text = row[f"{prefix}STRESC"] or row[f"{prefix}ORRES"]
    try:
        value = float(text)
    except ValueError:
        raise ExchangeError(f"{row.where}: {prefix}STRESC {text!r} is not a number of millimetres") from None
    unit = row[f"{prefix}STRESU"] or row[f"{prefix}ORRESU"]
    if unit not in ("mm", "") or not math.isfinite(value) or value < 0:
        raise ExchangeError(f"{row.where}: {value!r} {unit!r} is not a length in mm (recist expects mm >= 0)")
    return value


def _state(row: _Row, table: Mapping[str, Any], kind: str) -> Any:
    """The case value of a TUMSTATE result, or ExchangeError naming the row and the allowed results."""
    state = row["TRSTRESC"] or row["TRORRES"]
    if state not in table:
        raise ExchangeError(f"{row.where}: {kind} TUMSTATE {state!r} is not one of {', '.join(table)}")
    return table[state]


def _key(row: _Row, prefix: str) -> tuple[str, str, str]:
    return (row["USUBJID"], row[f"{prefix}EVAL"], row[f"{prefix}EVALID"])


class _CaseBuilder:
    def __init__(self, key: tuple[str, str, str], study: str = "", legacy: dict[str, list[str]] | None = None) -> None:
        self.key = key
        self.legacy = legacy if legacy is not None else {}
        # the case's subject: USUBJID without the "<STUDYID>-" prefix recist's export adds (SDTMIG examples)
        prefix = f"{study}-"
        self.subject = key[0][len(prefix):] if study and key[0].startswith(prefix) and key[0] != prefix else key[0]
        self.fragments: dict[str, str] = {}
        self.lesions: dict[str, dict[str, Any]] = {}
        self.new_sites: dict[str, tuple[str, bool]] = {}
        self.visits: dict[int, dict[str, Any]] = {}
        self.accepted: set[str] = set()

    def visit(self, row: _Row, prefix: str) -> dict[str, Any]:
        number = _visitnum(row, prefix)
        date_text = row[f"{prefix}DTC"]
        try:
            date = _dt.date.fromisoformat(date_text[:10]) if date_text else None
        except ValueError:
            raise ExchangeError(f"{row.where}: {prefix}DTC {date_text!r} is not an ISO 8601 date") from None
        visit = self.visits.setdefault(
            number,
            {
                "label": row["VISIT"] or f"visit {number}",
                "date": date,
                "targets": {},
                "non_targets": {},
                "new": {},
                "recorded": {},
                "new_lesion_tests": {},
            },
        )
        if date is not None and visit["date"] not in (None, date):
            raise ExchangeError(
                f"{row.where}: {prefix}DTC {date} differs from {visit['date']} of visit {number}"
            )
        if visit["date"] is None:
            visit["date"] = date
        if row["VISIT"] and row["VISIT"] != visit["label"]:
            raise ExchangeError(
                f"{row.where}: VISIT {row['VISIT']!r} differs from {visit['label']!r} of visit {number}"
            )
        if row[f"{prefix}ACPTFL"]:
            self.accepted.add(row[f"{prefix}ACPTFL"])
        return visit

    def add_tu(self, row: _Row) -> None:
        self.visit(row, "TU")
        testcd, result, link = row["TUTESTCD"], row["TUSTRESC"] or row["TUORRES"], row["TULNKID"]
        if not link:
            raise ExchangeError(f"{row.where}: TULNKID is empty; every tumour record needs its lesion id")
        loc = row["TULOC"]
        if testcd == "TUSPLIT" and row["TUGRPID"]:
            self.fragments[link] = row["TUGRPID"]  # a fragment and the lesion it split from
            return
        if testcd in ("TUSPLIT", "TUMERGE"):
            return
        if testcd != "TUMIDENT":
            raise ExchangeError(f"{row.where}: TUTESTCD {testcd!r} is not TUMIDENT, TUSPLIT or TUMERGE")
        if not loc:
            raise ExchangeError(f"{row.where}: TULOC is empty; give the lesion's location")
        nodal = "NODE" in loc.upper()
        if result == "NEW":
            self.new_sites[link] = (loc.lower(), nodal)
            return
        if result not in ("TARGET", "NON-TARGET"):
            raise ExchangeError(f"{row.where}: TUSTRESC {result!r} is not TARGET, NON-TARGET or NEW")
        if link in self.lesions:
            raise ExchangeError(f"{row.where}: lesion {link!r} is identified twice for this evaluator")
        method = row["TUMETHOD"] or "CT SCAN"
        if method not in _METHODS:
            raise ExchangeError(f"{row.where}: TUMETHOD {method!r} is not one of {', '.join(_METHODS)}")
        self.lesions[link] = {
            "id": link,
            "role": "target" if result == "TARGET" else "non_target",
            "site": loc.lower(),
            "nodal": nodal,
            "method": _METHODS[method],
        }

    def add_tr(self, row: _Row) -> None:
        visit = self.visit(row, "TR")
        testcd, link = row["TRTESTCD"], row["TRLNKID"]
        if testcd == "SUMDIAM":
            return
        if testcd not in ("LDIAM", "LPERP", "TUMSTATE"):
            raise ExchangeError(f"{row.where}: TRTESTCD {testcd!r} is not LDIAM, LPERP, TUMSTATE or SUMDIAM")
        if not link:
            raise ExchangeError(f"{row.where}: TRLNKID is empty; link the result to its lesion (TULNKID)")
        not_done = row["TRSTAT"].upper() == "NOT DONE"
        fragment = _FRAGMENT.match(link)
        parent = self.fragments.get(link) or (fragment["parent"] if fragment else None)
        if link not in self.lesions and link not in self.new_sites and parent in self.lesions:
            if testcd == "TUMSTATE" or not_done:
                raise ExchangeError(f"{row.where}: a split fragment ({link}) carries only LDIAM/LPERP")
            entry = visit["targets"].setdefault(parent, {})
            fragments = entry.setdefault("fragments", {})
            order = int(fragment["k"]) if fragment and fragment["parent"] == parent else len(fragments) + 1
            fragments[order] = _mm(row, "TR")
            return
        if link in self.new_sites:
            new = visit["new"].setdefault(link, {})
            if testcd == "TUMSTATE" and not_done:  # an iRECIST re-record not evaluated at this visit
                new["state"] = "not_evaluated"
            elif testcd == "TUMSTATE" and (row["TRSTRESC"] or row["TRORRES"]) in _NEW_LESION_STATES:
                new["state"] = _state(row, _NEW_LESION_STATES, "new-lesion")
            elif testcd == "TUMSTATE":
                new["equivocal"] = _state(row, _NEW_STATES, "new-lesion")
            elif not not_done:
                new["long_axis_mm" if testcd == "LDIAM" else "short_axis_mm"] = _mm(row, "TR")
            return
        lesion = self.lesions.get(link)
        if lesion is None:
            raise ExchangeError(
                f"{row.where}: TRLNKID {link!r} names no lesion identified in TU for this evaluator"
            )
        if lesion["role"] == "target":
            entry = visit["targets"].setdefault(link, {})
            if not_done:
                entry["state"] = "not_evaluated"
            elif testcd == "TUMSTATE":
                entry["state"] = _state(row, _TARGET_STATES, "target")
                if (row["TRSTRESC"] or row["TRORRES"]) == "MERGED":
                    self.legacy.setdefault("MERGED", []).append(row.where)
                if (row["TRSTRESC"] or row["TRORRES"]) == _TOO_SMALL:
                    self.legacy.setdefault("TOOSMALL", []).append(row.where)
                if entry["state"] == "merged":
                    if not row["TRGRPID"]:
                        raise ExchangeError(
                            f"{row.where}: a MERGED lesion needs TRGRPID naming the lesion it merged into"
                        )
                    entry["merged_into"] = row["TRGRPID"]
            elif row["TRORRES"].upper() == _TOO_SMALL:
                if row["TRSTRESC"]:
                    _mm(row, "TR")  # a standardised value (recist writes 5) must still be a length in mm
                entry["state"] = "too_small"  # recist counts it 5 mm whatever the sponsor's standard value
            else:
                entry["long_axis_mm" if testcd == "LDIAM" else "short_axis_mm"] = _mm(row, "TR")
        else:
            entry = visit["non_targets"].setdefault(link, {})
            if testcd == "TUMSTATE":
                if not_done:
                    entry["state"] = "not_evaluated"
                else:
                    entry["state"] = _state(row, _NON_TARGET_STATES, "non-target")
            elif testcd == "LPERP" and not not_done:
                entry["short_axis_mm"] = _mm(row, "TR")
            elif not not_done:
                raise ExchangeError(
                    f"{row.where}: a non-target lesion carries TUMSTATE and, for nodes, LPERP only"
                )

    def add_rs(self, row: _Row) -> None:
        testcd = row["RSTESTCD"]
        if testcd == "BESTRSP":
            self.legacy.setdefault("BESTRSP", []).append(row.where)
        if testcd not in _RS_FIELDS and testcd not in _NEW_LESION_TESTS:
            return  # BESTRESP (recomputed by recist) and tests recist does not read
        if row["RSCAT"] not in ("", "RECIST 1.1"):
            return
        visit = self.visit(row, "RS")
        value = row["RSSTRESC"] or row["RSORRES"]
        if testcd == "NEWLIND":
            if value not in _NEWLIND:
                raise ExchangeError(f"{row.where}: NEWLIND {value!r} is not Y or N (codelist NY)")
            visit["new_lesion_tests"][testcd] = (_NEWLIND[value], row.where)
        elif testcd == "NEWLPROG":
            if value in _LEGACY_NEWLPROG:
                self.legacy.setdefault("NEWLPROG", []).append(row.where)
                visit["new_lesion_tests"][testcd] = (_LEGACY_NEWLPROG[value], row.where)
            elif value in _NEWLPROG:
                visit["new_lesion_tests"][testcd] = (_NEWLPROG[value], row.where)
            else:
                raise ExchangeError(
                    f"{row.where}: NEWLPROG {value!r} is not EQUIVOCAL or UNEQUIVOCAL (codelist C96785)"
                )
        elif value not in _RESPONSES:
            raise ExchangeError(
                f"{row.where}: {testcd} {value!r} is not one of {', '.join(sorted(_RESPONSES))}"
            )
        else:
            visit["recorded"][_RS_FIELDS[testcd]] = value

    def case_dict(self, protocol: Protocol | None, recorded: bool) -> dict[str, Any]:
        subject = self.subject
        timepoints = []
        for index, number in enumerate(sorted(self.visits)):
            visit = self.visits[number]
            if visit["date"] is None:
                raise ExchangeError(
                    f"subject {subject!r}, visit {visit['label']!r}: no --DTC date on any record"
                )
            targets = {}
            for lesion_id, entry in visit["targets"].items():
                fragments = entry.pop("fragments", None)
                if fragments is not None:
                    if entry.get("state") != "split":
                        raise ExchangeError(
                            f"subject {subject!r}, visit {visit['label']!r}: lesion {lesion_id!r} has fragments "
                            "but no TUMSTATE SPLIT record"
                        )
                    entry["fragments_mm"] = [fragments[k] for k in sorted(fragments)]
                targets[lesion_id] = entry
            new_lesions = []
            for lesion_id, entry in visit["new"].items():
                site, nodal = self.new_sites[lesion_id]
                new_lesions.append(
                    {"id": lesion_id, "site": site, "nodal": nodal, "equivocal": False, **entry}
                )
            tp: dict[str, Any] = {"label": visit["label"], "date": visit["date"].isoformat()}
            if targets:
                tp["targets"] = targets
            if visit["non_targets"]:
                tp["non_targets"] = visit["non_targets"]
            if new_lesions:
                tp["new_lesions"] = new_lesions
            new_lesions = _recorded_new_lesions(visit["new_lesion_tests"])
            if new_lesions is not None:
                visit["recorded"]["new_lesions"] = new_lesions
            if recorded and visit["recorded"] and index > 0:
                tp["recorded"] = visit["recorded"]
            timepoints.append(tp)
        data: dict[str, Any] = {
            "format": "recist.case/1",
            "subject": subject,
            "lesions": list(self.lesions.values()),
            "timepoints": timepoints,
        }
        if protocol is not None:
            data["protocol"] = protocol.model_dump(mode="json")
        return data


def _recorded_new_lesions(tests: Mapping[str, tuple[str, str]]) -> str | None:
    """The recorded new-lesion status (NO, EQUIVOCAL, YES) of a visit from its NEWLIND and NEWLPROG records.

    NEWLIND says whether new lesions are present, NEWLPROG (only with new lesions) whether their progression
    is equivocal; NEWLIND Y alone is YES. A NEWLPROG that contradicts NEWLIND is refused, naming both records.
    """
    indicator, progression = tests.get("NEWLIND"), tests.get("NEWLPROG")
    if progression is None:
        return indicator[0] if indicator else None
    if indicator is not None and (indicator[0] == "NO") != (progression[0] == "NO"):
        raise ExchangeError(
            f"{progression[1]}: NEWLPROG contradicts NEWLIND of {indicator[1]} (new lesions "
            f"{'absent' if indicator[0] == 'NO' else 'present'}); fix one of the two records"
        )
    return progression[0]


def cases_from_sdtm(
    datasets: Mapping[str, Iterable[_Row]],
    *,
    protocol: Protocol | None = None,
    recorded: bool = True,
    protocols: Mapping[tuple[str, str, str], Protocol] | None = None,
    warnings: list[str] | None = None,
) -> list[ImportedRead]:
    """Rebuild one case per subject per evaluator from TU, TR (and optionally RS) rows.

    Parameters
    ----------
    datasets
        ``{"TU": rows, "TR": rows, "RS": rows}`` as returned by :func:`read_sdtm`.
    protocol
        Protocol options for every case (SDTM does not carry them; default: the case-file defaults).
    recorded
        Attach each follow-up's RS responses as the timepoint's ``recorded`` block.
    protocols
        Protocol options per (USUBJID, --EVAL, --EVALID) (:func:`read_protocols`), for the reads that
        ``protocol`` does not cover.
    warnings
        A list that receives one line per kind of value written by an earlier recist that is read with a
        new meaning or ignored (TUMSTATE MERGED, NEWLPROG Y/N, BESTRSP), naming the first record.

    Raises
    ------
    ExchangeError
        Naming the file and row of the first malformed record, or the subject and evaluator whose
        records do not make a valid case.
    """
    builders: dict[tuple[str, str, str], _CaseBuilder] = {}
    legacy: dict[str, list[str]] = {}
    for domain, prefix, method in (("TU", "TU", "add_tu"), ("TR", "TR", "add_tr"), ("RS", "RS", "add_rs")):
        rows = list(datasets.get(domain, []))
        _check_columns(domain, rows)
        # TU first and in two passes (baseline lesions before new ones) so TR can resolve every link.
        for row in rows:
            if not row["USUBJID"]:
                raise ExchangeError(f"{row.where}: USUBJID is empty")
            key = _key(row, prefix)
            if key not in builders:
                if domain != "TU":
                    raise ExchangeError(
                        f"{row.where}: subject {key[0]!r}, evaluator {key[1]} {key[2]!r} has no TU records"
                    )
                builders[key] = _CaseBuilder(key, row["STUDYID"], legacy)
            getattr(builders[key], method)(row)
    reads = []
    for key, builder in builders.items():
        data = builder.case_dict(protocol or (protocols or {}).get(key), recorded)
        try:
            case = parse_case(data, source=f"SDTM subject {key[0]} ({key[1]} {key[2]})".strip())
        except RecistValidationError as exc:
            raise ExchangeError(f"the SDTM records do not make a valid case: {exc}") from None
        accepted = None if not builder.accepted else ("Y" in builder.accepted)
        reads.append(ImportedRead(case=case, evaluator=key[1], evaluator_role=key[2], accepted=accepted))
    if warnings is not None:
        for kind, wheres in legacy.items():
            more = f" and {len(wheres) - 1} more record(s)" if len(wheres) > 1 else ""
            warnings.append(f"{wheres[0]}{more}: {_LEGACY[kind]}")
    return reads
