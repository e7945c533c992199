"""De-identification of reader packages: planted PHI must not reach a package or a read file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from recist.review.deid import (
    PROFILE_CODES,
    basic_profile_actions,
    clean_descriptor,
    deidentify_dataset,
    hashed_uid,
    shift_date,
)
from recist.review.workflow import ReviewProject, SubjectTimepoint

from .conftest import CHARTER, NOW, load_factory, make_case

PHI = {
    "PatientName": "Smithson^Johanna",
    "PatientID": "MRN99887766",
    "PatientBirthDate": "19510317",
    "InstitutionName": "Saint Elsewhere Hospital",
    "InstitutionAddress": "12 Harbour Road Springfield",
    "ReferringPhysicianName": "Welby^Marcus",
    "PerformingPhysicianName": "Quincy^Jack",
    "OperatorsName": "Tech^Tanya",
    "AccessionNumber": "ACC5551234",
    "OtherPatientIDs": "OPID424242",
    "StudyID": "STUDY8675309",
    "StudyDate": "20240110",
    "SeriesDate": "20240110",
    "AcquisitionDate": "20240110",
    "ContentDate": "20240110",
    # issue #14 section 4: an MRN-like number and true dates inside descriptors
    "StudyDescription": "CT CHEST W CONTRAST Smithson arm B 4417493",
    "SeriesDescription": "AXIAL 3mm Johanna 20190611",
    "ProtocolName": "CT 4417493 20190611 01/03/2021",
    # attributes kept verbatim before issue #14, and those found when checking Table E.1-1 row by row
    "ImageComments": "ImgCommentSmith",
    "DocumentTitle": "DocTitleSmith",
    "ContentLabel": "LABELSMITH",
    "ContentDescription": "ContentDescSmith",
    "ManufacturerModelName": "ModelStJude",
    "SoftwareVersions": "SoftwareStJude",
    "DeviceSerialNumber": "SerialStJude",
    "ConvolutionKernel": "KernelSmith",
    "RetrieveURL": "https://pacs.stjude.example/wado",
    "TextValue": "TextValueSmith",
    "ClinicalTrialSiteName": "Springfield General Site 042",
    "ClinicalTrialSubjectID": "NET-SUBJ-0042",
}
PLANTED = ["Smithson", "Johanna", "MRN99887766", "19510317", "Elsewhere", "Harbour", "Welby", "Quincy", "Tanya",
           "ACC5551234", "OPID424242", "STUDY8675309", "20240110", "Springfield", "NET-SUBJ-0042", "arm B",
           "4417493", "20190611", "01/03/2021", "01 03 2021", "Smith", "SMITH", "StJude", "stjude", "STJUDE",
           "arm A", "ARMB", "1.2.3.99.4417"]
"""Everything planted in the source headers (PHI and the extra attributes of :func:`_write_subject_series`)."""


def _write_subject_series(root: Path, day: int) -> tuple[Path, list[Path]]:
    factory = load_factory()
    folder = root / f"tp{day}"
    date = (dt.date(2024, 1, 10) + dt.timedelta(days=day)).strftime("%Y%m%d")
    extra = {**PHI, **({"StudyDate": date, "SeriesDate": date, "AcquisitionDate": date, "ContentDate": date}
                       if day else {})}
    files = factory.write_series(folder, shape=(3, 8, 8), extra=extra)
    for path in files:  # what the keyword extras cannot say: private, overlay, coded and nested text
        ds = pydicom.dcmread(path)
        block = ds.private_block(0x0011, "ACME PHI", create=True)
        block.add_new(0x01, "LO", "Smithson Johanna MRN99887766")
        ds.add_new(0x60000022, "LO", "OverlaySmith")  # Overlay Description
        ds.add_new(0x60001500, "LO", "OverlayLabelSmith")  # Overlay Label
        ds.add_new(0x00187777, "UN", b"UnknownSmith")  # a public attribute pydicom does not know
        ds.file_meta.ImplementationClassUID = "1.2.3.99.4417"
        ds.file_meta.ImplementationVersionName = "STJUDE_PACS_7"
        local = Dataset()
        local.CodeValue, local.CodingSchemeDesignator, local.CodeMeaning = "ARMB", "99STJUDE", "CT arm B Smithson"
        ds.ProcedureCodeSequence = Sequence([local])
        ds.PerformedProtocolCodeSequence = Sequence([local])
        ds.RequestedProcedureCodeSequence = Sequence([local])
        drug = Dataset()
        drug.Radiopharmaceutical = "Lu-177 arm A Smithson"
        ds.RadiopharmaceuticalInformationSequence = Sequence([drug])
        context = Dataset()  # Acquisition Context Sequence: a content item (Clean Structured Content)
        context.ValueType = "TEXT"
        context.ConceptNameCodeSequence = Sequence([_code("121106", "DCM", "Comment")])
        context.TextValue = "liver Smithson 4417493 on 01/03/2021"
        ds.AcquisitionContextSequence = Sequence([context])
        ref = Dataset()  # X/Z/U*: the reference stays, with the package's UID
        ref.ReferencedSOPClassUID = ds.SOPClassUID
        ref.ReferencedSOPInstanceUID = ds.SOPInstanceUID
        ds.ReferencedImageSequence = Sequence([ref])
        ds.SOPInstanceUIDOfConcatenationSource = ds.SOPInstanceUID  # a UID attribute Table E.1-1 does not list
        ds.save_as(path)
    return folder, files


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _package(tmp_path: Path, base: Path, follow: Path) -> tuple[ReviewProject, Path]:
    """A project with subject NET-SUBJ-0042 (baseline and week 8 folders) and R1's package of it."""
    project = ReviewProject.init(tmp_path / "review", CHARTER, as_="PM1", now=NOW)
    project.add_subject("NET-SUBJ-0042", [
        SubjectTimepoint("baseline", dt.date(2024, 1, 10), (str(base),)),
        SubjectTimepoint("week 8", dt.date(2024, 3, 6), (str(follow),)),
    ], as_="PM1", now=NOW)
    out = tmp_path / "pkg_R1"
    project.package("R1", out, as_="PM1", now=NOW)
    return project, out


