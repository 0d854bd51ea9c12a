"""Qt-free parts of the viewer: view state, linking by patient position, the volume cache.

(They need no display; they live beside the viewer tests because they are
the viewer's model. Nothing here imports Qt.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tace_planner.domain.progress import Progress, run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.services.state import SliceViewState, ViewLinker
from tace_planner.services.volume_cache import (
    ENV_BUDGET_MB,
    VolumeCache,
    VolumeLoader,
    budget_from_env,
)

AXIAL = (0.0, 0.0, 1.0)
CORONAL = (0.0, 1.0, 0.0)


def state(normal=AXIAL, position=0.0, frame="1.2.3", orientation="axial") -> SliceViewState:
    return SliceViewState(
        orientation=orientation,
        slice_position_mm=position,
        plane_normal_lps=normal,
        frame_of_reference_uid=frame,
    )


def test_window_must_be_positive() -> None:
    view = state()
    view.set_window(150, 90)
    assert view.window_hu == (150.0, 90.0)
    with pytest.raises(ValueError, match="window width"):
        view.set_window(0, 40)


def test_linked_views_of_one_frame_share_the_patient_position() -> None:
    linker = ViewLinker()
    arterial, venous = state(position=10.0), state(position=-40.0)
    linker.adopt(arterial)
    linker.adopt(venous)  # joins the frame's cursor: goes to z = 10
    assert venous.slice_position_mm == pytest.approx(10.0)

    arterial.slice_position_mm = 32.5
    assert venous.slice_position_mm == pytest.approx(32.5)
    venous.slice_position_mm = -5.0
    assert arterial.slice_position_mm == pytest.approx(-5.0)


def test_orthogonal_views_keep_their_plane_when_another_scrolls() -> None:
    linker = ViewLinker()
    axial, coronal = state(position=10.0), state(CORONAL, 3.0, orientation="coronal")
    linker.adopt(axial)
    linker.adopt(coronal)
    coronal_before = coronal.slice_position_mm
    axial.slice_position_mm = 50.0
    assert coronal.slice_position_mm == pytest.approx(coronal_before)
    # Moving the cursor to a point moves both planes through it.
    linker.set_cursor(axial, (1.0, -20.0, 7.0))
    assert axial.slice_position_mm == pytest.approx(7.0)
    assert coronal.slice_position_mm == pytest.approx(-20.0)
    assert linker.cursor_lps(axial) == pytest.approx((1.0, -20.0, 7.0))


def test_other_frames_follow_by_the_same_distance() -> None:
    linker = ViewLinker()
    baseline, follow_up = state(position=10.0, frame="A"), state(position=100.0, frame="B")
    linker.adopt(baseline)
    linker.adopt(follow_up)
    assert follow_up.slice_position_mm == pytest.approx(100.0)  # no shared frame: stays
    baseline.slice_position_mm = 25.0
    assert follow_up.slice_position_mm == pytest.approx(115.0)


def test_unlinked_view_neither_leads_nor_follows() -> None:
    linker = ViewLinker()
    a, b = state(position=0.0), state(position=0.0)
    linker.adopt(a)
    linker.adopt(b)
    b.linked = False
    a.slice_position_mm = 20.0
    assert b.slice_position_mm == pytest.approx(0.0)
    b.slice_position_mm = -30.0
    assert a.slice_position_mm == pytest.approx(20.0)
    linker.set_cursor(b, (0.0, 0.0, 5.0))  # an unlinked view moves its cursor alone
    assert b.slice_position_mm == pytest.approx(5.0)
    assert a.slice_position_mm == pytest.approx(20.0)
    linker.enabled = False
    b.linked = True
    a.slice_position_mm = 40.0
    assert b.slice_position_mm == pytest.approx(5.0)


def test_zoom_is_shared_and_pan_moves_by_the_same_vector() -> None:
    linker = ViewLinker()
    a, b = state(), state()
    linker.adopt(a)
    linker.adopt(b)
    a.zoom = 2.5
    assert b.zoom == pytest.approx(2.5)
    a.pan_center_lps = (10.0, 5.0, 0.0)
    assert b.pan_center_lps == pytest.approx((10.0, 5.0, 0.0))
    linker.remove(b)
    a.zoom = 1.0
    assert b.zoom == pytest.approx(2.5)


def test_states_are_distinct_even_when_equal() -> None:
    linker = ViewLinker()
    a, b = state(), state()
    linker.adopt(a)
    linker.adopt(b)
    assert len(linker.states) == 2
    linker.remove(b)
    assert linker.states == (a,)


# ---------------------------------------------------------------- cache


def volume(nbytes_mib: int = 1, value: float = 0.0) -> ImageVolume:
    count = nbytes_mib * 1024 * 1024 // 4
    voxels = np.full((count // 64, 8, 8), value, dtype=np.float32)
    return ImageVolume(voxels, np.eye(4), "1.2.3")


def test_cache_keeps_recent_volumes_within_its_budget() -> None:
    cache = VolumeCache(budget_bytes=3 * 1024 * 1024)
    first, second, third, fourth = (volume() for _ in range(4))
    for n, item in enumerate((first, second, third)):
        cache.put((f"s{n}", ""), item)
    assert cache.get(("s0", "")) is first  # now most recently used
    cache.put(("s3", ""), fourth)
    assert cache.keys() == [("s2", ""), ("s0", ""), ("s3", "")]
    assert cache.total_bytes == 3 * 1024 * 1024
    cache.budget_bytes = 1024 * 1024
    assert cache.keys() == [("s3", "")]


def test_cache_never_makes_a_second_copy_of_a_volume_still_in_use() -> None:
    cache = VolumeCache(budget_bytes=0)
    shown = volume()
    assert cache.put(("s", ""), shown) is shown
    cache.put(("t", ""), volume())  # evicts "s" from the LRU …
    assert ("s", "") not in cache
    assert cache.get(("s", "")) is shown  # … but a view still holds it
    assert cache.put(("s", ""), volume()) is shown  # a new load is dropped for it


def test_budget_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_BUDGET_MB, "512")
    assert budget_from_env() == 512 * 1024 * 1024
    monkeypatch.setenv(ENV_BUDGET_MB, "lots")
    with pytest.raises(ValueError, match="MiB"):
        budget_from_env()
    monkeypatch.delenv(ENV_BUDGET_MB)
    assert budget_from_env() == 2 * 1024**3
    with pytest.raises(ValueError, match="negative"):
        VolumeCache(-1)


@pytest.mark.dicom
def test_loader_previews_middle_slices_then_loads_once(small_phantom: Path) -> None:
    files = sorted((small_phantom / "baseline" / "CT_venous").glob("*.dcm"))
    cache = VolumeCache()
    loader = VolumeLoader(lambda uid: files, cache)
    steps: list[Progress] = []
    planned = run_sync(loader.plan("1.2.3", None), steps.append)
    assert planned.preview is not None
    assert planned.preview.shape[0] == 3
    whole = run_sync(loader.load(planned), steps.append)
    assert whole.shape[0] == planned.plan.report.slice_count
    middle = (whole.shape[0] - 3) // 2
    np.testing.assert_array_equal(planned.preview.voxels, whole.voxels[middle : middle + 3])
    # The preview sits where those slices sit in the whole volume.
    np.testing.assert_allclose(
        planned.preview.index_to_lps[:3, 3], whole.index_to_lps[:3, :3] @ [middle, 0, 0]
        + whole.index_to_lps[:3, 3]
    )  # fmt: skip
    assert loader.cached("1.2.3", None) is whole
    assert run_sync(loader.open("1.2.3", "")) is whole  # no second read
    assert steps
