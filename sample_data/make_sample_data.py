"""Regenerate ``sample_data/patient/``: the small synthetic NET patient committed to the repository.

Run from the repository root::

    .venv/bin/python sample_data/make_sample_data.py

The output is byte-identical for the same seed (see ``docs/sample_data.md``), so ``git status`` after a
run shows no change unless the generator changed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from recist.synthetic.sample_patient import DEFAULT_SEED, make_sample_patient

OUT = Path(__file__).resolve().parent / "patient"


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    patient = make_sample_patient(OUT, seed=DEFAULT_SEED, size="small")
    total = sum(path.stat().st_size for path in patient.files)
    print(f"wrote {len(patient.files)} files ({total / 1e6:.1f} MB) to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
