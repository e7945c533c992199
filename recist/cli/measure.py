"""``recist measure MASK [--image SERIES]``: RECIST long/short axes and volume of every label of a mask.

MASK is a label image SimpleITK can read (NIfTI .nii/.nii.gz, NRRD, MHA; 0 = background, every positive
integer a lesion). With ``--image`` (a DICOM series folder) the mask must lie on that series' voxel grid
(size, spacing, origin, direction within rounding tolerance) and the series' geometry is used; without
it, the mask file's own header geometry is used. A folder holding several series (a reader package with
CT and PET) is narrowed to the one given by ``--series-uid``, else to the only series whose grid has the
mask's size. Definitions: ``docs/measurement.md``.

The slice of each lesion (the one holding its long axis) is given as the DICOM InstanceNumber with
``--image`` (column ``image``, JSON ``instance_number``: the number a PACS shows), and as the 0-based
array index ``slice_index`` (column ``z idx`` without ``--image``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["register"]

FORMAT = "recist.measure/1"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``measure`` subcommand."""
    parser = subparsers.add_parser(
        "measure",
        help="long axis, short axis, slice and volume of every label of a lesion mask",
        description="Measure every label of a lesion mask: RECIST long axis (longest in-plane diameter "
        "over the axial slices), short axis (longest chord perpendicular to it in that slice), "
        "volume, and the endpoints in patient LPS mm.",
    )
    parser.add_argument("mask", help="label image file readable by SimpleITK (.nii, .nii.gz, .nrrd, .mha)")
    parser.add_argument(
        "--image",
        metavar="SERIES",
        help="DICOM series folder the mask was drawn on; its geometry must match the mask's "
        "(default: use the mask file's own geometry)",
    )
    parser.add_argument("--series-uid", metavar="UID",
                        help="with --image: which series of the folder (default: its only series, or the only one "
                             "whose grid matches the mask)")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    parser.set_defaults(func=_handle)


def _read_label_image(path: str) -> tuple[Any, Any]:
    """Read a label image with SimpleITK; return (array (z, y, x) of integers, ImageGeometry).

    SimpleITK's spacing is (x, y, z): reversed here, the one place this module converts axes.
    """
    import numpy as np
    import SimpleITK as sitk

    from recist.errors import MeasurementError
    from recist.measure.geometry import ImageGeometry

    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        first_line = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
        raise MeasurementError(
            f"cannot read mask {path}: {first_line}. Give a NIfTI, NRRD or MHA label image"
        ) from exc
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise MeasurementError(
            f"mask {path} must be a 3-D single-component label image, got {image.GetDimension()}-D with "
            f"{image.GetNumberOfComponentsPerPixel()} component(s)"
        )
    array = sitk.GetArrayFromImage(image)
    if not np.issubdtype(array.dtype, np.integer):
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise MeasurementError(
                f"mask {path} holds non-integer values ({array.dtype}); a label image needs integer labels"
            )
        array = array.astype(np.int64)
    geometry = ImageGeometry.from_arrays(
        shape=array.shape,
        spacing_mm=image.GetSpacing()[::-1],
        origin_mm=image.GetOrigin(),
        direction=np.reshape(image.GetDirection(), (3, 3)),
    )
    return array, geometry


def _handle(args: argparse.Namespace) -> int:
    from recist.measure.diameters import measure_lesions
    from recist.measure.geometry import ImageGeometry, check_same_geometry

    labels, geometry = _read_label_image(args.mask)
    instance_numbers: list[int | None] | None = None
    if args.series_uid is not None and args.image is None:
        from recist.errors import MeasurementError

        raise MeasurementError("--series-uid chooses a series of --image; give --image FOLDER too")
    if args.image is not None:
        from recist.io.dicom import load_series, select_series

        shape = labels.shape
        volume = load_series(select_series(args.image, series_uid=args.series_uid,
                                           fits=lambda s: (s.num_slices, s.rows, s.columns) == shape))
        instance_numbers = [_instance_number(h) for h in volume.headers]
        image_geometry = ImageGeometry.from_arrays(
            shape=volume.array.shape,
            spacing_mm=volume.spacing_mm,
            origin_mm=volume.origin_mm,
            direction=volume.direction,
        )
        check_same_geometry(image_geometry, geometry, image_source=str(args.image), mask_source=str(args.mask))
        geometry = image_geometry
    lesions = measure_lesions(
        labels,
        spacing_mm=geometry.spacing_mm,
        origin_mm=geometry.origin_mm,
        direction=geometry.direction,
        source=str(args.mask),
    )
    report = {
        "format": FORMAT,
        "mask": str(args.mask),
        "image": None if args.image is None else str(args.image),
        "spacing_mm": list(geometry.spacing_mm),
        "lesions": [
            {
                "label": lesion.label,
                "long_axis_mm": round(lesion.long_axis_mm, 3),
                "short_axis_mm": round(lesion.short_axis_mm, 3),
                "slice_index": lesion.slice_index,
                "instance_number": None if instance_numbers is None else instance_numbers[lesion.slice_index],
                "volume_ml": round(lesion.volume_ml, 4),
                "voxel_count": lesion.voxel_count,
                "long_axis_endpoints_lps_mm": _rounded(lesion.long_axis_endpoints_lps_mm),
                "short_axis_endpoints_lps_mm": _rounded(lesion.short_axis_endpoints_lps_mm),
                "long_axis_endpoints_zyx": _rounded(lesion.long_axis_endpoints_zyx),
                "short_axis_endpoints_zyx": _rounded(lesion.short_axis_endpoints_zyx),
            }
            for lesion in lesions
        ],
    }
    if args.format == "json":
        json.dump(report, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        _print_table(report)
    return 0


def _rounded(points: Any) -> list[list[float]]:
    return [[round(float(v), 3) for v in point] for point in points]


def _instance_number(header: Any) -> int | None:
    """The slice's DICOM InstanceNumber (0020,0013), None when absent or unreadable."""
    try:
        value = header.get("InstanceNumber")
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _slice_cell(lesion: dict, on_image: bool) -> str:
    if not on_image:
        return str(lesion["slice_index"])
    number = lesion["instance_number"]
    return "-" if number is None else str(number)


def _print_table(report: dict) -> None:
    on_image = bool(report["image"])
    print(f"mask {report['mask']}" + (f" on image {report['image']}" if on_image else " (own geometry)"))
    slice_label = "image" if on_image else "z idx"
    header = (
        f"{'label':>5} {'long mm':>8} {'short mm':>8} {slice_label:>5} {'vol mL':>8}  "
        "long axis endpoints LPS mm / short axis endpoints LPS mm"
    )
    print(header)
    for lesion in report["lesions"]:
        long_ends = " -> ".join(_point(p) for p in lesion["long_axis_endpoints_lps_mm"])
        short_ends = " -> ".join(_point(p) for p in lesion["short_axis_endpoints_lps_mm"])
        print(
            f"{lesion['label']:>5} {lesion['long_axis_mm']:8.1f} {lesion['short_axis_mm']:8.1f} "
            f"{_slice_cell(lesion, on_image):>5} {lesion['volume_ml']:8.2f}  {long_ends} / {short_ends}"
        )


def _point(point: list[float]) -> str:
    return "(" + ", ".join(f"{v:.1f}" for v in point) + ")"