@pytest.fixture
def packaged(tmp_path: Path) -> tuple[ReviewProject, Path, Path]:
    base, _ = _write_subject_series(tmp_path / "src", 0)
    follow, _ = _write_subject_series(tmp_path / "src", 56)
    project, out = _package(tmp_path, base, follow)
    return project, out, tmp_path / "src"


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_no_planted_phi_reaches_the_package_or_a_read(packaged) -> None:
    project, out, src = packaged
    blob = _all_bytes(out)
    for phi in PLANTED:
        assert phi.encode() not in blob, phi
    sources = [pydicom.dcmread(p) for p in sorted(src.rglob("*.dcm"))]
    source_uids = {str(ds.data_element(k).value) for ds in sources
                   for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")}
    for uid in source_uids:  # no UID of the source, anywhere (the reference in Referenced Image Sequence too)
        assert uid.encode() not in blob, uid
    packaged_files = [pydicom.dcmread(p) for p in sorted(out.rglob("*.dcm"))]
    for ds in packaged_files:
        assert ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID == ds.SOPInstanceUID  # U*: still itself
        assert ds.AcquisitionContextSequence[0].TextValue == "liver on"  # Clean Structured Content: SAFE_WORDS
        assert "ProcedureCodeSequence" not in ds and "PerformedProtocolCodeSequence" not in ds
        local = ds.RequestedProcedureCodeSequence[0]  # a local code keeps its structure, cleaned and hashed
        assert (local.CodeMeaning, local.CodeValue[0], local.CodingSchemeDesignator[:2]) == ("CT", "L", "99")
    pseudonym = project.pseudonym("NET-SUBJ-0042")
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["subject"] for s in manifest["subjects"]] == [pseudonym]
    # a reader's read built from the package carries only the pseudonym and shifted dates
    dates = [tp["date"] for tp in manifest["subjects"][0]["timepoints"]]
    labels = [tp["label"] for tp in manifest["subjects"][0]["timepoints"]]
    case = make_case(pseudonym, [30, 20][:len(dates)], start=dt.date.fromisoformat(dates[0]), labels=labels)
    project.save_read(pseudonym, case, as_="R1", now=NOW)
    project.sign(pseudonym, as_="R1", now=NOW)
    read_bytes = _all_bytes(project.root / "subjects" / pseudonym / "reads")
    for phi in PLANTED:
        assert phi.encode() not in read_bytes, phi
    assert project.verify() == []


