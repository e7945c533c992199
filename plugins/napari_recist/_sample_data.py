"""File > Open Sample > recist: the synthetic NET patient (CT + PET at three timepoints and its case).

The committed sample (``sample_data/patient`` of the source tree, written by
:func:`recist.synthetic.sample_patient.make_sample_patient`; docs/sample_data.md) is copied into a working folder under
the user cache (``$XDG_CACHE_HOME/recist/sample-patient``), so the reader's edits autosave there and never
touch the repository. Only when the committed copy is absent (an installed wheel has no ``sample_data``)
is the patient generated, straight into the working folder. Either way the working folder appears
complete or not at all (built beside it, then renamed), and an existing working copy is reused: the
reading goes on where it stopped.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from napari_recist._layers import case_layers

__all__ = ["sample_patient", "sample_folder", "COMMITTED_SAMPLE"]

logger = logging.getLogger(__name__)

#: The committed sample patient of a source checkout (absent from an installed wheel).
COMMITTED_SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "patient"


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "recist" / "sample-patient"


def sample_folder(committed: Path | None = None) -> Path:
    """The working copy of the sample patient, created on first use.

    Parameters
    ----------
    committed
        The committed sample to copy (default :data:`COMMITTED_SAMPLE`); generated when it holds no
        ``case.json``.
    """
    work = _cache_dir()
    if (work / "case.json").is_file():
        return work
    committed = COMMITTED_SAMPLE if committed is None else Path(committed)
    work.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sample-patient-", dir=work.parent))
    try:
        if (committed / "case.json").is_file():
            logger.info("copying the committed sample patient %s to %s", committed, work)
            shutil.copytree(committed, staging, dirs_exist_ok=True)
        else:
            from recist.synthetic.sample_patient import make_sample_patient

            logger.info("no committed sample patient at %s: generating it in %s", committed, work)
            make_sample_patient(staging)
        if work.exists():  # an incomplete earlier copy (no case.json)
            shutil.rmtree(work)
        os.replace(staging, work)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return work


def sample_patient() -> list[tuple]:
    """Layer data of the sample patient: every timepoint's CT and SUV PET, and the case's lines."""
    return case_layers(sample_folder() / "case.json")
