"""Contours in and out as DICOM SEG: every lesion mask of a series in one file, and back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.contouring_dto import LIVER_LESION_NAME, SegImportItem
from tace_planner.services.mask_store import MaskStore
from tace_planner.services.measurement import VolumeSource
from tace_planner.store import repositories
from tace_planner.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from tace_planner.services.contouring import ContourWrite, ContourWriter


class SegExchangeService:
    """Write a series' contours as DICOM SEG and read a SEG onto its stored series.

    Parameters
    ----------
    session_factory : sessionmaker
    user : str
    masks : MaskStore
    volume : callable
        ``volume(series_uid, part) -> ImageVolume``.
    series_files : callable
        ``series_files(series_uid) -> list[Path]`` of the stored images.
    write_contours : callable
        Stores lesions, masks and measurements in one unit of work
        (``ContouringService.write_contours``).
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        user: str,
        masks: MaskStore,
        volume: VolumeSource,
        series_files: Callable[[str], Sequence[Path]],
        write_contours: ContourWriter,
    ) -> None:
        self._sessions = session_factory
        self._user = user
        self._masks = masks
        self._volume = volume
        self._series_files = series_files
        self._write = write_contours

    def export_seg(self, series_uid: str, path: Path, *, part: str | None = None) -> Path:
        """Write every lesion mask of a series part as one DICOM SEG file.

        Raises
        ------
        InvalidInputError
            Nothing is contoured on this series.
        """
        from tace_planner.imaging.dicom.seg import SegmentSpec, write_seg

        masks = [m for m in self._masks.masks_of_series(series_uid, part) if m.mask.any()]
        if not masks:
            raise InvalidInputError("series", f"{series_uid}: no contour to export")
        volume = self._volume(series_uid, part)
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
        files = list(self._series_files(series_uid))
        path = Path(path)
        write_seg(path, files, volume, specs)
        with UnitOfWork(self._sessions, user=self._user) as uow:
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
        Every lesion, mask and measurement of the file is saved in one unit of
        work.

        Raises
        ------
        InvalidInputError
            The SEG references no stored series.
        """
        import pydicom

        from tace_planner.imaging.dicom.seg import read_seg
        from tace_planner.services.contouring import ContourWrite

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
        case_pk, timepoint_pk, _ = self._masks.series_context(series_uid)
        volume = self._volume(series_uid, part)
        result = read_seg(dataset, volume, available_series_uids=None)
        writes: list[ContourWrite] = []
        for segment in result.segments:
            is_liver = segment.label.casefold() == LIVER_LESION_NAME.casefold() or (
                "liver" in segment.property_type.casefold()
            )
            writes.append(
                ContourWrite(
                    name=LIVER_LESION_NAME if is_liver else segment.label,
                    kind="liver" if is_liver else "focus",
                    mask=segment.mask,
                    method="manual",
                )
            )
        results = self._write(case_pk, timepoint_pk, series_uid, part, writes)
        return SegImportItem(series_uid, tuple(r.lesion for r in results), tuple(result.warnings))
