"""Benchmark: RECIST long + short axes of 30 lesions in a 512x512x200 label image, recist vs a
per-slice ``skimage.measure.regionprops(...).feret_diameter_max`` loop (long axis only).

Run: ``.venv/bin/python benchmarks/bench_axes.py [--repeat 5] [--seed 0]``

The label image (uint8, spacing (2.0, 0.75, 0.75) mm) holds 30 non-overlapping ellipsoids with
diameters 10-60 mm and random 3-D rotations. Each ellipsoid's analytic RECIST axes are the major and
minor axes of its largest sampled axial cross-section (the plane equation, not the voxels). Both methods
start from the label image: the baseline finds bounding boxes with ``scipy.ndimage.find_objects`` then
loops over each lesion's slices; recist's ``measure_lesions`` does everything (bounding boxes, long and
short axes, volume). Best of ``--repeat`` runs after one warm-up.

Goal (issue "geometry and lesion measurement"): recist >= 10x faster (stretch 20x) for long AND short
axes, with an equal or smaller mean absolute error of the long axis against the analytic diameters.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy import ndimage
from scipy.spatial.transform import Rotation
from skimage.measure import regionprops

from recist.measure.diameters import measure_lesions

SHAPE = (200, 512, 512)
SPACING_MM = np.array([2.0, 0.75, 0.75])
N_LESIONS = 30


def make_lesions(seed: int) -> tuple[np.ndarray, list[dict]]:
    """Label image and, per label, the analytic long/short axis (mm) of its largest sampled section."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(SHAPE, np.uint8)
    extent_mm = np.array(SHAPE) * SPACING_MM
    truth: list[dict] = []
    placed: list[tuple[np.ndarray, float]] = []
    while len(truth) < N_LESIONS:
        diameters = np.sort(rng.uniform(10, 60, 3))[::-1]
        radius = diameters[0] / 2
        centre = rng.uniform(radius + 5, extent_mm - radius - 5)
        if any(np.linalg.norm(centre - c) < radius + r + 2 for c, r in placed):
            continue
        placed.append((centre, radius))
        rotation = Rotation.random(random_state=rng.integers(2**31)).as_matrix()
        # quadric matrix in (z, y, x) mm: p^T A p <= 1
        a = rotation @ np.diag(1 / (diameters / 2) ** 2) @ rotation.T
        lo = np.maximum(np.floor((centre - radius) / SPACING_MM).astype(int), 0)
        hi = np.minimum(np.ceil((centre + radius) / SPACING_MM).astype(int) + 1, SHAPE)
        grids = np.meshgrid(*[np.arange(start, stop) * s - c for start, stop, s, c in zip(lo, hi, SPACING_MM, centre)],
                            indexing="ij")
        p = np.stack(grids, axis=-1)
        inside = np.einsum("...i,ij,...j->...", p, a, p) <= 1
        box = tuple(slice(start, stop) for start, stop in zip(lo, hi))
        labels[box][inside] = len(truth) + 1
        truth.append(_analytic_axes(a, centre, lo[0], hi[0]))
    return labels, truth


def _analytic_axes(a: np.ndarray, centre: np.ndarray, z_lo: int, z_hi: int) -> dict:
    """Largest axial section of the ellipsoid p^T A p <= 1 among the slices z_lo..z_hi-1."""
    a_pp, a_pz, a_zz = a[1:, 1:], a[1:, 0], a[0, 0]
    schur = a_zz - a_pz @ np.linalg.solve(a_pp, a_pz)
    eigen = np.linalg.eigvalsh(a_pp)  # ascending
    best = {"long_mm": 0.0, "short_mm": 0.0}
    for z in range(z_lo, z_hi):
        offset = z * SPACING_MM[0] - centre[0]
        level = 1 - schur * offset**2
        if level > 0:
            long_mm = 2 * math.sqrt(level / eigen[0])
            if long_mm > best["long_mm"]:
                best = {"long_mm": long_mm, "short_mm": 2 * math.sqrt(level / eigen[1])}
    return best


def baseline(labels: np.ndarray) -> list[float]:
    """Per lesion, per slice regionprops feret_diameter_max over each lesion's bounding box."""
    out = []
    for index, box in enumerate(ndimage.find_objects(labels)):
        if box is None:
            continue
        sub = labels[box] == index + 1
        best = 0.0
        for z in range(sub.shape[0]):
            if sub[z].any():
                props = regionprops(sub[z].astype(np.uint8), spacing=tuple(SPACING_MM[1:]))
                best = max(best, props[0].feret_diameter_max)
        out.append(best)
    return out


def recist_axes(labels: np.ndarray) -> list[tuple[float, float]]:
    return [(lesion.long_axis_mm, lesion.short_axis_mm) for lesion in measure_lesions(labels, spacing_mm=SPACING_MM)]


def best_time(fn, labels, repeat: int):
    result = fn(labels)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(labels)
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    labels, truth = make_lesions(args.seed)
    long_true = np.array([t["long_mm"] for t in truth])
    short_true = np.array([t["short_mm"] for t in truth])
    t_bbox, _ = best_time(ndimage.find_objects, labels, args.repeat)
    t_base, base = best_time(baseline, labels, args.repeat)
    t_ours, ours = best_time(recist_axes, labels, args.repeat)
    ours_long, ours_short = np.array(ours).T
    rows = [
        ("skimage feret loop (long only)", t_base, np.mean(np.abs(np.array(base) - long_true)), None),
        ("recist measure_lesions (long+short)", t_ours, np.mean(np.abs(ours_long - long_true)),
         np.mean(np.abs(ours_short - short_true))),
    ]
    print(f"{N_LESIONS} ellipsoids in {SHAPE[::-1]} (x, y, z) uint8 labels, spacing (z, y, x) "
          f"{tuple(float(s) for s in SPACING_MM)} mm; long axes {long_true.min():.1f}-{long_true.max():.1f} mm; "
          f"best of {args.repeat}")
    print(f"{'method':38s} {'time ms':>9s} {'long MAE mm':>12s} {'short MAE mm':>13s}")
    for name, seconds, long_mae, short_mae in rows:
        short = f"{short_mae:13.3f}" if short_mae is not None else f"{'-':>13s}"
        print(f"{name:38s} {seconds * 1e3:9.1f} {long_mae:12.3f} {short}")
    print(f"speed-up {t_base / t_ours:.1f}x (goal >= 10x, stretch 20x); "
          f"find_objects alone (inside both) {t_bbox * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
