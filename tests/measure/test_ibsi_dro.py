"""Conformance on the IBSI/OncoRay SUV digital reference objects (oncoray/suv_computation, CC BY 4.0).

Within each object's mask a correct conversion gives SUV min/median/max 0.20/1.00/4.00 (DRO/DRO_list.csv).
The PET is read with recist's loader, the mask with SimpleITK; their physical geometry is checked first.
"""

from __future__ import annotations

import numpy as np
import pytest

from recist.io.pet import load_suv_volume
from recist.measure.suv import sul_factor

SUVBW_OBJECTS = [
    "DRO_0_0", "DRO_1_0", "DRO_2_0", "DRO_2_1", "DRO_2_2", "DRO_2_4", "DRO_2_5", "DRO_3_0", "DRO_3_1",
    "DRO_3_2", "DRO_3_3", "DRO_3_4", "DRO_4_0", "DRO_4_1", "DRO_4_2", "DRO_5_0",
]


def _suv_in_mask(dro_dir, name):
    import SimpleITK as sitk

    volume = load_suv_volume(dro_dir / name / "PT")
    mask_image = sitk.ReadImage(str(dro_dir / name / "mask" / "DRO_mask.nii.gz"))
    # SimpleITK reports (x, y, z); the Volume's spacing is (z, y, x) and origin/direction are LPS.
    assert tuple(reversed(mask_image.GetSpacing())) == pytest.approx(volume.spacing_mm)
    assert mask_image.GetOrigin() == pytest.approx(volume.origin_mm)
    assert np.asarray(mask_image.GetDirection()).reshape(3, 3) == pytest.approx(volume.direction)
    mask = sitk.GetArrayFromImage(mask_image) > 0
    assert mask.shape == volume.array.shape
    return volume, volume.array[mask]


@pytest.mark.parametrize("name", SUVBW_OBJECTS)
def test_dro_suvbw_min_median_max(ibsi_dro_dir, name):
    _, values = _suv_in_mask(ibsi_dro_dir, name)
    assert values.size > 0
    assert (round(float(values.min()), 2), round(float(np.median(values)), 2), round(float(values.max()), 2)) == (
        0.20, 1.00, 4.00,
    )


def test_dro_2_1_stores_sul_james_128(ibsi_dro_dir):
    # Units GML with SUV Type LBMJAMES128: the stored values are SUL (James, 128); SUL factor is 1.
    volume, _ = _suv_in_mask(ibsi_dro_dir, "DRO_2_1")
    for header in volume.headers[:3]:
        assert sul_factor(header, formula="james") == pytest.approx(1.0, rel=1e-12)


def test_dro_2_3_bsa_within_storage_precision(ibsi_dro_dir):
    # SUVbsa is stored with RescaleSlope 0.01 cm2/ml (the median 0.264 is stored as 0.26); one step is
    # 0.01 x weight/BSA = 0.01 x 70000 g / 18477 cm2 = 0.038 SUVbw, so 1.00 is reachable only within 0.04.
    _, values = _suv_in_mask(ibsi_dro_dir, "DRO_2_3")
    assert float(values.min()) == pytest.approx(0.20, abs=0.04)
    assert float(np.median(values)) == pytest.approx(1.00, abs=0.04)
    assert float(values.max()) == pytest.approx(4.00, abs=0.04)
