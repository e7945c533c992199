"""DICOM SR of an iRECIST read: new-lesion targets and non-targets are marked (NLT/NLNT), with their state
and "increased since the previous assessment", and read back into the same records."""

from __future__ import annotations

import copy
import json
import sys
import warnings
from pathlib import Path

import pydicom
import pytest

import recist
from recist.export.dicom_sr import export_sr, index_images
from recist.io import sr_codes
from recist.io.sr_import import cases_from_sr, read_sr_files

sys.path.insert(0, str(Path(__file__).parent))
from exchange_cases import write_images  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:highdicom.*")
CASES = Path(__file__).resolve().parents[2] / "sample_data" / "cases"


def _case() -> recist.Case:
    data = json.loads((CASES / "NET-008_pseudo_progression.json").read_text())
    week14 = data["timepoints"][2]
    week14["new_lesions"].append({"id": "N2", "site": "bone", "role": "non_target"})
    week14["non_targets"]["NT1"] = {"state": "present", "increased_since_previous": True}
    data["timepoints"][3]["new_lesions"].append({"id": "N2", "site": "bone", "increased_since_previous": True})
    return recist.parse_case(copy.deepcopy(data))


def _evaluations(path: Path) -> dict[str, set[tuple[str, str]]]:
    """Per tracking identifier, the (concept, value) codes of its qualitative evaluations."""
    found: dict[str, set[tuple[str, str]]] = {}

    def walk(item, lesion=None):
        for child in item.get("ContentSequence", []):
            name = child.ConceptNameCodeSequence[0].CodeValue
            if child.ValueType == "TEXT" and name == "112039":
                lesion = child.TextValue
            if child.ValueType == "CODE" and lesion is not None:
                found.setdefault(lesion, set()).add((name, child.ConceptCodeSequence[0].CodeValue))
            lesion = walk(child, lesion) if child.ValueType == "CONTAINER" else lesion
        return lesion

    walk(pydicom.dcmread(path))
    return found


def test_new_lesion_targets_are_marked_and_read_back(tmp_path):
    case = _case()
    images = index_images(write_images(case, tmp_path / "images"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        paths = export_sr(case, images, tmp_path / "sr", reader="RADIOLOGIST 1")
    week8 = _evaluations(paths[1])
    assert (sr_codes.NEW_LESION_ROLE[0], "NLT") in week8["N1"]
    week14 = _evaluations(paths[2])
    assert (sr_codes.NEW_LESION_ROLE[0], "NLNT") in week14["N2"]
    assert (sr_codes.INCREASED[0], sr_codes.YES[0]) in week14["NT1"]
    imported = cases_from_sr(read_sr_files(paths))[0].case
    for mine, theirs in zip(case.timepoints, imported.timepoints, strict=True):
        assert theirs.new_lesions == mine.new_lesions
        assert theirs.non_targets == mine.non_targets
    assert imported.timepoints[3].new_lesions[0].state.value == "absent"
