"""Compatibility alias: this module moved to :mod:`recist.synthetic.review_sim`.

Scripts that import it from here keep working; new code imports :mod:`recist.synthetic.review_sim`.
"""

import sys as _sys

import recist.synthetic.review_sim as _moved

_sys.modules[__name__] = _moved
