"""PlanningService on a real SQLite database: inputs, burden, proposals, approval, versions.

Volumes are the phantom's exact baseline truth (``phantom_truth('full', 0)``), written
as measurement rows the way contouring will write them. The unilobar case holds only
the right-lobe foci; the bilobar case every baseline focus.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from planning_seed import TACE_ON, _truth, seed_case
from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError, NotFoundError
from tace_planner.services.planning import PlanningService, load_bead_catalogue
from tace_planner.services.planning_dto import PlanProposal
from tace_planner.store.models import (
    AuditEventRow,
    ClinicalInputsRow,
    LesionRow,
    MeasurementRow,
    SegmentationRow,
    TreatmentPlanRow,
)

pytestmark = pytest.mark.db


@pytest.fixture
def planning(services: Any) -> PlanningService:
    return PlanningService(services.session_factory, "dr test", protocol=services.protocol)


@pytest.fixture
def bilobar(services: Any, planning: PlanningService) -> int:
    case_pk = seed_case(services)
    planning.set_clinical_inputs(
        case_pk,
        height_cm=175,
        weight_kg=70,
        bilirubin_mg_dl=0.8,
        ecog=1,
        ugt1a1_status="normal",
        extrahepatic_disease=False,
        ia_lidocaine_planned=True,
    )
    return case_pk


def _count(services: Any, row: type, **where: Any) -> int:
    with services.session_factory() as session:
        query = select(func.count()).select_from(row)
        for name, value in where.items():
            query = query.where(getattr(row, name) == value)
        return int(session.scalar(query) or 0)


def _measure_again(
    services: Any, case_pk: int, name: str, volume_cm3: float, when: dt.datetime, **values: Any
) -> None:
    """A newer measurement of focus ``name``'s stored contour (as re-contouring leaves)."""
    with services.session_factory() as session:
        lesion = session.scalars(
            select(LesionRow).where(LesionRow.case_pk == case_pk, LesionRow.name == name)
        ).one()
        mask = session.scalars(
            select(SegmentationRow).where(SegmentationRow.lesion_pk == lesion.id)
        ).one()
        session.add(
            MeasurementRow(
                segmentation_pk=mask.id,
                volume_cm3=volume_cm3,
                measured_at=when.replace(tzinfo=dt.UTC),
                **values,
            )
        )
        session.commit()


def _codes(advisories: Any) -> set[str]:
    return {a.code for a in advisories}


# ---------------------------------------------------------------------------
# Clinical inputs
# ---------------------------------------------------------------------------


def test_clinical_inputs_are_saved_and_audited(services: Any, planning: PlanningService) -> None:
    case_pk = seed_case(services)
    assert planning.clinical_inputs(case_pk).inputs.height_cm is None
    item = planning.set_clinical_inputs(case_pk, height_cm=175, weight_kg=70.0, ecog=1)
    assert (item.inputs.height_cm, item.inputs.weight_kg, item.inputs.ecog) == (175.0, 70.0, 1)
    assert item.updated_by == "dr test"
    planning.set_clinical_inputs(case_pk, bilirubin_mg_dl=0.9, measured_on="2026-03-01")
    stored = planning.clinical_inputs(case_pk).inputs
    assert (stored.height_cm, stored.bilirubin_mg_dl) == (175.0, 0.9)  # partial update
    assert stored.measured_on == dt.date(2026, 3, 1)
    assert _count(services, AuditEventRow, action="set_clinical_inputs") == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"height_cm": -175}, "height_cm"),
        ({"weight_kg": 0}, "weight_kg"),
        ({"ecog": 7}, "ecog"),
        ({"bilirubin_mg_dl": -1}, "bilirubin_mg_dl"),
        ({"height_cm": 1.75}, "height_cm"),  # implausible, not confirmed
        ({"measured_on": "03/01/2026"}, "measured_on"),
        ({"shoe_size": 42}, "shoe_size"),
        ({"height_cm": 175, "weight_kg": -70}, "weight_kg"),
    ],
)
def test_impossible_inputs_name_the_field_and_save_nothing(
    services: Any, planning: PlanningService, fields: dict[str, Any], field: str
) -> None:
    case_pk = seed_case(services)
    planning.set_clinical_inputs(case_pk, height_cm=170)
    with pytest.raises(InvalidInputError) as caught:
        planning.set_clinical_inputs(case_pk, **fields)
    assert caught.value.field == field
    assert planning.clinical_inputs(case_pk).inputs.height_cm == 170.0
    assert planning.clinical_inputs(case_pk).inputs.weight_kg is None
    assert _count(services, AuditEventRow, action="set_clinical_inputs") == 1


