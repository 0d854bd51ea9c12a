"""Removing a stored series: the checks, the audited deletion of its rows, what was removed.

Used by :meth:`tace_planner.services.studies.StudyService.remove_series`, which owns the
transaction (the image store's lock, the unit of work, the commit) and deletes the files
after the commit; the removals recorded here are what a demo re-run reads to leave a
removed series out (:func:`find_removed_series`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tace_planner.domain.annotations import Annotation
from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.services.dto import SeriesItem
from tace_planner.store import repositories
from tace_planner.store.audit import row_snapshot
from tace_planner.store.models import (
    AnnotationRow,
    AuditEventRow,
    InstanceRow,
    SegmentationRow,
    SeriesRow,
)
from tace_planner.store.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class RemovedSeries(SeriesItem):
    """A series :meth:`StudyService.remove_series` deleted, with the measurements it took."""

    removed_measurements: tuple[str, ...] = ()
    """One line per ruler, ellipse or angle deleted with it (each audited), e.g.
    "measurement 3: Ruler 20.0 mm — F1 long axis"."""


_PHASE_WORDS = {
    "native": "native phase",
    "arterial": "arterial phase",
    "venous": "portal venous phase",
    "delayed": "delayed phase",
}
_SEQUENCE_WORDS = {"t1": "T1", "t2": "T2", "dwi": "DWI", "adc": "ADC map"}


def series_name(row: SeriesRow) -> str:
    """A series as a user knows it, for messages.

    'Series 3 "Abdomen arterial" (CT, arterial phase, 2026-03-02)': its number and
    description, with the modality, the CT phase or MR sequence and the date when
    known; its Series Instance UID only when it has neither number nor description.
    """
    description = row.description.strip()
    words = ["Series" if row.series_number is None else f"Series {row.series_number}"]
    if description:
        words.append(f'"{description}"')
    elif row.series_number is None:
        words.append(f"with UID {row.series_uid}")
    details = [
        row.modality,
        _PHASE_WORDS.get(row.phase, ""),
        _SEQUENCE_WORDS.get(row.sequence, ""),
        row.series_on.isoformat() if row.series_on else "",
    ]
    known = ", ".join(detail for detail in details if detail)
    return " ".join(words) + (f" ({known})" if known else "")


class SeriesHasMeasurements(InvalidInputError):
    """A series to remove holds measurements (rulers …) and removing them was not confirmed.

    ``series_name`` is the series as a user knows it (:func:`series_name`); the message
    starts with it.
    """

    def __init__(
        self,
        series_uid: str,
        description: str,
        measurements: Sequence[str],
        *,
        series_name: str = "",
    ) -> None:
        count = len(measurements)
        name = series_name or (
            f'Series "{description}"' if description else f"Series with UID {series_uid}"
        )
        super().__init__(
            name,
            f"has {count} measurement(s) drawn on it ({'; '.join(measurements)}); it is kept, "
            "since a measurement may be a documented RECIST diameter: delete them first, or "
            "confirm that they go with it",
        )
        self.series_uid = series_uid
        self.description = description
        self.series_name = name
        self.measurements = tuple(measurements)


def _measurement_line(row: AnnotationRow) -> str:
    """ "measurement 3: Ruler 20.0 mm — F1 long axis" for a stored annotation."""
    try:
        text = Annotation.from_json(row.kind, row.geometry, row.values, row.label).summary()
    except (KeyError, TypeError, ValueError):
        text = row.kind
    label = f" — {row.label}" if row.label else ""
    return f"measurement {row.id}: {text}{label}"


def delete_series_rows(
    uow: UnitOfWork,
    series_uid: str,
    reason: str,
    *,
    with_measurements: bool,
    describe: Callable[[SeriesRow, int], SeriesItem],
) -> tuple[RemovedSeries, list[str]]:
    """Delete a series' rows in the caller's unit of work (audited); not committed.

    ``describe`` builds the read model of the series row (given its image count).
    Returns the removed series and the image store paths of its files, for the
    caller to delete once the transaction is committed.

    Raises
    ------
    NotFoundError
        No series with this UID is stored.
    InvalidInputError
        The series has contours.
    SeriesHasMeasurements
        The series has measurements and ``with_measurements`` is false.
    """
    session = uow.session
    row = repositories.find_series(session, series_uid)
    if row is None:
        raise NotFoundError(f"series {series_uid} is not in the database")
    contours = session.scalar(
        select(func.count()).select_from(SegmentationRow).where(SegmentationRow.series_pk == row.id)
    )
    if contours:
        raise InvalidInputError(
            series_name(row),
            f"has {contours} contour(s); it is kept (contours carry the measurements of a plan)",
        )
    annotations = session.scalars(
        select(AnnotationRow)
        .where(AnnotationRow.series_pk == row.id)
        .order_by(AnnotationRow.created_at, AnnotationRow.id)
    ).all()
    lines = tuple(_measurement_line(annotation) for annotation in annotations)
    if annotations and not with_measurements:
        raise SeriesHasMeasurements(
            row.series_uid, row.description, lines, series_name=series_name(row)
        )
    snapshots = [row_snapshot(annotation) for annotation in annotations]
    item = describe(row, len(row.instances))
    files = [i.stored_path for i in row.instances]
    before = {
        "series_uid": row.series_uid,
        "description": row.description,
        "study_uid": row.study.study_uid,
        "files": [
            {"sop_instance_uid": i.sop_instance_uid, "stored_path": i.stored_path}
            for i in row.instances
        ],
        "annotations": snapshots,
    }
    series_pk = row.id
    session.expunge_all()
    for snapshot, line in zip(snapshots, lines, strict=True):
        uow.audit(
            action="delete_annotation",
            entity="annotation",
            entity_pk=int(snapshot["id"]),
            before=snapshot,
            after=None,
            summary=f"deleted {line} with series {item.description!r}",
        )
    session.execute(delete(AnnotationRow).where(AnnotationRow.series_pk == series_pk))
    session.execute(delete(InstanceRow).where(InstanceRow.series_pk == series_pk))
    session.execute(delete(SeriesRow).where(SeriesRow.id == series_pk))
    measured = f" and {len(lines)} measurement(s)" if lines else ""
    uow.audit(
        action="remove_series",
        entity="series",
        entity_pk=series_pk,
        before=before,
        after={"reason": reason},
        summary=f"removed series {item.description!r} ({len(files)} file(s){measured})"
        + (f": {reason}" if reason else ""),
    )
    fields = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    return RemovedSeries(**fields, removed_measurements=lines), files


def find_removed_series(session: Session, series_uids: Sequence[str]) -> dict[str, str]:
    """Which of these series a user removed and nobody imported again: UID → description.

    A series counts as removed when its removal is in the audit trail and it
    is not stored now (a series imported again after its removal is not).
    """
    wanted = set(series_uids)
    if not wanted:
        return {}
    stored: set[str] = set()
    removed: dict[str, str] = {}
    chunk_size = repositories.IN_CLAUSE_CHUNK
    ordered = sorted(wanted)
    for start in range(0, len(ordered), chunk_size):
        chunk = ordered[start : start + chunk_size]
        stored.update(
            session.scalars(select(SeriesRow.series_uid).where(SeriesRow.series_uid.in_(chunk)))
        )
        events = session.scalars(
            select(AuditEventRow.before)
            .where(
                AuditEventRow.action == "remove_series",
                AuditEventRow.entity == "series",
                AuditEventRow.before["series_uid"].as_string().in_(chunk),
            )
            .order_by(AuditEventRow.id)
        )
        for before in events:
            if before:
                removed[str(before["series_uid"])] = str(before.get("description") or "")
    return {uid: text for uid, text in removed.items() if uid not in stored}
