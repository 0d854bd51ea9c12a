"""Every file of pydicom's test set and of pydicom-data decodes right or is refused clearly.

``pydicom.data.get_testdata_files()`` lists pydicom's own test files and, once the
``pydicom-data`` package is installed (the ``test`` extra), its files too (they live in
the ``data_store`` package). For each file the import's two readers are run:

* the header scan (``scan_files`` over a folder of links to every file) must name every
  file exactly once, as a header, an error or a skipped file with a reason;
* the pixel reader (``read_frames``) must either return pydicom's own decoded pixels in
  modality units, frame by frame, or raise ``DicomReadError`` with a reason; colour
  images are refused by design; any other exception is a failure.

A file refused as undecodable must be undecodable for pydicom too, so a refusal never
hides a bug of ours. The compressed transfer syntaxes the import promises are asserted
to have been decoded at least once.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
import pytest
from pydicom import examples
from pydicom.data import get_testdata_files
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.pixels import apply_modality_lut
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    generate_uid,
)

from tace_planner.domain.errors import DicomReadError
from tace_planner.domain.progress import run_sync
from tace_planner.imaging.dicom.discover import scan_files
from tace_planner.imaging.dicom.pixels import read_frames

pytestmark = pytest.mark.dicom

FILES = sorted(Path(p) for p in get_testdata_files() if Path(p).is_file())

REQUIRED_SYNTAXES = {
    "1.2.840.10008.1.2.4.50": "JPEG Baseline (8-bit)",
    "1.2.840.10008.1.2.4.51": "JPEG Extended (12-bit)",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless, first-order prediction",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
    "1.2.840.10008.1.2.4.81": "JPEG-LS Near-lossless",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 Lossless",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
    "1.2.840.10008.1.2.5": "RLE Lossless",
    "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
    "1.2.840.10008.1.2.2": "Explicit VR Big Endian",
    "1.2.840.10008.1.2": "Implicit VR Little Endian",
    "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
}

# Transfer syntax of every file that read_frames decoded and matched (filled as tests run).
_DECODED: dict[Path, str] = {}


def _file_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _transfer_syntax(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    return str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""


def _has_pixels(ds: Dataset) -> bool:
    return any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"))


def _frame_rescale(ds: Dataset, index: int) -> tuple[float, float] | None:
    """(slope, intercept) of one frame of an enhanced image from its functional groups."""
    items = []
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame is not None and index < len(per_frame):
        items.append(per_frame[index])
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared:
        items.append(shared[0])
    for item in items:
        transform = item.get("PixelValueTransformationSequence")
        if transform:
            return float(transform[0].RescaleSlope), float(transform[0].RescaleIntercept)
    return None


def reference_frames(ds: Dataset) -> npt.NDArray[np.float64]:
    """pydicom's decoded pixels in modality units, shape (frames, rows, columns)."""
    raw = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    stack = raw.reshape((frames, *raw.shape[-2:]))
    out = np.empty(stack.shape, dtype=np.float64)
    for index in range(frames):
        rescale = _frame_rescale(ds, index) if frames > 1 else None
        if rescale is None:
            out[index] = apply_modality_lut(stack[index], ds)
        else:
            out[index] = stack[index] * rescale[0] + rescale[1]
    return out


def check_file(path: Path) -> str | None:
    """Decode ``path`` as the import does; return its transfer syntax if it decoded."""
    try:
        ds = pydicom.dcmread(path, force=True)
    except Exception:  # noqa: BLE001 - not even pydicom reads it: read_frames must refuse it
        ds = None
    if ds is not None and "TransferSyntaxUID" not in ds.file_meta:
        # No Part 10 header: decode in the encoding pydicom read the data set with.
        implicit, little = ds.original_encoding
        ds.file_meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian
            if implicit
            else ExplicitVRLittleEndian
            if little
            else ExplicitVRBigEndian
        )
    try:
        frames = read_frames(path)
    except DicomReadError as error:
        refusal: DicomReadError | None = error
    else:
        refusal = None
    if refusal is not None:
        assert refusal.reason, f"{path}: refused without a reason"
        assert str(path) in str(refusal), f"the message does not name the file: {refusal}"
        if ds is None or not _has_pixels(ds):
            return None
        if int(ds.get("SamplesPerPixel", 1) or 1) > 1 or (
            str(ds.get("PhotometricInterpretation", "")).upper() == "PALETTE COLOR"
        ):
            assert "colour" in refusal.reason
            return None
        if "cannot decode" in refusal.reason:
            with pytest.raises(Exception):  # noqa: B017, PT011 - any decoder error will do
                _ = ds.pixel_array
            return None
        if "cannot read" in refusal.reason:
            with pytest.raises(Exception):  # noqa: B017, PT011
                pydicom.dcmread(path)
            return None
        pytest.fail(f"{_file_id(path)}: refused with an unexpected reason: {refusal.reason}")
    # read_frames returned pixels: they must be pydicom's, in modality units.
    assert ds is not None, f"{path}: read_frames decoded a file pydicom cannot read"
    expected = reference_frames(ds)
    assert frames.dtype == np.float32
    assert frames.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(frames, expected, rtol=1e-6, atol=1e-6 * scale)
    return _transfer_syntax(ds)


