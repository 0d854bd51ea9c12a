"""Frozen results of the measurements, and the enhancement threshold rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Explanation
from tace_planner.domain.measurements_base import Trust, Vec3


@dataclass(frozen=True)
class VolumeMeasurement:
    """Volume of a mask.

    Attributes
    ----------
    volume_cm3 : float
        ``voxel_count × voxel_volume_cm3``.
    voxel_count : int
    voxel_volume_cm3 : float
        ``|det(affine[:3, :3])| / 1000``.
    method, trust, explanation
        How, on what geometry, and the numbers.
    """

    volume_cm3: float
    voxel_count: int
    voxel_volume_cm3: float
    method: str
    trust: Trust
    explanation: Explanation


@dataclass(frozen=True)
class AxialDiameters:
    """RECIST long and short axes on the axial slice where the long axis is longest.

    Attributes
    ----------
    long_axis_mm : float
        Largest in-plane Feret diameter over all slices.
    slice_index : int
        The (z) index of that slice.
    long_axis_lps : tuple of 2 (x, y, z)
        Its end points in LPS mm (on the outline).
    long_axis_index : tuple of 2 (z, y, x)
        The same end points as fractional voxel indices (for drawing).
    short_axis_mm : float
        Longest chord perpendicular to the long axis on the same slice.
    short_axis_lps, short_axis_index : tuple of 2 points
        Its end points, LPS mm and fractional (z, y, x).
    method, trust, explanation
    """

    long_axis_mm: float
    slice_index: int
    long_axis_lps: tuple[Vec3, Vec3]
    long_axis_index: tuple[Vec3, Vec3]
    short_axis_mm: float
    short_axis_lps: tuple[Vec3, Vec3]
    short_axis_index: tuple[Vec3, Vec3]
    method: str
    trust: Trust
    explanation: Explanation
    plane: str = "acquired"
    """"acquired" (measured on the series' own axial slices) or "reformatted axial"."""
    axis_check: str = ""
    """"" when the long axis lies inside its outline; else why the measurement is flagged."""

    @property
    def axis_consistent(self) -> bool:
        """True when the long axis passed the check against the contour."""
        return not self.axis_check


@dataclass(frozen=True)
class Diameter3D:
    """Longest distance between two points of the lesion's outline, in any direction."""

    diameter_mm: float
    endpoints_lps: tuple[Vec3, Vec3]
    endpoints_index: tuple[Vec3, Vec3]
    method: str
    trust: Trust
    explanation: Explanation


@dataclass(frozen=True)
class HuStatistics:
    """Attenuation inside a mask on one series (one contrast phase).

    Attributes
    ----------
    mean_hu, sd_hu, median_hu : float
        Mean, sample SD (n − 1; 0 for one voxel) and median in HU.
    voxel_count : int
    phase : str
        Label of the series measured ("arterial", "venous", …), as given.
    """

    mean_hu: float
    sd_hu: float
    median_hu: float
    voxel_count: int
    phase: str
    method: str
    trust: Trust
    explanation: Explanation


@dataclass(frozen=True)
class EnhancementThreshold:
    """The arterial-phase HU above which a tumour voxel counts as enhancing (viable).

    Attributes
    ----------
    reference : {"absolute", "liver"}
        "absolute": the threshold is ``value_hu``. "liver": it is the mean HU
        of the (non-tumour) liver on the same arterial series plus ``value_hu``.
    value_hu : float
        HU, or HU above the liver's mean.

    Notes
    -----
    Default: absolute 40 HU, an **institutional default without a published
    source** (``recist.json``, ``enhancing_threshold_hu``). It is not the
    mRECIST definition: mRECIST (Lencioni & Llovet, Semin Liver Dis 2010)
    measures viable tumour as arterially enhancing tissue judged against the
    liver, validated for hepatocellular carcinoma only. A liver-relative
    rule (``reference="liver"``) is offered; every result records the rule
    and the threshold it used.
    """

    reference: Literal["absolute", "liver"] = "absolute"
    value_hu: float = 40.0

    def threshold_hu(self, liver_mean_hu: float | None = None) -> float:
        """Return the threshold in HU (``liver_mean_hu`` needed for ``reference="liver"``)."""
        if self.reference == "absolute":
            return float(self.value_hu)
        if liver_mean_hu is None:
            raise InvalidInputError(
                "liver mean HU", "a liver-relative threshold needs the liver's arterial mean HU"
            )
        return float(liver_mean_hu) + float(self.value_hu)

    def source(self) -> str:
        """Where the rule comes from, for the explanation a clinician reads."""
        if self.reference == "absolute":
            return (
                f"institutional default, no published source: {self.value_hu:g} HU on the "
                "arterial phase"
            )
        return (
            f"institutional default, no published source: {self.value_hu:+g} HU relative to "
            "the liver's arterial mean"
        )

    def describe(self) -> str:
        """Return the threshold's rule as text."""
        if self.reference == "absolute":
            return f"HU ≥ {self.value_hu:g}"
        return f"HU ≥ liver mean {self.value_hu:+g}"


DEFAULT_ENHANCEMENT_THRESHOLD = EnhancementThreshold()


@dataclass(frozen=True)
class EnhancementMeasurement:
    """Enhancing (viable) and necrotic shares of a lesion on the arterial phase."""

    enhancing_fraction: float
    necrotic_fraction: float
    enhancing_voxels: int
    voxel_count: int
    threshold_hu: float
    threshold: EnhancementThreshold
    method: str
    trust: Trust
    explanation: Explanation
