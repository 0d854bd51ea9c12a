"""The procedure form says, beside "Product", why no bead product can be chosen."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from pytestqt.qtbot import QtBot

from planning_seed import seed_case
from tace_planner.ui.panels.procedure_panel import ProcedurePanel


def _broken_catalogue(services: Any) -> None:
    folder = services.settings.data_dir / "parameters"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bead_catalogue.json").write_text("{ not json", encoding="utf-8")


def test_an_unreadable_catalogue_is_said_at_the_product_field(
    qtbot: QtBot, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        "tace_planner.ui.panels.procedure_panel.show_error",
        lambda parent, title, error: shown.append(f"{title}: {error}"),
    )
    case_pk = seed_case(services)
    _broken_catalogue(services)
    panel = ProcedurePanel(services.procedures)  # the catalogue planning uses (bootstrap)
    qtbot.addWidget(panel)
    label = panel.errors["product_code"]
    assert label.isVisibleTo(panel)
    assert "bead_catalogue.json" in label.text()
    assert "\n" not in label.text()  # one line
    assert panel.fields["product_code"].count() == 1  # only "—": nothing to choose
    # still said once a case is open and the form is checked again
    panel.set_case(case_pk)
    panel.new_unplanned()
    panel.refresh_preview()
    assert label.isVisibleTo(panel)
    assert "no bead product to choose from" in label.text()
    assert shown == []  # the app keeps running, no message box


def test_the_delivered_line_names_the_loaded_dose_once() -> None:
    """It read "Delivered: 50.0 mg = loaded 50 mg × fraction 1 (loaded 50.0 mg)"."""
    from types import SimpleNamespace

    from tace_planner.domain.procedure_dose import delivered_explanation
    from tace_planner.domain.procedure_record import record_from_json
    from tace_planner.ui.panels.procedure_form import delivered_line

    record = record_from_json({"loaded_mg": 50, "delivered_fraction": 1})
    draft = SimpleNamespace(
        loaded_mg=50.0,
        delivered_mg=50.0,
        problems=(),
        planned=None,
        delivered_explanation=delivered_explanation(record),
    )
    assert delivered_line(draft) == "Delivered: 50.0 mg = loaded 50 mg × fraction 1"
