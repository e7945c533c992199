"""napari plugin for recist: read DICOM and case files, measure lesions, see responses (thin UI over recist).

Contributions (``napari.yaml``, npe2 name ``recist``): a reader (DICOM folders, case files), the sample
patient, and four dock widgets: "Measurement", "Case table", "Timepoint comparison" and "Review"
(:mod:`napari_recist._widgets`; each is built from a viewer and optionally a controller, and the Review
widget reuses the first two for central-review reads). The Qt-free logic lives in :mod:`napari_recist._controller` (the case being
read) and :mod:`napari_recist._world` (world <-> patient coordinates); see docs/plugin.md.
"""
