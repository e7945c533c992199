"""Issue #14 §5: the synthetic-data generators moved to recist.synthetic; scripts that import them from
their former places (recist.io.sample, recist.io.trial_sim, recist.review.simulated) keep working."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(("former", "moved", "names"), [
    ("recist.io.sample", "recist.synthetic.sample_patient", ["make_sample_patient"]),
    ("recist.io.trial_sim", "recist.synthetic.trial_sim", ["simulate_trial", "write_trial"]),
    ("recist.review.simulated", "recist.synthetic.review_sim", ["run_central_review", "choose_read"]),
])
def test_former_module_paths_import_the_moved_modules(former: str, moved: str, names: list[str]) -> None:
    old, new = importlib.import_module(former), importlib.import_module(moved)
    assert old is new
    for name in names:  # `from recist.io.trial_sim import simulate_trial` as a script writes it
        assert getattr(__import__(former, fromlist=[name]), name) is getattr(new, name)