def test_implausible_value_is_saved_when_confirmed(
    services: Any, planning: PlanningService
) -> None:
    case_pk = seed_case(services)
    planning.set_clinical_inputs(case_pk, height_cm=115, confirm_implausible=True)
    assert planning.clinical_inputs(case_pk).inputs.height_cm == 115.0
    with pytest.raises(InvalidInputError):
        planning.set_clinical_inputs(case_pk, height_cm=-1, confirm_implausible=True)


def test_unknown_case_is_reported(services: Any, planning: PlanningService) -> None:
    with pytest.raises(NotFoundError):
        planning.set_clinical_inputs(999, height_cm=170)
    assert _count(services, ClinicalInputsRow) == 0
    with pytest.raises(NotFoundError):
        planning.propose(999)


# ---------------------------------------------------------------------------
# Burden
# ---------------------------------------------------------------------------


def test_burden_without_measurements_says_so(services: Any, planning: PlanningService) -> None:
    case_pk = seed_case(services, measured=False)
    burden = planning.burden_inputs(case_pk)
    assert not burden.available
    assert burden.liver_volume_cm3 is None
    assert "No measurements at baseline yet" in burden.problems[0]
    proposal = planning.propose(case_pk)
    assert proposal.blocked
    assert "burden.no_tumour" in _codes(proposal.advisories)


def test_burden_reads_the_latest_baseline_measurements(
    services: Any, planning: PlanningService
) -> None:
    case_pk = seed_case(services, unilobar=True)
    liver_cm3, _ = _truth()
    _measure_again(services, case_pk, "F1", 80.0, dt.datetime(2026, 3, 4), trust="warning")
    burden = planning.burden_inputs(case_pk)
    assert burden.liver_volume_cm3 == pytest.approx(liver_cm3)
    volumes = {f.name: f.volume_cm3 for f in burden.foci}
    assert volumes["F1"] == 80.0  # the newer measurement
    assert sorted(volumes) == ["F1", "F2", "F6", "F7"]
    assert {f.name: f.trust for f in burden.foci}["F1"] == "warning"
    assert any("F1" in p and "questionable" in p for p in burden.problems)


# ---------------------------------------------------------------------------
# Proposals: the worked examples through the service
# ---------------------------------------------------------------------------


def test_unilobar_phantom_plan(services: Any, planning: PlanningService) -> None:
    case_pk = seed_case(services, unilobar=True)
    planning.set_clinical_inputs(case_pk, height_cm=175, weight_kg=70, bilirubin_mg_dl=0.8, ecog=1)
    proposal = planning.propose(case_pk)
    assert proposal.figures["tumour_volume_cm3.right"] == pytest.approx(107.001, abs=1e-3)
    assert proposal.figures["bsa_m2"] == pytest.approx(1.8447, abs=1e-4)
    (session,) = proposal.sessions
    assert (session.territory, session.beads_ml, session.vials) == ("right", 4.0, 2)
    # 2 vials could take 200 mg; the 100 mg session limit holds the dose.
    assert session.irinotecan_loaded_mg == pytest.approx(100.0)
    assert session.irinotecan_expected_delivered_mg == pytest.approx(100.0)
    assert session.on == TACE_ON
    assert "dose.session_limit.s1" in _codes(proposal.advisories)
    assert not any("above_warning" in code for code in _codes(proposal.advisories))
    assert "imaging.baseline_too_old" not in _codes(proposal.advisories)
    assert planning.list_plans(case_pk) == []  # a proposal is not saved


