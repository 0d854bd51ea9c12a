"""Which patient an imported series is filed under, and what a user must know about it.

A series is filed into a study by its (0020,000D) *Study Instance UID*, under the
patient named by the (0010,0020) *Patient ID* of its files: the first file that has
one, so that one file without it does not send the whole series to the placeholder
patient. The rules, as a PACS keeps patients apart (dcm4chee's "patient mismatch",
OsiriX filing a study by Study Instance UID *and* patient):

- a series whose Patient ID differs from that of the stored study with its Study
  Instance UID (a different patient, or the placeholder of files without one) is not
  imported: :func:`patient_conflict` says why, naming the file, both Patient IDs and
  the stored study by modality, date and description (no UID: a clinician cannot use
  one) — images of one patient are never shown in another's study; so is a series of
  which any file carries the Study Instance UID of a study stored under another
  patient (those files say they are that patient's, wherever the series is filed);
- a series without any Patient ID joins the stored study of its Study Instance UID,
  and its warning names that study's patient (:func:`identity_warnings`); it is not
  imported when another of its files carries the Study Instance UID of a study stored
  under another patient (its files name two patients' studies);
- files of one series that disagree on the Patient ID, or of which only some have
  one, are filed under the first ID found, with a warning naming the IDs;
- files of one series (one Series Instance UID) that carry another Study Instance UID
  than its first file are filed with it in the first file's study, with one warning
  naming the series, how many files disagree and the first of them
  (:func:`study_mismatch_warnings`); all its files are stored in that study's folder
  of the image store, so that one folder holds the series. A series already stored
  stays in its stored study, and the warning of a later import names that study.

A stored study with no series and no link to a case or time point (its series were
removed) holds no images: it is given to the patient of the next series filed in it
(:func:`adoptable`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from tace_planner.domain.person_name import readable_person_name
from tace_planner.imaging.dicom.scan import InstanceHeader
from tace_planner.services.dto import (
    NO_PATIENT_ID,
    PLACEHOLDER_PATIENT_WORDS,
    patient_list_label,
)
from tace_planner.store import repositories
from tace_planner.store.models import PatientRow, SeriesRow, StudyRow

_CHECK = "check whose images these are before contouring or planning"


def filing_header(headers: Sequence[InstanceHeader]) -> InstanceHeader:
    """The file whose patient a series is filed under: the first with a Patient ID."""
    return next((h for h in headers if h.patient_id.strip()), headers[0])


def has_patient_id(headers: Sequence[InstanceHeader]) -> bool:
    """Whether any file of the series has a (0010,0020) *Patient ID*."""
    return any(h.patient_id.strip() for h in headers)


def _study_words(modality: str, study_on: dt.date | None, description: str) -> str:
    """ "CT of 2004-01-19 'ABDOMEN^LIVER'": a study as a clinician finds it (no UID)."""
    date = study_on.isoformat() if study_on else "no recorded date"
    described = f"{description.strip()!r}" if description.strip() else "(no study description)"
    return f"{modality or 'study'} of {date} {described}"


def _stored_study_words(study: StudyRow) -> str:
    """:func:`_study_words` of a stored study, with the modalities of its series."""
    modalities = "/".join(sorted({s.modality for s in study.series if s.modality}))
    return _study_words(modalities, study.study_on, study.description or "")


def _series_words(description: str, number: int | None) -> str:
    """ "series 'ARTERIAL' (number 3)", "series number 3", or saying it has neither."""
    numbered = f"number {number}" if number is not None else ""
    if description.strip():
        return f"series {description.strip()!r}" + (f" ({numbered})" if numbered else "")
    return f"series {numbered}" if numbered else "a series without description or number"


def _patient_label(patient: PatientRow) -> str:
    """The stored patient as the case list writes it (or the placeholder, in words)."""
    if patient.patient_id in ("", NO_PATIENT_ID):
        return PLACEHOLDER_PATIENT_WORDS
    return patient_list_label(patient.name, patient.patient_id, patient.issuer)


def _mixed_warnings(headers: Sequence[InstanceHeader]) -> list[str]:
    """Warnings for a series whose files disagree on, or partly lack, the Patient ID."""
    by_id: dict[str, list[InstanceHeader]] = {}
    for header in headers:
        if header.patient_id.strip():
            by_id.setdefault(header.patient_id.strip(), []).append(header)
    chosen = filing_header(headers)
    warnings = []
    if len(by_id) > 1:
        listed = "; ".join(
            f"{pid!r} in {len(files)} file(s), e.g. {files[0].path.name}"
            for pid, files in by_id.items()
        )
        warnings.append(
            f"files of this series carry different Patient IDs (0010,0020): {listed}; "
            f"filed under Patient ID {chosen.patient_id.strip()!r} of {chosen.path.name}, "
            f"the first found; {_CHECK}"
        )
    missing = [h for h in headers if not h.patient_id.strip()]
    if missing:
        warnings.append(
            f"{len(missing)} of {len(headers)} files of this series have no Patient ID "
            f"(0010,0020), e.g. {missing[0].path.name}; filed under Patient ID "
            f"{chosen.patient_id.strip()!r} of {chosen.path.name}; {_CHECK}"
        )
    return warnings


def identity_warnings(
    headers: Sequence[InstanceHeader],
    filed_with: PatientRow | None = None,
    filed_in: StudyRow | None = None,
) -> list[str]:
    """What is missing from a series' identifiers that a user must know before planning.

    ``filed_with`` is the patient of the study the series is stored in: a series without
    a Patient ID whose Study Instance UID is that of a study already stored under a real
    patient joins that study, and the warning says so (naming the patient) rather than
    that it was filed under the placeholder. A series of which only some files have a
    Patient ID, or whose files disagree on it, is warned of too (naming the IDs), and so
    is one whose files disagree on the Study Instance UID (:func:`study_mismatch_warnings`,
    given ``filed_in``, the stored study of the series, when it is stored).
    """
    return [
        *_patient_warnings(headers, filed_with),
        *study_mismatch_warnings(headers, filed_in),
    ]


def _patient_warnings(
    headers: Sequence[InstanceHeader], filed_with: PatientRow | None
) -> list[str]:
    if has_patient_id(headers):
        return _mixed_warnings(headers)
    if filed_with is not None and filed_with.patient_id not in ("", NO_PATIENT_ID):
        name = readable_person_name(filed_with.name) or "(no name)"
        return [
            f"no Patient ID (0010,0020): joined the study of {name} · Patient ID "
            f"{filed_with.patient_id}, stored with the same Study Instance UID "
            f"(0020,000D); check that these images are this patient's before contouring "
            "or planning"
        ]
    return [
        f"no Patient ID (0010,0020): filed under the placeholder patient {NO_PATIENT_ID!r}, "
        f"shared by every file imported without one; {_CHECK}"
    ]


def study_mismatch_warnings(
    headers: Sequence[InstanceHeader], filed_in: StudyRow | None = None
) -> list[str]:
    """One warning when files of one series carry another Study Instance UID than its study.

    A new series is filed in the study of its first file (as
    :meth:`StudyService.import_paths` files it); a stored series stays in its stored
    study ``filed_in``, whatever study the first file of a later import names. The
    warning names the series, how many files disagree and the first of them, with the
    studies described by modality, date and description, never by UID.
    """
    first = headers[0]
    if filed_in is not None and filed_in.study_uid != first.study_uid:
        return _stored_study_mismatch(headers, filed_in)
    others = [h for h in headers if h.study_uid != first.study_uid]
    if not others:
        return []
    other = others[0]
    filed = _study_words(first.modality, first.study_on, first.study_description)
    theirs = _study_words(other.modality, other.study_on, other.study_description)
    said = theirs if theirs != filed else "a study of the same date and description"
    series = _series_words(first.series_description, first.series_number)
    return [
        f"{len(others)} of {len(headers)} files of {series} carry another Study Instance UID "
        f"(0020,000D) than its first file {first.path.name}, e.g. {other.path.name} ({said}); "
        f"the whole series was filed in the study of {first.path.name} ({filed}) — check "
        "which study these images belong to before comparing time points"
    ]


def _stored_study_mismatch(headers: Sequence[InstanceHeader], filed_in: StudyRow) -> list[str]:
    """:func:`study_mismatch_warnings` of a series stored in another study than its first file's."""
    others = [h for h in headers if h.study_uid != filed_in.study_uid]
    other = others[0]
    theirs = _study_words(other.modality, other.study_on, other.study_description)
    series = _series_words(headers[0].series_description, headers[0].series_number)
    return [
        f"{len(others)} of {len(headers)} files of {series} carry another Study Instance UID "
        f"(0020,000D) than the study the series is stored in, e.g. {other.path.name} "
        f"({theirs}); the whole series stays in its stored study "
        f"{_stored_study_words(filed_in)} — check which study these images belong to before "
        "comparing time points"
    ]


