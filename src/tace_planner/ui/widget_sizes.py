"""Size rules shared by the panels, so that they fit beside the images on a 1400 px screen."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QWidget

COMBO_MIN_CHARACTERS = 14
"""How many characters a choice shows at least before it is elided."""


def let_shrink(combo: QComboBox, characters: int = COMBO_MIN_CHARACTERS) -> QComboBox:
    """Let a choice be narrower than its longest item: elided, whole in its list.

    A combo box is as wide as its longest item by default, which alone can keep a
    dock or a filter row from fitting the screen. A combo box without a tool tip of
    its own gets the current choice as its tool tip, so an elided choice can be read.
    """
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    if not combo.toolTip():
        combo.setToolTip(combo.currentText())
        combo.currentTextChanged.connect(combo.setToolTip)
    return combo


def widen_to_content(window: QWidget, content: QWidget, extra_px: int = 60) -> None:
    """Make ``window`` as wide as ``content`` asks (plus ``extra_px`` of margins and a
    scroll bar), within 95 % of its screen's available width, never narrower than now.

    A form of parameters with a column of sources cut at a fixed dialog width had to
    be scrolled sideways to read where each value comes from.
    """
    screen = window.screen()
    limit = int(0.95 * screen.availableGeometry().width()) if screen is not None else 1_000_000
    wanted = content.sizeHint().width() + extra_px
    window.resize(max(window.width(), min(wanted, limit)), window.height())
