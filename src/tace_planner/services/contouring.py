"""Contouring use cases: auto contour a focus, contour the liver, save an edit — each one
unit of work — and one front door to the focused services behind them.

- :class:`~tace_planner.services.lesions.LesionService`: lesions, names,
  segments, RECIST target flags;
- :class:`~tace_planner.services.mask_store.MaskStore`: masks, version checks;
- :class:`~tace_planner.services.measurement.MeasurementService`: measurements
  and the burden F of a timepoint;
- :class:`~tace_planner.services.seg_exchange.SegExchangeService`: DICOM SEG.

A user action that contours (auto contour, liver, a brush edit, a SEG import)
saves its lesion, mask and measurement together or not at all
(:meth:`ContouringService.write_contours`). Two users contouring the same
lesion at once: the second save is refused with who saved first and when.
Volumes come from the app's shared :class:`~tace_planner.services.volume_cache.VolumeLoader`.

Why this module is long: it keeps, as one-line delegations, every method name the
UI, the CLI and the demo call, so that the split into focused services changed none
of their callers. Foci sharing voxels: :mod:`~tace_planner.services.focus_overlap`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.domain.explanation import Advisory
from tace_planner.domain.plausibility import (
    ClickVerdict,
    ImplausibleClickError,
    LeakReport,
    click_hu,
    click_index,
    describe_leak,
    judge_click,
    judge_parenchyma,
    reaches_distance,
)
from tace_planner.domain.progress import Progress, Task, run_sync
from tace_planner.domain.recist import RecistParameters
from tace_planner.domain.volume import ImageVolume
from tace_planner.services import focus_overlap
from tace_planner.services.contour_records import (
    check_name,
    decode_segmentation,
    lesion_item,
    segmentation_item,
)
from tace_planner.services.contouring_dto import (
    LIVER_LESION_NAME,
    ContourResult,
    LesionChange,
    LesionItem,
    LesionMask,
    LesionMeasurementItem,
    MeasurementsItem,
    SegmentationItem,
    SegmentProposal,
)
from tace_planner.services.lesions import LesionService, lesion_for_write
from tace_planner.services.mask_store import (
    NEW,
    MaskStore,
    commit_contour,
    contour_conflicts_reported,
    write_mask,
)
from tace_planner.services.measurement import MeasurementService, add_measurement, measurement_item
from tace_planner.services.seg_exchange import SegExchangeService, SegImportResult
from tace_planner.services.volume_cache import VolumeCache, VolumeLoader, volume_key
from tace_planner.services.volume_currency import check_volume_current
from tace_planner.store import repositories
from tace_planner.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from tace_planner.imaging.segmentation.liver import LiverResult
    from tace_planner.services.studies import StudyService

__all__ = ["ContourWrite", "ContouringService", "contouring_service", "decode_segmentation"]

PointLps = Sequence[float]

_SIZE_LIMIT = "mm limit around the click"
"""Words of the auto contour's own size-limit warning, replaced by the leak message."""


@dataclass(frozen=True, eq=False)
class ContourWrite:
    """One lesion's contour to store, as part of one user action.

    ``expected_version`` is the version of the contour the user started from
    (:data:`~tace_planner.services.mask_store.NEW` when there was none; None:
    overwrite whatever is stored).
    """

    name: str
    kind: str
    mask: npt.NDArray[np.bool_]
    method: str
    couinaud_segment: str | None = None
    expected_version: int | None = None


class ContourWriter(Protocol):
    """Stores contours in one unit of work (:meth:`ContouringService.write_contours`)."""

    def __call__(
        self,
        case_pk: int,
        timepoint_pk: int,
        series_uid: str,
        part: str | None,
        writes: Sequence[ContourWrite],
        *,
        measure: bool = True,
    ) -> list[ContourResult]: ...


