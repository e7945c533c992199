"""SUV scale factors from PET DICOM headers.

The factor returned here multiplies the *rescaled* pixel values of one PET instance (stored value x
RescaleSlope + RescaleIntercept) and gives the body-weight standardized uptake value, SUVbw, in g/ml.

Sources
-------
- [QIBA] QIBA FDG-PET/CT Technical Committee, "Vendor-neutral pseudo-code for SUV calculation"
  (QIBA wiki, "Standardized Uptake Value (SUV)"), the reference algorithm for Units, DecayCorrection,
  the series-time-after-acquisition-time case, the GE private scan date-time and the Philips scale factors.
- [IBSI-SUV] M. Vacha, F. Hofheinz, A. Braune, S. Loeck, A. Zwanenburg, "Comprehensive Manual for SUV
  Computation and Digital Reference Objects for its Verification" (IBSI / OncoRay, oncoray/suv_computation,
  CC BY 4.0): DecayCorrection NONE with per-frame times, radiopharmaceutical time without date, injection
  before midnight, dose stored in MBq, Units GML/CM2ML with an SUV Type other than BW.
- [calculate-suv] cornerstonejs/calculate-suv (the SUV code of the OHIF viewer), calculateScanTimes: the
  QIBA pseudo-code as implemented there; the scan start is back-computed from a frame only when
  FrameReferenceTime > 0 and ActualFrameDuration > 0, else it is the earliest acquisition time.
- [DICOM] DICOM PS3.3 C.8.9.1 (PET Series module: Units, Decay Correction, SUV Type) and C.8.9.4
  (PET Image module: Frame Reference Time, Actual Frame Duration).
- [James 1976] W.P.T. James, "Research on obesity", HMSO 1976 (lean body mass, constants 128/148),
  as used by PERCIST (Wahl et al., J Nucl Med 2009;50:122S).
- [Janmahasatian 2005] S. Janmahasatian et al., Clin Pharmacokinet 2005;44:1051-65 (lean body mass).
- [Sugawara 1999] Y. Sugawara et al., Radiology 1999;213:521-5 (ideal body weight for SUV).
- [Du Bois 1916] D. Du Bois, E.F. Du Bois, Arch Intern Med 1916;17:863 (body surface area).

Every decision that shaped a factor is recorded, in words, in :attr:`SuvFactor.rules`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from recist.measure._pet_header import (
    _checked_factor,
    _date_attr,
    _datetime_attr,
    _error,
    _in_range,
    _missing,
    _number,
    _parse_datetime,
    _private,
    _private_number,
    _series_datetime,
    _shifted,
    _tag_label,
    _text,
    _time_attr,
    _value,
    _where,
    acquisition_datetime,
)
from recist.measure.suv_formulas import (
    average_count_time_s,
    body_surface_area_du_bois_m2,
    decayed_activity_bq,
    ideal_body_weight_sugawara_kg,
    lean_body_mass_james_kg,
    lean_body_mass_janmahasatian_kg,
    suv_bw_scale,
)

__all__ = [
    "SuvFactor",
    "suv_bw_factor",
    "suv_bw_explained",
    "sul_factor",
    "decayed_activity_bq",
    "average_count_time_s",
    "suv_bw_scale",
    "lean_body_mass_james_kg",
    "lean_body_mass_janmahasatian_kg",
    "ideal_body_weight_sugawara_kg",
    "body_surface_area_du_bois_m2",
    "acquisition_datetime",
    "KNOWN_HALF_LIVES_S",
]

logger = logging.getLogger(__name__)

#: Physical half-lives (s) of PET radionuclides, keyed by (element, mass number). Sources: NNDC/DDEP
#: nuclear data; used only to check the header's RadionuclideHalfLife, never as a default.
KNOWN_HALF_LIVES_S: dict[tuple[str, int], float] = {
    ("fluorine", 18): 6586.2,  # 109.77 min
    ("gallium", 68): 4062.6,  # 67.71 min
    ("copper", 64): 45721.0,  # 12.70 h
    ("carbon", 11): 1221.8,  # 20.36 min
    ("nitrogen", 13): 597.9,  # 9.965 min
    ("oxygen", 15): 122.24,
    ("rubidium", 82): 76.4,
    ("zirconium", 89): 282276.0,  # 78.41 h
    ("iodine", 124): 360806.0,  # 4.176 d
}
_SYMBOLS = {"f": "fluorine", "ga": "gallium", "cu": "copper", "c": "carbon", "n": "nitrogen",
            "o": "oxygen", "rb": "rubidium", "zr": "zirconium", "i": "iodine"}
#: Relative difference allowed between the header half-life and the nuclide's (decay data tables and
#: vendors round differently, e.g. Ga-68 4057.7 s vs 4062.6 s).
HALF_LIFE_TOLERANCE = 0.01

# Plausibility bounds (checked, never substituted).
_WEIGHT_KG = (0.2, 700.0)
_HEIGHT_M = (0.3, 2.6)
_DOSE_BQ = (1.0e5, 2.0e10)  # 0.1 MBq .. 20 GBq
_DOSE_AS_MBQ = (0.1, 2.0e4)  # a value in this range read as MBq (IBSI-SUV DRO_3_0)
_HALF_LIFE_S = (60.0, 30 * 86400.0)
_MAX_HALF_LIVES = 10.0  # an uptake time beyond this many half-lives is a date error, not a scan

_GE_SCAN_DATETIME = 0x0009100D  # GEMS_PETD_01 "PET scan_datetime"
_PHILIPS_SUV_SCALE = 0x70531000  # Philips PET Private Group: SUV scale factor
_PHILIPS_ACTIVITY_SCALE = 0x70531009  # Philips PET Private Group: activity concentration scale factor


@dataclass(frozen=True)
class SuvFactor:
    """An SUVbw scale factor and the header rules that produced it.

    Attributes
    ----------
    factor
        Multiply the instance's rescaled pixel values by this to get SUVbw (g/ml).
    rules
        One sentence per decision taken (which tag, which formula, which fallback), in order.
    units
        The header's Units (0054,1001).
    source
        The file the header came from, if known.
    """

    factor: float
    rules: list[str] = field(default_factory=list)
    units: str = ""
    source: str | None = None


# --------------------------------------------------------------------------------------------- header rules


def _half_life_s(rp: Any, ds: Any, source: str | None, rules: list[str]) -> float:
    """RadionuclideHalfLife from the header, checked against the identified nuclide (never defaulted)."""
    half_life = _number(rp, "RadionuclideHalfLife", source, "decay correction of the injected activity")
    _in_range(half_life, _HALF_LIFE_S, "RadionuclideHalfLife", "s", source)
    nuclide = _identify_nuclide(rp)
    if nuclide is None:
        rules.append(f"half-life {half_life:g} s from RadionuclideHalfLife (nuclide not identified from "
                     "RadionuclideCodeSequence/Radiopharmaceutical; only the range was checked)")
        return half_life
    expected = KNOWN_HALF_LIVES_S[nuclide]
    name = f"{nuclide[0].capitalize()}-{nuclide[1]}"
    if abs(half_life - expected) > HALF_LIFE_TOLERANCE * expected:
        raise _error(
            source,
            f"{_tag_label('RadionuclideHalfLife')} = {half_life:g} s does not match {name} "
            f"({expected:g} s); correct the half-life or the radionuclide code",
        )
    rules.append(f"half-life {half_life:g} s from RadionuclideHalfLife (consistent with {name}, {expected:g} s)")
    return half_life


def _identify_nuclide(rp: Any) -> tuple[str, int] | None:
    texts: list[str] = []
    codes = _value(rp, "RadionuclideCodeSequence")
    if codes:
        texts.append(str(codes[0].get("CodeMeaning", "")))
    texts.append(str(_value(rp, "Radionuclide") or ""))
    pharmaceutical = str(_value(rp, "Radiopharmaceutical") or "")
    texts.append(pharmaceutical)
    for text in texts:
        lowered = text.lower()
        for element in {name for name, _ in KNOWN_HALF_LIVES_S}:
            match = re.search(rf"(\d+)\D{{0,3}}{element}|{element}\D{{0,3}}(\d+)", lowered)
            if match:
                mass = int(match.group(1) or match.group(2))
                if (element, mass) in KNOWN_HALF_LIVES_S:
                    return element, mass
        for symbol, element in _SYMBOLS.items():
            match = re.search(rf"(?<![a-z])(?:{symbol}-?(\d+)|(\d+)-?{symbol})(?![a-z])", lowered)
            if match:
                mass = int(match.group(1) or match.group(2))
                if (element, mass) in KNOWN_HALF_LIVES_S:
                    return element, mass
    if re.search(r"(?<![a-z])fdg(?![a-z])", pharmaceutical.lower()):
        return "fluorine", 18
    return None


def _dose_bq(rp: Any, source: str | None, rules: list[str]) -> float:
    dose = _number(rp, "RadionuclideTotalDose", source, "SUV (injected activity)")
    if _DOSE_BQ[0] <= dose <= _DOSE_BQ[1]:
        rules.append(f"injected activity {dose / 1e6:.6g} MBq from RadionuclideTotalDose (Bq)")
        return dose
    if _DOSE_AS_MBQ[0] <= dose <= _DOSE_AS_MBQ[1]:
        rules.append(
            f"RadionuclideTotalDose = {dose:g} is far below any PET activity in Bq: read as MBq "
            "(IBSI-SUV 'dose in MBq')"
        )
        logger.warning("%sRadionuclideTotalDose %g read as MBq", _where(source), dose)
        return dose * 1e6
    raise _error(
        source,
        f"{_tag_label('RadionuclideTotalDose')} = {dose:g} is implausible as an injected activity in Bq "
        f"({_DOSE_BQ[0]:g}..{_DOSE_BQ[1]:g}) or MBq; correct the header",
    )


def _weight_kg(ds: Any, source: str | None) -> float:
    weight = _number(ds, "PatientWeight", source, "SUVbw (body weight in kg)")
    return _in_range(weight, _WEIGHT_KG, "PatientWeight", "kg", source)


def _height_m(ds: Any, source: str | None, purpose: str) -> float:
    height = _number(ds, "PatientSize", source, purpose)
    return _in_range(height, _HEIGHT_M, "PatientSize", "m", source)


def _sex(ds: Any, source: str | None, purpose: str, allow_other: bool = False) -> str:
    sex = _text(ds, "PatientSex", source)
    if sex is None:
        raise _missing(source, "PatientSex", purpose)
    if sex not in ("M", "F") and not allow_other:
        raise _error(source, f"{_tag_label('PatientSex')} = {sex!r}: {purpose} needs 'M' or 'F'")
    return sex


def _scan_start(ds: Any, source: str | None, half_life_s: float, rules: list[str],
                series_earliest_acquisition: dt.datetime | None) -> dt.datetime:
    """Reference time of DecayCorrection START [QIBA].

    SeriesDate/Time unless it is after the series' earliest acquisition; then the GE private scan
    date-time, else the start back-computed from this frame (AcquisitionTime + average count time -
    FrameReferenceTime) when FrameReferenceTime > 0 and ActualFrameDuration > 0 [calculate-suv] and the
    start found is not after this frame's own acquisition start (our check: a scan cannot start after one
    of its frames), else the earliest acquisition time. A FrameReferenceTime of 0 is thus treated as
    absent, as in [calculate-suv].
    """
    series = _series_datetime(ds, source)
    acquisition = acquisition_datetime(ds, source)
    earliest = series_earliest_acquisition or acquisition
    if earliest is None:
        rules.append(f"scan start = SeriesDate/SeriesTime {series.isoformat()} (no acquisition time to compare)")
        return series
    if series <= earliest:
        rules.append(f"scan start = SeriesDate/SeriesTime {series.isoformat()} (not after the acquisition)")
        return series
    ge = _private(ds, _GE_SCAN_DATETIME)
    if ge is not None:
        parsed = _parse_datetime(str(ge))
        if parsed is None:
            raise _error(source, f"GE private scan date-time (0009,100D) = {ge!r} is not a DICOM date-time")
        rules.append(f"SeriesTime after AcquisitionTime: scan start = GE private scan date-time (0009,100D) "
                     f"{parsed.isoformat()}")
        return parsed
    purpose = "back-computing the scan start (SeriesTime after AcquisitionTime)"
    frame_ref_ms = _frame_time_ms(ds, "FrameReferenceTime", source, purpose)
    duration_ms = _frame_time_ms(ds, "ActualFrameDuration", source, purpose)
    if acquisition is not None and frame_ref_ms and duration_ms:
        offset_s = average_count_time_s(duration_ms / 1000.0, half_life_s) - frame_ref_ms / 1000.0
        start = _shifted(acquisition, offset_s, source, "the back-computed scan start")
        if start <= acquisition:
            rules.append(
                f"SeriesTime after AcquisitionTime: scan start back-computed from this frame: AcquisitionTime + "
                f"average count time ({duration_ms / 1000.0:g} s frame) - FrameReferenceTime = {start.isoformat()}"
            )
            return start
        rules.append(f"FrameReferenceTime {frame_ref_ms:g} ms would put the scan start after this frame's "
                     "acquisition start: not used")
    elif frame_ref_ms == 0 or duration_ms == 0:
        rules.append("FrameReferenceTime or ActualFrameDuration is 0: treated as absent (calculate-suv)")
    rules.append(f"SeriesTime after AcquisitionTime: scan start = earliest acquisition {earliest.isoformat()}")
    return earliest


#: Longest frame time accepted (ms): a week; longer is a damaged header (and would overflow date arithmetic).
_MAX_FRAME_TIME_MS = 7 * 86400 * 1000.0


def _frame_time_ms(ds: Any, keyword: str, source: str | None, purpose: str) -> float | None:
    """FrameReferenceTime / ActualFrameDuration in ms: None when absent; SuvError when not one number in
    0 .. a week (``1\\2``, ``0x10``, ``nan``, ``inf``, ``1e15`` ...)."""
    if _value(ds, keyword, source) is None:
        return None
    value = _number(ds, keyword, source, purpose)
    if not 0 <= value <= _MAX_FRAME_TIME_MS:
        raise _error(source, f"{_tag_label(keyword)} = {value:g} ms is implausible (expected 0..{_MAX_FRAME_TIME_MS:g} "
                             "ms); correct the header")
    return value


def _frame_reference(ds: Any, source: str | None, half_life_s: float, rules: list[str]) -> dt.datetime:
    """Reference time of a frame without decay correction (DecayCorrection NONE) [IBSI-SUV]."""
    acquisition = acquisition_datetime(ds, source)
    if acquisition is None:
        raise _missing(source, "AcquisitionTime", "DecayCorrection NONE (per-frame decay)")
    purpose = "DecayCorrection NONE (per-frame decay)"
    duration_ms = _frame_time_ms(ds, "ActualFrameDuration", source, purpose)
    if duration_ms is None:
        raise _missing(source, "ActualFrameDuration", purpose)
    duration_s = duration_ms / 1000.0
    reference = _shifted(acquisition, average_count_time_s(duration_s, half_life_s), source,
                         "this frame's average count time")
    rules.append(
        f"DecayCorrection NONE: dose decayed to this frame's average count time = AcquisitionTime "
        f"{acquisition.isoformat()} + {average_count_time_s(duration_s, half_life_s):.1f} s "
        f"({duration_s:g} s frame)"
    )
    return reference


def _injection(ds: Any, rp: Any, reference: dt.datetime, source: str | None, rules: list[str]) -> dt.datetime:
    """Injection date-time: RadiopharmaceuticalStartDateTime, or the start time on the series date."""
    injection = _datetime_attr(rp, "RadiopharmaceuticalStartDateTime", source)
    if injection is not None:
        rules.append(f"injection = RadiopharmaceuticalStartDateTime {injection.isoformat()}")
        return injection
    time = _time_attr(rp, "RadiopharmaceuticalStartTime", source)
    if time is None:
        raise _error(
            source,
            f"{_tag_label('RadiopharmaceuticalStartDateTime')} and {_tag_label('RadiopharmaceuticalStartTime')} "
            "are both missing; the injection time is needed for decay correction; add it to the header",
        )
    date = _date_attr(ds, "SeriesDate", source)
    if date is None:
        raise _missing(source, "SeriesDate", "dating RadiopharmaceuticalStartTime (no start date-time)")
    injection = dt.datetime.combine(date, time)
    rule = f"injection = RadiopharmaceuticalStartTime {time.isoformat()} on SeriesDate {date.isoformat()}"
    if injection > reference and _shifted(injection, -86400.0, source, "the injection a day earlier") <= reference:
        injection -= dt.timedelta(days=1)
        rule += " minus one day (injected before midnight, scanned after)"
    rules.append(rule)
    return injection


def _decayed_dose_bq(ds: Any, rp: Any, dose_bq: float, source: str | None, rules: list[str],
                     series_earliest_acquisition: dt.datetime | None) -> float:
    correction = _text(ds, "DecayCorrection", source)
    if correction is None:
        raise _missing(source, "DecayCorrection", "knowing the reference time of the pixel values")
    if correction == "ADMIN":
        rules.append("DecayCorrection ADMIN: pixels are decay-corrected to the injection; dose not decayed")
        return dose_bq
    if correction not in ("START", "NONE"):
        raise _error(source, f"{_tag_label('DecayCorrection')} = {correction!r} is not START, ADMIN or NONE")
    half_life = _half_life_s(rp, ds, source, rules)
    if correction == "START":
        rules.append("DecayCorrection START: dose decayed from injection to scan start")
        reference = _scan_start(ds, source, half_life, rules, series_earliest_acquisition)
    else:
        reference = _frame_reference(ds, source, half_life, rules)
    injection = _injection(ds, rp, reference, source, rules)
    elapsed_s = (reference - injection).total_seconds()
    if elapsed_s < 0:
        raise _error(
            source,
            f"injection ({injection.isoformat()}, RadiopharmaceuticalStartDateTime (0018,1078) / "
            f"RadiopharmaceuticalStartTime (0018,1072)) is after the scan reference time "
            f"({reference.isoformat()}); correct the injection or series date/time",
        )
    if elapsed_s > _MAX_HALF_LIVES * half_life:
        raise _error(
            source,
            f"uptake time {elapsed_s / 3600:.1f} h between injection ({injection.isoformat()}) and scan "
            f"({reference.isoformat()}) exceeds {_MAX_HALF_LIVES:g} half-lives; check the dates",
        )
    rules.append(f"uptake time {elapsed_s:.1f} s")
    return decayed_activity_bq(dose_bq, elapsed_s, half_life)


def _radiopharmaceutical(ds: Any, source: str | None) -> Any:
    sequence = _value(ds, "RadiopharmaceuticalInformationSequence", source)
    if not sequence:
        raise _missing(source, "RadiopharmaceuticalInformationSequence", "SUV (dose, injection time, half-life)")
    return sequence[0]


def _positive_mass(mass_kg: float, formula: str, weight: float, height: float, source: str | None) -> float:
    """``mass_kg`` when positive; else SuvError: the formula is invalid for this patient (James' lean body
    mass falls below zero at high BMI, Sugawara's ideal body weight for short patients)."""
    if not mass_kg > 0:
        raise _error(source, f"{formula} is {mass_kg:.3g} kg for PatientWeight (0010,1030) {weight:g} kg and "
                             f"PatientSize (0010,1020) {height:g} m: the formula is invalid for this patient; "
                             "check the weight and height, or export the series in BQML")
    return mass_kg


def _body_size_factor(ds: Any, suv_type: str, source: str | None, rules: list[str]) -> float:
    """SUVbw / SUVx for a pixel already scaled as SUV of type ``suv_type`` [DICOM C.8.9.1, IBSI-SUV]."""
    weight = _weight_kg(ds, source)
    purpose = f"converting SUV Type {suv_type} back to SUVbw"
    if suv_type == "BW":
        rules.append("SUV Type BW: pixel values are SUVbw")
        return 1.0
    height = _height_m(ds, source, purpose)
    if suv_type in ("LBM", "LBMJAMES128"):
        sex = _sex(ds, source, purpose)
        lbm = _positive_mass(lean_body_mass_james_kg(weight, height, sex), "James (1976) lean body mass",
                             weight, height, source)
        rules.append(f"SUV Type {suv_type}: SUL by James (1976, constant 128); SUVbw = SUL x weight/LBM "
                     f"({weight:g}/{lbm:.4g} kg)")
        return weight / lbm
    if suv_type == "LBMJ":
        sex = _sex(ds, source, purpose)
        lbm = lean_body_mass_janmahasatian_kg(weight, height, sex)
        rules.append(f"SUV Type LBMJ: SUL by Janmahasatian (2005); SUVbw = SUL x weight/LBM "
                     f"({weight:g}/{lbm:.4g} kg)")
        return weight / lbm
    if suv_type == "IBW":
        sex = _sex(ds, source, purpose, allow_other=True)
        ibw = _positive_mass(ideal_body_weight_sugawara_kg(height, sex), "Sugawara (1999) ideal body weight",
                             weight, height, source)
        how = "" if sex in ("M", "F") else " (sex not M/F: mean of the male and female formulas)"
        rules.append(f"SUV Type IBW: Sugawara (1999) ideal body weight {ibw:.4g} kg{how}; "
                     f"SUVbw = SUVibw x weight/IBW")
        return weight / ibw
    if suv_type == "BSA":
        bsa_cm2 = body_surface_area_du_bois_m2(weight, height) * 1e4
        rules.append(f"SUV Type BSA: Du Bois (1916) body surface area {bsa_cm2:.5g} cm2; "
                     f"SUVbw = SUVbsa x weight(g)/BSA(cm2)")
        return weight * 1000.0 / bsa_cm2
    raise _error(source, f"{_tag_label('SUVType')} = {suv_type!r} is not supported (BW, LBM, LBMJAMES128, LBMJ, "
                         "IBW, BSA)")


def suv_bw_explained(
    dataset: Any,
    *,
    source: str | None = None,
    series_earliest_acquisition: dt.datetime | None = None,
) -> SuvFactor:
    """The SUVbw factor of one PET instance and the header rules that gave it.

    Follows the QIBA vendor-neutral pseudo-code [QIBA], extended as in the IBSI SUV manual [IBSI-SUV]:

    - Units (0054,1001) ``BQML``: ``weight (g) / decayed dose (Bq)``.
    - ``CNTS``: the Philips SUV scale factor (7053,1000) if present (it gives SUVbw directly), else the
      activity concentration scale factor (7053,1009) to Bq/ml, then as BQML.
    - ``GML`` / ``CM2ML``: pixels are already an SUV; the SUV Type (0054,1006) says which (absent: BW for
      GML [QIBA], BSA for CM2ML [DICOM]) and the factor converts it back to SUVbw.
    - DecayCorrection ``START``: dose decayed from injection to the scan start: SeriesDate/Time, unless it
      is after the acquisition (post-processed series): then the GE private scan date-time (0009,100D),
      else the scan start back-computed from this frame (AcquisitionTime + average count time -
      FrameReferenceTime; only with both frame times > 0 [calculate-suv] and a start not after the
      frame's), else the earliest acquisition time. ``ADMIN``: no decay. ``NONE``: dose decayed
      to this frame's average count time (per-frame acquisition times).
    - Injection: RadiopharmaceuticalStartDateTime, else RadiopharmaceuticalStartTime on the SeriesDate
      (one day earlier if that falls after the scan: injected before midnight).

    Parameters
    ----------
    dataset
        A pydicom Dataset of a PET instance (pixel data not needed).
    source
        The file name to put in error messages (default: ``dataset.filename`` if set).
    series_earliest_acquisition
        The earliest acquisition date-time of the whole series, for the QIBA "series time after
        acquisition time" test (default: this instance's).

    Raises
    ------
    SuvError
        A needed tag is missing or implausible; the message names it as ``Keyword (gggg,eeee)``.
    """
    if source is None:
        filename = getattr(dataset, "filename", None)
        source = str(filename) if isinstance(filename, (str, bytes)) or hasattr(filename, "__fspath__") else None
    rules: list[str] = []
    units = _text(dataset, "Units", source)
    if units is None:
        raise _missing(source, "Units", "knowing what the pixel values measure")
    if units in ("GML", "CM2ML"):
        default = "BW" if units == "GML" else "BSA"
        suv_type = _text(dataset, "SUVType", source)
        if suv_type is None:
            rules.append(f"Units {units} with no SUV Type (0054,1006): read as SUV Type {default}")
            suv_type = default
        elif (units == "CM2ML") != (suv_type == "BSA"):
            raise _error(source, f"{_tag_label('Units')} {units} contradicts {_tag_label('SUVType')} {suv_type}")
        rules.insert(0, f"Units {units}: pixel values are already an SUV")
        factor = _checked_factor(_body_size_factor(dataset, suv_type, source, rules), source,
                                 f"SUV Type {suv_type} from PatientWeight (0010,1030), PatientSize (0010,1020) and "
                                 "PatientSex (0010,0040) (the body-size formula is invalid for this patient)")
        return SuvFactor(factor=factor, rules=rules, units=units, source=source)
    if units == "CNTS":
        suv_scale = _private_number(dataset, _PHILIPS_SUV_SCALE, "Philips private SUV scale factor (7053,1000)",
                                    source)
        if suv_scale is not None:
            rules.append(f"Units CNTS: Philips private SUV scale factor (7053,1000) = {suv_scale:g}")
            return SuvFactor(factor=suv_scale, rules=rules, units=units, source=source)
        activity_scale = _private_number(dataset, _PHILIPS_ACTIVITY_SCALE,
                                         "Philips private activity concentration scale factor (7053,1009)", source)
        if activity_scale is None:
            raise _error(
                source,
                "Units CNTS needs the Philips private SUV scale factor (7053,1000) or activity concentration "
                "scale factor (7053,1009); neither is present: export the series in BQML",
            )
        bq_per_count = activity_scale
        rules.append(f"Units CNTS: Philips private activity concentration scale factor (7053,1009) = "
                     f"{bq_per_count:g} Bq/ml per count")
    elif units == "BQML":
        bq_per_count = 1.0
        rules.append("Units BQML: pixel values are activity concentration (Bq/ml)")
    else:
        raise _error(source, f"{_tag_label('Units')} = {units!r} is not supported (BQML, CNTS, GML, CM2ML)")
    corrected = _value(dataset, "CorrectedImage", source)
    if corrected is not None:
        flags = {str(flag).upper() for flag in ([corrected] if isinstance(corrected, str) else corrected)}
        if "ATTN" not in flags:
            raise _error(source, f"{_tag_label('CorrectedImage')} = {sorted(flags)} lacks ATTN: the SUV of an "
                                 "image without attenuation correction is meaningless")
    weight = _weight_kg(dataset, source)
    rp = _radiopharmaceutical(dataset, source)
    dose = _dose_bq(rp, source, rules)
    decayed = _decayed_dose_bq(dataset, rp, dose, source, rules, series_earliest_acquisition)
    rules.append(f"SUVbw = {bq_per_count:g} x weight {weight:g} kg x 1000 / decayed dose {decayed / 1e6:.6g} MBq")
    factor = _checked_factor(bq_per_count * suv_bw_scale(weight, decayed), source,
                             "from PatientWeight (0010,1030), RadionuclideTotalDose (0018,1074) and the decay "
                             "correction (0054,1102)")
    return SuvFactor(factor=factor, rules=rules, units=units, source=source)


def suv_bw_factor(dataset: Any) -> float:
    """The factor turning this PET instance's rescaled pixel values into SUVbw (g/ml).

    See :func:`suv_bw_explained` for the rules; this returns only ``.factor``.

    Raises
    ------
    SuvError
        A needed tag is missing or implausible (the message names it).
    """
    return suv_bw_explained(dataset).factor


def sul_factor(dataset: Any, formula: str = "janmahasatian") -> float:
    """The factor turning rescaled pixel values into SUL (SUV normalised by lean body mass, g/ml).

    ``SUL = SUVbw x LBM / weight`` with LBM by Janmahasatian (2005, default) or James (1976; PERCIST,
    constant 128) [Wahl 2009 PERCIST; IBSI-SUV].

    Parameters
    ----------
    dataset
        A pydicom Dataset of a PET instance (needs PatientSize and PatientSex M/F besides the SUVbw tags).
    formula
        ``"janmahasatian"`` or ``"james"``.
    """
    formulas = {"janmahasatian": lean_body_mass_janmahasatian_kg, "james": lean_body_mass_james_kg}
    if formula not in formulas:
        raise ValueError(f"formula must be one of {sorted(formulas)}, got {formula!r}")
    explained = suv_bw_explained(dataset)
    source = explained.source
    purpose = f"SUL ({formula} lean body mass)"
    weight = _weight_kg(dataset, source)
    height = _height_m(dataset, source, purpose)
    sex = _sex(dataset, source, purpose)
    lbm = formulas[formula](weight, height, sex)
    if not lbm > 0:
        raise _error(source, f"{formula} lean body mass is {lbm:.3g} kg for weight {weight:g} kg and height "
                             f"{height:g} m (formula invalid at this BMI); use formula='janmahasatian'")
    return _checked_factor(explained.factor * lbm / weight, source,
                           "SUL from PatientWeight (0010,1030), PatientSize (0010,1020) and PatientSex (0010,0040)")
