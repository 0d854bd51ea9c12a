"""Import studies into the database and image store; list, open and remove stored series.

Longer than the ~500 lines a service aims at: the import's safety steps (file
names the app controls, the store lock, the unique-key race, clean-up of an
interrupted series, the truncated-slice check) belong to one transaction per
series and are kept beside it; splitting the listing and opening of series into
their own module is the next step. Removing a series is in
:mod:`tace_planner.services.study_removal`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import (
    ConcurrentEditError,
    DicomReadError,
    NotFoundError,
    StoreError,
    TacePlannerError,
    UnsupportedSeriesError,
)
from tace_planner.domain.progress import Progress, Task, run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.dicom.classify import Classification, classify_series
from tace_planner.imaging.dicom.discover import scan_files
from tace_planner.imaging.dicom.scan import IMAGE_STORAGE_MODALITIES, InstanceHeader
from tace_planner.imaging.dicom.scan_result import FileError, kind_of
from tace_planner.imaging.dicom.series import load_volume
from tace_planner.imaging.dicom.volume_loading import load_plan
from tace_planner.imaging.dicom.volume_plan import VolumePlan, middle_slab
from tace_planner.imaging.dicom.volumes import plan_volumes
from tace_planner.services.dto import NO_PATIENT_ID, SeriesItem, StudyItem, VolumePartItem
from tace_planner.services.image_store import ImageStore, is_valid_uid, replacement_uid
from tace_planner.services.import_identity import (
    adoptable,
    filed_identity_warnings,
    filing_header,
    has_patient_id,
    patient_conflict,
)
from tace_planner.services.import_identity import (
    identity_warnings as identity_warnings,  # re-exported: callers import it from here
)
from tace_planner.services.import_report import (
    ImportReport as ImportReport,  # re-exported: callers import it from here
)
from tace_planner.services.import_report import imported_studies
from tace_planner.services.study_removal import (
    RemovedSeries,
    delete_series_rows,
    find_removed_series,
)
from tace_planner.services.study_removal import (
    SeriesHasMeasurements as SeriesHasMeasurements,  # re-exported: callers import it from here
)
from tace_planner.store import repositories
from tace_planner.store.db import describe_database_error
from tace_planner.store.models import (
    InstanceRow,
    SeriesRow,
    StudyRow,
    TimepointRow,
)
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
class _SeriesOutcome:
    added: int
    known: int
    is_new: bool
    errors: tuple[FileError, ...] = ()


_UID_FIELDS = (
    ("sop_instance_uid", "SOP Instance UID"),
    ("series_uid", "Series Instance UID"),
    ("study_uid", "Study Instance UID"),
    ("frame_of_reference_uid", "Frame of Reference UID"),
)


def _shown_uid(value: str) -> str:
    text = repr(value[:40] + ("…" if len(value) > 40 else ""))
    return f"{text} ({len(value)} characters)" if len(value) > 40 else text


def _checked_uids(header: InstanceHeader) -> tuple[InstanceHeader, list[str]]:
    """The header with every invalid UID replaced by one derived from it, and what was done."""
    changes: dict[str, str] = {}
    notes: list[str] = []
    for name, label in _UID_FIELDS:
        value = getattr(header, name)
        if name == "frame_of_reference_uid" and not value:
            continue
        if not is_valid_uid(value):
            replacement = replacement_uid(value)
            changes[name] = replacement
            notes.append(
                f"{label} {_shown_uid(value)} is not a valid DICOM UID (digits and dots, "
                f"at most 64 characters); stored as {replacement}"
            )
    if not changes:
        return header, notes
    return dataclasses.replace(header, **changes), notes


def _flag_refused(row: SeriesRow, problems: Sequence[str]) -> None:
    """Note in the series' geometry report that some of its images were left out."""
    report = dict(row.geometry_report or {})
    warning = (
        f"{len(problems)} image(s) of this series were left out at import because their "
        f"pixel data is damaged (first: {problems[0]})"
    )
    report["warnings"] = [*report.get("warnings", []), warning]
    report["refused_files"] = int(report.get("refused_files", 0)) + len(problems)
    row.geometry_report = report
    if row.geometry_status in ("", "ok"):
        row.geometry_status = "warning"


def _referenced(session: Session, stored_paths: Sequence[str]) -> set[str]:
    """Which of these stored paths a row references (queried in chunks)."""
    found: set[str] = set()
    for start in range(0, len(stored_paths), repositories.IN_CLAUSE_CHUNK):
        chunk = list(stored_paths[start : start + repositories.IN_CLAUSE_CHUNK])
        found.update(
            session.scalars(
                select(InstanceRow.stored_path).where(InstanceRow.stored_path.in_(chunk))
            )
        )
    return found


