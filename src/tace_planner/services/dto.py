"""Immutable read models handed to the UI and the CLI (never ORM rows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.person_name import readable_person_name


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class VolumePartItem:
    """One volume of a series (a series may hold several: b-values, echoes, …)."""

    part: str | None
    slice_count: int
    shape_zyx: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    geometry_status: str
    warnings: tuple[str, ...] = ()
    gantry_tilt_deg: float = 0.0

    @classmethod
    def from_report(cls, data: dict[str, Any]) -> VolumePartItem:
        """Build it from one entry of a series' stored geometry report."""
        return cls(
            part=data.get("part"),
            slice_count=int(data.get("slice_count", 0)),
            shape_zyx=tuple(data.get("shape_zyx", (0, 0, 0))),  # type: ignore[arg-type]
            spacing_mm=tuple(data.get("spacing_mm", (0.0, 0.0, 0.0))),  # type: ignore[arg-type]
            geometry_status=str(data.get("status", "")),
            warnings=tuple(data.get("warnings", ())),
            gantry_tilt_deg=float(data.get("gantry_tilt_deg", 0.0)),
        )


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
    classification_source: str = "auto"
    parts: tuple[VolumePartItem, ...] = ()
    identity_warnings: tuple[str, ...] = ()
    """What a user must know about the series' identifiers, found at import, each naming
    the file: no Patient ID, files that disagree on (or partly lack) the Patient ID, and
    files that carry another Study Instance UID than the first (the series is filed in
    the first file's study)."""
    acquired_at: str = ""
    """Acquisition time "HH:MM" of the first image, "" when not recorded."""

    @property
    def label(self) -> str:
        """The description, or modality, series number and time when it has none."""
        if self.description.strip():
            return self.description
        number = f"series {self.series_number}" if self.series_number is not None else "series"
        time = f" at {self.acquired_at}" if self.acquired_at else ""
        return f"{self.modality or '?'} {number}{time}"

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

    def volume_entries(self) -> list[dict[str, Any]]:
        """One JSON entry per volume of the series, as ``tace-planner import --json`` prints."""
        base = {
            "series_uid": self.series_uid,
            "study_uid": self.study_uid,
            "modality": self.modality,
            "description": self.description,
            "series_on": _jsonable(self.series_on),
            "classification_source": self.classification_source,
        }
        if self.modality == "CT":
            base["phase"] = self.phase or "unknown"
        elif self.modality == "MR":
            base["sequence"] = self.sequence or "other"
            base["plane"] = self.plane
        return [
            {
                **base,
                "part": part.part,
                "slices": part.slice_count,
                "shape": list(part.shape_zyx),
                "spacing_mm": list(part.spacing_mm),
                "geometry_status": part.geometry_status,
                "gantry_tilt_deg": part.gantry_tilt_deg,
                "warnings": list(part.warnings),
            }
            for part in self.parts
        ]


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


NO_PATIENT_ID = "(no patient id)"
"""The placeholder Patient ID of files that have none (they may be several people)."""

NO_PATIENT_ID_WARNING = "⚠ no Patient ID — check who these images are"
"""How the list writes the placeholder patient instead of a Patient ID."""

PLACEHOLDER_PATIENT_WORDS = "the placeholder patient of files without a Patient ID"
"""How a sentence (a refusal, an audit summary) names the placeholder patient."""


def patient_list_label(name: str, patient_id: str, issuer: str = "") -> str:
    """The one way a stored patient is written for a clinician: "DOE, Jane [TACE-017]".

    The name as on a wristband and on the plan sheet
    (:func:`~tace_planner.domain.person_name.readable_person_name`), then the Patient ID
    in brackets, then the issuer of the Patient ID when one is stored ("DOE, Jane
    [TACE-017] (issuer HOSP-A)"). Used by the case list, the Assign dialog, the status
    line after a hand-over, the audit trail, the series' warnings and the refusals of
    import and hand-over. The placeholder of files without a Patient ID is written with
    a warning instead of an ID.
    """
    shown = readable_person_name(name) or "(no name)"
    if patient_id.strip() in ("", NO_PATIENT_ID):
        return f"{shown} {NO_PATIENT_ID_WARNING}"
    return f"{shown} [{patient_id}]" + (f" (issuer {issuer})" if issuer else "")


class PatientNameMismatchError(InvalidInputError):
    """A name given with the Patient ID of a stored patient is not that patient's name.

    Raised by :meth:`~tace_planner.services.study_reassign.StudyReassignService.reassign`;
    kept here, beside :func:`patient_list_label`, so that the UI can recognise it without
    importing a service that uses the database.

    The message says what is stored and what was typed, and asks to check the Patient ID;
    each front end adds its own way to hand the study to the stored patient (the Assign
    dialog: choose the patient under *Stored patient*; the command line: leave out
    ``--patient-name``).
    """

    def __init__(self, patient_id: str, stored_label: str, typed_name: str) -> None:
        super().__init__(
            "Patient name",
            f"Patient ID {patient_id} is stored for {stored_label}, not {typed_name!r}; "
            "check the Patient ID",
        )
        self.patient_id = patient_id
        self.stored_label = stored_label
        self.typed_name = typed_name


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
    issuer: str = ""
    """(0010,0021) *Issuer of Patient ID* ("" when none is stored)."""

    @property
    def list_label(self) -> str:
        """The patient as the app writes it: :func:`patient_list_label`."""
        return patient_list_label(self.name, self.patient_id, self.issuer)

    @property
    def missing_id(self) -> bool:
        """True for the placeholder under which files without a Patient ID are filed."""
        return self.patient_id == NO_PATIENT_ID


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
