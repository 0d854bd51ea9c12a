"""RECIST 1.1 baseline category of a lesion: measurable, non-measurable, normal node.

Non-nodal lesions reuse :func:`tace_planner.domain.recist.is_measurable` (≥ 10 mm,
or 2 × the slice thickness on slices thicker than 5 mm); target selection limits
(≤ 5, ≤ 2 per organ) stay in :func:`tace_planner.domain.recist.target_advisories`.
Lymph nodes are judged on the short axis: ≥ 15 mm measurable (may be a target),
10 to < 15 mm pathological but non-measurable (non-target), < 10 mm normal
(Schwartz, Eur J Cancer 2009).
"""

from __future__ import annotations

from typing import Literal

from tace_planner.domain.recist import DEFAULT_RECIST, RecistParameters, is_measurable
from tace_planner.domain.response.parameters import DEFAULT_RESPONSE, ResponseParameters, decimal

LesionCategory = Literal["measurable", "non_measurable", "normal_node"]


def baseline_category(
    diameter_mm: float | None,
    *,
    is_node: bool = False,
    slice_thickness_mm: float | None = None,
    recist: RecistParameters = DEFAULT_RECIST,
    parameters: ResponseParameters = DEFAULT_RESPONSE,
) -> LesionCategory:
    """Category of a lesion at baseline (``diameter_mm``: long axis, short axis for nodes)."""
    if is_node:
        if diameter_mm is None:
            return "non_measurable"
        size = decimal(diameter_mm)
        if size >= parameters.node_target_short_axis_mm:
            return "measurable"
        if size >= parameters.node_normal_short_axis_mm:
            return "non_measurable"
        return "normal_node"
    if is_measurable(diameter_mm, slice_thickness_mm, recist):
        return "measurable"
    return "non_measurable"
