"""Read DICOM SR Measurement Reports (TID 1500) back into cases.

Reads what :mod:`recist.export.dicom_sr` writes, exactly, and TID 1500 reports from other tools: a
measurement group (TID 1501 or the planar/volumetric ROI groups TID 1410/1411) with a tracking
identifier and a lesion diameter becomes a lesion, its Long axis / Short axis (or Length, Diameter)
measurements the lesion's axes in mm. The SNOMED CT codes and the legacy SNOMED-RT (SRT) codes that
OHIF/dcmjs still write (``G-A185`` long axis, ``G-A186`` short axis, ``G-D7FE`` length, ``G-D785``
diameter) are both recognised. A group without recist's role evaluation is taken as a target lesion (a
tracked length measurement is what other tools write for RECIST targets); a site naming a lymph node
makes it nodal. A group that is not a lesion measurement (whole-image statistics, areas, volumes, SUV, an
anatomical structure such as the aorta) is skipped with one warning naming the group and the reason; it
never becomes a target. A document with no lesion group is skipped with a warning.

Documents are grouped by subject (Clinical Trial Subject ID, else the Subject ID of the observation
context (DCM 121030, written by recist when the images' patient is not the trial subject), else Patient ID) and observer (Person
Observer Name), one case per group, one timepoint per document, in order of study date and then of the
Time Point Order. The timepoint's label is the Time Point of TID 1502 (else the Series Description or the
study date), its date the Study Date.

Coordinates: SCOORD3D values are 32-bit floats in DICOM; each is read back as the shortest decimal of its
float32, so line endpoints with up to 7 significant digits return exactly. Two-dimensional SCOORD lines
(pixel coordinates of the referenced image) are converted to patient coordinates with that image's
geometry when its header is given (``images=``, ``recist import sr --images``); a length recorded in
pixels (UCUM ``1`` "px", as dcmjs writes without calibration) is converted with the image's Pixel
Spacing, and refused when the image is not given.

Every malformed, truncated or unreadable document raises :class:`~recist.errors.ExchangeError` naming the
file and, inside the document, the content item (its position in the content tree, e.g. ``content item
1.5.3.8``); unrecognised codes are named by (scheme, value, meaning). Warnings of pydicom are not
passed on: what matters is in the error or in the warnings returned by :func:`import_sr`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recist.errors import ExchangeError, RecistValidationError
from recist.io import sr_codes
from recist.io.sr_document import _Document, _Group, read_sr_files
from recist.model.case import Case, Protocol
from recist.model.validate import parse_case

__all__ = ["ImportedSR", "SrImport", "read_sr_files", "cases_from_sr", "import_sr"]


def _reverse(table: dict[str, tuple[str, str, str]]) -> dict[tuple[str, str], str]:
    return {code[:2]: key for key, code in table.items()}


_TARGET_STATES = _reverse(sr_codes.TARGET_STATE_VALUES)
_NON_TARGET_STATES = _reverse(sr_codes.NON_TARGET_STATE_VALUES)


@dataclass(frozen=True)
class ImportedSR:
    """One case rebuilt from SR documents: one subject as read by one observer."""

    case: Case
    observer: str
    files: tuple[Path, ...]


@dataclass(frozen=True)
class SrImport:
    """What :func:`import_sr` made: the cases and one warning line per group or document skipped."""

    results: list[ImportedSR]
    warnings: list[str]


def _entry(doc: _Document, group: _Group, kind: str) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    fragments = []
    for axis in group.axes:
        key, value, line, image, where = axis.key, axis.value, axis.line, axis.image, axis.where
        if group.state is not None and _TARGET_STATES.get(group.state[0]) == "split":
            fragments.append(value)
            continue
        if key in entry:
            raise ExchangeError(
                f"{doc.path.name}, {where}: a second {key.removesuffix('_mm').replace('_', ' ')}"
            )
        entry[key] = value
        if line is not None and kind != "non_target":
            entry[key.replace("_mm", "_line")] = line
        if image is not None and group.image is None:
            group.image = image
    if fragments:
        entry["fragments_mm"] = fragments
    if group.image is not None:
        entry["image"] = group.image
    return entry


def _state(doc: _Document, group: _Group, table: dict[tuple[str, str], str]) -> str:
    assert group.state is not None
    code, where = group.state
    if code not in table:
        raise ExchangeError(
            f"{doc.path.name}, {where}: lesion state {code} does not apply to this kind of lesion"
        )
    return table[code]


def _timepoint(doc: _Document, lesions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    targets: dict[str, Any] = {}
    non_targets: dict[str, Any] = {}
    new_lesions: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for group in doc.groups:
        if group.lesion_id in seen:
            raise ExchangeError(
                f"{doc.path.name}, {group.where}: lesion {group.lesion_id!r} is also measured in {seen[group.lesion_id]}; "
                "give each lesion its own tracking identifier (or label) in the document"
            )
        seen[group.lesion_id] = group.where
        site = group.site or "unspecified"
        nodal = group.nodal if group.nodal is not None else "node" in site.lower()
        role = group.role or "target"
        if role == "new":
            new = {"id": group.lesion_id, "site": site, "nodal": nodal, "equivocal": bool(group.equivocal)}
            new.update(_entry(doc, group, "new"))
            if group.new_lesion_role is not None:
                new["role"] = group.new_lesion_role
            if group.state is not None:
                new["state"] = _state(doc, group, _NON_TARGET_STATES)
            if group.increased:
                new["increased_since_previous"] = True
            new_lesions.append(new)
            continue
        lesion = {"id": group.lesion_id, "role": role, "site": site, "nodal": nodal}
        lesions.setdefault(group.lesion_id, lesion | ({"method": group.method} if group.method else {}))
        if role == "target":
            entry = _entry(doc, group, "target")
            if group.state is not None:
                entry["state"] = _state(doc, group, _TARGET_STATES)
            if group.merged_into is not None:
                entry["merged_into"] = group.merged_into
            targets[group.lesion_id] = entry
        else:
            entry = _entry(doc, group, "non_target")
            entry["state"] = _state(doc, group, _NON_TARGET_STATES) if group.state is not None else "present"
            if group.increased:
                entry["increased_since_previous"] = True
            if group.point_mm is not None:
                entry["point_mm"] = group.point_mm
            non_targets[group.lesion_id] = entry
    return {
        "label": doc.label or doc.date.isoformat(),
        "date": doc.date.isoformat(),
        "targets": targets,
        "non_targets": non_targets,
        "new_lesions": new_lesions,
        "images": doc.images,
    }


def cases_from_sr(documents: Sequence[_Document], *, protocol: Protocol | None = None) -> list[ImportedSR]:
    """Assemble parsed SR documents into one case per subject per observer.

    Raises
    ------
    ExchangeError
        Two documents for the same subject, observer and date; documents that do not make a valid case
        (the message names the files).
    """
    by_key: dict[tuple[str, str], list[_Document]] = {}
    for doc in documents:
        by_key.setdefault((doc.subject, doc.observer), []).append(doc)
    results = []
    for (subject, observer), docs in by_key.items():
        docs.sort(key=lambda d: (d.date, d.order if d.order is not None else d.instance))
        lesions: dict[str, dict[str, Any]] = {}
        timepoints = [_timepoint(doc, lesions) for doc in docs]
        data: dict[str, Any] = {
            "format": "recist.case/1",
            "subject": subject,
            "lesions": list(lesions.values()),
            "timepoints": timepoints,
        }
        if protocol is not None:
            data["protocol"] = protocol.model_dump(mode="json")
        names = ", ".join(d.path.name for d in docs)
        try:
            case = parse_case(data, source=f"SR of subject {subject}")
        except RecistValidationError as exc:
            raise ExchangeError(f"the SR documents {names} do not make a valid case: {exc}") from None
        results.append(ImportedSR(case=case, observer=observer, files=tuple(d.path for d in docs)))
    return results


def import_sr(
    paths: Iterable[str | os.PathLike[str]],
    *,
    images: Mapping[str, Any] | None = None,
    protocol: Protocol | None = None,
    warnings: list[str] | None = None,
    skip_others: bool = False,
) -> SrImport:
    """Read SR files into cases, skipping what is not a lesion measurement with a warning line each.

    Parameters
    ----------
    paths
        SR files.
    images
        Image headers by SOP Instance UID, for lines and lengths given in pixels (see :func:`read_sr_files`).
    protocol
        Protocol options of every case.
    warnings
        A list that receives the warning lines as they arise (so a caller can show them even when the
        import then fails); also returned in :attr:`SrImport.warnings`.
    skip_others
        Skip files that are not DICOM or not SR documents with a warning each (for a folder that mixes
        SRs with images or a DICOMDIR) instead of refusing them.

    Raises
    ------
    ExchangeError
        No file given; an unreadable, truncated or malformed file (naming it); no document with a lesion.
    """
    files = [Path(p) for p in paths]
    if not files:
        raise ExchangeError("no SR file given (the folder is empty?)")
    notes = warnings if warnings is not None else []
    documents = read_sr_files(files, images=images, skipped=notes if skip_others else None)
    notes.extend(line for doc in documents for line in doc.warnings)
    kept = []
    for doc in documents:
        if doc.groups:
            kept.append(doc)
        else:
            notes.append(f"{doc.path.name}: skipped: no lesion measurement group in the document")
    if not kept:
        raise ExchangeError(
            f"nothing to import: none of the {len(files)} file(s) is an SR document with a lesion measurement group "
            "(TID 1501 with a Long Axis, Short Axis, Length or Diameter)"
        )
    return SrImport(cases_from_sr(kept, protocol=protocol), notes)
