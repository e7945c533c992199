"""Pure formulas behind SUV scale factors: radioactive decay and body-size normalisations.

Every function is a pure function of numbers in the units its name gives; :mod:`recist.measure.suv`
reads the DICOM header and applies them.

Sources
-------
- [QIBA] QIBA FDG-PET/CT Technical Committee, "Vendor-neutral pseudo-code for SUV calculation"
  (decayed dose, SUVbw scale).
- [IBSI-SUV] M. Vacha et al., "Comprehensive Manual for SUV Computation and Digital Reference Objects
  for its Verification" (IBSI / OncoRay, CC BY 4.0): decay during the frame (average count time).
- [James 1976] W.P.T. James, "Research on obesity", HMSO 1976 (lean body mass, constants 128/148),
  as used by PERCIST (Wahl et al., J Nucl Med 2009;50:122S).
- [Janmahasatian 2005] S. Janmahasatian et al., Clin Pharmacokinet 2005;44:1051-65 (lean body mass).
- [Sugawara 1999] Y. Sugawara et al., Radiology 1999;213:521-5 (ideal body weight for SUV).
- [Du Bois 1916] D. Du Bois, E.F. Du Bois, Arch Intern Med 1916;17:863 (body surface area).
"""

from __future__ import annotations

import math

__all__ = [
    "decayed_activity_bq",
    "average_count_time_s",
    "suv_bw_scale",
    "lean_body_mass_james_kg",
    "lean_body_mass_janmahasatian_kg",
    "ideal_body_weight_sugawara_kg",
    "body_surface_area_du_bois_m2",
]


def decayed_activity_bq(activity_bq: float, elapsed_s: float, half_life_s: float) -> float:
    """Activity left after ``elapsed_s`` seconds of physical decay.

    ``A(t) = A0 * exp(-ln(2) * t / T1/2)`` [QIBA] "decayed dose".

    Examples
    --------
    >>> round(decayed_activity_bq(400e6, 6586.2, 6586.2) / 1e6, 6)
    200.0
    """
    return activity_bq * math.exp(-math.log(2.0) * elapsed_s / half_life_s)


def average_count_time_s(frame_duration_s: float, half_life_s: float) -> float:
    """Time after the frame start at which the decaying activity equals its mean over the frame.

    ``t = ln(lambda*T / (1 - exp(-lambda*T))) / lambda`` with ``lambda = ln2/T1/2`` and ``T`` the frame
    duration [QIBA] ("average count rate time within frame"). It is slightly less than ``T/2``.

    Examples
    --------
    >>> round(average_count_time_s(600.0, 6586.2), 1)
    298.4
    """
    lam = math.log(2.0) / half_life_s
    x = lam * frame_duration_s
    if x == 0.0:
        return 0.0
    return math.log(x / -math.expm1(-x)) / lam


def suv_bw_scale(weight_kg: float, activity_bq: float) -> float:
    """SUVbw factor from activity concentration: ``weight (g) / activity (Bq)`` [QIBA].

    Multiplying an activity concentration in Bq/ml by this gives SUVbw in g/ml.

    Examples
    --------
    >>> suv_bw_scale(70.0, 350e6)
    0.0002
    """
    return weight_kg * 1000.0 / activity_bq


def lean_body_mass_james_kg(weight_kg: float, height_m: float, sex: str) -> float:
    """Lean body mass by James' formula, as used for SUL in PERCIST.

    Male: ``1.10 W - 128 (W/H)^2``; female: ``1.07 W - 148 (W/H)^2`` with W in kg and H in cm
    [James 1976]; PERCIST 1.0 (Wahl 2009) uses it for SUL. The constant 128 is James' (some
    software uses 120 for men; this is not that variant).

    Parameters
    ----------
    weight_kg, height_m
        Body weight (kg) and height (m).
    sex
        ``"M"`` or ``"F"`` (DICOM PatientSex); James gives no formula for other values.

    Examples
    --------
    >>> round(lean_body_mass_james_kg(70.0, 1.75, "M"), 2)
    56.52
    """
    ratio = weight_kg / (height_m * 100.0)
    if sex == "M":
        return 1.10 * weight_kg - 128.0 * ratio**2
    if sex == "F":
        return 1.07 * weight_kg - 148.0 * ratio**2
    raise ValueError(f"James' lean body mass needs sex 'M' or 'F', got {sex!r}")


def lean_body_mass_janmahasatian_kg(weight_kg: float, height_m: float, sex: str) -> float:
    """Lean body mass by Janmahasatian's formula.

    Male: ``9270 W / (6680 + 216 BMI)``; female: ``9270 W / (8780 + 244 BMI)``, BMI = W/H^2 in kg/m^2
    [Janmahasatian 2005], eq. for "lean body weight". Unlike James' formula it does not fall at high BMI.

    Examples
    --------
    >>> round(lean_body_mass_janmahasatian_kg(70.0, 1.75, "M"), 2)
    55.86
    """
    bmi = weight_kg / height_m**2
    if sex == "M":
        return 9270.0 * weight_kg / (6680.0 + 216.0 * bmi)
    if sex == "F":
        return 9270.0 * weight_kg / (8780.0 + 244.0 * bmi)
    raise ValueError(f"Janmahasatian's lean body mass needs sex 'M' or 'F', got {sex!r}")


def ideal_body_weight_sugawara_kg(height_m: float, sex: str) -> float:
    """Ideal body weight for SUV normalisation.

    Male: ``48.0 + 1.06 (H - 152)``; female: ``45.5 + 0.91 (H - 152)``, H in cm [Sugawara 1999].
    For any other sex (DICOM ``"O"``) this returns the mean of the two: our choice, not Sugawara's; it
    reproduces the IBSI-SUV object DRO_2_2 (sex O) to two decimals (see docs/pet.md).

    Examples
    --------
    >>> round(ideal_body_weight_sugawara_kg(1.75, "M"), 2)
    72.38
    """
    height_cm = height_m * 100.0
    male = 48.0 + 1.06 * (height_cm - 152.0)
    female = 45.5 + 0.91 * (height_cm - 152.0)
    if sex == "M":
        return male
    if sex == "F":
        return female
    return (male + female) / 2.0


def body_surface_area_du_bois_m2(weight_kg: float, height_m: float) -> float:
    """Body surface area ``0.007184 W^0.425 H^0.725`` (W kg, H cm) in m^2 [Du Bois 1916].

    Examples
    --------
    >>> round(body_surface_area_du_bois_m2(70.0, 1.75), 3)
    1.848
    """
    return 0.007184 * weight_kg**0.425 * (height_m * 100.0) ** 0.725