def test_bilobar_phantom_plan_and_json(planning: PlanningService, bilobar: int) -> None:
    proposal = planning.propose(bilobar)
    first, second = proposal.sessions
    assert (first.territory, first.vials, first.irinotecan_loaded_mg) == ("right+caudate", 2, 100.0)
    assert (second.territory, second.day, second.on) == ("left", 21, TACE_ON + dt.timedelta(21))
    assert second.beads_ml == pytest.approx(0.5)
    assert second.irinotecan_loaded_mg == pytest.approx(100.0)
    assert second.irinotecan_expected_delivered_mg == pytest.approx(25.0)
    data = json.loads(json.dumps(proposal.to_json()))
    assert data["inputs"]["tumour_volume_cm3"]["right"] == pytest.approx(107.001, abs=1e-3)
    assert data["inputs"]["tumour_volume_cm3"]["left"] == pytest.approx(4.239, abs=1e-3)
    assert data["inputs"]["liver_volume_cm3"] == pytest.approx(1572.703)
    assert data["inputs"]["burden_percent"] == pytest.approx(113.812 / 1572.703 * 100, abs=1e-4)
    assert data["inputs"]["parameters"]["per_session_cap_mg"] == 100.0
    assert data["parameters"]["catalogue_version"] == "2"
    assert data["totals"]["irinotecan_loaded_mg"] == pytest.approx(200.0)
    assert {w["code"] for w in data["warnings"]} >= {"caudate.focus", "dose.session_limit.s1"}
    assert PlanProposal.from_json(data) == proposal


def test_fixed_model_and_live_patient_changes(planning: PlanningService, bilobar: int) -> None:
    proposal = planning.propose(bilobar, model="fixed", patient_changes={"ecog": 3})
    assert [s.irinotecan_loaded_mg for s in proposal.sessions] == [100.0, 100.0]
    ecog = next(a for a in proposal.advisories if a.code == "ecog.above_limit")
    assert ecog.severity == "contraindication"
    assert planning.clinical_inputs(bilobar).inputs.ecog == 1  # nothing saved
    with pytest.raises(InvalidInputError) as caught:
        planning.propose(bilobar, patient_changes={"weight_kg": -3})
    assert caught.value.field == "weight_kg"


def test_hepasphere_is_refused_until_a_capacity_is_entered(
    planning: PlanningService, bilobar: int
) -> None:
    refused = planning.propose(bilobar, options={"product_code": "hepasphere"})
    assert refused.blocked
    assert refused.sessions == ()
    assert "no irinotecan loading capacity" in next(
        a.message for a in refused.advisories if a.code == "product.no_capacity"
    )
    entered = planning.propose(
        bilobar,
        options={"product_code": "hepasphere", "capacity_mg_per_ml": 25, "vial_bead_volume_ml": 2},
    )
    assert not entered.blocked
    assert entered.parameters["product"]["irinotecan_capacity_mg_per_ml"]["evidence"] == "user"
    assert "product.off_label" in _codes(entered.advisories)
    draft = planning.save_plan(refused)
    with pytest.raises(InvalidInputError, match="blocked"):
        planning.approve(draft.pk, [])


def test_old_baseline_imaging_warns(services: Any, planning: PlanningService) -> None:
    case_pk = seed_case(services, imaged_on=dt.date(2026, 1, 2))
    proposal = planning.propose(case_pk)
    warning = next(a for a in proposal.advisories if a.code == "imaging.baseline_too_old")
    assert warning.severity == "warning"
    assert "73 day(s)" in warning.message


# ---------------------------------------------------------------------------
# Plan records
# ---------------------------------------------------------------------------