def _commit(uow: UnitOfWork) -> None:
    """Commit, naming a full disk or a read-only database in words (not "disk I/O error")."""
    try:
        uow.commit()
    except OperationalError as error:
        raise StoreError(describe_database_error(error)) from None


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
        identity_warnings=tuple(report.get("identity_warnings", ())),
        acquired_at=str(report.get("acquired_at", "")),
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


PHASE_SAMPLE_SLICES = 24
"""Slices read to find the aorta and portal vein when the headers do not name the phase."""


def _spread_sample(plan: VolumePlan, count: int) -> VolumePlan:
    """Every n-th slice of the central 90 % of a volume, at most ``count`` slices.

    The result is a regular grid (its slice step is n times the original's), so
    positions on it are the true positions of those slices.
    """
    total = len(plan.frames)
    first, last = round(0.05 * (total - 1)), round(0.95 * (total - 1))
    stride = max(1, -(-(last - first + 1) // count))
    frames = plan.frames[first : last + 1 : stride][:count]
    if len(frames) < 2:
        return middle_slab(plan, count)
    origin = tuple(o + first * s for o, s in zip(plan.origin_lps_mm, plan.step_lps_mm, strict=True))
    step = tuple(stride * s for s in plan.step_lps_mm)
    _, rows, columns = plan.report.shape_zyx
    report = dataclasses.replace(
        plan.report, slice_count=len(frames), shape_zyx=(len(frames), rows, columns)
    )
    return dataclasses.replace(
        plan,
        frames=frames,
        report=report,
        origin_lps_mm=origin,  # type: ignore[arg-type]
        step_lps_mm=step,  # type: ignore[arg-type]
    )


def _phase_from_images(
    headers: Sequence[InstanceHeader], fallback: Classification
) -> Classification:
    """Guess a CT phase from aorta and portal-vein HU on slices spread over the volume.

    Used when neither the description nor the contrast tags name the phase
    (anonymised series lose their Contrast/Bolus tags); the reason says that
    the phase comes from the images, with the values measured.
    """
    from tace_planner.imaging.vessels import phase_from_volume

    images = [h for h in headers if kind_of(h) == "image"]
    try:
        plan = plan_volumes(images)[0]
        sample = run_sync(load_plan(_spread_sample(plan, PHASE_SAMPLE_SLICES)))
        guess = phase_from_volume(sample)
    except TacePlannerError as error:
        log.info("phase from images not available: %s", error)
        return dataclasses.replace(
            fallback, reason=f"{fallback.reason}; the images could not be read ({error})"
        )
    if guess.phase in ("", "unknown"):
        return dataclasses.replace(
            fallback, reason=f"{fallback.reason}; the images do not tell either: {guess.reason}"
        )
    return dataclasses.replace(
        fallback,
        phase=guess.phase,
        reason=(
            f"phase from the images, as the headers do not name it: {guess.reason} "
            "(thresholds: institutional default)"
        ),
    )


def _clock(hhmmss: str) -> str:
    """ "HH:MM" of a DICOM TM value, or ""."""
    text = hhmmss.strip()
    if len(text) < 4 or not text[:4].isdigit() or int(text[:2]) > 23 or int(text[2:4]) > 59:
        return ""
    return f"{text[:2]}:{text[2:4]}"


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
        and re-importing the same files adds nothing (SOP Instance UIDs). UIDs
        that are not valid DICOM UIDs are replaced by UIDs derived from them
        (reported in ``remapped``); images whose pixel data is cut off are left
        out of their series (reported in ``errors``, the series flagged).

        Yields
        ------
        Progress
            Header reading, then copying.

        Raises
        ------
        StoreError
            The image store or the database cannot be written (e.g. the disk is
            full); the series imported before are kept.
        """
        # the scratch folder (and .incoming, when no other import uses it) goes at the end
        with self._store.scratch() as scratch:
            return (yield from self._import_paths(paths, scratch))

    def _import_paths(self, paths: Sequence[Path], incoming: Path) -> Task[ImportReport]:
        scan = yield from scan_files(paths, temp_dir=incoming)
        # Files extracted from archives live until the scan is cleaned up: after copying.
        with scan:
            shown = scan.display_path
            errors = [FileError(shown(e.path), e.reason) for e in scan.errors]
            remapped: list[FileError] = []
            by_series: dict[str, list[InstanceHeader]] = defaultdict(list)
            refused: dict[str, list[str]] = defaultdict(list)
            for original in scan.headers:
                header, notes = _checked_uids(original)
                for note in notes:
                    remapped.append(FileError(shown(original.path), note))
                if header.pixel_problem and kind_of(header) == "image":
                    errors.append(
                        FileError(
                            shown(original.path),
                            f"{header.pixel_problem}; left out of the series",
                        )
                    )
                    refused[header.series_uid].append(header.pixel_problem)
                    continue
                by_series[header.series_uid].append(header)
            total = len(scan.headers)
            done = 0
            new_instances = known_instances = 0
            touched: list[str] = []
            created: list[str] = []
            # series with a Patient ID first: a study is filed under its patient, and a
            # series without one in the same study joins it (with a warning)
            ordered = sorted(by_series.items(), key=lambda item: not has_patient_id(item[1]))
            for series_uid, headers in ordered:
                outcome = yield from self._import_series(
                    headers, done, total, refused.get(series_uid, [])
                )
                done += len(headers)
                new_instances += outcome.added
                known_instances += outcome.known
                errors.extend(dataclasses.replace(e, path=shown(e.path)) for e in outcome.errors)
                touched.append(series_uid)
                if outcome.is_new:
                    created.append(series_uid)
            with self._sessions() as session:
                items = tuple(self._series_items(session, touched))
                studies = imported_studies(session, touched)
                # said as stored: the placeholder patient, or the study the series joined
                warnings = [
                    FileError(shown(headers[0].path), reason)
                    for headers in by_series.values()
                    for reason in filed_identity_warnings(session, headers)
                ]
            log.info(
                "import: %d new files, %d known, %d errors, %d remapped UIDs",
                new_instances,
                known_instances,
                len(errors),
                len(remapped),
            )
            return ImportReport(
                series=items,
                new_instances=new_instances,
                known_instances=known_instances,
                errors=tuple(errors),
                skipped=tuple(FileError(shown(e.path), e.reason) for e in scan.skipped),
                new_series_uids=tuple(created),
                remapped=tuple(remapped),
                warnings=tuple(warnings),
                studies=studies,
                dicomdirs=tuple(
                    dataclasses.replace(use, path=shown(use.path)) for use in scan.dicomdirs_used
                ),
            )

    def _import_series(
        self, headers: list[InstanceHeader], done: int, total: int, refused: Sequence[str]
    ) -> Task[_SeriesOutcome]:
        """Import one series under the store's import lock.

        The lock makes two imports of the same files take turns: the second finds
        the first one's rows and files. A unique-key race that slips past it (a
        writer that does not share this image store) is retried once and ends as
        "already stored".
        """
        lock = self._store.lock()
        waited = False
        while not lock.acquire(blocking=False):
            if not waited:
                yield Progress(done, total, "Waiting for another import to finish")
                waited = True
            time.sleep(0.05)
        try:
            self._remove_stale_files(headers)
            for attempt in (1, 2):
                try:
                    return (yield from self._import_series_once(headers, done, total, refused))
                except (IntegrityError, ConcurrentEditError) as error:
                    if attempt == 2:
                        reason = getattr(error, "orig", None) or error
                        raise StoreError(
                            f"series {headers[0].series_uid}: another import wrote the same "
                            f"records at the same time ({reason}); import it again"
                        ) from None
                    log.info("unique-key race on series %s; retrying", headers[0].series_uid)
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            lock.release()

    def _remove_stale_files(self, headers: Sequence[InstanceHeader]) -> None:
        """Delete files an interrupted import left in this series' folder (under the lock).

        Only files that no row references are deleted: temporary copies and
        copies whose transaction never committed. Besides the folder of the study
        the series is filed in, the folders named by its files' other Study
        Instance UIDs are looked at (earlier versions stored files there).
        """
        series_uid = headers[0].series_uid
        with self._sessions() as session:
            stored = repositories.find_series(session, series_uid)
            filed_in = stored.study.study_uid if stored is not None else headers[0].study_uid
            study_uids = dict.fromkeys([filed_in, *(h.study_uid for h in headers)])
            present = [
                relative
                for study_uid in study_uids
                for relative in self._store.stale_files(
                    self._store.series_folder(study_uid, series_uid)
                )
            ]
            if not present:
                return
            referenced = _referenced(session, present)
        for relative in present:
            if relative not in referenced:
                log.info("removing %s, left behind by an interrupted import", relative)
                with contextlib.suppress(OSError):
                    self._store.remove(relative)

    def _import_series_once(
        self, headers: list[InstanceHeader], done: int, total: int, refused: Sequence[str]
    ) -> Task[_SeriesOutcome]:
        created_files: list[str] = []
        file_errors: list[FileError] = []
        committed = False
        try:
            with self._uow() as uow:
                session = uow.session
                known = repositories.existing_sop_uids(
                    session, [h.sop_instance_uid for h in headers]
                )
                new_files = [h for h in headers if h.sop_instance_uid not in known]
                conflict = patient_conflict(session, headers) if new_files else None
                if conflict is not None:
                    log.warning("series %s refused: %s", headers[0].series_uid, conflict)
                    return _SeriesOutcome(
                        added=0,
                        known=len(headers) - len(new_files),
                        is_new=False,
                        errors=(FileError(filing_header(headers).path, conflict, len(new_files)),),
                    )
                series_row, is_new = self._series_row(session, headers)
                if refused:
                    _flag_refused(series_row, refused)
                unique: dict[str, InstanceHeader] = {}
                for header in headers:
                    if header.sop_instance_uid not in known:
                        unique.setdefault(header.sop_instance_uid, header)
                added = 0
                # one folder holds the series: that of the study it is filed in, also for
                # files that carry another Study Instance UID (import_identity)
                filed_in = series_row.study.study_uid
                for n, header in enumerate(unique.values(), start=1):
                    relative = self._store.relative_path(
                        filed_in, series_row.series_uid, header.sop_instance_uid
                    )
                    try:
                        stored = self._store.store(header.path, relative)
                    except DicomReadError as error:
                        file_errors.append(FileError(header.path, error.reason))
                        continue
                    if stored.created:
                        created_files.append(stored.relative_path)
                    added += 1
                    session.add(
                        InstanceRow(
                            series=series_row,
                            sop_instance_uid=header.sop_instance_uid,
                            sop_class_uid=header.sop_class_uid,
                            instance_number=header.instance_number,
                            stored_path=stored.relative_path,
                            transfer_syntax_uid=header.transfer_syntax_uid,
                            file_size_bytes=header.file_size_bytes,
                        )
                    )
                    if n % 16 == 0:
                        yield Progress(done + n, total, f"Copying {series_row.description!r}")
                if added or (refused and not is_new):
                    uow.audit(
                        action="import_series",
                        entity="series",
                        entity_pk=series_row,
                        before=None,
                        after={"series_uid": series_row.series_uid, "new_files": added},
                        summary=f"imported {added} file(s) of series {series_row.description!r}",
                    )
                    _commit(uow)
                committed = True
                yield Progress(done + len(headers), total, "Series stored")
                return _SeriesOutcome(
                    added=added,
                    known=len(headers) - len(unique),
                    is_new=is_new and bool(added),
                    errors=tuple(file_errors),
                )
        finally:
            if not committed:
                self._forget_files(created_files)

    def _forget_files(self, created: Sequence[str]) -> None:
        """Delete files this attempt created, unless a committed row references them."""
        if not created:
            return
        try:
            with self._sessions() as session:
                referenced = _referenced(session, created)
        except SQLAlchemyError:
            return  # cannot tell: keep them (the next import of the series cleans up)
        for relative in created:
            if relative not in referenced:
                with contextlib.suppress(OSError):
                    self._store.remove(relative)

    def remove_series(
        self, series_uid: str, reason: str = "", *, with_measurements: bool = False
    ) -> RemovedSeries:
        """Delete a stored series: its rows (audited, with the list of files), then its files.

        A series with contours is refused: they carry measurements a plan may
        rely on. A series with measurements drawn on it (rulers, ellipses,
        angles) is refused too unless ``with_measurements``: then each goes
        with it, with its own audit event and a snapshot of it in the
        removal's audit event (see :mod:`tace_planner.services.study_removal`).

        Raises
        ------
        NotFoundError
            No series with this UID is stored.
        InvalidInputError
            The series has contours.
        SeriesHasMeasurements
            The series has measurements and ``with_measurements`` is false.
        """
        with self._store.locked(), self._uow() as uow:
            removed, files = delete_series_rows(
                uow, series_uid, reason, with_measurements=with_measurements, describe=series_item
            )
            _commit(uow)
            for relative in files:
                with contextlib.suppress(OSError, StoreError):
                    self._store.remove(relative)
        return removed

    def removed_series(self, series_uids: Sequence[str]) -> dict[str, str]:
        """Which of these series a user removed and nobody imported again: UID → description."""
        with self._sessions() as session:
            return find_removed_series(session, series_uids)

    def _series_row(
        self, session: Session, headers: list[InstanceHeader]
    ) -> tuple[SeriesRow, bool]:
        first = headers[0]
        existing = repositories.find_series(session, first.series_uid)
        if existing is not None:
            return existing, False
        # the study first: a series joining a stored study creates no patient
        own = filing_header(headers)
        study = repositories.find_study(session, first.study_uid)
        if study is None or (own.patient_id.strip() and adoptable(study)):
            patient, _ = repositories.get_or_create_patient(
                session,
                own.patient_id.strip() or NO_PATIENT_ID,
                own.issuer,
                name=own.patient_name,
                birth_on=own.patient_birth_on,
                sex=own.patient_sex,
            )
            if study is not None:
                study.patient = patient  # it holds no images: see import_identity.adoptable
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
        problems = identity_warnings(headers, study.patient)
        if problems:
            geometry["identity_warnings"] = [f"{own.path.name}: {text}" for text in problems]
        if acquired := _clock(first.acquisition_time):
            geometry["acquired_at"] = acquired
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
