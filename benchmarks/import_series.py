"""Index and load a 400-slice 512 x 512 CT series, against SimpleITK; prints one JSON line.

Usage: python benchmarks/import_series.py [--slices 400] [--size 512] [--runs 3] [--folder DIR]

A synthetic uncompressed int16 CT series (explicit VR little endian, the
header of ``pydicom.examples.ct`` with its GE private tags) is written to a
temporary folder first (not timed, deleted afterwards unless ``--folder`` is
given) and read once so that both readers start from a warm page cache.

Each run is a fresh Python process; times exclude imports.

- ours: ``discover.scan_files`` (header scan of every file), ``plan_volumes``,
  ``load_plan`` into a float32 ``ImageVolume`` (modality units, HU).
  ``files_per_s`` is files / ``scan_files`` time (which may use threads);
  ``read_header_files_per_s_1_thread`` times a plain ``read_header`` loop afterwards.
- SimpleITK: ``ImageSeriesReader.GetGDCMSeriesFileNames`` + ``Execute`` (GDCM,
  which keeps integers: int16 stored values with a -1024 intercept come back
  as int32).

``peak_mib`` is the child's peak resident set size (``ru_maxrss``), absolute;
``baseline_mib`` is the resident set after imports, before any work, so the
reader can judge what the work itself added. ``volume_mib`` is our float32
voxel array; ``simpleitk_volume_mib`` is SimpleITK's image buffer. Goals:
``wall_s`` <= ``simpleitk_wall_s``, ``peak_mib`` <= 1.5 x ``volume_mib``,
``files_per_s`` >= 1000. Values are medians over the runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

OURS = r"""
import json, resource, sys, time
from pathlib import Path

def rss_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

from tace_planner.domain.progress import run_sync
from tace_planner.imaging.dicom.discover import scan_files
from tace_planner.imaging.dicom.volume_loading import load_plan
from tace_planner.imaging.dicom.volumes import plan_volumes

folder = Path(sys.argv[1])
baseline = rss_mib()
start = time.perf_counter()
scan = run_sync(scan_files([folder]))
scanned = time.perf_counter()
plans = plan_volumes(scan.headers)
volume = run_sync(load_plan(plans[0]))
end = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
# Single-threaded header reading, after the measured work (it does not change the peak).
from tace_planner.imaging.dicom.scan import read_header
paths = [h.path for h in scan.headers]
single = time.perf_counter()
for path in paths:
    read_header(path)
single = time.perf_counter() - single
print(json.dumps({
    "wall_s": end - start,
    "scan_s": scanned - start,
    "read_header_s": single,
    "load_s": end - scanned,
    "files": len(scan.headers),
    "peak_mib": peak,
    "baseline_mib": baseline,
    "volume_mib": volume.voxels.nbytes / 2**20,
    "shape": list(volume.shape),
    "status": plans[0].report.status,
}))
"""

SIMPLEITK = r"""
import json, resource, sys, time
from pathlib import Path

def rss_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

import SimpleITK as sitk

folder = sys.argv[1]
baseline = rss_mib()
start = time.perf_counter()
reader = sitk.ImageSeriesReader()
names = reader.GetGDCMSeriesFileNames(folder)
reader.SetFileNames(names)
image = reader.Execute()
end = time.perf_counter()
nbytes = image.GetNumberOfPixels() * image.GetSizeOfPixelComponent()
print(json.dumps({
    "wall_s": end - start,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "baseline_mib": baseline,
    "volume_mib": nbytes / 2**20,
    "pixel_type": image.GetPixelIDTypeAsString(),
}))
"""


def write_series(folder: Path, slices: int, size: int) -> None:
    """Write an uncompressed int16 CT series with 1.25 mm steps (descending z)."""
    import numpy as np
    from pydicom import examples
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    ds = examples.ct
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Rows = size
    ds.Columns = size
    ds.PixelSpacing = [0.7, 0.7]
    ds.SeriesInstanceUID = generate_uid()
    rng = np.random.default_rng(0)
    plane = rng.integers(-1000, 1500, size=(size, size), dtype=np.int16)
    for index in range(slices):
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = index + 1
        ds.ImagePositionPatient = [-180.0, -180.0, -1.25 * index]
        ds.SliceLocation = -1.25 * index
        ds.PixelData = np.roll(plane, index, axis=1).tobytes()
        ds.save_as(folder / f"IM{index:05d}", enforce_file_format=True)


def run_child(code: str, folder: Path) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter and return its JSON line."""
    output = subprocess.run(
        [sys.executable, "-c", code, str(folder)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def median(runs: list[dict[str, object]], key: str) -> float:
    return round(statistics.median(float(r[key]) for r in runs), 3)  # type: ignore[arg-type]


def main() -> None:
    """Run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slices", type=int, default=400)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="keep the series here (reused if present)")
    args = parser.parse_args()
    temporary = None
    if args.folder is None:
        temporary = tempfile.mkdtemp(prefix="tace-bench-series-")
        folder = Path(temporary)
    else:
        folder = args.folder
    try:
        if len(list(folder.glob("IM*"))) != args.slices:
            write_series(folder, args.slices, args.size)
        for path in folder.iterdir():  # warm the page cache for both readers
            path.read_bytes()
        ours = [run_child(OURS, folder) for _ in range(args.runs)]
        theirs = [run_child(SIMPLEITK, folder) for _ in range(args.runs)]
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    files = int(ours[0]["files"])  # type: ignore[call-overload]
    result = {
        "benchmark": "import_series",
        "files": files,
        "shape": ours[0]["shape"],
        "runs": args.runs,
        "wall_s": median(ours, "wall_s"),
        "scan_s": median(ours, "scan_s"),
        "load_s": median(ours, "load_s"),
        "files_per_s": round(files / median(ours, "scan_s")),
        "read_header_files_per_s_1_thread": round(files / median(ours, "read_header_s")),
        "peak_mib": median(ours, "peak_mib"),
        "baseline_mib": median(ours, "baseline_mib"),
        "volume_mib": median(ours, "volume_mib"),
        "simpleitk_wall_s": median(theirs, "wall_s"),
        "simpleitk_peak_mib": median(theirs, "peak_mib"),
        "simpleitk_baseline_mib": median(theirs, "baseline_mib"),
        "simpleitk_volume_mib": median(theirs, "volume_mib"),
        "simpleitk_pixel_type": theirs[0]["pixel_type"],
        "wall_ratio": round(median(ours, "wall_s") / median(theirs, "wall_s"), 2),
        "peak_over_volume": round(median(ours, "peak_mib") / median(ours, "volume_mib"), 2),
        "status": ours[0]["status"],
        "goals": {"wall_ratio": 1.0, "peak_over_volume": 1.5, "files_per_s": 1000},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
