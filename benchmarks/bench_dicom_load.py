"""Benchmark: load a 512x512x300 uncompressed CT series with recist vs SimpleITK and a pydicom loop.

Run: ``.venv/bin/python benchmarks/bench_dicom_load.py [--slices 300] [--repeat 3]``

The series is generated in a temporary folder with pydicom. Every reader runs as its own Python
process (whole-process wall time, imports included; peak RSS from ``getrusage(RUSAGE_CHILDREN)`` measured
in a small wrapper process per run, so runs do not share a maximum; CPU time = user + system of the reader
process, steadier than wall time when the machine is busy). Each reader runs once to warm up (page
cache, bytecode), then ``--repeat`` rounds run every reader once each, so that a slower spell of a shared
machine falls on all of them; the table shows the best wall time and the largest peak RSS.

Goals (issue "DICOM series discovery and loading"):
- recist wall time <= 0.6 x SimpleITK ImageSeriesReader's;
- recist peak RSS - import-only peak RSS <= 1.3 x the volume's bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

ROOT = Path(__file__).resolve().parents[1]
# The readers run as an installed program would: with its modules' compiled bytecode (written by the
# warm-up run). An environment that forbids .pyc files (PYTHONDONTWRITEBYTECODE) would make every run
# recompile recist's own modules, a cost no installed copy pays (pip compiles them at install time),
# while pydicom, numpy and SimpleITK were compiled when installed.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}

READERS = {
    "import only (pydicom+numpy)": "import numpy, pydicom",
    "SimpleITK ImageSeriesReader": (
        "import SimpleITK as sitk\n"
        "names = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(FOLDER)\n"
        "reader = sitk.ImageSeriesReader(); reader.SetFileNames(names)\n"
        "array = sitk.GetArrayViewFromImage(reader.Execute())\n"
        "assert array.shape[0] == len(names)\n"
    ),
    "pydicom loop + np.stack": (
        "import glob, numpy as np, pydicom\n"
        "datasets = [pydicom.dcmread(f) for f in sorted(glob.glob(FOLDER + '/*.dcm'))]\n"
        "datasets.sort(key=lambda d: float(d.ImagePositionPatient[2]))\n"
        "array = np.stack([d.pixel_array for d in datasets]).astype(np.int16)\n"
        "array += np.int16(datasets[0].RescaleIntercept)\n"
    ),
    "recist load_series": (
        "from recist.io.dicom import load_series\n"
        "volume = load_series(FOLDER)\n"
        "assert volume.array.shape[0] > 0\n"
    ),
}

# Runs CODE in a child process and prints that child's wall time and peak RSS (KiB) as JSON.
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run([sys.executable, "-c", sys.argv[1]], check=True, cwd=sys.argv[2])
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_kib": usage.ru_maxrss}))
"""


def write_ct(folder: Path, slices: int, size: int, study_date: str = "20240110") -> int:
    """Write an uncompressed signed 16-bit CT series (HU = stored - 1024); return the volume's bytes."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2000, size=(size, size), dtype=np.int16)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    for k in range(slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.PatientID, ds.PatientName, ds.Modality = "BENCH-1", "Bench^Patient", "CT"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.StudyDate, ds.SeriesDescription, ds.SeriesNumber, ds.InstanceNumber = study_date, "bench", 1, k + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-250.0, -250.0, -400.0 + 1.25 * k]
        ds.PixelSpacing = [0.9765625, 0.9765625]
        ds.SliceThickness = 1.25
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.PixelData = np.roll(base, k, axis=0).tobytes()
        ds.save_as(folder / f"ct_{(k * 7919) % slices:04d}.dcm", enforce_file_format=True)
    return slices * size * size * 2


# In one process: where recist's whole-process time goes (imports, header scan, pixels).
_PHASES = """
import json, sys, time
start = time.perf_counter()
from recist.io.dicom import find_series, load_series
imported = time.perf_counter()
scan = find_series(sys.argv[1])
scanned = time.perf_counter()
volume = load_series(scan.series[0])
loaded = time.perf_counter()
print(json.dumps({"import recist.io.dicom": imported - start, "find_series (headers, geometry)": scanned - imported,
                  "load_series (pixels)": loaded - scanned}))
"""


def phases(folder: Path, repeat: int) -> dict:
    """Best of ``repeat`` in-process timings of each phase of a recist load."""
    runs = [
        json.loads(subprocess.run([sys.executable, "-c", _PHASES, str(folder)], check=True, cwd=ROOT,
                                  capture_output=True, text=True, env=ENV).stdout)
        for _ in range(repeat)
    ]
    return {name: min(run[name] for run in runs) for name in runs[0]}


def measure(code: str, folder: Path) -> dict:
    program = f"FOLDER = {str(folder)!r}\n{code}"
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, program, str(ROOT)], check=True, capture_output=True, text=True, env=ENV
    )
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_dicom_") as tmp:
        folder = Path(tmp)
        volume_bytes = write_ct(folder, args.slices, args.size)
        mib = 1024 * 1024
        print(f"series: {args.slices} x {args.size} x {args.size} int16 CT, volume {volume_bytes / mib:.0f} MiB")
        results = {}
        for code in READERS.values():
            measure(code, folder)  # warm-up: page cache and .pyc files
        # Round robin: every reader runs once per round, so a slower spell of the machine falls on all.
        runs: dict[str, list[dict]] = {name: [] for name in READERS}
        for _ in range(args.repeat):
            for name, code in READERS.items():
                runs[name].append(measure(code, folder))
        for name, done in runs.items():
            results[name] = (
                min(r["wall_s"] for r in done),
                min(r["cpu_s"] for r in done),
                max(r["peak_kib"] for r in done) / 1024,
            )
        print(f"{'reader':34} {'wall s':>7} {'cpu s':>7} {'peak MiB':>9}")
        for name, (wall, cpu, peak) in results.items():
            print(f"{name:34} {wall:7.3f} {cpu:7.3f} {peak:9.0f}")
        wall, cpu, peak = results["recist load_series"]
        sitk_wall, sitk_cpu = results["SimpleITK ImageSeriesReader"][:2]
        base_peak = results["import only (pydicom+numpy)"][2]
        time_ratio = wall / sitk_wall
        mem_ratio = (peak - base_peak) * mib / volume_bytes
        print("recist phases (in one process, best of runs):")
        for name, seconds in phases(folder, args.repeat).items():
            print(f"  {name:34} {seconds:6.3f} s")
        print(f"recist / SimpleITK wall time: {time_ratio:.2f} (goal <= 0.60) {'OK' if time_ratio <= 0.6 else 'MISSED'}"
              f"; CPU time: {cpu / sitk_cpu:.2f} (CPU time is steadier on a busy machine)")
        print(f"recist (peak - import peak) / volume bytes: {mem_ratio:.2f} (goal <= 1.30) "
              f"{'OK' if mem_ratio <= 1.3 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
