"""Text laid over a slice view: the four corners, the orientation letters of the edges, a badge.

The labels are child widgets of the graphics view, transparent to the mouse,
so they stay sharp at any zoom, never hide a drag, and are part of a snapshot
(``QWidget.grab``). They show what the view tells them and compute nothing.

Being transparent to the mouse, a corner shortened with "…" cannot have a tooltip of its
own: the host (the view's graphics widget) takes the full text of the shortened corners
as its tooltip instead, kept current while it is shown (the cursor read-out changes as
the mouse moves, and a tooltip must not keep an old value).
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QCursor, QFont, QFontMetrics
from PySide6.QtWidgets import QGraphicsView, QLabel, QToolTip, QWidget

from tace_planner.imaging.reformat import PlaneGeometry, direction_letters

if TYPE_CHECKING:
    from tace_planner.services.state import SliceViewState
    from tace_planner.ui.viewer.interaction import HoverInfo

CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")
EDGES = ("left", "right", "top", "bottom")
#: The corners whose read-outs break onto more lines in a narrow view; the title (top
#: left, whole in the view's title bar) is shortened instead.
WRAPPED_CORNERS = ("top_right", "bottom_left", "bottom_right")
MARGIN_PX = 4

_TEXT_STYLE = (
    "color: #d8d8d8; background: rgba(0, 0, 0, 120); padding: 1px 3px; border-radius: 2px;"
)
_EDGE_STYLE = "color: #e8c050; background: rgba(0, 0, 0, 120); padding: 0px 3px; font-weight: bold;"
_HINT_STYLE = "color: #b0b0b0; background: rgba(40, 40, 40, 200); padding: 8px; border-radius: 4px;"
_HINT_PADDING_PX = 2 * 8 + 4
EMPTY_HINT = "Drop a series here (or select one in the study tree)"
BADGE_STYLES = {
    "warning": "color: #1a1200; background: #ffb020; padding: 2px 6px; font-weight: bold;",
    "error": "color: #ffffff; background: #c62828; padding: 2px 6px; font-weight: bold;",
    "info": "color: #ffffff; background: rgba(30, 90, 160, 200); padding: 2px 6px;",
}


class CornerText:
    """Corner, edge, badge and hint labels over one slice view's graphics widget.

    Call :meth:`relayout` whenever the host widget is resized. The layout never
    lets two labels overlap while the view is large enough to hold them: corner
    lines that do not fit half the width are shortened with "…", and an edge
    letter or the badge that would touch a corner moves along its edge.
    """

    def __init__(self, host: QWidget) -> None:
        self._host = host
        font = QFont(host.font())
        font.setPointSizeF(max(8.0, font.pointSizeF() * 0.95))
        self._texts: dict[str, str] = dict.fromkeys(CORNERS, "")
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
        self.hint = self._label(_HINT_STYLE, font)
        self.hint.setObjectName("empty_hint")
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._visible = True
        self._tooltip = ""
        probe = self.corners["top_left"]
        probe.setText("M")
        # What the style sheet's padding and the label's frame add to the text's width.
        self._padding_px = probe.sizeHint().width() - QFontMetrics(probe.font()).horizontalAdvance(
            "M"
        )
        probe.setText("")
        self.set_hint(EMPTY_HINT)

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
        if self._texts[name] == text:
            return
        self._texts[name] = text
        self.corners[name].setVisible(bool(text) and self._visible)
        self.relayout()

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

    def set_hint(self, text: str) -> None:
        """A hint in the middle of the view (an empty view says how to fill it); "" hides it."""
        self.hint.setText(text)
        self.hint.setVisible(bool(text) and self._visible)
        self.relayout()

    def text(self, name: str) -> str:
        """The text of a corner (in full), an edge, "badge" or "hint" (for tests and readers)."""
        if name in ("badge", "hint"):
            label = self.badge if name == "badge" else self.hint
            return label.text() if label.isVisibleTo(self._host) else ""
        if name in self._texts:
            return self._texts[name]
        return self.edges[name].text()

    def set_visible(self, visible: bool) -> None:
        """Show or hide every label (snapshots without overlays)."""
        self._visible = visible
        for label in (*self.corners.values(), *self.edges.values(), self.badge, self.hint):
            label.setVisible(visible and bool(label.text()))

    def visible_labels(self) -> list[QLabel]:
        """The labels shown now (for the layout tests)."""
        labels = (*self.corners.values(), *self.edges.values(), self.badge, self.hint)
        return [label for label in labels if label.isVisibleTo(self._host)]

    # ------------------------------------------------------------ layout
    def relayout(self) -> None:
        """Put every label in its place for the host's current size, without overlaps."""
        size = self._host.size()
        width, height = size.width(), size.height()
        corners = self._place_corners(width, height)
        taken = [*corners.values(), *self._scene_labels()]
        hint = self.edges["top"].sizeHint()
        top = QRect(QPoint((width - hint.width()) // 2, MARGIN_PX), hint)
        top = _along_edge(
            top, taken, size, [corners["top_left"], corners["top_right"]], _clear_down
        )
        self.edges["top"].move(top.topLeft())
        hint = self.edges["bottom"].sizeHint()
        bottom = QRect(
            QPoint((width - hint.width()) // 2, height - hint.height() - MARGIN_PX), hint
        )
        bottom_corners = [corners["bottom_left"], corners["bottom_right"]]
        bottom = _along_edge(bottom, taken, size, bottom_corners, _clear_up)
        self.edges["bottom"].move(bottom.topLeft())
        for name, x in (
            ("left", MARGIN_PX),
            ("right", width - self.edges["right"].sizeHint().width() - MARGIN_PX),
        ):
            hint = self.edges[name].sizeHint()
            rect = QRect(QPoint(x, (height - hint.height()) // 2), hint)
            rect = _clear_down(rect, [corners[f"top_{name}"]])
            rect = _clear_up(rect, [corners[f"bottom_{name}"]])
            rect = _step_aside(rect, taken, size, vertical=True)
            self.edges[name].move(rect.topLeft())
        self._place_badge(width, [corners["top_left"], corners["top_right"], top])
        self._place_hint(width, height)
        self._update_tooltip()

    # ------------------------------------------------------------ tooltip
    def elided_text(self) -> str:
        """The full text of every visible corner shortened with "…", a blank line between
        corners; "" when every corner is shown whole (the host's tooltip)."""
        return "\n\n".join(
            self._texts[name]
            for name in CORNERS
            if self._texts[name]
            and self.corners[name].isVisibleTo(self._host)
            and self.corners[name].text().count("…") > self._texts[name].count("…")
        )

    def _update_tooltip(self) -> None:
        """Give the host the full text of the shortened corners as its tooltip; a tooltip
        of it already on screen shows the new text (or goes when nothing is shortened)."""
        text = self.elided_text()
        if text == self._tooltip:
            return
        shown = QToolTip.isVisible() and QToolTip.text() == _tooltip_markup(self._tooltip)
        self._tooltip = text
        self._host.setToolTip(_tooltip_markup(text))
        if shown and text:
            QToolTip.showText(QCursor.pos(), _tooltip_markup(text), self._host)
        elif shown:
            QToolTip.hideText()

    def _scene_labels(self) -> list[QRect]:
        """Where the labels drawn in the image (RECIST axes, measurements, contours) are.

        An orientation letter steps aside along its edge rather than sit on one
        ("F1 long axis: 54.1 mm" covered the "L").
        """
        host = self._host
        scene = host.scene() if isinstance(host, QGraphicsView) else None
        if scene is None:
            return []
        viewport = host.viewport()
        rects = []
        for item in scene.items():
            if isinstance(item, pg.TextItem) and item.isVisible() and item.toPlainText():
                polygon = host.mapFromScene(item.sceneBoundingRect())
                rect = polygon.boundingRect()
                rects.append(rect.translated(viewport.mapTo(host, QPoint(0, 0))))
        return rects

    def _place_corners(self, width: int, height: int) -> dict[str, QRect]:
        """Elide and place the corner labels; their rectangles (empty when hidden)."""
        room = max(0, width - 3 * MARGIN_PX)
        rects: dict[str, QRect] = {}
        for row in ("top", "bottom"):
            left, right = f"{row}_left", f"{row}_right"
            letter = self.edges[row]
            # The corners give way to their edge's letter (on more lines) when they can
            # do so whole; else they take the row and the letter is moved (relayout).
            reserve = letter.sizeHint().width() + 2 * MARGIN_PX if letter.text() else 0
            need_left, need_right, cut = self._row_widths(left, right, room - reserve, height)
            if cut and reserve:
                need_left, need_right, _ = self._row_widths(left, right, room, height)
            for name, allowed in ((left, need_left), (right, need_right)):
                label = self.corners[name]
                label.setText(self._fitted(name, allowed, height // 2))
                label.adjustSize()
                excess = label.sizeHint().width() - allowed
                if excess > 0 and self._texts[name]:  # the style's padding is wider than thought
                    label.setText(self._fitted(name, allowed - excess, height // 2))
                    label.adjustSize()
                hint = label.sizeHint()
                x = width - hint.width() - MARGIN_PX if "right" in name else MARGIN_PX
                y = height - hint.height() - MARGIN_PX if row == "bottom" else MARGIN_PX
                label.move(x, y)
                shown = bool(self._texts[name]) and label.isVisibleTo(self._host)
                rects[name] = QRect(QPoint(x, y), hint) if shown else QRect()
        return rects

    def _row_widths(self, left: str, right: str, room: int, height: int) -> tuple[int, int, bool]:
        """Widths of two corners of a row in ``room`` px, and whether one must be cut."""
        need_left, need_right = self._text_width(left), self._text_width(right)
        if need_left + need_right <= room:
            return need_left, need_right, False
        if {left, right} <= set(WRAPPED_CORNERS):
            shared = self._shared_widths(left, right, room, height // 2)
            if shared is not None:
                return shared
        half = room // 2
        if need_right <= half:
            return room - need_right, need_right, True
        if need_left <= half:
            return need_left, room - need_left, True
        return half, half, True

    def _shared_widths(
        self, left: str, right: str, room_px: int, height_px: int
    ) -> tuple[int, int, bool] | None:
        """Widths for two wrapped corners side by side, from their wrapped widths, and
        whether one is cut.

        Sized from their unwrapped widths, both halves of the bottom row wrapped when
        a named preset lengthened the window's line ("slice 1/69, x 162," / "y 171");
        now each side may take what the other leaves once wrapped: of the pairs
        that fit ``room_px``, the one with no "…", then the fewest lines in the
        taller corner, then the fewest lines in all. None when no pair fits.
        """
        best: tuple[tuple[bool, int, int], int, int] | None = None
        for width_left, lines_left, cut_left in self._wrap_levels(left, room_px, height_px):
            for width_right, lines_right, cut_right in self._wrap_levels(right, room_px, height_px):
                if width_left + width_right > room_px:
                    continue
                key = (
                    cut_left or cut_right,
                    max(lines_left, lines_right),
                    lines_left + lines_right,
                )
                if best is None or key < best[0]:
                    best = (key, width_left, width_right)
        return None if best is None else (best[1], best[2], best[0][0])

    def _wrap_levels(self, name: str, room_px: int, height_px: int) -> list[tuple[int, int, bool]]:
        """(width, lines, elided) of a corner's text wrapped ever narrower, widest first."""
        if not self._texts[name]:
            return [(0, 0, False)]
        metrics = QFontMetrics(self.corners[name].font())
        levels: list[tuple[int, int, bool]] = []
        allowed, previous = min(self._text_width(name), room_px), None
        while allowed > self._padding_px and len(levels) < 8:
            text = self._fitted(name, allowed, height_px)
            if text == previous:
                break
            lines = text.splitlines() or [""]
            width = max(metrics.horizontalAdvance(line) for line in lines) + self._padding_px
            cut = "…" in text and "…" not in self._texts[name]
            levels.append((width, len(lines), cut))
            if cut:
                break
            previous, allowed = text, width - 2  # one pixel less than its widest line
        return levels

    def _text_width(self, name: str) -> int:
        label = self.corners[name]
        metrics = QFontMetrics(label.font())
        lines = self._texts[name].splitlines() or [""]
        return max(metrics.horizontalAdvance(line) for line in lines) + self._padding_px

    def _fitted(self, name: str, width_px: int, height_px: int) -> str:
        """The corner's text in ``width_px``: wrapped between its parts, else elided.

        A read-out ("R 66.7  A 9.0  S 85.0 mm", "51 HU   slice 35/69, x 257, y 130")
        breaks where its parts are spaced apart (two spaces, or ", "), so that a narrow
        view (2×2 on a 1366 px screen) shows every number whole on more lines, as long
        as they fit ``height_px``; what still does not fit ends with "…".
        """
        metrics = QFontMetrics(self.corners[name].font())
        room = max(0, width_px - self._padding_px + 1)
        lines = self._texts[name].splitlines()
        wrapped = lines
        if name in WRAPPED_CORNERS:
            wrapped = [part for line in lines for part in _wrapped(line, metrics, room)]
        if len(wrapped) > len(lines) and len(wrapped) * metrics.lineSpacing() > height_px:
            wrapped = lines  # no room for more lines: shorten them instead
        return "\n".join(
            metrics.elidedText(line, Qt.TextElideMode.ElideRight, room) for line in wrapped
        )

    def _place_badge(self, width: int, above: list[QRect]) -> None:
        badge_width = min(self.badge.sizeHint().width(), max(80, width - 2 * MARGIN_PX))
        self.badge.setFixedWidth(badge_width)
        self.badge.adjustSize()
        rect = QRect(
            QPoint((width - badge_width) // 2, MARGIN_PX), QSize(badge_width, self.badge.height())
        )
        self.badge.move(_clear_down(rect, above).topLeft())

    def _place_hint(self, width: int, height: int) -> None:
        # A word-wrapped label hints at its narrowest width: measure the text itself.
        text_px = QFontMetrics(self.hint.font()).horizontalAdvance(self.hint.text())
        hint_width = min(text_px + _HINT_PADDING_PX, max(80, width - 2 * MARGIN_PX))
        self.hint.setFixedWidth(hint_width)
        self.hint.adjustSize()
        self.hint.move((width - hint_width) // 2, (height - self.hint.height()) // 2)


def _tooltip_markup(text: str) -> str:
    """``text`` as a tooltip shows it as written: escaped when Qt would take it for rich
    text (a series description holding "<…>"), its lines and spaces kept."""
    if not QtGui.Qt.mightBeRichText(text):
        return text
    escaped = html.escape(text).replace("\n", "<br>")
    return f"<p style='white-space:pre'>{escaped}</p>"


_BREAKS = ("  ", ", ", " / ")
"""Where a corner line may break, widest first: between spaced-apart parts, after a comma,
after the slash of a preset's name ("Abdomen / soft tissue")."""


MAX_PARTS = 10
"""Parts of one line tried in every grouping (2⁹ groupings); further ones form one part."""


def _wrapped(line: str, metrics: QFontMetrics, room_px: int) -> list[str]:
    """``line`` broken at :data:`_BREAKS` into lines of at most ``room_px`` where it can be."""
    if metrics.horizontalAdvance(line) <= room_px:
        return [line]
    for separator in _BREAKS:
        parts = [part.strip() for part in line.split(separator) if part.strip()]
        if len(parts) < 2:
            continue
        if len(parts) > MAX_PARTS:
            parts = [*parts[: MAX_PARTS - 1], separator.join(parts[MAX_PARTS - 1 :])]
        lines = _grouped(parts, separator, metrics, room_px)
        return [wrapped for text in lines for wrapped in _wrapped(text, metrics, room_px)]
    return [line]


def _grouped(parts: list[str], separator: str, metrics: QFontMetrics, room_px: int) -> list[str]:
    """``parts`` joined into lines: the least overrun, then the fewest lines, the widest narrowest.

    Filled greedily, a read-out broke at its last comma and left a short last line
    ("slice 35/69, x 257," / "y 130"); balanced, it breaks between whole fields
    ("slice 35/69," / "x 257, y 130"). A comma or a slash stays at the end of its line.
    """
    end = separator.rstrip()
    best: tuple[tuple[int, int, int, tuple[int, ...]], list[str]] | None = None
    for cuts in itertools.product((False, True), repeat=len(parts) - 1):
        lines = [parts[0]]
        for part, cut in zip(parts[1:], cuts, strict=True):
            if cut:
                lines[-1] += end
                lines.append(part)
            else:
                lines[-1] += separator + part
        widths = [metrics.horizontalAdvance(text) for text in lines]
        overrun = sum(max(0, width - room_px) for width in widths)
        key = (overrun, len(lines), max(widths), tuple(-width for width in widths))
        if best is None or key < best[0]:
            best = (key, lines)
    assert best is not None
    return best[1]


def _step_aside(rect: QRect, taken: list[QRect], size: QSize, *, vertical: bool) -> QRect:
    """``rect`` moved along its edge (up/down when ``vertical``) to the nearest free place.

    It stays where it is when it covers nothing of ``taken``, or when no place
    inside ``size`` is free.
    """
    bounds = QRect(QPoint(0, 0), size)
    step = rect.height() if vertical else rect.width()
    reach = (size.height() if vertical else size.width()) // max(1, step)
    for n in range(reach + 1):
        for offset in (n * step, -n * step):
            moved = rect.translated(0, offset) if vertical else rect.translated(offset, 0)
            if bounds.contains(moved) and not any(
                not other.isEmpty() and moved.intersects(other) for other in taken
            ):
                return moved
    return rect


def _along_edge(
    rect: QRect,
    taken: list[QRect],
    size: QSize,
    corners: list[QRect],
    clear: Callable[[QRect, list[QRect]], QRect],
) -> QRect:
    """A top or bottom letter at its edge, moved sideways along it off ``taken``.

    Moved first off its two corners (``clear``), the bottom "P" jumped about 50 px up
    onto the vertebra when the three-line read-out appeared at the bottom right; it
    now keeps to its edge and steps sideways into the gap between the corners. Only
    when the edge has no free place is it cleared of the corners into the image.
    """
    spaced = [other.adjusted(-2, -2, 2, 2) for other in taken if not other.isEmpty()]
    bounds = QRect(QPoint(0, 0), size)
    for n in range(0, size.width() // 2 + 1, 2):  # the nearest free place, 2 px apart
        for moved in (rect.translated(-n, 0), rect.translated(n, 0)):
            if bounds.contains(moved) and not any(moved.intersects(o) for o in spaced):
                return moved
    return _step_aside(clear(rect, corners), taken, size, vertical=False)


def _clear_down(rect: QRect, others: list[QRect]) -> QRect:
    """``rect`` moved down below every one of ``others`` it touches."""
    for other in sorted(others, key=lambda r: r.top()):
        if not other.isEmpty() and rect.intersects(other.adjusted(-1, -1, 1, 1)):
            rect.moveTop(other.bottom() + 1 + MARGIN_PX)
    return rect


def _clear_up(rect: QRect, others: list[QRect]) -> QRect:
    """``rect`` moved up above every one of ``others`` it touches."""
    for other in sorted(others, key=lambda r: -r.bottom()):
        if not other.isEmpty() and rect.intersects(other.adjusted(-1, -1, 1, 1)):
            rect.moveBottom(other.top() - 1 - MARGIN_PX)
    return rect


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


def hover_text(
    info: HoverInfo | None, modality: str, shape_zyx: tuple[int, int, int] | None = None
) -> str:
    """Bottom right: patient coordinates under the mouse, the value and the voxel there.

    The voxel is written as the acquired image shows it, every number counted
    from 1 like the slice number of the corner text: "slice n/N, x column,
    y row" (an axial view of an axial series shows slice n in its corner too).
    """
    if info is None:
        return ""
    text = point_text(info.point_lps)
    if info.value is not None and info.voxel_zyx is not None:
        text += f"\n{value_text(info.value, modality)}   "
        text += voxel_text(info.voxel_zyx, shape_zyx)
    return text


def point_text(point_lps: Any) -> str:
    """An LPS point as patient directions: "R 12.3  A 45.6  S 7.8 mm"."""
    parts = []
    for axis, value in enumerate(point_lps):
        vector = np.zeros(3)
        vector[axis] = 1.0 if value >= 0 else -1.0
        parts.append(f"{direction_letters(vector)} {abs(float(value)):.1f}")
    return "  ".join(parts) + " mm"


def value_text(value: float, modality: str) -> str:
    """A voxel value with its unit: HU, or "(signal)" for MR, whose values have none."""
    return f"{value:.0f} {'(signal)' if modality == 'MR' else 'HU'}"


def voxel_text(voxel_zyx: tuple[int, int, int], shape_zyx: tuple[int, int, int] | None) -> str:
    """A voxel (z, y, x), 0-based, as people count it: "slice 35/69, x 257, y 130"."""
    z, y, x = voxel_zyx
    of = f"/{shape_zyx[0]}" if shape_zyx is not None else ""
    return f"slice {z + 1}{of}, x {x + 1}, y {y + 1}"
