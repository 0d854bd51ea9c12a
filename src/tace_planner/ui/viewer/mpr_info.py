"""The fourth cell of the MPR layout: where the three planes cross, and how to move them.

The MPR layout shows one series three ways (axial, coronal, sagittal) in three cells of a
2 × 2 grid; the fourth stayed empty. It now says where the three planes cross in the
scanner's patient coordinates (DICOM: R/L, A/P, S/I in mm from the scanner's origin, not
from the patient's midline), the value of the series there, and the gestures that move
the planes. It computes nothing clinical: the crossing is the point on all three planes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from tace_planner.domain.geometry import lps_to_index
from tace_planner.ui.viewer.corner_text import point_text, value_text

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


def value_at(volume: Any, point: np.ndarray) -> float | None:
    """The voxel value nearest ``point`` (LPS mm), or None outside the volume."""
    voxel = np.rint(lps_to_index(volume.index_to_lps, point)).astype(int)
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
        """Say where the displayed planes of ``views`` (the three MPR views) cross; only
        the gestures while they do not show one series (one dropped on a view, or
        emptied when another patient was chosen)."""
        shown = [v for v in views[:3] if v.volume is not None and v.geometry is not None]
        keys = {v.series_key for v in shown}
        point = None
        if len(shown) == 3 and len(keys) == 1:
            point = crossing_lps(
                [v.state.plane_normal_lps for v in shown], [v.slice_position_mm() for v in shown]
            )
        if point is None:
            self.setText(HINT)
            return
        view = shown[0]
        value = value_at(view.volume, point)
        reading = "outside the series" if value is None else value_text(value, view.modality)
        self.setText(
            f"<b>{html.escape(view.title)}</b><br><br>The three planes cross at<br>"
            # rich text collapses the read-out's double spaces: keep them
            f"<b>{html.escape(point_text(point)).replace('  ', '&nbsp;&nbsp;')}</b><br>"
            "<small>(scanner coordinates, from its origin, not the midline)</small><br>"
            f"value there: <b>{html.escape(reading)}</b><br><br><small>{HINT}</small>"
        )
