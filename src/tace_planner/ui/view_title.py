"""The line above the image viewer naming what the active view shows, shortened to fit.

The title reads "<series> · <visit> — <z × y × x voxels>, <spacing mm>": the series and
the visit matter most, the grid least (the view's corners show it again). When the
line does not fit, the grid's parts are left out from the end, then the series title is
elided; the whole line is the tooltip then.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget

DETAIL_SEPARATOR = " — "
"""Between the series title and the grid's description."""
PART_SEPARATOR = ", "
"""Between the parts of the grid's description."""


def shortened(text: str) -> list[str]:
    """The forms of ``text`` from the whole to the shortest that keeps the series and visit.

    "A · baseline — 69 × 512 × 512 voxels, 2.50 × 0.78 × 0.78 mm (loading…)" gives
    itself, then "A · baseline — 69 × 512 × 512 voxels (loading…)", then
    "A · baseline (loading…)".
    """
    head, separator, detail = text.partition(DETAIL_SEPARATOR)
    if not separator:
        return [text]
    suffix = ""
    for tail in (" (loading…)",):
        if detail.endswith(tail):
            detail, suffix = detail[: -len(tail)], tail
    parts = detail.split(PART_SEPARATOR)
    forms = [text]
    for keep in range(len(parts) - 1, -1, -1):
        kept = PART_SEPARATOR.join(parts[:keep])
        forms.append(f"{head}{DETAIL_SEPARATOR}{kept}{suffix}" if kept else f"{head}{suffix}")
    return forms


class ViewTitleLabel(QLabel):
    """A one-line label that keeps its whole text (``text()``) and shows what fits.

    Shortened as :func:`shortened` says, then elided at the end; the tooltip holds the
    whole text whenever less is shown.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setMinimumWidth(1)  # a long title never widens the viewer column
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def setText(self, text: str) -> None:
        """Keep ``text`` and show the longest form of it that fits."""
        self._full = text
        self._fit()

    def text(self) -> str:
        """The whole text (what is shown may be shorter)."""
        return self._full

    def shown_text(self) -> str:
        """What the label shows now."""
        return super().text()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Fit the text to the new width."""
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        metrics = self.fontMetrics()
        room = max(1, self.contentsRect().width() - 2)
        shown = None
        for form in shortened(self._full):
            if metrics.horizontalAdvance(form) <= room:
                shown = form
                break
        if shown is None:
            shown = metrics.elidedText(shortened(self._full)[-1], Qt.TextElideMode.ElideRight, room)
        QLabel.setText(self, shown)
        self.setToolTip("" if shown == self._full else self._full)
