"""Cases for the exchange tests (SDTM, DICOM SR): a hand-written one and a hypothesis strategy of valid cases.

The strategy draws what the exchange formats carry: target and non-target lesions (nodal or not, the site
naming the node for nodes), measurements, every target and non-target state except split/merged (tested
by hand), new lesions (equivocal or not, measured or not) and scan dates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

import recist

NON_NODAL_SITES = ("liver", "lung", "bone", "peritoneum", "adrenal gland", "right kidney")
NODAL_SITES = ("lymph node", "mesenteric lymph node", "left axillary lymph node")


def example_case_dict() -> dict[str, Any]:
    """A small case with every construct of the exchange mapping, split and merged included."""
    return {
        "format": "recist.case/1",
        "subject": "EX-001",
        "lesions": [
            {"id": "T1", "role": "target", "site": "liver"},
            {"id": "T2", "role": "target", "site": "mesenteric lymph node", "nodal": True},
            {"id": "T3", "role": "target", "site": "lung"},
            {"id": "T4", "role": "target", "site": "lung", "method": "MRI"},
            {"id": "NT1", "role": "non_target", "site": "peritoneum"},
            {"id": "NT2", "role": "non_target", "site": "lymph node", "nodal": True},
        ],
        "timepoints": [
            {
                "label": "baseline",
                "date": "2024-01-10",
                "targets": {
                    "T1": {"long_axis_mm": 32.5},
                    "T2": {"short_axis_mm": 18.0, "long_axis_mm": 25.0},
                    "T3": {"long_axis_mm": 21.0},
                    "T4": {"long_axis_mm": 15.0},
                },
                "non_targets": {"NT1": "present", "NT2": {"state": "present", "short_axis_mm": 12.0}},
            },
            {
                "label": "week 8",
                "date": "2024-03-06",
                "targets": {
                    "T1": {"long_axis_mm": 20.25},
                    "T2": {"state": "too_small"},
                    "T3": {"state": "split", "fragments_mm": [8.0, 6.5]},
                    "T4": {"state": "not_evaluated"},
                },
                "non_targets": {"NT1": "absent", "NT2": "not_evaluated"},
                "new_lesions": [{"id": "N1", "site": "bone", "equivocal": True}],
            },
            {
                "label": "week 16",
                "date": "2024-05-02",
                "targets": {
                    "T1": {"state": "disappeared"},
                    "T2": {"short_axis_mm": 7.0},
                    "T3": {"long_axis_mm": 30.0},
                    "T4": {"state": "merged", "merged_into": "T3"},
                },
                "non_targets": {"NT1": "unequivocal_progression", "NT2": "present"},
                "new_lesions": [
                    {"id": "N1", "site": "bone", "equivocal": False, "long_axis_mm": 12.0},
                    {"id": "N2", "site": "lymph node", "nodal": True, "short_axis_mm": 16.0},
                ],
            },
        ],
    }


_mm = st.floats(min_value=0.0, max_value=300.0, allow_nan=False, allow_infinity=False).map(
    lambda v: round(v, 3)
)


@st.composite
def cases(draw: st.DrawFn) -> recist.Case:
    """A random valid case of 1-3 targets, 0-2 non-targets and 2-4 dated timepoints."""
    lesions = []
    for i in range(draw(st.integers(1, 3))):
        nodal = draw(st.booleans())
        site = draw(st.sampled_from(NODAL_SITES if nodal else NON_NODAL_SITES))
        lesions.append({"id": f"T{i + 1}", "role": "target", "site": site, "nodal": nodal})
    for i in range(draw(st.integers(0, 2))):
        nodal = draw(st.booleans())
        site = draw(st.sampled_from(NODAL_SITES if nodal else NON_NODAL_SITES))
        lesions.append({"id": f"NT{i + 1}", "role": "non_target", "site": site, "nodal": nodal})
    new_nodal = draw(st.booleans())
    new_site = draw(st.sampled_from(NODAL_SITES if new_nodal else NON_NODAL_SITES))
    date = dt.date(2024, 1, 10)
    timepoints = []
    for k in range(draw(st.integers(2, 4))):
        targets: dict[str, Any] = {}
        non_targets: dict[str, Any] = {}
        for lesion in lesions:
            if lesion["role"] == "target":
                key = "short_axis_mm" if lesion["nodal"] else "long_axis_mm"
                if k == 0:
                    low = 15.0 if lesion["nodal"] else 10.0
                    targets[lesion["id"]] = {key: draw(st.floats(low, 200.0).map(lambda v: round(v, 2)))}
                else:
                    kind = draw(
                        st.sampled_from(["measured", "measured", "too_small", "disappeared", "not_evaluated"])
                    )
                    targets[lesion["id"]] = {key: draw(_mm)} if kind == "measured" else {"state": kind}
            else:
                states = (
                    ["present"]
                    if k == 0
                    else ["present", "absent", "unequivocal_progression", "not_evaluated"]
                )
                entry: dict[str, Any] = {"state": draw(st.sampled_from(states))}
                if lesion["nodal"] and draw(st.booleans()):
                    entry["short_axis_mm"] = draw(_mm)
                non_targets[lesion["id"]] = entry
        new_lesions = []
        if k > 0 and draw(st.booleans()):
            new: dict[str, Any] = {
                "id": "N1",
                "site": new_site,
                "nodal": new_nodal,
                "equivocal": draw(st.booleans()),
            }
            if draw(st.booleans()):
                new["short_axis_mm" if new_nodal else "long_axis_mm"] = draw(_mm)
            new_lesions.append(new)
        timepoints.append(
            {
                "label": "baseline" if k == 0 else f"week {8 * k}",
                "date": date.isoformat(),
                "targets": targets,
                "non_targets": non_targets,
                "new_lesions": new_lesions,
            }
        )
        date += dt.timedelta(days=draw(st.integers(21, 90)))
    return recist.parse_case(
        {
            "format": "recist.case/1",
            "subject": draw(st.sampled_from(["S-001", "NET-17"])),
            "lesions": lesions,
            "timepoints": timepoints,
        }
    )


def without_recorded(case: recist.Case) -> dict[str, Any]:
    """The case as a dict with every timepoint's ``recorded`` block removed."""
    data = case.to_dict()
    for timepoint in data["timepoints"]:
        timepoint.pop("recorded", None)
    return data


def write_images(case: recist.Case, folder: Path, shape: tuple[int, int, int] = (2, 8, 8)) -> list[Path]:
    """One small CT series per timepoint of ``case``, dated like the timepoint; returns the series folders."""
    from dicom_factory import write_series

    folders = []
    for k, timepoint in enumerate(case.timepoints):
        series = folder / f"tp{k}"
        date = timepoint.date.strftime("%Y%m%d")
        write_series(series, shape=shape, extra={"StudyDate": date, "SeriesDate": date, "PatientID": case.subject})
        folders.append(series)
    return folders
