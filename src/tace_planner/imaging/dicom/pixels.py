"""Decode the pixels of one DICOM file into modality units (HU for CT), frame by frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from tace_planner.domain.errors import DicomReadError


def transfer_syntax_name(ds: Dataset) -> str:
    """The transfer syntax of a data set, by name (e.g. "JPEG 2000 Image Compression")."""
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax is None:
        return "unknown transfer syntax"
    return str(getattr(syntax, "name", "") or syntax)


def _per_frame_rescale(ds: Dataset, frame: int) -> tuple[float, float] | None:
    """Rescale (slope, intercept) of one frame of an enhanced multi-frame image, if given."""
    for groups in (ds.get("PerFrameFunctionalGroupsSequence"), None):
        if groups is not None and frame < len(groups):
            item = groups[frame]
        else:
            shared = ds.get("SharedFunctionalGroupsSequence")
            if not shared:
                continue
            item = shared[0]
        transform = item.get("PixelValueTransformationSequence")
        if transform:
            return float(transform[0].RescaleSlope), float(transform[0].RescaleIntercept)
    return None


def modality_frames(ds: Dataset) -> npt.NDArray[np.float32]:
    """Return every frame of a read data set in modality units, shape (frames, rows, columns).

    Single-frame images use (0028,1052)/(0028,1053) *Rescale Intercept/Slope*
    (or a modality LUT); enhanced multi-frame images use each frame's
    *Pixel Value Transformation Sequence*.

    Raises
    ------
    DicomReadError
        No pixel data, or the pixels cannot be decoded; the message names the
        file and its transfer syntax.
    """
    path = str(getattr(ds, "filename", "") or "(in memory)")
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise DicomReadError(path, "the file has no pixel data")
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    photometric = str(ds.get("PhotometricInterpretation", "") or "").upper()
    if samples != 1 or photometric == "PALETTE COLOR":
        # Refused before decoding: a colour JPEG can take seconds to decode.
        raise DicomReadError(
            path, f"{photometric or f'{samples} samples per pixel'}: colour images are not volumes"
        )
    try:
        raw = ds.pixel_array
    except Exception as error:  # noqa: BLE001 - each decoder plugin raises its own types
        raise DicomReadError(
            path, f"cannot decode pixels ({transfer_syntax_name(ds)}): {error}"
        ) from None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    stack = raw.reshape((frames, *raw.shape[-2:]))
    out = np.empty(stack.shape, dtype=np.float32)
    for index in range(frames):
        rescale = _per_frame_rescale(ds, index) if frames > 1 else None
        if rescale is not None:
            slope, intercept = rescale
            out[index] = stack[index] * np.float32(slope) + np.float32(intercept)
        else:
            out[index] = apply_modality_lut(stack[index], ds)
    return out


def read_frames(path: Path) -> npt.NDArray[np.float32]:
    """Read a file and return its frames in modality units, shape (frames, rows, columns).

    Raises
    ------
    DicomReadError
        The file cannot be read or decoded; the message names it.
    """
    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError:
        ds = _read_without_preamble(path)
    except Exception as error:  # noqa: BLE001 - reported with the file name
        raise DicomReadError(str(path), f"cannot read ({error})") from None
    return modality_frames(ds)


def _read_without_preamble(path: Path) -> Dataset:
    """Read a data set that has no Part 10 preamble, giving it the transfer syntax it was read in.

    Raises
    ------
    DicomReadError
        It does not parse as DICOM either.
    """
    try:
        ds = pydicom.dcmread(path, force=True)
    except Exception as error:  # noqa: BLE001 - reported with the file name
        raise DicomReadError(str(path), f"not a DICOM file ({error})") from None
    if "TransferSyntaxUID" not in ds.file_meta:
        implicit, little = getattr(ds, "original_encoding", (True, True))
        if implicit:
            ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        else:
            ds.file_meta.TransferSyntaxUID = (
                ExplicitVRLittleEndian if little else ExplicitVRBigEndian
            )
    return ds
