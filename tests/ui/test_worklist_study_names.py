"""The worklist names each study as people know it (description, modality, date), never by
its Study Instance UID (pytest-qt, offscreen, real follow-up service)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytest.importorskip("PySide6")

from followup_seed import add_study, scheduled_course, sign_tace

pytestmark = pytest.mark.db
D = dt.date
TODAY = D(2026, 12, 2)


def _describe(factory: Any, uid: str, description: str, modalities: tuple[str, ...]) -> None:
    """Give the imported study its description and series of these modalities."""
    from tace_planner.store.models import SeriesRow, StudyRow

    with factory() as session:
        study = session.query(StudyRow).filter_by(study_uid=uid).one()
        study.description = description
        for n, modality in enumerate(modalities, start=1):
            session.add(SeriesRow(study_pk=study.id, series_uid=f"{uid}.{n}", modality=modality))
        session.commit()


def test_the_study_column_shows_description_modality_and_date_not_the_uid(
    qtbot: Any, services: Any
) -> None:
    from tace_planner.ui.panels.worklist_panel import COLUMNS, WorklistPanel

    study_column = COLUMNS.index("Study")
    factory = services.session_factory
    case, followups = scheduled_course(factory, "S1", today=TODAY)
    linked_uid, proposed_uid = "2.25.305312345678901234567890", "2.25.305398765432109876543210"
    add_study(factory, "S1", linked_uid, D(2026, 5, 11))
    _describe(factory, linked_uid, "CT abdomen 3 phases", ("SEG", "CT"))  # the SEG is no imaging
    followups.confirm_match(linked_uid)
    sign_tace(factory, case, D(2026, 10, 5))  # a repeat TACE: its first follow-up is due now
    followups.sync_case(case)
    add_study(factory, "S1", proposed_uid, D(2026, 12, 1))
    _describe(factory, proposed_uid, "MRI liver", ("MR",))

    panel = WorklistPanel(followups)
    qtbot.addWidget(panel)
    panel.set_category("all")
    texts = {
        panel.table.item(row, COLUMNS.index("Timepoint")).text(): panel.table.item(
            row, study_column
        ).text()
        for row in range(panel.table.rowCount())
    }
    assert texts["TACE 1 follow-up 1"] == "CT abdomen 3 phases · CT · 2026-05-11"
    assert texts["TACE 2 follow-up 1"] == "proposed: MRI liver · MR · 2026-12-01"
    shown = " ".join(texts.values())
    assert "2.25." not in shown  # no reader knows a study by its UID

    row = next(
        r
        for r in range(panel.table.rowCount())
        if panel.table.item(r, COLUMNS.index("Timepoint")).text() == "TACE 2 follow-up 1"
    )
    panel.table.selectRow(row)
    panel.link_button.click()
    assert panel.message.text() == "Study MRI liver · MR · 2026-12-01 linked to TACE 2 follow-up 1"
