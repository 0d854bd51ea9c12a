"""Lobe volumes are not "0.0 cm³" while foci have no Couinaud segment (pytest-qt, offscreen).

The reviewer's plan read right, left and caudate lobe "0.0 cm³" with V_mts 93.7 cm³: the
foci had no segment yet ("F1 (?)" in the why). A lobe that holds no placed focus now
reads "—", one that holds some reads "≥ …", and a line under the lobes names the foci
without a segment.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

pytestmark = [pytest.mark.ui, pytest.mark.db]

LOBES = ("right", "left", "caudate")


def _clear_segments(services: Any, case_pk: int, names: set[str] | None = None) -> list[str]:
    """Take the Couinaud segment off the case's foci (``names``, or all); their names."""
    from tace_planner.store.models import LesionRow

    with services.session_factory() as session:
        rows = session.query(LesionRow).filter_by(case_pk=case_pk, kind="focus").all()
        cleared = []
        for row in sorted(rows, key=lambda r: r.id):
            if names is None or row.name in names:
                row.couinaud_segment = ""
                cleared.append(row.name)
        session.commit()
    return cleared


def _panel(qtbot: Any, planning: Any, case_pk: int) -> Any:
    from tace_planner.ui.panels.plan_panel import PlanPanel

    panel = PlanPanel(planning)
    qtbot.addWidget(panel)
    panel.set_case(case_pk)
    return panel


def _figure(panel: Any, key: str) -> str:
    return panel._figure_labels[key].text()


def test_lobes_read_unknown_while_no_focus_has_a_segment(
    qtbot: Any, services: Any, planning_case: tuple[Any, int]
) -> None:
    planning, case_pk = planning_case
    names = _clear_segments(services, case_pk)
    panel = _panel(qtbot, planning, case_pk)
    assert panel.proposal is not None
    assert panel.proposal.figures["tumour_volume_cm3"] > 0
    for lobe in LOBES:
        assert _figure(panel, f"tumour_volume_cm3.{lobe}") == "—"
    assert not panel.lobes_note.isHidden()
    assert panel.lobes_note.text() == "segment not assigned: " + ", ".join(names)
    tip = panel._figure_labels["tumour_volume_cm3.left"].toolTip()
    assert "segment not assigned" in tip


def test_a_lobe_with_placed_foci_reads_at_least_while_others_are_unplaced(
    qtbot: Any, services: Any, planning_case: tuple[Any, int]
) -> None:
    planning, case_pk = planning_case
    full = _panel(qtbot, planning, case_pk)
    right = full.proposal.figures["tumour_volume_cm3.right"]
    assert right > 0
    assert full.lobes_note.isHidden()
    assert _figure(full, "tumour_volume_cm3.right") == f"{right:.1f} cm³"
    # the left lobe's foci lose their segment: the right lobe may hold them too
    left_foci = {
        f.name for f in full.proposal.burden.foci if f.couinaud_segment in {"II", "III", "IV"}
    }
    left_foci |= {f.name for f in full.proposal.burden.foci if f.couinaud_segment.startswith("IV")}
    assert left_foci
    cleared = _clear_segments(services, case_pk, left_foci)
    panel = _panel(qtbot, planning, case_pk)
    assert _figure(panel, "tumour_volume_cm3.right") == f"≥ {right:.1f} cm³"
    assert _figure(panel, "tumour_volume_cm3.left") == "—"
    assert panel.lobes_note.text() == "segment not assigned: " + ", ".join(cleared)
