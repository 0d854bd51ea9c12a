"""Follow-up imaging taking a scheduled follow-up's place keeps what users set on both.

TACE 1 on 16 March 2026; the study protocol's schedule (8 weeks, then every 3 months,
window ± 14 days) is due 11 May, 11 August, 11 November 2026, 11 February 2027 …; the
"months" preset (1, 3, 6, 9, 12 months) 16 April, 16 June, 16 September, 16 December …

* A CT linked by hand ("follow-up n") that lies in an open follow-up's window takes its
  place: it keeps its own radiologist and modality and takes the open follow-up's where
  it has none; a value of the open follow-up it differs from is dropped and the audit
  entry of the deletion names it.
* Linking the CT puts it in its place at once, even when the schedule itself is current
  (``sync_all`` then finds nothing left to place).
* The Follow-up box's choices say which follow-ups hold imaging and which are not yet
  due, due, or overdue.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from followup_seed import add_case, add_study, scheduled_course, sign_tace
from tace_planner.cli import main
from tace_planner.services.followups import FollowupService
from tace_planner.store.models import AuditEventRow

pytestmark = pytest.mark.db
D = dt.date
TODAY = D(2026, 12, 7)  # a Monday; the week ends on 13 December


def _link_by_hand(services: Any, case: int, patient_id: str, number: int, on: dt.date) -> None:
    """A follow-up CT imported and linked to the case as "follow-up n" (``case link``)."""
    uid = f"1.2.{patient_id}.{number}"
    add_study(services.session_factory, patient_id, uid, on)
    services.cases.link_study(
        case, uid, timepoint_label=f"follow-up {number}", timepoint_kind="follow_up"
    )


def _pk(services: Any, case: int, label: str) -> int:
    """The id of the case's timepoint labelled exactly ``label``."""
    [pk] = [t.pk for t in services.contouring.lesions.timepoints(case) if t.label == label]
    return pk


def _events(services: Any, action: str) -> list[AuditEventRow]:
    with services.session_factory() as session:
        return list(
            session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.action == action)
                .order_by(AuditEventRow.id)
            )
        )


def _by_label(followups: FollowupService, case: int) -> dict[str, Any]:
    return {t.label: t for t in followups.worklist("all", case_pk=case)}


def test_a_linked_follow_up_takes_the_slot_at_once_with_what_was_set_on_it(
    services: Any,
) -> None:
    case, followups = scheduled_course(services.session_factory, "M1", today=TODAY)
    slot = _by_label(followups, case)["TACE 1 follow-up 2"]  # due 11 August
    followups.assign(slot.pk, radiologist="Dr Slot", modality="MR")
    _link_by_hand(services, case, "M1", 2, D(2026, 8, 16))

    # linking placed it (no synchronisation needed): the slot's radiologist and modality
    # are taken over by the imaged follow-up, which had none of its own
    placed = _by_label(followups, case)
    assert "TACE 1 follow-up 2" not in placed
    kept = placed["follow-up 2"]
    assert (kept.status, kept.due_on) == ("done", D(2026, 8, 11))
    assert (kept.radiologist, kept.modality) == ("Dr Slot", "MR")
    [deleted] = _events(services, "delete_followup_timepoint")
    assert deleted.entity_pk == slot.pk
    assert (deleted.before["radiologist"], deleted.before["modality"]) == ("Dr Slot", "MR")
    assert deleted.after == {
        "replaced_by": "follow-up 2",
        "taken_over": {"radiologist": "Dr Slot", "modality": "MR"},
        "dropped": {},
    }
    [place] = _events(services, "place_followup_timepoint")
    assert place.summary.startswith(
        f"case {case}: follow-up 2 (imaged 2026-08-16) is TACE 1 follow-up 2 of the schedule"
    )
    assert followups.sync_all() == 0  # settled: nothing left to place

    # a radiologist chosen afterwards is the follow-up's own
    followups.assign(kept.pk, radiologist="Dr Own")
    assert _by_label(followups, case)["follow-up 2"].radiologist == "Dr Own"


def test_a_new_preset_placing_the_imaging_names_the_dropped_radiologist(services: Any) -> None:
    case, followups = scheduled_course(services.session_factory, "M2", today=TODAY)
    slot = _by_label(followups, case)["TACE 1 follow-up 3"]  # protocol: due 11 November, CT
    followups.assign(slot.pk, radiologist="Dr Slot")
    # 16 September lies in no window of the protocol; in follow-up 3's of the months preset
    _link_by_hand(services, case, "M2", 3, D(2026, 9, 16))
    followups.assign(_pk(services, case, "follow-up 3"), radiologist="Dr Own")

    followups.set_preset(case, "months")  # 1, 3, 6, 9, 12 months; MR
    placed = _by_label(followups, case)
    kept = placed["follow-up 3"]
    assert (kept.status, kept.due_on) == ("done", D(2026, 9, 16))
    # the protocol's CT was no one's choice: the new schedule's MR, not the old slot's CT
    assert (kept.radiologist, kept.modality) == ("Dr Own", "MR")
    deleted = [e for e in _events(services, "delete_followup_timepoint") if e.entity_pk == slot.pk]
    assert [e.after["dropped"] for e in deleted] == [
        {"radiologist": {"value": "Dr Slot", "kept": "Dr Own"}}
    ]
    assert "its radiologist Dr Slot was dropped (follow-up 3 keeps its own, Dr Own)" in (
        deleted[0].summary
    )


