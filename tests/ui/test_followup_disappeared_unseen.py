"""A lesion proposed as disappeared is never stored unseen (pytest-qt, offscreen).

Seen in review on the demo at 1366 × 768: "6 of 7 lesion(s) found", F5 "not found" 0.0 mm
ticked by default; choosing another follow-up asked "7 contour proposals at follow-up 1 are
not confirmed (F1, …, F7). Confirm the checked proposals?" and *Confirm* stored F5 as
disappeared — 0 mm, which counts towards a complete response (RECIST 1.1; Eisenhauer et
al., Eur J Cancer 2009) — without the reader having looked. Its advice was cut off in its
column ("…Proposed as disappeared (0 mm); confirm, or"), the table showed 5 of 7 rows and
the page's message began in lower case ("follow-up 1: 6 of 7 lesion(s) found…").

Now a row not found starts unchecked and says why; the question counts the checked rows
only and names the proposals proposed as disappeared; the advice wraps within its row (and
reads whole in its tooltip); the table shows every row up to eight; the message is a
sentence.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QRect, Qt
from test_followup_page_links_and_rows import _item, _review
from test_followup_unconfirmed import VISIT, _Confirming
from test_followup_unconfirmed import _proposed as _proposed_at_one
from unsaved_questions import answer, leave

from tace_planner.ui.followup_review import VIEWS_FLOOR_PX

F5_ADVICE = (
    "No focus found where F5 was: the tissue there (103 HU) is like the liver around it "
    "(110 ± 12 HU). Proposed as disappeared (0 mm); confirm, or contour it by hand."
)  # what the registration's proposal says of the demo's F5 at follow-up 1


def _not_found(item: Any, names: tuple[str, ...] = ("F5",)) -> Any:
    """``item`` with ``names`` not found: 0 mm, 0 cm³, the demo's advice."""
    for proposal in item.proposals:
        if proposal.name in names:
            proposal.found, proposal.status = False, "not found"
            proposal.longest_axial_diameter_mm, proposal.volume_cm3 = 0.0, 0.0
            proposal.messages = (F5_ADVICE.replace("F5", proposal.name),)
    return item


class _F5Gone(_Confirming):
    """The demo's proposals at follow-up 1: F5 not found; ``count`` proposals in all."""

    def __init__(self, count: int = 7) -> None:
        super().__init__()
        self.count = count

    def propose_task(self, case_pk: int, label: str, *, cancelled: Any = None) -> Any:
        yield from ()
        return _not_found(_item(case_pk, [f"F{n}" for n in range(1, self.count + 1)]))

    def confirm(self, item: Any, names: list[str], *, replace: list[str]) -> Any:
        return _not_found(super().confirm(item, names, replace=replace))


def _rows(review: Any) -> dict[str, int]:
    return {review.table.item(r, 0).text(): r for r in range(review.table.rowCount())}


def _checked(review: Any) -> list[str]:
    table = review.table
    return [
        table.item(r, 0).text()
        for r in range(table.rowCount())
        if table.item(r, 0).checkState() == Qt.CheckState.Checked
    ]


def test_a_lesion_not_found_starts_unchecked_and_its_row_says_why(qtbot: Any) -> None:
    page = _proposed_at_one(qtbot, _F5Gone())
    review = page.review
    assert _checked(review) == ["F1", "F2", "F3", "F4", "F6", "F7"]
    advice = review.table.item(_rows(review)["F5"], review.table.columnCount() - 1).text()
    assert advice.startswith(F5_ADVICE)
    assert "Unchecked until you have looked" in advice
    assert "store the lesion as disappeared (0 mm)" in advice
    assert "Eisenhauer et al., Eur J Cancer 2009" in advice
    # said beside the Confirm button too, where the reader's eye goes to confirm
    assert review.status.text().startswith("F5 proposed as disappeared (0 mm): unchecked")
    assert review.unconfirmed() == ["F1", "F2", "F3", "F4", "F6", "F7"]


def test_confirm_in_the_question_does_not_store_a_disappearance_unseen(qtbot: Any) -> None:
    propagation = _F5Gone()
    page = _proposed_at_one(qtbot, propagation)
    asked = answer(page, "confirm", "ask_unconfirmed")
    assert leave(page)
    assert asked == [
        f"6 contour proposals at {VISIT} are not confirmed (F1, F2, F3, F4, F6, F7). "
        "Not checked, so not stored: F5 proposed as disappeared (0 mm). "
        "Confirm the checked proposals?"
    ]
    assert propagation.confirmed == [["F1", "F2", "F3", "F4", "F6", "F7"]]  # not F5


