"""Attenuation inside a mask: HU statistics and the enhancing (viable) share of a lesion."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tace_planner.domain.explanation import Explanation
from tace_planner.domain.measurements_base import Trust, check_trust, mask_array
from tace_planner.domain.measurements_results import (
    DEFAULT_ENHANCEMENT_THRESHOLD,
    EnhancementMeasurement,
    EnhancementThreshold,
    HuStatistics,
)


def measure_hu(
    voxels: npt.ArrayLike, mask: npt.ArrayLike, *, phase: str = "", trust: Trust = "ok"
) -> HuStatistics:
    """Return mean, SD and median HU inside a mask drawn on the same grid as ``voxels``.

    To measure a mask on another phase of the same frame of reference, carry it
    first (``imaging.segmentation.resample.carry_mask``).

    Raises
    ------
    EmptyMaskError
    ValueError
        ``voxels`` and ``mask`` differ in shape.
    """
    checked = check_trust(trust, geometric=False)
    array = mask_array(mask)
    image = np.asarray(voxels)
    if image.shape != array.shape:
        raise ValueError(f"mask shape {array.shape} does not match the image {image.shape}")
    values = image[array].astype(np.float64)
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    median = float(np.median(values))
    label = phase or "this series"
    explanation = Explanation(
        summary=f"Attenuation inside the contour on {label}",
        formula="mean = Σ HU / n; SD = √(Σ (HU − mean)² / (n − 1))",
        inputs={"voxels (n)": f"{values.size}", "phase": label},
        result=f"{mean:.1f} ± {sd:.1f} HU (median {median:.1f} HU)",
        source="Institutional default: mean and standard deviation of the voxels in the contour",
    )
    return HuStatistics(mean, sd, median, int(values.size), phase, "voxel statistics", checked,
                        explanation)  # fmt: skip


def measure_enhancement(
    arterial_voxels: npt.ArrayLike,
    mask: npt.ArrayLike,
    threshold: EnhancementThreshold = DEFAULT_ENHANCEMENT_THRESHOLD,
    *,
    liver_mean_hu: float | None = None,
    trust: Trust = "ok",
) -> EnhancementMeasurement:
    """Return the enhancing (viable) and necrotic fractions of a lesion on the arterial phase.

    Parameters
    ----------
    arterial_voxels : numpy.ndarray, shape (z, y, x)
        Late-arterial CT in HU, on the mask's grid.
    mask : numpy.ndarray of bool, shape (z, y, x)
        The whole lesion.
    threshold : EnhancementThreshold
        The rule (see its Notes for the default and why).
    liver_mean_hu : float, optional
        Mean arterial HU of the non-tumour liver, for a liver-relative rule.

    Returns
    -------
    EnhancementMeasurement
        ``enhancing = voxels with HU ≥ threshold / all voxels``; necrotic = 1 − enhancing.

    Raises
    ------
    EmptyMaskError
    InvalidInputError
        A liver-relative rule without ``liver_mean_hu``.
    """
    checked = check_trust(trust, geometric=False)
    array = mask_array(mask)
    image = np.asarray(arterial_voxels)
    if image.shape != array.shape:
        raise ValueError(f"mask shape {array.shape} does not match the image {image.shape}")
    level = threshold.threshold_hu(liver_mean_hu)
    values = image[array]
    enhancing = int(np.count_nonzero(values >= level))
    fraction = enhancing / values.size
    inputs = {
        "rule": threshold.describe(),
        "threshold": f"{level:.1f} HU",
        "lesion voxels": f"{values.size}",
        "enhancing voxels": f"{enhancing}",
    }
    if liver_mean_hu is not None:
        inputs["liver mean (arterial)"] = f"{liver_mean_hu:.1f} HU"
    explanation = Explanation(
        summary="Enhancing (viable) share of the lesion on the arterial phase",
        formula="enhancing fraction = voxels with HU ≥ threshold / lesion voxels; "
        "necrotic fraction = 1 − enhancing fraction",
        inputs=inputs,
        result=f"enhancing {100 * fraction:.1f} %, necrotic {100 * (1 - fraction):.1f} %",
        source=threshold.source(),
    )
    return EnhancementMeasurement(
        enhancing_fraction=fraction,
        necrotic_fraction=1.0 - fraction,
        enhancing_voxels=enhancing,
        voxel_count=int(values.size),
        threshold_hu=level,
        threshold=threshold,
        method="voxels at or above an arterial HU threshold",
        trust=checked,
        explanation=explanation,
    )