def test_approval_needs_every_warning_acknowledged(
    services: Any, planning: PlanningService, bilobar: int
) -> None:
    planning.set_clinical_inputs(bilobar, ia_lidocaine_planned=False)
    draft = planning.save_plan(planning.propose(bilobar))
    assert (draft.plan_version, draft.status, draft.supersedes_pk) == (1, "draft", None)
    needed = {a.code for a in planning.warnings_to_acknowledge(draft.pk)}
    assert "premedication.no_ia_lidocaine" in needed
    with pytest.raises(InvalidInputError, match=r"premedication\.no_ia_lidocaine") as caught:
        planning.approve(draft.pk, [])
    assert caught.value.field == "acknowledged_warnings"
    with pytest.raises(InvalidInputError, match="not shown"):
        planning.approve(draft.pk, [*needed, "made.up"])
    assert planning.get_plan(draft.pk).status == "draft"
    approved = planning.approve(draft.pk, needed)
    assert approved.status == "approved"
    assert approved.approved_by == "dr test"
    assert approved.approved_at is not None
    assert set(approved.acknowledged) == needed
    assert _count(services, AuditEventRow, action="approve_plan") == 1


def test_approved_plan_is_immutable_and_revision_makes_a_new_version(
    services: Any, planning: PlanningService, bilobar: int
) -> None:
    draft = planning.save_plan(planning.propose(bilobar))
    needed = [a.code for a in planning.warnings_to_acknowledge(draft.pk)]
    approved = planning.approve(draft.pk, needed)
    with services.session_factory() as session:
        before = session.get(TreatmentPlanRow, approved.pk)
        snapshot = (before.version, before.results, before.warnings, before.overrides)
    with pytest.raises(InvalidInputError, match="approved and cannot change"):
        planning.approve(approved.pk, needed, {"session1.beads_ml": (3.0, "smaller feeder")})
    with services.session_factory() as session:
        after = session.get(TreatmentPlanRow, approved.pk)
        assert (after.version, after.results, after.warnings, after.overrides) == snapshot
    revised = planning.revise(approved.pk, model="fixed")
    assert (revised.plan_version, revised.supersedes_pk, revised.status) == (
        2,
        approved.pk,
        "draft",
    )
    assert [s.irinotecan_loaded_mg for s in revised.sessions] == [100.0, 100.0]
    # the superseded plan is left out of the course: no cumulative warning
    assert revised.proposal.course["prior_loaded_mg"] == 0.0
    assert revised.proposal.course["planned_mg"] == 0.0
    assert [p.plan_version for p in planning.list_plans(bilobar)] == [1, 2]


def test_overrides_are_recorded_with_reasons(planning: PlanningService, bilobar: int) -> None:
    draft = planning.save_plan(planning.propose(bilobar))
    needed = [a.code for a in planning.warnings_to_acknowledge(draft.pk)]
    with pytest.raises(InvalidInputError) as caught:
        planning.approve(draft.pk, needed, {"session1.beads_ml": (3.0, "  ")})
    # named for people, the reason's field as the Approve dialog names it
    assert caught.value.field == "Session 1 reason for the override"
    with pytest.raises(InvalidInputError) as caught:
        planning.approve(draft.pk, needed, {"session1.irinotecan_loaded_mg": (250.0, "more")})
    assert caught.value.field == "Session 1 irinotecan loaded (mg)"  # 2 vials hold 200 mg
    with pytest.raises(InvalidInputError) as caught:
        planning.approve(draft.pk, needed, {"session3.vials": (1, "x")})
    assert caught.value.field == "Session 3"
    # 3 mL instead of 4 mL: 2 vials still prepared, 100 mg in the first, all of it delivered
    sessions, shown = planning.preview_overrides(
        draft.pk, {"session1.beads_ml": (3.0, "small feeder at angiography")}
    )
    assert sessions[0].irinotecan_expected_delivered_mg == pytest.approx(100.0)
    assert not any(a.code.startswith("override.") for a in shown)
    approved = planning.approve(
        draft.pk, needed, {"session1.beads_ml": (3.0, "small feeder at angiography")}
    )
    first = approved.sessions[0]
    assert (first.beads_ml, first.vials, first.irinotecan_loaded_mg) == (3.0, 2, 100.0)
    assert "override" in first.limited_by
    assert "small feeder" in first.explanations["beads_ml"].inputs["reason"]
    (override,) = approved.overrides
    assert (override.field, override.value, override.proposed) == ("session1.beads_ml", 3.0, 4.0)
    assert override.reason == "small feeder at angiography"
    assert approved.proposal.sessions[0].beads_ml == 4.0  # the proposal is kept as it was
    reread = planning.get_plan(approved.pk)
    assert reread.sessions == approved.sessions
    assert reread.to_json()["plan"]["overrides"]["session1.beads_ml"]["reason"].startswith("small")


