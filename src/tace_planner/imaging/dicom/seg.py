"""DICOM Segmentation (SEG) export and import (highdicom, pydicom).

Export writes one timepoint's masks (liver, each focus: one segment each) as a
single BINARY SEG that references its source CT series; the masks must lie on
the grid of the volume built from those very images. Import reads any SEG
(BINARY, FRACTIONAL or LABELMAP) and places every frame onto a target grid by
its (0020,0032) *Image Position (Patient)* from the Plane Position Sequence,
never by the image it claims to be derived from: SEGs whose frames all
reference one image (seen in the wild) import correctly.

highdicom is imported inside the functions (start-up stays fast).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

import tace_planner
from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.geometry import lps_to_index
from tace_planner.domain.progress import Progress, Task
from tace_planner.domain.volume import ImageVolume

BoolArray = npt.NDArray[np.bool_]
SegmentKind = Literal["liver", "tumour", "other"]

SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
_POSITION_TOLERANCE_SLICES = 0.01
_PLANE_TOLERANCE = 1e-3


class SegReferenceError(TacePlannerError):
    """A SEG references a series that is not available to place it on.

    Attributes
    ----------
    series_uid : str
        (0020,000E) *Series Instance UID* of the missing referenced series.
    """

    def __init__(self, series_uid: str) -> None:
        super().__init__(
            f"the segmentation references series {series_uid}, which is not in this study: "
            "import that series first"
        )
        self.series_uid = series_uid


class SegGeometryError(TacePlannerError):
    """A SEG's frames cannot be placed on the target grid (other patient space or orientation)."""


@dataclass(frozen=True, eq=False)
class SegmentSpec:
    """One segment to export.

    Attributes
    ----------
    label : str
        (0062,0005) *Segment Label*, e.g. "Liver", "F1".
    mask : numpy.ndarray of bool, shape (z, y, x)
        On the grid of the exported volume.
    kind : {"liver", "tumour", "other"}
        Chooses the segmented property category and type codes.
    tracking_id : str, optional
        Lesion identity across timepoints (0062,0020) *Tracking ID*.
    semi_automatic : bool
        Algorithm type SEMIAUTOMATIC (auto contour, possibly edited) or MANUAL.
    """

    label: str
    mask: BoolArray
    kind: SegmentKind = "tumour"
    tracking_id: str | None = None
    semi_automatic: bool = True


@dataclass(frozen=True, slots=True)
class SegPatient:
    """The patient a SEG names, when it is not the one in its source images' headers.

    For a study imported without a (0010,0020) *Patient ID* and handed to its patient
    afterwards, the caller gives the patient the user confirmed.

    Attributes
    ----------
    patient_id : str
        (0010,0020) *Patient ID*.
    name : str
        (0010,0010) *Patient's Name*, DICOM PN (``Family^Given``).
    issuer : str
        (0010,0021) *Issuer of Patient ID*; empty: the SEG has none.
    birth_on : datetime.date, optional
        (0010,0030) *Patient's Birth Date*; None: the source images' value stays.
    sex : str
        (0010,0040) *Patient's Sex*, ``M``, ``F`` or ``O``; anything else: the source
        images' value stays.
    """

    patient_id: str
    name: str
    issuer: str = ""
    birth_on: dt.date | None = None
    sex: str = ""


def apply_patient(dataset: Dataset, patient: SegPatient) -> None:
    """Write ``patient`` into the Patient module of ``dataset`` (in place).

    Patient ID, Patient's Name and Issuer of Patient ID are ``patient``'s (an empty
    issuer removes the attribute); birth date and sex are written when ``patient`` holds
    them, else the source images' values stay (see :class:`SegPatient`).

    Every value goes into a new element: highdicom's SEG shares the Patient module's
    elements with a source data set, which must not change with it.
    """
    dataset.add_new(0x00100020, "LO", patient.patient_id)  # Patient ID
    dataset.add_new(0x00100010, "PN", patient.name)  # Patient's Name
    if patient.issuer:
        dataset.add_new(0x00100021, "LO", patient.issuer)  # Issuer of Patient ID
    elif "IssuerOfPatientID" in dataset:
        del dataset.IssuerOfPatientID
    if patient.birth_on is not None:
        dataset.add_new(0x00100030, "DA", patient.birth_on.strftime("%Y%m%d"))
    if patient.sex in ("M", "F", "O"):  # (0010,0040) Patient's Sex, its defined terms
        dataset.add_new(0x00100040, "CS", patient.sex)


