"""The Lesions dock's *Values at* lists the timepoints with imaging, not the scheduled
follow-ups still awaited, each named as the rest of the app names it (pytest-qt,
offscreen).

Seen in review: on the demo course the chooser listed every slot of the schedule, slots
4–12 not yet imaged among them, each with nothing to show.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from test_visit_names_ui import PLACED, _seed

pytestmark = pytest.mark.db


def _shown(panel: Any) -> list[str]:
    box = panel.timepoint_box
    return [box.itemText(i) for i in range(box.count())]


def _panel(qtbot: Any, services: Any) -> tuple[Any, int, Any]:
    from tace_planner.ui.panels.lesion_panel import LesionPanel

    case, followups = _seed(services)
    followups.sync_case(case)  # the CT takes its slot, the later slots stay awaited
    panel = LesionPanel(services.contouring, choices=followups.follow_up_choices)
    qtbot.addWidget(panel)
    panel.set_case(case)
    return panel, case, followups


def test_values_at_lists_only_the_timepoints_with_imaging(qtbot: Any, services: Any) -> None:
    panel, case, followups = _panel(qtbot, services)
    awaited = [c for c in followups.follow_up_choices(case) if not c.ready]
    assert len(awaited) >= 3  # the schedule's later slots, not imaged yet
    assert _shown(panel) == ["baseline (2026-03-02)", f"{PLACED} (2026-05-11)"]
    assert panel.timepoint_box.isEnabled()
    panel.timepoint_box.setCurrentIndex(1)
    assert panel.timepoint_pk is not None
    assert panel.burden_label.text()  # its values (none contoured) are said


def test_the_timepoint_shown_stays_listed_even_without_imaging(qtbot: Any, services: Any) -> None:
    panel, case, followups = _panel(qtbot, services)
    awaited = next(c for c in followups.follow_up_choices(case) if not c.ready)
    panel.show_timepoint(awaited.pk)  # e.g. a view of it made active
    assert panel.timepoint_pk == awaited.pk
    assert _shown(panel)[-1] == awaited.visit_name
    assert panel.timepoint_box.currentText() == awaited.visit_name
    panel.show_timepoint(None)  # back to the baseline: the awaited one goes
    assert awaited.visit_name not in _shown(panel)
    assert len(_shown(panel)) == 2