def test_imaging_linked_after_the_schedule_is_in_its_place_when_listed(services: Any) -> None:
    case, followups = scheduled_course(services.session_factory, "M3", today=TODAY)
    _link_by_hand(services, case, "M3", 2, D(2026, 8, 16))

    # the schedule is current (no new TACE): the CT linked by hand took its place at once
    assert [t.label for t in followups.worklist("overdue", case_pk=case)] == [
        "TACE 1 follow-up 1",
        "TACE 1 follow-up 3",
    ]
    done = followups.worklist("done", case_pk=case)
    assert [(t.label, t.due_on, t.study_on) for t in done] == [
        ("follow-up 2", D(2026, 8, 11), D(2026, 8, 16))
    ]
    assert followups.sync_all() == 0  # settled: nothing left to place
    labels = [t.label for t in services.contouring.lesions.timepoints(case)]
    assert len(labels) == len(set(labels))
    assert "TACE 1 follow-up 2" not in labels


def test_the_followups_command_lists_a_hand_linked_ct_in_its_place(
    services: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    factory = services.session_factory
    today = dt.date.today()
    case = add_case(factory, "M4", baseline_on=today - dt.timedelta(weeks=30))
    sign_tace(factory, case, today - dt.timedelta(weeks=26))
    folder: Path = services.settings.data_dir

    def followups(*args: str) -> dict[str, Any]:
        argv = ["--data-dir", str(folder), "--user", "dr cli", "followups", *args]
        assert main([*argv, "--case", str(case), "--json"]) == 0
        result: dict[str, Any] = json.loads(capsys.readouterr().out)
        return result

    [first, *_] = followups("--overdue")["timepoints"]  # the schedule laid out
    assert first["label"] == "TACE 1 follow-up 1"
    due_on = dt.date.fromisoformat(first["due_on"])
    add_study(factory, "M4", "1.2.M4.1", due_on)
    argv = ["--data-dir", str(folder), "--user", "dr cli", "case", "link", "--case", str(case)]
    assert main([*argv, "--study", "1.2.M4.1", "--timepoint", "follow-up", "1"]) == 0
    capsys.readouterr()

    overdue = [t["label"] for t in followups("--overdue")["timepoints"]]
    assert "TACE 1 follow-up 1" not in overdue
    done = followups("--done")["timepoints"]
    assert [(t["label"], t["due_on"], t["study_uid"]) for t in done] == [
        ("follow-up 1", due_on.isoformat(), "1.2.M4.1")
    ]


def test_the_follow_up_box_choices_say_which_follow_ups_are_not_yet_due(services: Any) -> None:
    case, followups = scheduled_course(services.session_factory, "M5", today=TODAY)
    _link_by_hand(services, case, "M5", 1, D(2026, 5, 11))
    _link_by_hand(services, case, "M5", 3, D(2026, 11, 16))  # none for 11 August
    followups.sync_case(case)
    choices = followups.follow_up_choices(case)
    # the box's order: the case's timepoints, baseline left out
    box = [t.label for t in services.contouring.lesions.timepoints(case) if t.kind != "baseline"]
    assert [c.label for c in choices] == box
    by_label = {c.label: c for c in choices}
    assert [c.label for c in choices if c.ready] == ["follow-up 1", "follow-up 3"]
    assert by_label["TACE 1 follow-up 2"].readiness == "overdue"
    assert by_label["TACE 1 follow-up 2"].note == (
        "overdue: its window closed on 2026-08-25 without a study"
    )
    future = by_label["TACE 1 follow-up 4"]
    assert (future.readiness, future.not_yet_due, future.ready) == ("not_yet_due", True, False)
    assert future.note == "not yet due: due 2027-02-11, window opens 2027-01-28"
    assert future.to_json()["note"] == future.note
    assert all(c.not_yet_due for c in choices if c.due_on and c.due_on > D(2026, 12, 13))

    # a follow-up due this week, its window open, without a study yet: due, not ready
    other = add_case(services.session_factory, "M6", baseline_on=D(2026, 9, 20))
    sign_tace(services.session_factory, other, D(2026, 10, 5))  # due 30 November
    followups.sync_case(other)
    first = followups.follow_up_choices(other)[0]
    assert (first.label, first.readiness, first.ready) == ("TACE 1 follow-up 1", "due", False)
    assert first.note == "due 2026-11-30: no study linked yet"
