"""The plan sheet's key image on the contoured demo: labels, orientation, scale, lesion colours.

The demo case is contoured by the app's own tools (as ``tace-planner demo`` does); the
key image is built by ``PlanningService.key_image`` and printed with the plan sheet.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QImage

from tace_planner.domain.progress import run_sync
from tace_planner.ui.plan_sheet import key_image_qimage, plan_sheet_html, render_plan_pdf

pytestmark = [pytest.mark.db, pytest.mark.dicom]


@pytest.fixture(scope="module")
def contoured(tmp_path_factory: pytest.TempPathFactory, small_phantom: Path) -> Iterator[Any]:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.contouring import contouring_service
    from tace_planner.services.demo import prepare_demo
    from tace_planner.services.settings import AppSettings

    data_dir = tmp_path_factory.mktemp("contoured") / "data"
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="t"))
    demo_dir = services.settings.demo_dir
    shutil.copytree(small_phantom, demo_dir)
    (demo_dir / "phantom-parameters.json").write_text(
        '{"size": "small", "seed": 0, "generator": 1}', encoding="utf-8"
    )
    result = run_sync(
        prepare_demo(
            services.studies,
            services.cases,
            demo_dir,
            size="small",
            contouring=contouring_service(services),
        )
    )
    yield services, result.case.pk
    services.close()


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8)
    rows = buffer.reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3)


def _has(pixels: np.ndarray, colour: str, tolerance: int = 30) -> bool:
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return bool((np.abs(pixels.astype(int) - rgb).max(axis=2) < tolerance).any())


def test_key_image_has_labels_letters_scale_and_lesion_colours(qapp: Any, contoured: Any) -> None:
    from tace_planner.services.contouring import contouring_service

    services, case_pk = contoured
    key = services.planning.key_image(case_pk, services.studies.load_series)
    assert key is not None
    lesions = {
        item.name: item.colour
        for item in contouring_service(services).list_lesions(case_pk)  # as on screen
    }
    assert key.labels
    for label in key.labels:
        assert label.colour == lesions[label.name], label.name
        assert _has(key.pixels, label.colour), label.name  # outline drawn in that colour
    assert {label.name for label in key.labels} >= {"Liver", "F1"}
    assert key.edges == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert key.scale_bar_mm in (10.0, 20.0, 50.0, 100.0)
    image = key_image_qimage(key)
    assert image.width() >= 512  # enlarged so that the text stays legible
    painted = _pixels(image)
    assert painted.shape[0] == image.height()
    # The scale bar and letters are white; the slice windowed at 400/40 has white only in
    # bone, so the painted image has more pure-white pixels than the bare one.
    bare = _pixels(key_image_qimage(key.pixels))
    white = (painted == 255).all(axis=2).mean()
    assert white > (bare == 255).all(axis=2).mean()


def test_caption_names_the_lesions_in_their_colours_not_foci_red(
    qapp: Any, contoured: Any, tmp_path: Path
) -> None:
    services, case_pk = contoured
    key = services.planning.key_image(case_pk, services.studies.load_series)
    proposal = services.planning.propose(case_pk)
    from tace_planner.ui.plan_sheet import key_legend_html

    html = plan_sheet_html(
        proposal,
        key_image_width_px=200,
        key_caption=key.caption,
        key_legend=key_legend_html(key.labels),
    )
    assert "foci red" not in html
    assert "liver blue" not in html
    for label in key.labels:
        assert f"<font color='{label.colour}'>■</font> {label.name}" in html
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils not installed")
    pdf = render_plan_pdf(proposal, tmp_path / "plan.pdf", key)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "contours in each lesion's colour" in " ".join(text.split())
    assert "DEMO, Phantom" in text  # the DICOM PN "Demo^Phantom", readable
    assert "^" not in text
    from test_clinical_wording import internal_wording

    assert internal_wording(text) == []  # the demo's sheet reads as clinical text too
