"""``recist suv``: factor and rules in text and JSON; errors are one line and exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from recist.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from dicom_factory import write_series  # noqa: E402
from pydicom.dataset import Dataset  # noqa: E402


def _rp():
    rp = Dataset()
    rp.Radiopharmaceutical = "FDG"
    rp.RadionuclideTotalDose = "350000000"
    rp.RadionuclideHalfLife = "6586.2"
    rp.RadiopharmaceuticalStartDateTime = "20240110094000"
    return rp


TAGS = {
    "Units": "BQML", "DecayCorrection": "START", "SeriesDate": "20240110", "SeriesTime": "104000",
    "AcquisitionDate": "20240110", "AcquisitionTime": "104000", "PatientWeight": "70",
    "RadiopharmaceuticalInformationSequence": lambda k: [_rp()],
}
FACTOR = 70_000 / (350e6 * 2 ** (-3600 / 6586.2))


def test_text_output_gives_factor_and_rules(tmp_path, capsys):
    write_series(tmp_path / "pt", shape=(3, 4, 4), modality="PT", extra=TAGS)
    assert main(["suv", str(tmp_path / "pt")]) == 0
    out = capsys.readouterr().out
    assert f"{FACTOR:.6g}" in out
    assert "DecayCorrection START" in out and "all instances" in out


def test_json_output_and_differing_factors(tmp_path, capsys):
    tags = dict(TAGS, DecayCorrection="NONE", ActualFrameDuration=60000, AcquisitionTime=lambda k: f"10{40 + k}00")
    write_series(tmp_path / "pt", shape=(3, 4, 4), modality="PT", extra=tags)
    assert main(["suv", str(tmp_path / "pt"), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["instances"] == 3 and report["uniform"] is False and report["factor"] is None
    assert report["factor_min"] < report["factor_max"]
    assert len(report["instances_detail"]) == 3
    assert all(item["rules"] for item in report["instances_detail"])


def test_missing_dose_is_one_line_exit_2(tmp_path, capsys):
    rp = _rp()
    del rp.RadionuclideTotalDose
    write_series(tmp_path / "pt", shape=(2, 4, 4), modality="PT",
                 extra=dict(TAGS, RadiopharmaceuticalInformationSequence=lambda k: [rp]))
    assert main(["suv", str(tmp_path / "pt")]) == 2
    err = capsys.readouterr().err
    assert "RadionuclideTotalDose (0018,1074)" in err and len(err.strip().splitlines()) == 1


def test_dro_folder(ibsi_dro_dir, capsys):
    assert main(["suv", str(ibsi_dro_dir / "DRO_4_2" / "PT")]) == 0
    assert "midnight" in capsys.readouterr().out


@pytest.mark.parametrize("modality", ["CT"])
def test_non_pet_refused(tmp_path, capsys, modality):
    write_series(tmp_path / "ct", shape=(2, 4, 4), modality=modality)
    assert main(["suv", str(tmp_path / "ct")]) == 2
    assert "not PT" in capsys.readouterr().err


def test_a_folder_with_ct_and_pt_uses_its_pt_series(capsys):
    sample = Path(__file__).resolve().parents[2] / "sample_data" / "patient" / "baseline"
    assert main(["suv", str(sample), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["instances"] == len(list((sample / "PT").glob("*.dcm")))


def test_series_uid_picks_one_of_several_pet_series(tmp_path, capsys):
    write_series(tmp_path / "a", shape=(2, 4, 4), modality="PT", extra=TAGS)
    write_series(tmp_path / "b", shape=(3, 4, 4), modality="PT", extra=TAGS, series_uid="1.2.3.4")
    assert main(["suv", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--series-uid" in err
    assert main(["suv", str(tmp_path), "--series-uid", "1.2.3.4", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["instances"] == 3


def _warning_series(folder, **extra):
    tags = dict(TAGS, SliceThickness=lambda k: "2" if k else "3", **extra)  # a geometry warning on load
    return write_series(folder, shape=(3, 4, 4), modality="PT", extra=tags)


def test_warnings_never_precede_the_error_line(tmp_path):
    import subprocess

    _warning_series(tmp_path / "pt", PatientWeight="900")  # loads with a warning, then fails on the weight
    done = subprocess.run([sys.executable, "-m", "recist", "suv", str(tmp_path / "pt")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("recist suv: error: ") and "PatientWeight" in done.stderr


def test_warnings_follow_the_output_after_a_success(tmp_path, capsys):
    _warning_series(tmp_path / "pt")
    assert main(["suv", str(tmp_path / "pt")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("recist suv: warning: ") and "SliceThickness differs" in err


def test_an_unreadable_frame_duration_names_the_file(tmp_path, capsys):
    """ActualFrameDuration (IS) 'inf' with SeriesTime after AcquisitionTime (the frame rules are used): one line
    naming the file and the tag (issue #17 section 2, SUV)."""
    from pydicom import dcmread
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    sample = Path(__file__).resolve().parents[2] / "sample_data" / "patient" / "baseline" / "PT"
    for source in sorted(sample.glob("*.dcm"))[:2]:
        ds = dcmread(source)
        ds.SeriesTime = "235900"
        tag = Tag("ActualFrameDuration")
        ds[tag] = RawDataElement(tag, "IS", 4, b"inf ", 0, False, True)
        ds.save_as(tmp_path / source.name)
    assert main(["suv", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "ActualFrameDuration (0018,1242)" in err and "PT0001.dcm" in err
