"""Lesion masks: one per lesion and timepoint, on the grid of the series it was drawn on.

Writes are guarded by the segmentation row's version (optimistic locking): a
save based on an older version, or a new contour where someone else has just
saved one, is refused with who saved first and when. A replaced mask stays
recoverable: its packed data goes into the audit event's ``before`` snapshot
(:meth:`MaskStore.previous_mask` reads it back). :func:`write_mask` does the
write inside another action's unit of work.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError, NotFoundError
from tace_planner.imaging.mask_codec import pack_mask, unpack_mask
from tace_planner.services.contour_records import (
    ContourConflict,
    changed_by,
    decode_segmentation,
    get_lesion,
    lesion_item,
    natural,
    segmentation_item,
    series_context,
    utc_now,
)
from tace_planner.services.contouring_dto import NEW, LesionItem, LesionMask, SegmentationItem
from tace_planner.store import repositories
from tace_planner.store.audit import row_snapshot
from tace_planner.store.models import (
    AuditEventRow,
    LesionRow,
    MeasurementRow,
    SegmentationRow,
    SeriesRow,
)
from tace_planner.store.unit_of_work import UnitOfWork

METHODS = ("auto", "manual", "edited")


class MaskStore:
    """Save, load and list lesion masks.

    Parameters
    ----------
    session_factory : sessionmaker
    user : str
        Written into the rows and audit events.
    """

    def __init__(self, session_factory: sessionmaker[Session], user: str) -> None:
        self._sessions = session_factory
        self._user = user

    def series_context(self, series_uid: str) -> tuple[int, int, str]:
        """(case_pk, timepoint_pk, timepoint label) of a series' study.

        Raises
        ------
        NotFoundError
            No such series.
        InvalidInputError
            Its study is not linked to a timepoint of a case.
        """
        with self._sessions() as session:
            _, _, timepoint = series_context(session, series_uid)
            return timepoint.case_pk, timepoint.id, timepoint.label

    def stored_version(self, lesion_pk: int, timepoint_pk: int) -> int:
        """The version of a lesion's stored contour at a timepoint (:data:`NEW` when none)."""
        with self._sessions() as session:
            version = session.scalar(
                select(SegmentationRow.version).where(
                    SegmentationRow.lesion_pk == lesion_pk,
                    SegmentationRow.timepoint_pk == timepoint_pk,
                )
            )
        return NEW if version is None else int(version)

    def save_mask(
        self,
        lesion_pk: int,
        timepoint_pk: int,
        series_uid: str,
        part: str | None,
        mask: npt.ArrayLike,
        method: str = "manual",
        *,
        expected_version: int | None = None,
    ) -> SegmentationItem:
        """Store a lesion's mask at a timepoint (replacing the previous one), audited.

        ``method`` is "auto", "manual" or "edited"; a manual save over an auto
        contour is recorded as "edited". ``expected_version`` (the version the
        editor loaded, :data:`NEW` for none) guards against another
        workstation's newer save.

        Raises
        ------
        ConcurrentEditError
            The stored mask is not the one of ``expected_version``.
        InvalidInputError
            An unknown method, or a mask that is not 3-D.
        NotFoundError
            No such lesion or series.
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            lesion = get_lesion(uow.session, lesion_pk)
            with contour_conflicts_reported(
                uow, lesion.name, lesion_pk, timepoint_pk, self._sessions
            ):
                row = write_mask(
                    uow,
                    lesion,
                    timepoint_pk,
                    series_uid,
                    part,
                    mask,
                    method,
                    expected_version=expected_version,
                )
            commit_contour(uow, lesion.name, lesion_pk, timepoint_pk, self._sessions)
            return segmentation_item(row, series_uid)

    def delete_mask(self, lesion_pk: int, timepoint_pk: int) -> SegmentationItem | None:
        """Remove a lesion's contour at a timepoint with its measurements (audited with the
        mask, so that it can be restored); None when there was none.

        An edit that empties a contour (an undone first contour, an erased focus)
        ends here: an empty mask has no volume, and its old measurement must not
        stay behind as the lesion's latest.
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            lesion = get_lesion(uow.session, lesion_pk)
            row = _segmentation_row(uow.session, lesion_pk, timepoint_pk)
            if row is None:
                return None
            uid = uow.session.scalar(
                select(SeriesRow.series_uid).where(SeriesRow.id == row.series_pk)
            )
            item = segmentation_item(row, str(uid))
            before = mask_snapshot(row)
            measurements = uow.session.scalars(
                select(MeasurementRow).where(MeasurementRow.segmentation_pk == row.id)
            ).all()
            before["measurements"] = [row_snapshot(m) for m in measurements]
            for measurement in measurements:
                uow.session.delete(measurement)
            uow.session.delete(row)
            uow.audit(
                action="delete",
                entity="segmentation",
                entity_pk=item.pk,
                before=before,
                summary=f"contour of {lesion.name} removed",
            )
            uow.commit()
            return item

    def load_mask(self, lesion_pk: int, timepoint_pk: int) -> LesionMask | None:
        """A lesion's mask at a timepoint, decoded (None when not contoured)."""
        with self._sessions() as session:
            lesion = get_lesion(session, lesion_pk)
            row = _segmentation_row(session, lesion_pk, timepoint_pk)
            if row is None:
                return None
            uid = session.scalar(select(SeriesRow.series_uid).where(SeriesRow.id == row.series_pk))
            return LesionMask(
                lesion_item(lesion), segmentation_item(row, str(uid)), decode_segmentation(row)
            )

    def previous_mask(self, lesion_pk: int, timepoint_pk: int) -> npt.NDArray[np.bool_] | None:
        """The mask the latest save of this contour replaced, from the audit trail (None: none)."""
        with self._sessions() as session:
            row = _segmentation_row(session, lesion_pk, timepoint_pk)
            if row is None:
                return None
            events = session.scalars(
                select(AuditEventRow)
                .where(
                    AuditEventRow.entity == "segmentation",
                    AuditEventRow.entity_pk == row.id,
                    AuditEventRow.action == "update",
                )
                .order_by(AuditEventRow.at.desc(), AuditEventRow.id.desc())
            ).all()
            for event in events:
                before = event.before or {}
                if "mask_packed_b64" in before:
                    grid = before.get("grid_shape") or {}
                    data = base64.b64decode(before["mask_packed_b64"])
                    return unpack_mask(grid.get("bbox", (0,) * 6), data, grid["shape"])
        return None

    def masks_of_series(self, series_uid: str, part: str | None = None) -> list[LesionMask]:
        """Every lesion mask drawn on one series part (liver first)."""
        with self._sessions() as session:
            series = repositories.find_series(session, series_uid)
            if series is None:
                return []
            pairs = session.execute(
                select(LesionRow, SegmentationRow)
                .join(SegmentationRow, SegmentationRow.lesion_pk == LesionRow.id)
                .where(SegmentationRow.series_pk == series.id)
            ).all()
            out = [
                LesionMask(
                    lesion_item(lesion),
                    segmentation_item(seg, series_uid),
                    decode_segmentation(seg),
                )
                for lesion, seg in pairs
                if (seg.grid_shape or {}).get("part") == part
            ]
        return sorted(out, key=lambda m: (not m.lesion.is_liver, natural(m.lesion.name)))

    def segmentations_of_case(self, case_pk: int) -> list[tuple[LesionItem, SegmentationItem]]:
        """Every stored segmentation of a case with its lesion, masks not decoded."""
        with self._sessions() as session:
            rows = session.execute(
                select(LesionRow, SegmentationRow, SeriesRow.series_uid)
                .join(SegmentationRow, SegmentationRow.lesion_pk == LesionRow.id)
                .join(SeriesRow, SeriesRow.id == SegmentationRow.series_pk)
                .where(LesionRow.case_pk == case_pk)
            ).all()
            return [
                (lesion_item(lesion), segmentation_item(seg, str(uid))) for lesion, seg, uid in rows
            ]

    def masks_of_case(self, case_pk: int) -> list[LesionMask]:
        """Every stored mask of a case, every timepoint and series (liver first)."""
        with self._sessions() as session:
            rows = session.execute(
                select(LesionRow, SegmentationRow, SeriesRow.series_uid)
                .join(SegmentationRow, SegmentationRow.lesion_pk == LesionRow.id)
                .join(SeriesRow, SeriesRow.id == SegmentationRow.series_pk)
                .where(LesionRow.case_pk == case_pk)
            ).all()
            out = [
                LesionMask(
                    lesion_item(lesion),
                    segmentation_item(seg, str(uid)),
                    decode_segmentation(seg),
                )
                for lesion, seg, uid in rows
            ]
        return sorted(out, key=lambda m: (not m.lesion.is_liver, natural(m.lesion.name)))


