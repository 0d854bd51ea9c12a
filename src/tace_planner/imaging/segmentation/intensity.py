"""Robust intensity statistics for the contouring tools: modes, spreads, smoothing.

The auto contour learns two intensity models from the image itself: the
lesion (around the clicked seeds, then just inside its outline) and the liver
around it. These helpers compute them robustly: medians, a histogram mode and
a one-sided spread that lesion voxels cannot inflate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]

MAD_TO_SD = 1.4826
"""SD of a normal distribution per median absolute deviation."""

_MAX_SAMPLES = 40_000


def subsample(values: npt.NDArray[np.floating], limit: int = _MAX_SAMPLES) -> FloatArray:
    """Return at most ``limit`` evenly strided values of a 1D array (deterministic)."""
    flat = np.ravel(values)
    if flat.size <= limit:
        return flat
    return flat[:: int(np.ceil(flat.size / limit))]


def histogram_mode(values: npt.ArrayLike, smoothing_hu: float = 3.0) -> float:
    """Return the most frequent value of a sample (1 HU bins, Gaussian-smoothed histogram).

    Parameters
    ----------
    values : array_like
        Intensities in HU; at least one value.
    smoothing_hu : float
        SD of the Gaussian applied to the histogram, in HU.
    """
    sample = subsample(np.asarray(values, dtype=np.float32))
    if sample.size == 0:
        raise ValueError("histogram_mode needs at least one value")
    low, high = np.percentile(sample, (0.5, 99.5))
    if high - low < 1.0:
        return float(np.median(sample))
    edges = np.arange(np.floor(low) - 0.5, np.ceil(high) + 1.5, 1.0)
    counts, _ = np.histogram(sample, bins=edges)
    half = int(np.ceil(3 * smoothing_hu))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / max(smoothing_hu, 1e-3)) ** 2)
    smoothed = np.convolve(counts.astype(float), kernel, mode="full")[half : half + counts.size]
    peak = int(np.argmax(smoothed))
    return float((edges[peak] + edges[peak + 1]) / 2.0)


def nearest_mode(
    values: npt.ArrayLike, toward: float, smoothing_hu: float = 2.0, min_height: float = 0.25
) -> float:
    """Return the histogram peak nearest to ``toward`` among the prominent peaks of a sample.

    A peak counts when its smoothed height is at least ``min_height`` of the
    highest one. Used for the tissue just inside a lesion's outline: a thin
    viable rim over a large necrosis is a smaller peak than the necrosis, but it
    is the tissue that meets the liver, so it sets the edge.
    """
    sample = subsample(np.asarray(values, dtype=np.float32))
    if sample.size == 0:
        raise ValueError("nearest_mode needs at least one value")
    low, high = np.percentile(sample, (0.5, 99.5))
    if high - low < 1.0:
        return float(np.median(sample))
    edges = np.arange(np.floor(low) - 0.5, np.ceil(high) + 1.5, 1.0)
    counts, _ = np.histogram(sample, bins=edges)
    half = int(np.ceil(3 * smoothing_hu))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / max(smoothing_hu, 1e-3)) ** 2)
    smoothed = np.convolve(counts.astype(float), kernel, mode="full")[half : half + counts.size]
    centers = (edges[:-1] + edges[1:]) / 2.0
    padded = np.concatenate([[-np.inf], smoothed, [-np.inf]])
    peaks = np.flatnonzero((smoothed >= padded[:-2]) & (smoothed > padded[2:]))
    peaks = peaks[smoothed[peaks] >= min_height * smoothed.max()]
    if peaks.size == 0:
        return float(centers[int(np.argmax(smoothed))])
    return float(centers[peaks[np.argmin(np.abs(centers[peaks] - toward))]])


def one_sided_sd(values: npt.ArrayLike, center: float, away_from: float) -> float:
    """Return the SD of a sample estimated from its half on one side of ``center``.

    The half that lies away from ``away_from`` (the lesion's intensity) is
    untouched by lesion voxels mixed into the sample, so its median absolute
    deviation from ``center`` is a clean estimate: SD = 1.4826 × median |v − c|.
    """
    sample = subsample(np.asarray(values, dtype=np.float32))
    side = sample[(sample - center) * (away_from - center) < 0] if away_from != center else sample
    if side.size < 10:
        side = sample
    if side.size == 0:
        return 0.0
    return MAD_TO_SD * float(np.median(np.abs(side - center)))


def gaussian_smooth(
    image: npt.NDArray[np.floating], sigma_mm: float, spacing_mm: Sequence[float]
) -> npt.NDArray[np.float32]:
    """Gaussian-smooth an image with ``sigma_mm`` per axis, skipping axes coarser than 2.5 σ.

    Returns float32; ``sigma_mm <= 0`` returns a float32 copy.
    """
    from scipy import ndimage

    source = np.asarray(image, dtype=np.float32)
    if sigma_mm <= 0:
        return source.copy()
    sigma = [sigma_mm / s if sigma_mm / s >= 0.4 else 0.0 for s in spacing_mm]
    if source.shape[0] == 1:
        sigma[0] = 0.0
    return np.asarray(ndimage.gaussian_filter(source, sigma, truncate=3.0), dtype=np.float32)
