"""Measurements of stored contours, and the per-timepoint table with the tumour burden F.

Volume, RECIST long and short axes (in the patient's axial plane) and the 3D
diameter on the mask's grid; mean HU and the enhancing fraction on the
arterial series of the same timepoint and frame of reference, the mask carried
there by patient position. Measurements (``MeasurementRow``) are appended; the
latest one counts. :func:`add_measurement` stores one inside another action's
unit of work, so that a contour and its measurement are saved together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.burden import FocusVolume, outside_liver_advisories, tumour_burden
from tace_planner.domain.errors import InvalidInputError, NotFoundError, TacePlannerError
from tace_planner.domain.recist import DEFAULT_RECIST, RecistParameters
from tace_planner.domain.volume import ImageVolume
from tace_planner.services.contour_records import (
    lesion_item,
    natural,
    segmentation_item,
    series_context,
    single_part,
    utc_now,
)
from tace_planner.services.contouring_dto import (
    LesionItem,
    LesionMeasurementItem,
    MeasurementsItem,
    SegmentationItem,
)
from tace_planner.services.liver_containment import (
    containment_details,
    latest_outside_fractions,
)
from tace_planner.services.mask_store import MaskStore
from tace_planner.store import repositories
from tace_planner.store.models import (
    LesionRow,
    MeasurementRow,
    SegmentationRow,
    SeriesRow,
    StudyRow,
    TimepointRow,
)
from tace_planner.store.unit_of_work import UnitOfWork

VolumeSource = Callable[[str, str | None], ImageVolume]
"""``volume(series_uid, part)``: an open volume of a stored series part."""

_COLUMNS = (
    "volume_cm3",
    "longest_axial_diameter_mm",
    "short_axis_mm",
    "longest_3d_diameter_mm",
    "mean_hu",
    "enhancing_fraction",
    "trust",
)


class MeasurementService:
    """Measure stored contours and read the latest measurements of a timepoint.

    Parameters
    ----------
    session_factory : sessionmaker
    user : str
    masks : MaskStore
        Where the contours are read.
    volume : callable
        ``volume(series_uid, part) -> ImageVolume`` (through the shared cache).
    recist : RecistParameters, optional
        The enhancing threshold (and RECIST values) recorded with each measurement.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        user: str,
        masks: MaskStore,
        volume: VolumeSource,
        *,
        recist: RecistParameters = DEFAULT_RECIST,
    ) -> None:
        self._sessions = session_factory
        self._user = user
        self._masks = masks
        self._volume = volume
        self.recist = recist

    # -- measuring -------------------------------------------------------------------

    def measure(self, case_pk: int, timepoint: int | str) -> MeasurementsItem:
        """Measure every contoured lesion of a case at a timepoint and store the results.

        ``timepoint`` is a timepoint id or label ("baseline", "follow-up 1").
        """
        timepoint_pk = self.timepoint_pk(case_pk, timepoint)
        with self._sessions() as session:
            lesions = session.scalars(
                select(LesionRow.id).where(LesionRow.case_pk == case_pk)
            ).all()
        self.measure_lesions(list(lesions), timepoint_pk)
        return self.measurements(case_pk=case_pk, timepoint=timepoint_pk)

    def measure_lesion(self, lesion_pk: int, timepoint_pk: int) -> list[LesionMeasurementItem]:
        """Measure one lesion at a timepoint and store it (empty list: not contoured)."""
        return self.measure_lesions([lesion_pk], timepoint_pk)

    def measure_lesions(
        self, lesion_pks: Sequence[int], timepoint_pk: int
    ) -> list[LesionMeasurementItem]:
        """Measure lesions at a timepoint and store one MeasurementRow each.

        A series of unmeasurable geometry gives trust "untrusted" with a note.
        """
        out = []
        for lesion_pk in lesion_pks:
            stored = self._masks.load_mask(lesion_pk, timepoint_pk)
            if stored is None or not stored.mask.any():
                continue
            seg = stored.segmentation
            values = self.values(
                stored.lesion.name,
                stored.lesion.kind,
                stored.mask,
                seg.series_uid,
                seg.part,
                timepoint_pk,
            )
            with UnitOfWork(self._sessions, user=self._user) as uow:
                seg_row = uow.session.get(SegmentationRow, seg.pk)
                if seg_row is None:
                    continue
                row = add_measurement(uow, seg_row, stored.lesion.name, values)
                uow.commit()
            out.append(measurement_item(stored.lesion, seg, row))
        return out

    def measure_unmeasured(self, case_pk: int, timepoint_pk: int) -> list[str]:
        """Measure the contours of a timepoint that have no measurement (left by an
        interrupted write of an older version); returns their lesion names."""
        with self._sessions() as session:
            pending = session.execute(
                select(LesionRow.id, LesionRow.name)
                .join(SegmentationRow, SegmentationRow.lesion_pk == LesionRow.id)
                .outerjoin(MeasurementRow, MeasurementRow.segmentation_pk == SegmentationRow.id)
                .where(
                    LesionRow.case_pk == case_pk,
                    SegmentationRow.timepoint_pk == timepoint_pk,
                    MeasurementRow.id.is_(None),
                )
            ).all()
        for lesion_pk, _ in pending:
            try:
                self.measure_lesion(lesion_pk, timepoint_pk)
            except TacePlannerError:
                continue
        return [name for _, name in pending]

    def values(
        self,
        name: str,
        kind: str,
        mask: npt.NDArray[np.bool_],
        series_uid: str,
        part: str | None,
        timepoint_pk: int,
    ) -> dict[str, Any]:
        """Every measured value of a mask (nothing stored), for :func:`add_measurement`."""
        from tace_planner.domain.measurements import (
            EnhancementThreshold,
            measure_enhancement,
            measure_hu,
            measure_longest_3d_diameter,
            measure_recist_axes,
            measure_volume,
        )

        volume = self._volume(series_uid, part)
        if mask.shape != volume.shape:
            raise InvalidInputError(
                f"contour of {name}",
                f"mask {mask.shape} is not on the grid of series {series_uid} {volume.shape}",
            )
        status, thickness = self._geometry(series_uid, part)
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
        values["longest_3d_diameter_mm"] = measure_longest_3d_diameter(
            mask,
            volume,
            trust=geometric,  # type: ignore[arg-type]
        ).diameter_mm
        centroid_index = np.argwhere(mask).mean(axis=0)
        centroid = volume.index_to_lps @ np.append(centroid_index, 1.0)
        values["centroid_lps"] = [float(v) for v in centroid[:3]]
        values["slice_thickness_mm"] = thickness
        values["recist_parameters"] = self.recist.to_json()
        values["longest_axial_diameter_mm"] = None
        values["short_axis_mm"] = None
        try:
            axial = measure_recist_axes(mask, volume, trust=geometric)  # type: ignore[arg-type]
        except InvalidInputError as error:
            notes.append(f"No RECIST diameters: {error}")
        else:
            values["longest_axial_diameter_mm"] = axial.long_axis_mm
            values["short_axis_mm"] = axial.short_axis_mm
            values["long_axis_lps"] = [list(p) for p in axial.long_axis_lps]
            values["short_axis_lps"] = [list(p) for p in axial.short_axis_lps]
            values["long_axis_slice"] = axial.slice_index
            values["axial_plane"] = axial.plane
            if axial.plane != "acquired":
                notes.append(axial.explanation.summary)
            if axial.axis_check:  # flagged: the long axis leaves the contour
                values["long_axis_check"] = axial.axis_check
                notes.append(axial.axis_check)
        values.update(self._containment(name, kind, mask, series_uid, part, timepoint_pk))
        values["mean_hu"] = None
        values["enhancing_fraction"] = None
        values["mean_hu_series_uid"] = None
        if kind == "focus":
            arterial = self._arterial_series(timepoint_pk, series_uid)
            if arterial is None:
                notes.append("No arterial series of the same frame of reference: no HU.")
            else:
                try:
                    from tace_planner.imaging.segmentation import carry_mask

                    target = self._volume(*arterial)
                    carried = carry_mask(mask, volume, target)
                    if carried.any():
                        values["mean_hu"] = measure_hu(
                            target.voxels, carried, phase="arterial"
                        ).mean_hu
                        threshold = EnhancementThreshold(
                            "absolute", self.recist.enhancing_threshold_hu
                        )
                        enhancement = measure_enhancement(target.voxels, carried, threshold)
                        values["enhancing_fraction"] = enhancement.enhancing_fraction
                        values["enhancement_threshold_hu"] = enhancement.threshold_hu
                        values["enhancement_rule"] = enhancement.explanation.source
                        values["mean_hu_series_uid"] = arterial[0]
                    else:
                        notes.append("The contour lies outside the arterial series.")
                except TacePlannerError as error:
                    notes.append(f"No HU on the arterial series: {error}")
        return values

    def _containment(
        self,
        name: str,
        kind: str,
        mask: npt.NDArray[np.bool_],
        series_uid: str,
        part: str | None,
        timepoint_pk: int,
    ) -> dict[str, Any]:
        """The share of the focus (or of every focus, for the liver) outside the liver contour."""
        with self._sessions() as session:
            point = session.get(TimepointRow, timepoint_pk)
            if point is None:
                return {}
            lesion_pks = session.scalars(
                select(LesionRow.id).where(
                    LesionRow.case_pk == point.case_pk, LesionRow.name != name
                )
            ).all()
        others = [self._masks.load_mask(pk, timepoint_pk) for pk in lesion_pks]
        present = [m for m in others if m is not None and m.mask.any()]
        return containment_details(
            name, kind == "liver", mask, series_uid, part, present, self._volume
        )

    def _geometry(self, series_uid: str, part: str | None) -> tuple[str, float | None]:
        with self._sessions() as session:
            series = repositories.find_series(session, series_uid)
            if series is None:
                return "", None
            thickness = series.slice_thickness_mm
            for entry in (series.geometry_report or {}).get("parts", []):
                if entry.get("part") == part:
                    return str(entry.get("status", series.geometry_status)), thickness
            return series.geometry_status or "", thickness

    def _arterial_series(self, timepoint_pk: int, series_uid: str) -> tuple[str, str | None] | None:
        with self._sessions() as session:
            source = repositories.find_series(session, series_uid)
            if source is None:
                return None
            if source.phase == "arterial":
                return series_uid, single_part(source)
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
                    return row.series_uid, single_part(row)
        return None

    # -- reading ---------------------------------------------------------------------

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
            with self._sessions() as session:
                _, _, point = series_context(session, series_uid)
                case_pk, timepoint_pk = point.case_pk, point.id
        elif case_pk is None:
            raise InvalidInputError("measurements", "give a series or a case")
        else:
            timepoint_pk = self.timepoint_pk(
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
            containment: dict[str, tuple[dict[str, Any], Any]] = {}
            liver_source = None
            for lesion_row, seg_row, uid in pairs:
                latest = session.scalars(
                    select(MeasurementRow)
                    .where(MeasurementRow.segmentation_pk == seg_row.id)
                    .order_by(MeasurementRow.measured_at.desc(), MeasurementRow.id.desc())
                ).first()
                lesion = lesion_item(lesion_row)
                seg = segmentation_item(seg_row, str(uid))
                if latest is None:
                    items.append(_unmeasured(lesion, seg))
                    continue
                items.append(measurement_item(lesion, seg, latest))
                source = (dict(latest.details or {}), latest.measured_at)
                if lesion.is_liver:
                    liver_source = liver_source or source
                else:
                    containment[lesion.name] = source
        items.sort(key=lambda m: (m.kind != "liver", natural(m.name)))
        outside = latest_outside_fractions(liver_source, containment)
        return _with_burden(case_pk, timepoint_pk, label, tuple(items), outside)

    def timepoint_pk(self, case_pk: int, timepoint: int | str) -> int:
        """The id of a case's timepoint given by id, label or "baseline".

        Raises
        ------
        NotFoundError
        """
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


def add_measurement(
    uow: UnitOfWork, segmentation: SegmentationRow, name: str, values: dict[str, Any]
) -> MeasurementRow:
    """Append a measurement of a segmentation inside the caller's unit of work (audited)."""
    details = {k: v for k, v in values.items() if k not in _COLUMNS}
    row = MeasurementRow(
        segmentation_pk=segmentation.id,
        volume_cm3=values["volume_cm3"],
        longest_axial_diameter_mm=values["longest_axial_diameter_mm"],
        short_axis_mm=values["short_axis_mm"],
        longest_3d_diameter_mm=values["longest_3d_diameter_mm"],
        mean_hu=values["mean_hu"],
        enhancing_fraction=values["enhancing_fraction"],
        method="auto" if segmentation.method == "auto" else "manual",
        trust=values["trust"],
        details=details,
        measured_at=utc_now(),
        measured_by=uow.user,
    )
    uow.session.add(row)
    uow.audit(
        action="measure",
        entity_pk=row,
        after=row,
        summary=f"{name}: {values['volume_cm3']:.2f} cm³",
    )
    return row


def measurement_item(
    lesion: LesionItem, seg: SegmentationItem, row: MeasurementRow
) -> LesionMeasurementItem:
    """The read model of a measurement row."""
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
        enhancement_rule=str(details.get("enhancement_rule", "")),
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
    case_pk: int,
    timepoint_pk: int,
    label: str,
    items: tuple[LesionMeasurementItem, ...],
    outside_liver: Mapping[str, float | None] | None = None,
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
                trust="unmeasurable" if worst == "untrusted" else worst,  # type: ignore[arg-type]
                liver_range_cm3=_liver_range_cm3(),
            )
            burden = result.burden_percent
            notes.extend(a.message for a in result.advisories)
        except TacePlannerError as error:
            notes.append(str(error))
    if liver is not None:
        notes.extend(a.message for a in outside_liver_advisories(outside_liver or {}))
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


def _liver_range_cm3() -> tuple[float, float]:
    """The plausible liver volumes of the planning parameters (the packaged file)."""
    from tace_planner.services.planning_parameters import load_planning_parameters

    params = load_planning_parameters()
    return (params.value("liver_volume_min_cm3"), params.value("liver_volume_max_cm3"))
