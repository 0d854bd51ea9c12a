"""Issue 10 through the real PlanningService on SQLite: a plan cannot hide a missing volume.

What this file checks, each against numbers worked out by hand in the comments
(volumes are the phantom's baseline truth, ``phantom_truth('full', 0)``):

* the review's F = 2.0 % case — F1 (82.448 cm³) with a lesion row but no
  measurement (or a contour without a measurement) and F2 on a series whose
  geometry is "warning" — is **blocked** with a message naming F1; once F1 is
  measured the plan uses every focus (F = 113.812 / 1572.703 = 7.24 %) and F2's
  strong warning must be acknowledged before approval;
* a focus or a liver on a series whose geometry is "unmeasurable" blocks; a lesion
  contoured only at a follow-up is not a baseline focus and blocks nothing;
* bilirubin 5 mg/dL with F > 50 % is a contraindication: approval needs the
  physician's reason, which is stored; the default plan loads ≤ 100 mg a session;
* the fixed-dose model with a 4 mL vial loads 100 mg in one vial, all delivered;
* the whole-vial step (institution limit 200 mg) is shown and must be acknowledged;
* Couinaud spellings stored on lesions ("Seg. 6", "VI", "6", "IVa", "IVA") reach
  one segment and one lobe in the burden, the figures and the territories.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select

from planning_seed import (
    MEASURED_AT,
    PATIENT_INPUTS,
    add_baseline_study,
    add_contour,
    add_lesion,
    add_measurement,
    add_series,
    seed_case,
)
from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.planning import PlanningService
from tace_planner.store.models import (
    LesionRow,
    MeasurementRow,
    SegmentationRow,
    SeriesRow,
    TimepointRow,
)

pytestmark = pytest.mark.db

IMAGED_ON = dt.date(2026, 3, 2)

# Phantom baseline truth (tests/unit/test_dosing.py checks these against the phantom).
LIVER_CM3 = 1572.703
F1_CM3 = 82.448
# F1 82.448 + F2 12.667 + F3 2.572 + F4 4.059 + F5 0.180 + F6 4.849 + F7 7.037 = 113.812 cm³
ALL_FOCI_CM3 = 113.812
WITHOUT_F1_CM3 = ALL_FOCI_CM3 - F1_CM3  # 31.364 cm³ → F = 1.99 %, the review's "2.0 %"
F_ALL_PERCENT = 113.812 / 1572.703 * 100  # = 7.2367 %


@pytest.fixture
def planning(services: Any) -> PlanningService:
    return PlanningService(services.session_factory, "dr test", protocol=services.protocol)


def _planning_with(services: Any, **values: float) -> PlanningService:
    """The service with some packaged parameter values changed (an institution's limits)."""
    params = PlanningService(services.session_factory, "x").parameters
    return PlanningService(
        services.session_factory,
        "dr test",
        protocol=services.protocol,
        parameters=params.with_values(**values),
    )


def _codes(advisories: Any) -> dict[str, str]:
    return {a.code: a.severity for a in advisories}


def _to_acknowledge(advisories: Any) -> list[str]:
    return [a.code for a in advisories if a.severity in ("warning", "strong_warning")]


# ---------------------------------------------------------------------------
# Seeding: rows written the way contouring writes them
# ---------------------------------------------------------------------------


def _new_case(services: Any, patient_id: str = "P-T") -> tuple[int, int, int]:
    """A patient and a case with a baseline CT study; returns (case, timepoint, study) pks."""
    with services.session_factory() as session:
        case, timepoint, study = add_baseline_study(
            session,
            patient_id,
            imaged_on=IMAGED_ON,
            name="Trust^Test",
            study_uid=f"1.2.9.{patient_id}",
        )
        session.commit()
        return case.id, timepoint.id, study.id


def _add_series(services: Any, study_pk: int, uid: str, status: str = "ok") -> int:
    with services.session_factory() as session:
        series = add_series(session, study_pk, uid, imaged_on=IMAGED_ON, geometry_status=status)
        session.commit()
        return series.id


def _add_lesion(services: Any, case_pk: int, name: str, segment: str = "", **where: Any) -> int:
    """A lesion; with a timepoint and series a contour; with ``volume_cm3`` a measurement
    (the keywords of :func:`planning_seed.add_lesion`)."""
    with services.session_factory() as session:
        lesion = add_lesion(session, case_pk, name, segment, **where)
        session.commit()
        return lesion.id


def _measured_case(
    services: Any, series_uid: str, foci: dict[str, tuple[str, float]], liver_cm3: float = 1500.0
) -> int:
    """A new case whose baseline series holds a measured liver and the measured ``foci``
    (name → (Couinaud segment, volume cm³)); returns the case pk."""
    case_pk, timepoint_pk, study_pk = _new_case(services)
    where = {"timepoint_pk": timepoint_pk, "series_pk": _add_series(services, study_pk, series_uid)}
    _add_lesion(services, case_pk, "liver", kind="liver", volume_cm3=liver_cm3, **where)
    for name, (segment, volume_cm3) in foci.items():
        _add_lesion(services, case_pk, name, segment, volume_cm3=volume_cm3, **where)
    return case_pk


def _lesion(session: Any, case_pk: int, name: str) -> LesionRow:
    return session.scalars(
        select(LesionRow).where(LesionRow.case_pk == case_pk, LesionRow.name == name)
    ).one()


def _mask(session: Any, lesion: LesionRow) -> SegmentationRow:
    return session.scalars(
        select(SegmentationRow).where(SegmentationRow.lesion_pk == lesion.id)
    ).one()


def _phantom_case(services: Any, planning: PlanningService) -> int:
    """Every phantom baseline focus measured on one "ok" series (seed_case), good labs."""
    case_pk = seed_case(services, patient_id="P-F2")
    planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
    return case_pk


def _move_to_series(services: Any, case_pk: int, name: str, status: str) -> None:
    """Put a lesion's baseline contour on a second series of the study with ``status``."""
    with services.session_factory() as session:
        mask = _mask(session, _lesion(session, case_pk, name))
        study_pk = session.get(SeriesRow, mask.series_pk).study_pk
        uid = f"1.2.9.{case_pk}.{name}.{status}"
    series_pk = _add_series(services, study_pk, uid, status)
    with services.session_factory() as session:
        mask = _mask(session, _lesion(session, case_pk, name))
        mask.series_pk = series_pk
        session.commit()


def _set_measurement_trust(services: Any, case_pk: int, name: str, trust: str) -> None:
    """Mark a lesion's baseline measurement row with ``trust`` (its series stays as it is)."""
    with services.session_factory() as session:
        mask = _mask(session, _lesion(session, case_pk, name))
        measurement = session.scalars(
            select(MeasurementRow).where(MeasurementRow.segmentation_pk == mask.id)
        ).one()
        measurement.trust = trust
        session.commit()


def _unmeasure_f1(services: Any, case_pk: int, how: str) -> None:
    """F1 keeps its lesion row but loses its volume: its measurement, or its contour too."""
    with services.session_factory() as session:
        mask = _mask(session, _lesion(session, case_pk, "F1"))
        session.execute(delete(MeasurementRow).where(MeasurementRow.segmentation_pk == mask.id))
        if how == "no_contour":
            session.delete(mask)
        session.commit()


def _measure_f1(services: Any, case_pk: int) -> None:
    """Contour (if needed) and measure F1 at baseline: 82.448 cm³."""
    with services.session_factory() as session:
        lesion = _lesion(session, case_pk, "F1")
        masks = session.scalars(
            select(SegmentationRow).where(SegmentationRow.lesion_pk == lesion.id)
        ).all()
        if masks:
            mask = masks[0]
        else:
            timepoint = session.scalars(
                select(TimepointRow).where(
                    TimepointRow.case_pk == case_pk, TimepointRow.kind == "baseline"
                )
            ).one()
            series = session.scalars(select(SeriesRow).order_by(SeriesRow.id)).first()
            mask = add_contour(session, lesion.id, timepoint.id, series.id)
        later = MEASURED_AT + dt.timedelta(hours=1)
        add_measurement(session, mask.id, F1_CM3, method="manual", measured_at=later)
        session.commit()


# ---------------------------------------------------------------------------
# 1. The F = 2.0 % case
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["no_measurement", "no_contour"])
def test_the_two_percent_case_blocks_then_needs_the_untrusted_focus_acknowledged(
    services: Any, planning: PlanningService, how: str
) -> None:
    case_pk = _phantom_case(services, planning)
    _unmeasure_f1(services, case_pk, how)
    _move_to_series(services, case_pk, "F2", "warning")

    burden = planning.burden_inputs(case_pk)
    assert [u.name for u in burden.unmeasured] == ["F1"]  # listed, never dropped
    reason = {"no_measurement": "contoured, not measured", "no_contour": "not contoured"}[how]
    assert burden.unmeasured[0].reason == reason
    assert "F1" not in {f.name for f in burden.foci}
    assert {f.name: f.trust for f in burden.foci}["F2"] == "warning"  # trust survives the DTO
    assert burden.to_domain().foci[[f.name for f in burden.foci].index("F2")].trust == "warning"

    blocked = planning.propose(case_pk)
    assert blocked.blocked
    assert blocked.sessions == ()
    blocks = [a for a in blocked.advisories if a.severity == "block"]
    assert [a.code for a in blocks] == ["burden.unmeasured.F1"]
    assert "F1" in blocks[0].message
    assert "contour" in blocks[0].message  # says what to do
    # The review's plan rested on F = 31.364 / 1572.703 = 1.99 %: now nothing rests on it.
    assert blocked.figures["tumour_volume_cm3"] == pytest.approx(WITHOUT_F1_CM3, abs=1e-3)
    draft = planning.save_plan(blocked)
    with pytest.raises(InvalidInputError, match="F1"):
        planning.approve(draft.pk, _to_acknowledge(blocked.advisories))
    assert planning.get_plan(draft.pk).status == "draft"

    # F1 measured: the plan uses every focus, F = 113.812 / 1572.703 × 100 = 7.24 %.
    _measure_f1(services, case_pk)
    proposal = planning.propose(case_pk)
    assert not proposal.blocked
    assert proposal.figures["tumour_volume_cm3"] == pytest.approx(ALL_FOCI_CM3, abs=1e-3)
    assert proposal.figures["burden_percent"] == pytest.approx(F_ALL_PERCENT, abs=1e-3)
    assert proposal.figures["burden_percent"] == pytest.approx(7.2367, abs=1e-4)
    untrusted = next(a for a in proposal.advisories if a.code == "burden.untrusted.F2")
    assert untrusted.severity == "strong_warning"
    assert "F2" in untrusted.message
    assert not any(a.severity == "block" for a in proposal.advisories)

    draft = planning.save_plan(proposal)
    needed = [a.code for a in planning.warnings_to_acknowledge(draft.pk)]
    assert "burden.untrusted.F2" in needed
    without = [code for code in needed if code != "burden.untrusted.F2"]
    with pytest.raises(InvalidInputError, match=r"burden\.untrusted\.F2") as caught:
        planning.approve(draft.pk, without)
    assert caught.value.field == "acknowledged_warnings"
    assert planning.get_plan(draft.pk).status == "draft"
    approved = planning.approve(draft.pk, needed)
    assert approved.is_approved
    assert "burden.untrusted.F2" in approved.acknowledged