def test_headers_record_the_profile_and_keep_intervals_and_relations(packaged) -> None:
    project, out, src = packaged
    files = sorted(out.rglob("*.dcm"))
    assert len(files) == 6
    datasets = [pydicom.dcmread(p) for p in files]
    first = datasets[0]
    assert first.PatientIdentityRemoved == "YES"
    assert first.LongitudinalTemporalInformationModified == "MODIFIED"
    assert "Basic Application Level Confidentiality Profile" in list(first.DeidentificationMethod)
    codes = [(i.CodingSchemeDesignator, i.CodeValue) for i in first.DeidentificationMethodCodeSequence]
    assert codes == [("DCM", c) for c, _ in PROFILE_CODES] == [
        ("DCM", "113100"), ("DCM", "113107"), ("DCM", "113105"), ("DCM", "113104")]
    assert all(not any(e.tag.is_private for e in ds) for ds in datasets)
    assert "PatientBirthDate" not in first or first.PatientBirthDate == ""
    # one shift per subject: the 56-day interval survives
    by_date = sorted({ds.StudyDate for ds in datasets})
    assert len(by_date) == 2
    d0, d1 = (dt.datetime.strptime(d, "%Y%m%d").date() for d in by_date)
    assert (d1 - d0).days == 56
    assert (d0 - dt.date(2024, 1, 10)).days == project.date_shift_days("NET-SUBJ-0042")
    # UIDs replaced consistently: each series keeps one study and series UID, SOP UID matches file meta
    originals = {str(pydicom.dcmread(p).SeriesInstanceUID) for p in src.rglob("*.dcm")}
    series = {str(ds.SeriesInstanceUID) for ds in datasets}
    assert len(series) == 2 and not series & originals
    assert all(s.startswith("2.25.") for s in series)
    assert all(ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID for ds in datasets)
    frames = {ds.SeriesInstanceUID: ds.FrameOfReferenceUID for ds in datasets}
    assert len(set(frames.values())) == 2
    # descriptors cleaned, geometry kept
    assert first.StudyDescription == "CT CHEST W CONTRAST"
    assert first.ImageOrientationPatient == [1, 0, 0, 0, 1, 0]


def test_reader_may_package_only_their_own_material(packaged, tmp_path: Path) -> None:
    from recist.errors import BlindingError

    project, _, _ = packaged
    with pytest.raises(BlindingError):
        project.package("R2", tmp_path / "steal", as_="R1", now=NOW)
    project.package("R2", tmp_path / "own", as_="R2", now=NOW)


def test_table_and_helpers() -> None:
    exact, masked = basic_profile_actions()
    assert exact[(0x0010, 0x0010)] == "Z"  # Patient's Name
    assert exact[(0x0020, 0x000D)] == "U"  # Study Instance UID
    assert exact[(0x0008, 0x0080)].startswith("X")  # Institution Name
    assert any(g == 0x5000 for g, *_ in masked)  # curve data groups
    assert shift_date("20240110", -10, "DA") == "20231231"
    assert shift_date("20240110083000.5+0100", 1, "DT") == "20240111083000.5+0100"
    assert shift_date("garbage", 3, "DA") == ""
    assert clean_descriptor("CT CHEST W CONTRAST SMITH JOHN 3mm") == "CT CHEST W CONTRAST 3mm"
    assert hashed_uid("1.2.3", b"s") == hashed_uid("1.2.3", b"s") != hashed_uid("1.2.3", b"t")
    assert len(hashed_uid("1.2.3.4.5.6.7.8.9", b"s")) <= 64


