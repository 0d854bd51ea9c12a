"""Size rules shared by the panels, so that they fit beside the images on a 1400 px screen."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

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
