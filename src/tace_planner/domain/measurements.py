"""Measurements of a segmentation: volume, RECIST diameters, HU statistics, enhancement.

Every function takes a bool mask shaped (z, y, x) on a grid given by its 4 × 4
``index_to_lps`` affine (or anything with such an attribute, e.g. an
``ImageVolume``), and returns a frozen result with its method, an
:class:`~tace_planner.domain.explanation.Explanation` and the ``trust`` of the
series geometry it was measured on (``"ok"``, ``"warning"``; an
``"unmeasurable"`` series is refused for volumes and lengths).

Conventions
-----------
- Volume = voxel count × voxel volume, the voxel volume being
  ``|det(affine[:3, :3])|`` (spacing from the slice positions, exact for
  oblique and tilted grids).
- Axial diameters are measured on the lesion's outline: the half level of the
  mask smoothed over max(1 pixel, 3 % of its size), sub-pixel, so that the
  voxel staircase and single noisy edge voxels do not lengthen them; a
  digitised disc of diameter D measures D within a third of a pixel. Lesions
  too thin for that (one voxel wide) are measured on the outer edges of their
  voxels, so a line of n voxels measures n voxels. The 3D diameter uses the
  mid-points of the voxels' outer faces (up to a voxel longer than the shape).
- The longest axial diameter is the largest Feret diameter over the patient's
  axial slices (RECIST 1.1, Eisenhauer, Eur J Cancer 2009): the acquired
  slices of an axial series, or the mask reformatted to axial planes for a
  coronal or sagittal one (:func:`measure_recist_axes`). The short axis is the
  longest diameter perpendicular to it on the same slice, inside the lesion.
- An empty mask raises :class:`EmptyMaskError`: "no lesion" is never reported
  as 0 mm or 0 cm³ by accident.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tace_planner.domain.explanation import Explanation
from tace_planner.domain.measurements_attenuation import measure_enhancement, measure_hu
from tace_planner.domain.measurements_base import (
    TRUSTS,
    BoolArray,
    EmptyMaskError,
    Trust,
    UnmeasurableGeometryError,
    Vec3,
    check_trust,
    grid_affine,
    mask_array,
    trust_note,
)
from tace_planner.domain.measurements_diameters import (
    AXIS_INSIDE_MIN,
    measure_axial_diameters,
    measure_longest_3d_diameter,
)
from tace_planner.domain.measurements_recist_axes import (
    AXIAL_TOLERANCE_DEG,
    acquisition_plane,
    axial_reformat,
    measure_recist_axes,
)
from tace_planner.domain.measurements_results import (
    DEFAULT_ENHANCEMENT_THRESHOLD,
    AxialDiameters,
    Diameter3D,
    EnhancementMeasurement,
    EnhancementThreshold,
    HuStatistics,
    VolumeMeasurement,
)
from tace_planner.domain.units import MM3_PER_CM3

__all__ = [
    "AXIAL_TOLERANCE_DEG",
    "AXIS_INSIDE_MIN",
    "DEFAULT_ENHANCEMENT_THRESHOLD",
    "TRUSTS",
    "AxialDiameters",
    "BoolArray",
    "Diameter3D",
    "EmptyMaskError",
    "EnhancementMeasurement",
    "EnhancementThreshold",
    "HuStatistics",
    "Trust",
    "UnmeasurableGeometryError",
    "Vec3",
    "VolumeMeasurement",
    "acquisition_plane",
    "axial_reformat",
    "measure_axial_diameters",
    "measure_enhancement",
    "measure_hu",
    "measure_longest_3d_diameter",
    "measure_recist_axes",
    "measure_volume",
]


def measure_volume(mask: npt.ArrayLike, grid: Any, *, trust: Trust = "ok") -> VolumeMeasurement:
    """Return the volume of a mask in cm³ (voxel count × voxel volume).

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (z, y, x)
    grid : numpy.ndarray (4, 4) or object with ``index_to_lps``
        The grid the mask was drawn on.
    trust : {"ok", "warning"}
        Geometry status of the series.

    Raises
    ------
    EmptyMaskError
        No voxel in the mask.
    UnmeasurableGeometryError
        ``trust == "unmeasurable"``.
    """
    checked = check_trust(trust, geometric=True)
    array = mask_array(mask)
    affine = grid_affine(grid)
    count = int(np.count_nonzero(array))
    voxel_cm3 = abs(float(np.linalg.det(affine[:3, :3]))) / MM3_PER_CM3
    volume = count * voxel_cm3
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    explanation = Explanation(
        summary="Volume from the contour" + trust_note(checked),
        formula="V = voxel count × voxel volume; voxel volume = |det(index→LPS)| / 1000",
        inputs={
            "voxel count": f"{count}",
            "voxel size (dz, dy, dx)": " × ".join(f"{s:.3f}" for s in spacing) + " mm",
            "voxel volume": f"{voxel_cm3 * MM3_PER_CM3:.4f} mm³",
        },
        result=f"{volume:.2f} cm³",
        source="institutional default: voxel count × voxel volume of the contour",
    )
    return VolumeMeasurement(volume, count, voxel_cm3, "voxel count × voxel volume", checked,
                             explanation)  # fmt: skip
