"""SR import of what other tools write, and of damaged files (issue 16 §1, issue 17 §1-2).

Third-party documents are made here by the third party's own library: highdicom's API (a document like
highdicom's ``sr_document_with_multiple_groups`` example: a whole-image statistic, a 10 mm lung nodule,
the aorta and a vertebra volume) and dcmjs under node (OHIF/Cornerstone's writer, in the current
release and in 0.47, the last that writes the legacy SNOMED-RT codes G-D7FE/G-A185/G-A186). node and
dcmjs come from ``make test`` (``npm ci`` in tests/js); those tests skip with the reason when absent.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_factory import write_series
from exchange_cases import example_case_dict, write_images
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recist
from recist.cli import main
from recist.errors import ExchangeError, RecistError
from recist.export.dicom_sr import export_sr, index_images
from recist.io.sr_import import import_sr, read_sr_files

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:highdicom.*")

JS = Path(__file__).resolve().parents[1] / "js"


def _content_items(ds):
    """Every SR content item of ``ds``, depth first."""
    for item in ds.get("ContentSequence", []):
        yield item
        yield from _content_items(item)


def _concept(item) -> str:
    return item.ConceptNameCodeSequence[0].CodeValue if item.get("ConceptNameCodeSequence") else ""


@pytest.fixture(scope="module")
def ct(tmp_path_factory) -> list[Path]:
    """A 3-slice CT: 0.8 mm pixels, origin (-100, -120, 50) LPS mm."""
    extra = {"PatientID": "NET-7", "PatientBirthDate": "", "PatientSex": "", "StudyTime": "", "StudyID": "",
             "ReferringPhysicianName": "", "AccessionNumber": ""}  # fmt: skip
    return write_series(tmp_path_factory.mktemp("ct"), shape=(3, 64, 64), extra=extra)


def _highdicom_multi_group(ct: list[Path], out: Path) -> Path:
    """highdicom's multiple-groups example rebuilt with highdicom's API (one lesion among four groups)."""
    import highdicom as hd
    from highdicom.sr import (
        CodedConcept,
        FindingSite,
        ImageRegion,
        Measurement,
        MeasurementReport,
        MeasurementsAndQualitativeEvaluations,
        ObservationContext,
        ObserverContext,
        PersonObserverIdentifyingAttributes,
        PlanarROIMeasurementsAndQualitativeEvaluations,
        QualitativeEvaluation,
        SourceImageForMeasurementGroup,
        SourceImageForRegion,
        TrackingIdentifier,
        VolumeSurface,
        VolumetricROIMeasurementsAndQualitativeEvaluations,
    )
    from pydicom.sr.codedict import codes

    image = pydicom.dcmread(ct[1])
    source = SourceImageForRegion.from_source_image(image)
    groups = [
        MeasurementsAndQualitativeEvaluations(
            tracking_identifier=TrackingIdentifier(uid=hd.UID(), identifier="Image0001"),
            measurements=[
                Measurement(
                    name=CodedConcept("373098007", "SCT", "Mean"),
                    value=-119.07,
                    unit=CodedConcept("[hnsf'U]", "UCUM", "Hounsfield Unit"),
                )
            ],
            source_images=[SourceImageForMeasurementGroup.from_source_image(image)],
        ),
        PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=TrackingIdentifier(uid=hd.UID(), identifier="LungNodule0001"),
            finding_category=CodedConcept("49755003", "SCT", "Morphologically Abnormal Structure"),
            finding_type=CodedConcept("27925004", "SCT", "Nodule"),
            finding_sites=[FindingSite(CodedConcept("39607008", "SCT", "Lung"))],
            measurements=[Measurement(name=codes.SCT.Diameter, value=10.0, unit=codes.UCUM.Millimeter)],
            qualitative_evaluations=[
                QualitativeEvaluation(
                    CodedConcept("LOS", "99TEST", "Level of Significance"),
                    CodedConcept("371928007", "SCT", "Not significant"),
                )
            ],
            referenced_region=ImageRegion(
                graphic_type=hd.sr.GraphicTypeValues.CIRCLE,
                graphic_data=np.array([[45.0, 55.0], [45.0, 65.0]]),
                source_image=source,
            ),
        ),
        PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=TrackingIdentifier(uid=hd.UID(), identifier="Aorta0001"),
            finding_category=CodedConcept("91723000", "SCT", "Anatomical structure"),
            finding_type=CodedConcept("15825003", "SCT", "Aorta"),
            measurements=[Measurement(name=codes.SCT.Diameter, value=20.0, unit=codes.UCUM.Millimeter)],
            referenced_region=ImageRegion(
                graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
                graphic_data=np.array([[25.0, 45.0], [45.0, 45.0]]),
                source_image=source,
            ),
        ),
        VolumetricROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=TrackingIdentifier(uid=hd.UID(), identifier="Vertebra0001"),
            finding_category=CodedConcept("91723000", "SCT", "Anatomical structure"),
            finding_type=CodedConcept("51282000", "SCT", "Vertebra"),
            measurements=[Measurement(name=codes.SCT.Volume, value=200.0, unit=codes.UCUM.CubicMillimeter)],
            referenced_volume_surface=VolumeSurface(
                graphic_type=hd.sr.GraphicTypeValues3D.POINT,
                graphic_data=np.array([[123.5, 234.1, -23.7]]),
                source_images=[hd.sr.SourceImageForSegmentation.from_source_image(image)],
                frame_of_reference_uid=image.FrameOfReferenceUID,
            ),
        ),
    ]
    report = MeasurementReport(
        observation_context=ObservationContext(
            observer_person_context=ObserverContext(
                observer_type=codes.DCM.Person,
                observer_identifying_attributes=PersonObserverIdentifyingAttributes(name="Doe^John"),
            )
        ),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion,
        imaging_measurements=groups,
    )
    sr = hd.sr.Comprehensive3DSR(
        evidence=[image], content=report[0], series_instance_uid=hd.UID(), series_number=1,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="highdicom test",
    )  # fmt: skip
    path = out / "multiple_groups.dcm"
    sr.save_as(path, enforce_file_format=True)
    return path


def test_highdicom_multiple_groups_imports_the_nodule_and_skips_the_rest(tmp_path, ct):
    path = _highdicom_multi_group(ct, tmp_path)
    result = import_sr([path])
    (read,) = result.results
    (lesion,) = read.case.lesions
    assert (lesion.id, lesion.role.value, lesion.site) == ("LungNodule0001", "target", "lung")
    assert read.case.timepoints[0].targets["LungNodule0001"].long_axis_mm == 10.0
    assert read.observer == "Doe^John"
    skipped = {line.split("(group ")[1].split(")")[0]: line for line in result.warnings if "skipped" in line}
    assert set(skipped) == {"'Image0001'", "'Aorta0001'", "'Vertebra0001'"}
    assert "anatomical structure" in skipped["'Aorta0001'"] and "91723000" in skipped["'Aorta0001'"]
    assert "anatomical structure" in skipped["'Vertebra0001'"]
    assert "no lesion diameter" in skipped["'Image0001'"] and "(SCT, 373098007, 'Mean')" in skipped["'Image0001'"]


def test_the_cli_prints_one_warning_line_per_skipped_group(tmp_path, ct, capsys):
    path = _highdicom_multi_group(ct, tmp_path)
    assert main(["import", "sr", str(path), "--out", str(tmp_path / "cases")]) == 0
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("recist import: warning: multiple_groups.dcm") for line in lines)
    assert "wrote 1 case files" in out.out


def _node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (make test installs it with the system packages)")
    if not (JS / "node_modules" / "dcmjs").is_dir():
        pytest.skip("dcmjs is not installed: run `npm ci --prefix tests/js` (make test does)")
    return node


def _ohif_sr(tmp_path: Path, ct: list[Path], library: str, measurements: list[dict]) -> Path:
    node = _node_or_skip()
    image = pydicom.dcmread(ct[1])
    spec = {
        "library": library,
        "study_uid": image.StudyInstanceUID,
        "series_uid": image.SeriesInstanceUID,
        "sop_class_uid": image.SOPClassUID,
        "dataset": {"PatientID": "NET-7", "StudyDate": "20240110", "StudyInstanceUID": image.StudyInstanceUID},
        "measurements": [{"sop_uid": image.SOPInstanceUID, **m} for m in measurements],
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    out = tmp_path / f"{library}.dcm"
    subprocess.run([node, str(JS / "write_ohif_sr.js"), str(tmp_path / "spec.json"), str(out)],
                   check=True, capture_output=True, timeout=60)  # fmt: skip
    return out


_OHIF_MEASUREMENTS = [
    {"tool": "Length", "label": "T1", "start": [10.5, 20.5], "end": [35.5, 20.5], "length": 20.0},
    {"tool": "Bidirectional", "label": "T2", "start": [40.5, 40.5], "end": [40.5, 60.5], "length": 16.0,
     "perp_start": [35.5, 50.5], "perp_end": [45.5, 50.5], "short": 8.0},
]  # fmt: skip


@pytest.mark.parametrize("library", ["dcmjs", "dcmjs-legacy"])
def test_ohif_lengths_and_bidirectionals_import_with_their_lines(tmp_path, ct, library):
    path = _ohif_sr(tmp_path, ct, library, _OHIF_MEASUREMENTS)
    codes = {_concept(item) for item in _content_items(pydicom.dcmread(path)) if item.get("ValueType") == "NUM"}
    legacy = {"G-D7FE", "G-A185", "G-A186"}
    assert (codes >= legacy) if library == "dcmjs-legacy" else not (codes & legacy)
    images = index_images([ct[0].parent]).by_sop
    (read,) = import_sr([path], images=images).results
    targets = read.case.timepoints[0].targets
    assert targets["T1"].long_axis_mm == 20.0
    assert (targets["T2"].long_axis_mm, targets["T2"].short_axis_mm) == (16.0, 8.0)
    # pixel (10.5, 20.5) is the centre of column 10, row 20: LPS x = -100 + 10 * 0.8, y = -120 + 20 * 0.8
    line = targets["T1"].long_axis_line
    assert line is not None
    assert np.allclose(line.start_mm, [-92.0, -104.0, 52.0]) and np.allclose(line.end_mm, [-72.0, -104.0, 52.0])
    assert {lesion.id for lesion in read.case.lesions} == {"T1", "T2"}
    assert all(lesion.role.value == "target" for lesion in read.case.lesions)


def test_ohif_lengths_in_pixels_need_the_images(tmp_path, ct):
    """dcmjs 0.47 codes the bidirectional axes without a unit (UCUM "1", "px"): only the image converts them."""
    path = _ohif_sr(tmp_path, ct, "dcmjs-legacy", _OHIF_MEASUREMENTS)
    with pytest.raises(ExchangeError, match=r"dcmjs-legacy\.dcm, content item [0-9.]+: \(SRT, G-A185, 'Long Axis'\) is "
                       r"16\.0 pixels.*give the image series with --images"):  # fmt: skip
        import_sr([path])


def test_ohif_lengths_in_mm_import_without_the_images(tmp_path, ct):
    path = _ohif_sr(tmp_path, ct, "dcmjs", _OHIF_MEASUREMENTS[:1])
    (read,) = import_sr([path]).results
    assert read.case.timepoints[0].targets["T1"].long_axis_mm == 20.0
    assert read.case.timepoints[0].targets["T1"].long_axis_line is None


@pytest.fixture(scope="module")
def exported_sr(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("sr")
    case = recist.parse_case(example_case_dict())
    images = index_images(write_images(case, folder / "images"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return export_sr(case, images, folder / "sr", reader="RADIOLOGIST 1")


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.9, 0.95, 0.99, 0.999])
def test_a_truncated_sr_is_one_error_naming_the_file(tmp_path, exported_sr, fraction):
    data = exported_sr[1].read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ExchangeError, match=r"cut\.dcm"):
        read_sr_files([cut])


def test_the_cli_refuses_a_truncated_sr_in_one_line_without_pydicom_warnings(tmp_path, exported_sr, capfd):
    folder = tmp_path / "in"
    folder.mkdir()
    for path in exported_sr:
        shutil.copy(path, folder)
    target = folder / exported_sr[-1].name
    data = target.read_bytes()
    target.write_bytes(data[: int(len(data) * 0.99)])
    assert main(["import", "sr", str(folder), "--out", str(tmp_path / "cases")]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and exported_sr[-1].name in err[0] and "truncated" in err[0]
    assert not (tmp_path / "cases").exists()


def test_nothing_importable_exits_2(tmp_path, ct, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["import", "sr", str(empty), "--out", str(tmp_path / "o1")]) == 2
    assert "no file to import" in capsys.readouterr().err
    import highdicom  # noqa: F401  (the document below is highdicom's)

    path = _highdicom_multi_group(ct, tmp_path)
    ds = pydicom.dcmread(path)
    container = ds.ContentSequence[-1]
    container.ContentSequence = [g for g in container.ContentSequence
                                 if "LungNodule" not in str(g.ContentSequence[0].TextValue)]  # fmt: skip
    ds.save_as(path)
    assert main(["import", "sr", str(path), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert "nothing to import" in err and err.count("recist import: warning:") == 4


def _set_time_point_order(path: Path, value: str) -> None:
    ds = pydicom.dcmread(path)
    for item in _content_items(ds):
        if _concept(item) == "126073":
            item.MeasuredValueSequence[0].NumericValue = value
    ds.save_as(path)


@pytest.mark.filterwarnings("ignore:Invalid value for VR DS")
def test_an_infinite_time_point_order_is_an_error(tmp_path, exported_sr):
    path = tmp_path / "x.dcm"
    shutil.copy(exported_sr[0], path)
    ds = pydicom.dcmread(path)
    if not any(_concept(i) == "126073" for i in _content_items(ds)):
        from pydicom.dataset import Dataset

        group = ds.ContentSequence[-1].ContentSequence[0]
        order = Dataset()
        order.RelationshipType, order.ValueType = "HAS OBS CONTEXT", "NUM"
        name = Dataset()
        name.CodeValue, name.CodingSchemeDesignator, name.CodeMeaning = "126073", "DCM", "Time Point Order"
        order.ConceptNameCodeSequence = [name]
        value = Dataset()
        unit = Dataset()
        unit.CodeValue, unit.CodingSchemeDesignator, unit.CodeMeaning = "1", "UCUM", "no units"
        value.MeasurementUnitsCodeSequence = [unit]
        value.NumericValue = "1"
        order.MeasuredValueSequence = [value]
        group.ContentSequence.append(order)
        ds.save_as(path)
    _set_time_point_order(path, "inf")
    with pytest.raises(ExchangeError, match=r"x\.dcm, content item [0-9.]+: Time Point Order inf"):
        read_sr_files([path])


def _rename_observer(path: Path, out: Path, name: str) -> Path:
    ds = pydicom.dcmread(path)
    for item in ds.ContentSequence:
        if item.get("ValueType") == "PNAME":
            item.PersonName = name
    ds.save_as(out)
    return out


@pytest.mark.filterwarnings("ignore:The PN component length")
def test_observer_names_never_collide_or_overflow_file_names(tmp_path, exported_sr, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for k, name in enumerate(["READER", "READER?", "R" * 300]):
        for path in exported_sr:
            _rename_observer(path, folder / f"{k}_{path.name}", name)
    out = tmp_path / "cases"
    assert main(["import", "sr", str(folder), "--out", str(out)]) == 0
    assert "wrote 3 case files" in capsys.readouterr().out
    written = sorted(out.glob("*.json"))
    assert len(written) == 3 and all(len(p.name) < 120 for p in written)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32 - 1),
    flips=st.integers(0, 6),
    cut=st.one_of(st.none(), st.floats(0.0, 1.0)),
    vr=st.booleans(),
)
def test_fuzzed_sr_files_raise_only_recist_errors(tmp_path_factory, exported_sr, seed, flips, cut, vr):
    """Byte changes (VR bytes included), truncations: a case or one RecistError line, nothing else."""
    rng = random.Random(seed)
    data = bytearray(exported_sr[rng.randrange(len(exported_sr))].read_bytes())
    for _ in range(flips):
        data[rng.randrange(132, len(data))] = rng.randrange(256)
    if vr:  # a VR that does not exist (pydicom: NotImplementedError: Unknown Value Representation)
        at = data.find(b"SQ", 300 + rng.randrange(len(data) // 2))
        if at > 0:
            data[at : at + 2] = b"ZZ"
    if cut is not None:
        data = data[: int(cut * len(data))]
    path = tmp_path_factory.mktemp("fuzz") / "f.dcm"
    path.write_bytes(bytes(data))
    try:
        for result in import_sr([path]).results:
            recist.assess(result.case)
    except RecistError as exc:
        assert str(exc) and "\n" not in str(exc)


def test_a_folder_mixing_srs_with_images_and_notes_imports_the_srs(tmp_path, exported_sr, ct, capsys):
    folder = tmp_path / "reader-export"
    folder.mkdir()
    for path in exported_sr:
        shutil.copy(path, folder)
    shutil.copy(ct[0], folder / "image.dcm")
    (folder / "README.txt").write_text("exported from the workstation")
    assert main(["import", "sr", str(folder), "--out", str(tmp_path / "cases")]) == 0
    out = capsys.readouterr()
    warnings_ = [line for line in out.err.splitlines() if "warning" in line]
    assert len(warnings_) == 2 and any("README.txt: skipped: not a DICOM file" in w for w in warnings_)
    assert any("image.dcm: skipped: not an SR document" in w for w in warnings_)
    assert "wrote 1 case files" in out.out
    # the same files named one by one are errors: the user asked for them
    assert main(["import", "sr", str(folder / "image.dcm"), "--out", str(tmp_path / "c2")]) == 2


def test_an_unrecognised_measurement_concept_is_named_by_its_code(tmp_path, exported_sr, capsys):
    """Issue 16 §1: an unrecognised concept gets a message naming its code (scheme, value, meaning): beside a
    lesion's long axis it is ignored with one warning line; as the lesion's only measurement, the refusal
    follows that line, so the user sees which code was not understood."""
    from pydicom.dataset import Dataset

    ds = pydicom.dcmread(exported_sr[0])
    long_axis = next(i for i in _content_items(ds) if _concept(i) == "103339001")  # SCT Long Axis
    odd = copy.deepcopy(long_axis)
    name = Dataset()
    name.CodeValue, name.CodingSchemeDesignator, name.CodeMeaning = "Q-1", "99X", "Odd length"
    odd.ConceptNameCodeSequence = [name]
    odd.ContentSequence = []
    group = next(i for i in _content_items(ds) if any(c is long_axis for c in i.get("ContentSequence", [])))
    group.ContentSequence.append(odd)
    beside = tmp_path / "beside.dcm"
    ds.save_as(beside)
    assert main(["import", "sr", str(beside), "--out", str(tmp_path / "c1")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "beside.dcm" in err[0] and "(99X, Q-1, 'Odd length')" in err[0], err
    group.ContentSequence = [c for c in group.ContentSequence if c is not long_axis]
    alone = tmp_path / "alone.dcm"
    ds.save_as(alone)
    assert main(["import", "sr", str(alone), "--out", str(tmp_path / "c2")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "(99X, Q-1, 'Odd length')" in err[0] and "recist import: error:" in err[-1] and "alone.dcm" in err[-1]
    assert not (tmp_path / "c2").exists()
