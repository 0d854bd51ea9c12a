"""Contouring and volumetry: lesions of a case, their masks, measurements and tumour burden.

One unit of work per user action, each with its audit event. Masks are stored
with :mod:`tace_planner.imaging.mask_codec` (bounding box + packbits + zlib) in
``SegmentationRow.mask_packed``; ``grid_shape`` holds
``{"shape": [z, y, x], "bbox": [z0, z1, y0, y1, x0, x1], "part": part}``.
A lesion has one mask per timepoint, on the grid of the series it was drawn
on. Measurements (``MeasurementRow``) are appended, the latest one counts;
mean HU and the enhancing fraction are read on the arterial series of the
same timepoint and frame of reference, the mask carried there by patient
position.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.burden import FocusVolume, lobe_of, tumour_burden
from tace_planner.domain.errors import (
    ConcurrentEditError,
    InvalidInputError,
    NotFoundError,
    TacePlannerError,
)
from tace_planner.domain.explanation import Advisory
from tace_planner.domain.progress import Progress, Task, run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.mask_codec import pack_mask, unpack_mask
from tace_planner.services.contouring_dto import (
    COUINAUD_SEGMENTS,
    LIVER_LESION_NAME,
    ContourResult,
    LesionChange,
    LesionItem,
    LesionMask,
    LesionMeasurementItem,
    MeasurementsItem,
    SegImportItem,
    SegmentationItem,
)
from tace_planner.store import repositories
from tace_planner.store.audit import row_snapshot
from tace_planner.store.models import (
    LesionRow,
    MeasurementRow,
    SegmentationRow,
    SeriesRow,
    StudyRow,
    TimepointRow,
)
from tace_planner.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

PointLps = Sequence[float]

RECIST_MAX_TARGETS = 5
RECIST_MAX_TARGETS_PER_ORGAN = 2
RECIST_MIN_DIAMETER_MM = 10.0
_RECIST_SOURCE = "RECIST 1.1 (Eisenhauer 2009), target lesion selection"
_METHODS = ("auto", "manual", "edited")
_PALETTE = ("#ff4646", "#ffb020", "#3cd070", "#b070ff", "#ff70c0", "#20c0c0", "#c0c040")
_LIVER_COLOUR = "#50c8ff"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _lesion_item(row: LesionRow) -> LesionItem:
    return LesionItem(
        pk=row.id,
        case_pk=row.case_pk,
        name=row.name,
        kind=row.kind,
        couinaud_segment=row.couinaud_segment or "",
        lobe="liver" if row.kind == "liver" else lobe_of(row.couinaud_segment or None),
        is_target=bool(row.is_target),
        target_override_reason=row.target_override_reason or "",
        colour=row.colour or "",
        version=row.version,
    )


def _segmentation_item(row: SegmentationRow, series_uid: str) -> SegmentationItem:
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


def normalise_segment(segment: str | None) -> str:
    """Return a Couinaud segment as written in :data:`COUINAUD_SEGMENTS` ("" when none).

    Raises
    ------
    InvalidInputError
        Not a Couinaud segment (I–VIII, IVa, IVb, or 1–8).
    """
    text = (segment or "").strip()
    if not text:
        return ""
    arabic = {str(n): roman for n, roman in enumerate(COUINAUD_SEGMENTS[:4], 1)}
    arabic.update({"5": "V", "6": "VI", "7": "VII", "8": "VIII"})
    text = arabic.get(text, text)
    for known in COUINAUD_SEGMENTS:
        if text.upper() == known.upper():
            return known
    raise InvalidInputError("Couinaud segment", f"{segment!r} is not one of I–VIII, IVa, IVb")


class ContouringService:
    """Lesions, masks, measurements and SEG exchange of the cases.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions; each write is its own unit of work.
    studies : StudyService
        Loads series (``load_series``) and lists their files (``series_files``).
    user : str
        Written into the rows and audit events.
    volumes : VolumeLoader, optional
        Shared cache of open volumes (the viewer's); looked at before loading.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        studies: Any,
        user: str,
        *,
        volumes: Any | None = None,
    ) -> None:
        self._sessions = session_factory
        self._studies = studies
        self._user = user
        self._volumes = volumes
        self._cache: OrderedDict[tuple[str, str | None], ImageVolume] = OrderedDict()

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, user=self._user)

    # -- volumes -----------------------------------------------------------------

    def volume(self, series_uid: str, part: str | None = None) -> ImageVolume:
        """The volume of a stored series part (kept in a small cache)."""
        key = (series_uid, part)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        volume = None
        if self._volumes is not None:
            volume = self._volumes.cached(series_uid, part)
        if volume is None:
            volume = run_sync(self._studies.load_series(series_uid, part))
        self.remember_volume(series_uid, part, volume)
        return volume

    def remember_volume(self, series_uid: str, part: str | None, volume: ImageVolume) -> None:
        """Keep an already loaded volume so that contouring does not read it again."""
        self._cache[(series_uid, part)] = volume
        self._cache.move_to_end((series_uid, part))
        while len(self._cache) > 3:
            self._cache.popitem(last=False)

    # -- lesions -----------------------------------------------------------------

    def list_lesions(self, case_pk: int) -> list[LesionItem]:
        """The lesions of a case: the liver first, then the foci by name."""
        with self._sessions() as session:
            rows = session.scalars(select(LesionRow).where(LesionRow.case_pk == case_pk)).all()
            items = [_lesion_item(r) for r in rows]
        return sorted(items, key=lambda item: (not item.is_liver, _natural(item.name)))

    def lesion(self, lesion_pk: int) -> LesionItem:
        """One lesion.

        Raises
        ------
        NotFoundError
            No such lesion.
        """
        with self._sessions() as session:
            return _lesion_item(_get_lesion(session, lesion_pk))

    def next_focus_name(self, case_pk: int) -> str:
        """The first free name of the form F1, F2, … in a case."""
        names = {item.name for item in self.list_lesions(case_pk)}
        number = 1
        while f"F{number}" in names:
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
            An empty or duplicate name, an unknown kind or segment, a second liver.
        NotFoundError
            No such case.
        """
        if kind not in ("liver", "focus"):
            raise InvalidInputError("lesion kind", f"must be liver or focus, got {kind!r}")
        segment = normalise_segment(couinaud_segment)
        if name is None:
            name = LIVER_LESION_NAME if kind == "liver" else self.next_focus_name(case_pk)
        name = _check_name(name)
        with self._uow() as uow:
            from tace_planner.store.models import CaseRow

            if uow.session.get(CaseRow, case_pk) is None:
                raise NotFoundError(f"case {case_pk} does not exist")
            existing = uow.session.scalars(
                select(LesionRow).where(LesionRow.case_pk == case_pk)
            ).all()
            if any(r.name.casefold() == name.casefold() for r in existing):
                raise InvalidInputError("lesion name", f"{name!r} is already used in this case")
            if kind == "liver" and any(r.kind == "liver" for r in existing):
                raise InvalidInputError("lesion kind", "the case already has a liver contour")
            focus_count = sum(1 for r in existing if r.kind == "focus")
            row = LesionRow(
                case_pk=case_pk,
                name=name,
                kind=kind,
                couinaud_segment=segment,
                is_target=False,
                colour=colour
                or (_LIVER_COLOUR if kind == "liver" else _PALETTE[focus_count % len(_PALETTE)]),
            )
            uow.session.add(row)
            uow.flush()
            advisories: tuple[Advisory, ...] = ()
            applied = True
            if is_target and kind == "focus":
                advisories = _target_advisories(uow.session, row)
                applied = not advisories or bool(override_reason.strip())
                if applied:
                    row.is_target = True
                    row.target_override_reason = override_reason.strip() if advisories else ""
            uow.audit(action="create", entity_pk=row, after=row, summary=f"lesion {name} added")
            uow.commit()
            return LesionChange(_lesion_item(row), advisories, applied)

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
        organ, longest diameter ≥ 10 mm); a broken rule comes back as an
        advisory and the flag is left unchanged unless ``override_reason`` is
        given, which is stored with the lesion.

        Raises
        ------
        ConcurrentEditError
            ``expected_version`` is not the stored version (someone else saved).
        InvalidInputError, NotFoundError
        """
        with self._uow() as uow:
            row = _get_lesion(uow.session, lesion_pk)
            if expected_version is not None and row.version != expected_version:
                raise ConcurrentEditError(
                    f"lesion {row.name} was changed on another workstation — reload"
                )
            before = row_snapshot(row)
            if name is not None:
                new_name = _check_name(name)
                clash = uow.session.scalar(
                    select(LesionRow.id).where(
                        LesionRow.case_pk == row.case_pk,
                        LesionRow.name == new_name,
                        LesionRow.id != row.id,
                    )
                )
                if clash is not None:
                    raise InvalidInputError("lesion name", f"{new_name!r} is already used")
                row.name = new_name
            if couinaud_segment is not None:
                row.couinaud_segment = normalise_segment(couinaud_segment)
            if colour is not None:
                row.colour = colour
            advisories: tuple[Advisory, ...] = ()
            applied = True
            if is_target is not None:
                if is_target and row.kind == "liver":
                    raise InvalidInputError("target", "the liver contour cannot be a target lesion")
                if is_target and not row.is_target:
                    advisories = _target_advisories(uow.session, row)
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
            return LesionChange(_lesion_item(row), advisories, applied)

    def rename_lesion(self, lesion_pk: int, name: str) -> LesionItem:
        """Rename a lesion (the name is unique in its case)."""
        return self.update_lesion(lesion_pk, name=name).lesion

    def delete_lesion(self, lesion_pk: int) -> None:
        """Delete a lesion with its masks and measurements (audited)."""
        with self._uow() as uow:
            row = _get_lesion(uow.session, lesion_pk)
            before = row_snapshot(row)
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

    def target_advisories(self, lesion_pk: int) -> tuple[Advisory, ...]:
        """The RECIST 1.1 rules making this lesion a target would break (none: allowed)."""
        with self._sessions() as session:
            return _target_advisories(session, _get_lesion(session, lesion_pk))

    # -- where a series belongs -----------------------------------------------

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
            _, _, timepoint = _series_context(session, series_uid)
            return timepoint.case_pk, timepoint.id, timepoint.label

    # -- masks -------------------------------------------------------------------

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
        editor loaded) guards against another workstation's newer save.

        Raises
        ------
        ConcurrentEditError
            The stored mask is newer than ``expected_version``.
        InvalidInputError
            An unknown method, or a mask that is not 3-D.
        NotFoundError
            No such lesion or series.
        """
        if method not in _METHODS:
            raise InvalidInputError("contour method", f"must be auto, manual or edited: {method!r}")
        array = np.asarray(mask, dtype=bool)
        if array.ndim != 3:
            raise InvalidInputError("mask", f"must be (z, y, x), got shape {array.shape}")
        box, data = pack_mask(array)
        grid = {"shape": list(array.shape), "bbox": list(box), "part": part}
        with self._uow() as uow:
            lesion = _get_lesion(uow.session, lesion_pk)
            series = repositories.find_series(uow.session, series_uid)
            if series is None:
                raise NotFoundError(f"series {series_uid} is not in the database")
            row = uow.session.scalar(
                select(SegmentationRow).where(
                    SegmentationRow.lesion_pk == lesion_pk,
                    SegmentationRow.timepoint_pk == timepoint_pk,
                )
            )
            if row is None:
                row = SegmentationRow(lesion_pk=lesion_pk, timepoint_pk=timepoint_pk)
                uow.session.add(row)
                before = None
                action = "create"
            else:
                if expected_version is not None and row.version != expected_version:
                    raise ConcurrentEditError(
                        f"the contour of {lesion.name} was saved on another workstation — reload"
                    )
                before = {k: v for k, v in row_snapshot(row).items() if k != "mask_packed"}
                action = "update"
                if method == "manual" and row.method in ("auto", "edited"):
                    method = "edited"
            row.series_pk = series.id
            row.grid_shape = grid
            row.mask_packed = data
            row.method = method
            row.updated_at = _utc_now()
            row.updated_by = self._user
            uow.flush()
            after = {k: v for k, v in row_snapshot(row).items() if k != "mask_packed"}
            uow.audit(
                action=action,
                entity="segmentation",
                entity_pk=row.id,
                before=before,
                after=after,
                summary=f"contour of {lesion.name} saved ({method})",
            )
            uow.commit()
            return _segmentation_item(row, series_uid)

    def load_mask(self, lesion_pk: int, timepoint_pk: int) -> LesionMask | None:
        """A lesion's mask at a timepoint, decoded (None when not contoured)."""
        with self._sessions() as session:
            lesion = _get_lesion(session, lesion_pk)
            row = session.scalar(
                select(SegmentationRow).where(
                    SegmentationRow.lesion_pk == lesion_pk,
                    SegmentationRow.timepoint_pk == timepoint_pk,
                )
            )
            if row is None:
                return None
            uid = session.scalar(select(SeriesRow.series_uid).where(SeriesRow.id == row.series_pk))
            return LesionMask(
                _lesion_item(lesion), _segmentation_item(row, str(uid)), decode_segmentation(row)
            )

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
                    _lesion_item(lesion),
                    _segmentation_item(seg, series_uid),
                    decode_segmentation(seg),
                )
                for lesion, seg in pairs
                if (seg.grid_shape or {}).get("part") == part
            ]
        return sorted(out, key=lambda m: (not m.lesion.is_liver, _natural(m.lesion.name)))

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
                    _lesion_item(lesion),
                    _segmentation_item(seg, str(uid)),
                    decode_segmentation(seg),
                )
                for lesion, seg, uid in rows
            ]
        return sorted(out, key=lambda m: (not m.lesion.is_liver, _natural(m.lesion.name)))

    # -- contouring ----------------------------------------------------------------

    def auto_contour(
        self,
        case_pk: int,
        series_uid: str,
        seed_lps: PointLps,
        lesion: str | None = None,
        include: Sequence[PointLps] = (),
        exclude: Sequence[PointLps] = (),
        *,
        part: str | None = None,
        volume: ImageVolume | None = None,
        couinaud_segment: str | None = None,
        measure: bool = True,
    ) -> ContourResult:
        """Contour a focus in 3D from a click and store it (a new focus unless ``lesion``).

        The liver mask of the same timepoint and grid, if any, guards against
        leaks. The timepoint is the one of the series' study. An existing
        contour of the lesion at that timepoint is replaced.

        Raises
        ------
        InvalidInputError
            The series is not in the case, a seed is outside the volume.
        NotFoundError
            No such series.
        """
        from tace_planner.imaging.segmentation import auto_contour

        context_case, timepoint_pk, _ = self.series_context(series_uid)
        _same_case(case_pk, context_case, series_uid)
        if volume is None:
            volume = self.volume(series_uid, part)
        else:
            self.remember_volume(series_uid, part, volume)
        liver = self._liver_mask(case_pk, timepoint_pk, series_uid, part, volume.shape)
        seeds = [seed_lps, *include]
        result = auto_contour(volume, seeds, list(exclude), liver_mask=liver)
        if result.voxel_count == 0:
            raise InvalidInputError("auto contour", "found nothing around the click")
        item = self._lesion_for(case_pk, lesion, "focus", couinaud_segment)
        segmentation = self.save_mask(
            item.pk, timepoint_pk, series_uid, part, result.full_mask(), "auto"
        )
        measurement = self.measure_lesion(item.pk, timepoint_pk)[0] if measure else None
        return ContourResult(item, segmentation, measurement, tuple(result.warnings))

    def contour_liver(
        self,
        case_pk: int,
        series_uid: str,
        seed_lps: PointLps,
        *,
        part: str | None = None,
        volume: ImageVolume | None = None,
        measure: bool = True,
    ) -> ContourResult:
        """Segment the whole liver from one click in its parenchyma and store it."""
        return run_sync(
            self.contour_liver_task(
                case_pk, series_uid, seed_lps, part=part, volume=volume, measure=measure
            )
        )

    def contour_liver_task(
        self,
        case_pk: int,
        series_uid: str,
        seed_lps: PointLps,
        *,
        part: str | None = None,
        volume: ImageVolume | None = None,
        measure: bool = True,
    ) -> Task[ContourResult]:
        """:meth:`contour_liver` as a task (progress of the region growing)."""
        from tace_planner.imaging.segmentation import segment_liver

        context_case, timepoint_pk, _ = self.series_context(series_uid)
        _same_case(case_pk, context_case, series_uid)
        if volume is None:
            yield Progress(0, 0, "Loading the series")
            volume = self.volume(series_uid, part)
        else:
            self.remember_volume(series_uid, part, volume)
        result = yield from segment_liver(volume, seed_lps)
        if not result.mask.any():
            raise InvalidInputError("liver seed", " ".join(result.warnings) or "nothing grown")
        item = self._lesion_for(case_pk, LIVER_LESION_NAME, "liver", None)
        segmentation = self.save_mask(item.pk, timepoint_pk, series_uid, part, result.mask, "auto")
        measurement = None
        if measure:
            yield Progress(0, 0, "Measuring the liver")
            measurement = self.measure_lesion(item.pk, timepoint_pk)[0]
        return ContourResult(item, segmentation, measurement, tuple(result.warnings))

    def _lesion_for(
        self, case_pk: int, name: str | None, kind: str, segment: str | None
    ) -> LesionItem:
        if name is not None:
            for item in self.list_lesions(case_pk):
                if item.name.casefold() == name.casefold():
                    if segment is not None and normalise_segment(segment) != item.couinaud_segment:
                        return self.update_lesion(item.pk, couinaud_segment=segment).lesion
                    return item
        return self.create_lesion(case_pk, name, kind=kind, couinaud_segment=segment).lesion

    def _liver_mask(
        self,
        case_pk: int,
        timepoint_pk: int,
        series_uid: str,
        part: str | None,
        shape: tuple[int, int, int],
    ) -> npt.NDArray[np.bool_] | None:
        liver = next((item for item in self.list_lesions(case_pk) if item.is_liver), None)
        if liver is None:
            return None
        stored = self.load_mask(liver.pk, timepoint_pk)
        if (
            stored is None
            or stored.segmentation.series_uid != series_uid
            or stored.segmentation.part != part
            or stored.mask.shape != tuple(shape)
            or not stored.mask.any()
        ):
            return None
        return stored.mask

    # -- measurements --------------------------------------------------------------

    def measure(self, case_pk: int, timepoint: int | str) -> MeasurementsItem:
        """Measure every contoured lesion of a case at a timepoint and store the results.

        ``timepoint`` is a timepoint id or label ("baseline", "follow-up 1").
        """
        timepoint_pk = self._timepoint_pk(case_pk, timepoint)
        lesions = [item.pk for item in self.list_lesions(case_pk)]
        self.measure_lesions(lesions, timepoint_pk)
        return self.measurements(case_pk=case_pk, timepoint=timepoint_pk)

    def measure_lesion(self, lesion_pk: int, timepoint_pk: int) -> list[LesionMeasurementItem]:
        """Measure one lesion at a timepoint and store it (empty list: not contoured)."""
        return self.measure_lesions([lesion_pk], timepoint_pk)

    def measure_lesions(
        self, lesion_pks: Sequence[int], timepoint_pk: int
    ) -> list[LesionMeasurementItem]:
        """Measure lesions at a timepoint and store one MeasurementRow each.

        Volume, RECIST long and short axes and 3D diameter on the mask's grid;
        mean HU and enhancing fraction on the arterial series of the same
        timepoint and frame of reference (None when there is none). A series of
        unmeasurable geometry gives trust "untrusted" with a note.
        """
        out = []
        for lesion_pk in lesion_pks:
            stored = self.load_mask(lesion_pk, timepoint_pk)
            if stored is None or not stored.mask.any():
                continue
            values = self._measure_values(stored, timepoint_pk)
            out.append(self._store_measurement(stored, values))
        return out

    def _measure_values(self, stored: LesionMask, timepoint_pk: int) -> dict[str, Any]:
        from tace_planner.domain.measurements import (
            measure_axial_diameters,
            measure_enhancement,
            measure_hu,
            measure_longest_3d_diameter,
            measure_volume,
        )

        seg = stored.segmentation
        volume = self.volume(seg.series_uid, seg.part)
        mask = stored.mask
        if mask.shape != volume.shape:
            raise InvalidInputError(
                f"contour of {stored.lesion.name}",
                f"mask {mask.shape} is not on the grid of series {seg.series_uid} {volume.shape}",
            )
        status = self._geometry_status(seg.series_uid, seg.part)
        notes: list[str] = []
        if status == "unmeasurable":
            trust = "untrusted"
            geometric = "warning"
            notes.append(
                "The series' slice geometry is unmeasurable (gaps or uneven slices): "
                "volume and diameters are not trustworthy."
            )
        elif status == "warning":
            trust = geometric = "warning"
            notes.append("The series' slice geometry has warnings: check the slices.")
        else:
            trust = geometric = "ok"
        values: dict[str, Any] = {"trust": trust, "notes": notes}
        values["volume_cm3"] = measure_volume(mask, volume, trust=geometric).volume_cm3  # type: ignore[arg-type]
        axial = measure_axial_diameters(mask, volume, trust=geometric)  # type: ignore[arg-type]
        values["longest_axial_diameter_mm"] = axial.long_axis_mm
        values["short_axis_mm"] = axial.short_axis_mm
        values["longest_3d_diameter_mm"] = measure_longest_3d_diameter(
            mask,
            volume,
            trust=geometric,  # type: ignore[arg-type]
        ).diameter_mm
        centroid_index = np.argwhere(mask).mean(axis=0)
        centroid = volume.index_to_lps @ np.append(centroid_index, 1.0)
        values["centroid_lps"] = [float(v) for v in centroid[:3]]
        values["long_axis_lps"] = [list(p) for p in axial.long_axis_lps]
        values["short_axis_lps"] = [list(p) for p in axial.short_axis_lps]
        values["long_axis_slice"] = axial.slice_index
        values["mean_hu"] = None
        values["enhancing_fraction"] = None
        values["mean_hu_series_uid"] = None
        if stored.lesion.kind == "focus":
            arterial = self._arterial_series(timepoint_pk, seg.series_uid)
            if arterial is None:
                notes.append("No arterial series of the same frame of reference: no HU.")
            else:
                try:
                    from tace_planner.imaging.segmentation import carry_mask

                    target = self.volume(*arterial)
                    carried = carry_mask(mask, volume, target)
                    if carried.any():
                        values["mean_hu"] = measure_hu(
                            target.voxels, carried, phase="arterial"
                        ).mean_hu
                        enhancement = measure_enhancement(target.voxels, carried)
                        values["enhancing_fraction"] = enhancement.enhancing_fraction
                        values["enhancement_threshold_hu"] = enhancement.threshold_hu
                        values["mean_hu_series_uid"] = arterial[0]
                    else:
                        notes.append("The contour lies outside the arterial series.")
                except TacePlannerError as error:
                    notes.append(f"No HU on the arterial series: {error}")
        return values

    def _store_measurement(
        self, stored: LesionMask, values: dict[str, Any]
    ) -> LesionMeasurementItem:
        seg = stored.segmentation
        details = {
            k: v
            for k, v in values.items()
            if k
            not in (
                "volume_cm3",
                "longest_axial_diameter_mm",
                "short_axis_mm",
                "longest_3d_diameter_mm",
                "mean_hu",
                "enhancing_fraction",
                "trust",
            )
        }
        method = "auto" if seg.method == "auto" else "manual"
        with self._uow() as uow:
            row = MeasurementRow(
                segmentation_pk=seg.pk,
                volume_cm3=values["volume_cm3"],
                longest_axial_diameter_mm=values["longest_axial_diameter_mm"],
                short_axis_mm=values["short_axis_mm"],
                longest_3d_diameter_mm=values["longest_3d_diameter_mm"],
                mean_hu=values["mean_hu"],
                enhancing_fraction=values["enhancing_fraction"],
                method=method,
                trust=values["trust"],
                details=details,
                measured_at=_utc_now(),
                measured_by=self._user,
            )
            uow.session.add(row)
            uow.audit(
                action="measure",
                entity_pk=row,
                after=row,
                summary=f"{stored.lesion.name}: {values['volume_cm3']:.2f} cm³",
            )
            uow.commit()
            return _measurement_item(stored.lesion, seg, row)

    def _geometry_status(self, series_uid: str, part: str | None) -> str:
        with self._sessions() as session:
            series = repositories.find_series(session, series_uid)
            if series is None:
                return ""
            for entry in (series.geometry_report or {}).get("parts", []):
                if entry.get("part") == part:
                    return str(entry.get("status", series.geometry_status))
            return series.geometry_status or ""

    def _arterial_series(self, timepoint_pk: int, series_uid: str) -> tuple[str, str | None] | None:
        with self._sessions() as session:
            source = repositories.find_series(session, series_uid)
            if source is None:
                return None
            if source.phase == "arterial":
                return series_uid, _single_part(source)
            rows = session.scalars(
                select(SeriesRow)
                .join(StudyRow, SeriesRow.study_pk == StudyRow.id)
                .where(
                    StudyRow.timepoint_pk == timepoint_pk,
                    SeriesRow.modality == source.modality,
                    SeriesRow.phase == "arterial",
                    SeriesRow.is_volume.is_(True),
                )
                .order_by(SeriesRow.series_number, SeriesRow.id)
            ).all()
            for row in rows:
                same_frame = (
                    not row.frame_of_reference_uid
                    or not source.frame_of_reference_uid
                    or row.frame_of_reference_uid == source.frame_of_reference_uid
                )
                if same_frame:
                    return row.series_uid, _single_part(row)
        return None

    def measurements(
        self,
        series_uid: str | None = None,
        *,
        case_pk: int | None = None,
        timepoint: int | str | None = None,
    ) -> MeasurementsItem:
        """The latest measurements of a timepoint, with V_liv, V_mts and F.

        Give ``series_uid`` (its study's timepoint) or ``case_pk`` and
        ``timepoint`` (id or label; default the baseline).
        """
        if series_uid is not None:
            case_pk, timepoint_pk, _ = self.series_context(series_uid)
        elif case_pk is None:
            raise InvalidInputError("measurements", "give a series or a case")
        else:
            timepoint_pk = self._timepoint_pk(
                case_pk, "baseline" if timepoint is None else timepoint
            )
        with self._sessions() as session:
            label = session.get(TimepointRow, timepoint_pk).label  # type: ignore[union-attr]
            pairs = session.execute(
                select(LesionRow, SegmentationRow, SeriesRow.series_uid)
                .join(SegmentationRow, SegmentationRow.lesion_pk == LesionRow.id)
                .join(SeriesRow, SeriesRow.id == SegmentationRow.series_pk)
                .where(LesionRow.case_pk == case_pk, SegmentationRow.timepoint_pk == timepoint_pk)
            ).all()
            items = []
            for lesion_row, seg_row, uid in pairs:
                latest = session.scalars(
                    select(MeasurementRow)
                    .where(MeasurementRow.segmentation_pk == seg_row.id)
                    .order_by(MeasurementRow.measured_at.desc(), MeasurementRow.id.desc())
                ).first()
                lesion = _lesion_item(lesion_row)
                seg = _segmentation_item(seg_row, str(uid))
                if latest is None:
                    items.append(_unmeasured(lesion, seg))
                else:
                    items.append(_measurement_item(lesion, seg, latest))
        items.sort(key=lambda m: (m.kind != "liver", _natural(m.name)))
        return _with_burden(case_pk, timepoint_pk, label, tuple(items))

    def _timepoint_pk(self, case_pk: int, timepoint: int | str) -> int:
        with self._sessions() as session:
            if isinstance(timepoint, int):
                row = session.get(TimepointRow, timepoint)
                if row is None or row.case_pk != case_pk:
                    raise NotFoundError(
                        f"timepoint {timepoint} is not a timepoint of case {case_pk}"
                    )
                return row.id
            query = select(TimepointRow).where(TimepointRow.case_pk == case_pk)
            if timepoint == "baseline":
                query = query.where(TimepointRow.kind == "baseline")
            else:
                query = query.where(TimepointRow.label == timepoint)
            row = session.scalars(query.order_by(TimepointRow.ordinal, TimepointRow.id)).first()
            if row is None:
                raise NotFoundError(f"case {case_pk} has no timepoint {timepoint!r}")
            return row.id

    # -- DICOM SEG -------------------------------------------------------------------

    def export_seg(self, series_uid: str, path: Path, *, part: str | None = None) -> Path:
        """Write every lesion mask of a series part as one DICOM SEG file.

        Raises
        ------
        InvalidInputError
            Nothing is contoured on this series.
        """
        from tace_planner.imaging.dicom.seg import SegmentSpec, write_seg

        masks = [m for m in self.masks_of_series(series_uid, part) if m.mask.any()]
        if not masks:
            raise InvalidInputError("series", f"{series_uid}: no contour to export")
        volume = self.volume(series_uid, part)
        specs = [
            SegmentSpec(
                label=m.lesion.name,
                mask=m.mask,
                kind="liver" if m.lesion.is_liver else "tumour",
                tracking_id=m.lesion.name,
                semi_automatic=m.segmentation.method != "manual",
            )
            for m in masks
        ]
        files = self._studies.series_files(series_uid)
        path = Path(path)
        write_seg(path, files, volume, specs)
        with self._uow() as uow:
            uow.audit(
                action="export_seg",
                entity="series",
                entity_pk=None,
                after={"series_uid": series_uid, "segments": [s.label for s in specs]},
                summary=f"{len(specs)} contour(s) exported as DICOM SEG",
            )
            uow.commit()
        return path

    def import_seg(self, path: Path, *, part: str | None = None) -> SegImportItem:
        """Read a DICOM SEG onto the stored series it references; one lesion per segment.

        Segments are matched to lesions by label (created when missing; a
        segment labelled "Liver" or of liver type becomes the liver contour).

        Raises
        ------
        InvalidInputError
            The SEG references no stored series.
        """
        import pydicom

        from tace_planner.imaging.dicom.seg import read_seg

        dataset = pydicom.dcmread(path)
        referenced = [
            str(item.SeriesInstanceUID) for item in dataset.get("ReferencedSeriesSequence", [])
        ]
        with self._sessions() as session:
            stored = [uid for uid in referenced if repositories.find_series(session, uid)]
        if not stored:
            raise InvalidInputError(
                "DICOM SEG", f"{Path(path).name}: its referenced series is not imported"
            )
        series_uid = stored[0]
        case_pk, timepoint_pk, _ = self.series_context(series_uid)
        volume = self.volume(series_uid, part)
        result = read_seg(dataset, volume, available_series_uids=None)
        lesions = []
        for segment in result.segments:
            is_liver = segment.label.casefold() == LIVER_LESION_NAME.casefold() or (
                "liver" in segment.property_type.casefold()
            )
            kind = "liver" if is_liver else "focus"
            name = LIVER_LESION_NAME if is_liver else segment.label
            item = self._lesion_for(case_pk, name, kind, None)
            self.save_mask(item.pk, timepoint_pk, series_uid, part, segment.mask, "manual")
            lesions.append(item)
        self.measure_lesions([item.pk for item in lesions], timepoint_pk)
        return SegImportItem(series_uid, tuple(lesions), tuple(result.warnings))


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _natural(name: str) -> tuple[Any, ...]:
    return tuple(
        int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)
    )


