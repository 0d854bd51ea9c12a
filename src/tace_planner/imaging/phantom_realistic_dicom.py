"""The realistic whole-liver phantom as a DICOM CT series, with its truth, for the app.

``tace-planner phantom OUTDIR --size realistic`` writes one portal-venous CT series
of :func:`~tace_planner.imaging.phantom_realistic_liver.make_liver_phantom` (noise,
texture, the diaphragm and lung, IVC, portal vein, neighbour organs, eight tumours of
both attenuations at the hard places) and ``truth.json`` with the liver's and each
tumour's truth volume and centre, so the viewer, the contour tools and the command
line can be tried on images harder than the clean demo phantom.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from pathlib import Path

import numpy as np

from tace_planner.imaging.phantom_realistic_liver import (
    ORIGIN_LPS_MM,
    SPACING_MM,
    LiverPhantom,
    make_liver_phantom,
)

PATIENT_ID = "REALISTIC-LIVER"
EXAM_ON = dt.date(2004, 1, 19)
"""The exam's date: the study date of pydicom's example CT, which the series starts from."""
EXAM_TIMES = {"Study": "072730", "Series": "073000", "Acquisition": "073015", "Content": "073015"}
"""Study, series, acquisition and content times of the one exam, in that order (HHMMSS)."""


def write_realistic_phantom(outdir: Path, seed: int = 0) -> dict[str, object]:
    """Write the series under ``outdir/CT_venous`` and ``outdir/truth.json``; return the truth."""
    phantom = make_liver_phantom(seed)
    write_series(phantom, outdir / "CT_venous", seed)
    truth = _truth(phantom, seed)
    (outdir / "truth.json").write_text(json.dumps(truth, indent=2), encoding="utf-8")
    return truth


def write_series(
    phantom: LiverPhantom, folder: Path, seed: int = 0, exam_on: dt.date = EXAM_ON
) -> None:
    """One axial CT slice file per plane, 16-bit with a −1024 HU intercept.

    Study, Series, Acquisition, Content and Instance Creation dates are all ``exam_on``
    (the template's series and acquisition dates, 1997-04-30, are seven years before
    its study date): one exam, one date, whichever of them a reader takes.
    """
    from pydicom import examples
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    base = copy.deepcopy(examples.ct)
    base.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    voxels = phantom.volume.voxels
    base.Rows, base.Columns = voxels.shape[1], voxels.shape[2]
    base.PixelSpacing = [SPACING_MM[1], SPACING_MM[2]]
    base.SliceThickness = SPACING_MM[0]
    base.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    base.RescaleSlope, base.RescaleIntercept = 1, -1024
    base.PatientID, base.PatientName = f"{PATIENT_ID}-{seed}", "Realistic^Liver"
    base.StudyInstanceUID, base.SeriesInstanceUID = generate_uid(), generate_uid()
    base.FrameOfReferenceUID = generate_uid()
    base.StudyDescription = "CT abdomen, contrast"
    base.SeriesDescription, base.SeriesNumber = "Portal venous 2.5 mm", 3
    base.ContrastBolusAgent = "Iohexol"
    for part, time in EXAM_TIMES.items():
        setattr(base, f"{part}Date", exam_on.strftime("%Y%m%d"))
        setattr(base, f"{part}Time", time)
    base.InstanceCreationDate = exam_on.strftime("%Y%m%d")
    base.InstanceCreationTime = EXAM_TIMES["Content"]
    if "AcquisitionDateTime" in base:
        del base.AcquisitionDateTime
    stored = np.clip(np.rint(voxels + 1024.0), -32768, 32767).astype(np.int16)
    x0, y0, z0 = ORIGIN_LPS_MM
    for k in range(voxels.shape[0]):
        item = copy.deepcopy(base)
        item.SOPInstanceUID = generate_uid()
        item.file_meta.MediaStorageSOPInstanceUID = item.SOPInstanceUID
        item.InstanceNumber = k + 1
        item.ImagePositionPatient = [x0, y0, round(z0 + SPACING_MM[0] * k, 4)]
        item.PixelData = stored[k].tobytes()
        item.save_as(folder / f"IM{k:04d}.dcm", enforce_file_format=True)


def _truth(phantom: LiverPhantom, seed: int) -> dict[str, object]:
    voxel_cm3 = math.prod(SPACING_MM) / 1000.0
    affine = phantom.volume.index_to_lps
    tumours = []
    for spec in phantom.tumours:
        mask = phantom.tumour_masks[spec.name]
        centre = affine @ np.array([*np.argwhere(mask).mean(axis=0), 1.0])
        tumours.append(
            {
                "name": spec.name,
                "where": spec.where,
                "contrast_hu": spec.contrast_hu,
                "volume_cm3": round(float(mask.sum()) * voxel_cm3, 3),
                "centroid_lps_mm": [round(float(v), 2) for v in centre[:3]],
            }
        )
    return {
        "phantom": "realistic whole liver",
        "seed": seed,
        "patient_id": f"{PATIENT_ID}-{seed}",
        "liver_volume_cm3": round(float(phantom.liver_mask.sum()) * voxel_cm3, 3),
        "liver_seed_lps_mm": list(phantom.seed_lps_mm),
        "tumours": tumours,
    }
