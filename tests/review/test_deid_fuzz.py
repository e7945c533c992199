"""Property test of de-identification (issue #14 section 4): identifying text or a true date planted in any
free-text or date attribute of the DICOM dictionary, at any depth of any sequence, reaches no byte of the
de-identified file, and odd values never crash it."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import dcmwrite
from pydicom.datadict import DicomDictionary
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from recist.review.deid import STRUCTURAL_TEXT, deidentify_dataset

TEXT_VRS = ("LO", "SH", "LT", "ST", "UT", "UC", "PN", "AE", "UR")
_PUBLIC = [(tag, entry) for tag, entry in DicomDictionary.items()
           if entry[3] == "" and entry[4] and tag >> 16 not in (0x0000, 0x0002, 0x0004, 0xFFFE)]
TEXT_KEYWORDS = sorted(entry[4] for tag, entry in _PUBLIC
                       if entry[0] in TEXT_VRS and (tag >> 16, tag & 0xFFFF) not in STRUCTURAL_TEXT)
DATE_KEYWORDS = sorted(entry[4] for _tag, entry in _PUBLIC if entry[0] in ("DA", "DT"))
SEQUENCE_KEYWORDS = sorted(entry[4] for _tag, entry in _PUBLIC if entry[0] == "SQ")
VR_OF = {entry[4]: entry[0] for _tag, entry in _PUBLIC}


def _value(vr: str, token: str) -> str:
    if vr == "PN":
        return f"{token}^Jo"
    if vr == "AE":
        return token[:16]
    if vr == "UR":
        return f"http://{token.lower()}.example/x"
    return f"seen by {token} on 01/03/2021"


def _file_bytes(ds: Dataset) -> bytes:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=False)
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns of over-long planted values: on purpose
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text_keyword=st.sampled_from(TEXT_KEYWORDS),
    date_keyword=st.sampled_from(DATE_KEYWORDS),
    path=st.lists(st.sampled_from(SEQUENCE_KEYWORDS), max_size=3),
    digits=st.integers(min_value=10_000, max_value=99_999_999),
    shift=st.integers(min_value=-4014, max_value=-365),
)
def test_planted_text_and_dates_never_survive(text_keyword: str, date_keyword: str, path: list[str],
                                               digits: int, shift: int) -> None:
    token = f"Qzxv{digits}"
    date = f"{1990 + digits % 30}{1 + digits % 12:02d}{1 + digits % 28:02d}"
    leaf = Dataset()
    setattr(leaf, text_keyword, _value(VR_OF[text_keyword], token))
    setattr(leaf, date_keyword, date + ("101500" if VR_OF[date_keyword] == "DT" else ""))
    root = leaf
    for keyword in reversed(path):  # nest the planted item inside the chosen sequences
        parent = Dataset()
        setattr(parent, keyword, Sequence([root]))
        root = parent
    deidentify_dataset(root, secret=b"f" * 32, shift_days=shift, pseudonym="S-00000001")
    blob = _file_bytes(root)
    assert token.encode() not in blob and str(digits).encode() not in blob and b"Qzxv" not in blob
    assert date.encode() not in blob
    assert b"01/03/2021" not in blob


@pytest.mark.filterwarnings("ignore::UserWarning")  # invalid dates and control characters: on purpose
@settings(max_examples=30, deadline=None)
@given(
    keyword=st.sampled_from(TEXT_KEYWORDS + DATE_KEYWORDS + ["StudyDescription", "TextValue"]),
    raw=st.text(max_size=40),
)
def test_odd_values_never_crash(keyword: str, raw: str) -> None:
    """A malformed date or free text (control characters, an unparseable date) is handled, never raised."""
    ds = Dataset()
    setattr(ds, keyword, raw)
    deidentify_dataset(ds, secret=b"f" * 32, shift_days=-400, pseudonym="S-00000001")
    _file_bytes(ds)