@pytest.mark.parametrize(("text", "expected"), [
    # issue #14 section 4, as planted in source headers: an MRN-like number, a true date, a slashed date
    ("CT CHEST ABDOMEN 4417493", "CT CHEST ABDOMEN"),
    ("AXIAL 3mm 20190611", "AXIAL 3mm"),
    ("CT 4417493 20190611", "CT"),
    ("CT 01/03/2021 staging", "CT staging"),
    # other date forms (PS3.15 E.3.5: descriptors are cleaned of identifying information, dates included)
    ("PET 2019-06-11 WB", "PET WB"),
    ("PET 11.06.2019 WB", "PET WB"),
    ("PET 11-Jun-2019 WB", "PET WB"),
    ("PET June 11, 2019 WB", "PET WB"),
    ("CT abdomen 2019", "CT abdomen"),
    ("MR T1 post 12345", "MR T1 post"),
    # what a reader needs stays: slice thickness, kernel, dose numbers of fewer than 5 digits, not years
    ("CT 1.25mm B30f 120kV 2 phase", "CT 1.25mm B30f 120kV 2 phase"),
])
def test_clean_descriptor_removes_dates_and_identifier_like_numbers(text: str, expected: str) -> None:
    assert clean_descriptor(text) == expected


def test_adjudicator_package_has_the_same_images_and_no_reads(packaged, tmp_path: Path) -> None:
    from recist.errors import BlindingError

    project, out, _ = packaged
    adj = project.package("ADJ1", tmp_path / "adj", as_="ADJ1", now=NOW)
    reader = json.loads((out / "manifest.json").read_text())
    assert adj["reader"] == "ADJ1"
    assert [s["subject"] for s in adj["subjects"]] == [s["subject"] for s in reader["subjects"]]
    assert [tp["series"] for s in adj["subjects"] for tp in s["timepoints"]] == [
        tp["series"] for s in reader["subjects"] for tp in s["timepoints"]]
    assert not list((tmp_path / "adj").rglob("*read*.json"))
    with pytest.raises(BlindingError):
        project.package("R1", tmp_path / "not-mine", as_="ADJ1", now=NOW)


