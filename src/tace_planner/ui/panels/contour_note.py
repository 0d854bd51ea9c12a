"""The contour tools' advice above the images, whole and wrapped, until the next gesture.

The contour tools explain what a click did and what to do next ("Faint edge … correct it
with include or exclude clicks, or move the whole contour out or in by a margin"; "Only
the clicked spot was added: …"). Such a sentence is wider than the status bar beside its
permanent widgets at 1400–1600 px, which cut it at the right edge, where the advice is;
and the status bar forgets it after a few seconds. A short message still goes to the
status bar; a long one is shown here, wrapped, until the next contour gesture or *×*.

The note floats over the top of the images rather than taking a row of the layout: a row
that appeared after a click would shrink the views and move the image under the cursor,
so that the next click landed elsewhere.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

MARGIN_PX = 8
"""The note's distance from the edges of the images it floats over."""


class ContourNote(QFrame):
    """A dismissible, word-wrapped line of contour advice floating over the top of
    ``over`` (hidden when empty)."""

    def __init__(self, over: QWidget) -> None:
        super().__init__(over)
        self._over = over
        over.installEventFilter(self)
        self.setObjectName("contour_note")
        self.setStyleSheet(
            "#contour_note { background: #eef4fb; border: 1px solid #b7cbe3; border-radius: 3px; }"
        )
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # a "<" in a message stays a "<"
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setMinimumWidth(1)  # a long note wraps, never widens the viewer column
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Hide this note")
        self.close_button.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 2, 2)
        layout.addWidget(self.label, stretch=1)
        layout.addWidget(self.close_button, alignment=Qt.AlignmentFlag.AlignTop)
        self.setVisible(False)

    def text(self) -> str:
        """The note shown ("" when hidden)."""
        return self.label.text() if not self.isHidden() else ""

    def say(self, text: str) -> None:
        """Show ``text`` (plain text) until :meth:`clear`."""
        self.label.setText(text)
        self.setVisible(bool(text))
        if text:
            self._place()
            self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._over and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def _place(self) -> None:
        """Across the top of the images, as high as the wrapped text needs."""
        width = max(self._over.width() - 2 * MARGIN_PX, 100)
        self.setGeometry(MARGIN_PX, MARGIN_PX, width, self.heightForWidth(width))

    def clear(self) -> None:
        """Hide the note."""
        self.label.setText("")
        self.setVisible(False)
