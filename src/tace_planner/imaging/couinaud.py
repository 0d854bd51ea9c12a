"""A Couinaud segment proposed for a focus from its position in the liver contour.

Segment definition: Couinaud C., *Le foie: études anatomiques et chirurgicales*,
Masson 1957, in the nomenclature of Bismuth H., World J Surg 1982;6:3–9: three
vertical planes through the hepatic veins, which meet at the inferior vena cava
(IVC), divide the liver into four sections; the plane of the portal bifurcation
divides each section into a superior and an inferior segment (II, IVa, VIII, VII
above; III, IVb, V, VI below); the caudate lobe (I) lies between the IVC and the
hilum.

Method (purely geometric, from the liver mask; no vessel is segmented)
-----------------------------------------------------------------------
All in patient coordinates (LPS mm), so the grid's orientation does not matter.

1. **IVC axis**: a vertical line at the posterior surface of the liver, a fixed
   fraction of the way from the right edge of the liver to its left tip
   (:attr:`CouinaudParameters.ivc_fraction`); its depth is the posterior surface
   of the upper liver in a slab around that position.
2. **Hepatic-vein planes**: vertical planes through the IVC axis at fixed angles
   from the anterior direction — the right hepatic vein (anterior V/VIII vs
   posterior VI/VII), the middle hepatic vein (Cantlie's plane: right vs left
   hemiliver) and the left hepatic vein / umbilical fissure (IV vs II/III).
3. **Portal bifurcation level**: the horizontal plane through the liver's
   centre of volume.
4. **Caudate lobe (I)**: within a radius of the IVC axis (a fraction of the
   liver's width), anterior to it and not far above the portal level.

The focus is assigned to the sector and level its centroid falls in. The
confidence (0–1) is the distance from the centroid to the nearest dividing plane
over :attr:`CouinaudParameters.confident_margin_mm`, halved when the centroid
lies outside the liver contour.

Limits
------
The landmarks are estimates of where the veins usually lie, not the patient's
own veins: anatomical variants (an accessory right inferior hepatic vein, a
large caudate lobe, an atrophic or hypertrophic lobe after resection or
embolisation), a liver contour that misses part of the organ, or a large focus
spanning several segments all shift the proposal. It is a proposal that the
physician confirms or corrects; it is never stored as the segment by itself.
The angles and fractions are institutional defaults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tace_planner.domain.anatomy import COUINAUD_SOURCE
from tace_planner.domain.geometry import lps_to_index

SOURCE = (
    "Couinaud, Le foie: études anatomiques et chirurgicales, 1957; "
    "Bismuth, World J Surg 1982;6:3–9; " + COUINAUD_SOURCE
)
_MAX_POINTS = 250_000


@dataclass(frozen=True, slots=True)
class CouinaudParameters:
    """Where the landmarks are placed relative to the liver (institutional defaults).

    Angles are in degrees in the axial plane, around the IVC axis, from the
    anterior direction; positive towards the patient's right.
    """

    ivc_fraction: float = 0.65
    """Position of the IVC from the liver's right edge (0) to its left tip (1)."""
    right_vein_deg: float = 60.0
    middle_vein_deg: float = 10.0
    left_vein_deg: float = -25.0
    caudate_radius_fraction: float = 0.25
    """Radius of the caudate zone around the IVC axis, as a fraction of the liver width."""
    caudate_above_portal_fraction: float = 0.25
    """How far above the portal level the caudate zone reaches (fraction of liver height)."""
    confident_margin_mm: float = 15.0
    """A centroid this far from every dividing plane has confidence 1."""


DEFAULT_PARAMETERS = CouinaudParameters()


@dataclass(frozen=True, slots=True)
class CouinaudLandmarks:
    """The landmarks estimated from a liver mask (LPS mm)."""

    ivc_x_mm: float
    ivc_y_mm: float
    portal_z_mm: float
    width_mm: float
    height_mm: float


