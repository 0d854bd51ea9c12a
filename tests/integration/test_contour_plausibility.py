"""Contour clicks on fat, air or outside the liver, and leaks, through the service and CLI.

Issue 12: a misclick on abdominal-wall fat silently created an 81 cm³ "tumour" at
−42 HU, and a focus that leaked out of the liver was shown without a word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tace_planner.domain.plausibility import ImplausibleClickError
from tace_planner.domain.progress import run_sync

pytestmark = [pytest.mark.db, pytest.mark.dicom]

LIVER_SEED_LPS = (-95.0, 0.0, 20.0)  # right lobe parenchyma, away from the foci


def open_demo(data_dir: Path, phantom: Path) -> tuple[Any, Any, int, dict[str, Any]]:
    """Services on ``data_dir`` with the (uncontoured) demo case of the small phantom."""
    import json
    import shutil

    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.demo import prepare_demo
    from tace_planner.services.settings import AppSettings

    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="tester"))
    demo_dir = services.settings.demo_dir
    shutil.copytree(phantom, demo_dir)
    (demo_dir / "phantom-parameters.json").write_text(
        '{"size": "small", "seed": 0, "generator": 1}', encoding="utf-8"
    )
    report = run_sync(prepare_demo(services.studies, services.cases, demo_dir, size="small"))
    truth = json.loads((demo_dir / "truth.json").read_text(encoding="utf-8"))
    return services, report, report.case.pk, truth


def series_uid(truth: dict[str, Any], folder: str) -> str:
    return next(s["series_uid"] for s in truth["timepoints"][0]["series"] if s["folder"] == folder)


def _lps(volume: Any, index: Any) -> tuple[float, float, float]:
    point = volume.index_to_lps @ np.append(np.asarray(index, dtype=float), 1.0)
    return float(point[0]), float(point[1]), float(point[2])


def _inside_fat(volume: Any) -> tuple[float, float, float]:
    """A voxel whose 5 × 5 neighbourhood is fat, on the middle slice."""
    k = volume.shape[0] // 2
    plane = np.asarray(volume.voxels[k])
    fat = (plane > -130) & (plane < -80)
    for j, i in zip(*np.nonzero(fat), strict=True):
        if fat[j - 2 : j + 3, i - 2 : i + 3].all():
            return _lps(volume, (k, j, i))
    raise AssertionError("no fat in the phantom")


@pytest.fixture
def demo(tmp_path: Path, small_phantom: Path):
    from tace_planner.services.contouring import contouring_service

    services, _, case_pk, truth = open_demo(tmp_path / "data", small_phantom)
    yield services, contouring_service(services), case_pk, truth
    services.close()


def test_a_click_on_fat_asks_first_and_air_is_refused(demo: Any) -> None:
    _, contouring, case_pk, truth = demo
    venous = series_uid(truth, "CT_venous")
    volume = contouring.volume(venous)
    fat = _inside_fat(volume)
    with pytest.raises(ImplausibleClickError) as raised:
        contouring.auto_contour(case_pk, venous, fat)
    assert raised.value.needs_confirmation
    assert "HU: fat, not a liver focus" in raised.value.verdict.reason
    assert raised.value.verdict.question.endswith("contour anyway?")
    assert contouring.list_lesions(case_pk) == []  # nothing stored
    verdict = contouring.check_click(case_pk, venous, fat)
    assert verdict.status == "confirm"

    air = _lps(volume, (volume.shape[0] // 2, 1, 1))
    with pytest.raises(ImplausibleClickError) as raised:
        contouring.auto_contour(case_pk, venous, air, confirmed=True)
    assert not raised.value.needs_confirmation
    assert "air" in str(raised.value)
    assert contouring.list_lesions(case_pk) == []

    f1 = next(f for f in truth["timepoints"][0]["foci"] if f["name"] == "F1")
    assert contouring.check_click(case_pk, venous, f1["center_lps_mm"]).status == "ok"


def test_a_focus_leaking_out_of_a_liver_cut_at_the_dome_says_where(demo: Any) -> None:
    _, contouring, case_pk, truth = demo
    venous = series_uid(truth, "CT_venous")
    volume = contouring.volume(venous)
    liver = contouring.contour_liver(case_pk, venous, LIVER_SEED_LPS)
    f1 = next(f for f in truth["timepoints"][0]["foci"] if f["name"] == "F1")
    centre = f1["center_lps_mm"]
    k = int(np.rint(np.linalg.solve(volume.index_to_lps, [*centre, 1.0])[0]))
    stored = contouring.load_mask(liver.lesion.pk, liver.segmentation.timepoint_pk)
    cut = stored.mask.copy()
    # the liver "cut through the dome": nothing from F1's centre slice upwards (S = +z)
    head = slice(k, None) if volume.index_to_lps[2, 0] > 0 else slice(None, k + 1)
    cut[head] = False
    contouring.save_and_measure(
        liver.lesion.pk, liver.segmentation.timepoint_pk, venous, None, cut, "manual"
    )

    with pytest.raises(ImplausibleClickError, match="outside the liver contour"):
        contouring.auto_contour(case_pk, venous, centre, lesion="F1")
    result = contouring.auto_contour(case_pk, venous, centre, lesion="F1", confirmed=True)
    assert result.message.startswith("The contour leaks outside the liver towards the head")
    assert result.message.endswith("Shift-click in the leak to exclude it.")
    assert result.warnings[0] == result.message


def test_a_click_on_plain_parenchyma_asks_first(demo: Any) -> None:
    """With a liver contour, a click in healthy liver is a misclick until confirmed: the
    audit on the running app found it stored as a 0.64 cm³ "focus" counted in V_mts."""
    _, contouring, case_pk, truth = demo
    venous = series_uid(truth, "CT_venous")
    contouring.contour_liver(case_pk, venous, LIVER_SEED_LPS)
    names = [item.name for item in contouring.list_lesions(case_pk)]
    with pytest.raises(ImplausibleClickError) as raised:
        contouring.auto_contour(case_pk, venous, LIVER_SEED_LPS)
    assert raised.value.needs_confirmation
    assert "the level of the liver parenchyma" in raised.value.verdict.reason
    assert [item.name for item in contouring.list_lesions(case_pk)] == names  # nothing stored
    result = contouring.auto_contour(case_pk, venous, LIVER_SEED_LPS, confirmed=True)
    assert result.warnings
    assert result.measurement is not None
    assert result.measurement.volume_cm3 is not None
    assert result.measurement.volume_cm3 < 1.0
    # a focus is contoured without a question
    f1 = next(f for f in truth["timepoints"][0]["foci"] if f["name"] == "F1")
    assert contouring.auto_contour(case_pk, venous, f1["center_lps_mm"]).measurement is not None


def test_cli_refuses_a_fat_click_unless_forced(
    tmp_path: Path, small_phantom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tace_planner.cli import main
    from tace_planner.services.contouring import contouring_service

    data = tmp_path / "data"
    services, _, _, truth = open_demo(data, small_phantom)
    venous = series_uid(truth, "CT_venous")
    x, y, z = _inside_fat(contouring_service(services).volume(venous))
    services.close()
    seed = f"--seed={x:.2f},{y:.2f},{z:.2f}"
    base = ["--data-dir", str(data), "contour", "auto", "--series", venous, seed]
    assert main(base) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "HU: fat, not a liver focus" in err[0]
    assert "--force" in err[0]
    assert main([*base, "--force"]) == 0
    assert "contoured on series" in capsys.readouterr().out


def test_a_measurement_whose_long_axis_leaves_the_contour_is_flagged(demo: Any) -> None:
    _, contouring, case_pk, truth = demo
    venous = series_uid(truth, "CT_venous")
    volume = contouring.volume(venous)
    _, timepoint_pk, _ = contouring.series_context(venous)
    k, j, i = np.meshgrid(*(np.arange(n, dtype=float) for n in volume.shape), indexing="ij")
    centre = np.array(volume.shape, dtype=float) / 2
    dy, dx = volume.spacing_mm[1:]
    r = np.hypot((j - centre[1]) * dy, (i - centre[2]) * dx)
    angle = np.degrees(np.arctan2(j - centre[1], i - centre[2]))
    crescent = (r <= 30.0) & (r >= 22.0) & (np.abs(angle) > 30.0) & (np.abs(k - centre[0]) <= 2)
    lesion = contouring.create_lesion(case_pk, "F9").lesion
    result = contouring.save_and_measure(lesion.pk, timepoint_pk, venous, None, crescent)
    notes = result.measurement.notes
    assert any("outside the contour" in note for note in notes), notes