def test_free_text_outside_the_table_and_listed_attributes_do_not_survive() -> None:
    """Issue #14 §4: attributes kept verbatim before (overlay text, Text Value, local code meanings, the
    radiopharmaceutical, document title, content label/description, device model and software versions,
    the file meta implementation) and free text the table does not list."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence

    from recist.review.deid import deidentify_dataset

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.ImplementationClassUID = "1.2.3.4417493"
    ds.file_meta.ImplementationVersionName = "STJUDE_PACS_7"
    ds.add_new(0x60000022, "LO", "Smithson overlay")
    ds.add_new(0x60001500, "LO", "Smithson label")
    ds.TextValue = "Smithson text"
    ds.DocumentTitle = "Smithson report"
    ds.ContentLabel = "SMITHSON"
    ds.ContentDescription = "Smithson contours"
    ds.ManufacturerModelName = "Scanner St Jude 3"
    ds.SoftwareVersions = "StJude build 4417493"
    ds.ReconstructionMethod = "Smithson recon"  # LO, not in Table E.1-1
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "ARMB", "99LOCAL", "CT arm B Smithson"
    ds.RequestedProcedureCodeSequence = Sequence([code])
    pet = Dataset()
    pet.Radiopharmaceutical = "DOTATATE Lu-177 arm A Smithson"
    ds.RadiopharmaceuticalInformationSequence = Sequence([pet])
    deidentify_dataset(ds, secret=b"k" * 32, shift_days=-400, pseudonym="S-00000001")
    text = str(ds) + str(ds.file_meta)
    for planted in ("Smithson", "SMITHSON", "St Jude", "StJude", "4417493", "STJUDE", "arm A", "arm B", "ARMB"):
        assert planted not in text, planted
    # not in Table E.1-1: removed unless the charter keeps it (then cleaned)
    assert "Radiopharmaceutical" not in ds.RadiopharmaceuticalInformationSequence[0]
    assert ds.RequestedProcedureCodeSequence[0].CodeMeaning == "CT"
    assert "ReconstructionMethod" not in ds
    kept = Dataset()
    kept.ReconstructionMethod = "iterative AC Smithson"
    kept.ConvolutionKernel = "B30f Smithson"
    pet = Dataset()
    pet.Radiopharmaceutical = "DOTATATE Lu-177 arm A Smithson"
    kept.RadiopharmaceuticalInformationSequence = Sequence([pet])
    deidentify_dataset(kept, secret=b"k" * 32, shift_days=-400, pseudonym="S-00000001",  # the charter keeps
                       keep_attributes=["ReconstructionMethod", "ConvolutionKernel", "Radiopharmaceutical"])
    assert kept.ReconstructionMethod == "iterative AC"  # kept by the charter: cleaned, not removed
    assert kept.ConvolutionKernel == "B30f"
    assert kept.RadiopharmaceuticalInformationSequence[0].Radiopharmaceutical == "DOTATATE"


def _site_sr(ct_files: list[Path]) -> pydicom.Dataset:
    """A site's measurement SR (made with highdicom) with identifying text planted in nested content items."""
    import highdicom as hd

    def code(value: str, scheme: str, meaning: str) -> hd.sr.CodedConcept:
        return hd.sr.CodedConcept(value, scheme, meaning)

    contains = hd.sr.RelationshipTypeValues.CONTAINS
    group = hd.sr.ContainerContentItem(code("125007", "DCM", "Measurement Group"), relationship_type=contains)
    group.ContentSequence = hd.sr.ContentSequence([
        hd.sr.TextContentItem(code("112039", "DCM", "Tracking Identifier"), "Smithson liver 4417493",
                              relationship_type=hd.sr.RelationshipTypeValues.HAS_OBS_CONTEXT),
        hd.sr.NumContentItem(code("103339001", "SCT", "Long Axis"), 23.5, code("mm", "UCUM", "millimeter"),
                             relationship_type=contains),
        hd.sr.TextContentItem(code("121106", "DCM", "Comment"), "liver seen 01/03/2021 by Dr Quincy MRN 4417493",
                              relationship_type=contains),
        hd.sr.DateContentItem(code("111060", "DCM", "Study Date"), "20190611", relationship_type=contains),
        hd.sr.DateTimeContentItem(code("111526", "DCM", "DateTime Started"), "20190611101500",
                                  relationship_type=contains),
        hd.sr.PnameContentItem(code("121008", "DCM", "Person Observer Name"), "Welby^Marcus",
                               relationship_type=contains),
    ])
    measurements = hd.sr.ContainerContentItem(code("126010", "DCM", "Imaging Measurements"),
                                              relationship_type=contains)
    measurements.ContentSequence = hd.sr.ContentSequence([group])
    root = hd.sr.ContainerContentItem(code("126000", "DCM", "Imaging Measurement Report"))
    observer = hd.sr.ObserverContext(
        observer_type=code("121006", "DCM", "Person"),
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
            name="Smithson^Johanna", login_name="jsmithson4417493", organization_name="Saint Elsewhere Hospital"))
    root.ContentSequence = hd.sr.ContentSequence(
        [*hd.sr.ObservationContext(observer_person_context=observer), measurements])
    evidence = [pydicom.dcmread(p) for p in ct_files]
    for ds in evidence:
        ds.PatientSex, ds.StudyTime = "F", "101500"  # highdicom copies the patient and study modules
    return hd.sr.ComprehensiveSR(
        evidence=evidence, content=root, series_instance_uid=hd.UID(), series_number=99,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="Elsewhere Imaging",
        institution_name="Saint Elsewhere Hospital", verifying_observer_name="Quincy^Jack",
        verifying_organization="Saint Elsewhere Hospital", is_complete=True, is_verified=True,
    )


def _content_items(seq) -> list:
    items = []
    for item in seq:
        items.append(item)
        items.extend(_content_items(item.get("ContentSequence", [])))
    return items


