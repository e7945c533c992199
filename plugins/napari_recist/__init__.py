"""napari plugin for recist: read DICOM and case files, measure lesions, see responses (thin UI over recist).

Contributions (``napari.yaml``, npe2 name ``recist``): a reader (DICOM folders, case files), the sample
patient, and three dock widgets: "Measurement", "Case table" and "Timepoint comparison"
(:mod:`napari_recist._widgets`; each is built from a viewer and optionally a controller, so a review
widget can reuse them). The Qt-free logic lives in :mod:`napari_recist._controller` (the case being
read) and :mod:`napari_recist._world` (world <-> patient coordinates); see docs/plugin.md.
"""
