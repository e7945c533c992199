"""npe2 reader: a recist case file (with its images), or a DICOM folder / reader package, which starts a
new empty read (:mod:`napari_recist._start_read`; CT windowed, PET as fused SUVbw).

``get_reader`` only sniffs (a ``.json`` whose start names ``recist.case``, a folder holding a DICOM file
or a ``case.json``) and returns None for anything else; it never raises. The reader functions report
bad input with a napari notification naming the file and return the null sentinel ``[(None,)]``.
"""

from __future__ import annotations

import os
from pathlib import Path

from napari.utils.notifications import show_error, show_info

from napari_recist._layers import case_layers
from napari_recist._start_read import start_read
from recist.errors import RecistError

__all__ = ["get_reader", "read_path"]

_MAX_SNIFF_FILES = 200


def _is_case_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fp:
            head = fp.read(4096)
    except OSError:
        return False
    return b"recist.case/" in head


def _has_dicom(folder: Path) -> bool:
    seen = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            seen += 1
            if seen > _MAX_SNIFF_FILES:
                return False
            try:
                with open(os.path.join(root, name), "rb") as fp:
                    fp.seek(128)
                    if fp.read(4) == b"DICM":
                        return True
            except OSError:
                continue
    return False


def get_reader(path: str | list[str]):
    """Return :func:`read_path` for a readable path, else None (never raises)."""
    try:
        if isinstance(path, (list, tuple)):
            if len(path) != 1:
                return None
            path = path[0]
        p = Path(path)
        if p.is_file() and p.suffix.lower() == ".json":
            return read_path if _is_case_file(p) else None
        if p.is_dir() and ((p / "case.json").is_file() and _is_case_file(p / "case.json") or _has_dicom(p)):
            return read_path
    except (OSError, TypeError, ValueError):
        return None
    return None


def _working_copy(case_path: Path) -> Path:
    """The case file to read and autosave: the committed sample patient (ground truth in the repository,
    ``napari sample_data/patient`` of the README) is read in its working copy, as File > Open Sample does,
    so the reading never writes into the repository."""
    from napari_recist._sample_data import COMMITTED_SAMPLE, sample_folder

    try:
        committed = case_path.resolve().parent == COMMITTED_SAMPLE.resolve()
    except OSError:
        return case_path
    if not committed:
        return case_path
    work = sample_folder(COMMITTED_SAMPLE) / case_path.name
    show_info(f"recist: {case_path.parent} is the committed sample (ground truth): reading a working copy in "
              f"{work.parent}, where edits are saved")
    return work


def read_path(path: str | list[str]) -> list[tuple]:
    """Layer data of a case file, a folder with a ``case.json`` (the case and its images), or a DICOM folder
    or reader package: a new empty case is started from its series (:func:`napari_recist._start_read.start_read`)."""
    if isinstance(path, (list, tuple)):
        path = path[0]
    p = Path(path)
    if p.is_dir() and (p / "case.json").is_file():
        p = p / "case.json"
    if p.is_file():
        return case_layers(_working_copy(p))
    try:
        case_path = start_read(p)
    except RecistError as exc:
        show_error(f"recist: cannot start a read: {exc}")
        return [(None,)]
    show_info(f"recist: reading {case_path} (timepoints from the series; edits are saved there)")
    return case_layers(case_path)
