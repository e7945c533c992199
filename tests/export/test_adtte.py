"""The ADaM-like ADTTE dataset: one PFS record per subject, as CSV and as SAS transport v5 (XPT)."""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd
import pyreadstat

from recist.endpoints.pfs import CensoringReason, PfsOutcome
from recist.endpoints.subjects import Subject
from recist.export.adtte import CENSORING_CODES, adtte_rows, write_adtte

RAND = dt.date(2024, 1, 1)
CUTOFF = dt.date(2024, 12, 31)


def _rows():
    subjects = [Subject("S1", RAND, "control", strata=(("region", "EU"),)),
                Subject("S2", RAND, "drug", strata=(("region", "US"),))]
    outcomes = [PfsOutcome("S1", "control", RAND, True, dt.date(2024, 3, 1), "progression"),
                PfsOutcome("S2", "drug", RAND, False, RAND, None, CensoringReason.NO_ADEQUATE_ASSESSMENT)]
    return adtte_rows(outcomes, subjects, study_id="NET-3", arms=["control", "drug"], cutoff=CUTOFF)


def test_records_follow_the_adam_time_to_event_conventions():
    event, censored = _rows()
    # AVAL counts the origin as day 1 (2024-01-01 -> 2024-03-01 is 60 days later: day 61)
    assert (event["PARAMCD"], event["AVAL"], event["AVALU"], event["CNSR"]) == ("PFS", 61, "DAYS", 0)
    assert event["EVNTDESC"] == "DISEASE PROGRESSION (RECIST 1.1)" and event["CNSDTDSC"] == ""
    assert (event["USUBJID"], event["TRTP"], event["TRTPN"]) == ("NET-3-S1", "control", 1)
    assert (event["STRAT1"], event["STRAT1V"], event["DCUTDT"]) == ("region", "EU", CUTOFF)
    assert censored["CNSR"] == CENSORING_CODES[CensoringReason.NO_ADEQUATE_ASSESSMENT] > 0
    assert censored["CNSDTDSC"] == "RANDOMIZATION DATE" and censored["AVAL"] == 1
    assert censored["ADT"] == censored["STARTDT"] == RAND


def test_csv_and_xpt_are_read_back_by_other_software(tmp_path):
    csv_path, xpt_path = write_adtte(_rows(), tmp_path)
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["ADT"] == "2024-03-01" and rows[1]["CNSR"] == "2"
    frame, meta = pyreadstat.read_xport(str(xpt_path))
    assert meta.table_name == "ADTTE" and list(frame["PARAMCD"]) == ["PFS", "PFS"]
    assert list(frame["AVAL"]) == [61, 1] and list(frame["CNSR"]) == [0, 2]
    assert meta.column_names_to_labels["CNSR"] == "Censor"
    assert meta.original_variable_types["ADT"] == "DATE9."
    # pandas' own SAS reader (independent of ReadStat) sees the same dates as SAS day numbers
    sas = pd.read_sas(xpt_path, format="xport", encoding="utf-8")
    assert list(sas["AVAL"]) == [61, 1]
    epoch = dt.date(1960, 1, 1)
    assert [epoch + dt.timedelta(days=int(d)) for d in sas["ADT"]] == [dt.date(2024, 3, 1), RAND]