def test_pydicom_data_files_are_included() -> None:
    data_store = pytest.importorskip("data_store", reason="pydicom-data is not installed")
    shipped = {p.name for p in (Path(data_store.__file__).parent / "data").iterdir()}
    listed = {p.name for p in FILES if p.parent.parent.name == "data_store"}
    assert shipped <= listed | {"__init__.py"}
    assert len(listed) >= 60
    assert len(FILES) >= 200


@pytest.mark.parametrize("path", FILES, ids=_file_id)
def test_pixels_decode_right_or_are_refused(path: Path) -> None:
    syntax = check_file(path)
    if syntax is not None:
        _DECODED[path] = syntax


def test_header_scan_names_every_file_once(tmp_path: Path) -> None:
    folder = tmp_path / "all"
    folder.mkdir()
    links = []
    for path in FILES:
        link = folder / f"{path.parent.parent.name}__{path.parent.name}__{path.name}"
        try:
            os.symlink(path, link)
        except OSError:
            shutil.copyfile(path, link)
        links.append(link)

    result = run_sync(scan_files([folder]))

    seen = [h.path for h in result.headers] + [e.path for e in result.errors + result.skipped]
    assert sorted(seen) == sorted(links)
    for refused in result.errors + result.skipped:
        assert refused.reason.strip(), f"{refused.path} has no reason"
    # Spot checks: images read, a file without preamble and a non-DICOM file skipped.
    names = {h.path.name.split("__")[-1] for h in result.headers}
    assert {"CT_small.dcm", "MR_small.dcm", "liver.dcm", "emri_small_RLE.dcm"} <= names
    skipped = {e.path.name.split("__")[-1]: e.reason for e in result.skipped}
    assert "not a DICOM file" in skipped["README.txt"]


def jpeg_baseline_file(folder: Path) -> Path:
    """A grey 8-bit JPEG Baseline image: the shipped ones are all colour."""
    from PIL import Image

    ramp = (np.add.outer(np.arange(64), np.arange(64)) * 2).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(ramp).save(buffer, format="JPEG", quality=95)
    ds = examples.ct
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.SOPInstanceUID = generate_uid()
    ds.Rows = ds.Columns = 64
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = encapsulate([buffer.getvalue()])
    ds["PixelData"].VR = "OB"
    path = folder / "jpeg_baseline_grey.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_every_promised_transfer_syntax_is_decoded(tmp_path: Path) -> None:
    for path in FILES:  # what the parametrised test did not run (e.g. with -k)
        if path not in _DECODED:
            syntax = check_file(path)
            if syntax is not None:
                _DECODED[path] = syntax
    decoded = dict(_DECODED)
    generated = jpeg_baseline_file(tmp_path)
    syntax = check_file(generated)
    assert syntax == JPEGBaseline8Bit
    decoded[generated] = syntax
    frames = read_frames(generated)
    ramp = np.add.outer(np.arange(64), np.arange(64)) * 2 * float(examples.ct.RescaleSlope)
    expected = ramp + float(examples.ct.RescaleIntercept)
    assert np.abs(frames[0] - expected).max() <= 8  # lossy, but the ramp is there

    missing = {uid: name for uid, name in REQUIRED_SYNTAXES.items() if uid not in decoded.values()}
    assert missing == {}, f"transfer syntaxes never decoded: {missing}"
