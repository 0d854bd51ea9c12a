"""The beads injected against the plan's bead volume: a 60 % injection of a plan loaded
100 + 0 mg delivers the 100 mg expected, yet 2.4 of 4 mL of beads went in — information
beside the dose, never "as planned"."""

from __future__ import annotations

import pytest

from tace_planner.domain.dosing_kernel import load_vials
from tace_planner.domain.procedure_dose import delivered_dose_mg
from tace_planner.domain.procedure_plan import (
    PlannedSession,
    delivery_against_plan,
    prefill_from_session,
)


def _session(*, volumes: bool = True) -> PlannedSession:
    loading = load_vials(
        beads_ml=4.0,
        vial_ml=2.0,
        loading_mg_per_ml=50.0,
        capacity_mg_per_ml=50.0,
        session_limit_mg=100.0,
    )
    assert loading.loads_mg == (100.0, 0.0)  # the session limit leaves vial 2 unloaded
    return PlannedSession(
        plan_pk=1,
        plan_version=1,
        number=1,
        territory_label="right lobe",
        segments=("V", "VI", "VII", "VIII"),
        product_code="dc_bead",
        product_name="DC Bead",
        vials=loading.vials,
        vial_loads_mg=loading.loads_mg,
        loaded_mg=loading.loaded_mg,
        expected_delivered_mg=loading.expected_delivered_mg,
        beads_ml=loading.beads_ml if volumes else None,
        prepared_beads_ml=loading.prepared_ml if volumes else None,
    )


def test_the_reviewers_record_shows_the_beads_left() -> None:
    session = _session()
    record = prefill_from_session(session, delivered_fraction=0.6)
    delivered = delivered_dose_mg(record)
    assert delivered == pytest.approx(100.0)  # vial 1 whole: the dose is as expected
    against = delivery_against_plan(delivered, session, record.delivered_fraction)
    assert against is not None
    assert not against.dose_material
    assert against.beads_material
    assert against.material  # so never "done as planned"
    assert against.beads_text == "Beads injected 2.4 of 4 mL planned (60 %)"
    assert against.text == (
        "Delivered 100 mg of 100 mg expected (100 %); beads injected 2.4 of 4 mL planned (60 %)"
    )


def test_all_beads_injected_adds_nothing() -> None:
    against = delivery_against_plan(100.0, _session(), 1.0)
    assert against is not None
    assert not against.material
    assert against.text == "Delivered 100 mg of 100 mg expected (100 %)"
    near = delivery_against_plan(100.0, _session(), 0.97)  # within the 5 % default
    assert near is not None
    assert not near.material


def test_without_the_plans_bead_volume_the_vials_are_counted() -> None:
    """Records made before the plan's bead volume was kept: the prepared vials instead."""
    against = delivery_against_plan(100.0, _session(volumes=False), 0.6)
    assert against is not None
    assert against.material
    assert against.beads_text == "Beads injected 1.2 of 2 vials prepared (60 %)"


def test_no_fraction_no_bead_line() -> None:
    against = delivery_against_plan(100.0, _session(), None)
    assert against is not None
    assert against.beads_text == ""
    assert not against.material


def test_the_bead_volumes_survive_the_json_round_trip() -> None:
    session = _session()
    again = PlannedSession.from_json(session.to_json())
    assert again.beads_ml == pytest.approx(4.0)
    assert again.prepared_beads_ml == pytest.approx(4.0)
    old = {k: v for k, v in session.to_json().items() if "beads" not in k}
    assert PlannedSession.from_json(old).beads_ml is None
