"""Synthetic demo patient: writes CT and MRI DICOM series with known ground truth.

One patient (:data:`PHANTOM_PATIENT_ID`) with liver metastases of known analytic
geometry (see :mod:`tace_planner.imaging.phantom_model`; ground truth in
:mod:`tace_planner.imaging.phantom_truth`), imaged as in the study workflow:

- baseline CT, 4 phases (native, late arterial, portal venous, delayed);
- baseline MRI at 1.5 T: T2 TSE axial and coronal, T1 VIBE axial, DWI (b50 and
  b800 in one series) and its ADC map;
- follow-up CT (arterial and portal venous) 8 weeks, 5 and 8 months after TACE.

Layout: ``out_dir/<timepoint>/<series folder>/IM00001.dcm …`` and
``out_dir/truth.json``. Everything is deterministic for a seed: the UIDs are
name-based UUIDs (``2.25.<uuid5>``) of the seed, the size and the file's role,
and the image noise comes from ``numpy.random.default_rng`` seeded per series.

Example
-------
>>> truth = write_phantom(Path("demo"), size="small")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, MRImageStorage

from tace_planner.domain.geometry import affine_from_dicom_geometry, slice_normal
from tace_planner.domain.progress import Progress, Task, run_sync
from tace_planner.imaging.phantom_model import (
    ANATOMY_LAYERS,
    BASELINE_MR_DATE,
    CT_HU,
    LIVER,
    MR_SIGNAL,
    PATIENT_OFFSETS_LPS_MM,
    PHANTOM_PATIENT_ID,
    PHANTOM_PATIENT_NAME,
    TACE_DATE,
    TIMEPOINT_DATES,
    TIMEPOINT_LABELS,
    GridLike,
    PhantomSize,
    SamplingGrid,
    Solid,
    index_box,
    liver_volume_cm3,
    plane_points_lps,
)
from tace_planner.imaging.phantom_truth import (
    FocusTruth,
    PhantomTruth,
    SeriesTruth,
    StudyTruth,
    TimepointTruth,
    foci_at,
    truth_masks,
)

__all__ = [
    "PHANTOM_PATIENT_ID",
    "PHANTOM_PATIENT_NAME",
    "FocusTruth",
    "PhantomSize",
    "PhantomTruth",
    "SamplingGrid",
    "SeriesTruth",
    "TimepointTruth",
    "generate_phantom",
    "phantom_truth",
    "truth_masks",
    "write_phantom",
]

CT_NOISE_SD_HU = 11.0
"""Standard deviation of the Gaussian CT noise, Hounsfield units."""

_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:tace-planner:phantom")
_IMPLEMENTATION_UID = f"2.25.{uuid.uuid5(_UID_NAMESPACE, 'implementation').int}"
_AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
_CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
_BIRTH_DATE = date(1964, 5, 21)
_CT_INTERCEPT_HU = -1024.0
_MAX_STORED = 4095  # 12 bits stored
_MR_NOISE_SD = {"T2": 12.0, "T1": 15.0, "DWI": 9.0, "ADC": 40.0}
_PHASE_TEXT = {
    "native": "native",
    "arterial": "arterial",
    "venous": "portal venous",
    "delayed": "delayed",
}
_STUDY_CLOCK = {
    "baseline": time(9, 40),
    "follow_up_1": time(11, 5),
    "follow_up_2": time(8, 50),
    "follow_up_3": time(14, 15),
}
_MR_STUDY_CLOCK = time(16, 30)
_ACQUIRED_AFTER_INJECTION_S = {"native": -110.0, "arterial": 35.0, "venous": 70.0, "delayed": 180.0}
"""Start of each CT acquisition relative to the start of the contrast injection."""
_CONTRAST_DELAY_S = {
    p: (None if p == "native" else t) for p, t in _ACQUIRED_AFTER_INJECTION_S.items()
}


@dataclass(frozen=True)
class _GridSpec:
    """A stack of square images: matrix, pixel and slice geometry along the normal."""

    matrix: int
    pixel_mm: float
    thickness_mm: float
    spacing_mm: float
    first_mm: float
    count: int


_GRIDS: Mapping[str, Mapping[str, _GridSpec]] = {
    "full": {
        "ct": _GridSpec(512, 0.78125, 2.5, 2.5, -85.0, 69),
        "mr_axial": _GridSpec(256, 1.5, 5.0, 6.0, -84.0, 29),
        "mr_coronal": _GridSpec(256, 1.5, 5.0, 6.0, -126.0, 43),
        "mr_t1": _GridSpec(256, 1.5, 3.0, 3.0, -84.0, 57),
        "mr_dwi": _GridSpec(128, 3.0, 5.0, 6.0, -84.0, 29),
    },
    "small": {
        "ct": _GridSpec(128, 3.125, 5.0, 5.0, -85.0, 35),
        "mr_axial": _GridSpec(64, 6.0, 8.0, 10.0, -80.0, 17),
        "mr_coronal": _GridSpec(64, 6.0, 8.0, 10.0, -120.0, 25),
        "mr_t1": _GridSpec(64, 6.0, 8.0, 8.0, -80.0, 21),
        "mr_dwi": _GridSpec(64, 6.0, 8.0, 10.0, -80.0, 17),
    },
}
"""Matrix sizes per phantom size; the anatomy is the same in millimetres."""


@dataclass(frozen=True)
class _MrProtocol:
    """Sequence parameters written to the MR headers."""

    scanning_sequence: tuple[str, ...]
    sequence_variant: tuple[str, ...]
    scan_options: tuple[str, ...]
    acquisition_type: str
    repetition_time_ms: float
    echo_time_ms: float
    echo_train_length: int
    flip_angle_deg: float
    sequence_name: str
    window: tuple[float, float]


_MR_PROTOCOLS = {
    "T2": _MrProtocol(("SE",), ("SK", "SP"), ("PFP",), "2D", 4200.0, 92.0, 17, 150.0,
                      "*tse2d1_17", (450.0, 1000.0)),
    "T1": _MrProtocol(("GR",), ("SK", "SP"), ("FS",), "3D", 4.2, 1.9, 1, 9.0,
                      "*fl3d1", (450.0, 900.0)),
    "DWI": _MrProtocol(("SE", "EP"), ("SK", "SP"), ("FS",), "2D", 5600.0, 68.0, 64, 90.0,
                       "*ep_b", (350.0, 800.0)),
}  # fmt: skip


@dataclass(frozen=True)
class _Study:
    """A study being written: identity and clock."""

    label: str
    uid: str
    frame_of_reference_uid: str
    day: date
    starts_at: datetime
    modality: str
    description: str
    accession_number: str


@dataclass(frozen=True)
class _Series:
    """A series being written: its truth record plus what only the headers need."""

    study: _Study
    truth: SeriesTruth
    number: int
    orientation: tuple[float, ...]
    grid_name: str
    grid: _GridSpec
    acquired_at: datetime
    protocol: _MrProtocol | None = None


def _uid(seed: int, size: str, *parts: str) -> str:
    """Return a deterministic ``2.25.<UUID>`` UID for one role of one phantom."""
    name = "/".join(["tace-planner-phantom", f"seed={seed}", f"size={size}", *parts])
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, name).int}"


def _accession_number(seed: int, size: str, label: str, modality: str) -> str:
    """(0008,0050) *Accession Number*: 12 characters, deterministic."""
    name = f"tace-planner-phantom/seed={seed}/size={size}/{label}/{modality}/accession"
    return f"PH{uuid.uuid5(_UID_NAMESPACE, name).int % 10**10:010d}"


def _make_series(
    study: _Study,
    folder: str,
    number: int,
    description: str,
    *,
    seed: int,
    size: PhantomSize,
    grid_name: str,
    plane: str,
    acquired_at: datetime,
    phase: str | None = None,
    sequence: str | None = None,
    b_values: tuple[float, ...] = (),
    protocol: _MrProtocol | None = None,
) -> _Series:
    grid = _GRIDS[size][grid_name]
    orientation = _AXIAL if plane == "axial" else _CORONAL
    affine = affine_from_dicom_geometry(
        orientation,
        (grid.pixel_mm, grid.pixel_mm),
        _image_position(orientation, grid, grid.first_mm),
        [float(v) * grid.spacing_mm for v in slice_normal(orientation)],
    )
    truth = SeriesTruth(
        folder=folder,
        series_uid=_uid(seed, size, study.label, study.modality, folder, "series"),
        study_uid=study.uid,
        frame_of_reference_uid=study.frame_of_reference_uid,
        description=description,
        modality=study.modality,
        phase=phase,
        sequence=sequence,
        plane=plane,
        n_images=grid.count * max(1, len(b_values)),
        shape_zyx=(grid.count, grid.matrix, grid.matrix),
        index_to_lps=tuple(tuple(float(v) for v in row) for row in affine),
        b_values_s_per_mm2=b_values,
        contrast_delay_s=_CONTRAST_DELAY_S[phase] if phase is not None else None,
    )
    return _Series(study, truth, number, orientation, grid_name, grid, acquired_at, protocol)


def _image_position(
    orientation: Sequence[float], grid: _GridSpec, along_normal_mm: float
) -> tuple[float, float, float]:
    """(0020,0032) of a slice: the field of view is centred on the body axis."""
    first_pixel_mm = -grid.matrix * grid.pixel_mm / 2.0 + grid.pixel_mm / 2.0
    if tuple(orientation) == _AXIAL:
        return first_pixel_mm, first_pixel_mm, along_normal_mm
    return first_pixel_mm, along_normal_mm, -first_pixel_mm  # coronal: rows run downwards


def _plan(size: PhantomSize, seed: int) -> tuple[PhantomTruth, list[_Series]]:
    """Lay out every study and series of the phantom without writing anything."""
    if size not in _GRIDS:
        raise ValueError(f"size must be 'small' or 'full', got {size!r}")
    grids = _GRIDS[size]
    ct_mm = f"{grids['ct'].thickness_mm:g}mm"
    timepoints, all_series = [], []
    for label in TIMEPOINT_LABELS:
        day = TIMEPOINT_DATES[label]
        starts_at = datetime.combine(day, _STUDY_CLOCK[label])
        ct = _Study(
            label,
            _uid(seed, size, label, "CT", "study"),
            _uid(seed, size, label, "CT", "frame-of-reference"),
            day,
            starts_at,
            "CT",
            "CT Abdomen liver 4-phase" if label == "baseline" else "CT Abdomen liver follow-up",
            _accession_number(seed, size, label, "CT"),
        )
        injection_at = starts_at + timedelta(minutes=4)
        phases = ("native", "arterial", "venous", "delayed") if label == "baseline" else (
            "arterial", "venous")  # fmt: skip
        series = [
            _make_series(
                ct,
                f"CT_{phase}",
                2 + n,
                f"Abdomen {_PHASE_TEXT[phase]} {ct_mm}",
                seed=seed,
                size=size,
                grid_name="ct",
                plane="axial",
                phase=phase,
                acquired_at=injection_at + timedelta(seconds=_ACQUIRED_AFTER_INJECTION_S[phase]),
            )
            for n, phase in enumerate(phases)
        ]
        studies = [ct]
        if label == "baseline":
            mr = _Study(
                label,
                _uid(seed, size, label, "MR", "study"),
                _uid(seed, size, label, "MR", "frame-of-reference"),
                BASELINE_MR_DATE,
                datetime.combine(BASELINE_MR_DATE, _MR_STUDY_CLOCK),
                "MR",
                "MRI Liver 1.5T",
                _accession_number(seed, size, label, "MR"),
            )
            studies.append(mr)
            series += _mr_series(mr, seed, size)
        timepoints.append(
            TimepointTruth(
                label=label,
                date=day,
                study_uid=ct.uid,
                patient_offset_lps_mm=PATIENT_OFFSETS_LPS_MM[label],
                studies=tuple(StudyTruth(s.uid, s.day, s.modality, s.description) for s in studies),
                series=tuple(s.truth for s in series),
                foci=foci_at(label),
            )
        )
        all_series += series
    truth = PhantomTruth(
        tace_date=TACE_DATE,
        patient_id=PHANTOM_PATIENT_ID,
        patient_name=PHANTOM_PATIENT_NAME,
        size=size,
        seed=seed,
        liver=LIVER,
        liver_volume_cm3=liver_volume_cm3(),
        timepoints=tuple(timepoints),
    )
    return truth, all_series


def _mr_series(mr: _Study, seed: int, size: PhantomSize) -> list[_Series]:
    at = mr.starts_at
    common: dict[str, Any] = {"seed": seed, "size": size}
    return [
        _make_series(mr, "MR_T2_axial", 1, "T2 TSE axial", grid_name="mr_axial",
                     plane="axial", sequence="T2", protocol=_MR_PROTOCOLS["T2"],
                     acquired_at=at + timedelta(minutes=3, seconds=10), **common),
        _make_series(mr, "MR_T2_coronal", 2, "T2 TSE coronal", grid_name="mr_coronal",
                     plane="coronal", sequence="T2", protocol=_MR_PROTOCOLS["T2"],
                     acquired_at=at + timedelta(minutes=6, seconds=40), **common),
        _make_series(mr, "MR_T1_axial", 3, "T1 VIBE axial fs", grid_name="mr_t1",
                     plane="axial", sequence="T1", protocol=_MR_PROTOCOLS["T1"],
                     acquired_at=at + timedelta(minutes=10, seconds=5), **common),
        _make_series(mr, "MR_DWI_axial", 4, "DWI axial b50 b800", grid_name="mr_dwi",
                     plane="axial", sequence="DWI", protocol=_MR_PROTOCOLS["DWI"],
                     b_values=(50.0, 800.0),
                     acquired_at=at + timedelta(minutes=12, seconds=30), **common),
        _make_series(mr, "MR_ADC_axial", 5, "ADC", grid_name="mr_dwi",
                     plane="axial", sequence="ADC", protocol=_MR_PROTOCOLS["DWI"],
                     acquired_at=at + timedelta(minutes=12, seconds=30), **common),
    ]  # fmt: skip


def phantom_truth(size: PhantomSize = "full", seed: int = 0) -> PhantomTruth:
    """Return the truth of a phantom without writing it (same as the written ``truth.json``).

    Parameters
    ----------
    size : {"small", "full"}
        Matrix sizes (the anatomy is identical in mm).
    seed : int
        Seed of the UIDs and the noise.

    Returns
    -------
    PhantomTruth
        Geometry of every focus and the voxel grid of every series, so that
        :func:`truth_masks` can be sampled on any series grid in memory.
    """
    return _plan(size, seed)[0]


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

_PlaneLayer = tuple[str, slice, slice, npt.NDArray[np.float32]]


def _layers(label: str, foci: Sequence[FocusTruth]) -> list[tuple[str, Solid]]:
    """Solids in painting order for one timepoint, in its LPS frame."""
    offset = PATIENT_OFFSETS_LPS_MM[label]
    layers: list[tuple[str, Solid]] = [
        (tissue, solid.translated(offset)) for tissue, solid in ANATOMY_LAYERS
    ]
    for focus in foci:
        tissue = "focus_hypervascular" if focus.hypervascular else "focus_hypovascular"
        layers.append((tissue, focus.solid))
        core = focus.necrotic_core
        if core is not None:
            layers.append(("necrosis", core))
    return layers


def _plane_layers(
    layers: Sequence[tuple[str, Solid]],
    grid: GridLike,
    k: int,
    ramp_mm: float,
    cache: dict[int, _PlaneLayer | None],
) -> list[_PlaneLayer]:
    """Partial-volume weights of every layer on slice ``k``, cropped to its box.

    Solids unbounded along z give the same weights on every axial slice and are
    computed once per grid (``cache``).
    """
    affine = np.asarray(grid.index_to_lps)
    axial = affine[2, 1] == 0.0 and affine[2, 2] == 0.0
    result = []
    for n, (tissue, solid) in enumerate(layers):
        low, high = solid.bounds_lps_mm()
        z_invariant = axial and high[2] - low[2] > 1.0e5
        if z_invariant and n in cache:
            entry = cache[n]
        else:
            entry = None
            box = index_box(grid, (low, high), margin_mm=ramp_mm)
            if box is not None and box[0] <= k < box[1]:
                rows, columns = slice(box[2], box[3]), slice(box[4], box[5])
                weight = solid.occupancy(*plane_points_lps(grid, k, rows, columns), ramp_mm)
                if weight.any():
                    entry = (tissue, rows, columns, weight)
            if z_invariant:
                cache[n] = entry
        if entry is not None:
            result.append(entry)
    return result


def _compose(
    plane: Sequence[_PlaneLayer], values: Mapping[str, float], shape: tuple[int, int]
) -> npt.NDArray[np.float32]:
    """Paint the layers in order over air, each weighted by its partial volume."""
    image = np.full(shape, values["air"], dtype=np.float32)
    for tissue, rows, columns, weight in plane:
        region = image[rows, columns]
        region += weight * (np.float32(values[tissue]) - region)
    return image


def _dwi_values(b_value: float) -> dict[str, float]:
    return {
        tissue: s["S0"] * math.exp(-b_value * s["ADC"] * 1.0e-6) for tissue, s in MR_SIGNAL.items()
    }


def _to_stored(image: npt.NDArray[np.float32]) -> npt.NDArray[np.uint16]:
    return np.clip(np.rint(image), 0, _MAX_STORED).astype(np.uint16)


def _images(
    series: _Series, plane: Sequence[_PlaneLayer], rng: Mapping[int, np.random.Generator]
) -> Iterator[tuple[int, npt.NDArray[np.uint16], float | None]]:
    """Yield (b-value index, stored pixels, b-value) of every image of one slice."""
    shape = (series.grid.matrix, series.grid.matrix)
    kind = series.truth.phase or series.truth.sequence or ""
    if series.truth.modality == "CT":
        hu = _compose(plane, {t: v[kind] for t, v in CT_HU.items()}, shape)
        hu += rng[0].standard_normal(shape, dtype=np.float32) * np.float32(CT_NOISE_SD_HU)
        yield 0, _to_stored(hu - np.float32(_CT_INTERCEPT_HU)), None
    elif kind == "DWI":
        for n, b_value in enumerate(series.truth.b_values_s_per_mm2):
            signal = _compose(plane, _dwi_values(b_value), shape)
            signal += rng[n].standard_normal(shape, dtype=np.float32) * np.float32(
                _MR_NOISE_SD["DWI"]
            )
            yield n, _to_stored(np.abs(signal)), b_value
    elif kind == "ADC":
        adc = _compose(plane, {t: v["ADC"] for t, v in MR_SIGNAL.items()}, shape)
        noise = rng[0].standard_normal(shape, dtype=np.float32) * np.float32(_MR_NOISE_SD["ADC"])
        yield 0, _to_stored(np.where(adc > 1.0, adc + noise, 0.0)), None
    else:
        signal = _compose(plane, {t: v[kind] for t, v in MR_SIGNAL.items()}, shape)
        signal += rng[0].standard_normal(shape, dtype=np.float32) * np.float32(_MR_NOISE_SD[kind])
        yield 0, _to_stored(np.abs(signal)), None


# ---------------------------------------------------------------------------
# DICOM headers
# ---------------------------------------------------------------------------


def _ds(value: float) -> str:
    """Format a number as a DICOM decimal string (at most 16 characters)."""
    text = f"{value:.10g}"
    if len(text) > 16:
        text = f"{value:.8g}"
    return "0" if text == "-0" else text


def _da(day: date) -> str:
    return day.strftime("%Y%m%d")


def _tm(moment: datetime) -> str:
    return moment.strftime("%H%M%S")


def _age(on: date) -> str:
    years = on.year - _BIRTH_DATE.year - ((on.month, on.day) < (_BIRTH_DATE.month, _BIRTH_DATE.day))
    return f"{years:03d}Y"


def _header(
    series: _Series, slice_number: int, instance_number: int, b_value: float | None
) -> dict[str, Any]:
    """Attributes of one image of ``series`` (CT or MR Image IOD), keyword -> value."""
    study, truth, grid = series.study, series.truth, series.grid
    along_normal_mm = grid.first_mm + slice_number * grid.spacing_mm
    position = _image_position(series.orientation, grid, along_normal_mm)
    created_at = series.acquired_at + timedelta(seconds=90)
    header: dict[str, Any] = {
        "SpecificCharacterSet": "ISO_IR 100",
        "InstanceCreationDate": _da(created_at.date()),
        "InstanceCreationTime": _tm(created_at),
        # Patient, general study, patient study
        "PatientName": PHANTOM_PATIENT_NAME,
        "PatientID": PHANTOM_PATIENT_ID,
        "PatientBirthDate": _da(_BIRTH_DATE),
        "PatientSex": "F",
        "PatientAge": _age(study.day),
        "PatientWeight": "68",
        "PatientSize": "1.66",
        "StudyInstanceUID": study.uid,
        "StudyDate": _da(study.day),
        "StudyTime": _tm(study.starts_at),
        "ReferringPhysicianName": "",
        "StudyID": "1",
        "AccessionNumber": study.accession_number,
        "StudyDescription": study.description,
        # General series, frame of reference, equipment
        "Modality": truth.modality,
        "SeriesInstanceUID": truth.series_uid,
        "SeriesNumber": series.number,
        "SeriesDate": _da(series.acquired_at.date()),
        "SeriesTime": _tm(series.acquired_at),
        "SeriesDescription": truth.description,
        "BodyPartExamined": "ABDOMEN",
        "PatientPosition": "HFS",
        "FrameOfReferenceUID": study.frame_of_reference_uid,
        "PositionReferenceIndicator": "",
        "Manufacturer": "TACE Planner",
        "ManufacturerModelName": f"Synthetic phantom {truth.modality}",
        "InstitutionName": "TACE Planner demo",
        "StationName": "PHANTOM",
        "SoftwareVersions": "tace-planner phantom 1",
        # General image and acquisition
        "InstanceNumber": instance_number,
        "AcquisitionNumber": 1,
        "AcquisitionDate": _da(series.acquired_at.date()),
        "AcquisitionTime": _tm(series.acquired_at),
        "ContentDate": _da(created_at.date()),
        "ContentTime": _tm(created_at),
        "BurnedInAnnotation": "NO",
        "ImageComments": "Synthetic phantom, not a patient",
        # Image plane
        "ImageOrientationPatient": [_ds(v) for v in series.orientation],
        "ImagePositionPatient": [_ds(v) for v in position],
        "PixelSpacing": [_ds(grid.pixel_mm), _ds(grid.pixel_mm)],
        "SliceThickness": _ds(grid.thickness_mm),
        "SpacingBetweenSlices": _ds(grid.spacing_mm),
        "SliceLocation": _ds(along_normal_mm),
        # Image pixel
        "SamplesPerPixel": 1,
        "PhotometricInterpretation": "MONOCHROME2",
        "Rows": grid.matrix,
        "Columns": grid.matrix,
        "BitsAllocated": 16,
        "BitsStored": 12,
        "HighBit": 11,
        "PixelRepresentation": 0,
    }
    if truth.modality == "CT":
        header.update(_ct_header(series))
    else:
        header.update(_mr_header(series, b_value))
    return header


def _ct_header(series: _Series) -> dict[str, Any]:
    grid = series.grid
    header: dict[str, Any] = {
        "SOPClassUID": CTImageStorage,
        "ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"],
        "RescaleIntercept": _ds(_CT_INTERCEPT_HU),
        "RescaleSlope": "1",
        "RescaleType": "HU",
        "WindowCenter": "40",
        "WindowWidth": "400",
        "KVP": "120",
        "XRayTubeCurrent": 260,
        "ExposureTime": 500,
        "ScanOptions": "HELICAL MODE",
        "DataCollectionDiameter": "500",
        "ReconstructionDiameter": _ds(grid.matrix * grid.pixel_mm),
        "GantryDetectorTilt": "0",
        "TableHeight": "160",
        "RotationDirection": "CW",
        "ConvolutionKernel": "B30f",
    }
    delay_s = series.truth.contrast_delay_s
    if delay_s is not None:  # the Contrast/Bolus module, absent from the native phase
        injected_at = series.acquired_at - timedelta(seconds=delay_s)
        header.update(
            {
                "ContrastBolusAgent": "Iohexol 350 mgI/ml",
                "ContrastBolusRoute": "IV",
                "ContrastBolusVolume": "100",
                "ContrastBolusStartTime": _tm(injected_at),
                "ContrastBolusTotalDose": "100",
                "ContrastFlowRate": "4",
                "ContrastFlowDuration": "25",
                "ContrastBolusIngredient": "IODINE",
                "ContrastBolusIngredientConcentration": "350",
            }
        )
    return header


def _mr_header(series: _Series, b_value: float | None) -> dict[str, Any]:
    protocol, kind = series.protocol, series.truth.sequence
    assert protocol is not None  # every MR series has one
    center, width = protocol.window
    header: dict[str, Any] = {
        "SOPClassUID": MRImageStorage,
        "ImageType": ["ORIGINAL", "PRIMARY", "M", "ND"],
        "ScanningSequence": list(protocol.scanning_sequence),
        "SequenceVariant": list(protocol.sequence_variant),
        "ScanOptions": list(protocol.scan_options),
        "MRAcquisitionType": protocol.acquisition_type,
        "SequenceName": protocol.sequence_name,
        "AngioFlag": "N",
        "RepetitionTime": _ds(protocol.repetition_time_ms),
        "EchoTime": _ds(protocol.echo_time_ms),
        "EchoTrainLength": protocol.echo_train_length,
        "EchoNumbers": 1,
        "NumberOfAverages": "1",
        "ImagingFrequency": "63.676",
        "ImagedNucleus": "1H",
        "MagneticFieldStrength": "1.5",
        "FlipAngle": _ds(protocol.flip_angle_deg),
        "PixelBandwidth": "300",
        "AcquisitionMatrix": [0, series.grid.matrix, series.grid.matrix, 0],
        "InPlanePhaseEncodingDirection": "ROW",
        "PercentSampling": "100",
        "PercentPhaseFieldOfView": "100",
        "ReceiveCoilName": "Body18",
        "TransmitCoilName": "Body",
        "WindowCenter": _ds(center),
        "WindowWidth": _ds(width),
    }
    if kind == "DWI" and b_value is not None:
        header["ImageType"] = ["ORIGINAL", "PRIMARY", "DIFFUSION", "TRACEW"]
        header["SequenceName"] = f"*ep_b{b_value:g}t"
        header["DiffusionBValue"] = float(b_value)
        header["DiffusionDirectionality"] = "ISOTROPIC"
    elif kind == "ADC":
        header["ImageType"] = ["DERIVED", "PRIMARY", "ADC"]
        header["DerivationDescription"] = "ADC from b50 and b800 trace images, 10^-6 mm2/s"
        header["WindowCenter"], header["WindowWidth"] = "1200", "2400"
    return header


def _write_dicom(
    path: Path, header: Mapping[str, Any], pixels: npt.NDArray[np.uint16], sop_uid: str
) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(header["SOPClassUID"])
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID(_IMPLEMENTATION_UID)
    meta.ImplementationVersionName = "TACEPHANTOM_1"
    dataset = FileDataset(str(path), Dataset(), file_meta=meta, preamble=b"\0" * 128)
    for keyword, value in header.items():
        setattr(dataset, keyword, value)
    dataset.SOPInstanceUID = sop_uid
    dataset.PixelData = np.ascontiguousarray(pixels, dtype="<u2").tobytes()
    dataset.save_as(path, enforce_file_format=True)


# ---------------------------------------------------------------------------
# Public tasks
# ---------------------------------------------------------------------------


def generate_phantom(
    out_dir: Path, size: PhantomSize = "full", seed: int = 0
) -> Task[PhantomTruth]:
    """Write the demo patient's DICOM series and ``truth.json`` into ``out_dir``.

    Parameters
    ----------
    out_dir : pathlib.Path
        Created if missing; existing phantom files are overwritten. A stale
        ``truth.json`` is removed first, so that its presence means the phantom
        was written completely (a closed task leaves none).
    size : {"small", "full"}
        "full": CT 512 × 512 at 0.78125 mm, 2.5 mm slices; MRI 256 × 256 at
        1.5 mm (DWI/ADC 128 × 128 at 3 mm). "small": CT 128 × 128 at 3.125 mm,
        5 mm slices; MRI 64 × 64 at 6 mm. The anatomy is the same in mm.
    seed : int
        Seed of the UIDs and the noise; the same seed gives the same bytes.

    Yields
    ------
    Progress
        One step per written file, then one for ``truth.json``.

    Returns
    -------
    PhantomTruth
        What was written to ``truth.json``.
    """
    truth, all_series = _plan(size, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "truth.json").unlink(missing_ok=True)  # present only when complete
    total = sum(s.truth.n_images for s in all_series) + 1
    done = 0
    groups: dict[tuple[str, str], list[_Series]] = {}
    for series in all_series:  # series on one grid share their partial-volume weights
        groups.setdefault((series.study.label, series.grid_name), []).append(series)
    for (label, _), members in groups.items():
        timepoint_index = TIMEPOINT_LABELS.index(label)
        layers = _layers(label, truth.timepoint(label).foci)
        grid = members[0].truth.grid
        ramp_mm = members[0].grid.pixel_mm
        folders = {}
        rngs = {}
        for series in members:
            folder = out_dir / label / series.truth.folder
            folder.mkdir(parents=True, exist_ok=True)
            folders[series.truth.folder] = folder
            rngs[series.truth.folder] = {
                n: np.random.default_rng(
                    [seed, timepoint_index, series.study.modality == "MR", series.number, n]
                )
                for n in range(max(1, len(series.truth.b_values_s_per_mm2)))
            }
        cache: dict[int, _PlaneLayer | None] = {}
        count = members[0].grid.count
        for k in range(count):
            plane = _plane_layers(layers, grid, k, ramp_mm, cache)
            for series in members:
                # Axial stacks are numbered from the top down, coronal front to back.
                number = count - k if series.truth.plane == "axial" else k + 1
                for n, pixels, b_value in _images(series, plane, rngs[series.truth.folder]):
                    instance = number + n * count
                    sop_uid = _uid(seed, size, label, series.truth.folder, str(instance))
                    path = folders[series.truth.folder] / f"IM{instance:05d}.dcm"
                    _write_dicom(path, _header(series, k, instance, b_value), pixels, sop_uid)
                    done += 1
                    yield Progress(done, total, f"{label}/{series.truth.folder}/{path.name}")
    text = json.dumps(truth.to_json(), indent=2, ensure_ascii=False) + "\n"
    (out_dir / "truth.json").write_text(text, encoding="utf-8")
    yield Progress(total, total, "truth.json")
    return truth


def write_phantom(out_dir: Path, size: PhantomSize = "full", seed: int = 0) -> PhantomTruth:
    """Run :func:`generate_phantom` to completion on the calling thread."""
    return run_sync(generate_phantom(out_dir, size, seed))
