"""A tiny CT study (three 16 × 16 slices) with a chosen Patient ID, for the hand-over and
import-identity tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
from pydicom import examples
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tace_planner.domain.progress import run_sync

SIDE = 16


def write_series(
    folder: Path,
    patient_id: str,
    name: str,
    study_uid: str = "",
    *,
    series_uid: str = "",
    accession: str = "",
) -> str:
    """Three axial CT slices of a new series (``series_uid``, else a new UID) in
    ``study_uid`` (else a new study) with Accession Number ``accession``; returns its
    Study Instance UID."""
    folder.mkdir(parents=True)
    study_uid = study_uid or generate_uid()
    template = copy.deepcopy(examples.ct)
    template.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    template.Rows = template.Columns = SIDE
    template.PixelSpacing = [1.0, 1.0]
    template.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    template.StudyInstanceUID = study_uid
    template.SeriesInstanceUID = series_uid or generate_uid()
    template.PatientID = patient_id
    template.PatientName = name
    template.AccessionNumber = accession
    template.StudyDescription = f"CT abdomen {name or 'anonymous'}"
    template.RescaleSlope, template.RescaleIntercept = 1, 0
    for n in range(3):
        image = copy.deepcopy(template)
        image.SOPInstanceUID = image.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        image.InstanceNumber = n + 1
        image.ImagePositionPatient = [0.0, 0.0, n * 2.5]
        image.PixelData = np.full((SIDE, SIDE), 40, dtype=np.int16).tobytes()
        image.save_as(folder / f"slice{n}.dcm", enforce_file_format=True)
    return study_uid


def imported(
    services: Any, folder: Path, patient_id: str, name: str, study_uid: str = "", **tags: str
) -> str:
    """Write a series (see :func:`write_series`) and import it; its Study Instance UID."""
    study_uid = write_series(folder, patient_id, name, study_uid, **tags)
    run_sync(services.studies.import_paths([folder]))
    return study_uid