def test_structured_content_is_cleaned_not_lost(tmp_path: Path) -> None:
    """Clean Structured Content (PS3.15 E.3.7): an SR keeps its tree and measurements; names, dates and
    identifiers planted in nested content items reach no byte of it; dates are shifted with the subject's
    shift and references point at the de-identified images' UIDs."""
    base, ct_files = _write_subject_series(tmp_path / "src", 0)
    secret, shift = b"s" * 32, -400
    sr = deidentify_dataset(_site_sr(ct_files), secret=secret, shift_days=shift, pseudonym="P-0001")
    out = tmp_path / "sr.dcm"
    sr.save_as(out, enforce_file_format=True)
    blob = out.read_bytes()
    for phi in [*PLANTED, "Welby", "Quincy", "jsmithson", "4417493", "01/03/2021", "20190611", "Dr "]:
        assert phi.encode() not in blob, phi
    sr = pydicom.dcmread(out)
    items = _content_items(sr.ContentSequence)
    by_meaning = {str(i.ConceptNameCodeSequence[0].CodeMeaning): i for i in items}
    assert float(by_meaning["Long Axis"].MeasuredValueSequence[0].NumericValue) == 23.5
    assert by_meaning["Long Axis"].MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue == "mm"
    assert by_meaning["Comment"].TextValue == "liver"
    assert by_meaning["Study Date"].Date == (dt.date(2019, 6, 11) + dt.timedelta(days=shift)).strftime("%Y%m%d")
    assert by_meaning["DateTime Started"].DateTime == (
        dt.date(2019, 6, 11) + dt.timedelta(days=shift)).strftime("%Y%m%d") + "101500"
    assert "Welby" not in str(by_meaning["Person Observer Name"].PersonName)
    images = {hashed_uid(str(pydicom.dcmread(p).SOPInstanceUID), secret) for p in ct_files}
    referenced = {str(ref.ReferencedSOPInstanceUID)
                  for study in sr.CurrentRequestedProcedureEvidenceSequence
                  for series in study.ReferencedSeriesSequence for ref in series.ReferencedSOPSequence}
    assert referenced and referenced <= images
    codes = [i.CodeValue for i in sr.DeidentificationMethodCodeSequence]
    assert "113104" in codes and "Clean Structured Content" in list(sr.DeidentificationMethod)


def _site_objects(folder: Path, ct_files: list[Path]) -> None:
    """A site's reading of its images beside them: a measurement SR, a key object selection, a presentation
    state (pydicom: annotations) and a segmentation-like object, all made in the test."""
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    _site_sr(ct_files).save_as(folder / "site_sr.dcm", enforce_file_format=True)
    ct = pydicom.dcmread(ct_files[0])
    for modality, sop_class, pixels in (("KO", "1.2.840.10008.5.1.4.1.1.88.59", False),
                                        ("PR", "1.2.840.10008.5.1.4.1.1.11.1", False),
                                        ("SEG", "1.2.840.10008.5.1.4.1.1.66.4", True)):
        ds = Dataset()
        ds.file_meta = pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = sop_class
        ds.SOPClassUID, ds.SOPInstanceUID = sop_class, generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.Modality, ds.PatientName, ds.PatientID = modality, ct.PatientName, ct.PatientID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = ct.StudyInstanceUID, generate_uid()
        ds.ContentLabel = "SITE READ"
        if pixels:
            ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 2, 2, 8, 8, 7
            ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelRepresentation = 1, "MONOCHROME2", 0
            ds.PixelData = bytes(4)
        ds.save_as(folder / f"site_{modality.lower()}.dcm", enforce_file_format=True)


def test_a_sites_reading_objects_are_not_packaged(tmp_path: Path, caplog) -> None:
    """Readers are blinded to the site's read (FDA imaging endpoint standards 2018): a site's SR, key
    images, presentation state and segmentation beside the images are left out of the reader package,
    with a warning naming the subject, the timepoint and the kinds left out; the images are packaged."""
    base, ct_files = _write_subject_series(tmp_path / "src", 0)
    _site_objects(base, ct_files)
    follow, _ = _write_subject_series(tmp_path / "src", 56)
    with caplog.at_level("WARNING", logger="recist.review.packaging"):
        _project, out = _package(tmp_path, base, follow)
    modalities = {str(pydicom.dcmread(p).Modality) for p in out.rglob("*.dcm")}
    assert modalities == {"CT"}
    packaged = sum(1 for p in out.rglob("*.dcm"))
    assert packaged == 2 * len(ct_files)
    assert b"SITE READ" not in _all_bytes(out)
    line = next(r.getMessage() for r in caplog.records if "not packaged" in r.getMessage())
    assert "timepoint 'timepoint 1'" in line and "4 object(s)" in line
    for kind in ("modality SR", "modality KO", "modality PR", "modality SEG"):
        assert kind in line
