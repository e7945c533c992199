"""``recist sample OUT``: write the synthetic NET patient (CT + 68Ga-DOTATATE PET, three timepoints)."""

from __future__ import annotations

import argparse
import sys

from recist.cli._output import add_force_argument, output_folder

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sample`` subcommand."""
    parser = subparsers.add_parser(
        "sample",
        help="write the synthetic NET patient (DICOM CT and PET, masks, ground-truth case file)",
        description="Write a synthetic neuroendocrine-tumour patient: contrast CT and 68Ga-DOTATATE PET DICOM "
        "series at baseline, week 12 and week 24, lesion and organ masks (NIfTI) in the CT geometry, the "
        "ground-truth case file (case.json) and every generator value (truth.json). The same seed writes "
        "byte-identical files. See docs/sample_data.md.",
    )
    parser.add_argument("out", metavar="OUT", help="folder to write into (created; must be new or empty)")
    parser.add_argument("--size", choices=("small", "full"), default="small",
                        help="small: CT 128x128x36 at 3x3x5 mm (about 5 MB); "
                        "full: CT 512x512x144 at 0.75x0.75x1.25 mm (about 230 MB)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: %(default)s = the built-in seed)")
    add_force_argument(parser)
    parser.set_defaults(func=_handle)


def _handle(args: argparse.Namespace) -> int:
    from recist.synthetic.sample_patient import make_sample_patient

    output_folder(args.out, force=args.force)
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=10, desc="sample patient", unit="step", file=sys.stderr, leave=False)
    try:
        patient = make_sample_patient(args.out, seed=args.seed, size=args.size,
                                      progress=(lambda message: bar.update(1)) if bar else None)
    finally:
        if bar is not None:
            bar.close()
    ct = "x".join(str(n) for n in patient.ct_shape[::-1])
    pet = "x".join(str(n) for n in patient.pet_shape[::-1])
    print(f"wrote the {patient.size} sample patient {patient.subject} to {patient.out_dir} "
          f"({len(patient.files)} files; CT {ct} at {_mm(patient.ct_spacing_mm)}, PET {pet} at "
          f"{_mm(patient.pet_spacing_mm)})")
    for tp in patient.timepoints:
        print(f"  {tp.label} ({tp.date.isoformat()}): {tp.ct_dir} {tp.pet_dir} {tp.lesion_mask.name} {tp.organ_mask.name}")
        for lesion in tp.lesions:
            size = f"long axis {lesion.long_axis_mm:.1f} mm"
            if lesion.nodal:
                size += f", short axis {lesion.short_axis_mm:.1f} mm"
            print(f"    {lesion.id:<4} {lesion.role:<10} {lesion.site:<28} {size}, SUVbw {lesion.suv_bw:g} "
                  f"(mask label {lesion.label})")
    print(f"  case file: {patient.case_path}")
    print(f"  ground truth: {patient.truth_path}")
    return 0


def _mm(spacing_zyx: tuple[float, float, float]) -> str:
    return "x".join(f"{v:g}" for v in spacing_zyx[::-1]) + " mm"
