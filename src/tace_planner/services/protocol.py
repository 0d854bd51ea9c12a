"""Imaging protocol use cases: check a study or a case's baseline; correct a classification.

The verdict itself is pure (:func:`tace_planner.domain.protocol.check_protocol`); this
service chooses the series, fills in what the index does not hold (slice interval and
b-values, read from the stored headers when the import did not record them), loads the
versioned parameters, and records user corrections with an audit event.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib.resources
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import DicomReadError, InvalidInputError, NotFoundError
from tace_planner.domain.geometry import position_along_normal
from tace_planner.domain.protocol import (
    ProtocolParameters,
    ProtocolResult,
    ProtocolSeries,
    check_protocol,
    slice_interval_from_positions,
)
from tace_planner.imaging.dicom.classify import CT_PHASES, MR_SEQUENCES, PLANES
from tace_planner.imaging.dicom.scan import read_header
from tace_planner.services.dto import SeriesItem
from tace_planner.services.studies import series_item
from tace_planner.store import repositories
from tace_planner.store.models import CaseRow, InstanceRow, SeriesRow, StudyRow, TimepointRow
from tace_planner.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

PARAMETERS_FILE = "imaging_protocol.json"
CHECKED_MODALITIES = ("CT", "MR")

# Keys of SeriesRow.geometry_report read here (written by the import when it knows them).
SLICE_INTERVAL_KEY = "slice_interval_mm"
B_VALUES_KEY = "b_values_s_per_mm2"


def load_protocol_parameters(path: Path | None = None) -> ProtocolParameters:
    """Read the imaging protocol parameters.

    Parameters
    ----------
    path : pathlib.Path, optional
        Another parameter file (an institution's own); default the packaged
        ``resources/parameters/imaging_protocol.json``.

    Raises
    ------
    InvalidInputError
        The file is missing, not JSON, or a value is invalid; the message names the
        file and the field.
    """
    if path is None:
        return _packaged_parameters()
    return _parse_parameters(path.read_text(encoding="utf-8"), str(path))


@functools.cache
def _packaged_parameters() -> ProtocolParameters:
    resource = importlib.resources.files("tace_planner.resources") / "parameters" / PARAMETERS_FILE
    try:
        text = resource.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInputError(PARAMETERS_FILE, f"cannot be read ({error})") from None
    return _parse_parameters(text, PARAMETERS_FILE)


def _parse_parameters(text: str, origin: str) -> ProtocolParameters:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidInputError(origin, f"not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise InvalidInputError(origin, "must hold a JSON object")
    return ProtocolParameters.from_dict(data, origin=origin)


class ProtocolService:
    """Checks baseline imaging against the protocol; corrects series classifications.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions.
    user : str
        Written into audit events.
    parameters : ProtocolParameters, optional
        Default: the packaged parameter file.
    stored_path : callable, optional
        Maps an ``InstanceRow.stored_path`` to an absolute file path (e.g.
        ``ImageStore.absolute``). With it, a series whose slice interval or
        b-values were not recorded at import has them read from its stored headers.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        user: str,
        *,
        parameters: ProtocolParameters | None = None,
        stored_path: Callable[[str], Path] | None = None,
    ) -> None:
        self._sessions = session_factory
        self._user = user
        self._parameters = parameters
        self._stored_path = stored_path

    @property
    def parameters(self) -> ProtocolParameters:
        """The parameters used by the checks."""
        if self._parameters is None:
            self._parameters = load_protocol_parameters()
        return self._parameters

    # -- checks ------------------------------------------------------------

    def check_study(self, study_uid: str, tace_on: dt.date | None) -> ProtocolResult:
        """Check one study's series (only the modalities it holds).

        Parameters
        ----------
        study_uid : str
            (0020,000D) of a stored study.
        tace_on : datetime.date or None
            The (planned) TACE date; None leaves the baseline age not evaluated.

        Raises
        ------
        NotFoundError
            No study with this UID is stored.
        """
        with self._sessions() as session:
            study = repositories.find_study(session, study_uid)
            if study is None:
                raise NotFoundError(f"study {study_uid} is not in the database")
            series = self._protocol_series(session, [study])
        modalities = sorted({s.modality for s in series}) or list(
            self.parameters.required_modalities
        )
        return check_protocol(series, tace_on, self.parameters, modalities=modalities)

    def check_baseline(self, case_pk: int) -> ProtocolResult:
        """Check every study linked to the case's baseline timepoint(s).

        CT and MRI are usually separate studies; both are judged together against
        the case's planned TACE date, and every required modality is expected.

        Raises
        ------
        NotFoundError
            The case does not exist.
        """
        with self._sessions() as session:
            case = session.get(CaseRow, case_pk)
            if case is None:
                raise NotFoundError(f"case {case_pk} does not exist")
            tace_on = case.planned_tace_on
            studies = session.scalars(
                select(StudyRow)
                .join(TimepointRow, StudyRow.timepoint_pk == TimepointRow.id)
                .where(TimepointRow.case_pk == case_pk, TimepointRow.kind == "baseline")
                .order_by(StudyRow.study_on, StudyRow.id)
            ).all()
            series = self._protocol_series(session, studies)
        return check_protocol(series, tace_on, self.parameters)

    def _protocol_series(
        self, session: Session, studies: Sequence[StudyRow]
    ) -> list[ProtocolSeries]:
        result = []
        for study in studies:
            for row in sorted(study.series, key=lambda r: (r.series_number or 0, r.id)):
                if row.modality not in CHECKED_MODALITIES or not row.is_volume:
                    continue
                interval, b_values = self._interval_and_b_values(session, row)
                result.append(
                    ProtocolSeries(
                        series_uid=row.series_uid,
                        modality=row.modality,
                        description=row.description,
                        phase=row.phase,
                        sequence=row.sequence,
                        plane=row.plane,
                        slice_thickness_mm=row.slice_thickness_mm,
                        slice_interval_mm=interval,
                        field_strength_t=row.field_strength_t,
                        b_values=b_values,
                        # The exam's date is the study date; the series date is kept
                        # for a study without one (domain.protocol, module notes).
                        series_on=row.series_on,
                        series_number=row.series_number,
                        study_on=study.study_on,
                    )
                )
        return result

    def _interval_and_b_values(
        self, session: Session, row: SeriesRow
    ) -> tuple[float | None, tuple[float, ...]]:
        report = row.geometry_report or {}
        interval = _float_or_none(report.get(SLICE_INTERVAL_KEY))
        b_values = _floats(report.get(B_VALUES_KEY, report.get("b_values")))
        # Only CT slices are judged by the protocol; only DWI needs b-values.
        needs_interval = row.modality == "CT" and interval is None
        needs_b = row.modality == "MR" and row.sequence == "dwi" and not b_values
        if needs_interval:
            positions = session.scalars(
                select(InstanceRow.position_along_normal_mm).where(InstanceRow.series_pk == row.id)
            ).all()
            if positions and all(p is not None for p in positions):
                interval = slice_interval_from_positions(
                    [float(p) for p in positions if p is not None]
                )
            needs_interval = interval is None
        if (needs_interval or needs_b) and self._stored_path is not None:
            read_interval, read_b = self._read_stored_headers(row)
            interval = interval if interval is not None else read_interval
            b_values = b_values or read_b
        return interval, b_values

    def _read_stored_headers(self, row: SeriesRow) -> tuple[float | None, tuple[float, ...]]:
        assert self._stored_path is not None
        positions: list[float] = []
        b_values: set[float] = set()
        for instance in row.instances:
            path = self._stored_path(instance.stored_path)
            try:
                header = read_header(path)
            except DicomReadError as error:
                log.warning("protocol check: %s", error)
                continue
            if header.orientation is not None and header.position_lps_mm is not None:
                with contextlib.suppress(ValueError):  # degenerate orientation: skip the file
                    positions.append(
                        position_along_normal(header.orientation, header.position_lps_mm)
                    )
            if header.b_value is not None:
                b_values.add(float(header.b_value))
        return slice_interval_from_positions(positions), tuple(sorted(b_values))

    # -- corrections -----------------------------------------------------

    def correct_classification(
        self,
        series_uid: str,
        *,
        phase: str | None = None,
        sequence: str | None = None,
        plane: str | None = None,
        reason: str = "",
    ) -> SeriesItem:
        """Set a series' phase, sequence or plane by hand; audited, marked "user".

        Parameters
        ----------
        series_uid : str
            (0020,000E) of a stored series.
        phase : str, optional
            One of ``native``, ``arterial``, ``venous``, ``delayed``, ``unknown``.
        sequence : str, optional
            MR only: ``t1``, ``t2``, ``dwi``, ``adc``, ``other``.
        plane : str, optional
            ``axial``, ``coronal``, ``sagittal``, or "" for oblique/unknown.
        reason : str
            Why, kept with the correction and in the audit trail.

        Returns
        -------
        SeriesItem
            The series as stored after the correction.

        Raises
        ------
        InvalidInputError
            A value is not allowed (the error names the field), a sequence is given
            for a non-MR series, or nothing is given.
        NotFoundError
            No series with this UID is stored.
        """
        changes = _validated(phase=phase, sequence=sequence, plane=plane)
        with UnitOfWork(self._sessions, user=self._user) as uow:
            session = uow.session
            row = repositories.find_series(session, series_uid)
            if row is None:
                raise NotFoundError(f"series {series_uid} is not in the database")
            if "sequence" in changes and row.modality != "MR":
                raise InvalidInputError(
                    "sequence",
                    f"series {series_uid} is {row.modality or 'not MR'}; only MR has one",
                )
            fields = ("phase", "sequence", "plane", "classification_source")
            before = {name: getattr(row, name) for name in fields}
            for name, value in changes.items():
                setattr(row, name, value)
            row.classification_source = "user"
            report = dict(row.geometry_report or {})
            report.setdefault(
                "auto_classification",
                {
                    "phase": before["phase"],
                    "sequence": before["sequence"],
                    "plane": before["plane"],
                    "reason": report.get("classification_reason", ""),
                },
            )
            report["classification_reason"] = f"corrected by {self._user}" + (
                f": {reason.strip()}" if reason.strip() else ""
            )
            row.geometry_report = report
            after: dict[str, Any] = {name: getattr(row, name) for name in fields}
            after["reason"] = reason.strip()
            shown = ", ".join(
                f"{name} {before[name]!r} → {value!r}" for name, value in changes.items()
            )
            uow.audit(
                action="correct_classification",
                entity="series",
                entity_pk=row.id,
                before=before,
                after=after,
                summary=f"series {row.description!r}: {shown}",
            )
            uow.commit()
            count = session.scalar(
                select(func.count()).select_from(InstanceRow).where(InstanceRow.series_pk == row.id)
            )
            return series_item(row, int(count or 0))


def _validated(*, phase: str | None, sequence: str | None, plane: str | None) -> dict[str, str]:
    changes: dict[str, str] = {}
    for name, value, allowed in (
        ("phase", phase, CT_PHASES),
        ("sequence", sequence, MR_SEQUENCES),
        ("plane", plane, (*PLANES, "")),
    ):
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidInputError(name, f"must be text, got {type(value).__name__}")
        normalized = value.strip().lower()
        if normalized not in allowed:
            shown = ", ".join(repr(v) for v in allowed)
            raise InvalidInputError(name, f"{value!r} is not one of {shown}")
        changes[name] = normalized
    if not changes:
        raise InvalidInputError("classification", "give a phase, a sequence or a plane")
    return changes


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _floats(value: Any) -> tuple[float, ...]:
    if not isinstance(value, list | tuple):
        return ()
    numbers = [_float_or_none(v) for v in value]
    return tuple(sorted({v for v in numbers if v is not None}))
