"""Contours in and out as DICOM SEG: every lesion mask of a series in one file, and back.

The SEG's Patient module names the patient the series is filed under in the database
(:func:`series_patient`, passed to :func:`~tace_planner.imaging.dicom.seg.export_seg`),
not the one in the images' headers: a study imported without a (0010,0020) *Patient ID*
and handed to its patient afterwards (:mod:`~tace_planner.services.study_reassign`) keeps
its empty Patient ID in the files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.contouring_dto import (
    LIVER_LESION_NAME,
    METHOD_WORDS,
    SegImportItem,
    SegmentationItem,
)
from tace_planner.services.mask_store import NEW, MaskStore
from tace_planner.services.measurement import VolumeSource
from tace_planner.services.study_reassign import is_placeholder
from tace_planner.store import repositories
from tace_planner.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from tace_planner.imaging.dicom.seg import SegPatient
    from tace_planner.services.contouring import ContourWrite, ContourWriter

HAND_METHODS = ("manual", "edited")
"""Contour methods meaning a person drew the contour or edited it by hand."""


@dataclass(frozen=True, slots=True)
class KeptContour:
    """A lesion's stored contour at a timepoint that an action left as it was."""

    name: str
    timepoint: str
    method: str
    updated_by: str
    version: int

    @property
    def by_hand(self) -> bool:
        """True when a person drew or edited this contour."""
        return self.method in HAND_METHODS

    def describe(self) -> str:
        """How it was made, e.g. "edited by hand by alice" or "automatic contour by bob"."""
        how = METHOD_WORDS.get(self.method, f"{self.method} contour")
        return f"{how} by {self.updated_by}" if self.updated_by else how


def kept_contour(name: str, timepoint: str, segmentation: SegmentationItem) -> KeptContour:
    """The :class:`KeptContour` of a lesion's stored segmentation."""
    return KeptContour(
        name, timepoint, segmentation.method, segmentation.updated_by, segmentation.version
    )


class HandContourKept(InvalidInputError):
    """An action would replace a contour drawn or edited by hand and was not allowed to."""

    def __init__(self, kept: KeptContour) -> None:
        super().__init__(
            f"lesion {kept.name}",
            f"already has a contour at {kept.timepoint} {kept.describe()}: not replaced",
        )
        self.kept = kept


@dataclass(frozen=True, slots=True)
class SegImportResult(SegImportItem):
    """What importing a DICOM SEG stored, and the stored contours it kept (not imported)."""

    kept: tuple[KeptContour, ...] = ()


def series_patient(session_factory: sessionmaker[Session], series_uid: str) -> SegPatient | None:
    """The stored patient of a series, the one the user confirmed; None when the series is
    not stored or is still filed under the placeholder patient of files without a Patient ID."""
    from tace_planner.imaging.dicom.seg import SegPatient

    with session_factory() as session:
        series = repositories.find_series(session, series_uid)
        if series is None or is_placeholder(series.study.patient):
            return None
        row = series.study.patient
        return SegPatient(row.patient_id, row.name, row.issuer or "", row.birth_on, row.sex)


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
        SegWriteError
            ``path`` cannot be written (checked before the SEG is built).
        """
        from tace_planner.imaging.dicom.seg import check_seg_target, save_atomically

        target = check_seg_target(path)
        dataset, labels = self._build(series_uid, part)
        save_atomically(dataset, target)
        self._audit(series_uid, labels, f"{len(labels)} contour(s) exported as DICOM SEG")
        return target

    def build_seg(self, series_uid: str, *, part: str | None = None) -> Dataset:
        """Every lesion mask of a series part as one DICOM SEG, in memory (nothing written).

        For callers that must transform the SEG before it reaches a disk, such as the
        de-identified export: the identified SEG then never exists as a file. Audited as
        an export, like :meth:`export_seg`.

        Returns
        -------
        pydicom.dataset.Dataset
            A ``highdicom.seg.Segmentation`` with its file meta; ``save_as`` writes it.

        Raises
        ------
        InvalidInputError
            Nothing is contoured on this series.
        """
        dataset, labels = self._build(series_uid, part)
        self._audit(
            series_uid, labels, f"{len(labels)} contour(s) exported as DICOM SEG (in memory)"
        )
        return dataset

    def _build(self, series_uid: str, part: str | None) -> tuple[Dataset, list[str]]:
        """The SEG of a series part and its segment labels."""
        from tace_planner.imaging.dicom.seg import SegmentSpec, export_seg

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
        patient = series_patient(self._sessions, series_uid)
        dataset: Dataset = export_seg(files, volume, specs, patient=patient)
        return dataset, [s.label for s in specs]

    def _audit(self, series_uid: str, labels: list[str], summary: str) -> None:
        with UnitOfWork(self._sessions, user=self._user) as uow:
            uow.audit(
                action="export_seg",
                entity="series",
                entity_pk=None,
                after={"series_uid": series_uid, "segments": labels},
                summary=summary,
            )
            uow.commit()

    def import_seg(
        self, path: Path, *, part: str | None = None, replace: bool = False
    ) -> SegImportResult:
        """Read a DICOM SEG onto the stored series it references; one lesion per segment.

        Segments are matched to lesions by label (created when missing; a
        segment labelled "Liver" or of liver type becomes the liver contour).
        A lesion that already has a contour at the series' timepoint keeps it
        (listed in the result's ``kept``) unless ``replace``. Every lesion,
        mask and measurement imported is saved in one unit of work, each
        against the contour version read here, so that a save by someone else
        meanwhile is refused rather than overwritten.

        Raises
        ------
        ConcurrentEditError
            One of these contours was saved by someone else meanwhile; nothing
            of the file is saved.
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
        case_pk, timepoint_pk, label = self._masks.series_context(series_uid)
        contoured = {
            lesion.name.casefold(): (lesion, segmentation)
            for lesion, segmentation in self._masks.segmentations_of_case(case_pk)
            if segmentation.timepoint_pk == timepoint_pk
        }
        volume = self._volume(series_uid, part)
        result = read_seg(dataset, volume, available_series_uids=None)
        writes: list[ContourWrite] = []
        kept: list[KeptContour] = []
        seen: set[str] = set()
        for segment in result.segments:
            is_liver = segment.label.casefold() == LIVER_LESION_NAME.casefold() or (
                "liver" in segment.property_type.casefold()
            )
            name = LIVER_LESION_NAME if is_liver else segment.label
            key = name.strip().casefold()
            current = contoured.get(key)
            if key in seen:
                expected = None  # a second segment of one lesion in the file: as before
            elif current is None:
                expected = NEW
            elif not replace:
                kept.append(kept_contour(current[0].name, label, current[1]))
                continue
            else:
                expected = current[1].version
            seen.add(key)
            writes.append(
                ContourWrite(
                    name=name,
                    kind="liver" if is_liver else "focus",
                    mask=segment.mask,
                    method="manual",
                    expected_version=expected,
                )
            )
        results = self._write(case_pk, timepoint_pk, series_uid, part, writes) if writes else []
        return SegImportResult(
            series_uid,
            tuple(r.lesion for r in results),
            tuple(result.warnings),
            tuple(kept),
        )