def _check_name(name: str) -> str:
    text = name.strip()
    if not text:
        raise InvalidInputError("lesion name", "must not be empty")
    if len(text) > 64:
        raise InvalidInputError("lesion name", "at most 64 characters")
    return text


def _same_case(case_pk: int, context_case: int, series_uid: str) -> None:
    if case_pk != context_case:
        raise InvalidInputError(
            "series", f"{series_uid} belongs to case {context_case}, not to case {case_pk}"
        )


def _single_part(row: SeriesRow) -> str | None:
    parts = (row.geometry_report or {}).get("parts", [])
    return parts[0].get("part") if len(parts) == 1 else None


def _get_lesion(session: Session, lesion_pk: int) -> LesionRow:
    row = session.get(LesionRow, lesion_pk)
    if row is None:
        raise NotFoundError(f"lesion {lesion_pk} does not exist")
    return row


def _series_context(session: Session, series_uid: str) -> tuple[SeriesRow, StudyRow, TimepointRow]:
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
            "series", f"{series_uid}: its study is not linked to a timepoint of a case"
        )
    return series, study, timepoint


def _latest_diameter(session: Session, lesion_pk: int) -> float | None:
    return session.scalar(
        select(MeasurementRow.longest_axial_diameter_mm)
        .join(SegmentationRow, MeasurementRow.segmentation_pk == SegmentationRow.id)
        .join(TimepointRow, TimepointRow.id == SegmentationRow.timepoint_pk)
        .where(SegmentationRow.lesion_pk == lesion_pk)
        .order_by(TimepointRow.ordinal, MeasurementRow.measured_at.desc(), MeasurementRow.id.desc())
    )


