"""A contour drawn on a view's volume whose series changed since is refused, not stored.

A view keeps the volume it was given. After its series was removed and imported
again under the same UIDs, or its stored files were rewritten, saving a brush edit
drawn on that volume stored the mask on the new files' grid as if nothing happened.
``save_and_measure`` (and the auto and liver contours given a view's volume) now
compare the volume's file stamp with the series' files and refuse with one line
that names the series and says to open it again; nothing is stored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_contouring_service import LIVER_SEED_LPS, open_demo, series_uid

from tace_planner.domain.progress import run_sync
from tace_planner.store import repositories

pytestmark = [pytest.mark.db, pytest.mark.dicom]


@pytest.fixture
def demo(tmp_path: Path, small_phantom: Path) -> Any:
    services, _, case_pk, truth = open_demo(tmp_path / "data", small_phantom)
    yield services, case_pk, truth
    services.close()


def _block(shape: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    z, y, x = (n // 2 for n in shape)
    mask[z - 1 : z + 2, y - 4 : y + 4, x - 4 : x + 4] = True
    return mask


def _refusal() -> type[Exception]:
    from tace_planner.services.volume_currency import StaleVolumeError

    return StaleVolumeError


def _series_words(services: Any, uid: str) -> tuple[str, str]:
    """(description, "Series <number>") of a stored series."""
    with services.session_factory() as session:
        row = repositories.find_series(session, uid)
        assert row is not None
        assert row.description
        assert row.series_number is not None
        return row.description, f"Series {row.series_number}"


def test_a_brush_edit_on_a_volume_removed_and_imported_again_is_refused(demo) -> None:
    services, case_pk, truth = demo
    contouring = services.contouring
    arterial = series_uid(truth, "CT_arterial")
    description, number = _series_words(services, arterial)
    old = contouring.volume(arterial, None)  # the view shows it, and keeps showing it
    source = services.settings.demo_dir / "baseline" / "CT_arterial"
    assert source.is_dir()

    services.studies.remove_series(arterial, "wrong reconstruction")
    report = run_sync(services.studies.import_paths([source]))
    assert not report.errors, report.errors
    _, timepoint_pk, _ = contouring.series_context(arterial)
    lesion = contouring.create_lesion(case_pk, "F1").lesion

    with pytest.raises(_refusal()) as refused:
        contouring.save_and_measure(
            lesion.pk, timepoint_pk, arterial, None, _block(old.shape), volume=old
        )
    said = str(refused.value)
    assert "\n" not in said
    assert description in said
    assert number in said
    assert "imported again" in said
    assert "Open the series again" in said
    assert arterial not in said  # named as the user knows it, not by its UID
    assert contouring.load_mask(lesion.pk, timepoint_pk) is None
    assert not contouring.measurements(arterial).lesions

    # opened again, the same edit is stored
    new = contouring.volume(arterial, None)
    assert new is not old
    saved = contouring.save_and_measure(
        lesion.pk, timepoint_pk, arterial, None, _block(new.shape), volume=new
    )
    assert saved.segmentation.version >= 1
    assert contouring.load_mask(lesion.pk, timepoint_pk) is not None


def test_a_contour_on_a_volume_whose_series_was_removed_is_refused(demo) -> None:
    services, case_pk, truth = demo
    contouring = services.contouring
    arterial = series_uid(truth, "CT_arterial")
    description, _ = _series_words(services, arterial)
    old = contouring.volume(arterial, None)
    _, timepoint_pk, _ = contouring.series_context(arterial)
    lesion = contouring.create_lesion(case_pk, "F1").lesion
    services.studies.remove_series(arterial, "wrong series")

    with pytest.raises(_refusal()) as refused:
        contouring.save_and_measure(
            lesion.pk, timepoint_pk, arterial, None, _block(old.shape), volume=old
        )
    said = str(refused.value)
    assert refused.value.removed
    assert description in said
    assert "was removed" in said
    assert "open it" in said
    assert contouring.load_mask(lesion.pk, timepoint_pk) is None


def test_files_rewritten_under_a_view_refuse_its_liver_contour_and_its_edits(demo) -> None:
    services, case_pk, truth = demo
    contouring = services.contouring
    venous = series_uid(truth, "CT_venous")
    old = contouring.volume(venous, None)
    for path in services.studies.series_files(venous)[:1]:
        later = path.stat().st_mtime_ns + 10**9
        os.utime(path, ns=(later, later))  # another program rewrote a file in place

    with pytest.raises(_refusal(), match="Open the series again"):
        run_sync(contouring.contour_liver_task(case_pk, venous, LIVER_SEED_LPS, volume=old))
    with pytest.raises(_refusal()):
        contouring.auto_contour(case_pk, venous, LIVER_SEED_LPS, volume=old)
    assert contouring.masks_of_case(case_pk) == []
    # a volume read from the files as they are now is contoured as before
    new = contouring.volume(venous, None)
    result = run_sync(contouring.contour_liver_task(case_pk, venous, LIVER_SEED_LPS, volume=new))
    assert result.segmentation is not None
