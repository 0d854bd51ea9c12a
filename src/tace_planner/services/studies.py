"""Import studies into the database and image store; list and open stored series."""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import NotFoundError, TacePlannerError, UnsupportedSeriesError
from tace_planner.domain.progress import Progress, Task, run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.dicom.classify import Classification, classify_series
from tace_planner.imaging.dicom.discover import FileError, kind_of, scan_files
from tace_planner.imaging.dicom.scan import IMAGE_STORAGE_MODALITIES, InstanceHeader
from tace_planner.imaging.dicom.series import load_volume
from tace_planner.imaging.dicom.volumes import load_plan, middle_slab, plan_volumes
from tace_planner.services.dto import SeriesItem, StudyItem, VolumePartItem
from tace_planner.services.image_store import ImageStore
from tace_planner.store import repositories
from tace_planner.store.models import InstanceRow, SeriesRow, StudyRow, TimepointRow
from tace_planner.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# Image SOP classes offered as volumes; everything else is kept but not opened.
VOLUME_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
        "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT Image Storage
        "1.2.840.10008.5.1.4.1.1.4",  # MR Image Storage
        "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR Image Storage
    }
)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What one import did: series touched, files added, files refused and why."""

    series: tuple[SeriesItem, ...]
    new_instances: int
    known_instances: int
    errors: tuple[FileError, ...] = ()
    skipped: tuple[FileError, ...] = ()
    new_series_uids: tuple[str, ...] = field(default_factory=tuple)


def series_item(row: SeriesRow, image_count: int) -> SeriesItem:
    """Build the read model of a series row."""
    report = row.geometry_report or {}
    return SeriesItem(
        pk=row.id,
        series_uid=row.series_uid,
        study_uid=row.study.study_uid,
        modality=row.modality,
        description=row.description,
        series_number=row.series_number,
        series_on=row.series_on,
        image_count=image_count,
        is_volume=row.is_volume,
        phase=row.phase,
        sequence=row.sequence,
        plane=row.plane,
        frame_of_reference_uid=row.frame_of_reference_uid,
        slice_thickness_mm=row.slice_thickness_mm,
        geometry_status=row.geometry_status,
        warnings=tuple(report.get("warnings", ())),
        classification_source=row.classification_source,
        parts=tuple(VolumePartItem.from_report(part) for part in report.get("parts", ())),
    )


_STATUS_RANK = {"ok": 0, "warning": 1, "unmeasurable": 2}


def describe_geometry(headers: Sequence[InstanceHeader]) -> dict[str, Any]:
    """The geometry report stored with a series: its volumes (parts), worst status, warnings.

    Non-image objects (scouts, reports, segmentations) are left out before
    planning; a series from which no volume can be formed gets no parts and the
    reason as its warning.
    """
    images = [h for h in headers if kind_of(h) == "image" and h.modality in ("CT", "MR")]
    if not images:
        return {"status": "", "warnings": [], "parts": []}
    try:
        plans = plan_volumes(images)
    except UnsupportedSeriesError as error:
        return {"status": "unmeasurable", "warnings": [str(error)], "parts": []}
    parts = [{"part": plan.part, **plan.report.to_json()} for plan in plans]
    status = max((part["status"] for part in parts), key=lambda s: _STATUS_RANK.get(s, 0))
    warnings = [w for plan in plans for w in plan.report.warnings]
    report: dict[str, Any] = {"status": status, "warnings": warnings, "parts": parts}
    interval = min(
        (plan.report.spacing_median_mm for plan in plans if plan.report.slice_count > 1),
        default=None,
    )
    if interval is not None:
        report["slice_interval_mm"] = interval
    return report


def _phase_from_images(
    headers: Sequence[InstanceHeader], fallback: Classification
) -> Classification:
    """Guess a CT phase from aorta and portal-vein HU on a few middle slices.

    Used when neither the description nor the contrast tags name the phase;
    the reason says that the guess comes from the images.
    """
    from tace_planner.imaging.vessels import phase_from_volume

    images = [h for h in headers if kind_of(h) == "image"]
    try:
        plan = plan_volumes(images)[0]
        slab = run_sync(load_plan(middle_slab(plan, 9)))
        guess = phase_from_volume(slab)
    except TacePlannerError as error:
        log.info("phase from images not available: %s", error)
        return fallback
    if guess.phase in ("", "unknown"):
        return dataclasses.replace(fallback, reason=f"{fallback.reason}; {guess.reason}")
    return dataclasses.replace(
        fallback, phase=guess.phase, reason=f"from the images: {guess.reason}"
    )


def _is_volume(headers: Sequence[InstanceHeader]) -> bool:
    images = [h for h in headers if kind_of(h) == "image"]
    if not images:
        return False
    first = images[0]
    return (
        first.modality in IMAGE_STORAGE_MODALITIES
        and first.sop_class_uid in VOLUME_SOP_CLASSES
        and all(h.has_pixels_geometry for h in images)
        and (len(images) >= 2 or first.number_of_frames >= 2)
    )


class StudyService:
    """Imports DICOM into the store and answers questions about stored series.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions; each user action gets its own unit of work.
    image_store : ImageStore
        Where imported files are copied.
    user : str
        Written into audit events.
    """

    def __init__(
        self, session_factory: sessionmaker[Session], image_store: ImageStore, user: str
    ) -> None:
        self._sessions = session_factory
        self._store = image_store
        self._user = user

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, user=self._user)

    def import_paths(self, paths: Sequence[Path]) -> Task[ImportReport]:
        """Import every DICOM file under ``paths``: copy, index, classify.

        Each series is committed in its own transaction after its files are
        copied, so a cancelled or failed import leaves only whole series behind,
        and re-importing the same files adds nothing (SOP Instance UIDs).

        Yields
        ------
        Progress
            Header reading, then copying.
        """
        incoming = self._store.root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        scan = yield from scan_files(paths, temp_dir=incoming)
        # Files extracted from archives live until the scan is cleaned up: after copying.
        with scan:
            by_series: dict[str, list[InstanceHeader]] = defaultdict(list)
            for header in scan.headers:
                by_series[header.series_uid].append(header)
            total = len(scan.headers)
            done = 0
            new_instances = known_instances = 0
            touched: list[str] = []
            created: list[str] = []
            for series_uid, headers in by_series.items():
                added, known, is_new = yield from self._import_series(headers, done, total)
                done += len(headers)
                new_instances += added
                known_instances += known
                touched.append(series_uid)
                if is_new:
                    created.append(series_uid)
            with self._sessions() as session:
                items = tuple(self._series_items(session, touched))
            log.info(
                "import: %d new files, %d known, %d errors",
                new_instances,
                known_instances,
                len(scan.errors),
            )
            return ImportReport(
                series=items,
                new_instances=new_instances,
                known_instances=known_instances,
                errors=tuple(FileError(scan.display_path(e.path), e.reason) for e in scan.errors),
                skipped=tuple(FileError(scan.display_path(e.path), e.reason) for e in scan.skipped),
                new_series_uids=tuple(created),
            )

    def _import_series(
        self, headers: list[InstanceHeader], done: int, total: int
    ) -> Task[tuple[int, int, bool]]:
        copied: list[str] = []
        committed = False
        try:
            with self._uow() as uow:
                session = uow.session
                known = repositories.existing_sop_uids(
                    session, [h.sop_instance_uid for h in headers]
                )
                series_row, is_new = self._series_row(session, headers)
                unique: dict[str, InstanceHeader] = {}
                for header in headers:
                    if header.sop_instance_uid not in known:
                        unique.setdefault(header.sop_instance_uid, header)
                for n, header in enumerate(unique.values(), start=1):
                    relative = self._store.relative_path(
                        header.study_uid, header.series_uid, header.sop_instance_uid
                    )
                    self._store.copy_in(header.path, relative)
                    copied.append(relative)
                    session.add(
                        InstanceRow(
                            series=series_row,
                            sop_instance_uid=header.sop_instance_uid,
                            sop_class_uid=header.sop_class_uid,
                            instance_number=header.instance_number,
                            stored_path=relative,
                            transfer_syntax_uid=header.transfer_syntax_uid,
                            file_size_bytes=header.file_size_bytes,
                        )
                    )
                    if n % 16 == 0:
                        yield Progress(done + n, total, f"Copying {series_row.description!r}")
                if unique:
                    uow.audit(
                        action="import_series",
                        entity="series",
                        entity_pk=series_row,
                        before=None,
                        after={"series_uid": series_row.series_uid, "new_files": len(unique)},
                        summary=f"imported {len(unique)} file(s) of series "
                        f"{series_row.description!r}",
                    )
                    uow.commit()
                committed = True
                yield Progress(done + len(headers), total, "Series stored")
                return len(unique), len(headers) - len(unique), is_new and bool(unique)
        finally:
            if not committed:
                for relative in copied:
                    self._store.remove(relative)

    def _series_row(
        self, session: Session, headers: list[InstanceHeader]
    ) -> tuple[SeriesRow, bool]:
        first = headers[0]
        existing = repositories.find_series(session, first.series_uid)
        if existing is not None:
            return existing, False
        patient, _ = repositories.get_or_create_patient(
            session,
            first.patient_id or "(no patient id)",
            first.issuer,
            name=first.patient_name,
            birth_on=first.patient_birth_on,
            sex=first.patient_sex,
        )
        study = repositories.find_study(session, first.study_uid)
        if study is None:
            study = StudyRow(
                patient=patient,
                study_uid=first.study_uid,
                study_on=first.study_on,
                description=first.study_description,
                accession_number=first.accession_number,
            )
            session.add(study)
        classification = classify_series(headers)
        geometry = describe_geometry(headers)
        if first.modality == "CT" and classification.phase == "unknown" and geometry["parts"]:
            classification = _phase_from_images(headers, classification)
        geometry["classification_reason"] = classification.reason
        if classification.b_values:
            geometry["b_values_s_per_mm2"] = list(classification.b_values)
        row = SeriesRow(
            study=study,
            series_uid=first.series_uid,
            modality=first.modality,
            description=first.series_description,
            series_number=first.series_number,
            series_on=first.series_on or first.study_on,
            frame_of_reference_uid=first.frame_of_reference_uid,
            sop_class_uid=first.sop_class_uid,
            is_volume=_is_volume(headers) and bool(geometry["parts"]),
            phase=classification.phase,
            sequence=classification.sequence,
            plane=classification.plane,
            slice_thickness_mm=first.slice_thickness_mm,
            field_strength_t=first.field_strength_t,
            geometry_status=geometry["status"],
            geometry_report=geometry,
        )
        session.add(row)
        return row, True

    def _series_items(self, session: Session, series_uids: Sequence[str]) -> list[SeriesItem]:
        if not series_uids:
            return []
        rows = session.scalars(select(SeriesRow).where(SeriesRow.series_uid.in_(series_uids))).all()
        counts = self._image_counts(session, [row.id for row in rows])
        return [series_item(row, counts.get(row.id, 0)) for row in rows]

    @staticmethod
    def _image_counts(session: Session, series_pks: Sequence[int]) -> dict[int, int]:
        if not series_pks:
            return {}
        query = (
            select(InstanceRow.series_pk, func.count())
            .where(InstanceRow.series_pk.in_(series_pks))
            .group_by(InstanceRow.series_pk)
        )
        return {pk: count for pk, count in session.execute(query).all()}

    def list_series(self) -> list[SeriesItem]:
        """Every stored series, ordered by study date and series number."""
        with self._sessions() as session:
            rows = session.scalars(
                select(SeriesRow)
                .join(StudyRow)
                .order_by(StudyRow.study_on, SeriesRow.series_number, SeriesRow.id)
            ).all()
            counts = self._image_counts(session, [row.id for row in rows])
            return [series_item(row, counts.get(row.id, 0)) for row in rows]

    def studies_of_case(self, case_pk: int) -> list[StudyItem]:
        """The studies linked to a case, oldest first, with their series."""
        return self._studies_where(StudyRow.case_pk == case_pk)

    def studies_of_patient(self, patient_pk: int) -> list[StudyItem]:
        """Every study of a patient, oldest first, with their series."""
        return self._studies_where(StudyRow.patient_pk == patient_pk)

    def _studies_where(self, condition: Any) -> list[StudyItem]:
        with self._sessions() as session:
            studies = session.scalars(
                select(StudyRow).where(condition).order_by(StudyRow.study_on, StudyRow.id)
            ).all()
            return [self._study_item(session, study) for study in studies]

    def _study_item(self, session: Session, study: StudyRow) -> StudyItem:
        rows = sorted(study.series, key=lambda s: (s.series_number or 0, s.id))
        counts = self._image_counts(session, [row.id for row in rows])
        timepoint = ""
        if study.timepoint_pk is not None:
            tp = session.get(TimepointRow, study.timepoint_pk)
            timepoint = tp.label if tp is not None else ""
        return StudyItem(
            pk=study.id,
            study_uid=study.study_uid,
            study_on=study.study_on,
            description=study.description,
            patient_pk=study.patient_pk,
            series=tuple(series_item(row, counts.get(row.id, 0)) for row in rows),
            timepoint_label=timepoint,
        )

    def series_files(self, series_uid: str) -> list[Path]:
        """Absolute paths of a stored series' files.

        Raises
        ------
        NotFoundError
            No series with this UID is stored.
        """
        with self._sessions() as session:
            row = repositories.find_series(session, series_uid)
            if row is None:
                raise NotFoundError(f"series {series_uid} is not in the database")
            return [self._store.absolute(i.stored_path) for i in row.instances]

    def load_series(self, series_uid: str, part: str | None = None) -> Task[ImageVolume]:
        """Read a stored series (or one ``part`` of it) into a volume; a task for a worker.

        Raises
        ------
        NotFoundError
            No series with this UID is stored.
        UnsupportedSeriesError
            (when run) the series holds several volumes and ``part`` is None, or
            no volume can be formed.
        """
        return load_volume(self.series_files(series_uid), part)
