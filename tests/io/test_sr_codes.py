"""Site codes of the SR encoding: SNOMED CT body structures as DICOM PS3.16 lists them (issue 16 §2).

The table is checked against pydicom's copy of the DICOM code dictionary (generated from PS3.16), an
outside source, not against what the code prints.
"""

from __future__ import annotations

import pytest
from pydicom.sr._concepts_dict import concepts

from recist.io import sr_codes

_DICOM_SCT: dict[str, set[str]] = {}
for _entries in concepts["SCT"].values():
    for _value, (_meaning, _) in _entries.items():
        _DICOM_SCT.setdefault(_value, set()).add(_meaning.lower())
_DICOM_SCT["15425007"].add("peritoneum")  # the dictionary spells this one "Peritioneum" (a typo in it)


@pytest.mark.parametrize(("site", "code"), sorted(sr_codes.SITE_CODES.items()))
def test_every_table_site_is_a_dicom_snomed_ct_concept_of_that_name(site, code):
    value, scheme, meaning = code
    assert scheme == "SCT"
    assert value in _DICOM_SCT, f"{site}: SCT {value} is not in DICOM's dictionary"
    assert meaning.lower() in _DICOM_SCT[value], f"{site}: DICOM names SCT {value} {sorted(_DICOM_SCT[value])}"


@pytest.mark.parametrize(
    ("site", "value"),
    [
        ("retroperitoneal lymph node", "91394001"),
        ("mesenteric lymph node", "279795009"),
        ("paratracheal lymph node", "65690001"),  # found in DICOM's dictionary by name
        ("Subcarinal lymph node", "28330007"),
    ],
)
def test_sites_missing_from_the_old_table_get_snomed_ct_codes(site, value):
    code = sr_codes.site_code(site)
    assert code[:2] == (value, "SCT")


def test_sites_unknown_to_snomed_ct_stay_local_and_keep_their_text():
    code = sr_codes.site_code("mesentery near the root")
    assert code[1] == sr_codes.LOCAL_SCHEME and code[2] == "mesentery near the root"
    assert sr_codes.site_code("left axillary lymph node")[1] == sr_codes.LOCAL_SCHEME