def test_a_disappearance_checked_after_looking_is_named_in_the_question(qtbot: Any) -> None:
    propagation = _F5Gone()
    page = _proposed_at_one(qtbot, propagation)
    review = page.review
    review.table.selectRow(_rows(review)["F5"])  # the reader looks at F5 in both views
    review.table.item(_rows(review)["F5"], 0).setCheckState(Qt.CheckState.Checked)
    asked = answer(page, "confirm", "ask_unconfirmed")
    assert leave(page)
    assert len(asked) == 1
    assert asked[0].startswith(f"7 contour proposals at {VISIT} are not confirmed (F1, F2, F3, ")
    assert (
        "Checked: F5 proposed as disappeared (0 mm); Confirm stores it as disappeared, which "
        "counts towards a complete response (RECIST 1.1; Eisenhauer et al., Eur J Cancer 2009)."
    ) in asked[0]
    assert "Not checked" not in asked[0]
    assert propagation.confirmed == [[f"F{n}" for n in range(1, 8)]]


def _shown(page: Any, size: tuple[int, int]) -> Any:
    """``page`` in a resizable scroll area of ``size``, as the Follow-up page holds it."""
    from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget

    area = QScrollArea()
    area.setWidgetResizable(True)
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(page)
    area.setWidget(holder)
    area.resize(*size)
    area.show()
    return area


def _rows_shown(table: Any) -> list[int]:
    return [
        row
        for row in range(table.rowCount())
        if table.visualRect(table.model().index(row, 0)).top() >= 0
        and table.visualRect(table.model().index(row, 0)).bottom() < table.viewport().height()
    ]


def test_the_advice_wraps_within_its_row_and_reads_whole(qtbot: Any) -> None:
    page = _proposed_at_one(qtbot, _F5Gone())
    area = _shown(page, (1366, 538))
    qtbot.addWidget(area)
    qtbot.waitExposed(area)
    qtbot.wait(50)
    table = page.review.table
    column, row = table.columnCount() - 1, _rows(page.review)["F5"]
    cell = table.item(row, column)
    assert cell.toolTip() == cell.text()  # the whole advice, however narrow the column
    assert not table.horizontalScrollBar().isVisible()
    header = table.horizontalHeader()
    assert header.sectionViewportPosition(column) + header.sectionSize(column) <= (
        table.viewport().width()
    )
    # the row is as tall as its advice wrapped in the column's width (it grew)
    width = header.sectionSize(column) - 8  # the cell's text margins
    wrapped = table.fontMetrics().boundingRect(
        QRect(0, 0, width, 10_000), int(Qt.TextFlag.TextWordWrap), cell.text()
    )
    assert table.rowHeight(row) >= wrapped.height()
    assert table.rowHeight(row) > table.rowHeight(_rows(page.review)["F4"])
    page.setParent(None)  # closed by qtbot, not deleted with the scroll area


@pytest.mark.parametrize("count", [7, 8])
def test_at_1366_by_768_every_proposal_and_the_confirm_button_show(qtbot: Any, count: int) -> None:
    """The page's share of a 1366 × 768 screen with the worklist empty, as measured under
    Xvfb on the demo: 1366 × 538; up to eight rows (F5's advice wrapped) and the button."""
    page, tasks = _review(qtbot, _F5Gone(count), "follow-up 1")
    page.propose()
    tasks.finish()
    area = _shown(page, (1366, 538))
    qtbot.addWidget(area)
    qtbot.waitExposed(area)
    qtbot.wait(50)
    review, viewport = page.review, area.viewport()
    assert review.table.rowCount() == count
    assert _rows_shown(review.table) == list(range(count))
    button = review.confirm_button
    assert button.mapTo(viewport, button.rect().topLeft()).y() >= 0
    assert button.mapTo(viewport, button.rect().bottomLeft()).y() < viewport.height()
    assert review.baseline.graphics.parentWidget().height() >= VIEWS_FLOOR_PX
    page.setParent(None)


def test_the_proposals_message_begins_with_a_capital_letter(qtbot: Any) -> None:
    from test_followup_page_links_and_rows import _Propagation

    page, tasks = _review(qtbot, _Propagation(), "follow-up 1")
    page.propose()
    tasks.finish()
    message = page.message.text()
    assert message.startswith("Follow-up 1: 7 of 7 lesion(s) found; check each proposal"), message
