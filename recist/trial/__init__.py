"""recist.trial: the trial pipeline (assess every subject, endpoints, figures, report) behind
``recist batch``, ``recist report`` and ``make demo``; see docs/batch.md.

The pipeline is not an export: it orchestrates the rules, the endpoints and the exports. The former
module path ``recist.trial.pipeline`` still imports (a compatibility alias of
:mod:`recist.trial.pipeline`).
"""