def test_a_warning_trust_on_the_measurement_row_is_kept_too(
    services: Any, planning: PlanningService
) -> None:
    # The worst of the measurement's trust and its series' geometry: series "ok",
    # measurement "warning" → F4 untrusted.
    case_pk = _phantom_case(services, planning)
    _set_measurement_trust(services, case_pk, "F4", "warning")
    proposal = planning.propose(case_pk)
    assert _codes(proposal.advisories)["burden.untrusted.F4"] == "strong_warning"
    assert not proposal.blocked


@pytest.mark.parametrize("where", ["series", "measurement"])
def test_an_unmeasurable_focus_blocks_and_is_named(
    services: Any, planning: PlanningService, where: str
) -> None:
    case_pk = _phantom_case(services, planning)
    if where == "series":
        _move_to_series(services, case_pk, "F2", "unmeasurable")
    else:
        _set_measurement_trust(services, case_pk, "F2", "unmeasurable")
    proposal = planning.propose(case_pk)
    assert proposal.blocked
    assert proposal.sessions == ()
    block = next(a for a in proposal.advisories if a.code == "burden.unmeasurable.F2")
    assert block.severity == "block"
    assert "F2" in block.message


def test_a_liver_on_an_unmeasurable_series_blocks(services: Any, planning: PlanningService) -> None:
    case_pk = _phantom_case(services, planning)
    _move_to_series(services, case_pk, "liver", "unmeasurable")
    proposal = planning.propose(case_pk)
    assert proposal.blocked
    assert _codes(proposal.advisories)["burden.unmeasurable.liver"] == "block"