def _target_advisories(session: Session, row: LesionRow) -> tuple[Advisory, ...]:
    """RECIST 1.1 target-selection rules that making ``row`` a target would break."""
    others = session.scalars(
        select(LesionRow).where(
            LesionRow.case_pk == row.case_pk, LesionRow.is_target.is_(True), LesionRow.id != row.id
        )
    ).all()
    notes = []
    if len(others) + 1 > RECIST_MAX_TARGETS:
        notes.append(
            Advisory(
                "recist.too_many_targets",
                "block",
                f"RECIST 1.1 allows at most {RECIST_MAX_TARGETS} target lesions; "
                f"this would be number {len(others) + 1}.",
                _RECIST_SOURCE,
            )
        )
    # Every focus here is a liver lesion: the organ is the liver.
    liver_targets = [o for o in others if o.kind == "focus"]
    if len(liver_targets) + 1 > RECIST_MAX_TARGETS_PER_ORGAN:
        notes.append(
            Advisory(
                "recist.too_many_per_organ",
                "block",
                f"RECIST 1.1 allows at most {RECIST_MAX_TARGETS_PER_ORGAN} target lesions per "
                f"organ; the liver already has {len(liver_targets)}.",
                _RECIST_SOURCE,
            )
        )
    diameter = _latest_diameter(session, row.id)
    if diameter is None:
        notes.append(
            Advisory(
                "recist.not_measured",
                "block",
                f"{row.name} has no measured longest diameter yet; a target must measure "
                f"≥ {RECIST_MIN_DIAMETER_MM:g} mm.",
                _RECIST_SOURCE,
            )
        )
    elif diameter < RECIST_MIN_DIAMETER_MM:
        notes.append(
            Advisory(
                "recist.too_small",
                "block",
                f"{row.name} measures {diameter:.1f} mm; a target must measure "
                f"≥ {RECIST_MIN_DIAMETER_MM:g} mm in its longest axial diameter.",
                _RECIST_SOURCE,
            )
        )
    return tuple(notes)


