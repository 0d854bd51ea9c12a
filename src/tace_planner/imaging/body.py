"""Where the patient is in a CT volume: the tissue above air.

One threshold for "the body" (the patient and the table, not the air around them), used
where the images are registered and where a view is fitted to the patient.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BODY_HU = -500.0
"""Above this a CT voxel is the patient (or the table), not the air around it; the lung
(about -850 HU) stays below."""


def body_extent(voxels: npt.ArrayLike) -> tuple[tuple[int, int], tuple[int, int]]:
    """(first row, row past the last), (first column, column past the last) of the voxels
    above :data:`BODY_HU` on any of about 16 slices spread over the volume (z, y, x); the
    whole slice when none is."""
    volume = np.asarray(voxels)
    step = max(1, volume.shape[0] // 16)  # a few slices say where the body is
    inside = (volume[::step] > BODY_HU).any(axis=0)
    rows, columns = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if rows.size == 0:
        return (0, volume.shape[1]), (0, volume.shape[2])
    return (int(rows[0]), int(rows[-1]) + 1), (int(columns[0]), int(columns[-1]) + 1)