def test_a_lesion_contoured_only_at_follow_up_is_not_a_baseline_focus(
    services: Any, planning: PlanningService
) -> None:
    case_pk = _phantom_case(services, planning)
    with services.session_factory() as session:
        baseline = session.scalars(
            select(TimepointRow).where(TimepointRow.case_pk == case_pk)
        ).one()
        follow_up = TimepointRow(
            case_pk=case_pk,
            kind="follow_up",
            label="follow-up 1",
            ordinal=1,
            imaged_on=IMAGED_ON + dt.timedelta(days=70),
        )
        session.add(follow_up)
        session.commit()
        follow_up_pk, baseline_pk = follow_up.id, baseline.id
        series_pk = session.scalars(select(SeriesRow.id)).first()
    # F9 (new at follow-up, measured there) and F10 (contoured at follow-up, not measured)
    _add_lesion(
        services, case_pk, "F9", "VI", timepoint_pk=follow_up_pk, series_pk=series_pk,
        volume_cm3=30.0,
    )  # fmt: skip
    _add_lesion(services, case_pk, "F10", "III", timepoint_pk=follow_up_pk, series_pk=series_pk)
    assert baseline_pk != follow_up_pk
    burden = planning.burden_inputs(case_pk)
    names = {f.name for f in burden.foci} | {u.name for u in burden.unmeasured}
    assert names == {"F1", "F2", "F3", "F4", "F5", "F6", "F7"}
    proposal = planning.propose(case_pk)
    assert not proposal.blocked
    # F is the baseline's: 113.812 / 1572.703 = 7.24 %, not (113.812 + 30) / 1572.703.
    assert proposal.figures["burden_percent"] == pytest.approx(F_ALL_PERCENT, abs=1e-3)


