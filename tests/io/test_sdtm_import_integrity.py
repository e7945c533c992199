"""SDTM import never loses data silently: truncated XPORT, dangling references, inconsistent records.

Issue 16 §3 and issue 17 §1: a truncated ``tr.xpt`` imported 6 of 32 rows with exit 0; duplicate --SEQ,
TRSTRESN or TRORRES disagreeing with TRSTRESC and two STUDYIDs in one dataset were accepted; a missing RS
went unnoticed. Files are written by recist's exporter (pyreadstat for XPORT) and then damaged here.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from exchange_cases import example_case_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recist
from recist.cli import main
from recist.errors import ExchangeError, RecistError
from recist.export.sdtm import SdtmRead, build_sdtm, write_sdtm
from recist.io.sdtm_import import cases_from_sdtm, read_sdtm


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    case = recist.parse_case(example_case_dict())
    folder = tmp_path_factory.mktemp("sdtm")
    write_sdtm(build_sdtm([SdtmRead(case, recist.assess(case))], study_id="NET-1"), folder, study_id="NET-1")
    return folder


def _folder(tmp_path: Path, exported: Path, suffix: str) -> Path:
    folder = tmp_path / suffix
    folder.mkdir()
    for domain in ("tu", "tr", "rs"):
        shutil.copy(exported / f"{domain}.{suffix}", folder)
    return folder


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def _set(path: Path, row: int, column: str, value: str) -> None:
    rows = _rows(path)
    rows[row][rows[0].index(column)] = value
    _write_rows(path, rows)


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.9, 0.99])
def test_a_truncated_xpt_is_refused_naming_the_file(tmp_path, exported, fraction):
    folder = _folder(tmp_path, exported, "xpt")
    data = (folder / "tr.xpt").read_bytes()
    (folder / "tr.xpt").write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ExchangeError, match=r"tr\.xpt: (truncated or damaged SAS XPORT|not a readable SAS XPORT)"):
        read_sdtm(folder)


def test_an_xpt_cut_at_a_record_boundary_is_refused(tmp_path, exported):
    folder = _folder(tmp_path, exported, "xpt")
    data = (folder / "tr.xpt").read_bytes()
    cut = (len(data) // 2) // 80 * 80
    (folder / "tr.xpt").write_bytes(data[:cut])
    with pytest.raises(ExchangeError, match=r"tr\.xpt"):
        cases_from_sdtm(read_sdtm(folder))


def test_the_cli_exits_2_on_a_truncated_xpt(tmp_path, exported, capsys):
    folder = _folder(tmp_path, exported, "xpt")
    data = (folder / "tr.xpt").read_bytes()
    (folder / "tr.xpt").write_bytes(data[: len(data) * 3 // 4])
    assert main(["import", "sdtm", str(folder), "--out", str(tmp_path / "cases")]) == 2
    err = capsys.readouterr().err
    assert "tr.xpt" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "cases").exists()


def test_a_whole_xpt_still_imports(tmp_path, exported):
    reads = cases_from_sdtm(read_sdtm(_folder(tmp_path, exported, "xpt")))
    assert len(reads) == 1 and len(reads[0].case.timepoints) == 3


@pytest.mark.parametrize(
    ("domain", "column", "value", "message"),
    [
        ("tr", "TRSEQ", "1", r"tr\.csv row 2: TRSEQ 1 of subject 'NET-1-EX-001' repeats tr\.csv row 1"),
        ("tr", "TRSTRESN", "99", r"tr\.csv row 2: TRSTRESN '99' differs from TRSTRESC"),
        ("tr", "TRORRES", "3.25", r"tr\.csv row 2: TRORRES '3.25' differs from TRSTRESC"),
        ("rs", "STUDYID", "OTHER", r"rs\.csv row 2: STUDYID 'OTHER' but rs\.csv row 1 has 'NET-1'"),
        ("tu", "TUSEQ", "1", r"tu\.csv row 2: TUSEQ 1 of subject 'NET-1-EX-001' repeats tu\.csv row 1"),
    ],
)
def test_inconsistent_records_are_refused_with_the_record(tmp_path, exported, domain, column, value, message):
    folder = _folder(tmp_path, exported, "csv")
    path = folder / f"{domain}.csv"
    rows = _rows(path)
    assert rows[2][rows[0].index("TRTESTCD")] == "LDIAM" if domain == "tr" else True
    _set(path, 2, column, value)
    with pytest.raises(ExchangeError, match=message):
        read_sdtm(folder)


def test_a_tr_missing_a_visit_that_rs_assessed_is_refused(tmp_path, exported):
    folder = _folder(tmp_path, exported, "csv")
    rows = _rows(folder / "tr.csv")
    visit = rows[0].index("VISITNUM")
    _write_rows(folder / "tr.csv", [r for r in rows if r[visit] != "3"])
    with pytest.raises(ExchangeError, match=r"rs\.csv row \d+: RS response at visit 3 of subject 'NET-1-EX-001' has no TR"):
        read_sdtm(folder)


def test_a_tu_missing_a_lesion_is_refused(tmp_path, exported):
    folder = _folder(tmp_path, exported, "csv")
    rows = _rows(folder / "tu.csv")
    link = rows[0].index("TULNKID")
    _write_rows(folder / "tu.csv", [r for r in rows if r[link] != "T1"])
    with pytest.raises(ExchangeError, match=r"tr\.csv row \d+: TRLNKID 'T1' of subject 'NET-1-EX-001' has no TU record"):
        read_sdtm(folder)


def test_a_missing_rs_is_a_warning_saying_what_is_lost(tmp_path, exported, capsys):
    folder = _folder(tmp_path, exported, "csv")
    (folder / "rs.csv").unlink()
    assert main(["import", "sdtm", str(folder), "--out", str(tmp_path / "cases")]) == 0
    out = capsys.readouterr()
    warnings = [line for line in out.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "no RS dataset" in warnings[0] and "responses recorded" in warnings[0]
    assert "wrote 1 case files" in out.out


@pytest.mark.parametrize("suffix", ["xpt", "csv"])
def test_an_rs_without_records_is_a_warning_like_a_missing_rs(tmp_path, exported, capsys, suffix):
    """An rs.xpt cut right after its OBS header record holds a whole number of (zero) rows, so no size check
    can see the cut; it imported with exit 0 and no word while the recorded responses were lost. An RS
    without records says so, as a missing RS does (and so does an rs.csv holding only its header)."""
    folder = _folder(tmp_path, exported, suffix)
    data = (folder / f"rs.{suffix}").read_bytes()
    if suffix == "xpt":
        cut = data.find(b"HEADER RECORD*******OBS     HEADER RECORD") + 80
        (folder / "rs.xpt").write_bytes(data[:cut])
    else:
        (folder / "rs.csv").write_bytes(data.splitlines(keepends=True)[0])
    assert main(["import", "sdtm", str(folder), "--out", str(tmp_path / "cases")]) == 0
    out = capsys.readouterr()
    warnings = [line for line in out.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and f"rs.{suffix}" in warnings[0] and "no records" in warnings[0], out.err
    assert "responses recorded" in warnings[0] and "wrote 1 case files" in out.out


def _row_bytes(path: Path) -> int:
    import pyreadstat

    return sum(pyreadstat.read_xport(str(path), metadataonly=True)[1].variable_storage_width.values())


def _aligned_cuts(path: Path) -> list[int]:
    """Where an XPORT file can be cut leaving whole rows in whole 80-byte records (no size check sees it)."""
    import pyreadstat

    rows = len(pyreadstat.read_xport(str(path))[0])
    start = path.read_bytes().find(b"HEADER RECORD*******OBS     HEADER RECORD") + 80
    return [start + k * _row_bytes(path) for k in range(1, rows) if (start + k * _row_bytes(path)) % 80 == 0]


@pytest.fixture(scope="module")
def exported_cases(tmp_path_factory) -> Path:
    """The 8 example reads of sample_data/cases exported as SDTM (csv and xpt)."""
    cases = Path(__file__).resolve().parents[2] / "sample_data" / "cases"
    if not list(cases.glob("*.json")):
        pytest.skip("sample_data/cases is absent")
    out = tmp_path_factory.mktemp("sdtm_cases") / "sdtm"
    assert main(["export", "sdtm", str(cases), "--out", str(out), "--format", "csv,xpt"]) == 0
    return out


def test_an_rs_cut_at_a_row_boundary_loses_no_visit_silently(tmp_path, exported_cases, capsys):
    """Responses of later visits and subjects were lost with exit 0 when RS was cut at a row boundary (an
    rs.xpt where a row and an 80-byte record end together; an rs.csv at a line end): no size check sees
    such a cut, so every follow-up visit with TR records must have its RS responses. Only a cut that loses
    nothing but BESTRESP rows (recist recomputes the best response and never reads them) still imports."""
    lines = (exported_cases / "rs.csv").read_bytes().splitlines(keepends=True)
    head = lines[0].decode().strip().split(",")
    visit, category = head.index("VISITNUM"), head.index("RSCAT")
    read = [k for k, line in enumerate(lines[1:], start=1)  # rows the import reads: RECIST 1.1 visit tests
            if line.decode().split(",")[visit] and line.decode().split(",")[category] == "RECIST 1.1"]
    cuts = {f"csv{k}": ("csv", b"".join(lines[:k]), any(r >= k for r in read)) for k in range(2, len(lines))}
    data = (exported_cases / "rs.xpt").read_bytes()
    aligned = _aligned_cuts(exported_cases / "rs.xpt")
    assert aligned
    for cut in aligned:  # the same rows as the CSV: the xpt row count tells how many were kept
        kept = 1 + (cut - data.find(b"HEADER RECORD*******OBS     HEADER RECORD") - 80) // _row_bytes(
            exported_cases / "rs.xpt")
        cuts[f"xpt{cut}"] = ("xpt", data[:cut], any(r >= kept for r in read))
    refused = 0
    for name, (suffix, raw, loses_a_read_row) in cuts.items():
        folder = tmp_path / name
        folder.mkdir()
        for domain in ("tu", "tr"):
            shutil.copy(exported_cases / f"{domain}.{suffix}", folder)
        (folder / f"rs.{suffix}").write_bytes(raw)
        try:
            read_sdtm(folder)
        except ExchangeError as exc:
            assert "no RS response (OVRLRESP)" in str(exc) and f"tr.{suffix} row" in str(exc), str(exc)
            refused += 1
        else:
            assert not loses_a_read_row, name  # only rows the import never reads (BESTRESP, iRECIST) were cut
    assert refused >= len(read)
    folder = tmp_path / "csv20"
    assert main(["import", "sdtm", str(folder), "--out", str(tmp_path / "cases")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no RS response (OVRLRESP)" in err[0] and not (tmp_path / "cases").exists()


def test_an_rs_missing_a_follow_up_visit_is_refused(tmp_path, exported):
    folder = _folder(tmp_path, exported, "csv")
    rows = _rows(folder / "rs.csv")
    visit = rows[0].index("VISITNUM")
    _write_rows(folder / "rs.csv", [r for r in rows if r[visit] != "3"])
    with pytest.raises(ExchangeError, match=r"tr\.csv row \d+: TR records at visit 3 of subject 'NET-1-EX-001' "
                                            r"have no RS response \(OVRLRESP\)"):
        read_sdtm(folder)


def test_colliding_subject_names_never_overwrite(tmp_path):
    cases = []
    for subject in ("NET 002", "NET-002", "NET?002"):
        data = example_case_dict()
        data["subject"] = subject
        cases.append(recist.parse_case(data))
    folder = tmp_path / "sdtm"
    reads = [SdtmRead(c, recist.assess(c)) for c in cases]
    write_sdtm(build_sdtm(reads, study_id="S"), folder, formats=["csv"], study_id="S")
    out = tmp_path / "cases"
    assert main(["import", "sdtm", str(folder), "--out", str(out)]) == 0
    written = sorted(out.glob("*.json"))
    assert len(written) == 3
    assert sorted(recist.read_case(p).subject for p in written) == ["NET 002", "NET-002", "NET?002"]
    # a second import into the same folder is refused (the output rule); with --force it gives the same cases
    assert main(["import", "sdtm", str(folder), "--out", str(out)]) == 2
    assert main(["import", "sdtm", str(folder), "--out", str(out), "--force"]) == 0
    assert sorted(out.glob("*.json")) == written


def test_a_300_character_evaluator_id_does_not_break_the_file_name(tmp_path, exported):
    folder = _folder(tmp_path, exported, "csv")
    for domain, prefix in (("tu", "TU"), ("tr", "TR"), ("rs", "RS")):
        rows = _rows(folder / f"{domain}.csv")
        column = rows[0].index(f"{prefix}EVALID")
        for row in rows[1:]:
            row[column] = "R" * 300
        _write_rows(folder / f"{domain}.csv", rows)
    out = tmp_path / "cases"
    assert main(["import", "sdtm", str(folder), "--out", str(out)]) == 0
    (written,) = out.glob("*.json")
    assert len(written.name) <= 110


_SUFFIXES = ("csv", "json", "xpt")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    suffix=st.sampled_from(_SUFFIXES),
    domain=st.sampled_from(["tu", "tr", "rs"]),
    cut=st.one_of(st.none(), st.floats(0, 1)),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4),
)
def test_fuzzed_datasets_raise_only_recist_errors(tmp_path_factory, exported, suffix, domain, cut, flips):
    """Random truncations and byte changes of any dataset: a case or a RecistError, nothing else."""
    folder = _folder(tmp_path_factory.mktemp("fuzz"), exported, suffix)
    path = folder / f"{domain}.{suffix}"
    data = bytearray(path.read_bytes())
    for where, byte in flips:
        if data:
            data[min(int(where * len(data)), len(data) - 1)] = byte
    if cut is not None:
        data = data[: int(cut * len(data))]
    path.write_bytes(bytes(data))
    try:
        for read in cases_from_sdtm(read_sdtm(folder)):
            recist.assess(read.case)
    except RecistError as exc:
        assert str(exc) and "\n" not in str(exc)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    column=st.sampled_from(["TRSTRESC", "TRSTRESN", "TRORRES", "VISITNUM", "TRSEQ", "TRLNKID", "TRDTC"]),
    value=st.one_of(
        st.sampled_from(["1e308", "-1e308", "inf", "nan", "1" * 5000, "", "0x10", "1\\2"]),
        st.floats(allow_nan=True).map(repr),
        st.integers(-(10**30), 10**30).map(str),
    ),
    row=st.integers(1, 20),
)
def test_extreme_values_in_json_raise_only_recist_errors(tmp_path_factory, exported, column, value, row):
    folder = _folder(tmp_path_factory.mktemp("extreme"), exported, "json")
    document = json.loads((folder / "tr.json").read_text())
    names = [c["name"] for c in document["columns"]]
    record = document["rows"][min(row, len(document["rows"])) - 1]
    record[names.index(column)] = value
    (folder / "tr.json").write_text(json.dumps(document))
    try:
        for read in cases_from_sdtm(read_sdtm(folder)):
            recist.assess(read.case)
    except RecistError as exc:
        assert str(exc)


def test_protocol_options_survive_export_and_import(tmp_path):
    """Issue 16 §3: a re-import assesses exactly as before, protocol options included."""
    data = example_case_dict()
    data["protocol"] = {"confirmation": True, "sd_min_days": 56}
    case = recist.parse_case(data)
    source = tmp_path / "case.json"
    recist.write_case(case, source)
    out = tmp_path / "sdtm"
    assert main(["export", "sdtm", str(source), "--out", str(out), "--study", "NET-3"]) == 0
    assert main(["import", "sdtm", str(out), "--out", str(tmp_path / "cases")]) == 0
    (imported,) = [recist.read_case(p) for p in (tmp_path / "cases").glob("*.json")]
    assert imported.subject == "EX-001"  # USUBJID NET-3-EX-001 without the study prefix
    assert imported.protocol == case.protocol
    before, after = recist.assess(case), recist.assess(imported)
    assert [t.overall_response for t in after.timepoints] == [t.overall_response for t in before.timepoints]
    assert after.best_overall_response == before.best_overall_response
    assert after.discrepancies == ()


def test_split_fragments_are_grouped_to_their_lesion_by_tugrpid(tmp_path, exported):
    folder = _folder(tmp_path, exported, "csv")
    rows = _rows(folder / "tu.csv")
    head = rows[0]
    splits = [r for r in rows[1:] if r[head.index("TUTESTCD")] == "TUSPLIT"]
    assert splits and all(r[head.index("TUGRPID")] == "T3" for r in splits)
    # another system's fragment ids: linked only through TUGRPID
    renames = {"T3.1": "FRAG-A", "T3.2": "FRAG-B"}
    for name, column in (("tu", "TULNKID"), ("tr", "TRLNKID")):
        table = _rows(folder / f"{name}.csv")
        k = table[0].index(column)
        for r in table[1:]:
            r[k] = renames.get(r[k], r[k])
        _write_rows(folder / f"{name}.csv", table)
    (read,) = cases_from_sdtm(read_sdtm(folder))
    assert read.case.timepoints[1].targets["T3"].fragments_mm == [8.0, 6.5]


def test_new_lesion_records_carry_tumethod(exported):
    rows = _rows(exported / "tu.csv")
    head = rows[0]
    new = [r for r in rows[1:] if r[head.index("TUSTRESC")] == "NEW"]
    assert new and all(r[head.index("TUMETHOD")] == "CT SCAN" for r in new)
    assert all(r[head.index("USUBJID")] == "NET-1-EX-001" for r in rows[1:])
