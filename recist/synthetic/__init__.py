"""recist.synthetic: generators of synthetic data (not I/O, not review): the sample NET patient
(:mod:`~recist.synthetic.sample_patient`), a simulated trial shaped like NCT04954820
(:mod:`~recist.synthetic.trial_sim`) and its simulated blinded central review
(:mod:`~recist.synthetic.review_sim`).

Used by ``recist sample``, ``recist simulate``, ``make demo``, the napari plugin's sample and the tests.
The former module paths ``recist.io.sample``, ``recist.io.trial_sim`` and ``recist.review.simulated``
still import (compatibility aliases of these modules).
"""