# ---------------------------------------------------------------------------
# 2. Bilirubin 5 mg/dL with F > 50 %: a contraindication that needs a reason
# ---------------------------------------------------------------------------


def test_bilirubin_with_burden_is_a_contraindication_approved_only_with_a_reason(
    services: Any, planning: PlanningService
) -> None:
    # Liver 1500 cm³, F1 800 cm³ in VI: F = 800 / 1500 = 53.3 % (> 50 %, ≤ 60 %).
    case_pk = _measured_case(services, "1.2.9.bili.1", {"F1": ("VI", 800.0)})
    planning.set_clinical_inputs(case_pk, **{**PATIENT_INPUTS, "bilirubin_mg_dl": 5.0})
    proposal = planning.propose(case_pk)
    assert proposal.figures["burden_percent"] == pytest.approx(800 / 1500 * 100)
    codes = _codes(proposal.advisories)
    assert codes["bilirubin.with_burden"] == "contraindication"
    assert "bilirubin.high" not in codes  # not only a warning any more
    assert codes["burden.above_threshold"] == "warning"
    assert not proposal.blocked
    # Default plan: 800 × 0.05 = 40 mL → 4 mL (max) → 2 vials; loaded held at 100 mg.
    (session,) = proposal.sessions
    assert (session.beads_ml, session.vials) == (4.0, 2)
    assert session.irinotecan_loaded_mg == pytest.approx(100.0)
    assert all(s.irinotecan_loaded_mg <= 100.0 + 1e-9 for s in proposal.sessions)

    draft = planning.save_plan(proposal)
    assert {a.code for a in planning.contraindications(draft.pk)} == {"bilirubin.with_burden"}
    needed = [a.code for a in planning.warnings_to_acknowledge(draft.pk)]
    with pytest.raises(InvalidInputError) as caught:
        planning.approve(draft.pk, needed)
    assert caught.value.field == "contraindication_reasons"
    with pytest.raises(InvalidInputError) as caught:
        planning.approve(draft.pk, needed, contraindication_reasons={"bilirubin.with_burden": " "})
    assert caught.value.field == "contraindication_reasons"  # a blank reason is no reason
    assert planning.get_plan(draft.pk).status == "draft"

    reason = "tumour board 2026-03-10: obstructive jaundice stented, bilirubin falling"
    approved = planning.approve(
        draft.pk,
        needed,
        contraindication_reasons={"bilirubin.with_burden": reason},
        expected_version=draft.version,
    )
    assert approved.is_approved
    assert approved.contraindications_overridden == {"bilirubin.with_burden": reason}
    assert planning.get_plan(draft.pk).contraindications_overridden == {
        "bilirubin.with_burden": reason
    }
    assert all(s.irinotecan_loaded_mg <= 100.0 + 1e-9 for s in approved.sessions)


