"""SUVbw factor from PET headers: one hand-built header per rule, expected values computed by hand.

Formulas (QIBA SUV pseudo-code; IBSI SUV manual): SUVbw = C (Bq/ml) x weight (g) / (dose x 2^(-t/T1/2)).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from recist.errors import SuvError
from recist.measure.suv import (
    lean_body_mass_james_kg,
    lean_body_mass_janmahasatian_kg,
    sul_factor,
    suv_bw_explained,
    suv_bw_factor,
)

F18 = 6586.2  # s


def header(**changes) -> Dataset:
    """An FDG PET header: 80 kg woman, 400 MBq injected 10:50, scan started 12:00 (70 min uptake)."""
    ds = Dataset()
    ds.Modality = "PT"
    ds.Units = "BQML"
    ds.DecayCorrection = "START"
    ds.CorrectedImage = ["NORM", "ATTN", "SCAT", "DECY"]
    ds.SeriesDate = "20240310"
    ds.SeriesTime = "120000"
    ds.AcquisitionDate = "20240310"
    ds.AcquisitionTime = "120000"
    ds.PatientWeight = "80"
    ds.PatientSize = "1.80"
    ds.PatientSex = "F"
    rp = Dataset()
    rp.Radiopharmaceutical = "FDG"
    rp.RadionuclideTotalDose = "400000000"
    rp.RadionuclideHalfLife = str(F18)
    rp.RadiopharmaceuticalStartDateTime = "20240310105000"
    rp.RadiopharmaceuticalStartTime = "105000"
    ds.RadiopharmaceuticalInformationSequence = [rp]
    rp_changes = {k[3:]: v for k, v in changes.items() if k.startswith("rp_")}
    for key, value in rp_changes.items():
        if value is None:
            delattr(rp, key)
        else:
            setattr(rp, key, value)
    for key, value in changes.items():
        if key.startswith("rp_"):
            continue
        if value is None:
            delattr(ds, key)
        else:
            setattr(ds, key, value)
    return ds


def set_raw(ds: Dataset, keyword: str, text: str | None) -> None:
    """Store ``text`` undecoded, as a file read from disk would hold it (decoded, and maybe failing, on access)."""
    tag = tag_for_keyword(keyword)
    if tag in ds:
        del ds[tag]
    if text is not None:
        encoded = text.encode("utf-8", "replace")
        ds[tag] = RawDataElement(Tag(tag), dictionary_VR(tag), len(encoded), encoded, 0, False, True)


def bw_factor(weight_kg: float, dose_bq: float, elapsed_s: float, half_life_s: float = F18) -> float:
    """SUVbw factor written out from the QIBA formula (for expected values)."""
    return weight_kg * 1000.0 / (dose_bq * 2.0 ** (-elapsed_s / half_life_s))


def avg_count_time(duration_s: float, half_life_s: float = F18) -> float:
    """QIBA 'average count rate time within frame': ln(lambda T / (1 - exp(-lambda T))) / lambda."""
    lam = math.log(2) / half_life_s
    return math.log(lam * duration_s / (1 - math.exp(-lam * duration_s))) / lam


def test_start_uses_series_time_and_injection_datetime():
    # 70 min = 4200 s between 10:50 and 12:00.
    assert suv_bw_factor(header()) == pytest.approx(80_000 / (400e6 * 2 ** (-4200 / 6586.2)), rel=1e-12)


def test_suv_bw_factor_returns_the_explained_float():
    explained = suv_bw_explained(header())
    assert isinstance(suv_bw_factor(header()), float)
    assert suv_bw_factor(header()) == explained.factor
    assert any("START" in rule for rule in explained.rules)
    assert explained.units == "BQML"


def test_admin_does_not_decay_the_dose():
    assert suv_bw_factor(header(DecayCorrection="ADMIN")) == pytest.approx(80_000 / 400e6, rel=1e-12)


def test_none_decays_to_each_frames_average_count_time():
    # Frame starts 12:10, lasts 120 s: reference = 12:10 + t_avg; uptake = 80 min + t_avg.
    ds = header(DecayCorrection="NONE", CorrectedImage=["NORM", "ATTN"], AcquisitionTime="121000",
                ActualFrameDuration=120000)
    t_avg = avg_count_time(120.0)
    assert 59.0 < t_avg < 60.0  # slightly under half the frame
    assert suv_bw_factor(ds) == pytest.approx(bw_factor(80, 400e6, 80 * 60 + t_avg), rel=1e-12)


def test_none_without_frame_duration_names_the_tag():
    with pytest.raises(SuvError, match=r"ActualFrameDuration \(0018,1242\)"):
        suv_bw_factor(header(DecayCorrection="NONE"))


def test_time_only_takes_the_series_date():
    ds = header(rp_RadiopharmaceuticalStartDateTime=None)
    explained = suv_bw_explained(ds)
    assert explained.factor == pytest.approx(bw_factor(80, 400e6, 4200), rel=1e-12)
    assert any("SeriesDate" in rule for rule in explained.rules)


def test_injection_before_midnight_scan_after():
    # Injected 23:30 on the 10th (time only), scan 00:30 on the 11th: 3600 s uptake, not -23 h.
    ds = header(rp_RadiopharmaceuticalStartDateTime=None, rp_RadiopharmaceuticalStartTime="233000",
                SeriesDate="20240311", SeriesTime="003000", AcquisitionDate="20240311", AcquisitionTime="003000")
    explained = suv_bw_explained(ds)
    assert explained.factor == pytest.approx(bw_factor(80, 400e6, 3600), rel=1e-12)
    assert any("midnight" in rule for rule in explained.rules)


def test_datetime_injection_after_scan_is_an_error():
    ds = header(rp_RadiopharmaceuticalStartDateTime="20240310123000")
    with pytest.raises(SuvError, match="after the scan"):
        suv_bw_factor(ds)


def test_series_time_after_acquisition_uses_ge_private_datetime():
    # Series re-created at 13:00; GE scan date-time 11:55 -> uptake 65 min.
    ds = header(SeriesTime="130000")
    ds.add_new(0x0009100D, "DT", "20240310115500")
    explained = suv_bw_explained(ds)
    assert explained.factor == pytest.approx(bw_factor(80, 400e6, 65 * 60), rel=1e-12)
    assert any("(0009,100D)" in rule for rule in explained.rules)


def test_series_time_after_acquisition_back_computes_scan_start():
    # Frame starts 12:05, 240 s long, FrameReferenceTime 360 s after the scan start:
    # start = 12:05 + t_avg(240 s) - 360 s; uptake = 75 min + t_avg - 360 s.
    ds = header(SeriesTime="130000", AcquisitionTime="120500", FrameReferenceTime=360000, ActualFrameDuration=240000)
    expected = bw_factor(80, 400e6, 75 * 60 + avg_count_time(240.0) - 360.0)
    assert suv_bw_factor(ds) == pytest.approx(expected, rel=1e-12)


def test_series_time_after_acquisition_falls_back_to_earliest_acquisition():
    ds = header(SeriesTime="130000", AcquisitionTime="120500")
    assert suv_bw_factor(ds) == pytest.approx(bw_factor(80, 400e6, 75 * 60), rel=1e-12)
    import datetime as dt

    earliest = dt.datetime(2024, 3, 10, 12, 1, 0)
    explained = suv_bw_explained(ds, series_earliest_acquisition=earliest)
    assert explained.factor == pytest.approx(bw_factor(80, 400e6, 71 * 60), rel=1e-12)


def test_philips_cnts_suv_scale_factor():
    ds = header(Units="CNTS")
    ds.add_new(0x70531000, "DS", "0.00025")
    assert suv_bw_factor(ds) == pytest.approx(0.00025)


def test_philips_cnts_activity_scale_factor():
    ds = header(Units="CNTS")
    ds.add_new(0x70531009, "DS", "2.5")  # Bq/ml per count
    assert suv_bw_factor(ds) == pytest.approx(2.5 * bw_factor(80, 400e6, 4200), rel=1e-12)


def test_philips_cnts_without_scale_factors_is_an_error():
    with pytest.raises(SuvError, match=r"\(7053,1000\).*\(7053,1009\)"):
        suv_bw_factor(header(Units="CNTS"))


def test_gml_is_already_suvbw():
    assert suv_bw_factor(header(Units="GML")) == 1.0
    assert suv_bw_factor(header(Units="GML", SUVType="BW")) == 1.0


def test_gml_sul_james_converts_back_to_suvbw():
    # James male, 70 kg, 175 cm: LBM = 1.10*70 - 128*(70/175)^2 = 77 - 20.48 = 56.52 kg.
    ds = header(Units="GML", SUVType="LBMJAMES128", PatientSex="M", PatientWeight="70", PatientSize="1.75")
    assert suv_bw_factor(ds) == pytest.approx(70 / 56.52, rel=1e-12)


def test_gml_ibw_and_cm2ml_bsa():
    # Sugawara female, 180 cm: 45.5 + 0.91*(180-152) = 70.98 kg.
    assert suv_bw_factor(header(Units="GML", SUVType="IBW")) == pytest.approx(80 / 70.98, rel=1e-12)
    # Du Bois: 0.007184 * 80^0.425 * 180^0.725 m^2.
    bsa_cm2 = 0.007184 * 80**0.425 * 180**0.725 * 1e4
    assert suv_bw_factor(header(Units="CM2ML")) == pytest.approx(80_000 / bsa_cm2, rel=1e-12)


def test_gml_with_unknown_suv_type_is_an_error():
    with pytest.raises(SuvError, match=r"SUVType \(0054,1006\)"):
        suv_bw_factor(header(Units="GML", SUVType="XYZ"))


def test_dose_in_mbq_is_recognised_and_said():
    explained = suv_bw_explained(header(rp_RadionuclideTotalDose="400"))
    assert explained.factor == pytest.approx(bw_factor(80, 400e6, 4200), rel=1e-12)
    assert any("MBq" in rule for rule in explained.rules)


def test_implausible_dose_is_an_error():
    with pytest.raises(SuvError, match=r"RadionuclideTotalDose \(0018,1074\)"):
        suv_bw_factor(header(rp_RadionuclideTotalDose="50000"))


@pytest.mark.parametrize(
    ("radionuclide", "half_life_s"),
    [("^68^Gallium", 4057.7), ("^64^Copper", 45720.0), ("^18^Fluorine", 6586.2)],
)
def test_half_life_from_header_checked_against_nuclide(radionuclide, half_life_s):
    ds = header(rp_RadionuclideHalfLife=str(half_life_s), rp_Radiopharmaceutical="tracer")
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "X", "SRT", radionuclide
    ds.RadiopharmaceuticalInformationSequence[0].RadionuclideCodeSequence = [code]
    assert suv_bw_factor(ds) == pytest.approx(bw_factor(80, 400e6, 4200, half_life_s), rel=1e-12)


def test_half_life_contradicting_the_nuclide_is_an_error():
    # An FDG header carrying the Ga-68 half-life.
    with pytest.raises(SuvError, match=r"RadionuclideHalfLife \(0018,1075\).*Fluorine-18"):
        suv_bw_factor(header(rp_RadionuclideHalfLife="4057.7"))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("change", "tag"),
    [
        ({"PatientWeight": None}, "PatientWeight (0010,1030)"),
        ({"rp_RadionuclideTotalDose": None}, "RadionuclideTotalDose (0018,1074)"),
        ({"rp_RadionuclideHalfLife": None}, "RadionuclideHalfLife (0018,1075)"),
        ({"rp_RadiopharmaceuticalStartDateTime": None, "rp_RadiopharmaceuticalStartTime": None},
         "RadiopharmaceuticalStartTime (0018,1072)"),
        ({"SeriesTime": None}, "SeriesTime (0008,0031)"),
        ({"SeriesDate": None}, "SeriesDate (0008,0021)"),
        ({"DecayCorrection": None}, "DecayCorrection (0054,1102)"),
        ({"Units": None}, "Units (0054,1001)"),
        ({"RadiopharmaceuticalInformationSequence": None}, "RadiopharmaceuticalInformationSequence (0054,0016)"),
        ({"PatientWeight": "0"}, "PatientWeight (0010,1030)"),
        ({"SeriesTime": "25xx"}, "SeriesTime (0008,0031)"),
    ],
)
def test_missing_or_bad_tag_names_the_tag(change, tag):
    with pytest.raises(SuvError) as caught:
        suv_bw_factor(header(**change))
    assert tag in str(caught.value)


def test_error_names_the_file():
    ds = header(PatientWeight=None)
    ds.filename = "/data/pet/slice_007.dcm"
    with pytest.raises(SuvError, match="/data/pet/slice_007.dcm: PatientWeight"):
        suv_bw_factor(ds)


def test_unsupported_decay_correction_and_no_attenuation_correction():
    with pytest.raises(SuvError, match="DecayCorrection"):
        suv_bw_factor(header(DecayCorrection="LATER"))
    with pytest.raises(SuvError, match="ATTN"):
        suv_bw_factor(header(CorrectedImage=["NORM", "DECY"]))


def test_uptake_longer_than_ten_half_lives_is_a_date_error():
    with pytest.raises(SuvError, match="half-lives"):
        suv_bw_factor(header(rp_RadiopharmaceuticalStartDateTime="20240309105000"))


def test_lean_body_mass_formulas_from_the_papers():
    # James 1976: male 1.10 W - 128 (W/H)^2, female 1.07 W - 148 (W/H)^2, H in cm.
    assert lean_body_mass_james_kg(70, 1.75, "M") == pytest.approx(77 - 128 * 0.4**2)
    assert lean_body_mass_james_kg(80, 1.80, "F") == pytest.approx(1.07 * 80 - 148 * (80 / 180) ** 2)
    # Janmahasatian 2005: male 9270 W / (6680 + 216 BMI), female 9270 W / (8780 + 244 BMI).
    bmi = 70 / 1.75**2
    assert lean_body_mass_janmahasatian_kg(70, 1.75, "M") == pytest.approx(9270 * 70 / (6680 + 216 * bmi))
    bmi = 80 / 1.80**2
    assert lean_body_mass_janmahasatian_kg(80, 1.80, "F") == pytest.approx(9270 * 80 / (8780 + 244 * bmi))


def test_sul_factor_is_suvbw_times_lbm_over_weight():
    bw = bw_factor(80, 400e6, 4200)
    james = 1.07 * 80 - 148 * (80 / 180) ** 2
    janma = 9270 * 80 / (8780 + 244 * 80 / 1.80**2)
    assert sul_factor(header(), formula="james") == pytest.approx(bw * james / 80, rel=1e-12)
    assert sul_factor(header()) == pytest.approx(bw * janma / 80, rel=1e-12)


def test_sul_needs_sex_and_height():
    with pytest.raises(SuvError, match=r"PatientSex \(0010,0040\)"):
        sul_factor(header(PatientSex="O"), formula="james")
    with pytest.raises(SuvError, match=r"PatientSize \(0010,1020\)"):
        sul_factor(header(PatientSize=None))
    with pytest.raises(ValueError):
        sul_factor(header(), formula="boer")


# ------------------------------------------------------------------------------------------ properties

_text = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["", "abc", "-1", "nan", "inf", "1e400"]))


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=200, deadline=None)
@given(
    weight=st.one_of(_text, st.floats(-10, 800).map(str)),
    dose=st.one_of(_text, st.floats(-1e3, 3e9).map(str)),
    half_life=st.one_of(_text, st.floats(-10, 1e6).map(str)),
    series_time=st.one_of(_text, st.times().map(lambda t: t.strftime("%H%M%S"))),
    injection=st.one_of(_text, st.datetimes().map(lambda d: d.strftime("%Y%m%d%H%M%S"))),
    units=st.sampled_from(["BQML", "CNTS", "GML", "CM2ML", "PROPCNTS", None]),
    correction=st.sampled_from(["START", "ADMIN", "NONE", "X", None]),
)
def test_random_headers_give_a_positive_finite_factor_or_suv_error(
    weight, dose, half_life, series_time, injection, units, correction
):
    ds = header(Units=units, DecayCorrection=correction, rp_Radiopharmaceutical=None)
    rp = ds.RadiopharmaceuticalInformationSequence[0]
    set_raw(ds, "PatientWeight", weight)
    set_raw(ds, "SeriesTime", series_time)
    set_raw(rp, "RadionuclideTotalDose", dose)
    set_raw(rp, "RadionuclideHalfLife", half_life)
    set_raw(rp, "RadiopharmaceuticalStartDateTime", injection)
    try:
        factor = suv_bw_factor(ds)
    except SuvError:
        return
    assert math.isfinite(factor) and factor > 0


@settings(max_examples=100, deadline=None)
@given(
    weight=st.floats(20, 250),
    scale_weight=st.floats(0.5, 2.0),
    dose_mbq=st.floats(50, 800),
    scale_dose=st.floats(0.5, 2.0),
    minutes=st.integers(0, 300),
)
def test_factor_scales_as_weight_over_dose(weight, scale_weight, dose_mbq, scale_dose, minutes):
    start = f"{10 + minutes // 60:02d}{minutes % 60:02d}00"
    base = dict(SeriesTime="150000", AcquisitionTime="150000", rp_RadiopharmaceuticalStartDateTime=f"20240310{start}")
    f0 = suv_bw_factor(header(PatientWeight=f"{weight:.6f}", rp_RadionuclideTotalDose=f"{dose_mbq * 1e6:.1f}", **base))
    f1 = suv_bw_factor(header(PatientWeight=f"{weight * scale_weight:.6f}",
                              rp_RadionuclideTotalDose=f"{dose_mbq * scale_dose * 1e6:.1f}", **base))
    assert f1 / f0 == pytest.approx((float(f"{weight * scale_weight:.6f}") / float(f"{weight:.6f}"))
                                    / (float(f"{dose_mbq * scale_dose * 1e6:.1f}") / float(f"{dose_mbq * 1e6:.1f}")),
                                    rel=1e-9)


# ------------------------------------------------------------------ edges found by fuzzing (issue #17)


def test_frame_reference_time_0_is_absent_and_the_earliest_acquisition_is_the_start():
    """DecayCorrection START, SeriesTime (13:00) after AcquisitionTime (12:05), FrameReferenceTime 0.

    Published practice (QIBA pseudo-code as implemented by cornerstonejs/calculate-suv, used by OHIF): the
    frame back-computation needs FrameReferenceTime > 0 and ActualFrameDuration > 0; otherwise the scan
    start is the earliest acquisition time. Injection 10:50 -> 12:05 is 75 min of decay; a start
    back-computed from FRT 0 would lie after the acquisition start (12:05 + t_avg)."""
    ds = header(SeriesTime="130000", AcquisitionTime="120500", FrameReferenceTime=0, ActualFrameDuration=240000)
    explained = suv_bw_explained(ds)
    assert explained.factor == pytest.approx(bw_factor(80, 400e6, 75 * 60), rel=1e-12)
    assert any("treated as absent" in rule for rule in explained.rules)


def test_a_back_computed_start_after_the_frame_start_is_not_used():
    # FRT 60 s with a 240 s frame: start = 12:05 + ~119 s - 60 s, after 12:05: earliest acquisition instead.
    ds = header(SeriesTime="130000", AcquisitionTime="120500", FrameReferenceTime=60000, ActualFrameDuration=240000)
    assert suv_bw_factor(ds) == pytest.approx(bw_factor(80, 400e6, 75 * 60), rel=1e-12)


def test_james_lbm_at_high_bmi_is_an_error_not_a_negative_factor():
    # 300 kg, 1.5 m, male: 1.10*300 - 128*(300/150)^2 = 330 - 512 = -182 kg.
    ds = header(Units="GML", SUVType="LBM", PatientSex="M", PatientWeight="300", PatientSize="1.5")
    with pytest.raises(SuvError, match=r"James \(1976\) lean body mass is -182 kg.*PatientWeight \(0010,1030\)"):
        suv_bw_factor(ds)
    with pytest.raises(SuvError, match="lean body mass"):
        sul_factor(header(PatientSex="M", PatientWeight="300", PatientSize="1.5"), formula="james")


def test_sugawara_ibw_for_a_short_patient_is_an_error():
    # 1.0 m, male: 48.0 + 1.06*(100-152) = -7.12 kg.
    ds = header(Units="GML", SUVType="IBW", PatientSex="M", PatientWeight="20", PatientSize="1.0")
    with pytest.raises(SuvError, match=r"Sugawara \(1999\) ideal body weight is -7.12 kg.*PatientSize \(0010,1020\)"):
        suv_bw_factor(ds)


@pytest.mark.parametrize("tag", [0x70531000, 0x70531009])
@pytest.mark.parametrize("value", ["1e400", "-1", "0", "nan", "inf", "0x10", "abc"])
def test_philips_private_factors_must_be_finite_positive_numbers(tag, value):
    ds = header(Units="CNTS")
    ds.add_new(tag, "LO", value)
    with pytest.raises(SuvError, match=f"\\(7053,{tag & 0xFFFF:04X}\\)"):
        suv_bw_factor(ds)


def test_philips_private_factor_with_two_values_is_an_error():
    ds = header(Units="CNTS")
    ds.add_new(0x70531000, "DS", ["1", "2"])
    with pytest.raises(SuvError, match=r"\(7053,1000\)"):
        suv_bw_factor(ds)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom's "Invalid value for VR IS"
@pytest.mark.parametrize("keyword", ["FrameReferenceTime", "ActualFrameDuration"])
@pytest.mark.parametrize("text", ["1\\2", "0x10", "nan", "inf", "1e15", "-5", "abc"])
def test_frame_times_that_are_not_one_plausible_number(keyword, text):
    ds = header(SeriesTime="130000", AcquisitionTime="120500", FrameReferenceTime=360000, ActualFrameDuration=240000)
    set_raw(ds, keyword, text)
    with pytest.raises(SuvError, match=keyword):
        suv_bw_factor(ds)
    ds = header(DecayCorrection="NONE", CorrectedImage=["NORM", "ATTN"], ActualFrameDuration=120000)
    set_raw(ds, "ActualFrameDuration", text)
    with pytest.raises(SuvError, match="ActualFrameDuration"):
        suv_bw_factor(ds)


@pytest.mark.parametrize("changes", [
    # injected 23:50 on 0001-01-01 by time only, scanned after midnight: the day before is year 0
    dict(SeriesDate="00010101", AcquisitionDate="00010101", SeriesTime="000500", AcquisitionTime="000500",
         rp_RadiopharmaceuticalStartDateTime=None, rp_RadiopharmaceuticalStartTime="235000"),
    # a frame at the very end of year 9999 (DecayCorrection NONE): its average count time is in year 10000
    dict(DecayCorrection="NONE", CorrectedImage=["NORM", "ATTN"], SeriesDate="99991231", AcquisitionDate="99991231",
         AcquisitionTime="235959", ActualFrameDuration=600000, rp_RadiopharmaceuticalStartDateTime="99991231225000"),
    # a back-computed scan start before year 1
    dict(SeriesDate="00010101", AcquisitionDate="00010101", SeriesTime="010000", AcquisitionTime="000001",
         FrameReferenceTime=600000, ActualFrameDuration=1000, rp_RadiopharmaceuticalStartDateTime="00010101000000"),
])
def test_dates_at_the_ends_of_the_calendar(changes):
    try:
        factor = suv_bw_factor(header(**changes))
    except SuvError as exc:
        assert "\n" not in str(exc)
        return
    assert math.isfinite(factor) and factor > 0


_extreme = st.sampled_from(["1e400", "-1e400", "1e15", "-1", "0", "nan", "inf", "0x10", "1\\2", "", " ", "\0",
                            "99999999999999999999", "1e-320", "abc", "00010101", "99991231235959"])


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_extreme_values_in_any_suv_tag_give_a_positive_finite_factor_or_suv_error(data):
    """Fuzz every tag the SUV rules read (standard and private) with extreme numbers, wrong VRs and
    multi-values: a finite positive SUVbw and SUL factor, or SuvError; nothing else escapes."""
    units = data.draw(st.sampled_from(["BQML", "CNTS", "GML", "CM2ML"]))
    correction = data.draw(st.sampled_from(["START", "ADMIN", "NONE"]))
    ds = header(Units=units, DecayCorrection=correction, SeriesTime="130000", AcquisitionTime="120500",
                FrameReferenceTime=360000, ActualFrameDuration=240000)
    rp = ds.RadiopharmaceuticalInformationSequence[0]
    keywords = ["PatientWeight", "PatientSize", "SeriesDate", "SeriesTime", "AcquisitionDate", "AcquisitionTime",
                "FrameReferenceTime", "ActualFrameDuration", "SUVType", "PatientSex", "AcquisitionDateTime"]
    for keyword in data.draw(st.lists(st.sampled_from(keywords), max_size=3, unique=True)):
        set_raw(ds, keyword, data.draw(_extreme))
    for keyword in data.draw(st.lists(st.sampled_from(["RadionuclideTotalDose", "RadionuclideHalfLife",
                                                       "RadiopharmaceuticalStartDateTime",
                                                       "RadiopharmaceuticalStartTime"]), max_size=2, unique=True)):
        set_raw(rp, keyword, data.draw(_extreme))
    for tag in data.draw(st.lists(st.sampled_from([0x70531000, 0x70531009, 0x0009100D]), max_size=2, unique=True)):
        vr = data.draw(st.sampled_from(["DS", "LO", "UN", "FD"])) if tag != 0x0009100D else "DT"
        value = data.draw(st.one_of(_extreme.map(str.encode), st.just(b"\x00\x01"), st.just(b"\x00" * 8)))
        ds[tag] = RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)  # as read from a file
    for compute in (suv_bw_factor, lambda d: sul_factor(d, formula=data.draw(st.sampled_from(["james",
                                                                                              "janmahasatian"])))):
        try:
            factor = compute(ds)
        except SuvError as exc:
            assert "\n" not in str(exc)
            continue
        assert math.isfinite(factor) and factor > 0
