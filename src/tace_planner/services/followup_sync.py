"""Keeps a case's follow-up schedule in step with its signed TACEs, its preset and closure.

* every signed TACE restarts the schedule (open timepoints of the earlier TACE due on or
  after it are superseded);
* a preset chosen for the case lays the open timepoints of the current TACE out again
  (see below);
* closing the case, or progression seen at one of its follow-ups, ends the timepoints due
  after it (clearing that progression re-opens them);
* follow-up imaging the case already holds stands for the scheduled follow-up whose window
  holds its date (:func:`~tace_planner.domain.schedule.match_imaging`; see below).

Imaging already in the case (a follow-up CT linked by hand before the TACE was signed,
or an unscheduled one whose window opened again): such a timepoint takes the place of the
scheduled follow-up whose window holds its imaging date, one to one, closest to the due
date first. It keeps its label, its study, contours and assessments, and gets the
schedule's TACE, number, due date and window, and is done; no second timepoint is laid
out for that follow-up. An open one already laid out, holding no data, is deleted: the
imaged timepoint keeps its own radiologist and modality and takes the deleted one's
where it has none (:func:`~tace_planner.domain.schedule.merge_slot`); a value of the
deleted one that differs from the imaged timepoint's is dropped, and the audit entry of
the deletion names it (field, value, the value kept), so that nothing a user set goes
without a trace. Both are audited (``place_followup_timepoint``,
``delete_followup_timepoint``). A timepoint the schedule made ("TACE k follow-up n")
keeps its place.

Each schedule row keeps the parameter values it was made with (a snapshot of
``followup.json``): a changed file changes new schedules only.

Laying the open timepoints out again (a new preset for the same TACE):

* an open (or ended) timepoint that holds data — a linked study, contours, assessments,
  a recorded progression (:func:`~tace_planner.services.followup_records.held_data`) — is
  never deleted: it is kept as ``superseded`` and its label stays taken;
* every other one is matched to the timepoint of the new schedule with the same label,
  that is the same position after the TACE ("TACE 2 follow-up 4" stays follow-up 4), and
  that row is kept and moved to the new schedule's dates and window. What a user set on
  it stays: the radiologist, and the modality when a user chose it (it differs from the
  old schedule's modality, or an audited assignment set it); a modality that only came
  from the old schedule becomes the new schedule's. Matching by position rather than by
  nearest due date keeps the match one to one and predictable, and the row's key (and so
  its audit history) stays the same. A moved row that carried a user's setting is
  audited (``move_followup_timepoint``, before and after);
* an open timepoint with no counterpart in the new schedule (a preset with fewer
  follow-ups within the horizon) is deleted, and every such deletion is audited
  (``delete_followup_timepoint``) with the row as it was and what the user had set on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from tace_planner.domain.schedule import (
    SLOT_FIELDS,
    DueTimepoint,
    FollowupParameters,
    TaceDate,
    ended_by,
    match_imaging,
    merge_slot,
    schedule_after,
    superseded_by,
)
from tace_planner.services.followup_records import (
    OPEN,
    chosen_modalities,
    held_data,
    imaged_followups,
    label_of,
)
from tace_planner.services.planning_records import signed_procedures
from tace_planner.store.audit import row_snapshot
from tace_planner.store.followup_rows import FollowupScheduleRow
from tace_planner.store.models import CaseRow, TimepointRow
from tace_planner.store.unit_of_work import UnitOfWork

PROGRESSION_SEEN = "progression seen at"


@dataclass
class _Reusable:
    """An open timepoint of a superseded schedule, to be laid out again or deleted."""

    row: TimepointRow
    schedule_modality: str
    """The modality its schedule gave it (its preset's)."""
    modality_chosen: bool = False
    """A user chose its current modality."""

    def user_settings(self) -> dict[str, str]:
        """What a user set on it that its schedule did not give it."""
        settings = {}
        if self.row.radiologist:
            settings["radiologist"] = self.row.radiologist
        if self.row.modality and (
            self.modality_chosen or self.row.modality != self.schedule_modality
        ):
            settings["modality"] = self.row.modality
        return settings

    def carried(self, modality: str) -> dict[str, str]:
        """What it carries as a scheduled follow-up of the new schedule, whose modality is
        ``modality``: its radiologist, and its modality when a user chose it."""
        settings = self.user_settings()
        return {
            "radiologist": self.row.radiologist,
            "modality": settings.get("modality", modality),
        }


def slot_values(row: TimepointRow) -> dict[str, str]:
    """The values of :data:`~tace_planner.domain.schedule.SLOT_FIELDS` a timepoint holds."""
    return {name: str(getattr(row, name) or "") for name in SLOT_FIELDS}


class ScheduleSync:
    """Brings one case's schedule rows in step (inside the caller's unit of work).

    Parameters
    ----------
    parameters : callable
        Returns the follow-up parameters in use.
    user : str
        Written into new schedules.
    clock : callable
        Aware UTC now.
    """

    def __init__(
        self,
        parameters: Callable[[], FollowupParameters],
        user: str,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._parameters = parameters
        self._user = user
        self._clock = clock

    def _taces(self, session: Session, case_pk: int) -> list[tuple[TaceDate, int]]:
        return [
            (TaceDate(procedure.number, revision.performed_on), procedure.id)
            for procedure, revision in signed_procedures(session, case_pk)
            if revision.performed_on is not None
        ]

    def sync(self, uow: UnitOfWork, case: CaseRow) -> bool:
        """Update the case's schedule rows; True when something changed."""
        session = uow.session
        taces = self._taces(session, case.id)
        schedules = session.scalars(
            select(FollowupScheduleRow)
            .where(
                FollowupScheduleRow.case_pk == case.id,
                FollowupScheduleRow.status.in_(("active", "ended")),
            )
            .order_by(FollowupScheduleRow.id)
        ).all()
        current = schedules[-1] if schedules else None
        changed = False
        if taces:
            latest, procedure_pk = max(taces, key=lambda t: (t[0].on, t[0].number))
            preset_key = case.followup_preset or self._parameters().default_preset
            same_tace = current is not None and (current.tace_number, current.anchor_on) == (
                latest.number,
                latest.on,
            )
            if not (same_tace and current is not None and current.preset == preset_key):
                reason = (
                    f"preset changed to {preset_key}"
                    if same_tace
                    else f"TACE {latest.number} on {latest.on.isoformat()} restarted the schedule"
                )
                reusable: dict[str, _Reusable] = {}
                for old in schedules:
                    reusable.update(
                        self._supersede(session, old, latest.on, reason, drop_open=same_tace)
                    )
                chosen = chosen_modalities(session, [r.row for r in reusable.values()])
                for item in reusable.values():
                    item.modality_chosen = item.row.id in chosen
                current = self._new_schedule(
                    uow, case, latest, procedure_pk, preset_key, reusable, reason
                )
                self._delete_unmatched(uow, case, reusable, reason)
                changed = True
        if current is not None:
            changed |= self._place_imaged(uow, case, current)
            changed |= self._apply_end(session, case, current)
        return changed

    @classmethod
    def settle(cls, uow: UnitOfWork, case: CaseRow) -> bool:
        """Let the imaging the case holds take its place in the case's current schedule, and
        end (or re-open) that schedule as its closure and progression say; True when
        something changed. Lays no schedule out, so it needs no parameters: for a write
        that links imaging to the case (:meth:`CaseService.link_study`) in its own unit of
        work. A case whose schedule is behind its signed TACEs is laid out by :meth:`sync`.
        """
        current = uow.session.scalars(
            select(FollowupScheduleRow)
            .where(
                FollowupScheduleRow.case_pk == case.id,
                FollowupScheduleRow.status.in_(("active", "ended")),
            )
            .order_by(FollowupScheduleRow.id.desc())
        ).first()
        if current is None:
            return False
        placed = cls._place_imaged(uow, case, current)
        return cls._apply_end(uow.session, case, current) or placed

    @classmethod
    def _place_imaged(cls, uow: UnitOfWork, case: CaseRow, schedule: FollowupScheduleRow) -> bool:
        """Let the imaging the case holds stand for the schedule's open follow-ups whose
        window holds its date (see the module docstring); True when one was placed."""
        session = uow.session
        open_rows: list[tuple[TimepointRow, DueTimepoint]] = []
        for row in session.scalars(
            select(TimepointRow)
            .where(TimepointRow.schedule_pk == schedule.id, TimepointRow.status == OPEN)
            .order_by(TimepointRow.due_on, TimepointRow.id)
        ):
            if row.due_on and row.window_start_on and row.window_end_on:
                due = DueTimepoint(
                    row.followup_number or 0, row.due_on, row.window_start_on, row.window_end_on
                )
                open_rows.append((row, due))
        candidates = imaged_followups(session, case.id, schedule.id) if open_rows else []
        if not candidates:
            return False
        # numbered by position: a follow-up number is unique only within one layout
        dues = [replace(due, number=index) for index, (_, due) in enumerate(open_rows)]
        matches = match_imaging(dues, [c.imaged_on for c in candidates], schedule.anchor_on)
        placed = False
        for index, chosen in sorted(matches.items()):
            row, due = open_rows[index]
            if held_data(session, row):  # never deleted: it keeps its place
                continue
            cls._place(uow, case, candidates[chosen], schedule, due, row.modality, row)
            placed = True
        return placed

    @classmethod
    def _apply_end(cls, session: Session, case: CaseRow, schedule: FollowupScheduleRow) -> bool:
        """End the schedule at the earliest of the case's closure and the first progression
        seen at one of its follow-ups; re-open it when that progression was cleared."""
        ends = []
        if case.closed_on is not None:
            ends.append((case.closed_on, case.closure_reason))
        progressed = session.scalars(
            select(TimepointRow)
            .where(
                TimepointRow.schedule_pk == schedule.id,
                TimepointRow.progression_site != "",
                TimepointRow.imaged_on.is_not(None),
            )
            .order_by(TimepointRow.imaged_on)
        ).first()
        if progressed is not None and progressed.imaged_on is not None:
            ends.append((progressed.imaged_on, f"{PROGRESSION_SEEN} {progressed.label}"))
        if ends:
            on, reason = min(ends, key=lambda end: end[0])
            return cls._end(session, schedule, on, reason)
        if schedule.status == "ended" and schedule.end_reason.startswith(PROGRESSION_SEEN):
            for timepoint in session.scalars(
                select(TimepointRow).where(
                    TimepointRow.schedule_pk == schedule.id, TimepointRow.status == "ended"
                )
            ):
                timepoint.status = OPEN
            schedule.status, schedule.ended_on, schedule.end_reason = "active", None, ""
            session.flush()
            return True
        return False

    def _supersede(
        self,
        session: Session,
        schedule: FollowupScheduleRow,
        on: dt.date,
        reason: str,
        *,
        drop_open: bool,
    ) -> dict[str, _Reusable]:
        """Supersede the schedule and its timepoints due from ``on``. With ``drop_open``
        (a new preset for the same TACE) every open or ended timepoint goes: one holding
        data is kept as superseded, the others are returned by label, to be laid out again
        by the new schedule or deleted (never deleted here)."""
        schedule.status = "superseded"
        schedule.ended_on = on
        schedule.end_reason = reason
        preset = (schedule.parameters or {}).get("preset") or {}
        schedule_modality = str(preset.get("modality") or "")
        reusable: dict[str, _Reusable] = {}
        for timepoint in session.scalars(
            select(TimepointRow).where(
                TimepointRow.schedule_pk == schedule.id, TimepointRow.status.in_((OPEN, "ended"))
            )
        ):
            if drop_open and not held_data(session, timepoint):
                reusable[timepoint.label] = _Reusable(timepoint, schedule_modality)
            elif drop_open or (
                timepoint.due_on is not None and superseded_by(timepoint.due_on, on)
            ):
                timepoint.status = "superseded"
        session.flush()
        return reusable

    @staticmethod
    def _delete_unmatched(
        uow: UnitOfWork, case: CaseRow, unmatched: dict[str, _Reusable], reason: str
    ) -> None:
        """Delete the open timepoints the new schedule has no place for, each audited with
        the row as it was and what a user had set on it."""
        for item in sorted(unmatched.values(), key=lambda r: r.row.id):
            row = item.row
            settings = item.user_settings()
            held = (
                "it held " + ", ".join(f"{key} {value}" for key, value in settings.items())
                if settings
                else "nothing had been set on it"
            )
            due = row.due_on.isoformat() if row.due_on else "no date"
            uow.audit(
                action="delete_followup_timepoint",
                entity="timepoint",
                entity_pk=row.id,
                before=row_snapshot(row),
                after={"user_settings_lost": settings},
                summary=f"case {case.id}: {row.label} (due {due}) removed, the new schedule "
                f"has no such follow-up ({reason}); {held}",
            )
            uow.session.delete(row)
        uow.session.flush()

    def _new_schedule(
        self,
        uow: UnitOfWork,
        case: CaseRow,
        tace: TaceDate,
        procedure_pk: int,
        preset_key: str,
        reusable: dict[str, _Reusable],
        reason: str,
    ) -> FollowupScheduleRow:
        """Lay out the schedule; the ``reusable`` timepoints whose label it has are moved
        onto it (keeping what a user set, audited) and removed from ``reusable``."""
        session = uow.session
        parameters = self._parameters()
        preset = parameters.preset(preset_key)
        schedule = FollowupScheduleRow(
            case_pk=case.id,
            procedure_pk=procedure_pk,
            tace_number=tace.number,
            anchor_on=tace.on,
            preset=preset.key,
            parameters={
                "file_version": parameters.version,
                "preset": preset.to_json(),
                "horizon_months": parameters.horizon_months,
            },
            status="active",
            end_reason="",
            created_at=self._clock(),
            created_by=self._user,
        )
        session.add(schedule)
        session.flush()
        taken = set(
            session.scalars(select(TimepointRow.label).where(TimepointRow.case_pk == case.id))
        ) - set(reusable)
        ordinal = len(taken)
        dues = schedule_after(tace.on, preset, parameters.horizon_months)
        free = [due for due in dues if label_of(tace.number, due.number) not in taken]
        candidates = imaged_followups(session, case.id, schedule.id)
        held = match_imaging(free, [c.imaged_on for c in candidates], tace.on)
        for due in dues:
            label = label_of(tace.number, due.number)
            if label in taken:
                continue
            if due.number in held:  # the case holds this follow-up's imaging already
                stale = reusable.pop(label, None)
                self._place(
                    uow,
                    case,
                    candidates[held[due.number]],
                    schedule,
                    due,
                    preset.modality,
                    None if stale is None else stale.row,
                    None if stale is None else stale.carried(preset.modality),
                )
                continue
            ordinal += 1
            if label in reusable:
                self._move(
                    uow,
                    case,
                    reusable.pop(label),
                    schedule,
                    due,
                    preset.modality,
                    ordinal,
                    reason,
                )
                continue
            session.add(
                TimepointRow(
                    case_pk=case.id,
                    kind="follow_up",
                    label=label,
                    ordinal=ordinal,
                    schedule_pk=schedule.id,
                    tace_number=tace.number,
                    followup_number=due.number,
                    due_on=due.due_on,
                    window_start_on=due.window_start_on,
                    window_end_on=due.window_end_on,
                    status=OPEN,
                    modality=preset.modality,
                )
            )
        uow.audit(
            action="schedule_followups",
            entity="followup_schedule",
            entity_pk=schedule,
            after=row_snapshot(schedule),
            summary=f"case {case.id}: follow-up after TACE {tace.number} "
            f"({tace.on.isoformat()}) scheduled: {preset.describe()} "
            f"(parameters version {parameters.version})",
        )
        return schedule

    @staticmethod
    def _place(
        uow: UnitOfWork,
        case: CaseRow,
        row: TimepointRow,
        schedule: FollowupScheduleRow,
        due: DueTimepoint,
        modality: str,
        replaced: TimepointRow | None,
        carried: dict[str, str] | None = None,
    ) -> None:
        """``row`` (holding imaging) takes the place of the schedule's follow-up ``due``;
        ``replaced``, the open timepoint laid out for it before, is deleted (its place in
        the case's order kept). ``row`` keeps its own radiologist and modality and takes
        those ``replaced`` carries (``carried``, default its own values) where it has none;
        one it differs from is dropped and named in the audit entry of the deletion. A
        modality neither has is the schedule's ``modality``. Both audited."""
        before = row_snapshot(row)
        label = label_of(schedule.tace_number, due.number)
        slot = {} if replaced is None else slot_values(replaced) if carried is None else carried
        merged = merge_slot(slot_values(row), slot)
        row.schedule_pk = schedule.id
        row.tace_number = schedule.tace_number
        row.followup_number = due.number
        row.due_on = due.due_on
        row.window_start_on = due.window_start_on
        row.window_end_on = due.window_end_on
        row.status = "done"
        row.radiologist = merged.values["radiologist"]
        row.modality = merged.values["modality"] or modality
        if replaced is not None:  # listed in its place, among the case's timepoints
            row.ordinal = replaced.ordinal
        imaged = row.imaged_on.isoformat() if row.imaged_on else "no date"
        window = f"{due.window_start_on.isoformat()} – {due.window_end_on.isoformat()}"
        said = merged.describe(row.label)
        uow.audit(
            action="place_followup_timepoint",
            entity="timepoint",
            entity_pk=row,
            before=before,
            after=row_snapshot(row),
            summary=f"case {case.id}: {row.label} (imaged {imaged}) is {label} of the "
            f"schedule (due {due.due_on.isoformat()}, window {window})"
            + (f"; from {replaced.label}: {said}" if replaced is not None and said else ""),
        )
        if replaced is not None:
            uow.audit(
                action="delete_followup_timepoint",
                entity="timepoint",
                entity_pk=replaced.id,
                before=row_snapshot(replaced),
                after={
                    "replaced_by": row.label,
                    "taken_over": dict(merged.taken),
                    "dropped": {
                        name: {"value": value, "kept": kept} for name, value, kept in merged.dropped
                    },
                },
                summary=f"case {case.id}: {replaced.label} removed, {row.label} (imaged "
                f"{imaged}) lies in its window and stands for it; "
                + (said or "nothing had been set on it"),
            )
            uow.session.delete(replaced)
        uow.session.flush()

    @staticmethod
    def _move(
        uow: UnitOfWork,
        case: CaseRow,
        item: _Reusable,
        schedule: FollowupScheduleRow,
        due: DueTimepoint,
        modality: str,
        ordinal: int,
        reason: str,
    ) -> None:
        """Move an open timepoint onto the new schedule's dates, keeping what a user set."""
        row = item.row
        settings = item.user_settings()
        before = row_snapshot(row)
        row.schedule_pk = schedule.id
        row.tace_number = schedule.tace_number
        row.followup_number = due.number
        row.due_on = due.due_on
        row.window_start_on = due.window_start_on
        row.window_end_on = due.window_end_on
        row.ordinal = ordinal
        row.status = OPEN
        if "modality" not in settings:
            row.modality = modality
        if settings:
            kept = ", ".join(f"{key} {value}" for key, value in settings.items())
            uow.audit(
                action="move_followup_timepoint",
                entity="timepoint",
                entity_pk=row,
                before=before,
                after=row_snapshot(row),
                summary=f"case {case.id}: {row.label} now due {due.due_on.isoformat()} "
                f"(was {before['due_on'] or 'no date'}, {reason}); kept {kept}",
            )

    @staticmethod
    def _end(session: Session, schedule: FollowupScheduleRow, on: dt.date, reason: str) -> bool:
        changed = False
        for timepoint in session.scalars(
            select(TimepointRow).where(
                TimepointRow.schedule_pk == schedule.id, TimepointRow.status == OPEN
            )
        ):
            if timepoint.due_on is not None and ended_by(timepoint.due_on, on):
                timepoint.status = "ended"
                changed = True
        if schedule.status != "ended":
            schedule.status = "ended"
            schedule.ended_on = on
            schedule.end_reason = reason
            changed = True
        session.flush()
        return changed
