"""The procedure log against its plan: one delivered dose, a shortfall shown, the case named,
and the products of the catalogue planning uses.

The case is the phantom's baseline with an approved plan (``planning_seed``): session 1
loads 100 mg in two vials (100 + 0 mg) and expects all of it delivered.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from planning_seed import PATIENT_INPUTS, approve_plan, seed_case
from tace_planner.cli_procedures import _print
from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.planning import PlanningService
from tace_planner.services.procedures import ProcedureService

pytestmark = pytest.mark.db

CATALOGUE = Path(__file__).parents[2] / "resources" / "parameters" / "bead_catalogue.json"
SIGNABLE = {
    "performed_on": "2026-03-16",
    "operator": "Dr A",
    "lot": "L7",
    "expiry": "2027-02-01",
    "endpoint": "near-stasis",
    "lidocaine_mg": 40,
}


@pytest.fixture
def approved(services: Any) -> tuple[Any, int, Any]:
    case_pk = seed_case(services)
    planning = PlanningService(services.session_factory, "dr test", protocol=services.protocol)
    planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
    return approve_plan((planning, case_pk))


@pytest.fixture
def procedures(services: Any) -> ProcedureService:
    return ProcedureService(
        services.session_factory,
        "dr test",
        clock=lambda: dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC),
    )


def _signed(procedures: ProcedureService, approved: Any, fraction: float) -> Any:
    _, case_pk, plan = approved
    item = procedures.log(case_pk, {**SIGNABLE, "delivered_fraction": fraction}, plan_pk=plan.pk)
    return procedures.sign(item.pk)


def test_the_procedure_counts_the_dose_the_plan_expects(
    procedures: ProcedureService, approved: Any
) -> None:
    """The reviewer's record: 100 + 0 mg, 60 % injected = vial 1 whole = 100 mg, as planned."""
    item = _signed(procedures, approved, 0.6)
    assert item.planned is not None
    assert item.planned.vial_loads_mg == (100.0, 0.0)
    assert item.planned.expected_delivered_mg == pytest.approx(100.0)
    assert item.delivered_mg == pytest.approx(item.planned.expected_delivered_mg)


def test_the_note_shows_a_shortfall_against_the_plan_never_done_as_planned(
    procedures: ProcedureService, approved: Any
) -> None:
    pytest.importorskip("PySide6")
    from tace_planner.ui.procedure_note import document_title, procedure_note_html

    item = _signed(procedures, approved, 0.3)  # 60 % of vial 1 = 60 mg
    assert item.delivered_mg == pytest.approx(60.0)
    assert item.differences == ()  # information, not a difference needing a reason
    text = procedure_note_html(item).replace("\u00a0", " ")  # no-break: number and unit
    assert "Delivered 60 mg of 100 mg expected (60 %)" in text
    assert "done as planned" not in text
    assert "Martin, Cardiovasc Intervent Radiol 2010" in text
    # the case as the plan sheet names it, no database numbers
    assert "Procedure #" not in text
    assert f"(#{item.case_pk})" not in text
    assert f"plan {item.plan_pk} " not in text
    assert "DEBIRI course" in text
    assert "P-1" in text
    # two versioned files are named, not two bare "parameters v" numbers
    assert "procedure checks v1" in text
    assert "parameters v" not in text
    title = document_title(item)
    assert title.startswith("TACE 1 — ")
    assert "DEBIRI course" in title
    assert f"case {item.case_pk}" not in title


def test_the_note_says_done_as_planned_only_when_it_was(
    procedures: ProcedureService, approved: Any
) -> None:
    pytest.importorskip("PySide6")
    from tace_planner.ui.procedure_note import procedure_note_html

    text = procedure_note_html(_signed(procedures, approved, 1.0)).replace("\u00a0", " ")
    assert "None: done as planned." in text
    assert "Delivered 100 mg of 100 mg expected (100 %)" in text


def test_the_cli_names_the_case_not_its_database_number(
    procedures: ProcedureService, approved: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    item = _signed(procedures, approved, 0.3)
    _print(item)
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "of case" not in first
    assert f"(procedure {item.pk}" not in first
    assert "DEBIRI course" in first
    assert "[P-1]" in first
    assert "approved plan version 1, session 1" in first
    assert "Delivered 60 mg of 100 mg expected (60 %)" in out
    # the plan's bead volume reaches the record: beads said in mL, not in vials
    assert "beads injected 1.2 of 4 mL planned (30 %)" in out.replace("\u00a0", " ")
    assert item.to_json()["case_id"] == item.case_pk  # the JSON keys are unchanged


def _institution_catalogue(services: Any, data: dict[str, Any] | str) -> None:
    folder = services.settings.data_dir / "parameters"
    folder.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data)
    (folder / "bead_catalogue.json").write_text(text, encoding="utf-8")


def test_the_form_offers_the_products_planning_offers(services: Any) -> None:
    data = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    local = json.loads(json.dumps(data["products"][0]))
    local.update(code="local_bead", name="Local Bead 100–300 µm")
    data["products"].append(local)
    _institution_catalogue(services, data)
    offered = services.procedures.products()
    assert ("local_bead", "Local Bead 100–300 µm") in offered
    assert [c for c, _ in offered] == [p.code for p in services.planning.catalogue.products]


def test_an_unreadable_institution_catalogue_is_said_in_one_line(services: Any) -> None:
    _institution_catalogue(services, "{ not json")
    with pytest.raises(InvalidInputError) as caught:
        services.procedures.products()
    message = str(caught.value)
    assert "bead_catalogue.json" in message
    assert "\n" not in message