def test_override_above_the_limit_raises_advisories_that_need_their_own_acknowledgement(
    planning: PlanningService, bilobar: int
) -> None:
    draft = planning.save_plan(planning.propose(bilobar))
    needed = [a.code for a in planning.warnings_to_acknowledge(draft.pk)]
    # a third vial alone is re-derived by the kernel: loading stops at the 100 mg limit
    sessions, _ = planning.preview_overrides(draft.pk, {"session1.vials": (3, "third vial")})
    assert sessions[0].vial_loads_mg == (100.0, 0.0, 0.0)
    overrides = {
        "session1.vials": (3, "large tumour"),
        "session1.beads_ml": (6.0, "large tumour"),
        "session1.irinotecan_loaded_mg": (300.0, "large tumour, tumour board decision"),
    }
    _, shown = planning.preview_overrides(draft.pk, overrides)
    raised = {a.code: a.severity for a in shown if a.code.startswith("override.")}
    assert raised == {
        "override.dose.above_session_limit.s1": "strong_warning",
        "override.dose.loaded_above_warning.s1": "warning",
        "override.dose.delivered_above_warning.s1": "warning",
        # 6 mL is above the institution's 4 mL per session
        "override.beads.above_session_maximum.s1": "warning",
    }
    # The override's reason is not an acknowledgement.
    with pytest.raises(InvalidInputError, match="above_session_limit") as caught:
        planning.approve(draft.pk, needed, overrides)
    assert caught.value.field == "acknowledged_warnings"
    assert planning.get_plan(draft.pk).status == "draft"
    approved = planning.approve(draft.pk, [*needed, *raised], overrides)
    advisories = {a.code: a.severity for a in approved.advisories}
    assert advisories["override.dose.above_session_limit.s1"] == "strong_warning"
    assert set(raised) <= set(approved.acknowledged)
    assert approved.sessions[0].irinotecan_loaded_mg == pytest.approx(300.0)
    assert approved.sessions[0].irinotecan_expected_delivered_mg == pytest.approx(300.0)
    assert len(approved.overrides) == 3


def test_a_new_plan_replaces_the_approved_sessions_not_performed(
    planning: PlanningService, bilobar: int
) -> None:
    first = planning.save_plan(planning.propose(bilobar))
    planning.approve(first.pk, [a.code for a in planning.warnings_to_acknowledge(first.pk)])
    # the procedure log's view: 200 mg in 2 approved sessions still to do
    assert planning.course_history(bilobar).committed_mg == pytest.approx(200.0)
    assert planning.course_history(bilobar).sessions == 2
    # a new plan of the course replaces them: 200 mg and 2 treatments, counted once
    # (test_planning_course_count.py: performed treatments count beside it)
    again = planning.propose(bilobar)
    assert "course.session_count" not in _codes(again.advisories)
    assert "course.cumulative_dose" not in _codes(again.advisories)
    assert again.to_json()["totals"]["course_loaded_mg"] == pytest.approx(200.0)


