"""Rows of contouring as read models, and the small checks every contouring service shares.

Masks are stored with :mod:`tace_planner.imaging.mask_codec` (bounding box +
packbits + zlib) in ``SegmentationRow.mask_packed``; ``grid_shape`` holds
``{"shape": [z, y, x], "bbox": [z0, z1, y0, y1, x0, x1], "part": part}``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from tace_planner.domain.anatomy import UNASSIGNED, canonical_segment, lobe_of_segment
from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError, NotFoundError
from tace_planner.imaging.mask_codec import unpack_mask
from tace_planner.services.contouring_dto import LIVER_LESION_NAME, LesionItem, SegmentationItem
from tace_planner.store import repositories
from tace_planner.store.models import LesionRow, SegmentationRow, SeriesRow, StudyRow, TimepointRow

MAX_NAME_CHARS = 64


def utc_now() -> dt.datetime:
    """Now, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def natural(name: str) -> tuple[Any, ...]:
    """Sort key putting F2 before F10."""
    return tuple(
        int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)
    )


def check_name(name: str, kind: str = "focus") -> str:
    """A lesion name, stripped; refused when empty, too long, with control characters,
    or "Liver" for a focus (the whole-liver contour's name).

    Raises
    ------
    InvalidInputError
    """
    bad = next((c for c in str(name) if unicodedata.category(c).startswith("C")), None)
    if bad is not None:
        raise InvalidInputError(
            "lesion name", f"must not contain control characters (found {bad!r}): {name!r}"
        )
    text = str(name).strip()
    if not text:
        raise InvalidInputError("lesion name", "must not be empty")
    if len(text) > MAX_NAME_CHARS:
        raise InvalidInputError("lesion name", f"at most {MAX_NAME_CHARS} characters")
    if kind != "liver" and text.casefold() == LIVER_LESION_NAME.casefold():
        raise InvalidInputError(
            "lesion name",
            f"{text!r} names the whole-liver contour, not a focus: give the focus another name",
        )
    return text


def segment_code(segment: str | None) -> str:
    """The canonical Couinaud code of a segment text ("" for none).

    Raises
    ------
    InvalidInputError
        The text names no Couinaud segment.
    """
    text = (segment or "").strip()
    if not text:
        return ""
    code = canonical_segment(text)
    if code is None:
        raise InvalidInputError("Couinaud segment", f"{segment!r} is not one of I–VIII, IVa, IVb")
    return code


def lesion_item(row: LesionRow) -> LesionItem:
    """The read model of a lesion row."""
    return LesionItem(
        pk=row.id,
        case_pk=row.case_pk,
        name=row.name,
        kind=row.kind,
        couinaud_segment=row.couinaud_segment or "",
        lobe="liver"
        if row.kind == "liver"
        else (lobe_of_segment(row.couinaud_segment or None) or UNASSIGNED),
        is_target=bool(row.is_target),
        target_override_reason=row.target_override_reason or "",
        colour=row.colour or "",
        version=row.version,
    )


def segmentation_item(row: SegmentationRow, series_uid: str) -> SegmentationItem:
    """The read model of a segmentation row (without its mask)."""
    grid = row.grid_shape or {}
    shape = tuple(int(v) for v in grid.get("shape", (0, 0, 0)))
    bbox = tuple(int(v) for v in grid.get("bbox", (0, 0, 0, 0, 0, 0)))
    return SegmentationItem(
        pk=row.id,
        lesion_pk=row.lesion_pk,
        timepoint_pk=row.timepoint_pk,
        series_uid=series_uid,
        part=grid.get("part"),
        shape_zyx=shape,  # type: ignore[arg-type]
        bbox=bbox,  # type: ignore[arg-type]
        method=row.method,
        version=row.version,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def decode_segmentation(row: SegmentationRow) -> npt.NDArray[np.bool_]:
    """The full mask of a stored segmentation (shape ``grid_shape["shape"]``)."""
    grid = row.grid_shape or {}
    return unpack_mask(grid.get("bbox", (0, 0, 0, 0, 0, 0)), row.mask_packed, grid["shape"])


def get_lesion(session: Session, lesion_pk: int) -> LesionRow:
    """The lesion row.

    Raises
    ------
    NotFoundError
    """
    row = session.get(LesionRow, lesion_pk)
    if row is None:
        raise NotFoundError(f"lesion {lesion_pk} does not exist")
    return row


def series_context(session: Session, series_uid: str) -> tuple[SeriesRow, StudyRow, TimepointRow]:
    """The series row, its study and the timepoint that study belongs to.

    Raises
    ------
    NotFoundError
        No such series.
    InvalidInputError
        Its study belongs to no case yet (create a case and link the study).
    """
    series = repositories.find_series(session, series_uid)
    if series is None:
        raise NotFoundError(f"series {series_uid} is not in the database")
    study = session.get(StudyRow, series.study_pk)
    timepoint = (
        session.get(TimepointRow, study.timepoint_pk)
        if study is not None and study.timepoint_pk is not None
        else None
    )
    if study is None or timepoint is None:
        raise InvalidInputError(
            f"series {series_uid}",
            "its study belongs to no case yet: create a case first (Case → New case…) "
            "and link this study to it",
        )
    return series, study, timepoint


def single_part(row: SeriesRow) -> str | None:
    """The part name of a series that holds exactly one volume part (else None)."""
    parts = (row.geometry_report or {}).get("parts", [])
    return parts[0].get("part") if len(parts) == 1 else None


class ContourConflict(ConcurrentEditError):
    """A contour write lost a race; the message says who saved first and when."""


def changed_by(what: str, user: str | None, at: dt.datetime | None) -> ContourConflict:
    """The refusal of a write that lost a race: who saved first, and when."""
    when = at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else "an unknown time"
    return ContourConflict(
        f"{what} was changed by {user or 'another user'} at {when} since you opened it — "
        "nothing was saved; reload and try again"
    )
