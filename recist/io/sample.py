"""Compatibility alias: this module moved to :mod:`recist.synthetic.sample_patient`.

Scripts that import it from here keep working; new code imports :mod:`recist.synthetic.sample_patient`.
"""

import sys as _sys

import recist.synthetic.sample_patient as _moved

_sys.modules[__name__] = _moved
