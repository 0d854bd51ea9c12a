"""Image volumes on a regular grid in DICOM patient coordinates (LPS, mm)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tace_planner.domain.units import MM3_PER_CM3


@dataclass(frozen=True, eq=False)
class ImageVolume:
    """A scalar image and where it sits in the patient.

    Parameters
    ----------
    voxels : numpy.ndarray
        Shape (z, y, x); CT values in Hounsfield units after the modality LUT,
        MR values in the scanner's arbitrary units.
    index_to_lps : numpy.ndarray
        4 x 4 affine from homogeneous (z, y, x, 1) indices to LPS millimetres.
    frame_of_reference_uid : str
        (0020,0052) *Frame of Reference UID*; masks drawn on this grid carry it.

    Notes
    -----
    The voxel buffer is made read-only, so a volume built in a worker thread
    can be handed to the GUI thread without copying.
    """

    voxels: npt.NDArray[np.float32]
    index_to_lps: npt.NDArray[np.float64]
    frame_of_reference_uid: str = ""

    def __post_init__(self) -> None:
        if self.voxels.ndim != 3:
            raise ValueError(f"voxels must be (z, y, x), got shape {self.voxels.shape}")
        if self.index_to_lps.shape != (4, 4):
            raise ValueError("index_to_lps must be a 4 x 4 matrix")
        self.voxels.setflags(write=False)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Voxel counts (z, y, x)."""
        z, y, x = self.voxels.shape
        return int(z), int(y), int(x)

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """Voxel edge lengths (dz, dy, dx) in millimetres."""
        dz, dy, dx = np.linalg.norm(self.index_to_lps[:3, :3], axis=0)
        return float(dz), float(dy), float(dx)

    @property
    def voxel_volume_cm3(self) -> float:
        """Volume of one voxel in cm³ (exact for oblique and sheared grids too)."""
        return abs(float(np.linalg.det(self.index_to_lps[:3, :3]))) / MM3_PER_CM3


def mask_volume_cm3(mask: npt.NDArray[np.bool_], grid: ImageVolume) -> float:
    """Return the volume of a binary mask drawn on ``grid``, in cm³.

    Raises
    ------
    ValueError
        If the mask was not drawn on this grid (different shape).
    """
    if mask.shape != grid.voxels.shape:
        raise ValueError(f"mask shape {mask.shape} does not match grid {grid.voxels.shape}")
    return int(np.count_nonzero(mask)) * grid.voxel_volume_cm3
