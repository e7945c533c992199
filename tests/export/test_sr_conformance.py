"""DICOM SR conformance of the sample patient's export (``recist export sr``): TID 1500 as published.

Checked from the standard, not from the writer:

- PS3.3 A.35.13 (Comprehensive 3D SR IOD), validated by dicom3tools ``dciodvfy``: no error, and no
  warning but the one expected for recist's private coding scheme (PS3.16 section 8: a designator
  beginning with "99" is private; dciodvfy reports every use as an unrecognized defined term).
- dcmtk ``dsrdump`` reads every document without a warning.
- PS3.16 TID 1500 (Measurement Report), read back with highdicom: Language, Observer, Procedure
  Reported, Image Library (TID 1600) and Imaging Measurements holding one TID 1501 Measurement Group per
  lesion with Tracking Identifier and Tracking Unique Identifier (TID 4108), Finding, Finding Site,
  Measurement Method RECIST 1.1 (DCM 126081, CID 6147), Time Point Context (TID 1502) and Long axis /
  Short axis (SCT 103339001 / 103340004) in UCUM mm equal to the case file's values.
- PS3.3 C.17.2 / C.12.1.1.2: every coding scheme designator outside PS3.16 Table 8-1 is declared in the
  Coding Scheme Identification Sequence.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import UID

import recist
from recist.cli import main
from recist.io import sr_codes

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:highdicom.*")

REPO = Path(__file__).resolve().parents[2]
PATIENT = REPO / "sample_data" / "patient"
CASE = PATIENT / "case.json"
# PS3.16 Table 8-1 designators recist may use; anything else must be declared in the SR.
STANDARD_SCHEMES = {"DCM", "SCT", "UCUM", "LN", "UMLS", "RFC5646", "NCIt", "SRT"}
EXPECTED_WARNING = (
    "Warning - Unrecognized defined term <99RECIST> for value 1 of attribute <Coding Scheme Designator>"
)
LONG_AXIS, SHORT_AXIS = ("103339001", "SCT"), ("103340004", "SCT")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    if not CASE.is_file():
        pytest.skip(f"sample patient absent at {PATIENT}")
    out = tmp_path_factory.mktemp("sr")
    series = sorted(str(p) for p in PATIENT.glob("*/CT"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main(["export", "sr", str(CASE), "--images", *series, "--out", str(out)])
    assert status == 0
    paths = sorted(out.glob("*.dcm"))
    return recist.read_case(CASE), paths


def _code(item, attribute="ConceptNameCodeSequence"):
    code = item[attribute][0] if attribute in item else None
    return None if code is None else (code.CodeValue, code.CodingSchemeDesignator)


def _items(dataset):
    for item in dataset.get("ContentSequence", []):
        yield item
        yield from _items(item)


def _designators(dataset):
    """Every coding scheme designator used anywhere in a dataset (codes in any sequence)."""
    found = set()
    for element in dataset.iterall():
        if element.tag == 0x00080102:
            found.add(element.value)
    return found


def test_one_document_per_timepoint(exported):
    case, paths = exported
    assert len(paths) == len(case.timepoints) == 3


def test_dciodvfy_reports_no_error_and_only_the_private_scheme_warning(exported):
    if shutil.which("dciodvfy") is None:
        pytest.skip("dciodvfy (dicom3tools) not installed")
    _, paths = exported
    for path in paths:
        run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
        lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
        assert lines[0] == "Comprehensive3DSR", lines[:3]
        assert not [line for line in lines if line.startswith("Error")], lines
        other = [line for line in lines[1:] if line != EXPECTED_WARNING]
        assert not other, f"{path.name}: unexpected dciodvfy output {other}"


def test_dsrdump_reads_every_document_cleanly(exported):
    if shutil.which("dsrdump") is None:
        pytest.skip("dsrdump (dcmtk) not installed")
    _, paths = exported
    for path in paths:
        run = subprocess.run(["dsrdump", "-Ee", str(path)], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and run.stderr == "", (path.name, run.stderr)
        assert run.stdout.startswith("Comprehensive 3D SR Document")


def test_highdicom_parses_a_tid_1500_measurement_report(exported):
    import highdicom as hd

    _, paths = exported
    for path in paths:
        ds = pydicom.dcmread(path)
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR Storage
        template = ds.ContentTemplateSequence[0]
        assert (template.MappingResource, template.TemplateIdentifier) == ("DCMR", "1500")
        assert _code(ds) == ("126000", "DCM")  # Imaging Measurement Report
        report = hd.sr.Comprehensive3DSR.from_dataset(ds).content
        assert isinstance(report, hd.sr.MeasurementReport)
        children = {_code(item): item for item in ds.ContentSequence}
        assert ("121049", "DCM") in children  # Language of Content Item and Descendants
        assert ("121005", "DCM") in children  # Observer Type
        assert _code(children[("121058", "DCM")], "ConceptCodeSequence")[1] == "LN"  # Procedure reported
        assert ("111028", "DCM") in children  # Image Library
        assert ("126010", "DCM") in children  # Imaging Measurements
        assert report.get_image_measurement_groups()


def _groups(path):
    import highdicom as hd

    report = hd.sr.Comprehensive3DSR.from_dataset(pydicom.dcmread(path)).content
    return report.get_image_measurement_groups()


def test_measurement_groups_follow_tid_1501(exported):
    case, paths = exported
    roles = {lesion.id for lesion in case.lesions}
    for path, tp in zip(paths, case.timepoints):
        groups = _groups(path)
        expected = set(tp.targets) | set(tp.non_targets) | {n.id for n in tp.new_lesions}
        assert {g.tracking_identifier for g in groups} == expected
        for g in groups:
            assert UID(g.tracking_uid).is_valid
            assert g.tracking_uid == sr_codes.tracking_uid(case.subject, g.tracking_identifier)
            assert (g.finding_type.value, g.finding_type.scheme_designator) == ("52988006", "SCT")
            assert len(g.finding_sites) == 1
            assert (g.method.value, g.method.scheme_designator) == ("126081", "DCM")  # RECIST 1.1, CID 6147
            names = {_code(item) for item in g[0].ContentSequence}
            # TID 1502 Time Point Context: the Time Point; no Time Point Order NUM (OHIF/dcmjs read the first
            # NUM of a group as its measurement; the order is the Instance Number and the study date)
            assert ("C2348792", "UMLS") in names and ("126073", "DCM") not in names
            assert g.tracking_identifier in roles or g.tracking_identifier.startswith("N")


def test_axes_are_long_and_short_axis_in_ucum_mm_with_the_case_values(exported):
    case, paths = exported
    for path, tp in zip(paths, case.timepoints):
        entries = {**tp.targets, **tp.non_targets, **{n.id: n for n in tp.new_lesions}}
        for g in _groups(path):
            found = {}
            for m in g.get_measurements():
                name = (m.name.value, m.name.scheme_designator)
                if name == ("126073", "DCM"):
                    continue  # the Time Point Order NUM of TID 1502 (observation context)
                assert name in (LONG_AXIS, SHORT_AXIS), name
                assert (m.unit.value, m.unit.scheme_designator) == ("mm", "UCUM")
                found[name] = m.value
            entry = entries[g.tracking_identifier]
            want = {LONG_AXIS: getattr(entry, "long_axis_mm", None), SHORT_AXIS: entry.short_axis_mm}
            assert found == {k: v for k, v in want.items() if v is not None}, (
                tp.label,
                g.tracking_identifier,
            )


def test_tracking_uids_identify_a_lesion_across_timepoints(exported):
    _, paths = exported
    by_id: dict[str, set[str]] = {}
    for path in paths:
        for g in _groups(path):
            by_id.setdefault(g.tracking_identifier, set()).add(g.tracking_uid)
    assert all(len(uids) == 1 for uids in by_id.values())
    assert len({next(iter(uids)) for uids in by_id.values()}) == len(by_id)


def test_every_private_coding_scheme_is_declared(exported):
    _, paths = exported
    for path in paths:
        ds = pydicom.dcmread(path)
        declared = {
            item.CodingSchemeDesignator: item for item in ds.get("CodingSchemeIdentificationSequence", [])
        }
        for designator in _designators(ds) - STANDARD_SCHEMES:
            assert designator.startswith("99"), f"{designator} is neither standard nor private (PS3.16 8.2)"
            assert designator in declared and declared[designator].get("CodingSchemeName")
        assert sr_codes.LOCAL_SCHEME in declared


def test_standard_codes_are_used_where_dicom_has_them(exported):
    """Baseline categories are CID 6145 codes, non-target presence SNOMED CT, the method CID 6147."""
    _, paths = exported
    values = set()
    for path in paths:
        for item in _items(pydicom.dcmread(path)):
            if item.ValueType == "CODE":
                values.add(_code(item, "ConceptCodeSequence"))
    assert ("112074", "DCM") in values and ("112075", "DCM") in values
    assert ("52101004", "SCT") in values  # non-target "Present"
    assert ("126081", "DCM") in values  # RECIST 1.1 as Measurement Method


def test_clinical_trial_subject_and_image_library(exported):
    case, paths = exported
    for path in paths:
        ds = pydicom.dcmread(path)
        # patient as the images have it: no Clinical Trial Subject module they lack; the trial subject is
        # their Patient ID, or else the Subject ID (DCM 121030) of the observation context (TID 1006/1007)
        assert "ClinicalTrialSubjectID" not in ds
        context = {_code(item): item for item in ds.ContentSequence if item.RelationshipType == "HAS OBS CONTEXT"}
        if ds.PatientID == case.subject:
            assert ("121030", "DCM") not in context
        else:
            assert context[("121030", "DCM")].TextValue == case.subject
            assert context[("121024", "DCM")].ConceptCodeSequence[0].CodeValue == "121025"  # Subject Class Patient
        library = {
            item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
            for item in _items(ds)
            if item.ValueType == "IMAGE" and _code(item) == ("260753009", "SCT")  # Source (TID 1601)
        }
        referenced = {
            item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
            for item in _items(ds)
            if item.ValueType == "IMAGE" and _code(item) == ("121112", "DCM")  # Source of Measurement
        }
        assert referenced and referenced <= library, "a measured image is missing from the image library"