def adoptable(study: StudyRow) -> bool:
    """Whether a stored study holds nothing a patient owns (no series, case or time point)."""
    return not study.series and study.case_pk is None and study.timepoint_pk is None


def patient_conflict(session: Session, headers: Sequence[InstanceHeader]) -> str | None:
    """Why a series must not be filed where its UIDs point, or None when it may.

    The series is refused when it has a Patient ID and the stored series with its
    Series Instance UID, or else the stored study with the Study Instance UID of its
    first file (where it is filed), belongs to another patient (or to the placeholder
    of files without a Patient ID); and so it is when any of its files carries the
    Study Instance UID of a stored study of another patient (images that say they
    are that patient's). A series without any Patient ID is refused when its files
    name studies of two different patients (that it is filed in, and another stored
    one). The reason names both patients and the stored study by modality, date and
    description: never a UID, which a clinician cannot use.
    """
    own = filing_header(headers)
    series = repositories.find_series(session, own.series_uid)
    # the study the series would be filed in: that of its first file (as it is filed)
    study = (
        series.study
        if series is not None
        else repositories.find_study(session, headers[0].study_uid)
    )
    if not own.patient_id.strip():
        return _unnamed_conflict(session, headers, series, study)
    if (
        study is not None
        and not (series is None and adoptable(study))
        and not _same_patient(study.patient, own)
    ):
        return _refusal(own, len(headers), study.patient, _stored_words(study, series))
    filed_in = study.study_uid if study is not None else headers[0].study_uid
    for study_uid in dict.fromkeys(h.study_uid for h in headers):
        other = None if study_uid == filed_in else repositories.find_study(session, study_uid)
        if other is None or adoptable(other) or _same_patient(other.patient, own):
            continue
        files = [h for h in headers if h.study_uid == study_uid]
        words = (
            f"study {_stored_study_words(other)}, which has the same Study Instance UID "
            f"(0020,000D) as {len(files)} of the {len(headers)} files of this series "
            f"(e.g. {files[0].path.name})"
        )
        return _refusal(own, len(headers), other.patient, words)
    return None


