"""Foci never share voxels: the burden's V_mts is their sum, so a shared voxel counts twice.

The full-size demo's own contours (the app's one-click tool from each focus's centre) let
F7's contour run into F1: 0.81 cm³ counted twice, F7 +15 % against its truth (+3 % now). An
auto contour now leaves out what another focus holds, and says so; a first click inside a
contoured focus is refused with the focus named. The small demo's foci did not overlap
before either: its test is a guard, the hand-painted overlap below fails on the code before.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.progress import run_sync

pytestmark = [pytest.mark.db, pytest.mark.dicom]


def _open(data_dir: Path) -> Any:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    return open_services(AppSettings(data_dir=data_dir, db_url=None, user="t"))


@pytest.fixture
def contoured_demo(tmp_path: Path, small_phantom: Path) -> Any:
    """The small demo, contoured by the app as the demo does."""
    from tace_planner.services.contouring import contouring_service
    from tace_planner.services.demo import prepare_demo

    services = _open(tmp_path / "data")
    demo_dir = services.settings.demo_dir
    shutil.copytree(small_phantom, demo_dir)
    (demo_dir / "phantom-parameters.json").write_text(
        '{"size": "small", "seed": 0, "generator": 1}', encoding="utf-8"
    )
    contouring = contouring_service(services)
    report = run_sync(
        prepare_demo(
            services.studies, services.cases, demo_dir, size="small", contouring=contouring
        )
    )
    truth = json.loads((small_phantom / "truth.json").read_text(encoding="utf-8"))
    yield services, contouring, report.case.pk, truth
    services.close()


def _venous(truth: dict) -> str:
    series = truth["timepoints"][0]["series"]
    return next(s["series_uid"] for s in series if s["folder"] == "CT_venous")


def _foci(contouring: Any, venous: str) -> dict[str, np.ndarray]:
    return {
        item.lesion.name: item.mask
        for item in contouring.masks_of_series(venous)
        if not item.lesion.is_liver
    }


def test_the_demos_foci_share_no_voxel(contoured_demo: Any) -> None:
    _, contouring, _, truth = contoured_demo
    foci = _foci(contouring, _venous(truth))
    assert len(foci) == 7
    for (a, mask_a), (b, mask_b) in itertools.combinations(foci.items(), 2):
        assert not (mask_a & mask_b).any(), f"{a} and {b} share voxels"


def test_a_contour_leaves_out_what_another_focus_holds_and_says_so(contoured_demo: Any) -> None:
    _, contouring, case_pk, truth = contoured_demo
    venous = _venous(truth)
    before = _foci(contouring, venous)
    f3 = next(f for f in truth["timepoints"][0]["foci"] if f["name"] == "F3")
    # The user re-contours F3 and paints by hand across F1 (kept as painted, but F1 holds it).
    result = contouring.auto_contour(
        case_pk, venous, f3["center_lps_mm"], lesion="F3", keep_in=before["F1"]
    )
    after = _foci(contouring, venous)
    assert not (after["F3"] & after["F1"]).any()
    assert np.array_equal(after["F1"], before["F1"])  # F1 keeps its voxels
    assert after["F3"].any()
    shared = [w for w in result.warnings if "F1" in w]
    assert shared
    assert "do not share voxels" in shared[0]
    assert "cm³ of F1" in shared[0]


def test_a_first_click_inside_a_contoured_focus_is_refused_naming_it(contoured_demo: Any) -> None:
    _, contouring, case_pk, truth = contoured_demo
    venous = _venous(truth)
    f1 = next(f for f in truth["timepoints"][0]["foci"] if f["name"] == "F1")
    names = [item.name for item in contouring.list_lesions(case_pk)]
    with pytest.raises(InvalidInputError, match="lies in F1, which is already contoured"):
        contouring.auto_contour(case_pk, venous, f1["center_lps_mm"])
    assert [item.name for item in contouring.list_lesions(case_pk)] == names  # nothing new
