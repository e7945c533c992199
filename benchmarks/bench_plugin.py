"""Plugin speed: a changed measurement to the updated table model (10 timepoints x 10 lesions).

Goal: median <= 30 ms. Baseline measured in the same run: recist.assess alone on the same case.
(The viewer-side comparison, opening the sample CT through the plugin vs viewer.add_image, is not here.)
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from napari_recist._controller import CaseController

import recist


def main(repeats: int = 30) -> None:
    start = dt.date(2024, 1, 1)
    tps = [{"label": f"tp{i}", "date": (start + dt.timedelta(days=42 * i)).isoformat()} for i in range(10)]
    with tempfile.TemporaryDirectory() as tmp:
        ctl = CaseController.new("BENCH", tps, None)
        for lesion in range(10):
            for i, tp in enumerate(tps):
                y = 10.0 * lesion
                ctl.set_long_axis(tp["label"], f"T{lesion + 1}", (0, y, 0), (20 + i, y, 0), site=f"organ{lesion // 2}")
        ctl.path = Path(tmp) / "case.json"
        change, assess_only = [], []
        for k in range(repeats):
            t0 = time.perf_counter()
            ctl.set_long_axis("tp5", "T3", (0, 20, 0), (25 + k % 5, 20, 0))
            ctl.table()
            change.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            recist.assess(ctl.case)
            assess_only.append(time.perf_counter() - t0)
    print(f"{'measure':48s} {'median ms':>10s} {'max ms':>8s}")
    print(f"{'edit -> validate, autosave, assess, table':48s} {statistics.median(change) * 1e3:10.2f} "
          f"{max(change) * 1e3:8.2f}")
    print(f"{'baseline: recist.assess alone':48s} {statistics.median(assess_only) * 1e3:10.2f} "
          f"{max(assess_only) * 1e3:8.2f}")
    print(f"goal: median <= 30 ms -> {'met' if statistics.median(change) <= 0.030 else 'NOT met'}")


if __name__ == "__main__":
    main()
