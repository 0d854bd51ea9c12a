"""A patient input left empty reads "not recorded" in the plan's form, as on the plan sheet.

The form offered UGT1A1 "unknown" where the printed plan says "UGT1A1: not recorded" and
the other choices of the form say "not recorded": one state, one name.
"""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")


def test_every_choice_names_the_empty_value_not_recorded() -> None:
    from tace_planner.ui.panels.plan_inputs import _CHOICE_FIELDS

    for name, (_label, options) in _CHOICE_FIELDS.items():
        empty = [text for text, value in options if value in (None, "")]
        assert empty == ["not recorded"], name
