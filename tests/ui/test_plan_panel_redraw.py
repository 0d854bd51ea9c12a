"""A recomputed plan replaces the old one on screen: nothing of the old result stays drawn.

The reviewer deleted a focus with the Lesions tab in front, then brought the Treatment
plan tab forward: every banner was drawn twice and a session's tumour volume showed
over the old one. The old widgets were only ``deleteLater``-ed: until Qt's event loop
deleted them they stayed visible at their old places. Processing events (as a script,
a test or a busy loop does) never deletes them, so the tests below only process events.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from tace_planner.services.planning import PlanningService
from tace_planner.ui.panels.plan_panel import PlanPanel


@pytest.fixture
def panel(qtbot: QtBot, planning_case: tuple[PlanningService, int]) -> PlanPanel:
    service, case_pk = planning_case
    widget = PlanPanel(service)
    qtbot.addWidget(widget)
    widget.resize(520, 900)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_case(case_pk)
    assert len(widget.proposal.sessions) == 2
    return widget


def _shown(panel: PlanPanel, widgets: list[QWidget]) -> list[QWidget]:
    """The widgets a user sees in the panel (shown, not merely alive)."""
    return [w for w in widgets if w.isVisibleTo(panel)]


def _banners_on_screen(panel: PlanPanel) -> list[QWidget]:
    labels = panel.findChildren(QLabel)
    return _shown(panel, [b for b in labels if b.objectName().startswith("banner:")])


def _session_numbers_on_screen(panel: PlanPanel, key: str) -> list[QWidget]:
    return _shown(panel, [w for w in panel.findChildren(QLabel) if w.objectName() == key])


def test_banners_and_session_numbers_are_drawn_once_after_a_recomputation(
    panel: PlanPanel, planning_case: tuple[PlanningService, int]
) -> None:
    _, case_pk = planning_case
    advisories = len(panel.proposal.advisories)
    assert len(_banners_on_screen(panel)) == advisories
    # the lesions changed while the dock was behind another tab, then it comes forward
    panel.hide()
    panel.set_case(case_pk)
    panel.show()
    QApplication.processEvents()
    assert len(_banners_on_screen(panel)) == advisories
    assert _banners_on_screen(panel) == [b for b in panel.banners if b.isVisibleTo(panel)]
    for key in ("value:session2.tumour_volume_cm3", "value:session1.beads_ml"):
        assert len(_session_numbers_on_screen(panel, key)) == 1, key
    headers = [w for w in panel.findChildren(QLabel) if w.objectName() == "session_header:2"]
    assert len(_shown(panel, headers)) == 1


def test_a_recomputation_in_front_draws_each_banner_once(panel: PlanPanel) -> None:
    panel.field_edits["weight_kg"].setText("75")
    panel.recompute()
    QApplication.processEvents()
    assert len(_banners_on_screen(panel)) == len(panel.proposal.advisories)
    assert len(_session_numbers_on_screen(panel, "value:session1.vials")) == 1