class ContouringService:
    """Lesions, masks, measurements and SEG exchange of the cases.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions; each user action is one unit of work.
    studies : StudyService
        Lists the stored files of a series (``series_files``).
    user : str
        Written into the rows and audit events.
    volumes : VolumeLoader, optional
        The app's shared cache of open volumes; a private one when omitted.
    recist : RecistParameters, optional
        RECIST thresholds and the enhancing threshold (``recist.json``).
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        studies: StudyService,
        user: str,
        *,
        volumes: VolumeLoader | None = None,
        recist: RecistParameters | None = None,
        grids: focus_overlap.GridSource | None = None,
    ) -> None:
        if recist is None:
            from tace_planner.services.recist_parameters import load_recist_parameters

            recist = load_recist_parameters()
        self._sessions = session_factory
        self._studies = studies
        self._user = user
        self._volumes = volumes or VolumeLoader(studies.series_files, VolumeCache())
        # the grids of the other phases of a study, for an edit's overlap message
        self._grids = grids or focus_overlap.header_grids(studies.series_files)
        self.recist = recist
        self.lesions = LesionService(session_factory, user, recist=recist)
        self.masks = MaskStore(session_factory, user)
        self.measuring = MeasurementService(
            session_factory, user, self.masks, self.volume, recist=recist
        )
        self.seg = SegExchangeService(
            session_factory, user, self.masks, self.volume, studies.series_files,
            self.write_contours,
        )  # fmt: skip

    # -- volumes -----------------------------------------------------------------

    def volume(self, series_uid: str, part: str | None = None) -> ImageVolume:
        """The volume of a stored series part, through the shared volume cache."""
        return run_sync(self._volumes.open(series_uid, part))

    def remember_volume(self, series_uid: str, part: str | None, volume: ImageVolume) -> None:
        """Keep an already loaded volume so that contouring does not read it again.

        Only a volume the shared cache read for this series part is kept, and with the
        stamp of the files it was read from: one a view still shows after its series was
        removed and imported again is then read again at the next look-up, not handed
        out as the new files' volume. A volume of unknown origin is not kept.
        """
        key = volume_key(series_uid, part)
        if self._volumes.cache.read_with(key, volume) is not None:
            self._volumes.cache.put(key, volume)

    # -- the focused services' calls the UI and CLI use ----------------------------

    def list_lesions(self, case_pk: int) -> list[LesionItem]:
        """The lesions of a case: the liver first, then the foci by name."""
        return self.lesions.list_lesions(case_pk)

    def lesion(self, lesion_pk: int) -> LesionItem:
        """One lesion (NotFoundError when there is none)."""
        return self.lesions.lesion(lesion_pk)

    def next_focus_name(self, case_pk: int) -> str:
        """The first free name F1, F2, … of a case."""
        return self.lesions.next_focus_name(case_pk)

    def create_lesion(
        self, case_pk: int, name: str | None = None, **options: object
    ) -> LesionChange:
        """See :meth:`LesionService.create_lesion`."""
        return self.lesions.create_lesion(case_pk, name, **options)  # type: ignore[arg-type]

    def update_lesion(self, lesion_pk: int, **changes: object) -> LesionChange:
        """See :meth:`LesionService.update_lesion`."""
        return self.lesions.update_lesion(lesion_pk, **changes)  # type: ignore[arg-type]

    def rename_lesion(self, lesion_pk: int, name: str) -> LesionItem:
        """Rename a lesion (the name is unique in its case)."""
        return self.lesions.rename_lesion(lesion_pk, name)

    def delete_lesion(self, lesion_pk: int) -> None:
        """Delete a lesion with its masks and measurements (audited)."""
        self.lesions.delete_lesion(lesion_pk)

    def delete_contour(self, series_uid: str, lesion: str) -> tuple[str, str]:
        """Remove a lesion's contour at the timepoint of ``series_uid`` (with its
        measurements; audited with the mask, so it can be restored). The lesion stays,
        with its contours at other timepoints. Returns the lesion's name and the
        timepoint's label.

        Raises
        ------
        NotFoundError
            No such series, no lesion of that name in the case, or no contour of it
            at that timepoint.
        """
        case_pk, timepoint_pk, label = self.series_context(series_uid)
        # (any lesion, the liver too: the name is only checked, not reserved)
        item = self.lesions.find(case_pk, check_name(lesion, "liver"))
        if item is None:
            raise NotFoundError(f"lesion {lesion!r}: not a lesion of this case")
        removed = self.masks.delete_mask(item.pk, timepoint_pk)
        if removed is None:
            raise NotFoundError(f"lesion {item.name}: no contour at {label}")
        return item.name, label

    def restore_lesion(self, lesion_pk: int) -> LesionItem:
        """Bring back a deleted lesion with its masks and measurements (audited); see
        :meth:`LesionService.restore_lesion`."""
        return self.lesions.restore_lesion(lesion_pk)

    def target_advisories(self, lesion_pk: int) -> tuple[Advisory, ...]:
        """The RECIST 1.1 rules making this lesion a target would break."""
        return self.lesions.target_advisories(lesion_pk)

    def propose_segment(self, lesion_pk: int) -> SegmentProposal:
        """The Couinaud segment proposed for a focus from the liver contour (not stored)."""
        from tace_planner.services.segment_proposal import propose_lesion_segment

        return propose_lesion_segment(self.lesions, self.masks, self.volume, lesion_pk)

    def series_context(self, series_uid: str) -> tuple[int, int, str]:
        """(case_pk, timepoint_pk, timepoint label) of a series' study."""
        return self.masks.series_context(series_uid)

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
        """Store a mask only (no measurement); see :meth:`MaskStore.save_mask`."""
        return self.masks.save_mask(
            lesion_pk, timepoint_pk, series_uid, part, mask, method,
            expected_version=expected_version,
        )  # fmt: skip

    def load_mask(self, lesion_pk: int, timepoint_pk: int) -> LesionMask | None:
        """A lesion's decoded mask at a timepoint (None when not contoured)."""
        return self.masks.load_mask(lesion_pk, timepoint_pk)

    def previous_mask(self, lesion_pk: int, timepoint_pk: int) -> npt.NDArray[np.bool_] | None:
        """The mask the latest save replaced (from the audit trail)."""
        return self.masks.previous_mask(lesion_pk, timepoint_pk)

    def masks_of_series(self, series_uid: str, part: str | None = None) -> list[LesionMask]:
        """Every lesion mask drawn on one series part (liver first)."""
        return self.masks.masks_of_series(series_uid, part)

    def masks_of_case(self, case_pk: int) -> list[LesionMask]:
        """Every stored mask of a case (liver first)."""
        return self.masks.masks_of_case(case_pk)

    def measure(self, case_pk: int, timepoint: int | str) -> MeasurementsItem:
        """Measure every contoured lesion of a case at a timepoint and store the results."""
        return self.measuring.measure(case_pk, timepoint)

    def measure_lesion(self, lesion_pk: int, timepoint_pk: int) -> list[LesionMeasurementItem]:
        """Measure one lesion at a timepoint and store it (empty: not contoured)."""
        return self.measuring.measure_lesion(lesion_pk, timepoint_pk)

    def measure_lesions(
        self, lesion_pks: Sequence[int], timepoint_pk: int
    ) -> list[LesionMeasurementItem]:
        """Measure lesions at a timepoint and store one measurement each."""
        return self.measuring.measure_lesions(lesion_pks, timepoint_pk)

    def measurements(
        self,
        series_uid: str | None = None,
        *,
        case_pk: int | None = None,
        timepoint: int | str | None = None,
    ) -> MeasurementsItem:
        """The latest measurements of a timepoint, with V_liv, V_mts and F."""
        return self.measuring.measurements(series_uid, case_pk=case_pk, timepoint=timepoint)

    def export_seg(self, series_uid: str, path: Path, *, part: str | None = None) -> Path:
        """Write every lesion mask of a series part as one DICOM SEG file."""
        return self.seg.export_seg(series_uid, path, part=part)

    def build_seg(self, series_uid: str, *, part: str | None = None) -> Dataset:
        """The SEG :meth:`export_seg` writes, in memory only (see
        :meth:`SegExchangeService.build_seg`)."""
        return self.seg.build_seg(series_uid, part=part)

    def import_seg(
        self, path: Path, *, part: str | None = None, replace: bool = False
    ) -> SegImportResult:
        """Read a DICOM SEG onto the stored series it references (contours stored there
        are kept unless ``replace``; see :meth:`SegExchangeService.import_seg`)."""
        return self.seg.import_seg(path, part=part, replace=replace)

    # -- one unit of work per contouring action ---------------------------------------

    def write_contours(
        self,
        case_pk: int,
        timepoint_pk: int,
        series_uid: str,
        part: str | None,
        writes: Sequence[ContourWrite],
        *,
        measure: bool = True,
    ) -> list[ContourResult]:
        """Store lesions, their masks and (measured first) their measurements in one transaction.

        Raises
        ------
        ConcurrentEditError
            Someone saved one of these contours since it was read ("changed by
            … at …"); nothing of this action is saved.
        InvalidInputError, NotFoundError
        """
        values = []
        for write in writes:
            array = np.asarray(write.mask, dtype=bool)
            values.append(
                self.measuring.values(write.name, write.kind, array, series_uid, part, timepoint_pk)
                if measure and array.any()
                else None
            )
        first = writes[0].name if writes else ""
        with UnitOfWork(self._sessions, user=self._user) as uow:
            stored = []
            with contour_conflicts_reported(uow, first, None, timepoint_pk, self._sessions):
                for write, measured in zip(writes, values, strict=True):
                    lesion, created = lesion_for_write(
                        uow, case_pk, write.name, write.kind, write.couinaud_segment
                    )
                    seg = write_mask(
                        uow, lesion, timepoint_pk, series_uid, part, write.mask, write.method,
                        expected_version=write.expected_version,
                    )  # fmt: skip
                    row = add_measurement(uow, seg, lesion.name, measured) if measured else None
                    stored.append((lesion, seg, row, created))
            commit_contour(uow, first, None, timepoint_pk, self._sessions)
        # Contours an interrupted older version saved without their measurement.
        self.measuring.measure_unmeasured(case_pk, timepoint_pk)
        results = []
        for lesion, seg, row, created in stored:
            item = lesion_item(lesion)
            seg_item = segmentation_item(seg, series_uid)
            measured_item = None if row is None else measurement_item(item, seg_item, row)
            results.append(ContourResult(item, seg_item, measured_item, lesion_created=created))
        return results

    def save_and_measure(
        self,
        lesion_pk: int,
        timepoint_pk: int,
        series_uid: str,
        part: str | None,
        mask: npt.ArrayLike,
        method: str = "manual",
        *,
        expected_version: int | None = None,
        volume: ImageVolume | None = None,
    ) -> ContourResult:
        """Store an edited mask and its measurement in one transaction (a brush stroke).

        ``volume``, the one the mask was drawn on, must be read from the series' files
        as they are now (else StaleVolumeError; :mod:`~.volume_currency`).

        An empty mask removes the contour and its measurements instead
        (:meth:`MaskStore.delete_mask`): the result then has no measurement. A focus
        edited into another focus is kept as painted; the result's ``message`` names
        the volume they now share, which V_mts counts twice, also with a focus drawn
        on another phase of the study
        (:func:`~tace_planner.services.focus_overlap.shared_after_edit`).
        """
        if volume is not None:
            check_volume_current(self._volumes, self._sessions, series_uid, part, volume)
        item = self.lesions.lesion(lesion_pk)
        array = np.asarray(mask, dtype=bool)
        if not array.any():
            removed = self.masks.delete_mask(lesion_pk, timepoint_pk)
            if removed is not None:
                return ContourResult(item, removed, None)
        write = ContourWrite(item.name, item.kind, array, method, None, expected_version)
        stored = self.write_contours(item.case_pk, timepoint_pk, series_uid, part, [write])[0]
        if item.is_liver or not array.any():
            return stored
        volume = self.volume(series_uid, part)
        said = focus_overlap.shared_after_edit(
            self._sessions, series_uid, part, item.name, array, volume.voxel_volume_cm3,
            timepoint_pk=timepoint_pk, index_to_lps=volume.index_to_lps, grids=self._grids,
        )  # fmt: skip
        return dataclasses.replace(stored, warnings=(said,), message=said) if said else stored

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
        expected_version: int | None = None,
        confirmed: bool = False,
        margin_mm: float = 0.0,
        keep_in: npt.NDArray[np.bool_] | None = None,
        keep_out: npt.NDArray[np.bool_] | None = None,
        replace_hand_drawn: bool = True,
    ) -> ContourResult:
        """Contour a focus in 3D from a click and store it (a new focus unless ``lesion``).

        ``margin_mm`` moves the whole contour out (positive) or in after the clicks
        (:meth:`~tace_planner.imaging.segmentation.interactive.InteractiveContour.set_margin`);
        ``keep_in`` / ``keep_out`` are voxels painted in or erased by hand since the
        clicks, kept as painted.

        The click is judged first (:func:`~tace_planner.domain.plausibility.judge_click`):
        air is refused; fat, bone or a click outside the liver contour is contoured
        only when ``confirmed``. The result's ``message`` says when the contour
        leaks outside the liver contour or reaches the size limit, and how to fix it.

        The liver mask of the same timepoint and grid, if any, guards against
        leaks. The timepoint is the one of the series' study. An existing
        contour of the lesion at that timepoint is replaced — unless someone
        else saved it after this call read it (or after ``expected_version``),
        which is refused. The lesion, mask and measurement are one transaction.
        With ``replace_hand_drawn`` False, a stored contour drawn or edited by hand
        (method "manual" or "edited") is not replaced: the command line asks for
        ``--replace``; the window, which can undo, keeps the default True.

        Raises
        ------
        ConcurrentEditError
            The lesion's contour was saved by someone else meanwhile.
        HandContourKept
            ``replace_hand_drawn`` is False and the lesion's contour at the
            timepoint was drawn or edited by hand; nothing is stored.
        ImplausibleClickError
            The click is refused, or needs confirmation and ``confirmed`` is False
            (``needs_confirmation`` tells which); nothing is stored.
        InvalidInputError
            The series is not in the case, a seed is outside the volume, an
            exclude click equals an include click, the lesion is the liver, the
            name is malformed, or the margin lies beyond 5 mm.
        NotFoundError
            No such series.
        """
        from tace_planner.imaging.segmentation.interactive import click_contour

        if lesion is not None:
            lesion = check_name(lesion, "focus")
        context_case, timepoint_pk, label = self.series_context(series_uid)
        _same_case(case_pk, context_case, series_uid)
        name = lesion if lesion is not None else self.lesions.next_focus_name(case_pk)
        existing = self.lesions.find(case_pk, name)
        if existing is not None and existing.is_liver:
            raise InvalidInputError(
                "lesion name",
                f"{existing.name!r} names the whole-liver contour, not a focus: give the focus "
                "another name",
            )
        if existing is not None and not replace_hand_drawn:
            from tace_planner.services.seg_exchange import HandContourKept, kept_contour

            stored_seg = next(
                (
                    seg
                    for item, seg in self.masks.segmentations_of_case(case_pk)
                    if item.pk == existing.pk and seg.timepoint_pk == timepoint_pk
                ),
                None,
            )
            if stored_seg is not None:
                current = kept_contour(existing.name, label, stored_seg)
                if current.by_hand:
                    raise HandContourKept(current)
                if expected_version is None:
                    # Replace the automatic contour read here, not a hand edit saved since.
                    expected_version = current.version
        if expected_version is None:
            expected_version = (
                NEW if existing is None else self.masks.stored_version(existing.pk, timepoint_pk)
            )
        if volume is None:
            volume = self.volume(series_uid, part)
        else:
            check_volume_current(self._volumes, self._sessions, series_uid, part, volume)
            self.remember_volume(series_uid, part, volume)
        liver = self._liver_mask(case_pk, timepoint_pk, series_uid, part, volume.shape)
        others = focus_overlap.other_foci(
            self.masks_of_series(series_uid, part), existing.name if existing else name, volume
        )
        verdict = self._judge_click(series_uid, volume, seed_lps, liver)
        if verdict.status == "refuse" or (verdict.status == "confirm" and not confirmed):
            raise ImplausibleClickError(verdict)
        # One click and its corrections: the star-shaped interactive contour, so that a
        # correction refines exactly the contour shown (docs/adr/0007).
        drawn = click_contour(
            volume,
            [seed_lps, *include],
            list(exclude),
            liver_mask=liver,
            margin_mm=margin_mm,
            keep_in=keep_in,
            keep_out=keep_out,
        )
        mask, warnings = drawn.mask, drawn.messages
        focus_overlap.refuse_a_click_in_another_focus(volume, seed_lps, others)
        if drawn.parenchyma is not None and not confirmed and not include and not exclude:
            # A first click in healthy liver: ask, as for fat, before a "focus" is stored.
            raise ImplausibleClickError(judge_parenchyma(*drawn.parenchyma))
        mask, shared = focus_overlap.without_other_foci(mask, others, volume)
        if shared:
            warnings = [*warnings, shared]
        limit_mm: float | None = None
        if not mask.any():
            raise InvalidInputError("auto contour", "found nothing around the click")
        leak = self._leak(mask, volume, seed_lps, liver, limit_mm)
        write = ContourWrite(
            existing.name if existing is not None else name,
            "focus",
            mask,
            "auto",
            couinaud_segment,
            expected_version,
        )
        stored = self.write_contours(
            case_pk, timepoint_pk, series_uid, part, [write], measure=measure
        )[0]
        warnings = [w for w in warnings if not (leak.message and _SIZE_LIMIT in w)]
        if leak.message:
            warnings.insert(0, leak.message)
        return ContourResult(
            stored.lesion,
            stored.segmentation,
            stored.measurement,
            tuple(warnings),
            stored.lesion_created,
            message=leak.message,
        )

    def check_click(
        self,
        case_pk: int,
        series_uid: str,
        seed_lps: PointLps,
        *,
        part: str | None = None,
        volume: ImageVolume | None = None,
    ) -> ClickVerdict:
        """Judge an auto contour click without contouring (see :meth:`auto_contour`)."""
        context_case, timepoint_pk, _ = self.series_context(series_uid)
        _same_case(case_pk, context_case, series_uid)
        if volume is None:
            volume = self.volume(series_uid, part)
        liver = self._liver_mask(case_pk, timepoint_pk, series_uid, part, volume.shape)
        return self._judge_click(series_uid, volume, seed_lps, liver)

    def _judge_click(
        self,
        series_uid: str,
        volume: ImageVolume,
        seed_lps: PointLps,
        liver: npt.NDArray[np.bool_] | None,
    ) -> ClickVerdict:
        index = click_index(volume.shape, volume.index_to_lps, seed_lps)
        inside = None if liver is None else _inside_liver(liver, index)
        hu = (
            click_hu(volume.voxels, volume.index_to_lps, seed_lps)
            if self._modality(series_uid) == "CT"
            else None
        )
        return judge_click(hu, inside)

    @staticmethod
    def _leak(
        focus: npt.NDArray[np.bool_],
        volume: ImageVolume,
        seed_lps: PointLps,
        liver: npt.NDArray[np.bool_] | None,
        limit_mm: float | None,
    ) -> LeakReport:
        """How the contour leaks out of the liver or (one-click contour) to its size limit."""
        reaches = limit_mm is not None and reaches_distance(
            focus, volume.index_to_lps, seed_lps, limit_mm
        )
        return describe_leak(
            focus, liver, volume.index_to_lps, reaches_limit=reaches, limit_mm=limit_mm
        )

    def _modality(self, series_uid: str) -> str:
        with self._sessions() as session:
            series = repositories.find_series(session, series_uid)
            return series.modality if series is not None else ""

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
        include: Sequence[PointLps] = (),
        exclude: Sequence[PointLps] = (),
    ) -> Task[ContourResult]:
        """:meth:`contour_liver` as a task (progress of the region growing).

        A click whose CT HU cannot be liver, or a grown region whose volume
        cannot be a liver, is refused with the reason; nothing is stored
        (:func:`~tace_planner.imaging.segmentation.liver.refuse_implausible_liver`).
        """
        from tace_planner.imaging.segmentation import segment_liver

        context_case, timepoint_pk, _ = self.series_context(series_uid)
        _same_case(case_pk, context_case, series_uid)
        liver_item = next((i for i in self.lesions.list_lesions(case_pk) if i.is_liver), None)
        expected = (
            NEW if liver_item is None else self.masks.stored_version(liver_item.pk, timepoint_pk)
        )
        if volume is None:
            yield Progress(0, 0, "Loading the series")
            volume = self.volume(series_uid, part)
        else:
            check_volume_current(self._volumes, self._sessions, series_uid, part, volume)
            self.remember_volume(series_uid, part, volume)
        result = yield from segment_liver(volume, seed_lps)
        if not result.mask.any():
            raise InvalidInputError("liver seed", " ".join(result.warnings) or "nothing grown")
        self._check_liver(series_uid, result, volume)
        mask = result.mask
        if include or exclude:
            yield Progress(0, 0, "Applying the corrective clicks")
            mask = _refine_liver(volume, mask, include, exclude)
        yield Progress(0, 0, "Saving and measuring the liver")
        write = ContourWrite(
            liver_item.name if liver_item is not None else LIVER_LESION_NAME,
            "liver",
            mask,
            "auto",
            None,
            expected,
        )
        stored = self.write_contours(
            case_pk, timepoint_pk, series_uid, part, [write], measure=measure
        )[0]
        return ContourResult(
            stored.lesion,
            stored.segmentation,
            stored.measurement,
            tuple(result.warnings),
            stored.lesion_created,
            notes=result.notes,
        )

    def _check_liver(self, series_uid: str, result: LiverResult, volume: ImageVolume) -> None:
        from tace_planner.imaging.segmentation.liver import refuse_implausible_liver

        refuse_implausible_liver(result, volume, hounsfield=self._modality(series_uid) == "CT")

    def _liver_mask(
        self,
        case_pk: int,
        timepoint_pk: int,
        series_uid: str,
        part: str | None,
        shape: tuple[int, int, int],
    ) -> npt.NDArray[np.bool_] | None:
        liver = next((item for item in self.lesions.list_lesions(case_pk) if item.is_liver), None)
        if liver is None:
            return None
        stored = self.masks.load_mask(liver.pk, timepoint_pk)
        if (
            stored is None
            or stored.segmentation.series_uid != series_uid
            or stored.segmentation.part != part
            or stored.mask.shape != tuple(shape)
            or not stored.mask.any()
        ):
            return None
        return stored.mask


