"""CT window/level presets, PET display defaults and the plugin's keyboard shortcuts.

Window presets (width W / level L, Hounsfield units) are the usual abdominal-CT reading windows:
soft tissue W400/L40, liver W150/L90, lung W1500/L-600, bone W2000/L500 (see e.g. the Radiopaedia
article "Windowing (CT)", https://radiopaedia.org/articles/windowing-ct, and Hoang JK et al., "An
exponential growth in incidence of ... / CT window settings", AJR; the liver window is the narrow
contrast-enhanced liver setting W150/L90 used for hypodense metastases). The limits shown are
``[L - W/2, L + W/2]``.
"""

from __future__ import annotations

__all__ = ["WINDOWS", "contrast_limits", "PET_SUV_LIMITS", "PET_COLORMAP", "SHORTCUTS", "PREVIEW_KEYS"]

#: name -> (width HU, level HU)
WINDOWS: dict[str, tuple[float, float]] = {
    "soft tissue": (400.0, 40.0),
    "liver": (150.0, 90.0),
    "lung": (1500.0, -600.0),
    "bone": (2000.0, 500.0),
}

#: SUVbw display range of a fused PET, g/ml. Chosen for 68Ga-DOTATATE, whose physiological uptake is high:
#: liver ~7, spleen ~20 (the hottest normal organ besides kidneys and adrenals), NET lesions up to 30-40 and
#: more (e.g. the sample patient: tumours SUVmax 26-38, docs/sample_data.md). A 0-10 or 0-15 window (usual
#: for FDG) saturates spleen and every tumour alike; 0-30 keeps the order visible with the "hot" map:
#: liver ~23 % (red), spleen ~67 % (orange-yellow), tumours 87-100 % (yellow-white), only the hottest
#: saturate. Readers change it in the layer controls.
PET_SUV_LIMITS = (0.0, 30.0)
PET_COLORMAP = "hot"

#: key -> action (Qt key sequences; Qt shortcuts of the main window made by the measurement widget,
#: ``napari_recist._widgets._keys``). None of these keys is bound by napari (any layer type, the viewer or
#: its menus), so they reach the plugin whatever layer is active (tests/gui/test_keys.py checks both).
#: Shift+L is NOT used: it is the Shapes layer's "add polyline".
SHORTCUTS = {
    "Shift+D": "draw the long axis (diameter)",
    "Shift+S": "draw / adjust the short axis",
    "Shift+C": "confirm the proposed short axis of a node",
    "Shift+W": "mark where a non-target or new lesion is (then click)",
    "Shift+F": "measure from mask (then click inside the lesion; Enter accepts, Escape rejects)",
    "Ctrl+Z": "undo",
    "Ctrl+Shift+Z": "redo",
    "Shift+Del": "delete the lesion's measurement at this timepoint",
    "Shift+T": "next timepoint",
    "Alt+1": "window: soft tissue",
    "Alt+2": "window: liver",
    "Alt+3": "window: lung",
    "Alt+4": "window: bone",
}
#: Keys active only while a From-mask preview waits for the reader's decision.
PREVIEW_KEYS = {"Return": "accept the From-mask preview", "Enter": "accept the From-mask preview",
                "Escape": "reject the From-mask preview"}


def contrast_limits(name: str) -> tuple[float, float]:
    """``(L - W/2, L + W/2)`` of a window preset, HU."""
    width, level = WINDOWS[name]
    return level - width / 2, level + width / 2