def _measurement_item(
    lesion: LesionItem, seg: SegmentationItem, row: MeasurementRow
) -> LesionMeasurementItem:
    details = row.details or {}
    centroid = details.get("centroid_lps")
    return LesionMeasurementItem(
        lesion_pk=lesion.pk,
        name=lesion.name,
        kind=lesion.kind,
        couinaud_segment=lesion.couinaud_segment,
        is_target=lesion.is_target,
        segmentation_pk=seg.pk,
        series_uid=seg.series_uid,
        volume_cm3=row.volume_cm3,
        longest_axial_diameter_mm=row.longest_axial_diameter_mm,
        short_axis_mm=row.short_axis_mm,
        longest_3d_diameter_mm=row.longest_3d_diameter_mm,
        mean_hu=row.mean_hu,
        enhancing_fraction=row.enhancing_fraction,
        method=row.method,
        trust=row.trust,
        centroid_lps=tuple(float(v) for v in centroid) if centroid else None,  # type: ignore[arg-type]
        notes=tuple(details.get("notes", ())),
        measured_at=row.measured_at,
        long_axis_lps=_segment(details.get("long_axis_lps")),
        short_axis_lps=_segment(details.get("short_axis_lps")),
    )


def _segment(points: Any) -> tuple[tuple[float, float, float], tuple[float, float, float]] | None:
    """Two stored LPS points as a tuple pair, or None when not stored."""
    if not points or len(points) != 2:
        return None
    first, second = (tuple(float(v) for v in point[:3]) for point in points)
    return first, second  # type: ignore[return-value]


