"""Compatibility alias: this module moved to :mod:`recist.trial.pipeline`.

Scripts that import it from here keep working; new code imports :mod:`recist.trial.pipeline`.
"""

import sys as _sys

import recist.trial.pipeline as _moved

_sys.modules[__name__] = _moved
