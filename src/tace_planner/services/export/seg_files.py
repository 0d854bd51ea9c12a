"""DICOM SEG per timepoint: every contoured series of a case, through the SEG exchange.

Layout: ``case_<n>/<visit>/seg_<k>.dcm``, the visit as ``baseline`` or ``follow_up_<m>``
(by imaging order; never a date). De-identified, each SEG and the source images it
references go through the PS3.15 Basic Profile (:class:`Deidentifier`, one key for the
whole export, so the SEG's references point at the remapped images in ``images_<k>/``).

De-identified, the identified SEG is never written anywhere: it is built in memory
(:meth:`ContouringService.build_seg`), de-identified in memory, and only the
de-identified data set is written, so a kill at any moment cannot leave an identified
file behind (no scratch folder, nothing in the system's temporary folder). The plain
export writes each SEG with :meth:`ContouringService.export_seg`, as before.

The de-identification finds a patient's date shift and lesion codes by the Patient ID of
the case's patient in the database (``patient_key`` of :meth:`Deidentifier.deidentify`),
never by the files' headers, so that images imported without a Patient ID and handed to
their patient afterwards (:mod:`~tace_planner.services.study_reassign`) move by that
patient's shift, like the SEG and the tables of the same export.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.export.record import CaseRecord


def _timepoints(services: Any, case_pk: int) -> dict[int, list[tuple[str, str | None]]]:
    """Timepoint id → the (series UID, part) pairs holding a contour."""
    found: dict[int, list[tuple[str, str | None]]] = {}
    for item in services.contouring.masks_of_case(case_pk):
        segmentation = item.segmentation
        key = (segmentation.series_uid, segmentation.part)
        pairs = found.setdefault(segmentation.timepoint_pk, [])
        if key not in pairs and item.mask.any():
            pairs.append(key)
    return found


def write_seg_files(
    services: Any, records: list[CaseRecord], folder: Path, pseudonyms: Any = None
) -> list[Path]:
    """Write the SEG files (and, de-identified, the images they reference)."""
    import pydicom

    from tace_planner.imaging.dicom.deidentify import Deidentifier

    deidentifier = None
    real: dict[str, str] = {}
    if pseudonyms is not None:
        # the export's date shift per patient (the same in every export) and lesion codes
        real = pseudonyms.mapping()
        deidentifier = Deidentifier(
            date_offsets_days={
                real[r.record_id]: pseudonyms.shift_days(r.record_id)
                for r in records
                if r.record_id in real
            },
            segment_names={
                real[r.record_id]: dict(r.lesion_codes) for r in records if r.record_id in real
            },
        )
    written: list[Path] = []
    for number, record in enumerate(records, start=1):
        names = {row["_timepoint_pk"]: row for row in record.lesions}
        for timepoint_pk, pairs in sorted(_timepoints(services, record.case_pk).items()):
            row = names.get(timepoint_pk)
            label = row["visit"] if row else f"timepoint {timepoint_pk}"
            slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "timepoint"
            target = folder / f"case_{number:03d}" / slug
            target.mkdir(parents=True, exist_ok=True)
            for k, (series_uid, part) in enumerate(pairs, start=1):
                path = target / f"seg_{k}.dcm"
                if deidentifier is None:
                    services.contouring.export_seg(series_uid, path, part=part)
                    written.append(path)
                    continue
                # The identified SEG exists in memory only (see the docstring).
                seg = services.contouring.build_seg(series_uid, part=part)
                patient_id = real.get(record.record_id)  # key of the shift and codes
                clean = deidentifier.deidentify(seg, record.record_id, patient_key=patient_id)
                clean.save_as(path, enforce_file_format=True)
                written.append(path)
                images = target / f"images_{k}"
                images.mkdir()
                for i, source in enumerate(services.studies.series_files(series_uid), start=1):
                    ds = pydicom.dcmread(source)
                    out = images / f"{i:04d}.dcm"
                    deidentifier.deidentify(ds, record.record_id, patient_key=patient_id).save_as(
                        out, enforce_file_format=True
                    )
                    written.append(out)
    if not written:
        raise InvalidInputError("--format seg", "no contour to export in the case(s) asked for")
    return written