def test_course_is_judged_again_after_an_override(services: Any, planning: PlanningService) -> None:
    # 250 mg already delivered in the course (a signed TACE), then a session overridden
    # from 100 to 200 mg: 450 mg, above the 400 mg course limit — a course warning that
    # must be acknowledged.
    from tace_planner.services.procedures import ProcedureService

    case_pk = seed_case(services, unilobar=True)
    planning.set_clinical_inputs(
        case_pk, height_cm=175, weight_kg=70, bilirubin_mg_dl=0.8, ecog=1,
        ia_lidocaine_planned=True,
    )  # fmt: skip
    earlier = planning.save_plan(planning.propose(case_pk))
    big = {
        "session1.vials": (3, "tumour board"),
        "session1.beads_ml": (5.0, "tumour board"),
        "session1.irinotecan_loaded_mg": (250.0, "tumour board"),
    }
    _, shown = planning.preview_overrides(earlier.pk, big)
    planning.approve(
        earlier.pk,
        [a.code for a in shown if a.severity in ("warning", "strong_warning")],
        big,
    )
    procedures = ProcedureService(services.session_factory, "dr log")
    performed = {
        "performed_on": "2026-03-16", "operator": "Dr Radiosurgeon", "lot": "LOT-42",
        "expiry": "2027-01-31", "endpoint": "near-stasis", "lidocaine_mg": 40,
        "delivered_fraction": 1.0,
    }  # fmt: skip
    logged = procedures.log(case_pk, performed, plan_pk=earlier.pk, session_number=1)
    procedures.sign(logged.pk)
    assert planning.course_history(case_pk).committed_mg == pytest.approx(250.0)
    draft = planning.save_plan(planning.propose(case_pk))
    assert "course.cumulative_dose" not in _codes(draft.advisories)  # 250 + 100 = 350 mg
    needed = [a.code for a in planning.warnings_to_acknowledge(draft.pk)]
    more = {"session1.irinotecan_loaded_mg": (200.0, "second vial loaded")}
    with pytest.raises(InvalidInputError, match=r"course\.cumulative_dose") as caught:
        planning.approve(draft.pk, needed, more)
    assert "450 mg" in str(caught.value)
    _, shown = planning.preview_overrides(draft.pk, more)
    course = next(a for a in shown if a.code == "override.course.cumulative_dose")
    assert course.severity == "warning"
    assert "450 mg" in course.message
    extra = [a.code for a in shown if a.code.startswith("override.") and a.severity != "info"]
    approved = planning.approve(draft.pk, [*needed, *extra], more)
    assert "override.course.cumulative_dose" in approved.acknowledged
    assert approved.total_loaded_mg == pytest.approx(200.0)


def test_stale_version_is_a_concurrent_edit(planning: PlanningService, bilobar: int) -> None:
    draft = planning.save_plan(planning.propose(bilobar))
    needed = [a.code for a in planning.warnings_to_acknowledge(draft.pk)]
    with pytest.raises(ConcurrentEditError):
        planning.approve(draft.pk, needed, expected_version=draft.version + 1)
    assert planning.approve(draft.pk, needed, expected_version=draft.version).is_approved


def test_institution_catalogue_replaces_the_packaged_one(
    services: Any, bilobar: int, tmp_path: Path
) -> None:
    planning = PlanningService(
        services.session_factory, "dr test", protocol=services.protocol, parameters_dir=tmp_path
    )
    data = json.loads(
        (Path(__file__).parents[2] / "resources" / "parameters" / "bead_catalogue.json").read_text(
            encoding="utf-8"
        )
    )
    lumi = next(p for p in data["products"] if p["code"] == "dc_bead_lumi")
    lumi["irinotecan_capacity_mg_per_ml"] = {
        "value": 50,
        "source": "pharmacy validation 2026",
        "evidence": "institutional",
    }
    data["version"] = "1-local"
    broken = json.loads(json.dumps(data))
    broken["products"][0]["vial_bead_volume_ml"]["value"] = -1
    with pytest.raises(InvalidInputError):
        planning.save_institution_file("catalogue", broken)
    assert not (tmp_path / "bead_catalogue.json").exists()
    planning.save_institution_file("catalogue", data)
    # Every save that changes the content is the version after the one in use ("2"),
    # whatever version the new content names: a version never goes back.
    assert load_bead_catalogue(tmp_path / "bead_catalogue.json").version == "3"
    proposal = planning.propose(bilobar, options={"product_code": "dc_bead_lumi"})
    assert not proposal.blocked
    assert proposal.parameters["catalogue_version"] == "3"
    assert _count(services, AuditEventRow, action="save_parameters") == 1


INTERNAL_WORDING = ("clinical-reference", "§", "NOT FOUND", "[D]", "[S]", "[M]", "[G]", "brief")


