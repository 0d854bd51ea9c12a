"""Ground truth of the demo phantom: the records of ``truth.json`` and label masks.

A :class:`PhantomTruth` holds, per timepoint, the written studies and series and
the foci with their exact analytic measures; :func:`foci_at` evaluates the
scripted course of :mod:`tace_planner.imaging.phantom_model` at one timepoint,
and :func:`truth_masks` samples the analytic solids on any voxel grid. Frames
and units are those of :mod:`tace_planner.imaging.phantom_model` (LPS, mm).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from tace_planner.domain.units import MM3_PER_CM3
from tace_planner.imaging.phantom_model import (
    _COURSES,
    PATIENT_OFFSETS_LPS_MM,
    TIMEPOINT_LABELS,
    BoolArray,
    Ellipsoid,
    GridLike,
    LiverModel,
    PhantomSize,
    SamplingGrid,
    Vec3,
    _add,
    _vec3,
    sample_solid,
)

# ---------------------------------------------------------------------------
# Truth records
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FocusTruth:
    """One focus at one timepoint, with its exact analytic measures.

    Parameters
    ----------
    name : str
        "F1", "F2", …; the same name is the same lesion at every timepoint.
    couinaud_segment : str
        Roman numeral "I" … "VIII".
    center_lps_mm : tuple of 3 float
        Centre in the LPS frame of this timepoint's scans.
    semi_axes_mm : tuple of 3 float
        See :class:`Ellipsoid`; equal for a sphere.
    rotation_deg : float
        Rotation about +z (from +x towards +y).
    hypervascular : bool
        Enhances above the liver in the arterial phase and washes out below it
        in the portal venous and delayed phases; otherwise hypovascular
        (below the liver in every phase).
    necrotic_semi_axes_mm : tuple of 3 float or None
        The concentric, similar, non-enhancing necrotic core.
    """

    name: str
    couinaud_segment: str
    center_lps_mm: Vec3
    semi_axes_mm: Vec3
    rotation_deg: float
    hypervascular: bool
    necrotic_semi_axes_mm: Vec3 | None = None

    @property
    def shape(self) -> str:
        """Return "sphere" when all semi-axes are equal, else "ellipsoid"."""
        return "sphere" if len(set(self.semi_axes_mm)) == 1 else "ellipsoid"

    @property
    def solid(self) -> Ellipsoid:
        """The focus as a solid (LPS of its timepoint)."""
        return Ellipsoid(self.center_lps_mm, self.semi_axes_mm, self.rotation_deg)

    @property
    def necrotic_core(self) -> Ellipsoid | None:
        """The necrotic core as a solid, or None."""
        if self.necrotic_semi_axes_mm is None:
            return None
        return Ellipsoid(self.center_lps_mm, self.necrotic_semi_axes_mm, self.rotation_deg)

    @property
    def volume_cm3(self) -> float:
        """Exact volume ``4/3 π a b c`` in cm³."""
        return self.solid.volume_mm3 / MM3_PER_CM3

    @property
    def longest_axial_diameter_mm(self) -> float:
        """Exact longest chord in any axial plane: ``2 max(a, b)`` (rotation about z only)."""
        return 2.0 * max(self.semi_axes_mm[0], self.semi_axes_mm[1])

    @property
    def enhancing_fraction(self) -> float:
        """Viable (non-necrotic) volume over total volume: ``1 - (an bn cn)/(a b c)``."""
        if self.necrotic_semi_axes_mm is None:
            return 1.0
        return 1.0 - math.prod(self.necrotic_semi_axes_mm) / math.prod(self.semi_axes_mm)

    def to_json(self) -> dict[str, Any]:
        """Return the ``truth.json`` record of this focus."""
        return {
            "name": self.name,
            "couinaud_segment": self.couinaud_segment,
            "shape": self.shape,
            "center_lps_mm": list(self.center_lps_mm),
            "semi_axes_mm": list(self.semi_axes_mm),
            "rotation_deg": self.rotation_deg,
            "hypervascular": self.hypervascular,
            "necrotic_semi_axes_mm": (
                None if self.necrotic_semi_axes_mm is None else list(self.necrotic_semi_axes_mm)
            ),
            "volume_cm3": self.volume_cm3,
            "longest_axial_diameter_mm": self.longest_axial_diameter_mm,
            "enhancing_fraction": self.enhancing_fraction,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FocusTruth:
        """Inverse of :meth:`to_json` (derived measures are recomputed)."""
        necrotic = data.get("necrotic_semi_axes_mm")
        return cls(
            str(data["name"]),
            str(data["couinaud_segment"]),
            _vec3(data["center_lps_mm"]),
            _vec3(data["semi_axes_mm"]),
            float(data["rotation_deg"]),
            bool(data["hypervascular"]),
            None if necrotic is None else _vec3(necrotic),
        )


def foci_at(label: str) -> tuple[FocusTruth, ...]:
    """Return the foci present at timepoint ``label``, in its LPS frame.

    Raises
    ------
    KeyError
        If ``label`` is not one of :data:`TIMEPOINT_LABELS`.
    """
    if label not in TIMEPOINT_LABELS:
        raise KeyError(f"unknown timepoint {label!r}; expected one of {TIMEPOINT_LABELS}")
    index = TIMEPOINT_LABELS.index(label)
    offset = PATIENT_OFFSETS_LPS_MM[label]
    foci = []
    for course in _COURSES:
        ratio = course.volume_ratio[index]
        if ratio <= 0.0:
            continue
        scale = ratio ** (1.0 / 3.0)
        semi = _vec3(round(s * scale, 4) for s in course.semi_axes_mm)
        necrotic_scale = course.necrotic_scale[index]
        necrotic = _vec3(round(s * necrotic_scale, 4) for s in semi) if necrotic_scale > 0 else None
        center = _add(course.center_mm, (0.0, 0.0, course.center_shift_mm[index]))
        foci.append(
            FocusTruth(
                course.name,
                course.couinaud_segment,
                _vec3(round(c, 4) for c in _add(center, offset)),
                semi,
                course.rotation_deg,
                course.hypervascular,
                necrotic,
            )
        )
    return tuple(foci)


@dataclass(frozen=True)
class SeriesTruth:
    """One written series: identity, kind and voxel grid.

    ``shape_zyx`` and ``index_to_lps`` describe one volume with slices sorted
    ascending along the slice normal; a DWI series holds one such volume per
    b-value (``n_images = b-values × slices``).
    """

    folder: str
    series_uid: str
    study_uid: str
    frame_of_reference_uid: str
    description: str
    modality: str
    phase: str | None
    sequence: str | None
    plane: str
    n_images: int
    shape_zyx: tuple[int, int, int]
    index_to_lps: tuple[tuple[float, ...], ...]
    b_values_s_per_mm2: tuple[float, ...] = ()
    contrast_delay_s: float | None = None

    @property
    def grid(self) -> SamplingGrid:
        """The series' voxel grid."""
        return SamplingGrid(np.array(self.index_to_lps, dtype=float), self.shape_zyx)

    def to_json(self) -> dict[str, Any]:
        """Return the ``truth.json`` record of this series."""
        return {
            "folder": self.folder,
            "series_uid": self.series_uid,
            "study_uid": self.study_uid,
            "frame_of_reference_uid": self.frame_of_reference_uid,
            "description": self.description,
            "modality": self.modality,
            "phase": self.phase,
            "sequence": self.sequence,
            "plane": self.plane,
            "n_images": self.n_images,
            "shape_zyx": list(self.shape_zyx),
            "index_to_lps": [list(row) for row in self.index_to_lps],
            "b_values_s_per_mm2": list(self.b_values_s_per_mm2),
            "contrast_delay_s": self.contrast_delay_s,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SeriesTruth:
        """Inverse of :meth:`to_json`."""
        z, y, x = (int(v) for v in data["shape_zyx"])
        return cls(
            folder=str(data["folder"]),
            series_uid=str(data["series_uid"]),
            study_uid=str(data["study_uid"]),
            frame_of_reference_uid=str(data["frame_of_reference_uid"]),
            description=str(data["description"]),
            modality=str(data["modality"]),
            phase=data["phase"],
            sequence=data["sequence"],
            plane=str(data["plane"]),
            n_images=int(data["n_images"]),
            shape_zyx=(z, y, x),
            index_to_lps=tuple(tuple(float(v) for v in row) for row in data["index_to_lps"]),
            b_values_s_per_mm2=tuple(float(b) for b in data["b_values_s_per_mm2"]),
            contrast_delay_s=data["contrast_delay_s"],
        )


@dataclass(frozen=True)
class StudyTruth:
    """One study (one visit to one scanner)."""

    study_uid: str
    date: date
    modality: str
    description: str

    def to_json(self) -> dict[str, Any]:
        """Return the ``truth.json`` record of this study."""
        return {
            "study_uid": self.study_uid,
            "date": self.date.isoformat(),
            "modality": self.modality,
            "description": self.description,
        }


@dataclass(frozen=True)
class TimepointTruth:
    """Everything scanned at one timepoint and what it shows.

    ``study_uid`` and ``date`` are those of the CT study; the baseline
    timepoint also holds the MRI study (``studies``). The MRI shares the CT's
    patient offset.
    """

    label: str
    date: date
    study_uid: str
    patient_offset_lps_mm: Vec3
    studies: tuple[StudyTruth, ...]
    series: tuple[SeriesTruth, ...]
    foci: tuple[FocusTruth, ...]

    def series_by_folder(self, folder: str) -> SeriesTruth:
        """Return the series written to ``folder`` (e.g. "CT_arterial")."""
        for series in self.series:
            if series.folder == folder:
                return series
        raise KeyError(f"{self.label} has no series {folder!r}")

    def to_json(self, liver_volume_cm3: float) -> dict[str, Any]:
        """Return the ``truth.json`` record of this timepoint."""
        return {
            "label": self.label,
            "date": self.date.isoformat(),
            "study_uid": self.study_uid,
            "patient_offset_lps_mm": list(self.patient_offset_lps_mm),
            "liver_volume_cm3": liver_volume_cm3,
            "studies": [study.to_json() for study in self.studies],
            "series": [series.to_json() for series in self.series],
            "foci": [focus.to_json() for focus in self.foci],
        }


@dataclass(frozen=True)
class PhantomTruth:
    """Ground truth of one generated phantom; :meth:`to_json` is ``truth.json``.

    Parameters
    ----------
    tace_date : datetime.date
        Date of the (fictitious) TACE; follow-ups are 8 weeks, 5 and 8 months later.
    patient_id, patient_name : str
        As written to (0010,0020) and (0010,0010).
    size : {"small", "full"}
        Which matrix sizes were written; the anatomy is identical in mm.
    seed : int
        Seed of the UIDs and of the image noise.
    liver : LiverModel
        The liver in the baseline frame (add a timepoint's offset for its frame).
    liver_volume_cm3 : float
        Analytic liver volume (foci included), the same at every timepoint.
    timepoints : tuple of TimepointTruth
        Baseline, then follow-ups in date order.
    """

    tace_date: date
    patient_id: str
    patient_name: str
    size: PhantomSize
    seed: int
    liver: LiverModel
    liver_volume_cm3: float
    timepoints: tuple[TimepointTruth, ...]

    def timepoint(self, label: str) -> TimepointTruth:
        """Return the timepoint called ``label`` ("baseline", "follow_up_1", …)."""
        for timepoint in self.timepoints:
            if timepoint.label == label:
                return timepoint
        known = [t.label for t in self.timepoints]
        raise KeyError(f"unknown timepoint {label!r}; expected one of {known}")

    def to_json(self) -> dict[str, Any]:
        """Return exactly the content of ``truth.json``."""
        return {
            "format": "tace-planner-phantom-truth/1",
            "frame": "DICOM patient coordinates LPS (+x left, +y posterior, +z superior), mm",
            "tace_date": self.tace_date.isoformat(),
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "size": self.size,
            "seed": self.seed,
            "liver_volume_cm3": self.liver_volume_cm3,
            "liver_model_baseline_frame": self.liver.to_json(),
            "timepoints": [t.to_json(self.liver_volume_cm3) for t in self.timepoints],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PhantomTruth:
        """Rebuild the truth from a loaded ``truth.json``."""
        timepoints = tuple(
            TimepointTruth(
                label=str(t["label"]),
                date=date.fromisoformat(t["date"]),
                study_uid=str(t["study_uid"]),
                patient_offset_lps_mm=_vec3(t["patient_offset_lps_mm"]),
                studies=tuple(
                    StudyTruth(
                        str(s["study_uid"]),
                        date.fromisoformat(s["date"]),
                        str(s["modality"]),
                        str(s["description"]),
                    )
                    for s in t["studies"]
                ),
                series=tuple(SeriesTruth.from_json(s) for s in t["series"]),
                foci=tuple(FocusTruth.from_json(f) for f in t["foci"]),
            )
            for t in data["timepoints"]
        )
        return cls(
            tace_date=date.fromisoformat(data["tace_date"]),
            patient_id=str(data["patient_id"]),
            patient_name=str(data["patient_name"]),
            size=data["size"],
            seed=int(data["seed"]),
            liver=LiverModel.from_json(data["liver_model_baseline_frame"]),
            liver_volume_cm3=float(data["liver_volume_cm3"]),
            timepoints=timepoints,
        )


# ---------------------------------------------------------------------------
# Label masks on any grid
# ---------------------------------------------------------------------------


def truth_masks(
    truth_or_spec: PhantomTruth | Mapping[str, Any],
    grid: GridLike,
    timepoint: str,
    *,
    include_necrosis: bool = False,
) -> dict[str, BoolArray]:
    """Return the analytic label masks of one timepoint sampled on any grid.

    Parameters
    ----------
    truth_or_spec : PhantomTruth or mapping
        The truth, or the loaded content of ``truth.json``.
    grid : GridLike
        An :class:`~tace_planner.domain.volume.ImageVolume`, a
        :class:`SamplingGrid` or anything with ``index_to_lps`` and ``shape``;
        it must be in the LPS frame of that timepoint's scans.
    timepoint : str
        "baseline", "follow_up_1", ….
    include_necrosis : bool
        Also return ``"<name>/necrosis"`` masks for foci with a necrotic core.

    Returns
    -------
    dict of str to numpy.ndarray
        ``"liver"`` (the whole organ, foci included) and one mask per focus
        name, each bool, shape (z, y, x): True where the voxel **centre** lies
        inside the analytic solid.
    """
    truth = (
        truth_or_spec
        if isinstance(truth_or_spec, PhantomTruth)
        else PhantomTruth.from_json(truth_or_spec)
    )
    point = truth.timepoint(timepoint)
    liver = truth.liver.translated(point.patient_offset_lps_mm)
    masks = {"liver": sample_solid(liver, grid)}
    for focus in point.foci:
        masks[focus.name] = sample_solid(focus.solid, grid)
        core = focus.necrotic_core
        if include_necrosis and core is not None:
            masks[f"{focus.name}/necrosis"] = sample_solid(core, grid)
    return masks
