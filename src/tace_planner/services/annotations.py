"""Measurements drawn on images (ruler, ellipse ROI, angle): measure, store, list, delete.

Each write is one unit of work with its audit event. Points are kept in LPS
millimetres with the plane they were drawn on, so a measurement shows again
on the same plane when the series is reopened, in any layout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.annotations import (
    Annotation,
    measure_angle,
    measure_ellipse,
    measure_ruler,
)
from tace_planner.domain.errors import NotFoundError
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.reformat import ellipse_statistics, plane_geometry
from tace_planner.store import repositories
from tace_planner.store.audit import row_snapshot
from tace_planner.store.models import AnnotationRow, SeriesRow
from tace_planner.store.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class AnnotationItem:
    """One stored measurement as the measurement list shows it."""

    pk: int
    series_uid: str
    part: str
    annotation: Annotation
    created_by: str
    created_at: dt.datetime | None

    @property
    def kind(self) -> str:
        """ "ruler", "ellipse" or "angle"."""
        return self.annotation.kind

    def summary(self) -> str:
        """One line: the measurement, and its label if any."""
        text = self.annotation.summary()
        return f"{text} — {self.annotation.label}" if self.annotation.label else text


def measure(
    kind: str,
    points_lps: Sequence[Sequence[float]],
    *,
    volume: ImageVolume,
    orientation: str,
    unit: str = "HU",
    label: str = "",
) -> Annotation:
    """Measure what the user drew on a plane of ``volume`` (no database).

    Parameters
    ----------
    kind : {"ruler", "ellipse", "angle"}
        What was drawn; see :data:`tace_planner.domain.annotations.POINT_COUNTS`.
    points_lps : sequence of (x, y, z)
        The drawn points in LPS mm, on one plane of ``orientation``.
    volume : ImageVolume
        The volume drawn on (its pixels give an ellipse's statistics).
    orientation : str
        "axial", "coronal" or "sagittal".
    unit : str
        Unit of the pixel values ("HU" for CT, "" for MR signal).
    label : str
        Free text.

    Raises
    ------
    ValueError
        Wrong number of points, degenerate shape, or an ellipse with no pixel inside.
    """
    geometry = plane_geometry(volume.index_to_lps, volume.shape, orientation)
    points = [np.asarray(p, dtype=float) for p in points_lps]
    # The plane drawn on: the one through the first point (all points lie on it).
    index = geometry.index_at(float(points[0] @ geometry.normal_lps))
    plane = {
        "orientation": orientation,
        "plane_normal_lps": tuple(float(v) for v in geometry.normal_lps),
        "plane_position_mm": geometry.position_mm(index),
        "label": label,
    }
    if kind == "ruler" and len(points) == 2:
        return measure_ruler(points[0], points[1], **plane)  # type: ignore[arg-type]
    if kind == "angle" and len(points) == 3:
        return measure_angle(points[0], points[1], points[2], **plane)  # type: ignore[arg-type]
    if kind == "ellipse" and len(points) == 3:
        stats = ellipse_statistics(volume.voxels, geometry, index, *points)
        return measure_ellipse(*points, stats, unit=unit, **plane)  # type: ignore[arg-type]
    raise ValueError(f"cannot measure a {kind!r} from {len(points)} point(s)")


class AnnotationService:
    """Stores, lists and deletes the measurements of stored series.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions; each write is its own unit of work.
    user : str
        Written into the annotation and its audit events.
    """

    def __init__(self, session_factory: sessionmaker[Session], user: str) -> None:
        self._sessions = session_factory
        self._user = user

    def list_for_series(self, series_uid: str, part: str | None = None) -> list[AnnotationItem]:
        """The measurements of one series part, oldest first (empty for an unknown series)."""
        with self._sessions() as session:
            series = repositories.find_series(session, series_uid)
            if series is None:
                return []
            rows = session.scalars(
                select(AnnotationRow)
                .where(AnnotationRow.series_pk == series.id, AnnotationRow.part == (part or ""))
                .order_by(AnnotationRow.created_at, AnnotationRow.id)
            ).all()
            return [_item(row, series_uid) for row in rows]

    def add(self, series_uid: str, part: str | None, annotation: Annotation) -> AnnotationItem:
        """Store a measured annotation on a series part.

        Raises
        ------
        NotFoundError
            No series with this UID is stored.
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            series = repositories.find_series(uow.session, series_uid)
            if series is None:
                raise NotFoundError(f"series {series_uid} is not in the database")
            row = AnnotationRow(
                series_pk=series.id,
                part=part or "",
                kind=annotation.kind,
                geometry=annotation.geometry_json(),
                values=dict(annotation.values),
                label=annotation.label,
                created_by=self._user,
            )
            uow.session.add(row)
            uow.audit(
                action="add_annotation",
                entity_pk=row,
                before=None,
                after=row,
                summary=f"{annotation.summary()} on series {series.description!r}",
            )
            uow.commit()
            return _item(row, series_uid)

    def add_measurement(
        self,
        series_uid: str,
        part: str | None,
        kind: str,
        points_lps: Sequence[Sequence[float]],
        *,
        volume: ImageVolume,
        orientation: str,
        unit: str = "HU",
        label: str = "",
    ) -> AnnotationItem:
        """Measure what the user drew (see :func:`measure`) and store it: one user action.

        Raises
        ------
        ValueError
            The drawing cannot be measured.
        NotFoundError
            No series with this UID is stored.
        """
        annotation = measure(
            kind, points_lps, volume=volume, orientation=orientation, unit=unit, label=label
        )
        return self.add(series_uid, part, annotation)

    def relabel(self, pk: int, label: str) -> AnnotationItem:
        """Change the free-text label of a stored measurement.

        Raises
        ------
        NotFoundError
            No annotation with this id.
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            row = uow.session.get(AnnotationRow, pk)
            if row is None:
                raise NotFoundError(f"measurement {pk} does not exist")
            before = row_snapshot(row)
            row.label = label[:200]
            uow.audit(action="relabel_annotation", entity_pk=row, before=before, after=row)
            uow.commit()
            series = uow.session.get(SeriesRow, row.series_pk)
            return _item(row, series.series_uid if series else "")

    def delete(self, pk: int) -> None:
        """Delete a stored measurement.

        Raises
        ------
        NotFoundError
            No annotation with this id.
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            row = uow.session.get(AnnotationRow, pk)
            if row is None:
                raise NotFoundError(f"measurement {pk} does not exist")
            before = row_snapshot(row)
            uow.session.delete(row)
            uow.audit(
                action="delete_annotation",
                entity="annotation",
                entity_pk=pk,
                before=before,
                after=None,
                summary=f"deleted {row.kind} measurement {pk}",
            )
            uow.commit()


def _item(row: AnnotationRow, series_uid: str) -> AnnotationItem:
    return AnnotationItem(
        pk=row.id,
        series_uid=series_uid,
        part=row.part,
        annotation=Annotation.from_json(row.kind, row.geometry, row.values, row.label),
        created_by=row.created_by,
        created_at=row.created_at,
    )
