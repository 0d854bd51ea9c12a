"""``tace-planner contour liver`` on the whole-liver phantom written as a DICOM series.

The phantom (noise, texture, lung over a diaphragm, IVC, portal vein, neighbours,
eight tumours at the dome, the capsule and the IVC) is written with pydicom,
imported, linked to a new case and contoured from one click on the command line;
the stored liver is scored against the analytic truth: Dice ≥ 0.92, volume within
5 %, ≥ 99 % of every tumour inside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tace_planner.cli import main
from tace_planner.imaging.phantom_realistic_dicom import PATIENT_ID as _PREFIX
from tace_planner.imaging.phantom_realistic_dicom import write_series
from tace_planner.imaging.phantom_realistic_liver import (
    SPACING_MM,
    LiverPhantom,
    make_liver_phantom,
)

pytestmark = [pytest.mark.db, pytest.mark.dicom]

PATIENT_ID = f"{_PREFIX}-0"


def _write_series(phantom: LiverPhantom, folder: Path) -> None:
    write_series(phantom, folder)


def _run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str]:
    code = main(["--data-dir", str(data_dir), *args])
    return code, capsys.readouterr().out


def test_contour_liver_takes_in_every_tumour(tmp_path: Path, capsys) -> None:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.contouring import contouring_service
    from tace_planner.services.settings import AppSettings

    phantom = make_liver_phantom(0)
    _write_series(phantom, tmp_path / "dicom")
    data_dir = tmp_path / "data"
    code, out = _run(capsys, data_dir, "import", str(tmp_path / "dicom"), "--json")
    assert code == 0
    (volume,) = json.loads(out)["volumes"]
    code, out = _run(capsys, data_dir, "case", "new", "--patient-id", PATIENT_ID,
                     "--title", "Phantom course", "--json")  # fmt: skip
    assert code == 0
    case = str(json.loads(out)["pk"])
    code, _ = _run(capsys, data_dir, "case", "link", "--case", case,
                   "--study", volume["study_uid"], "--timepoint", "baseline")  # fmt: skip
    assert code == 0
    seed = ",".join(str(v) for v in phantom.seed_lps_mm)
    code, out = _run(capsys, data_dir, "contour", "liver", "--series", volume["series_uid"],
                     f"--seed={seed}", "--json")  # fmt: skip
    assert code == 0
    printed = json.loads(out)
    assert printed["warnings"] == []
    # What the tool left out is said, not a warning: the IVC in its groove.
    (note,) = printed["notes"]
    assert "inferior vena cava" in note
    assert "cm³" in note
    truth_cm3 = float(phantom.liver_mask.sum()) * float(np.prod(SPACING_MM)) / 1000.0
    assert printed["volume_cm3"] == pytest.approx(truth_cm3, rel=0.05)

    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="tester"))
    try:
        contouring = contouring_service(services)
        _, timepoint_pk, _ = contouring.series_context(volume["series_uid"])
        liver_item = next(i for i in contouring.list_lesions(int(case)) if i.is_liver)
        mask = contouring.load_mask(liver_item.pk, timepoint_pk).mask
    finally:
        services.close()
    truth = phantom.liver_mask
    assert 2.0 * float((mask & truth).sum()) / float(mask.sum() + truth.sum()) >= 0.92
    for name, tumour in phantom.tumour_masks.items():
        assert float((mask & tumour).sum()) >= 0.99 * float(tumour.sum()), name

    # A corrective exclude click at the deepest point of what the liver took in wrongly
    # (the IVC in its groove): the click is honoured and the false part shrinks.
    from scipy import ndimage

    wrong = mask & ~truth
    depth = ndimage.distance_transform_edt(wrong, sampling=SPACING_MM)
    index = np.unravel_index(int(np.argmax(depth)), depth.shape)
    click = phantom.volume.index_to_lps @ np.array([*index, 1.0])
    exclude = ",".join(f"{v:.3f}" for v in click[:3])
    code, out = _run(capsys, data_dir, "contour", "liver", "--series", volume["series_uid"],
                     f"--seed={seed}", f"--exclude={exclude}", "--json")  # fmt: skip
    assert code == 0
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="tester"))
    try:
        contouring = contouring_service(services)
        refined = contouring.load_mask(liver_item.pk, timepoint_pk).mask
    finally:
        services.close()
    assert not refined[index]
    assert not (refined & ~mask).any()  # an exclude click never adds
    assert float((refined & ~truth).sum()) < float(wrong.sum())
    dice_before = 2.0 * float((mask & truth).sum()) / float(mask.sum() + truth.sum())
    dice_after = 2.0 * float((refined & truth).sum()) / float(refined.sum() + truth.sum())
    assert dice_after >= dice_before - 0.002
