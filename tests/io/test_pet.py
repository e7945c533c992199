"""load_suv_volume: every slice scaled by its own header's SUVbw factor; errors name file and tag."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import write_series
from pydicom.dataset import Dataset

from recist.errors import SuvError
from recist.io.dicom import load_series
from recist.io.pet import load_suv_volume, series_suv_factors


def _rp(start="20240110094000", dose="350000000"):
    rp = Dataset()
    rp.Radiopharmaceutical = "FDG"
    rp.RadionuclideTotalDose = dose
    rp.RadionuclideHalfLife = "6586.2"
    rp.RadiopharmaceuticalStartDateTime = start
    return rp


PET_TAGS = {
    "Units": "BQML",
    "DecayCorrection": "START",
    "CorrectedImage": ["ATTN", "DECY"],
    "SeriesDate": "20240110",
    "SeriesTime": "104000",
    "AcquisitionDate": "20240110",
    "AcquisitionTime": "104000",
    "PatientWeight": "70",
    "RadiopharmaceuticalInformationSequence": lambda k: [_rp()],
}


def test_each_slice_scaled_by_its_factor(tmp_path):
    write_series(tmp_path / "pt", shape=(4, 6, 5), modality="PT", extra=PET_TAGS)
    raw = load_series(tmp_path / "pt")
    suv = load_suv_volume(tmp_path / "pt")
    # 60 min uptake: factor = 70000 g / (350e6 Bq x 2^(-3600/6586.2)).
    factor = 70_000 / (350e6 * 2 ** (-3600 / 6586.2))
    assert suv.array.dtype == np.float32
    np.testing.assert_allclose(suv.array, raw.array * factor, rtol=1e-6)
    assert suv.spacing_mm == raw.spacing_mm and suv.origin_mm == raw.origin_mm


def test_per_slice_acquisition_times_with_decay_correction_none(tmp_path):
    tags = dict(PET_TAGS, DecayCorrection="NONE", ActualFrameDuration=120000,
                AcquisitionTime=lambda k: f"1040{k * 2:02d}")
    write_series(tmp_path / "pt", shape=(3, 4, 4), modality="PT", extra=tags)
    factors = [f.factor for f in series_suv_factors(load_series(tmp_path / "pt").headers)]
    # Later frames: more decay, smaller decayed dose, larger factor (ratio 2^(dt/T1/2) for dt = 2 s).
    assert factors[1] / factors[0] == pytest.approx(2 ** (2 / 6586.2), rel=1e-9)
    assert factors[2] / factors[1] == pytest.approx(2 ** (2 / 6586.2), rel=1e-9)


def test_missing_weight_names_file_and_tag(tmp_path):
    tags = dict(PET_TAGS)
    del tags["PatientWeight"]
    files = write_series(tmp_path / "pt", shape=(2, 4, 4), modality="PT", extra=tags)
    with pytest.raises(SuvError) as caught:
        load_suv_volume(tmp_path / "pt")
    message = str(caught.value)
    assert "PatientWeight (0010,1030)" in message
    assert any(f.name in message for f in files)


def test_non_pet_series_is_refused(tmp_path):
    write_series(tmp_path / "ct", shape=(2, 4, 4), modality="CT")
    with pytest.raises(SuvError, match="not PT"):
        load_suv_volume(tmp_path / "ct")


def test_suv_beyond_float32_is_an_error_not_inf(tmp_path):
    """Stored values near float32's top (slope 1e34, allowed) times an SUV factor above 1 (SUVibw of a
    200 kg patient converted back to SUVbw): refused instead of a volume of infinities."""
    tags = dict(PET_TAGS, Units="GML", SUVType="IBW", PatientWeight="200", PatientSize="1.6", PatientSex="M",
                RescaleSlope="1e34")
    write_series(tmp_path / "pt", shape=(2, 4, 4), modality="PT", extra=tags,
                 pixel_fn=lambda k, rows, columns: np.full((rows, columns), 32767, np.int16))
    with pytest.raises(SuvError, match="exceed what a float32 image holds"):
        load_suv_volume(tmp_path / "pt")
