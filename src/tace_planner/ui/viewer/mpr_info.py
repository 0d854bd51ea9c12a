"""The fourth cell of the MPR layout: where the three planes cross, and how to move them.

The MPR layout shows one series three ways (axial, coronal, sagittal) in three cells of a
2 × 2 grid; the fourth stayed empty. It now says where the three planes cross in patient
coordinates (R/L, A/P, S/I, mm, as the DICOM patient system: x to the left, y to the back,
z up), the value of the series there, and the gestures that move the planes. It computes
nothing clinical: the crossing is the point on all three displayed planes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

HINT = (
    "Scroll in a view to move its plane; the coloured lines show where the other planes "
    "cut it. Double-click a view to enlarge it, again to come back; 1×1 leaves MPR."
)


def crossing_lps(normals: Sequence[Any], positions: Sequence[float]) -> np.ndarray | None:
    """The point on every plane ``normal · p = position`` (LPS mm), or None when the
    planes do not meet in one point (two of them parallel)."""
    matrix = np.asarray(normals, dtype=float)
    if matrix.shape != (3, 3) or abs(np.linalg.det(matrix)) < 1e-6:
        return None
    return np.asarray(np.linalg.solve(matrix, np.asarray(positions, dtype=float)))


def patient_text(point: np.ndarray) -> str:
    """ "R 12.3 · A 45.6 · S 7.8 mm" for an LPS point (x > 0 left, y > 0 back, z > 0 up)."""
    x, y, z = (float(v) for v in point)
    return (
        f"{'L' if x >= 0 else 'R'} {abs(x):.1f} · {'P' if y >= 0 else 'A'} {abs(y):.1f} · "
        f"{'S' if z >= 0 else 'I'} {abs(z):.1f} mm"
    )


def value_at(volume: Any, point: np.ndarray) -> float | None:
    """The voxel value nearest ``point`` (LPS mm), or None outside the volume."""
    index = np.linalg.solve(np.asarray(volume.index_to_lps, float), np.append(point, 1.0))[:3]
    voxel = np.rint(index).astype(int)
    if np.any(voxel < 0) or np.any(voxel >= np.asarray(volume.shape)):
        return None
    return float(volume.voxels[tuple(voxel)])


class MprInfo(QLabel):
    """The text in the MPR layout's fourth cell; :meth:`update_from` redraws it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mpr_info")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setStyleSheet("background: #101010; color: #d8d8d8; padding: 16px;")
        # the grid's equal cells decide its size, never its text
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setText(HINT)

    def update_from(self, views: Sequence[Any]) -> None:
        """Say where the displayed planes of ``views`` (the three MPR views) cross."""
        shown = [v for v in views if v.volume is not None and v.geometry is not None]
        if len(shown) < 3:
            self.setText(HINT)
            return
        point = crossing_lps(
            [v.state.plane_normal_lps for v in shown[:3]],
            [v.slice_position_mm() for v in shown[:3]],
        )
        if point is None:
            self.setText(HINT)
            return
        value = value_at(shown[0].volume, point)
        unit = " HU" if getattr(shown[0], "modality", "") == "CT" else ""
        reading = "outside the series" if value is None else f"{value:.0f}{unit}"
        self.setText(
            f"<b>{shown[0].title}</b><br><br>The three planes cross at<br>"
            f"<b>{patient_text(point)}</b><br>(patient coordinates)<br>"
            f"value there: <b>{reading}</b><br><br><small>{HINT}</small>"
        )