def _unnamed_conflict(
    session: Session,
    headers: Sequence[InstanceHeader],
    series: SeriesRow | None,
    study: StudyRow | None,
) -> str | None:
    """Why a series without any Patient ID must not be filed, or None when it may.

    Such a series joins the study it is filed in (that of its stored series, else that
    of its first file), under that study's patient, or under the placeholder patient in
    a new study. It is refused when one of its files carries the Study Instance UID of a
    stored study of another patient: its files then name the studies of two patients.
    """
    for study_uid in dict.fromkeys(h.study_uid for h in headers):
        if study is not None and study_uid == study.study_uid:
            continue
        other = repositories.find_study(session, study_uid)
        if other is None or adoptable(other):
            continue
        if study is not None and other.patient.id == study.patient.id:
            continue
        if study is None and other.patient.patient_id == NO_PATIENT_ID:
            continue  # both under the placeholder patient
        files = [h for h in headers if h.study_uid == study_uid]
        return _two_patients_refusal(headers, series, study, other, files)
    return None


def _two_patients_refusal(
    headers: Sequence[InstanceHeader],
    series: SeriesRow | None,
    study: StudyRow | None,
    other: StudyRow,
    files: Sequence[InstanceHeader],
) -> str:
    """The refusal of a series without Patient ID whose files name two patients' studies."""
    first = headers[0]
    if series is not None:
        filed = (
            f"it is stored in the study {_stored_study_words(series.study)} of "
            f"{_patient_label(series.study.patient)}"
        )
    elif study is not None:
        filed = (
            f"its first file {first.path.name} has the Study Instance UID of the stored study "
            f"{_stored_study_words(study)} of {_patient_label(study.patient)}"
        )
    else:
        words = _study_words(first.modality, first.study_on, first.study_description)
        filed = (
            f"its first file {first.path.name} would be filed in a new study {words} under "
            f"{PLACEHOLDER_PATIENT_WORDS}"
        )
    return (
        f"the files of this series have no Patient ID (0010,0020) and name the studies of "
        f"two different patients: {filed}, while {len(files)} of the {len(headers)} files "
        f"(e.g. {files[0].path.name}) have the Study Instance UID (0020,000D) of the stored "
        f"study {_stored_study_words(other)} of {_patient_label(other.patient)}; "
        f"the {len(headers)} file(s) of this series were not imported, so that one "
        "patient's images are not shown in another's study — check the files' Patient ID "
        "and Study Instance UID at their source"
    )


def _same_patient(stored: PatientRow, own: InstanceHeader) -> bool:
    return stored.patient_id == own.patient_id.strip() and (stored.issuer or "") == own.issuer


def _refusal(own: InstanceHeader, count: int, stored: PatientRow, stored_words: str) -> str:
    """The refusal of a series of ``count`` files whose Patient ID is not that of ``stored``."""
    issuer = f" (issuer {own.issuer})" if own.issuer else ""
    return (
        f"Patient ID {own.patient_id.strip()}{issuer} of this series differs from that of "
        f"the stored {stored_words} and belongs to {_patient_label(stored)}; "
        f"the {count} file(s) of this series were not imported, so that one "
        "patient's images are not shown in another's study — check the files' Patient ID "
        "(0010,0020) at their source"
        + (
            " (if these images are that study's, remove its series without a Patient ID "
            "and import again)"
            if stored.patient_id == NO_PATIENT_ID
            else ""
        )
    )


def _stored_words(study: StudyRow, series: SeriesRow | None) -> str:
    """The stored study (or series) a refused series points at, by what a clinician reads."""
    if series is None:
        return (
            f"study {_stored_study_words(study)}, which has the same Study Instance UID (0020,000D)"
        )
    return (
        f"{_series_words(series.description or '', series.series_number)} of the study "
        f"{_stored_study_words(study)}, which has the same Series Instance UID (0020,000E)"
    )


def filed_identity_warnings(session: Session, headers: Sequence[InstanceHeader]) -> list[str]:
    """:func:`identity_warnings` of a series as it is stored (none when it was not stored)."""
    row = repositories.find_series(session, headers[0].series_uid)
    return [] if row is None else identity_warnings(headers, row.study.patient, row.study)
