"""Command line: ``patient set``, ``plan --json`` and ``plan --pdf`` on the demo case.

The demo case (small phantom) gets baseline contours from the phantom's analytic
truth masks on its portal venous CT grid, written as contouring will write them;
the PDF is rendered by the real entry point (``python -m tace_planner``, which injects
the Qt renderer) and checked with poppler (``pdftotext``, ``pdftoppm``, ``pdfimages``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tace_planner.cli import main

pytestmark = [pytest.mark.db, pytest.mark.dicom]

RIGHT_LOBE = {"V", "VI", "VII", "VIII"}


def _pack(mask: np.ndarray) -> tuple[dict[str, Any], bytes]:
    where = np.argwhere(mask)
    low = where.min(axis=0)
    high = where.max(axis=0) + 1
    crop = mask[low[0] : high[0], low[1] : high[1], low[2] : high[2]]
    grid = {"shape": list(mask.shape), "bbox": [*map(int, low), *map(int, high)]}
    return grid, zlib.compress(np.packbits(crop.ravel()).tobytes())


def _contour_demo_case(data_dir: Path, *, unilobar: bool = False) -> int:
    """Write baseline liver and focus measurements (with masks) into the demo database."""
    from sqlalchemy import select

    from tace_planner.imaging.phantom import phantom_truth
    from tace_planner.imaging.phantom_model import SamplingGrid
    from tace_planner.imaging.phantom_truth import truth_masks
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings
    from tace_planner.store.models import (
        CaseRow,
        LesionRow,
        MeasurementRow,
        SegmentationRow,
        SeriesRow,
        TimepointRow,
    )

    truth = phantom_truth("small", 0)
    data = truth.to_json()
    baseline = data["timepoints"][0]
    venous = next(s for s in baseline["series"] if s["folder"] == "CT_venous")
    grid = SamplingGrid(np.asarray(venous["index_to_lps"]), tuple(venous["shape_zyx"]))
    masks = truth_masks(truth, grid, "baseline")
    foci = [f for f in baseline["foci"] if not unilobar or f["couinaud_segment"] in RIGHT_LOBE]
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="contouring"))
    try:
        with services.session_factory() as session:
            case = session.scalars(select(CaseRow)).one()
            timepoint = session.scalars(
                select(TimepointRow).where(
                    TimepointRow.case_pk == case.id, TimepointRow.kind == "baseline"
                )
            ).one()
            series = session.scalars(
                select(SeriesRow).where(SeriesRow.series_uid == venous["series_uid"])
            ).one()
            entries = [("liver", "liver", "", data["liver_volume_cm3"])] + [
                (f["name"], "focus", f["couinaud_segment"], f["volume_cm3"]) for f in foci
            ]
            for name, kind, segment, volume in entries:
                lesion = LesionRow(case_pk=case.id, name=name, kind=kind, couinaud_segment=segment)
                session.add(lesion)
                session.flush()
                grid_shape, packed = _pack(masks[name])
                mask = SegmentationRow(
                    lesion_pk=lesion.id,
                    timepoint_pk=timepoint.id,
                    series_pk=series.id,
                    grid_shape=grid_shape,
                    mask_packed=packed,
                )
                session.add(mask)
                session.flush()
                session.add(
                    MeasurementRow(
                        segmentation_pk=mask.id,
                        volume_cm3=volume,
                        measured_at=dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
                    )
                )
            session.commit()
            return case.id
    finally:
        services.close()


@pytest.fixture
def demo_copy(tmp_path: Path, demo_data_dir: Path) -> Path:
    """A private copy of the demo data folder (the shared one is read-only)."""
    target = tmp_path / "data"
    shutil.copytree(demo_data_dir, target)
    return target


def _run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "--user", "dr cli", *args])


def test_patient_set_and_plan_json_bilobar(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = str(_contour_demo_case(demo_copy))
    assert (
        _run(
            demo_copy,
            "patient",
            "set",
            "--case",
            case,
            "--height-cm",
            "175",
            "--weight-kg",
            "70",
            "--bilirubin-mg-dl",
            "0.8",
            "--ecog",
            "1",
        )
        == 0
    )
    capsys.readouterr()
    assert _run(demo_copy, "plan", "--case", case, "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    inputs = plan["inputs"]
    assert inputs["liver_volume_cm3"] == pytest.approx(1572.703)
    assert inputs["tumour_volume_cm3"]["right"] == pytest.approx(107.001, abs=1e-3)
    assert inputs["tumour_volume_cm3"]["left"] == pytest.approx(4.239, abs=1e-3)
    assert inputs["tumour_volume_cm3"]["caudate"] == pytest.approx(2.572, abs=1e-3)
    assert inputs["burden_percent"] == pytest.approx(7.237, abs=1e-3)
    assert inputs["bsa_m2"] == pytest.approx(1.8447, abs=1e-4)
    assert inputs["parameters"]["embolic_capacity_ml_per_cm3"] == 0.05
    sessions = [
        (
            s["territory"],
            s["beads_ml"],
            s["vials"],
            s["irinotecan_loaded_mg"],
            s["irinotecan_expected_delivered_mg"],
        )
        for s in plan["sessions"]
    ]
    assert sessions == [
        ("right+caudate", 4.0, 2, 100.0, 100.0),
        ("left", 0.5, 1, 100.0, 25.0),
    ]
    assert plan["sessions"][1]["day"] == 21
    codes = {w["code"] for w in plan["warnings"]}
    assert {"dose.session_limit.s1", "caudate.focus"} <= codes
    assert "imaging.baseline_too_old" not in codes  # CT 14 days before the TACE date

    assert _run(demo_copy, "plan", "--case", case, "--model", "fixed") == 0
    text = capsys.readouterr().out
    assert "irinotecan loaded 100 mg" in text
    assert "not a prescription" in text


def test_impossible_patient_input_is_refused_and_nothing_saved(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = str(_contour_demo_case(demo_copy))
    assert _run(demo_copy, "patient", "set", "--case", case, "--height-cm", "172") == 0
    capsys.readouterr()
    assert (
        _run(
            demo_copy, "patient", "set", "--case", case, "--height-cm", "-172", "--weight-kg", "70"
        )
        == 1
    )
    error = capsys.readouterr().err
    assert "height_cm" in error
    assert "must be positive" in error
    assert _run(demo_copy, "patient", "set", "--case", case, "--weight-kg", "7000") == 1
    assert "weight_kg" in capsys.readouterr().err
    assert _run(demo_copy, "patient", "show", "--case", case, "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["height_cm"], shown["weight_kg"]) == (172.0, None)
    assert _run(demo_copy, "patient", "set", "--case", case) == 2


def test_hepasphere_is_refused_clearly(demo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = str(_contour_demo_case(demo_copy, unilobar=True))
    assert _run(demo_copy, "plan", "--case", case, "--product", "hepasphere") == 1
    out = capsys.readouterr().out
    assert "[BLOCK] HepaSphere / QuadraSphere (SAP) has no irinotecan loading capacity" in out
    assert "Session 1" not in out
    assert (
        _run(
            demo_copy,
            "plan",
            "--case",
            case,
            "--product",
            "hepasphere",
            "--capacity-mg-per-ml",
            "25",
            "--vial-ml",
            "2",
            "--json",
        )
        == 0
    )
    plan = json.loads(capsys.readouterr().out)
    assert plan["blocked"] is False
    assert plan["sessions"][0]["irinotecan_loaded_mg"] == pytest.approx(100.0)


def test_pdf_without_a_renderer_says_why(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = str(_contour_demo_case(demo_copy))
    assert _run(demo_copy, "plan", "--case", case, "--pdf", str(demo_copy / "x.pdf")) == 1
    assert "needs Qt" in capsys.readouterr().err
    assert not (demo_copy / "x.pdf").exists()


@pytest.mark.slow
def test_plan_pdf_through_the_entry_point(demo_copy: Path, tmp_path: Path) -> None:
    pytest.importorskip("PySide6")
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftotext, pdftoppm) not installed")
    case = str(_contour_demo_case(demo_copy, unilobar=True))
    pdf = tmp_path / "plan.pdf"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    base = [sys.executable, "-m", "tace_planner", "--data-dir", str(demo_copy)]
    subprocess.run(
        [*base, "patient", "set", "--case", case, "--height-cm", "175", "--weight-kg", "70"],
        check=True,
        capture_output=True,
        env=env,
        timeout=120,
    )
    done = subprocess.run(
        [*base, "plan", "--case", case, "--save", "--pdf", str(pdf)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"plan sheet written to {pdf}" in done.stdout
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "Pages:           1" in info.stdout
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    # The unilobar worked example: 107.0 cm³ → 4.00 mL, 2 vials, 200 mg loaded and delivered.
    assert "DRAFT — plan version 1" in text
    assert "107.0" in text
    assert "4.00" in text
    assert "200" in text
    assert "1573 cm³" in text
    assert "6.8 %" in text
    assert "1.845 m²" in text
    assert "not a prescription" in text
    assert "Baseline slice" in text  # the key image caption
    images = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert len(images.strip().splitlines()) >= 3  # header, rule, at least one image
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    assert (tmp_path / "page.png").stat().st_size > 20_000


def test_a_focus_without_a_segment_is_fixed_with_the_command_line_named(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``plan`` said only "assign it in the Lesions list (right-click → Set Couinaud
    segment…)", a window gesture, to a user of the command line."""
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    case_pk = _contour_demo_case(demo_copy)
    services = open_services(AppSettings(data_dir=demo_copy, db_url=None, user="t"))
    try:
        f1 = next(i for i in services.contouring.list_lesions(case_pk) if i.name == "F1")
        services.contouring.update_lesion(f1.pk, couinaud_segment="")
    finally:
        services.close()
    capsys.readouterr()
    assert _run(demo_copy, "plan", "--case", str(case_pk)) == 0
    lines = capsys.readouterr().out.splitlines()
    where = next(i for i, line in enumerate(lines) if "without a Couinaud segment (F1)" in line)
    hint = lines[where + 1]
    assert "tace-planner lesion propose-segment" in hint
    assert "tace-planner lesion set-segment" in hint
