"""A problem line shown in a small form dialog makes the dialog taller, not its fields thinner.

Review finding (Assign to patient…, 1366 × 768): the refusal wrapped to three lines while
the dialog kept its height, and the Patient ID field shrank to 12 px, the typed ID cut in
half. The dialog now grows to fit the line (never shrinks a size the user chose).
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QLineEdit

from tace_planner.ui.dialogs.dialog_parts import show_problem
from tace_planner.ui.dialogs.new_case_dialog import NewCaseDialog

LONG = (
    "Patient ID TACE-DEMO-001 is stored for Demo Phantom  [TACE-DEMO-001], not 'Other "
    "Person'; check the Patient ID, or choose that patient under Stored patient — the "
    "images are not handed over until the patient is the right one"
)


def test_a_long_problem_line_grows_the_dialog_and_keeps_the_fields_whole(qtbot: Any) -> None:
    dialog = NewCaseDialog("Test^Patient [P-1]")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.resize(dialog.minimumSizeHint())  # as small as it opens on a crowded screen
    qtbot.wait(20)
    fields = dialog.findChildren(QLineEdit)
    before = {id(field): field.height() for field in fields}
    height = dialog.height()

    assert show_problem(dialog.error_label, LONG)
    qtbot.wait(50)

    assert dialog.error_label.isVisible()
    assert dialog.height() > height  # grown for the wrapped line
    for field in fields:
        if field.isVisible():
            assert field.height() >= min(before[id(field)], field.sizeHint().height()), (
                field.objectName(),
                field.height(),
            )
    assert dialog.error_label.height() >= dialog.error_label.heightForWidth(
        dialog.error_label.width()
    )


def test_no_problem_changes_nothing(qtbot: Any) -> None:
    dialog = NewCaseDialog("Test^Patient [P-1]")
    qtbot.addWidget(dialog)
    dialog.show()
    size = dialog.size()
    assert not show_problem(dialog.error_label, "")
    assert dialog.size() == size
    assert not dialog.error_label.isVisible()