def _inside_liver(liver: npt.NDArray[np.bool_], index: tuple[int, int, int]) -> bool:
    """Whether a voxel lies in the liver contour or in a hole of it on its slice.

    A liver grown from a click may leave out the foci it surrounds: a click in
    such a hole is a click in the liver.
    """
    from scipy import ndimage

    if liver[index]:
        return True
    z, y, x = index
    return bool(ndimage.binary_fill_holes(liver[z])[y, x])


def _same_case(case_pk: int, context_case: int, series_uid: str) -> None:
    if case_pk != context_case:
        raise InvalidInputError(
            "series", f"{series_uid} belongs to case {context_case}, not to case {case_pk}"
        )


def contouring_service(services: _HasContouring) -> ContouringService:
    """The contouring service of a :class:`~tace_planner.services.bootstrap.Services`."""
    return services.contouring


class _HasContouring(Protocol):
    @property
    def contouring(self) -> ContouringService: ...


def _refine_liver(
    volume: ImageVolume,
    mask: npt.NDArray[np.bool_],
    include: Sequence[PointLps],
    exclude: Sequence[PointLps],
) -> npt.NDArray[np.bool_]:
    """The liver after its corrective clicks: the includes, then the excludes."""
    from tace_planner.imaging.segmentation.common import seeds_to_index
    from tace_planner.imaging.segmentation.organ_refine import refine_organ

    clicks = [(p, True) for p in seeds_to_index(volume, include, "include seed")]
    clicks += [(p, False) for p in seeds_to_index(volume, exclude, "exclude seed")]
    for point, inside in clicks:
        mask = refine_organ(volume.voxels, volume.spacing_mm, mask, tuple(point), inside)
    return mask