def _unmeasured(lesion: LesionItem, seg: SegmentationItem) -> LesionMeasurementItem:
    return LesionMeasurementItem(
        lesion.pk,
        lesion.name,
        lesion.kind,
        lesion.couinaud_segment,
        lesion.is_target,
        seg.pk,
        seg.series_uid,
        None,
        None,
        None,
        None,
        None,
        None,
        seg.method,
        "",
        None,
        ("not measured yet",),
    )


def _with_burden(
    case_pk: int, timepoint_pk: int, label: str, items: tuple[LesionMeasurementItem, ...]
) -> MeasurementsItem:
    notes: list[str] = []
    livers = [m for m in items if m.kind == "liver"]
    foci = [m for m in items if m.kind != "liver"]
    liver = livers[0].volume_cm3 if livers else None
    missing = [m.name for m in foci if m.volume_cm3 is None]
    tumour = sum(m.volume_cm3 or 0.0 for m in foci)
    worst = "ok"
    for m in items:
        if m.trust in ("untrusted", "unmeasurable"):
            worst = "untrusted"
        elif m.trust == "warning" and worst == "ok":
            worst = "warning"
    burden = None
    if liver is None:
        notes.append("The liver is not contoured: tumour burden F is unknown.")
    elif missing:
        notes.append(f"Not measured yet: {', '.join(missing)}.")
    else:
        try:
            result = tumour_burden(
                [
                    FocusVolume(m.name, m.volume_cm3 or 0.0, m.couinaud_segment or None)
                    for m in foci
                ],
                liver,
                trust="warning" if worst != "ok" else "ok",
            )
            burden = result.burden_percent
            notes.extend(a.message for a in result.advisories)
        except InvalidInputError as error:
            notes.append(str(error))
    if worst == "untrusted":
        notes.append("A contour lies on a series of unmeasurable geometry: numbers untrusted.")
    return MeasurementsItem(
        case_pk=case_pk,
        timepoint_pk=timepoint_pk,
        timepoint_label=label,
        lesions=items,
        liver_volume_cm3=liver,
        tumour_volume_cm3=tumour if foci else (0.0 if liver is not None else None),
        burden_percent=burden,
        trust=worst,
        notes=tuple(notes),
    )


def contouring_service(services: Any) -> ContouringService:
    """The contouring service of a :class:`~tace_planner.services.bootstrap.Services`."""
    existing = getattr(services, "contouring", None)
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    return ContouringService(
        services.session_factory,
        services.studies,
        services.settings.user,
        volumes=getattr(services, "volumes", None),
    )
