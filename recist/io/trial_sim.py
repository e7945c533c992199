"""Compatibility alias: this module moved to :mod:`recist.synthetic.trial_sim`.

Scripts that import it from here keep working; new code imports :mod:`recist.synthetic.trial_sim`.
"""

import sys as _sys

import recist.synthetic.trial_sim as _moved

_sys.modules[__name__] = _moved
