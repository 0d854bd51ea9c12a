"""The line above the viewer: shortened to fit, the series and visit kept, the rest in the
tooltip (it was cut mid-number, "2.50 × 0.78 × 0.", at 1366 and 1600 px)."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from tace_planner.ui.view_title import ViewTitleLabel, shortened

TITLE = (
    "Abdomen portal venous 2.5mm · baseline, 2026-03-02 — 69 × 512 × 512 voxels, "
    "2.50 × 0.78 × 0.78 mm"
)
HEAD = "Abdomen portal venous 2.5mm · baseline, 2026-03-02"


def test_the_forms_drop_the_grid_from_the_end() -> None:
    assert shortened(TITLE) == [
        TITLE,
        f"{HEAD} — 69 × 512 × 512 voxels",
        HEAD,
    ]
    assert shortened(f"{TITLE} (loading…)")[1] == f"{HEAD} — 69 × 512 × 512 voxels (loading…)"
    assert shortened("Loading cancelled") == ["Loading cancelled"]


@pytest.mark.parametrize("room", ["whole", "voxels", "head", "less"])
def test_the_label_shows_what_fits_and_keeps_the_whole_text(qtbot: QtBot, room: str) -> None:
    label = ViewTitleLabel()
    qtbot.addWidget(label)
    metrics = label.fontMetrics()
    width = {
        "whole": metrics.horizontalAdvance(TITLE) + 20,
        "voxels": metrics.horizontalAdvance(f"{HEAD} — 69 × 512 × 512 voxels") + 20,
        "head": metrics.horizontalAdvance(HEAD) + 20,
        "less": metrics.horizontalAdvance(HEAD) // 2,
    }[room]
    label.resize(width, 30)
    label.setText(TITLE)
    shown = label.shown_text()
    assert label.text() == TITLE  # what the window and the tests read
    assert metrics.horizontalAdvance(shown) <= width
    if room == "whole":
        assert shown == TITLE
        assert label.toolTip() == ""
        return
    assert label.toolTip() == TITLE  # the spacing (and all) in the tooltip
    assert "0.78 × 0." not in shown  # never cut inside a number
    if room == "less":
        assert shown.startswith("Abdomen portal")
        assert shown.endswith("…")
    else:
        assert shown.startswith(HEAD)


@pytest.mark.parametrize("width", [1366, 1600])
def test_the_main_window_title_fits_its_column(qtbot: QtBot, services: object, width: int) -> None:
    from tace_planner.ui.main_window import MainWindow

    window = MainWindow(services)
    qtbot.addWidget(window)
    try:
        window.resize(width, 768)
        window.show()
        qtbot.waitExposed(window)
        title = window.view_title
        title.setText(TITLE)
        shown = title.shown_text()
        assert title.fontMetrics().horizontalAdvance(shown) <= title.contentsRect().width()
        assert shown.startswith(HEAD)
        if shown != TITLE:
            assert title.toolTip() == TITLE
    finally:
        window.close()
