"""DICOM SR import: round trips (case -> SR -> case -> SR), other tools' TID 1500, malformed documents."""

from __future__ import annotations

import copy
import random
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from exchange_cases import cases, example_case_dict, write_images
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recist
from recist.errors import ExchangeError
from recist.export.dicom_sr import export_sr, index_images
from recist.io import sr_codes
from recist.io.sr_import import cases_from_sr, read_sr_files

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:highdicom.*")


def _without_images(case: recist.Case) -> dict:
    data = case.to_dict()
    for timepoint in data["timepoints"]:
        timepoint["images"] = []
    return data


def _round_trip(case: recist.Case, folder: Path, reader: str = "RADIOLOGIST 1"):
    images = index_images(write_images(case, folder / "images"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        paths = export_sr(case, images, folder / "sr", reader=reader)
    return paths, cases_from_sr(read_sr_files(paths))


def test_case_to_sr_to_case_is_exact(tmp_path):
    case = recist.parse_case(example_case_dict())
    paths, imported = _round_trip(case, tmp_path)
    assert len(imported) == 1
    assert imported[0].observer == "RADIOLOGIST 1"
    assert imported[0].files == tuple(paths)
    assert _without_images(imported[0].case) == case.to_dict()
    series = imported[0].case.timepoints[1].images
    assert len(series) == 1 and series[0].modality == "CT"


def test_sr_to_case_to_sr_is_exact(tmp_path):
    case = recist.parse_case(example_case_dict())
    paths, first = _round_trip(case, tmp_path / "a")
    images = index_images([tmp_path / "a" / "images"])
    again = export_sr(first[0].case, images, tmp_path / "b", reader=first[0].observer)
    second = cases_from_sr(read_sr_files(again))
    assert second[0].case == first[0].case
    for old, new in zip(paths, again):
        a, b = pydicom.dcmread(old), pydicom.dcmread(new)
        assert a.StudyInstanceUID == b.StudyInstanceUID
        assert [i.to_json_dict() for i in a.ContentSequence[5:]] == [
            i.to_json_dict() for i in b.ContentSequence[5:]
        ]


@pytest.fixture(scope="module")
def sample_patient(repo_dir: Path) -> Path:
    """The committed synthetic patient (sample_data/patient: CT, PET and the ground-truth case)."""
    folder = repo_dir / "sample_data" / "patient"
    if not (folder / "case.json").is_file():
        pytest.skip(f"{folder} is absent: generate it with sample_data/make_sample_data.py")
    return folder


def test_the_sample_patient_round_trips_with_its_lines(tmp_path, sample_patient):
    truth = recist.read_case(sample_patient / "case.json")
    images = index_images(sorted(sample_patient.glob("*/CT")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        paths = export_sr(truth, images, tmp_path / "sr", reader="RADIOLOGIST 1")
    assert len(paths) == len(truth.timepoints)
    imported = cases_from_sr(read_sr_files(paths))[0].case
    expected = truth.to_dict()
    for timepoint in expected["timepoints"]:
        timepoint.pop("slice_thickness_mm", None)  # not carried by SR
        timepoint["images"] = [image for image in timepoint["images"] if image["modality"] == "CT"]
    assert imported.to_dict() == expected
    line = imported.timepoints[0].targets["T1"].long_axis_line
    assert line is not None and line == truth.timepoints[0].targets["T1"].long_axis_line
    assert recist.assess(imported).to_dict()["timepoints"] == recist.assess(truth).to_dict()["timepoints"]


def test_several_readers_and_subjects_make_separate_cases(tmp_path):
    first = recist.parse_case(example_case_dict())
    paths_a, _ = _round_trip(first, tmp_path / "a", reader="RADIOLOGIST 1")
    paths_b, _ = _round_trip(first, tmp_path / "b", reader="RADIOLOGIST 2")
    other = example_case_dict()
    other["subject"] = "EX-002"
    paths_c, _ = _round_trip(recist.parse_case(other), tmp_path / "c", reader="RADIOLOGIST 1")
    imported = cases_from_sr(read_sr_files([*paths_c, *paths_b, *paths_a]))
    keys = sorted((r.case.subject, r.observer, len(r.case.timepoints)) for r in imported)
    assert keys == [
        ("EX-001", "RADIOLOGIST 1", 3),
        ("EX-001", "RADIOLOGIST 2", 3),
        ("EX-002", "RADIOLOGIST 1", 3),
    ]


def _other_tool_sr(tmp_path: Path) -> list[Path]:
    """TID 1500 documents as another tool writes them: planar ROI groups with a tracked Length."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    folders = write_images(recist.parse_case(example_case_dict()), tmp_path / "images", shape=(1, 8, 8))
    paths = []
    for k, (folder, length) in enumerate(zip(folders[:2], (40.0, 30.0))):
        image = pydicom.dcmread(next(folder.iterdir()))
        for keyword in ("PatientBirthDate", "PatientSex", "StudyTime", "ReferringPhysicianName", "StudyID",
                        "AccessionNumber"):  # fmt: skip
            setattr(image, keyword, "")
        region = hd.sr.ImageRegion(
            graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
            graphic_data=np.array([[1.0, 1.0], [6.0, 6.0]]),
            source_image=hd.sr.SourceImageForRegion.from_source_image(image),
        )
        group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier="Lesion 1"),
            referenced_region=region,
            finding_sites=[hd.sr.FindingSite(codes.SCT.Liver)],
            measurements=[hd.sr.Measurement(name=codes.SCT.Length, value=length, unit=codes.UCUM.Centimeter)],
        )
        report = hd.sr.MeasurementReport(
            observation_context=hd.sr.ObservationContext(
                observer_person_context=hd.sr.ObserverContext(
                    observer_type=codes.DCM.Person,
                    observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                        name="Doe^Jane"
                    ),
                )
            ),
            procedure_reported=codes.LN.CTUnspecifiedBodyRegion,
            imaging_measurements=[group],
        )
        sr = hd.sr.Comprehensive3DSR(
            evidence=[image], content=report[0], series_instance_uid=hd.UID(), series_number=1,
            sop_instance_uid=hd.UID(), instance_number=k + 1, manufacturer="other",
        )  # fmt: skip
        path = tmp_path / f"other_{k}.dcm"
        sr.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def test_reads_tracked_length_measurements_of_other_tools(tmp_path):
    imported = cases_from_sr(read_sr_files(_other_tool_sr(tmp_path)))
    assert len(imported) == 1 and imported[0].observer == "Doe^Jane"
    case = imported[0].case
    assert case.subject == "EX-001"  # the Patient ID of the images (write_images), no trial subject module
    assert [(lesion.id, lesion.role.value, lesion.site) for lesion in case.lesions] == [
        ("Lesion 1", "target", "liver")
    ]
    assert [tp.targets["Lesion 1"].long_axis_mm for tp in case.timepoints] == [400.0, 300.0]  # cm -> mm
    assert [tp.date.isoformat() for tp in case.timepoints] == ["2024-01-10", "2024-03-06"]
    assert recist.assess(case).timepoints[0].target_response == recist.Response.SD


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_random_cases_round_trip_through_sr(tmp_path_factory, case):
    folder = tmp_path_factory.mktemp("sr")
    _, imported = _round_trip(case, folder)
    assert _without_images(imported[0].case) == case.to_dict()


@pytest.fixture(scope="module")
def exported_sr(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sr-files")
    paths, _ = _round_trip(recist.parse_case(example_case_dict()), folder)
    return paths


def _content_items(dataset, path=()):
    for k, item in enumerate(dataset.get("ContentSequence", []), start=1):
        yield path + (k,), item
        yield from _content_items(item, path + (k,))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), action=st.sampled_from(["delete", "code", "text", "number", "drop"]))
def test_mutated_documents_load_or_raise_exchange_error(tmp_path_factory, exported_sr, seed, action):
    rng = random.Random(seed)
    source = exported_sr[rng.randrange(len(exported_sr))]
    ds = pydicom.dcmread(source)
    items = list(_content_items(ds))
    _, item = items[rng.randrange(len(items))]
    if action == "delete":
        keyword = rng.choice([e.keyword for e in item if e.keyword])
        delattr(item, keyword)
    elif action == "code" and "ConceptCodeSequence" in item:
        item.ConceptCodeSequence[0].CodeValue = rng.choice(["X1", "112074", "52101004", "373066001"])
    elif action == "text" and "TextValue" in item:
        item.TextValue = rng.choice(["", "T1", "x" * 300])
    elif action == "number" and "MeasuredValueSequence" in item:
        item.MeasuredValueSequence[0].FloatingPointValue = rng.choice([-1.0, float("nan"), 1e300])
    elif action == "drop":
        ds.ContentSequence = copy.deepcopy(ds.ContentSequence[: rng.randrange(len(ds.ContentSequence))])
    path = tmp_path_factory.mktemp("mutated") / "sr.dcm"
    ds.save_as(path)
    try:
        imported = cases_from_sr(read_sr_files([path]))
    except ExchangeError as exc:
        assert str(exc)
    else:
        for read in imported:
            recist.assess(read.case)


def _find(ds, code):
    for where, item in _content_items(ds):
        if "ConceptNameCodeSequence" in item and item.ConceptNameCodeSequence[0].CodeValue == code[0]:
            return where, item
    raise AssertionError(code)


def test_malformed_documents_name_the_file_and_content_item(tmp_path, exported_sr):
    not_dicom = tmp_path / "x.dcm"
    not_dicom.write_bytes(b"hello")
    with pytest.raises(ExchangeError, match="x.dcm: not a readable DICOM file"):
        read_sr_files([not_dicom])
    with pytest.raises(ExchangeError, match="no such file"):
        read_sr_files([tmp_path / "absent.dcm"])
    ds = pydicom.dcmread(exported_sr[0])
    where, item = _find(ds, ("112039", "DCM"))
    item.ConceptNameCodeSequence[0].CodeValue = "999999"
    uid_where, uid_item = _find(ds, ("112040", "DCM"))
    uid_item.ConceptNameCodeSequence[0].CodeValue = "999998"
    bad = tmp_path / "bad.dcm"
    ds.save_as(bad)
    group = ".".join(map(str, where[:-1]))
    with pytest.raises(
        ExchangeError, match=rf"bad.dcm, content item {group}: measurement group without a Tracking"
    ):
        read_sr_files([bad])
    ds = pydicom.dcmread(exported_sr[0])
    where, item = _find(ds, sr_codes.ROLE)
    item.ConceptCodeSequence[0].CodeValue = "NOPE"
    ds.save_as(bad)
    with pytest.raises(
        ExchangeError, match=rf"content item {'.'.join(map(str, where))}: unknown RECIST lesion role"
    ):
        read_sr_files([bad])
    ds = pydicom.dcmread(exported_sr[0])
    where, item = _find(ds, sr_codes.LONG_AXIS)
    item.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue = "kg"
    ds.save_as(bad)
    with pytest.raises(ExchangeError, match=rf"content item {'.'.join(map(str, where))}: length unit"):
        read_sr_files([bad])
    ds = pydicom.dcmread(exported_sr[0])
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.save_as(bad)
    with pytest.raises(ExchangeError, match="not an SR document class"):
        read_sr_files([bad])
    ds = pydicom.dcmread(exported_sr[0])
    ds.ContentSequence = ds.ContentSequence[:3]
    ds.save_as(bad)
    with pytest.raises(ExchangeError, match="no 'Imaging Measurements' container"):
        read_sr_files([bad])
