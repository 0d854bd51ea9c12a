"""Follow-up service: schedule from signed TACEs, worklist, matching studies, closing, TTP."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.resources
import json
from typing import Any

import pytest
from sqlalchemy import select

from followup_seed import TODAY, add_case, add_study, clock, sign_tace
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.schedule import FollowupParameters
from tace_planner.imaging.phantom import phantom_truth
from tace_planner.services.followups import FollowupService
from tace_planner.services.therapy_lines import TherapyService
from tace_planner.store.models import AuditEventRow
from ttp_seed import assess

pytestmark = pytest.mark.db
D = dt.date


def _service(services: Any, day: dt.date = TODAY, **kwargs: Any) -> FollowupService:
    return FollowupService(services.session_factory, "dr rad", clock=clock(day), **kwargs)


def _therapy(services: Any, followups: FollowupService) -> TherapyService:
    return TherapyService(
        services.session_factory, "dr onc", lambda: followups.parameters, clock=followups._clock
    )


def _actions(services: Any) -> list[str]:
    with services.session_factory() as session:
        return list(session.scalars(select(AuditEventRow.action).order_by(AuditEventRow.id)))


def test_phantom_course_reproduces_its_due_dates_and_matching(services: Any) -> None:
    truth = phantom_truth("small")
    factory = services.session_factory
    case = add_case(factory, "PH", baseline_on=truth.timepoint("baseline").date)
    sign_tace(factory, case, truth.tace_date)
    followups = _service(services, D(2026, 12, 2))
    timepoints = followups.sync_case(case)
    # 8 weeks after 16 March 2026, then every 3 months from the first follow-up
    assert [t.due_on for t in timepoints[:3]] == [D(2026, 5, 11), D(2026, 8, 11), D(2026, 11, 11)]
    for index, label in enumerate(("follow_up_1", "follow_up_2", "follow_up_3"), start=1):
        point = truth.timepoint(label)
        add_study(factory, "PH", point.study_uid, point.date)
        match = followups.match_study(point.study_uid)
        assert match.candidates[0].timepoint.label == f"TACE 1 follow-up {index}"
        linked = followups.confirm_match(point.study_uid)
        assert (linked.status, linked.study_uid, linked.study_on) == (
            "done", point.study_uid, point.date
        )  # fmt: skip
    done = followups.worklist("done")
    assert [t.label for t in done] == [f"TACE 1 follow-up {n}" for n in (1, 2, 3)]
    assert [t.study_on for t in done] == [t.date for t in truth.timepoints[1:]]
    assert "link_followup_study" in _actions(services)


def test_worklist_categories_filters_and_proposed_study(services: Any) -> None:
    factory = services.session_factory
    case = add_case(factory, "W1", baseline_on=D(2026, 9, 20))
    sign_tace(factory, case, D(2026, 10, 5))  # first follow-up due 30 Nov 2026
    other = add_case(factory, "W2", baseline_on=D(2026, 3, 1))
    sign_tace(factory, other, D(2026, 3, 16))  # 11 May … 11 Nov: overdue by 2 Dec
    followups = _service(services, D(2026, 12, 2))  # a Wednesday; week ends 6 Dec
    assert followups.sync_all() == 2
    assert followups.sync_all() == 0
    due = followups.worklist("due")
    assert [(t.patient_id, t.label, t.due_on) for t in due] == [
        ("W1", "TACE 1 follow-up 1", D(2026, 11, 30))
    ]
    assert due[0].tace_on == D(2026, 10, 5)
    assert due[0].window_text == "2026-11-16 – 2026-12-14"
    overdue = followups.worklist("overdue")
    assert {t.patient_id for t in overdue} == {"W2"}
    assert [t.due_on for t in overdue] == [D(2026, 5, 11), D(2026, 8, 11), D(2026, 11, 11)]
    upcoming = followups.worklist("upcoming", case_pk=case)
    assert upcoming[0].due_on == D(2027, 2, 28)  # 3 months after 30 November
    # the SQL of each category and the category each row reports agree
    for category in ("due", "overdue", "upcoming", "done"):
        assert {t.category for t in followups.worklist(category)} <= {category}
    every = followups.worklist("all")
    assert len(every) == sum(len(followups.worklist(c)) for c in ("due", "overdue", "upcoming"))
    # filters
    followups.assign(due[0].pk, radiologist="Dr Ivanova", modality="MR")
    assert followups.worklist("due", radiologist="Dr Ivanova")[0].pk == due[0].pk
    assert followups.worklist("due", radiologist="Dr Petrov") == []
    assert followups.worklist("due", modality="CT") == []
    assert followups.worklist("all", case_pk=other)[0].case_pk == other
    # a newly imported study inside the window is proposed on the row, linked once confirmed
    add_study(factory, "W1", "1.2.W1.9", D(2026, 12, 1))
    row = followups.worklist("due")[0]
    assert (row.proposed_study_uid, row.study_uid) == ("1.2.W1.9", "")
    pending = followups.unmatched_studies()
    assert [m.study_uid for m in pending] == ["1.2.W1.9"]
    followups.confirm_match("1.2.W1.9")
    assert followups.worklist("due") == []
    assert followups.worklist("done", case_pk=case)[0].study_uid == "1.2.W1.9"
    with pytest.raises(InvalidInputError, match="category"):
        followups.worklist("soon")


def test_study_outside_every_window_is_offered_unscheduled(services: Any) -> None:
    factory = services.session_factory
    case = add_case(factory, "U1", baseline_on=D(2026, 3, 1))
    sign_tace(factory, case, D(2026, 3, 16))
    followups = _service(services)
    followups.sync_case(case)
    add_study(factory, "U1", "1.2.U1.5", D(2026, 6, 20))  # between 25 May and 28 July
    match = followups.match_study("1.2.U1.5")
    assert match.candidates == ()
    assert match.unscheduled_case_pks == (case,)
    assert "unscheduled" in match.message
    item = followups.confirm_match("1.2.U1.5")
    assert (item.label, item.status, item.category) == ("unscheduled 2026-06-20", "unscheduled",
                                                        "done")  # fmt: skip
    assert followups.match_study("1.2.U1.5").linked_to == "unscheduled 2026-06-20"


def test_a_study_of_another_patient_is_refused_naming_the_field(services: Any) -> None:
    factory = services.session_factory
    case = add_case(factory, "A1", baseline_on=D(2026, 3, 1))
    sign_tace(factory, case, D(2026, 3, 16))
    add_case(factory, "B2")
    followups = _service(services)
    timepoint = followups.sync_case(case)[0]
    add_study(factory, "B2", "1.2.B2.1", D(2026, 5, 11))
    with pytest.raises(InvalidInputError) as error:
        followups.confirm_match("1.2.B2.1", timepoint_pk=timepoint.pk)
    assert error.value.field == "study"
    assert "B2" in str(error.value)
    assert "A1" in str(error.value)
    with pytest.raises(InvalidInputError, match="study"):
        followups.confirm_match("1.2.B2.1", case_pk=case)
    assert followups.case_timepoints(case)[0].status == "scheduled"


def test_repeat_tace_restarts_and_closing_ends_the_schedule(services: Any) -> None:
    factory = services.session_factory
    case = add_case(factory, "R1", baseline_on=D(2026, 3, 1))
    sign_tace(factory, case, D(2026, 3, 16))
    followups = _service(services)
    followups.sync_case(case)
    sign_tace(factory, case, D(2026, 9, 1))
    assert followups.sync_all() == 1
    points = followups.case_timepoints(case)
    first = {t.label: t.status for t in points if t.tace_number == 1}
    assert first["TACE 1 follow-up 2"] == "scheduled"  # 11 August, before the repeat TACE
    assert first["TACE 1 follow-up 3"] == "superseded"  # 11 November
    second = [t for t in points if t.tace_number == 2]
    assert second[0].due_on == D(2026, 10, 27)
    with pytest.raises(InvalidInputError, match="reason"):
        followups.close_case(case, "moved", D(2026, 11, 1))
    with pytest.raises(InvalidInputError, match="date"):
        followups.close_case(case, "progression", D(2027, 1, 1))
    followups.close_case(case, "progression", D(2026, 11, 1))
    after = [t for t in followups.case_timepoints(case) if t.tace_number == 2]
    assert after[0].status == "scheduled"  # due 27 October, before the closure
    assert {t.status for t in after[1:]} == {"ended"}
    assert followups.worklist("upcoming", case_pk=case) == []
    assert {"schedule_followups", "close_case"} <= set(_actions(services))


def test_changed_parameter_file_changes_new_schedules_only(services: Any, tmp_path: Any) -> None:
    factory = services.session_factory
    old_case = add_case(factory, "V1", baseline_on=D(2026, 3, 1))
    sign_tace(factory, old_case, D(2026, 3, 16))
    _service(services).sync_case(old_case)
    resource = importlib.resources.files("tace_planner.resources") / "parameters"
    data = json.loads((resource / "followup.json").read_text(encoding="utf-8"))
    changed = copy.deepcopy(data)
    changed["version"] = "2"
    changed["values"]["preset_protocol"]["value"]["window_before_days"] = 7
    changed["values"]["preset_protocol"]["value"]["window_after_days"] = 7
    folder = tmp_path / "parameters"
    folder.mkdir()
    (folder / "followup.json").write_text(json.dumps(changed), encoding="utf-8")
    followups = _service(services, parameters_dir=folder)
    assert followups.parameters.version == "2"
    new_case = add_case(factory, "V2", baseline_on=D(2026, 3, 1))
    sign_tace(factory, new_case, D(2026, 3, 16))
    followups.sync_all()
    old = followups.case_timepoints(old_case)[0]
    new = followups.case_timepoints(new_case)[0]
    assert old.window_text == "2026-04-27 – 2026-05-25"  # ± 14 days, as made
    assert new.window_text == "2026-05-04 – 2026-05-18"  # ± 7 days
    preset, version = followups.schedule_preset(old_case)
    assert (preset.window_before_days, version) == (14, "1")
    # choosing a preset for a case is audited and lays the open timepoints out again
    followups.set_preset(old_case, "months")
    again = [t for t in followups.case_timepoints(old_case) if t.status == "scheduled"]
    assert again[0].due_on == D(2026, 4, 16)  # 1 month after 16 March
    assert "choose_followup_preset" in _actions(services)
    with pytest.raises(InvalidInputError, match="preset"):
        followups.set_preset(old_case, "weekly")


def test_bad_parameter_file_names_the_file_and_field(services: Any, tmp_path: Any) -> None:
    (tmp_path / "followup.json").write_text('{"format": "x"}', encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"followup\.json: format"):
        _service(services, parameters_dir=tmp_path).parameters  # noqa: B018


def test_hand_edited_file_out_of_range_is_refused_on_load(services: Any, tmp_path: Any) -> None:
    """A file edited outside the form keeps the form's ranges: no schedule from 80 weeks."""
    resource = importlib.resources.files("tace_planner.resources") / "parameters"
    data = json.loads((resource / "followup.json").read_text(encoding="utf-8"))
    data["values"]["preset_protocol"]["value"]["first_weeks"] = 80
    (tmp_path / "followup.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"followup\.json: .*First imaging"):
        _service(services, parameters_dir=tmp_path).parameters  # noqa: B018


def test_therapy_lines_and_ttp(services: Any) -> None:
    factory = services.session_factory
    case = add_case(factory, "T1", baseline_on=D(2026, 4, 10))
    followups = _service(services, D(2027, 6, 1))
    therapy = _therapy(services, followups)
    with pytest.raises(InvalidInputError) as error:
        therapy.add_line(case, "CAPTEM", D(2026, 1, 1), stop_on=D(2025, 12, 1))
    assert error.value.field == "stop"
    with pytest.raises(InvalidInputError) as error:
        therapy.add_line(case, "CAPTEM", D(2026, 1, 1), progression_on=D(2025, 12, 31))
    assert error.value.field == "progression"
    line = therapy.add_line(
        case, "CAPTEM", D(2026, 1, 1), stop_on=D(2026, 4, 12), progression_on=D(2026, 4, 12),
        progression_site="liver", progression_established="imaging",
    )  # fmt: skip
    assert line.line_number == 1
    with pytest.raises(InvalidInputError) as error:
        therapy.update_line(line.pk, progression_on=D(2025, 1, 1))
    assert error.value.field == "progression"
    sign_tace(factory, case, D(2026, 4, 20))
    followups.sync_case(case)
    for uid, on in (("1.2.T1.1", D(2026, 6, 15)), ("1.2.T1.2", D(2026, 9, 15))):
        add_study(factory, "T1", uid, on)
        followups.confirm_match(uid)
    therapy.set_case_attributes(
        case, diagnosed_on=D(2025, 12, 1), liver_metastases_on=D(2025, 12, 20)
    )
    result = therapy.ttp(case)
    chemo = next(r for r in result["after_therapy"] if r["scope"] == "anywhere")
    assert (chemo["days"], chemo["event"]) == (101, True)
    tace = next(r for r in result["after_tace"] if r["scope"] == "anywhere")
    # both follow-ups linked, none assessed: imaging nobody has read shows no absence of
    # progression (Llovet, JNCI 2008): not evaluable
    assert (tace["days"], tace["censored"]) == (None, False)
    first, second = sorted(
        (t for t in followups.case_timepoints(case) if t.study_uid), key=lambda t: t.study_on
    )
    assess(services, case, first.pk)
    tace = next(r for r in therapy.ttp(case)["after_tace"] if r["scope"] == "anywhere")
    assert (tace["days"], tace["censored"]) == (56, True)  # 15 Jun 2026; 15 Sep unread
    assess(services, case, second.pk)
    tace = next(r for r in therapy.ttp(case)["after_tace"] if r["scope"] == "anywhere")
    # no progression: censored at the last assessed follow-up, 15 Sep 2026 (148 days)
    assert (tace["days"], tace["censored"]) == (148, True)
    assert "censored" in tace["explanation"]["formula"]
    groups = result["groups"]
    assert groups["metastases_timing"]["value"] == "synchronous"
    assert groups["tace_sequence"]["value"] == "after_chemotherapy"
    assert (groups["detection_to_tace"]["days"], groups["detection_to_tace"]["value"]) == (
        121, "> 3 months"
    )  # fmt: skip
    # progression recorded at the second follow-up is an event
    second = next(t for t in followups.case_timepoints(case) if t.study_uid == "1.2.T1.2")
    followups.record_progression(second.pk, "liver")
    tace = next(r for r in therapy.ttp(case)["after_tace"] if r["scope"] == "liver")
    assert (tace["days"], tace["event"]) == (148, True)
    therapy.remove_line(line.pk, "entered twice")
    assert therapy.list_lines(case) == []
    assert {"add_therapy_line", "remove_therapy_line", "record_progression"} <= set(
        _actions(services)
    )
    timeline = therapy.timeline(case)
    assert [t.number for t in timeline.taces] == [1]
    assert timeline.taces[0].delivered_mg is not None
    assert [p.on for p in timeline.points] == [D(2026, 4, 10), D(2026, 6, 15), D(2026, 9, 15)]


def test_parameters_are_shared_by_both_services(services: Any) -> None:
    assert isinstance(services.followups.parameters, FollowupParameters)
    assert services.therapy.list_lines(add_case(services.session_factory, "S1")) == []


def test_second_lobe_session_appears_as_a_due_procedure(services: Any) -> None:
    from planning_seed import PATIENT_INPUTS, seed_case
    from tace_planner.services.planning import PlanningService
    from tace_planner.services.procedures import ProcedureService

    planning = PlanningService(services.session_factory, "dr ir", protocol=services.protocol)
    case = seed_case(services, patient_id="SEQ")
    planning.set_clinical_inputs(case, **PATIENT_INPUTS)
    draft = planning.save_plan(planning.propose(case))
    plan = planning.approve(draft.pk, [a.code for a in planning.warnings_to_acknowledge(draft.pk)])
    assert len(plan.sessions) == 2
    followups = _service(services, D(2026, 3, 20))
    first = followups.due_sessions()
    # the plan's first session was planned on 16 March: not logged by the 20th
    assert [(s.session_number, s.due_on, s.category) for s in first] == [
        (1, D(2026, 3, 16), "overdue")
    ]
    procedures = ProcedureService(services.session_factory, "dr ir", clock=clock(D(2026, 3, 20)))
    item = procedures.log(
        case,
        {"performed_on": "2026-03-16", "operator": "Dr A", "lot": "L", "expiry": "2027-01-01",
         "endpoint": "near-stasis", "delivered_fraction": 1.0, "lidocaine_mg": 40},
        plan_pk=plan.pk, session_number=1,
    )  # fmt: skip
    procedures.sign(item.pk)
    [second] = followups.due_sessions()
    interval = plan.proposal.options.interval_days or 21
    assert second.session_number == 2
    assert second.due_on == D(2026, 3, 16) + dt.timedelta(days=interval)
    assert second.label.startswith("TACE session 2")
    assert second.category == "upcoming"
    assert followups.due_sessions("overdue") == []
    assert _service(services, D(2026, 5, 1)).due_sessions("overdue")[0].case_pk == case


def test_progression_seen_at_a_follow_up_ends_the_schedule(services: Any) -> None:
    factory = services.session_factory
    case = add_case(factory, "PG", baseline_on=D(2026, 3, 1))
    sign_tace(factory, case, D(2026, 3, 16))
    followups = _service(services)
    followups.sync_case(case)
    add_study(factory, "PG", "1.2.PG.2", D(2026, 8, 12))
    second = followups.confirm_match("1.2.PG.2")
    followups.record_progression(second.pk, "liver")
    after = [t for t in followups.case_timepoints(case) if t.due_on and t.due_on > D(2026, 8, 12)]
    assert after
    assert {t.status for t in after} == {"ended"}
    assert followups.worklist("upcoming", case_pk=case) == []
    followups.record_progression(second.pk, "")  # entered by mistake: cleared
    reopened = {t.pk: t.status for t in followups.case_timepoints(case)}
    assert {reopened[t.pk] for t in after} == {"scheduled"}
    assert followups.worklist("upcoming", case_pk=case)
    # a repeat TACE after progression lays out a new schedule
    followups.record_progression(second.pk, "liver")
    sign_tace(factory, case, D(2026, 9, 1))
    followups.sync_case(case)
    assert followups.worklist("upcoming", case_pk=case)[0].tace_number == 2


def test_imported_studies_are_proposed_or_linked_at_once_by_the_setting(services: Any) -> None:
    factory = services.session_factory
    case = add_case(factory, "IM", baseline_on=D(2026, 3, 2))
    sign_tace(factory, case, D(2026, 3, 16))  # no sync: the import brings the schedule in step
    add_case(factory, "NF")  # a patient without follow-up
    add_study(factory, "IM", "1.2.IM.1", D(2026, 5, 12))  # in the first window (11 May)
    add_study(factory, "IM", "1.2.IM.9", D(2026, 6, 20))  # outside every window
    add_study(factory, "NF", "1.2.NF.1", D(2026, 5, 12))
    followups = _service(services)
    uids = ["1.2.IM.1", "1.2.IM.9", "1.2.NF.1"]

    asked = followups.studies_imported(uids)  # default: ask the user
    assert asked.linked == ()
    assert {m.study_uid: len(m.candidates) for m in asked.to_confirm} == {
        "1.2.IM.1": 1, "1.2.IM.9": 0
    }  # fmt: skip
    assert "1 new study(ies) proposed on the worklist" in asked.message()
    assert "1 outside every follow-up window" in asked.message()
    assert followups.worklist("done", case_pk=case) == []
    assert "link_followup_study" not in _actions(services)

    at_once = followups.studies_imported(uids, link_at_once=True)
    assert [(t.label, t.study_uid) for t in at_once.linked] == [("TACE 1 follow-up 1", "1.2.IM.1")]
    assert [m.study_uid for m in at_once.to_confirm] == ["1.2.IM.9"]  # the user decides
    assert followups.worklist("done", case_pk=case)[0].study_uid == "1.2.IM.1"
    assert _actions(services).count("link_followup_study") == 1
    assert followups.studies_imported(["1.2.NF.1"], link_at_once=True).message() == ""


@pytest.mark.parametrize("category", ["due", "overdue", "upcoming"])
def test_worklist_of_open_timepoints_searches_the_status_due_index(
    services: Any, category: str
) -> None:
    from tace_planner.services.followup_records import worklist_statement

    if services.engine.dialect.name != "sqlite":
        pytest.skip("reads SQLite's EXPLAIN QUERY PLAN (a PostgreSQL test run has no such plan)")
    statement = worklist_statement(category, radiologist=False, modality=False, case=False,
                                   limit=False)  # fmt: skip
    compiled = statement.compile(services.engine)
    values = {"day": "2026-12-02", "sunday": "2026-12-06", "earliest_due": "2026-09-03"}
    parameters = tuple(values.get(n, compiled.params.get(n)) for n in compiled.positiontup or ())
    with services.engine.connect() as connection:
        plan = [str(r[-1]) for r in connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", parameters)]  # fmt: skip
    first = plan[0]
    assert first.startswith("SEARCH timepoint USING INDEX ix_timepoint_status_due_on"), plan
    assert "due_on" in first.split("(", 1)[1]  # a range of due dates, not every open row