def _segmentation_row(
    session: Session, lesion_pk: int, timepoint_pk: int
) -> SegmentationRow | None:
    return session.scalar(
        select(SegmentationRow).where(
            SegmentationRow.lesion_pk == lesion_pk,
            SegmentationRow.timepoint_pk == timepoint_pk,
        )
    )


def mask_snapshot(row: SegmentationRow) -> dict[str, Any]:
    """Audit snapshot of a segmentation with its packed mask (base64), so it can be restored."""
    snapshot = {k: v for k, v in row_snapshot(row).items() if k != "mask_packed"}
    snapshot["mask_packed_b64"] = base64.b64encode(bytes(row.mask_packed)).decode("ascii")
    return snapshot


def write_mask(
    uow: UnitOfWork,
    lesion: LesionRow,
    timepoint_pk: int,
    series_uid: str,
    part: str | None,
    mask: npt.ArrayLike,
    method: str,
    *,
    expected_version: int | None = None,
) -> SegmentationRow:
    """Store a lesion's mask inside the caller's unit of work (flushed and audited, not committed).

    Run it inside :func:`contour_conflicts_reported` and commit with
    :func:`commit_contour`: a save by someone else that landed between the
    caller's read and this write becomes a "changed by … at …" refusal.

    Raises
    ------
    ConcurrentEditError
        ``expected_version`` is given and the stored contour is another one.
    InvalidInputError, NotFoundError
    """
    if method not in METHODS:
        raise InvalidInputError("contour method", f"must be auto, manual or edited: {method!r}")
    array = np.asarray(mask, dtype=bool)
    if array.ndim != 3:
        raise InvalidInputError("mask", f"must be (z, y, x), got shape {array.shape}")
    box, data = pack_mask(array)
    grid = {"shape": list(array.shape), "bbox": list(box), "part": part}
    session = uow.session
    series = repositories.find_series(session, series_uid)
    if series is None:
        raise NotFoundError(f"series {series_uid} is not in the database")
    row = _segmentation_row(session, lesion.id, timepoint_pk)
    what = f"the contour of {lesion.name}"
    if row is None:
        if expected_version is not None and expected_version != NEW:
            raise ConcurrentEditError(f"{what} was deleted since you opened it — reload")
        row = SegmentationRow(lesion_pk=lesion.id, timepoint_pk=timepoint_pk)
        session.add(row)
        before = None
        action = "create"
    else:
        if expected_version is not None and row.version != expected_version:
            raise changed_by(what, row.updated_by, row.updated_at)
        before = mask_snapshot(row)
        action = "update"
        if method == "manual" and row.method in ("auto", "edited"):
            method = "edited"
    row.series_pk = series.id
    row.grid_shape = grid
    row.mask_packed = data
    row.method = method
    row.updated_at = utc_now()
    row.updated_by = uow.user
    uow.flush()  # a save that landed since our read fails here: see commit_contour
    after = {k: v for k, v in row_snapshot(row).items() if k != "mask_packed"}
    uow.audit(
        action=action,
        entity="segmentation",
        entity_pk=row.id,
        before=before,
        after=after,
        summary=f"contour of {lesion.name} saved ({method})",
    )
    return row