@pytest.mark.parametrize(
    ("options", "changes"),
    [
        ({}, {}),
        ({"model": "fixed"}, {"ecog": 3, "bilirubin_mg_dl": 5.0}),
        (
            {"product_code": "hepasphere"},
            {"ia_lidocaine_planned": None, "ugt1a1_status": "reduced"},
        ),
        ({"product_code": "dc_bead_m1", "delivery": "segmental", "segments": ["VI"]}, {}),
    ],
)
def test_text_a_clinician_reads_cites_publications_not_internal_documents(
    planning: PlanningService, bilobar: int, options: dict[str, Any], changes: dict[str, Any]
) -> None:
    proposal = planning.propose(bilobar, options=options, patient_changes=changes)
    texts = [f"{a.message} {a.source}" for a in proposal.advisories]
    texts += [e.to_text() for e in proposal.explanations.values()]
    texts += [e.to_text() for s in proposal.sessions for e in s.explanations.values()]
    assert texts
    for text in texts:
        for word in INTERNAL_WORDING:
            assert word not in text, (word, text)


def test_a_plan_is_not_approved_on_inputs_or_volumes_changed_since_it_was_computed(
    services: Any, planning: PlanningService, bilobar: int
) -> None:
    """Approval re-reads what the plan rests on: a colleague's newer labs, or a focus
    measured again, after the plan was computed refuse it (saying what changed)."""
    planning.set_clinical_inputs(bilobar, bilirubin_mg_dl=0.8, ecog=0)
    proposal = planning.propose(bilobar)
    draft = planning.save_plan(planning.propose(bilobar))
    acknowledged = [a.code for a in planning.warnings_to_acknowledge(draft.pk)]
    other = PlanningService(services.session_factory, "dr other", protocol=services.protocol)
    other.set_clinical_inputs(bilobar, bilirubin_mg_dl=3.5, ecog=3)
    for approve in (
        lambda: planning.approve_proposal(proposal, acknowledged),
        lambda: planning.approve(draft.pk, acknowledged),
    ):
        with pytest.raises(InvalidInputError) as caught:
            approve()
        message = str(caught.value)
        assert "not approved: the stored patient inputs are not those of this plan" in message
        assert "(bilirubin, ECOG performance status, last saved by dr other on " in message
    assert [p.status for p in planning.list_plans(bilobar)] == ["draft"]  # nothing approved
    # computed again on the stored inputs, then a focus is measured again: refused too
    proposal = planning.propose(bilobar)
    _measure_again(services, bilobar, "F1", 70.0, dt.datetime(2026, 3, 5))
    acknowledged = [a.code for a in proposal.advisories if a.severity != "info"]
    with pytest.raises(InvalidInputError, match="baseline contours were changed or measured"):
        planning.approve_proposal(proposal, acknowledged, contraindication_reasons={
            a.code: "tumour board" for a in proposal.contraindications
        })  # fmt: skip
    fresh = planning.propose(bilobar)
    approved = planning.approve_proposal(
        fresh,
        [a.code for a in fresh.advisories if a.severity in ("warning", "strong_warning")],
        contraindication_reasons={a.code: "tumour board" for a in fresh.contraindications},
    )
    assert approved.status == "approved"


def test_saving_inputs_from_an_old_form_does_not_revert_a_colleagues_labs(
    services: Any, planning: PlanningService, bilobar: int
) -> None:
    loaded = planning.set_clinical_inputs(bilobar, bilirubin_mg_dl=0.8, ecog=0)
    other = PlanningService(services.session_factory, "dr other", protocol=services.protocol)
    other.set_clinical_inputs(bilobar, bilirubin_mg_dl=2.6, ecog=2)
    with pytest.raises(ConcurrentEditError, match="saved by dr other on "):
        planning.set_clinical_inputs(
            bilobar, weight_kg=72, bilirubin_mg_dl=0.8, ecog=0, expected_version=loaded.version
        )
    stored = planning.clinical_inputs(bilobar)
    assert (stored.inputs.bilirubin_mg_dl, stored.inputs.ecog) == (2.6, 2)
    saved = planning.set_clinical_inputs(bilobar, weight_kg=72, expected_version=stored.version)
    assert saved.inputs.weight_kg == 72
    assert saved.inputs.bilirubin_mg_dl == 2.6
