"""Lesions of a case: the whole liver and the foci, their names, segments and target flags.

A lesion keeps its identity across timepoints; its masks and measurements are
in :mod:`~tace_planner.services.mask_store` and
:mod:`~tace_planner.services.measurement`. RECIST 1.1 target selection is
:mod:`tace_planner.domain.recist`; its thresholds come from ``recist.json``.
Each method is one unit of work with its audit event;
:func:`lesion_for_write` finds or adds a lesion inside another action's unit
of work.
"""

from __future__ import annotations

import base64
import datetime as dt

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError, NotFoundError
from tace_planner.domain.explanation import Advisory
from tace_planner.domain.recist import (
    DEFAULT_RECIST,
    RecistParameters,
    TargetCandidate,
    target_advisories,
)
from tace_planner.services.contour_records import (
    check_name,
    get_lesion,
    lesion_item,
    natural,
    segment_code,
)
from tace_planner.services.contouring_dto import (
    LIVER_LESION_NAME,
    LesionChange,
    LesionItem,
    TimepointChoice,
)
from tace_planner.services.followup_records import follow_up_choices
from tace_planner.services.mask_store import mask_snapshot
from tace_planner.services.visit_names import names_by_pk
from tace_planner.store.audit import row_snapshot
from tace_planner.store.models import (
    AuditEventRow,
    CaseRow,
    LesionRow,
    MeasurementRow,
    SegmentationRow,
    SeriesRow,
    TimepointRow,
)
from tace_planner.store.unit_of_work import UnitOfWork

PALETTE = ("#ff4646", "#ffb020", "#3cd070", "#b070ff", "#ff70c0", "#20c0c0", "#c0c040")
LIVER_COLOUR = "#50c8ff"