def commit_contour(
    uow: UnitOfWork,
    name: str,
    lesion_pk: int | None,
    timepoint_pk: int,
    sessions: sessionmaker[Session],
) -> None:
    """Commit a contour write; a lost race becomes a "changed by … at …" refusal."""
    with contour_conflicts_reported(uow, name, lesion_pk, timepoint_pk, sessions):
        uow.commit()


@contextmanager
def contour_conflicts_reported(
    uow: UnitOfWork,
    name: str,
    lesion_pk: int | None,
    timepoint_pk: int,
    sessions: sessionmaker[Session],
) -> Iterator[None]:
    """Turn a failed version check or unique key inside a contour write into who won the race."""
    try:
        yield
    except ContourConflict:
        raise
    except (ConcurrentEditError, IntegrityError):
        uow.rollback()
        raise winner_refusal(sessions, name, lesion_pk, timepoint_pk) from None


def winner_refusal(
    sessions: sessionmaker[Session], name: str, lesion_pk: int | None, timepoint_pk: int
) -> ConcurrentEditError:
    """The "changed by … at …" refusal of a contour write that lost a race."""
    with sessions() as session:
        return _winner_in(session, name, lesion_pk, timepoint_pk)


def _winner_in(
    session: Session, name: str, lesion_pk: int | None, timepoint_pk: int
) -> ConcurrentEditError:
    """Who saved the contour (or created the lesion) first, read after losing the race."""
    row = None
    if lesion_pk is not None:
        row = _segmentation_row(session, lesion_pk, timepoint_pk)
    if row is None:
        row = session.scalar(
            select(SegmentationRow)
            .join(LesionRow, LesionRow.id == SegmentationRow.lesion_pk)
            .where(LesionRow.name == name, SegmentationRow.timepoint_pk == timepoint_pk)
        )
    what = f"the contour of {name}"
    if row is None:
        return changed_by(what, None, None)
    return changed_by(what, row.updated_by, row.updated_at)
