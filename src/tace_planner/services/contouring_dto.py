"""Read models of contouring (lesions, masks, measurements); no SQLAlchemy, safe for the UI."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tace_planner.domain.explanation import Advisory

NEW = -1
"""``expected_version`` meaning "there must be no contour yet" (a first auto contour)."""

METHOD_WORDS = {"auto": "automatic contour", "manual": "drawn by hand", "edited": "edited by hand"}
"""A stored contour's method as a sentence says it."""

LIVER_LESION_NAME = "Liver"
"""Name of the whole-liver contour of a case (kind ``"liver"``)."""


@dataclass(frozen=True, slots=True)
class LesionItem:
    """One lesion of a case (the liver or a focus), identity kept across timepoints."""

    pk: int
    case_pk: int
    name: str
    kind: str
    couinaud_segment: str
    lobe: str
    is_target: bool
    target_override_reason: str
    colour: str
    version: int

    @property
    def is_liver(self) -> bool:
        """True for the whole-liver contour."""
        return self.kind == "liver"


@dataclass(frozen=True, slots=True)
class TimepointChoice:
    """A timepoint of a case, for choosing whose values to show.

    ``label`` is the stored label (what the services are asked by); ``name`` the visit as
    people read it: its schedule slot when placed in one ("TACE 1 follow-up 1"), the
    baseline and any other visit by its label
    (:func:`~tace_planner.services.visit_names.name_of`); "" when not given, so a view
    shows ``name or label``. Keyword-only: a subclass's positional fields keep their places.
    """

    pk: int
    label: str
    kind: str
    imaged_on: dt.date | None = None
    name: str = field(default="", kw_only=True)


@dataclass(frozen=True, slots=True)
class SegmentProposal:
    """A Couinaud segment proposed for a focus from its position in the liver contour.

    ``code`` is "" when no proposal can be made (``explanation`` says why).
    """

    lesion_pk: int
    code: str
    confidence: float
    confidence_label: str
    explanation: str
    timepoint_label: str = ""


@dataclass(frozen=True, slots=True)
class LesionChange:
    """What a lesion write did: the lesion as stored, and the RECIST advisories.

    ``applied`` is False when a target selection was refused because it breaks a
    RECIST 1.1 rule and no override reason was given (``advisories`` say which).
    """

    lesion: LesionItem
    advisories: tuple[Advisory, ...] = ()
    applied: bool = True


@dataclass(frozen=True, slots=True)
class SegmentationItem:
    """One stored mask: a lesion at a timepoint, on one series part's grid."""

    pk: int
    lesion_pk: int
    timepoint_pk: int
    series_uid: str
    part: str | None
    shape_zyx: tuple[int, int, int]
    bbox: tuple[int, int, int, int, int, int]
    method: str
    version: int
    updated_at: dt.datetime | None
    updated_by: str

    @property
    def is_empty(self) -> bool:
        """True when the mask holds no voxel."""
        z0, z1, y0, y1, x0, x1 = self.bbox
        return z1 <= z0 or y1 <= y0 or x1 <= x0


@dataclass(frozen=True, eq=False)
class LesionMask:
    """A lesion's decoded mask (bool, shape ``segmentation.shape_zyx``)."""

    lesion: LesionItem
    segmentation: SegmentationItem
    mask: npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class LesionMeasurementItem:
    """The latest measurement of one lesion at one timepoint (None: not measurable)."""

    lesion_pk: int
    name: str
    kind: str
    couinaud_segment: str
    is_target: bool
    segmentation_pk: int
    series_uid: str
    volume_cm3: float | None
    longest_axial_diameter_mm: float | None
    short_axis_mm: float | None
    longest_3d_diameter_mm: float | None
    mean_hu: float | None
    enhancing_fraction: float | None
    method: str
    trust: str
    centroid_lps: tuple[float, float, float] | None = None
    notes: tuple[str, ...] = ()
    measured_at: dt.datetime | None = None
    long_axis_lps: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
    """End points of the RECIST long axis (LPS mm), drawn on the image."""
    short_axis_lps: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
    enhancement_rule: str = ""
    """How the enhancing fraction was obtained (threshold and its source)."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``tace-planner measurements --json`` prints per lesion)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "couinaud_segment": self.couinaud_segment,
            "is_target": self.is_target,
            "series_uid": self.series_uid,
            "volume_cm3": _round(self.volume_cm3, 3),
            "longest_axial_diameter_mm": _round(self.longest_axial_diameter_mm, 2),
            "short_axis_mm": _round(self.short_axis_mm, 2),
            "longest_3d_diameter_mm": _round(self.longest_3d_diameter_mm, 2),
            "mean_hu": _round(self.mean_hu, 1),
            "enhancing_fraction": _round(self.enhancing_fraction, 4),
            "enhancement_rule": self.enhancement_rule,
            "method": self.method,
            "trust": self.trust,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class MeasurementsItem:
    """Every lesion's latest measurement at one timepoint, with the tumour burden F.

    ``burden_percent`` is None when the liver or a focus volume is missing
    (``notes`` say why).
    """

    case_pk: int
    timepoint_pk: int
    timepoint_label: str
    lesions: tuple[LesionMeasurementItem, ...] = ()
    liver_volume_cm3: float | None = None
    tumour_volume_cm3: float | None = None
    burden_percent: float | None = None
    trust: str = "ok"
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def foci(self) -> tuple[LesionMeasurementItem, ...]:
        """The focus measurements (the liver left out)."""
        return tuple(m for m in self.lesions if m.kind != "liver")

    def lesion(self, name: str) -> LesionMeasurementItem | None:
        """The measurement of the lesion called ``name``, if any."""
        return next((m for m in self.lesions if m.name == name), None)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``tace-planner measurements --json`` prints)."""
        return {
            "case": self.case_pk,
            "timepoint": self.timepoint_label,
            "lesions": [m.to_json() for m in self.lesions if m.kind != "liver"],
            "liver_volume_cm3": _round(self.liver_volume_cm3, 2),
            "tumour_volume_cm3": _round(self.tumour_volume_cm3, 3),
            "burden_percent": _round(self.burden_percent, 3),
            "trust": self.trust,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class ContourResult:
    """What an auto contour, liver contour or hand edit stored and measured."""

    lesion: LesionItem
    segmentation: SegmentationItem
    measurement: LesionMeasurementItem | None
    warnings: tuple[str, ...] = ()
    lesion_created: bool = False
    """True when this action added the lesion (undoing it deletes the lesion again)."""
    message: str = ""
    """A leak outside the liver or to the size limit, with the gesture that fixes it; after a
    hand edit, the volume the focus now shares with another focus ("": none)."""
    notes: tuple[str, ...] = ()
    """What the tool left out that the user may want to look at (not a fault)."""


@dataclass(frozen=True, slots=True)
class SegImportItem:
    """What importing a DICOM SEG stored."""

    series_uid: str
    lesions: tuple[LesionItem, ...]
    warnings: tuple[str, ...] = ()


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)