@dataclass(frozen=True, slots=True)
class CouinaudProposal:
    """A proposed segment with how sure the geometry is and why.

    Attributes
    ----------
    code : str
        "I" … "VIII", "IVa" or "IVb".
    confidence : float
        0 (on a dividing plane) to 1 (far from every plane).
    explanation : str
        For the physician: the landmarks, where the focus lies, the limits and
        the sources.
    landmarks : CouinaudLandmarks
    """

    code: str
    confidence: float
    explanation: str
    landmarks: CouinaudLandmarks

    @property
    def confidence_label(self) -> str:
        """ "high", "moderate" or "low"."""
        if self.confidence >= 0.67:
            return "high"
        return "moderate" if self.confidence >= 0.33 else "low"


def liver_points_lps(
    liver_mask: npt.ArrayLike, index_to_lps: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """LPS mm of the liver voxels (an even subsample of at most 250,000), shape (n, 3)."""
    mask = np.asarray(liver_mask, dtype=bool)
    if mask.ndim != 3:
        raise ValueError(f"liver mask must be (z, y, x), got shape {mask.shape}")
    index = np.argwhere(mask)
    if index.shape[0] > _MAX_POINTS:
        index = index[:: math.ceil(index.shape[0] / _MAX_POINTS)]
    affine = np.asarray(index_to_lps, dtype=float)
    return index.astype(float) @ affine[:3, :3].T + affine[:3, 3]


def estimate_landmarks(
    points_lps: npt.NDArray[np.float64], parameters: CouinaudParameters = DEFAULT_PARAMETERS
) -> CouinaudLandmarks:
    """IVC axis and portal level from the liver's voxel positions (see the module docstring).

    Raises
    ------
    ValueError
        Fewer than 100 liver voxels.
    """
    if points_lps.shape[0] < 100:
        raise ValueError("the liver contour is too small to place the Couinaud landmarks")
    x, y, z = points_lps[:, 0], points_lps[:, 1], points_lps[:, 2]
    right_edge, left_tip = np.percentile(x, [2.0, 98.0])
    bottom, top = np.percentile(z, [2.0, 98.0])
    width = float(left_tip - right_edge)
    portal_z = float(z.mean())
    ivc_x = float(right_edge + parameters.ivc_fraction * width)
    slab = max(0.05 * width, 5.0)
    near = (np.abs(x - ivc_x) <= slab) & (z >= portal_z)
    if np.count_nonzero(near) < 10:
        near = np.abs(x - ivc_x) <= slab
    ivc_y = float(np.percentile(y[near], 95.0)) if np.any(near) else float(y.max())
    return CouinaudLandmarks(ivc_x, ivc_y, portal_z, width, float(top - bottom))


def propose_segment(
    liver_mask: npt.ArrayLike,
    index_to_lps: npt.ArrayLike,
    focus_lps: npt.ArrayLike,
    parameters: CouinaudParameters = DEFAULT_PARAMETERS,
) -> CouinaudProposal:
    """The Couinaud segment in which a focus centroid lies, from the liver mask's geometry.

    Parameters
    ----------
    liver_mask : array_like of bool, shape (z, y, x)
        The whole-liver contour.
    index_to_lps : array_like, shape (4, 4)
        Affine of the mask's grid, (z, y, x, 1) → LPS mm.
    focus_lps : array_like, shape (3,)
        The focus centroid (LPS mm).
    parameters : CouinaudParameters

    Raises
    ------
    ValueError
        An empty or tiny liver mask.
    """
    mask = np.asarray(liver_mask, dtype=bool)
    affine = np.asarray(index_to_lps, dtype=float)
    marks = estimate_landmarks(liver_points_lps(mask, affine), parameters)
    px, py, pz = (float(v) for v in np.asarray(focus_lps, dtype=float)[:3])
    right_mm, anterior_mm = marks.ivc_x_mm - px, marks.ivc_y_mm - py
    radius = math.hypot(right_mm, anterior_mm)
    angle = math.degrees(math.atan2(right_mm, anterior_mm))
    above_mm = pz - marks.portal_z_mm
    caudate_radius = parameters.caudate_radius_fraction * marks.width_mm
    caudate_top = parameters.caudate_above_portal_fraction * marks.height_mm
    p = parameters
    in_caudate = (
        radius < caudate_radius
        and p.left_vein_deg - 30.0 <= angle <= p.middle_vein_deg
        and above_mm <= caudate_top
    )
    if in_caudate:
        code = "I"
        margins = [caudate_radius - radius, caudate_top - above_mm]
    else:
        code, boundaries = _sector(angle, above_mm, p)
        margins = [radius * math.sin(math.radians(min(abs(angle - b), 90.0))) for b in boundaries]
        margins.append(abs(above_mm))
        if radius < caudate_radius + p.confident_margin_mm:
            margins.append(max(radius - caudate_radius, 0.0))
    margin = max(min(margins), 0.0)
    confidence = min(margin / p.confident_margin_mm, 1.0)
    inside = _inside(mask, affine, (px, py, pz))
    if not inside:
        confidence *= 0.5
    explanation = _explain(code, confidence, marks, (angle, radius, above_mm, margin), inside, p)
    return CouinaudProposal(code, round(confidence, 3), explanation, marks)


def _sector(angle: float, above_mm: float, p: CouinaudParameters) -> tuple[str, list[float]]:
    superior = above_mm > 0
    if angle > p.right_vein_deg:
        return ("VII" if superior else "VI"), [p.right_vein_deg]
    if angle > p.middle_vein_deg:
        return ("VIII" if superior else "V"), [p.right_vein_deg, p.middle_vein_deg]
    if angle > p.left_vein_deg:
        return ("IVa" if superior else "IVb"), [p.middle_vein_deg, p.left_vein_deg]
    return ("II" if superior else "III"), [p.left_vein_deg]


def _inside(
    mask: npt.NDArray[np.bool_], affine: npt.NDArray[np.float64], point: tuple[float, ...]
) -> bool:
    index = np.rint(lps_to_index(affine, np.asarray(point, dtype=float))).astype(int)
    if np.any(index < 0) or np.any(index >= np.asarray(mask.shape)):
        return False
    return bool(mask[tuple(index)])


def _explain(
    code: str,
    confidence: float,
    marks: CouinaudLandmarks,
    where: tuple[float, float, float, float],
    inside: bool,
    p: CouinaudParameters,
) -> str:
    angle, radius, above_mm, margin = where
    side = "right" if angle >= 0 else "left"
    level = "above" if above_mm > 0 else "below"
    lines = [
        f"Proposed segment {code} (confidence {confidence:.2f}) from the focus centroid's "
        "position in the liver contour.",
        f"The centroid lies {radius:.0f} mm from the estimated IVC axis, {abs(angle):.0f}° to "
        f"the patient's {side} of straight anterior, and {abs(above_mm):.0f} mm {level} the "
        "estimated portal bifurcation level; the nearest dividing plane is "
        f"{margin:.0f} mm away.",
        "Landmarks estimated from the liver contour: the IVC axis on the posterior liver "
        f"surface, {100 * p.ivc_fraction:.0f} % of the way from the right edge to the left tip; "
        "planes of the right, middle and left hepatic veins through it at "
        f"{p.right_vein_deg:g}°, {p.middle_vein_deg:g}° and {p.left_vein_deg:g}° from anterior "
        "(positive: towards the patient's right); the portal bifurcation level at the liver's "
        "centre of volume (institutional defaults).",
    ]
    if not inside:
        lines.append("The centroid lies outside the liver contour: check both contours.")
    lines.append(
        "Limits: no vessel is traced — variant veins, an atrophic or hypertrophic lobe, an "
        "incomplete liver contour or a focus spanning segments shift the proposal. A proposal "
        "for the physician to confirm or correct."
    )
    lines.append(f"Segment definition: {SOURCE}.")
    return "\n".join(lines)
