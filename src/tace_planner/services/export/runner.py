"""``export_cases``: check the output folder, gather the cases, de-identify, write a format.

Every file is written inside the output folder; an output folder inside the image store is
refused; with de-identification no file or folder name holds a name, an ID or a date, and
the pseudonym → patient mapping is written only to the separate file asked for.
:func:`export_task` is the same work as a task (progress per case, cancellable: a cancelled
or failed export leaves the output folder as it found it); the window runs it off the GUI
thread, the command line with ``run_sync``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.progress import Progress, Task, run_sync
from tace_planner.services.export.record import CaseRecord, deidentified
from tace_planner.services.export.records import gather_case

FORMATS = ("csv", "json", "pdf", "seg", "redcap", "sdtm")
DATED_FORMATS = ("sdtm", "seg")
"""Formats whose de-identified files keep calendar dates, moved by one shift per patient
(SDTM's --DTC and DICOM's dates must be dates); the others give days from the first TACE."""
SDTM_DATES_NOTE = (
    "SDTM de-identified: every date is moved by the same number of days for a patient "
    "(SDTM needs calendar dates); the study days TUDY and TRDY count from the first TACE"
)


@dataclass(frozen=True)
class ExportResult:
    """What was written: the files (inside ``folder``) and the mapping file, if any."""

    folder: Path
    files: tuple[Path, ...]
    mapping: Path | None
    notes: tuple[str, ...] = ()


def check_output(services: Any, out: Path, mapping: Path | None = None) -> Path:
    """The resolved output folder, or ``InvalidInputError`` naming the problem.

    The folder may not exist yet, nor the folders above it: the export makes them (and
    removes them again if it stops), unless one of them is a file. The same holds for the
    folder of the mapping file.
    """
    folder = Path(out).expanduser().resolve()
    store = Path(services.settings.image_store_dir).resolve()
    data = Path(services.settings.data_dir).resolve()
    if folder == store or store in folder.parents:
        raise InvalidInputError("OUT", f"{out} is inside the image store; choose another folder")
    if folder == data:
        raise InvalidInputError("OUT", f"{out} is the data folder; choose another folder")
    if folder.exists() and not folder.is_dir():
        raise InvalidInputError("OUT", f"{out} is a file; give a folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise InvalidInputError("OUT", f"{out} is not empty; give a new or empty folder")
    blocking = next((p for p in folder.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise InvalidInputError("OUT", f"{blocking} is a file; a folder cannot be made in it")
    if mapping is not None:
        target = Path(mapping).expanduser().resolve()
        if target == folder or folder in target.parents:
            raise InvalidInputError(
                "--mapping", f"{mapping} is inside OUT; the mapping is kept apart from the export"
            )
        if target.exists():
            raise InvalidInputError("--mapping", f"{mapping} exists; it is not replaced")
        blocking = next((p for p in _folders_of(target) if p.exists() and not p.is_dir()), None)
        if blocking is not None:
            raise InvalidInputError(
                "--mapping", f"{blocking} is a file; a folder cannot be made in it"
            )
    return folder


def _folders_of(path: Path) -> tuple[Path, ...]:
    """The folders a file ``path`` is written in: its own, then each one above."""
    return (path.parent, *path.parent.parents)


def case_ids(services: Any, case: int | None) -> list[int]:
    """The case asked for, or every case (``InvalidInputError`` when there is none)."""
    if case is not None:
        services.cases.case_detail(case)  # NotFoundError in one line
        return [case]
    ids = [item.pk for item in services.cases.list_cases()]
    if not ids:
        raise InvalidInputError("--all", "there is no case to export")
    return ids


SHIFT_DRAWS = 100
"""Draws of a patient's date shift before a coincidence with an original date is kept
(at a few dozen dates per patient among 3,650 shifts, one draw in ~100 coincides)."""


SHIFT_KEY_FILE = Path("keys") / "date-shift.key"
"""The data folder's secret behind each patient's date shift (made on first use, 0600)."""


def shift_key(data_dir: Path) -> bytes:
    """The data folder's date-shift key, made on first use (32 random bytes, owner-only).

    The same patient then moves by the same days in every export: a new random shift per
    export would let someone holding several exports of one patient narrow the true dates
    down (each export bounds them within its 3,650 days; their intersection shrinks).
    """
    path = Path(data_dir) / SHIFT_KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another export made it meanwhile
            return path.read_bytes()
        with os.fdopen(handle, "wb") as out:
            out.write(secrets.token_bytes(32))
    return path.read_bytes()


def _shift_number(key: bytes, patient_id: str, attempt: int) -> int:
    """0 … 3649: from the key and the patient (HMAC-SHA256), or at random without a key."""
    if not key:
        return secrets.randbelow(3650)
    message = f"{patient_id}\x00{attempt}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % 3650


def _draw_shift(key: bytes = b"", patient_id: str = "", attempt: int = 0) -> int:
    return -(1 + _shift_number(key, patient_id, attempt))


def record_dates(record: CaseRecord) -> set[dt.date]:
    """Every date the record holds (birth, anchor, and each row's date values)."""
    found = {day for day in (record.birth_on, record.anchor_on) if day is not None}
    rows = (record.case, *record.lesions, *record.procedures, *record.therapy_lines, *record.ttp)
    for row in rows:
        for value in row.values():
            if isinstance(value, dt.datetime):
                found.add(value.date())
            elif isinstance(value, dt.date):
                found.add(value)
    return found


@dataclass
class Pseudonyms:
    """One pseudonym per patient for one export, and one date shift per patient: the same in
    every export of a data folder when ``key`` (:func:`shift_key`) is given, else random."""

    prefix: str = "TP"
    key: bytes = b""

    def __post_init__(self) -> None:
        self._by_patient: dict[str, str] = {}
        self._shift: dict[str, int] = {}

    def of(self, patient_id: str) -> str:
        """The patient's pseudonym (sequential: TP001, TP002 …, in export order)."""
        if patient_id not in self._by_patient:
            self._by_patient[patient_id] = f"{self.prefix}{len(self._by_patient) + 1:03d}"
        return self._by_patient[patient_id]

    def shift_days(self, patient_id: str) -> int:
        """The patient's date shift, days (negative, 1 to 3650 back; one per patient)."""
        if patient_id not in self._shift:
            real = self.mapping().get(patient_id, patient_id)
            self._shift[patient_id] = _draw_shift(self.key, real)
        return self._shift[patient_id]

    def draw_shifts(self, dates: dict[str, set[dt.date]]) -> None:
        """Draw each patient's shift (``dates``: pseudonym → that patient's original dates)
        so that no shifted date falls on an original date of the export: such a date would
        read as one not moved (a scan for leaked dates cannot tell). Draws again when it
        would, up to :data:`SHIFT_DRAWS` times."""
        originals = set().union(*dates.values()) if dates else set()
        real = self.mapping()
        for patient, own in dates.items():
            for attempt in range(SHIFT_DRAWS):
                shift = _draw_shift(self.key, real.get(patient, patient), attempt)
                if not any(day + dt.timedelta(days=shift) in originals for day in own):
                    break
            self._shift[patient] = shift

    def mapping(self) -> dict[str, str]:
        """Pseudonym → Patient ID."""
        return {v: k for k, v in self._by_patient.items()}


def export_cases(
    services: Any,
    out: Path,
    fmt: str,
    *,
    case: int | None = None,
    deidentify: bool = False,
    mapping: Path | None = None,
    render_pdf: Any = None,
) -> ExportResult:
    """Export one case (``case``) or every case in ``fmt`` into the folder ``out``.

    Raises
    ------
    InvalidInputError
        Unknown format, an output folder that is not new or empty, inside the image
        store, a mapping file inside OUT or without ``deidentify``, no case to export.
    NotFoundError
        No such case.
    """
    return run_sync(
        export_task(services, out, fmt, case=case, deidentify=deidentify, mapping=mapping,
                    render_pdf=render_pdf)
    )  # fmt: skip


def export_task(
    services: Any,
    out: Path,
    fmt: str,
    *,
    case: int | None = None,
    deidentify: bool = False,
    mapping: Path | None = None,
    render_pdf: Any = None,
) -> Task[ExportResult]:
    """:func:`export_cases` as a task: one step per case read, then the writing.

    Closing it (cancel) or an error while writing removes what it wrote: the files in
    the output folder (new or empty when it started), the mapping file, and the folders
    it made for either.
    """
    if fmt not in FORMATS:
        raise InvalidInputError("--format", f"{fmt!r}: expected one of {', '.join(FORMATS)}")
    if mapping is not None and not deidentify:
        raise InvalidInputError("--mapping", "a mapping file goes with --deidentify")
    if fmt == "pdf" and render_pdf is None:
        raise InvalidInputError("--format", "the PDF case report needs Qt (tace-planner[gui])")
    folder = check_output(services, out, mapping)
    ids = case_ids(services, case)
    total = len(ids) + 1
    pseudonyms = Pseudonyms(key=shift_key(services.settings.data_dir) if deidentify else b"")
    records: list[CaseRecord] = []
    dates: dict[str, set[dt.date]] = {}
    for number, case_pk in enumerate(ids, start=1):
        yield Progress(number - 1, total, f"reading case {number} of {len(ids)}")
        record = gather_case(services, case_pk)
        if deidentify:
            pseudonym = pseudonyms.of(record.patient_id)
            dates.setdefault(pseudonym, set()).update(record_dates(record))
            record = deidentified(record, pseudonym)
        records.append(record)
    pseudonyms.draw_shifts(dates)
    yield Progress(len(ids), total, f"writing {fmt}")
    made = _first_missing(folder)
    mapping_path = None if mapping is None else Path(mapping).expanduser().resolve()
    mapping_made = None if mapping_path is None else _first_missing(mapping_path.parent)
    written_mapping: Path | None = None
    done = False
    try:
        folder.mkdir(parents=True, exist_ok=True)
        notes: list[str] = []
        files = _write(services, fmt, records, folder, pseudonyms, deidentify, notes, render_pdf)
        if mapping_path is not None:
            mapping_path.parent.mkdir(parents=True, exist_ok=True)
            written_mapping = _write_mapping(mapping_path, pseudonyms)
        # the last step: a cancel here still takes everything back
        yield Progress(total, total, f"{len(files)} file(s) written")
        done = True
    finally:
        if not done:
            _clear(folder, made)
            if written_mapping is not None:
                written_mapping.unlink(missing_ok=True)
            if mapping_made is not None:
                shutil.rmtree(mapping_made, ignore_errors=True)
    return ExportResult(folder, tuple(files), written_mapping, tuple(notes))


def _first_missing(folder: Path) -> Path | None:
    """The outermost folder of ``folder``'s path (itself included) that does not exist yet:
    the export makes it and every missing folder below it, and takes them back if it stops."""
    missing = None
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing = path
    return missing


def _clear(folder: Path, made: Path | None) -> None:
    """Remove what an unfinished export wrote (the folder was new or empty before it):
    the folders it made (``made``, the outermost) or, else, the files in ``folder``."""
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        return
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _write(
    services: Any,
    fmt: str,
    records: list[CaseRecord],
    folder: Path,
    pseudonyms: Pseudonyms,
    deidentify: bool,
    notes: list[str],
    render_pdf: Any,
) -> list[Path]:
    if fmt == "csv":
        from tace_planner.services.export.tidy_csv import write_tidy_csv

        return write_tidy_csv(records, folder)
    if fmt == "json":
        from tace_planner.services.export.json_record import write_json

        return write_json(records, folder)
    if fmt == "redcap":
        from tace_planner.services.export.redcap import write_redcap

        return write_redcap(records, folder)
    if fmt == "sdtm":
        from tace_planner.services.export.sdtm import write_sdtm
        from tace_planner.services.response_parameters import load_response_parameters

        parameters = load_response_parameters(Path(services.settings.data_dir) / "parameters")
        from tace_planner.domain.response.recist import SOURCE as RECIST_SOURCE

        notes.append(
            "SDTM: DM, TU, TR and RS (RS: the response at each follow-up visit and the best "
            f"overall response, by {RECIST_SOURCE})"
        )
        if deidentify:
            notes.append(SDTM_DATES_NOTE)
        return write_sdtm(records, folder, pseudonyms if deidentify else None, parameters, notes)
    if fmt == "seg":
        from tace_planner.services.export.seg_files import write_seg_files

        return write_seg_files(services, records, folder, pseudonyms if deidentify else None)
    from tace_planner.services.export.case_report import build_case_report

    files = []
    for number, record in enumerate(records, start=1):
        path = folder / f"case_{number:03d}_report.pdf"
        report = build_case_report(services, record, number)
        notes.extend(report.notes)
        render_pdf(report, path)
        files.append(path)
    return files


def _write_mapping(path: Path, pseudonyms: Pseudonyms) -> Path:
    # the re-identification table: readable by its owner only
    handle_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle_fd, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["pseudonym", "patient_id"])
        writer.writerows(sorted(pseudonyms.mapping().items()))
    return path