def test_default_phantom_plan_never_loads_more_than_100_mg_a_session(
    services: Any, planning: PlanningService
) -> None:
    # Right+caudate 109.573 cm³ → 4 mL, 2 vials (could take 200 mg) → 100 mg; left 4.239 cm³
    # → 0.5 mL, 1 vial → 100 mg. The packaged limit is 100 mg (planning.json version 2).
    case_pk = _phantom_case(services, planning)
    assert planning.parameters.value("per_session_cap_mg") == 100.0
    for model in ("burden", "fixed"):
        proposal = planning.propose(case_pk, model=model)
        assert [s.irinotecan_loaded_mg for s in proposal.sessions] == pytest.approx([100.0, 100.0])
        assert not any("above" in a.code for a in proposal.advisories if a.code.startswith("dose."))


# ---------------------------------------------------------------------------
# 3. Fixed model with a 4 mL vial
# ---------------------------------------------------------------------------


def test_fixed_model_with_a_4_ml_vial_through_the_service(
    services: Any, planning: PlanningService
) -> None:
    # fixed 100 mg in 2 mL → ⌈2 / 4⌉ = 1 vial of 4 mL, all injected: 100 mg loaded, 4 mL,
    # 100 mg delivered (the old model gave 50 mg delivered).
    case_pk = _phantom_case(services, planning)
    proposal = planning.propose(case_pk, model="fixed", options={"vial_bead_volume_ml": 4.0})
    assert not proposal.blocked
    for session in proposal.sessions:
        assert (session.vials, session.beads_ml, session.prepared_beads_ml) == (1, 4.0, 4.0)
        assert session.vial_loads_mg == pytest.approx((100.0,))
        assert session.irinotecan_expected_delivered_mg == pytest.approx(100.0)
    # 4 mL × 20 mg/mL = 80 mg < 100 mg: the model refuses.
    refused = planning.propose(
        case_pk, model="fixed", options={"vial_bead_volume_ml": 4.0, "loading_mg_per_ml": 20.0}
    )
    assert refused.blocked
    assert _codes(refused.advisories)["model.fixed_dose_not_loadable"] == "block"


# ---------------------------------------------------------------------------
# 4. The whole-vial step, shown and acknowledged (institution limit 200 mg)
# ---------------------------------------------------------------------------


def test_whole_vial_step_is_shown_and_must_be_acknowledged(services: Any) -> None:
    planning = _planning_with(services, per_session_cap_mg=200.0)
    case_pk = _measured_case(services, "1.2.9.step.1", {"F1": ("VII", 40.01)})
    planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
    # 40.01 × 0.05 = 2.0005 mL → 2 vials → 2 × 2 mL × 50 = 200 mg loaded;
    # delivered = 100 + 0.0005 / 2 × 100 = 100.025 mg.
    proposal = planning.propose(case_pk)
    (session,) = proposal.sessions
    assert session.vials == 2
    assert session.irinotecan_loaded_mg == pytest.approx(200.0)
    assert session.irinotecan_expected_delivered_mg == pytest.approx(100.025)
    codes = _codes(proposal.advisories)
    assert codes["dose.whole_vial_step.s1"] == "info"
    assert codes["dose.loaded_above_warning.s1"] == "warning"
    draft = planning.save_plan(proposal)
    needed = [a.code for a in planning.warnings_to_acknowledge(draft.pk)]
    assert "dose.loaded_above_warning.s1" in needed
    with pytest.raises(InvalidInputError, match=r"dose\.loaded_above_warning\.s1"):
        planning.approve(draft.pk, [c for c in needed if c != "dose.loaded_above_warning.s1"])
    assert planning.approve(draft.pk, needed).is_approved


# ---------------------------------------------------------------------------
# 5. Couinaud spellings stored on lesions
# ---------------------------------------------------------------------------


