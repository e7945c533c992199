"""iRECIST ([iR17] Seymour et al., Lancet Oncol 2017;18:e143-e152; [iR-FAQ] recist.eortc.org/irecist).

iRECIST is computed on top of the RECIST 1.1 engine's time-point results: the target and non-target
categories are RECIST 1.1's (I1); this package adds what iRECIST changes: unconfirmed progression (iUPD)
and its confirmation (iCPD), the reset after iSD/iPR/iCR, new-lesion targets and non-targets, and the
best overall response iBOR. Each rule is one small pure function citing its source:

- :mod:`.window` the 4-8 week confirmation window (I2, I3);
- :mod:`.new_lesions` additional new lesions and new-lesion growth (I4 c-d, I6, I7);
- :mod:`.confirmation` what confirms iCPD (I4, I5);
- :mod:`.timepoint` the time-point response and the reset (Table 2, I6, I8);
- :mod:`.best_response` iBOR (Table 3, I9);
- :mod:`.assess` the walk through a case's follow-ups.
"""
