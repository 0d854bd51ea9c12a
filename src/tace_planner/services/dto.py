"""Immutable read models handed to the UI and the CLI (never ORM rows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class SeriesItem:
    """One stored series as the study tree shows it."""

    pk: int
    series_uid: str
    study_uid: str
    modality: str
    description: str
    series_number: int | None
    series_on: dt.date | None
    image_count: int
    is_volume: bool
    phase: str = ""
    sequence: str = ""
    plane: str = ""
    frame_of_reference_uid: str = ""
    slice_thickness_mm: float | None = None
    geometry_status: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def classification(self) -> str:
        """CT phase or MR sequence and plane, for display ("" when unknown)."""
        if self.modality == "CT":
            return self.phase
        return " ".join(part for part in (self.sequence, self.plane) if part)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        data: dict[str, Any] = _jsonable(asdict(self))
        return data


@dataclass(frozen=True, slots=True)
class StudyItem:
    """One stored study with its series."""

    pk: int
    study_uid: str
    study_on: dt.date | None
    description: str
    patient_pk: int
    series: tuple[SeriesItem, ...] = field(default_factory=tuple)
    timepoint_label: str = ""

    @property
    def modalities(self) -> str:
        """Distinct modalities of its series, e.g. "CT" or "CT/MR"."""
        return "/".join(sorted({s.modality for s in self.series if s.modality}))


@dataclass(frozen=True, slots=True)
class PatientItem:
    """One imported patient."""

    pk: int
    patient_id: str
    name: str
    birth_on: dt.date | None
    sex: str
    case_count: int
    study_count: int

    @property
    def display_name(self) -> str:
        """The DICOM person name with its ^ separators turned into spaces."""
        return " ".join(part for part in self.name.split("^") if part) or "(no name)"


@dataclass(frozen=True, slots=True)
class CaseItem:
    """One treatment course as the case list shows it."""

    pk: int
    patient_pk: int
    patient_id: str
    patient_name: str
    title: str
    planned_tace_on: dt.date | None
    study_count: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        data: dict[str, Any] = _jsonable(asdict(self))
        return data