def test_segment_spellings_on_lesions_reach_one_segment_and_lobe(
    services: Any, planning: PlanningService
) -> None:
    # ("Segment 6" itself does not fit the 8-character column: "Seg. 6" stands for it)
    spelled = {"A": ("Seg. 6", 10.0), "B": ("VI", 20.0), "C": ("6", 30.0)}
    spelled |= {"D": ("IVa", 5.0), "E": ("IVA", 7.0)}
    case_pk = _measured_case(services, "1.2.9.seg.1", spelled)
    planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
    domain = planning.burden_inputs(case_pk).to_domain()
    # VI: 10 + 20 + 30 = 60 cm³ (right lobe); IV: 5 + 7 = 12 cm³ (left lobe).
    assert domain.by_segment() == pytest.approx({"IV": 12.0, "VI": 60.0})
    assert domain.by_lobe() == pytest.approx({"right": 60.0, "left": 12.0, "caudate": 0.0})
    proposal = planning.propose(case_pk)
    assert proposal.figures["tumour_volume_cm3.right"] == pytest.approx(60.0)
    assert proposal.figures["tumour_volume_cm3.left"] == pytest.approx(12.0)
    assert "burden.unassigned_segment" not in _codes(proposal.advisories)
    first, second = proposal.sessions  # larger lobe first
    assert (first.territory, first.segments) == ("right", ("VI",))
    assert first.tumour_volume_cm3 == pytest.approx(60.0)
    assert (second.territory, second.segments) == ("left", ("IV",))
    assert second.tumour_volume_cm3 == pytest.approx(12.0)


# ---------------------------------------------------------------------------
# The course is judged again at approval, against the course as it stands now
# ---------------------------------------------------------------------------


def test_a_draft_is_judged_against_todays_course(services: Any) -> None:
    # Institution course limit 150 mg. Drafts A and B each load 100 mg (40 cm³ → 2 mL →
    # 1 vial → 100 mg). When both were proposed the course was empty: 0 + 100 ≤ 150, no
    # course warning. B is approved, performed and signed (100 mg delivered); A judged
    # now: 100 (delivered) + 100 (A) = 200 mg > 150 mg. (B approved and not performed
    # would not count: A replaces its sessions, test_planning_course_count.py.)
    from tace_planner.services.procedures import ProcedureService

    planning = _planning_with(services, course_warning_mg=150.0)
    case_pk = _measured_case(services, "1.2.9.course.1", {"F1": ("VII", 40.0)})
    planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
    draft_a = planning.save_plan(planning.propose(case_pk))
    draft_b = planning.save_plan(planning.propose(case_pk, options={"interval_days": 35}))
    assert "course.cumulative_dose" not in _codes(draft_a.advisories)
    assert draft_a.total_loaded_mg == pytest.approx(100.0)
    planning.approve(draft_b.pk, [a.code for a in planning.warnings_to_acknowledge(draft_b.pk)])
    _, shown = planning.preview_overrides(draft_a.pk, {})
    assert not any(a.code.endswith("course.cumulative_dose") for a in shown)  # B replaced
    procedures = ProcedureService(services.session_factory, "dr log")
    performed = {
        "performed_on": "2026-03-16", "operator": "Dr Radiosurgeon", "lot": "LOT-42",
        "expiry": "2027-01-31", "endpoint": "near-stasis", "lidocaine_mg": 40,
        "delivered_fraction": 1.0,
    }  # fmt: skip
    procedures.sign(procedures.log(case_pk, performed, plan_pk=draft_b.pk, session_number=1).pk)
    assert planning.course_history(case_pk).committed_mg == pytest.approx(100.0)

    _, shown = planning.preview_overrides(draft_a.pk, {})
    course = next(a for a in shown if a.code.endswith("course.cumulative_dose"))
    assert course.severity == "warning"
    assert "200 mg" in course.message
    needed_then = [
        a.code for a in draft_a.advisories if a.severity in ("warning", "strong_warning")
    ]
    with pytest.raises(InvalidInputError, match=r"course\.cumulative_dose"):
        planning.approve(draft_a.pk, needed_then)
    approved = planning.approve(
        draft_a.pk, [a.code for a in planning.warnings_to_acknowledge(draft_a.pk)]
    )
    assert course.code in approved.acknowledged
