"""The procedure note's wording: the signature said once, no dash for a value not entered,
no line break between a number and its unit, the beads left beside a dose "as expected",
and the plan sheet naming a vial that carries no drug."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PySide6")

from tace_planner.domain.dosing_kernel import load_vials
from tace_planner.domain.procedure_plan import PlannedSession, prefill_from_session
from tace_planner.services.procedure_dto import RevisionSummary

NBSP = "\u00a0"


def _session(volumes: bool) -> PlannedSession:
    loading = load_vials(beads_ml=4.0, vial_ml=2.0, loading_mg_per_ml=50.0,
                         capacity_mg_per_ml=50.0, session_limit_mg=100.0)  # fmt: skip
    beads = {"beads_ml": loading.beads_ml, "prepared_beads_ml": loading.prepared_ml}
    return PlannedSession(
        plan_pk=1, plan_version=1, number=1, territory_label="right lobe",
        segments=("V", "VI", "VII", "VIII"), product_code="dc_bead", product_name="DC Bead",
        vials=loading.vials, vial_loads_mg=loading.loads_mg, loaded_mg=loading.loaded_mg,
        expected_delivered_mg=loading.expected_delivered_mg, **(beads if volumes else {}),
    )  # fmt: skip


def _item(fraction: float | None = 0.6, volumes: bool = False, **values: Any) -> SimpleNamespace:
    from tace_planner.domain.procedure_dose import delivered_dose_mg, loaded_dose_mg

    session = _session(volumes)
    record = prefill_from_session(
        session, performed_on=dt.date(2026, 3, 16), delivered_fraction=fraction,
        lidocaine_mg=40.0, endpoint="near-stasis", **values,
    )  # fmt: skip
    signed = RevisionSummary(
        revision=1, status="signed", delivered_mg=delivered_dose_mg(record),
        created_by="dr.tour", created_at=dt.datetime(2026, 3, 16, 9, tzinfo=dt.UTC),
        signed_by="dr.tour", signed_at=dt.datetime(2026, 3, 16, 10, tzinfo=dt.UTC),
    )  # fmt: skip
    return SimpleNamespace(
        record=record, planned=session, number=1, status="signed", is_latest=True,
        revision=1, parameters_version="1", patient_id="P-1", patient_name="Demo^Phantom",
        case_title="DEBIRI course", loaded_mg=loaded_dose_mg(record),
        delivered_mg=delivered_dose_mg(record), differences=(), risk_factors=(),
        revisions=(signed,),
    )  # fmt: skip


def _html(item: Any) -> str:
    from tace_planner.ui.procedure_note import procedure_note_html

    return procedure_note_html(item)


def _plain(text: str) -> str:
    return text.replace(NBSP, " ")


def test_the_signature_is_said_once() -> None:
    text = _html(_item())
    assert "Revision 1, signed by dr.tour on 2026-03-16 10:00" in _plain(text)
    assert "signed, signed" not in text


def test_a_value_not_entered_prints_no_dash() -> None:
    text = _plain(_html(_item()))
    row = re.search(r"Suspension injected</b></td><td>(.*?)</td>", text)
    assert row is not None
    assert row.group(1) == "fraction 60 %"  # no "—;" for the volume not entered
    lidocaine = re.search(r"IA lidocaine</b></td><td>(.*?)</td>", text)
    assert lidocaine is not None
    assert lidocaine.group(1) == "40 mg"  # no dash for the timing not given
    timed = _plain(_html(_item(lidocaine_timing="before embolisation", injected_ml=6.0)))
    assert "IA lidocaine</b></td><td>40 mg before embolisation</td>" in timed
    assert "Suspension injected</b></td><td>6.0 mL; fraction 60 %</td>" in timed


def test_a_number_and_its_unit_never_part_at_a_line_end() -> None:
    text = _html(_item(fraction=1.0))
    assert f"(100{NBSP}%)" in text
    assert f"60{NBSP}%" in _html(_item())
    assert f"40{NBSP}mg" in text
    assert re.search(r"\d (%|mg\b|mL\b)", text) is None


def test_beads_left_are_never_done_as_planned() -> None:
    older = _plain(_html(_item(fraction=0.6)))  # a record without the plan's bead volume
    assert "done as planned" not in older
    assert "beads injected 1.2 of 2 vials prepared (60 %)" in older
    text = _plain(_html(_item(fraction=0.6, volumes=True)))
    assert "done as planned" not in text
    assert "beads injected 2.4 of 4 mL planned (60 %)" in text
    assert "Delivered 100 mg of 100 mg expected (100 %)" in text
    assert "Martin, Cardiovasc Intervent Radiol 2010" in text
    assert "None: done as planned." in _plain(_html(_item(fraction=1.0)))


def test_the_plan_sheet_names_a_vial_that_carries_no_drug() -> None:
    from tace_planner.ui.plan_sheet import vial_loads_text

    assert vial_loads_text((100.0, 0.0)) == "vial 1: 100, vial 2: 0 — unloaded beads"
    assert vial_loads_text((50.0, 50.0)) == "50 + 50"
    assert vial_loads_text((100.0,)) == "100"