class LesionService:
    """Create, change, list and delete the lesions of a case.

    Parameters
    ----------
    session_factory : sessionmaker
    user : str
        Written into the audit events.
    recist : RecistParameters, optional
        Target-selection thresholds (``recist.json``).
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        user: str,
        *,
        recist: RecistParameters = DEFAULT_RECIST,
    ) -> None:
        self._sessions = session_factory
        self._user = user
        self.recist = recist

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, user=self._user)

    def list_lesions(self, case_pk: int) -> list[LesionItem]:
        """The lesions of a case: the liver first, then the foci by name."""
        with self._sessions() as session:
            rows = session.scalars(select(LesionRow).where(LesionRow.case_pk == case_pk)).all()
            items = [lesion_item(r) for r in rows]
        return sorted(items, key=lambda item: (not item.is_liver, natural(item.name)))

    def lesion(self, lesion_pk: int) -> LesionItem:
        """One lesion.

        Raises
        ------
        NotFoundError
            No such lesion.
        """
        with self._sessions() as session:
            return lesion_item(get_lesion(session, lesion_pk))

    def find(self, case_pk: int, name: str) -> LesionItem | None:
        """The lesion of a case called ``name`` (case-insensitive), if any."""
        return next(
            (i for i in self.list_lesions(case_pk) if i.name.casefold() == name.casefold()), None
        )

    def next_focus_name(self, case_pk: int) -> str:
        """The first name of the form F1, F2, … that the case has never used.

        A name a deleted or renamed lesion once had is not drawn again (the audit
        trail keeps it), so that a name in the audit trail means one focus only.
        """
        with self._sessions() as session:
            used = ever_used_names(session, case_pk)
        number = 1
        while f"f{number}" in used:
            number += 1
        return f"F{number}"

    def create_lesion(
        self,
        case_pk: int,
        name: str | None = None,
        *,
        kind: str = "focus",
        couinaud_segment: str | None = None,
        is_target: bool = False,
        override_reason: str = "",
        colour: str | None = None,
    ) -> LesionChange:
        """Add a lesion (the liver or a focus) to a case.

        A focus without a name gets the next free ``F<n>``; the liver is called
        "Liver". Asking for a target that breaks a RECIST 1.1 selection rule
        stores the lesion as non-target unless ``override_reason`` is given.

        Raises
        ------
        InvalidInputError
            An empty, duplicate or malformed name, an unknown kind or segment, a
            second liver, a focus called "Liver".
        NotFoundError
            No such case.
        """
        if name is None:
            name = LIVER_LESION_NAME if kind == "liver" else self.next_focus_name(case_pk)
        with self._uow() as uow:
            row, created = lesion_for_write(
                uow, case_pk, name, kind, couinaud_segment, colour=colour
            )
            if not created:
                raise InvalidInputError("lesion name", f"{row.name!r} is already used in this case")
            advisories: tuple[Advisory, ...] = ()
            applied = True
            if is_target and kind == "focus":
                advisories = self._target_advisories(uow.session, row)
                applied = not advisories or bool(override_reason.strip())
                if applied:
                    row.is_target = True
                    row.target_override_reason = override_reason.strip() if advisories else ""
            uow.audit(action="create", entity_pk=row, after=row, summary=f"lesion {name} added")
            uow.commit()
            return LesionChange(lesion_item(row), advisories, applied)

    def update_lesion(
        self,
        lesion_pk: int,
        *,
        name: str | None = None,
        couinaud_segment: str | None = None,
        is_target: bool | None = None,
        override_reason: str | None = None,
        colour: str | None = None,
        expected_version: int | None = None,
    ) -> LesionChange:
        """Rename a lesion, set its segment, colour or target flag (one action).

        Making it a target is checked against RECIST 1.1 (≤ 5 targets, ≤ 2 per
        organ, longest diameter ≥ 10 mm or ≥ 2 × a slice thickness above 5 mm);
        a broken rule comes back as an advisory and the flag is left unchanged
        unless ``override_reason`` is given, which is stored with the lesion.

        Raises
        ------
        ConcurrentEditError
            ``expected_version`` is not the stored version (someone else saved).
        InvalidInputError, NotFoundError
        """
        with self._uow() as uow:
            row = get_lesion(uow.session, lesion_pk)
            if expected_version is not None and row.version != expected_version:
                raise ConcurrentEditError(
                    f"lesion {row.name} was changed on another workstation — reload"
                )
            before = row_snapshot(row)
            if name is not None:
                new_name = check_name(name, row.kind)
                clash = uow.session.scalars(
                    select(LesionRow.name).where(
                        LesionRow.case_pk == row.case_pk, LesionRow.id != row.id
                    )
                ).all()
                if any(other.casefold() == new_name.casefold() for other in clash):
                    raise InvalidInputError("lesion name", f"{new_name!r} is already used")
                row.name = new_name
            if couinaud_segment is not None:
                row.couinaud_segment = segment_code(couinaud_segment)
            if colour is not None:
                row.colour = colour
            advisories: tuple[Advisory, ...] = ()
            applied = True
            if is_target is not None:
                if is_target and row.kind == "liver":
                    raise InvalidInputError("target", "the liver contour cannot be a target lesion")
                if is_target and not row.is_target:
                    advisories = self._target_advisories(uow.session, row)
                    reason = (override_reason or "").strip()
                    applied = not advisories or bool(reason)
                    if applied:
                        row.is_target = True
                        row.target_override_reason = reason if advisories else ""
                elif not is_target:
                    row.is_target = False
                    row.target_override_reason = ""
            elif override_reason is not None and row.is_target:
                row.target_override_reason = override_reason.strip()
            action = "override_target" if advisories and applied else "update"
            uow.audit(
                action=action,
                entity_pk=row,
                before=before,
                after=row,
                summary=f"lesion {row.name} changed",
            )
            uow.commit()
            return LesionChange(lesion_item(row), advisories, applied)

    def set_segment(
        self,
        lesion_pk: int,
        segment: str | None,
        *,
        reason: str = "",
        expected_version: int | None = None,
    ) -> LesionItem:
        """Set a focus's Couinaud segment ("" or None clears it), audited with who, before,
        after and the reason.

        Raises
        ------
        ConcurrentEditError
            ``expected_version`` is not the stored version.
        InvalidInputError
            The text names no segment, or the lesion is the whole-liver contour.
        NotFoundError
        """
        code = segment_code(segment)
        with self._uow() as uow:
            row = get_lesion(uow.session, lesion_pk)
            if expected_version is not None and row.version != expected_version:
                raise ConcurrentEditError(
                    f"lesion {row.name} was changed on another workstation — reload"
                )
            if row.kind == "liver":
                raise InvalidInputError(
                    "Couinaud segment", "the whole-liver contour has no segment: choose a focus"
                )
            before = row_snapshot(row)
            old = row.couinaud_segment or ""
            row.couinaud_segment = code
            uow.flush()
            after = {**row_snapshot(row), "reason": reason.strip()}
            summary = f"lesion {row.name}: Couinaud segment {old or '—'} → {code or '—'}"
            if reason.strip():
                summary += f" ({reason.strip()})"
            uow.audit(
                action="set_segment",
                entity_pk=row,
                before=before,
                after=after,
                summary=summary,
            )
            uow.commit()
            return lesion_item(row)

    def timepoints(self, case_pk: int) -> list[TimepointChoice]:
        """The timepoints of a case, baseline first, then the follow-ups in order, each
        with its visit name (``name``: its schedule slot when placed in one, as the
        worklist names it; the baseline and any other visit by its label)."""
        with self._sessions() as session:
            rows = session.scalars(
                select(TimepointRow)
                .where(TimepointRow.case_pk == case_pk)
                .order_by(TimepointRow.ordinal, TimepointRow.id)
            ).all()
            # the day only decides a follow-up's readiness, never its name
            names = names_by_pk(follow_up_choices(session, case_pk, dt.date.today()))
            return [
                TimepointChoice(r.id, r.label, r.kind, r.imaged_on, name=names.get(r.id, r.label))
                for r in rows
            ]

    def rename_lesion(self, lesion_pk: int, name: str) -> LesionItem:
        """Rename a lesion (the name is unique in its case)."""
        return self.update_lesion(lesion_pk, name=name).lesion

    def delete_lesion(self, lesion_pk: int) -> None:
        """Delete a lesion with its masks and measurements (audited; :meth:`restore_lesion`
        brings them back)."""
        with self._uow() as uow:
            row = get_lesion(uow.session, lesion_pk)
            before = row_snapshot(row)
            # Masks and measurements go into the audit trail, so that they can be restored.
            segmentations = uow.session.scalars(
                select(SegmentationRow).where(SegmentationRow.lesion_pk == lesion_pk)
            ).all()
            before["segmentations"] = [mask_snapshot(seg) for seg in segmentations]
            before["measurements"] = [
                row_snapshot(m)
                for m in uow.session.scalars(
                    select(MeasurementRow)
                    .where(MeasurementRow.segmentation_pk.in_([s.id for s in segmentations]))
                    .order_by(MeasurementRow.id)
                )
            ]
            seg_pks = select(SegmentationRow.id).where(SegmentationRow.lesion_pk == lesion_pk)
            uow.session.execute(
                delete(MeasurementRow).where(MeasurementRow.segmentation_pk.in_(seg_pks))
            )
            uow.session.execute(
                delete(SegmentationRow).where(SegmentationRow.lesion_pk == lesion_pk)
            )
            uow.session.delete(row)
            uow.audit(
                action="delete",
                entity="lesion",
                entity_pk=lesion_pk,
                before=before,
                summary=f"lesion {before.get('name')} deleted",
            )
            uow.commit()

    def restore_lesion(self, lesion_pk: int) -> LesionItem:
        """Bring back a deleted lesion with its masks and measurements, from its delete audit.

        The lesion keeps its id when that id is still free (else it gets a new
        one: the returned item says which). Masks on a series or timepoint that
        no longer exists stay deleted. Both the delete and the restore stay in
        the audit trail.

        Raises
        ------
        NotFoundError
            No deleted lesion with this id in the audit trail.
        InvalidInputError
            The lesion still exists, or its name is used again in its case.
        """
        with self._uow() as uow:
            session = uow.session
            event = session.scalars(
                select(AuditEventRow)
                .where(
                    AuditEventRow.entity == "lesion",
                    AuditEventRow.entity_pk == lesion_pk,
                    AuditEventRow.action == "delete",
                )
                .order_by(AuditEventRow.id.desc())
            ).first()
            if event is None or not event.before:
                raise NotFoundError(f"no deleted lesion {lesion_pk} in the audit trail")
            restored = session.scalar(
                select(AuditEventRow.id).where(
                    AuditEventRow.entity == "lesion",
                    AuditEventRow.action == "restore",
                    AuditEventRow.id > event.id,
                    AuditEventRow.before["deleted_pk"].as_integer() == lesion_pk,
                )
            )
            if restored is not None:
                raise InvalidInputError("lesion", f"lesion {lesion_pk} is already restored")
            before = dict(event.before)
            case_pk = int(before["case_pk"])
            if session.get(CaseRow, case_pk) is None:
                raise NotFoundError(f"case {case_pk} of lesion {before.get('name')} is deleted")
            name = str(before["name"])
            names = session.scalars(select(LesionRow.name).where(LesionRow.case_pk == case_pk))
            if any(other.casefold() == name.casefold() for other in names):
                raise InvalidInputError(
                    "lesion name",
                    f"{name!r} is used again since it was deleted: rename that lesion first",
                )
            row = LesionRow(
                case_pk=case_pk,
                name=name,
                kind=str(before.get("kind") or "focus"),
                couinaud_segment=str(before.get("couinaud_segment") or ""),
                is_target=bool(before.get("is_target")),
                target_override_reason=str(before.get("target_override_reason") or ""),
                colour=str(before.get("colour") or ""),
            )
            if session.get(LesionRow, lesion_pk) is None:
                row.id = lesion_pk
            session.add(row)
            uow.flush()
            _restore_masks(session, row.id, before)
            uow.flush()
            uow.audit(
                action="restore",
                entity="lesion",
                entity_pk=row.id,
                before={"deleted_pk": lesion_pk, "delete_event": event.id},
                after=row,
                summary=f"lesion {name} restored",
            )
            uow.commit()
            return lesion_item(row)

    def target_advisories(self, lesion_pk: int) -> tuple[Advisory, ...]:
        """The RECIST 1.1 rules making this lesion a target would break (none: allowed)."""
        with self._sessions() as session:
            return self._target_advisories(session, get_lesion(session, lesion_pk))

    def _target_advisories(self, session: Session, row: LesionRow) -> tuple[Advisory, ...]:
        others = session.scalars(
            select(LesionRow).where(
                LesionRow.case_pk == row.case_pk,
                LesionRow.is_target.is_(True),
                LesionRow.id != row.id,
            )
        ).all()
        # Every focus contoured here is a liver lesion: its organ is the liver.
        current = [TargetCandidate(o.name, "liver") for o in others if o.kind == "focus"]
        current += [TargetCandidate(o.name, o.kind) for o in others if o.kind != "focus"]
        diameter, thickness = _latest_diameter(session, row.id)
        candidate = TargetCandidate(row.name, "liver", diameter, thickness)
        return target_advisories(candidate, current, self.recist)


def ever_used_names(session: Session, case_pk: int) -> set[str]:
    """Every name (casefolded) a lesion of the case has now or had: its lesions, and the
    names in the lesion audit events of the case (deleted, renamed, restored lesions)."""
    used = {
        name.casefold()
        for name in session.scalars(select(LesionRow.name).where(LesionRow.case_pk == case_pk))
    }
    events = session.execute(
        select(AuditEventRow.before, AuditEventRow.after).where(
            AuditEventRow.entity == "lesion",
            or_(
                AuditEventRow.before["case_pk"].as_integer() == case_pk,
                AuditEventRow.after["case_pk"].as_integer() == case_pk,
            ),
        )
    ).all()
    for snapshots in events:
        for snapshot in snapshots:
            if isinstance(snapshot, dict) and snapshot.get("case_pk") == case_pk:
                name = snapshot.get("name")
                if isinstance(name, str):
                    used.add(name.casefold())
    return used


def lesion_for_write(
    uow: UnitOfWork,
    case_pk: int,
    name: str,
    kind: str,
    couinaud_segment: str | None,
    *,
    colour: str | None = None,
) -> tuple[LesionRow, bool]:
    """The lesion of a case called ``name`` and whether it is new (added, flushed, not committed).

    Runs inside the caller's unit of work, so that a lesion, its mask and its
    measurement are saved together or not at all. A segment given for an
    existing lesion replaces its segment.

    Raises
    ------
    InvalidInputError
        A malformed name or segment, a kind other than liver/focus, a second
        liver, or a name that belongs to a lesion of the other kind.
    NotFoundError
        No such case.
    """
    if kind not in ("liver", "focus"):
        raise InvalidInputError("lesion kind", f"must be liver or focus, got {kind!r}")
    name = check_name(name, kind)
    segment = None if couinaud_segment is None else segment_code(couinaud_segment)
    session = uow.session
    if session.get(CaseRow, case_pk) is None:
        raise NotFoundError(f"case {case_pk} does not exist")
    existing = session.scalars(select(LesionRow).where(LesionRow.case_pk == case_pk)).all()
    same = next((r for r in existing if r.name.casefold() == name.casefold()), None)
    if same is not None:
        if same.kind != kind:
            raise InvalidInputError(
                "lesion name",
                f"{same.name!r} is the {same.kind} contour of this case, not a {kind}",
            )
        if segment is not None and segment != same.couinaud_segment:
            same.couinaud_segment = segment
        return same, False
    if kind == "liver" and any(r.kind == "liver" for r in existing):
        raise InvalidInputError("lesion kind", "the case already has a liver contour")
    focus_count = sum(1 for r in existing if r.kind == "focus")
    row = LesionRow(
        case_pk=case_pk,
        name=name,
        kind=kind,
        couinaud_segment=segment or "",
        is_target=False,
        colour=colour or (LIVER_COLOUR if kind == "liver" else PALETTE[focus_count % len(PALETTE)]),
    )
    session.add(row)
    uow.flush()
    return row, True


def _restore_masks(session: Session, lesion_pk: int, before: dict[str, object]) -> None:
    """Add back the masks and measurements of a delete audit snapshot (under ``lesion_pk``)."""
    segment_pks: dict[int, int] = {}
    for snapshot in before.get("segmentations") or []:  # type: ignore[union-attr]
        timepoint = session.get(TimepointRow, snapshot.get("timepoint_pk"))
        series = session.get(SeriesRow, snapshot.get("series_pk"))
        if timepoint is None or series is None:
            continue
        seg = SegmentationRow(
            lesion_pk=lesion_pk,
            timepoint_pk=timepoint.id,
            series_pk=series.id,
            grid_shape=snapshot.get("grid_shape") or {},
            mask_packed=base64.b64decode(snapshot["mask_packed_b64"]),
            method=snapshot.get("method") or "manual",
            updated_at=_timestamp(snapshot.get("updated_at")),
            updated_by=snapshot.get("updated_by") or "",
        )
        session.add(seg)
        session.flush()
        segment_pks[int(snapshot["id"])] = seg.id
    for snapshot in before.get("measurements") or []:  # type: ignore[union-attr]
        seg_pk = segment_pks.get(int(snapshot.get("segmentation_pk", -1)))
        if seg_pk is None:
            continue
        values = {
            key: snapshot.get(key)
            for key in (
                "volume_cm3",
                "longest_axial_diameter_mm",
                "short_axis_mm",
                "longest_3d_diameter_mm",
                "mean_hu",
                "enhancing_fraction",
            )
        }
        session.add(
            MeasurementRow(
                segmentation_pk=seg_pk,
                method=snapshot.get("method") or "auto",
                trust=snapshot.get("trust") or "ok",
                details=snapshot.get("details") or {},
                measured_at=_timestamp(snapshot.get("measured_at")),
                measured_by=snapshot.get("measured_by") or "",
                **{k: None if v is None else float(v) for k, v in values.items()},
            )
        )


def _timestamp(text: object) -> dt.datetime:
    """An audit snapshot's ISO timestamp (timezone-aware UTC; now when missing)."""
    if not text:
        return dt.datetime.now(dt.UTC)
    value = dt.datetime.fromisoformat(str(text))
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _latest_diameter(session: Session, lesion_pk: int) -> tuple[float | None, float | None]:
    """Latest longest axial diameter of a lesion (earliest timepoint) and its slice thickness."""
    found = session.execute(
        select(MeasurementRow.longest_axial_diameter_mm, MeasurementRow.details, SeriesRow)
        .join(SegmentationRow, MeasurementRow.segmentation_pk == SegmentationRow.id)
        .join(TimepointRow, TimepointRow.id == SegmentationRow.timepoint_pk)
        .join(SeriesRow, SeriesRow.id == SegmentationRow.series_pk)
        .where(SegmentationRow.lesion_pk == lesion_pk)
        .order_by(TimepointRow.ordinal, MeasurementRow.measured_at.desc(), MeasurementRow.id.desc())
    ).first()
    if found is None:
        return None, None
    diameter, details, series = found
    thickness = (details or {}).get("slice_thickness_mm", series.slice_thickness_mm)
    return diameter, None if thickness is None else float(thickness)
