"""Text laid over a slice view: the four corners, the orientation letters of the edges, a badge.

The labels are child widgets of the graphics view, transparent to the mouse,
so they stay sharp at any zoom, never hide a drag, and are part of a snapshot
(``QWidget.grab``). They show what the view tells them and compute nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QWidget

from tace_planner.imaging.reformat import PlaneGeometry, direction_letters

if TYPE_CHECKING:
    from tace_planner.services.state import SliceViewState
    from tace_planner.ui.viewer.interaction import HoverInfo

CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")
EDGES = ("left", "right", "top", "bottom")
MARGIN_PX = 4

_TEXT_STYLE = (
    "color: #d8d8d8; background: rgba(0, 0, 0, 120); padding: 1px 3px; border-radius: 2px;"
)
_EDGE_STYLE = "color: #e8c050; background: rgba(0, 0, 0, 120); padding: 0px 3px; font-weight: bold;"
BADGE_STYLES = {
    "warning": "color: #1a1200; background: #ffb020; padding: 2px 6px; font-weight: bold;",
    "error": "color: #ffffff; background: #c62828; padding: 2px 6px; font-weight: bold;",
    "info": "color: #ffffff; background: rgba(30, 90, 160, 200); padding: 2px 6px;",
}


class CornerText:
    """Corner, edge and badge labels over one slice view's graphics widget.

    Call :meth:`relayout` whenever the host widget is resized.
    """

    def __init__(self, host: QWidget) -> None:
        self._host = host
        font = QFont(host.font())
        font.setPointSizeF(max(8.0, font.pointSizeF() * 0.95))
        self.corners: dict[str, QLabel] = {}
        for name in CORNERS:
            label = self._label(_TEXT_STYLE, font)
            label.setObjectName(f"corner_{name}")
            label.setTextFormat(Qt.TextFormat.PlainText)
            alignment = (
                Qt.AlignmentFlag.AlignRight if "right" in name else Qt.AlignmentFlag.AlignLeft
            )
            label.setAlignment(alignment | Qt.AlignmentFlag.AlignTop)
            self.corners[name] = label
        self.edges: dict[str, QLabel] = {}
        for name in EDGES:
            label = self._label(_EDGE_STYLE, font)
            label.setObjectName(f"edge_{name}")
            self.edges[name] = label
        self.badge = self._label(BADGE_STYLES["warning"], font)
        self.badge.setObjectName("trust_badge")
        self.badge.setWordWrap(True)
        self.badge.hide()
        self._visible = True

    def _label(self, style: str, font: QFont) -> QLabel:
        label = QLabel(self._host)
        label.setStyleSheet(style)
        label.setFont(font)
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        label.hide()
        return label

    # ------------------------------------------------------------ content
    def set_corner(self, name: str, text: str) -> None:
        """Show ``text`` (several lines allowed) in one corner; "" hides it."""
        label = self.corners[name]
        if label.text() == text:
            return
        label.setText(text)
        label.adjustSize()
        label.setVisible(bool(text) and self._visible)
        self._place(name, label)

    def set_edges(self, letters: dict[str, str]) -> None:
        """Orientation letters of the left, right, top and bottom edges."""
        for name in EDGES:
            label = self.edges[name]
            label.setText(letters.get(name, ""))
            label.adjustSize()
            label.setVisible(bool(label.text()) and self._visible)
        self.relayout()

    def set_badge(self, text: str, level: str = "warning") -> None:
        """A badge under the top edge: "warning", "error" or "info"; "" hides it."""
        self.badge.setStyleSheet(BADGE_STYLES.get(level, BADGE_STYLES["warning"]))
        self.badge.setText(text)
        self.badge.setToolTip(text)
        self.badge.setVisible(bool(text) and self._visible)
        self.relayout()

    def text(self, name: str) -> str:
        """The text of a corner, an edge or "badge" (for tests and screen readers)."""
        if name == "badge":
            return self.badge.text() if self.badge.isVisibleTo(self._host) else ""
        label = self.corners.get(name) or self.edges[name]
        return label.text()

    def set_visible(self, visible: bool) -> None:
        """Show or hide every label (snapshots without overlays)."""
        self._visible = visible
        for label in (*self.corners.values(), *self.edges.values(), self.badge):
            label.setVisible(visible and bool(label.text()))

    # ------------------------------------------------------------ layout
    def relayout(self) -> None:
        """Put every label in its place for the host's current size."""
        for name, label in self.corners.items():
            self._place(name, label)
        size = self._host.size()
        for name, label in self.edges.items():
            hint = label.sizeHint()
            if name == "left":
                label.move(MARGIN_PX, (size.height() - hint.height()) // 2)
            elif name == "right":
                label.move(
                    size.width() - hint.width() - MARGIN_PX, (size.height() - hint.height()) // 2
                )
            elif name == "top":
                label.move((size.width() - hint.width()) // 2, MARGIN_PX)
            else:
                label.move(
                    (size.width() - hint.width()) // 2, size.height() - hint.height() - MARGIN_PX
                )
        badge_width = min(self.badge.sizeHint().width(), max(80, size.width() - 2 * MARGIN_PX))
        self.badge.setFixedWidth(badge_width)
        self.badge.adjustSize()
        top = self.edges["top"].sizeHint().height() + 2 * MARGIN_PX
        self.badge.move((size.width() - badge_width) // 2, top)

    def _place(self, name: str, label: QLabel) -> None:
        size: QSize = self._host.size()
        hint = label.sizeHint()
        x = size.width() - hint.width() - MARGIN_PX if "right" in name else MARGIN_PX
        y = size.height() - hint.height() - MARGIN_PX if "bottom" in name else MARGIN_PX
        label.move(x, y)


# ---------------------------------------------------------------- texts
def title_text(geometry: PlaneGeometry, title: str, modality: str) -> str:
    """Top left: what is shown, its matrix and pixel size."""
    rows, columns = geometry.image_shape
    row_mm, column_mm = geometry.pixel_spacing_mm()
    lines = [title] if title else []
    lines.append(f"{modality or 'image'} {columns}×{rows}, {column_mm:.2f}×{row_mm:.2f} mm")
    return "\n".join(lines)


def position_text(geometry: PlaneGeometry, index: int, wanted_mm: float) -> str:
    """Top right: plane, slice number and its position in mm along the normal."""
    position = geometry.position_mm(index)
    sign = 1.0 if position >= 0 else -1.0
    letter = direction_letters(sign * geometry.normal_lps)[:1]
    outside = "" if geometry.contains(wanted_mm) else "\n(linked position outside this volume)"
    return (
        f"{geometry.orientation.capitalize()}  {index + 1} / {geometry.slice_count}\n"
        f"{letter} {abs(position):.1f} mm  (step {abs(geometry.step_position_mm):.2f} mm)"
        f"{outside}"
    )


def window_text(state: SliceViewState, preset_name: str, modality: str) -> str:
    """Bottom left: window, level, preset, inversion and zoom."""
    width, level = state.window_hu
    preset = f"  {preset_name}" if preset_name else ""
    invert = "  inverted" if state.invert else ""
    unit = "" if modality == "MR" else " HU"
    return f"W {width:.0f}  L {level:.0f}{unit}{preset}{invert}\nZoom {state.zoom:.2f}×"


def hover_text(info: HoverInfo | None, modality: str) -> str:
    """Bottom right: patient coordinates under the mouse and the value there."""
    if info is None:
        return ""
    parts = []
    for axis, value in enumerate(info.point_lps):
        vector = np.zeros(3)
        vector[axis] = 1.0 if value >= 0 else -1.0
        parts.append(f"{direction_letters(vector)} {abs(float(value)):.1f}")
    text = "  ".join(parts) + " mm"
    if info.value is not None and info.voxel_zyx is not None:
        z, y, x = info.voxel_zyx
        unit = "(signal)" if modality == "MR" else "HU"
        text += f"\n{info.value:.0f} {unit}   voxel z{z} y{y} x{x}"
    return text