@dataclass(frozen=True, eq=False)
class ImportedSegment:
    """One segment read from a SEG, as a mask on the target grid."""

    number: int
    label: str
    mask: BoolArray
    category: str
    property_type: str
    tracking_id: str | None = None


@dataclass(frozen=True, eq=False)
class SegImport:
    """Everything read from a SEG."""

    segments: tuple[ImportedSegment, ...]
    referenced_series_uids: tuple[str, ...]
    frame_of_reference_uid: str
    sop_instance_uid: str
    warnings: tuple[str, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def export_seg(
    sources: Sequence[Dataset | Path | str],
    volume: ImageVolume,
    segments: Sequence[SegmentSpec],
    *,
    series_number: int = 900,
    series_description: str = "TACE Planner contours",
    content_label: str = "CONTOURS",
    manufacturer: str = "TACE Planner",
    patient: SegPatient | None = None,
) -> Any:
    """Build one BINARY SEG holding several segments that references its source series.

    Parameters
    ----------
    sources : sequence of pydicom.Dataset or path
        The images the volume was built from (any order), with pixels or not.
    volume : ImageVolume
        The volume built from ``sources``; every mask lies on its grid.
    segments : sequence of SegmentSpec
        At least one; segment numbers follow this order (1, 2, …).
    series_number, series_description, content_label, manufacturer
        Written to the SEG.
    patient : SegPatient, optional
        The patient the SEG names (:func:`apply_patient`); by default the one of the
        source images, as highdicom copies it.

    Returns
    -------
    highdicom.seg.Segmentation
        A pydicom Dataset; ``save_as(path)`` writes it.

    Raises
    ------
    SegGeometryError
        A source image is not a slice of the volume's grid, a slice has no
        source image, or a mask is not on the grid.
    ValueError
        No segment, every segment empty, or an empty label.

    Notes
    -----
    Frames are written for the slices that hold a contour (empty frames of a
    segment are omitted too), and the SEG references those source images.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    if not segments:
        raise ValueError("export_seg needs at least one segment")
    datasets = [_read(s) for s in sources]
    ordered = _with_frame_of_reference(_order_sources(datasets, volume))
    for spec in segments:
        if spec.mask.shape != volume.shape:
            raise SegGeometryError(
                f"segment {spec.label!r}: mask {spec.mask.shape} is not on the volume "
                f"{volume.shape}"
            )
    # Only the slices holding a contour become frames (memory follows the contours).
    used = np.flatnonzero(np.any([spec.mask.any(axis=(1, 2)) for spec in segments], axis=0))
    if used.size == 0:
        raise ValueError("every segment is empty: there is nothing to export")
    pixels = np.zeros((used.size, *volume.shape[1:], len(segments)), dtype=bool)
    for n, spec in enumerate(segments):
        pixels[..., n] = spec.mask[used]
    ordered = [ordered[k] for k in used]
    descriptions = []
    algorithm = hd.AlgorithmIdentificationSequence(
        name="TACE Planner", version=tace_planner.__version__,
        family=codes.cid7162.NeighborhoodAnalysis,
    )  # fmt: skip
    for number, spec in enumerate(segments, start=1):
        if not spec.label.strip():
            raise ValueError("segment labels must not be empty")
        category, kind = _codes(spec.kind)
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=number,
                segment_label=spec.label,
                segmented_property_category=category,
                segmented_property_type=kind,
                algorithm_type="SEMIAUTOMATIC" if spec.semi_automatic else "MANUAL",
                algorithm_identification=algorithm if spec.semi_automatic else None,
                tracking_uid=hd.UID() if spec.tracking_id else None,
                tracking_id=spec.tracking_id,
            )
        )
    seg = hd.seg.Segmentation(
        source_images=ordered,
        pixel_array=pixels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=series_number,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=manufacturer,
        manufacturer_model_name="TACE Planner",
        software_versions=tace_planner.__version__,
        device_serial_number="0",
        series_description=series_description,
        content_label=content_label,
        omit_empty_frames=True,
    )
    if patient is not None:
        apply_patient(seg, patient)
    return seg


def write_seg(
    path: Path,
    sources: Sequence[Dataset | Path | str],
    volume: ImageVolume,
    segments: Sequence[SegmentSpec],
    **options: Any,
) -> Path:
    """Export with :func:`export_seg` and save to ``path``; return the path.

    The file is written under a temporary name beside ``path`` and then renamed,
    so a full disk or a kill never leaves a truncated SEG under the chosen name.

    Raises
    ------
    SegWriteError
        ``path`` is a folder, its folder does not exist, it is an existing file
        that is not DICOM, or the file cannot be written (the message says why).
    """
    target = check_seg_target(path)
    seg = export_seg(sources, volume, segments, **options)
    save_atomically(seg, target)
    return target


class SegWriteError(TacePlannerError):
    """A SEG cannot be written where the user asked (one line naming the path)."""


def check_seg_target(path: Path | str) -> Path:
    """Refuse a SEG target that cannot or must not be written, before any work is done.

    Raises
    ------
    SegWriteError
        A folder, a missing folder, or an existing file that is not DICOM (a SEG
        never replaces another kind of file).
    """
    target = Path(path)
    if "\0" in str(target):
        raise SegWriteError(f"{target!r}: the file name contains a NUL character")
    if target.is_dir():
        raise SegWriteError(f"{target} is a folder; give a file name, e.g. {target / 'seg.dcm'}")
    if not target.parent.is_dir():
        raise SegWriteError(f"{target.parent}: no such folder")
    if target.exists() and not _is_dicom_file(target):
        raise SegWriteError(f"{target} exists and is not a DICOM file; it is not replaced")
    return target


def _is_dicom_file(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def save_atomically(dataset: Dataset, target: Path) -> None:
    """Write ``dataset`` to a temporary file beside ``target``, then rename it into place."""
    import errno
    import os
    import tempfile

    try:
        handle, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
    except OSError as error:
        raise SegWriteError(
            f"{target.parent}: cannot write a file there ({error.strerror or error})"
        ) from None
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as sink:
            dataset.save_as(sink, enforce_file_format=True)
        os.replace(temporary, target)
    except OSError as error:
        if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise SegWriteError(f"{target}: the disk is full; nothing was written") from None
        raise SegWriteError(f"{target}: cannot be written ({error.strerror or error})") from None
    finally:
        temporary.unlink(missing_ok=True)


def check_seg_file(path: Path | str) -> Dataset:
    """Read a file that should be a DICOM SEG, refusing anything else in one line.

    Raises
    ------
    DicomReadError
        Empty, not DICOM, unreadable, or another kind of DICOM object.
    """
    from tace_planner.domain.errors import DicomReadError

    source = Path(path)
    try:
        if source.stat().st_size == 0:
            raise DicomReadError(str(source), "empty file, not a DICOM SEG")
        ds = pydicom.dcmread(source, stop_before_pixels=True)
    except DicomReadError:
        raise
    except InvalidDicomError:
        raise DicomReadError(str(source), "not a DICOM file (no DICM preamble)") from None
    except OSError as error:
        raise DicomReadError(str(source), f"cannot read it ({error.strerror or error})") from None
    except Exception as error:  # noqa: BLE001 - pydicom raises many types on bad input
        raise DicomReadError(str(source), f"unreadable DICOM ({error})") from None
    if str(ds.get("SOPClassUID", "")) != SEG_SOP_CLASS:
        raise DicomReadError(
            str(source), f"not a DICOM SEG (SOP Class {ds.get('SOPClassUID', 'missing')})"
        )
    return ds


def write_seg_task(
    path: Path,
    sources: Sequence[Dataset | Path | str],
    volume: ImageVolume,
    segments: Sequence[SegmentSpec],
    **options: Any,
) -> Task[Path]:
    """:func:`write_seg` as a Task for the task runner (highdicom encodes in one step).

    Yields
    ------
    Progress
        Reading the sources, encoding, written.
    """
    target = check_seg_target(path)
    yield Progress(0, 3, "Reading the source images")
    datasets = [_read(s) for s in sources]
    yield Progress(1, 3, "Encoding the segmentation")
    seg = export_seg(datasets, volume, segments, **options)
    yield Progress(2, 3, "Writing the segmentation")
    save_atomically(seg, target)
    yield Progress(3, 3, "Written")
    return target


def _read(source: Dataset | Path | str) -> Dataset:
    if isinstance(source, Dataset):
        return source
    return pydicom.dcmread(source, stop_before_pixels=True)


def _on_grid(ds: Dataset, volume: ImageVolume) -> int | None:
    """The slice index of a source image in the volume, or None when it is not one of its slices."""
    try:
        position = [float(v) for v in ds.ImagePositionPatient]
        orientation = [float(v) for v in ds.ImageOrientationPatient]
    except (AttributeError, TypeError, ValueError):
        return None
    affine = np.asarray(volume.index_to_lps, dtype=float)
    if len(orientation) != 6:
        return None
    normal = np.cross(orientation[:3], orientation[3:])
    volume_normal = np.cross(affine[:3, 2], affine[:3, 1])
    scale = float(np.linalg.norm(normal) * np.linalg.norm(volume_normal))
    if scale == 0 or abs(float(np.dot(normal, volume_normal))) / scale < 1 - _PLANE_TOLERANCE:
        return None  # a reformat or a scout in the same series
    index = lps_to_index(affine, position)
    k = round(float(index[0]))
    if (
        abs(index[0] - k) > _POSITION_TOLERANCE_SLICES
        or max(abs(float(index[1])), abs(float(index[2]))) > 0.01
        or not 0 <= k < volume.shape[0]
    ):
        return None
    return k


def _order_sources(datasets: Sequence[Dataset], volume: ImageVolume) -> list[Dataset]:
    """Sort the volume's own source images by slice index; check one per slice.

    Images of the series that are not slices of the volume's grid (a stray
    reformat, a scout, another part of a multi-volume series) are left out of
    the references.
    """
    by_slice: dict[int, Dataset] = {}
    for ds in datasets:
        k = _on_grid(ds, volume)
        if k is None:
            continue
        if k in by_slice:
            raise SegGeometryError(f"two source images lie on slice {k}")
        by_slice[k] = ds
    missing = [k for k in range(volume.shape[0]) if k not in by_slice]
    if missing:
        raise SegGeometryError(f"no source image for slice(s) {missing[:5]} of the volume")
    return [by_slice[k] for k in range(volume.shape[0])]


def derived_frame_of_reference_uid(series_uid: str) -> str:
    """The frame of reference given to a series whose images name none (same one every time)."""
    from pydicom.uid import generate_uid

    return str(generate_uid(prefix="2.25.", entropy_srcs=["frame-of-reference", series_uid]))


def _with_frame_of_reference(datasets: list[Dataset]) -> list[Dataset]:
    """Source images with a Frame of Reference UID, which the SEG IOD requires.

    Images without one (seen in public research data sets) get the UID derived
    from their series (:func:`derived_frame_of_reference_uid`) on copies; the SEG
    then records it, and the stored files are not changed.
    """
    if all(str(ds.get("FrameOfReferenceUID", "") or "") for ds in datasets):
        return datasets
    import copy

    series_uid = str(datasets[0].get("SeriesInstanceUID", "")) if datasets else ""
    derived = derived_frame_of_reference_uid(series_uid)
    completed = []
    for ds in datasets:
        if not str(ds.get("FrameOfReferenceUID", "") or ""):
            ds = copy.deepcopy(ds)
            ds.FrameOfReferenceUID = derived
        completed.append(ds)
    return completed


def _codes(kind: SegmentKind) -> tuple[Any, Any]:
    from pydicom.sr.codedict import codes

    if kind == "liver":
        return codes.cid7150.AnatomicalStructure, codes.cid7151.Liver
    if kind == "tumour":
        return codes.cid7150.MorphologicallyAbnormalStructure, codes.cid7151.NeoplasmSecondary
    return codes.cid7150.MorphologicallyAbnormalStructure, codes.cid7151.Lesion


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


def read_seg(
    seg: Dataset | Path | str,
    target: ImageVolume | tuple[npt.ArrayLike, Sequence[int]],
    *,
    available_series_uids: Collection[str] | None = None,
) -> SegImport:
    """Read a SEG and place its segments on a target grid by plane position.

    Parameters
    ----------
    seg : pydicom.Dataset or path
        A Segmentation Storage instance.
    target : ImageVolume or (index_to_lps, shape)
        The grid to place the frames on (usually the referenced series' volume).
    available_series_uids : collection of str, optional
        Series the caller can show the SEG on; when given, every series the SEG
        references in (0008,1115) *Referenced Series Sequence* must be among them.

    Returns
    -------
    SegImport
        One mask per segment (empty masks included), shape of the target grid.

    Raises
    ------
    SegReferenceError
        A referenced series is not available; the message names its UID.
    SegGeometryError
        Another frame of reference, a frame not parallel to the target's
        slices, or a frame off the grid by more than half a slice.
    """
    ds = seg if isinstance(seg, Dataset) else pydicom.dcmread(seg)
    if ds.SOPClassUID != "1.2.840.10008.5.1.4.1.1.66.4":
        raise SegGeometryError(f"{ds.SOPClassUID} is not a Segmentation Storage instance")
    referenced = tuple(
        str(item.SeriesInstanceUID) for item in ds.get("ReferencedSeriesSequence", [])
    )
    warnings: list[str] = []
    if available_series_uids is not None:
        for uid in referenced:
            if uid not in available_series_uids:
                raise SegReferenceError(uid)
        if not referenced:
            warnings.append("The SEG names no referenced series; it was placed by position only.")
    if isinstance(target, ImageVolume):
        affine, shape, target_for = target.index_to_lps, target.shape, target.frame_of_reference_uid
    else:
        affine, shape, target_for = np.asarray(target[0], dtype=float), tuple(target[1]), ""
    seg_for = str(ds.get("FrameOfReferenceUID", ""))
    if target_for and seg_for and target_for != seg_for:
        raise SegGeometryError(
            f"the SEG lies in frame of reference {seg_for}, the target series in {target_for}"
        )
    frames = _frame_arrays(ds)
    numbers = [int(s.SegmentNumber) for s in ds.SegmentSequence]
    masks = {n: np.zeros(tuple(int(v) for v in shape), dtype=bool) for n in numbers}
    off_grid, outside = 0.0, 0
    for index, (segment, plane) in enumerate(_frame_geometry(ds, len(frames), numbers)):
        offset = _place(frames[index], plane, np.asarray(affine, dtype=float), masks, segment)
        if offset is None:
            outside += 1
        else:
            off_grid = max(off_grid, offset)
    if off_grid > _POSITION_TOLERANCE_SLICES:
        warnings.append(
            f"Frames lie up to {off_grid:.2f} slice from the target's slices (nearest used)."
        )
    if outside:
        warnings.append(f"{outside} frame(s) lie outside the target series and were left out.")
    segments = tuple(
        ImportedSegment(
            number=int(s.SegmentNumber),
            label=str(s.get("SegmentLabel", f"Segment {s.SegmentNumber}")),
            mask=masks[int(s.SegmentNumber)],
            category=str(s.SegmentedPropertyCategoryCodeSequence[0].CodeMeaning),
            property_type=str(s.SegmentedPropertyTypeCodeSequence[0].CodeMeaning),
            tracking_id=str(s.TrackingID) if "TrackingID" in s else None,
        )
        for s in ds.SegmentSequence
    )
    return SegImport(segments, referenced, seg_for, str(ds.SOPInstanceUID), tuple(warnings))


def seg_grid(seg: Dataset | Path | str) -> tuple[npt.NDArray[np.float64], tuple[int, int, int]]:
    """Return an (index_to_lps, shape) grid that holds every frame of a SEG (for viewing it alone).

    The slices are the distinct frame positions sorted along the normal; the
    step is the smallest distance between them (frames must be evenly spaced
    multiples of it).
    """
    from tace_planner.domain.geometry import slice_normal

    ds = seg if isinstance(seg, Dataset) else pydicom.dcmread(seg)
    numbers = [int(s.SegmentNumber) for s in ds.SegmentSequence]
    planes = [plane for _, plane in _frame_geometry(ds, int(ds.get("NumberOfFrames", 1)), numbers)]
    orientation = planes[0]["orientation"]
    normal = slice_normal(orientation)
    positions = sorted({tuple(np.round(p["position"], 4)) for p in planes},
                       key=lambda p: float(np.dot(normal, p)))  # fmt: skip
    depths = np.array([float(np.dot(normal, p)) for p in positions])
    step = float(np.min(np.diff(depths))) if len(depths) > 1 else float(planes[0]["spacing"][0])
    count = round((depths[-1] - depths[0]) / step) + 1 if len(depths) > 1 else 1
    affine = np.eye(4)
    row_spacing, column_spacing = planes[0]["spacing"]
    affine[:3, 0] = normal * step
    affine[:3, 1] = np.asarray(orientation[3:6]) * row_spacing
    affine[:3, 2] = np.asarray(orientation[:3]) * column_spacing
    affine[:3, 3] = positions[0]
    return affine, (count, int(ds.Rows), int(ds.Columns))


def _frame_arrays(ds: Dataset) -> npt.NDArray[np.bool_]:
    """Every frame as bool (binary; fractional ≥ half the maximum; label map values kept)."""
    pixels = np.asarray(ds.pixel_array)
    if pixels.ndim == 2:
        pixels = pixels[None]
    kind = str(ds.get("SegmentationType", "BINARY")).upper()
    if kind == "FRACTIONAL":
        maximum = float(ds.get("MaximumFractionalValue", 255))
        return np.asarray(pixels >= maximum / 2.0)
    if kind == "LABELMAP":
        return pixels  # type: ignore[return-value]
    return pixels.astype(bool)


def _frame_geometry(
    ds: Dataset, count: int, numbers: Sequence[int]
) -> list[tuple[int | None, dict[str, Any]]]:
    """(segment number or None for a label map, plane) of every frame."""
    shared = ds.get("SharedFunctionalGroupsSequence", [Dataset()])[0]
    per_frame = ds.get("PerFrameFunctionalGroupsSequence", [])
    labelmap = str(ds.get("SegmentationType", "")).upper() == "LABELMAP"
    out = []
    for n in range(count):
        groups = per_frame[n] if n < len(per_frame) else Dataset()

        position = [
            float(v)
            for v in _group(groups, shared, "PlanePositionSequence", n).ImagePositionPatient
        ]
        orientation = [
            float(v)
            for v in _group(groups, shared, "PlaneOrientationSequence", n).ImageOrientationPatient
        ]
        spacing = [
            float(v) for v in _group(groups, shared, "PixelMeasuresSequence", n).PixelSpacing
        ]
        if labelmap:
            segment = None
        else:
            identification = _group(groups, shared, "SegmentIdentificationSequence", n)
            segment = int(identification.ReferencedSegmentNumber)
            if segment not in numbers:
                raise SegGeometryError(f"frame {n + 1} refers to unknown segment {segment}")
        plane = {"position": np.asarray(position), "orientation": orientation, "spacing": spacing}
        out.append((segment, plane))
    return out


def _group(groups: Dataset, shared: Dataset, keyword: str, frame: int) -> Any:
    """The first item of a functional group, per-frame first, then shared."""
    for source in (groups, shared):
        if keyword in source:
            return source[keyword].value[0]
    raise SegGeometryError(f"frame {frame + 1} has no {keyword}")


def _place(
    frame: np.ndarray,
    plane: dict[str, Any],
    affine: npt.NDArray[np.float64],
    masks: dict[int, BoolArray],
    segment: int | None,
) -> float | None:
    """Paste one frame into the masks (nearest slice and pixel).

    Returns the frame's distance from that slice (in slices), or None if the
    frame lies outside the target grid.
    """
    rows, columns = frame.shape
    row_cos = np.asarray(plane["orientation"][:3])
    column_cos = np.asarray(plane["orientation"][3:6])
    row_spacing, column_spacing = plane["spacing"]
    origin = lps_to_index(affine, plane["position"])
    step_c = np.linalg.solve(affine[:3, :3], row_cos * column_spacing)  # per column (x)
    step_r = np.linalg.solve(affine[:3, :3], column_cos * row_spacing)  # per row (y)
    if abs(step_c[0]) > _PLANE_TOLERANCE or abs(step_r[0]) > _PLANE_TOLERANCE:
        raise SegGeometryError("the SEG's frames are not parallel to the target's slices")
    shape = next(iter(masks.values())).shape
    k = round(float(origin[0]))
    off = abs(float(origin[0]) - k)
    if not 0 <= k < shape[0]:
        return None
    # Target pixels of slice k -> frame (row, column), nearest neighbour.
    corners = np.array([[0, 0], [0, columns - 1], [rows - 1, 0], [rows - 1, columns - 1]])
    target_yx = origin[1:] + corners[:, :1] * step_r[1:] + corners[:, 1:] * step_c[1:]
    low = np.maximum(np.floor(target_yx.min(axis=0)).astype(int) - 1, 0)
    high = np.minimum(np.ceil(target_yx.max(axis=0)).astype(int) + 2, shape[1:])
    jj, ii = np.meshgrid(np.arange(low[0], high[0]), np.arange(low[1], high[1]), indexing="ij")
    basis = np.array([step_r[1:], step_c[1:]]).T  # (y, x) per (row, column)
    rc = np.linalg.solve(basis, np.stack([jj - origin[1], ii - origin[2]]).reshape(2, -1))
    r, c = np.rint(rc).astype(int)
    valid = (r >= 0) & (r < rows) & (c >= 0) & (c < columns)
    values = np.zeros(r.shape, dtype=frame.dtype)
    values[valid] = frame[r[valid], c[valid]]
    values = values.reshape(jj.shape)
    if segment is None:  # label map: pixel value = segment number
        for number, mask in masks.items():
            mask[k, low[0] : high[0], low[1] : high[1]] |= values == number
    else:
        masks[segment][k, low[0] : high[0], low[1] : high[1]] |= values.astype(bool)
    return off
