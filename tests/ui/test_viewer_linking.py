"""Viewer workspace: layouts, linked phases by patient position, MPR, masks, one copy per volume."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tace_planner.domain.progress import Progress, run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.dicom.series import load_volume
from tace_planner.ui.viewer.viewer_grid import ViewerWorkspace

pytestmark = pytest.mark.dicom


class FakeStudies:
    """``load_series`` only: the workspace's fallback without a volume cache."""

    def __init__(self, volumes: dict[str, ImageVolume]) -> None:
        self.volumes = volumes
        self.loads: list[str] = []

    def load_series(self, series_uid: str, part: str | None = None):
        volume = self.volumes[series_uid]  # KeyError at once for an unknown series
        self.loads.append(series_uid)
        return self._task(volume)

    @staticmethod
    def _task(volume: ImageVolume):
        yield Progress(1, 2, "reading")
        return volume


def crop(volume: ImageVolume, first: int, last: int, every: int = 1) -> ImageVolume:
    """Slices ``first:last:every`` of a volume, on the same patient positions."""
    affine = volume.index_to_lps.copy()
    affine[:3, 3] = affine[:3, :3] @ [first, 0, 0] + affine[:3, 3]
    affine[:3, 0] *= every
    voxels = np.ascontiguousarray(volume.voxels[first:last:every])
    return ImageVolume(voxels, affine, volume.frame_of_reference_uid)


@pytest.fixture(scope="module")
def phases(small_phantom: Path) -> dict[str, ImageVolume]:
    """Baseline arterial (35 slices of 5 mm), venous cut to slices 8–29, venous every 2nd slice."""

    def read(folder: str) -> ImageVolume:
        return run_sync(load_volume(sorted((small_phantom / "baseline" / folder).glob("*.dcm"))))

    venous = read("CT_venous")
    return {
        "arterial": read("CT_arterial"),
        "venous_cut": crop(venous, 8, 30),
        "venous_10mm": crop(venous, 0, 35, every=2),
    }


@pytest.fixture
def workspace(qtbot, task_runner, phases):
    studies = FakeStudies(phases)
    widget = ViewerWorkspace(SimpleNamespace(studies=studies, annotations=None), task_runner)
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    yield widget
    widget.release()


def open_and_wait(qtbot, workspace: ViewerWorkspace, uid: str, view, **kwargs) -> None:
    with qtbot.waitSignal(workspace.volume_shown, timeout=20_000):
        workspace.open_series(uid, view=view, **kwargs)
    qtbot.waitUntil(lambda: view.volume is not None, timeout=5_000)


def test_two_phases_with_different_slice_ranges_stay_on_the_same_patient_z(
    qtbot, workspace: ViewerWorkspace, phases
) -> None:
    workspace.set_layout("1x2")
    arterial, venous = workspace.views
    open_and_wait(qtbot, workspace, "arterial", arterial)
    open_and_wait(qtbot, workspace, "venous_cut", venous)
    # The venous view joined at the arterial view's position, not at its own middle.
    assert venous.slice_position_mm() == pytest.approx(arterial.slice_position_mm())
    assert venous.slice_index != arterial.slice_index  # its slices start 8 positions later

    for index in (10, 14, 29, 8):
        arterial.show_slice(index)
        assert venous.slice_index == index - 8
        assert venous.slice_position_mm() == pytest.approx(arterial.slice_position_mm())
    # Scrolling the shorter volume moves the other one too.
    venous.scroll(5)
    assert arterial.slice_index == 13
    venous.scroll(-9)  # clamped at the first venous slice: arterial slice 8
    assert arterial.slice_index == 8
    assert arterial.slice_position_mm() == pytest.approx(venous.slice_position_mm())
    # Beyond the venous range the venous view shows its last slice and says so.
    arterial.show_slice(34)
    assert venous.slice_index == venous.slice_count - 1
    assert "outside this volume" in venous.corner_text.text("top_right")


def test_linked_views_with_other_slice_spacing_show_the_nearest_plane(
    qtbot, workspace: ViewerWorkspace
) -> None:
    workspace.set_layout("1x2")
    arterial, coarse = workspace.views
    open_and_wait(qtbot, workspace, "arterial", arterial)
    open_and_wait(qtbot, workspace, "venous_10mm", coarse)
    for index in range(0, 35, 3):
        arterial.show_slice(index)
        assert abs(coarse.slice_position_mm() - arterial.slice_position_mm()) <= 5.0 + 1e-6


def test_zoom_and_pan_follow_and_a_view_can_be_unlinked(qtbot, workspace: ViewerWorkspace) -> None:
    workspace.set_layout("1x2")
    first, second = workspace.views
    open_and_wait(qtbot, workspace, "arterial", first)
    open_and_wait(qtbot, workspace, "venous_cut", second)
    first.state.zoom = 2.0
    first.state.pan_center_lps = (30.0, -10.0, 0.0)
    assert second.state.zoom == pytest.approx(2.0)
    assert second.state.pan_center_lps[:2] == pytest.approx((30.0, -10.0))
    workspace.set_view_linked(second, False)
    first.show_slice(20)
    assert second.slice_position_mm() != pytest.approx(first.slice_position_mm())
    workspace.set_view_linked(second, True)  # rejoins at the group's position
    assert second.slice_position_mm() == pytest.approx(first.slice_position_mm())


def test_mpr_shows_one_volume_three_ways_with_reference_lines(
    qtbot, workspace: ViewerWorkspace
) -> None:
    open_and_wait(qtbot, workspace, "arterial", workspace.active_view)
    with qtbot.waitSignals([workspace.volume_shown] * 3, timeout=20_000):
        workspace.set_layout("mpr")
    axial, coronal, sagittal = workspace.views
    assert [v.state.orientation for v in workspace.views] == ["axial", "coronal", "sagittal"]
    assert axial.volume is coronal.volume is sagittal.volume  # one copy in memory
    assert workspace.crosshair
    assert len(axial.references.lines) == 2
    assert len(coronal.references.lines) == 2
    # A click with the cursor tool moves the other planes through the clicked point.
    point = np.array([-68.0, -12.0, 18.0])
    workspace.linker.set_cursor(axial.state, point)
    assert coronal.slice_position_mm() == pytest.approx(point[1], abs=3.125 / 2)
    assert sagittal.slice_position_mm() == pytest.approx(point[0], abs=3.125 / 2)
    assert axial.slice_position_mm() == pytest.approx(point[2], abs=2.5)


def test_each_part_is_read_once_however_many_views_want_it(
    qtbot, workspace: ViewerWorkspace
) -> None:
    studies = workspace._services.studies
    workspace.set_layout("2x2")
    views = workspace.views
    with qtbot.waitSignals([workspace.volume_shown] * 4, timeout=20_000):
        for view, orientation in zip(views, ("axial", "axial", "coronal", "sagittal"), strict=True):
            workspace.open_series("arterial", view=view, orientation=orientation)
    assert studies.loads == ["arterial"]
    assert len({id(v.volume) for v in views}) == 1


def test_masks_are_shown_on_every_view_of_their_series(qtbot, workspace: ViewerWorkspace) -> None:
    workspace.set_layout("1x2")
    axial, other = workspace.views
    open_and_wait(qtbot, workspace, "arterial", axial)
    mask = np.zeros(axial.volume.shape, dtype=bool)
    mask[15:20, 40:60, 40:60] = True
    workspace.set_mask("arterial", "", "F1", mask, "#ff0000", 0.5)
    assert axial.overlays.labels == ["F1"]
    # A view opened later on the same series shows it too, in its own plane.
    open_and_wait(qtbot, workspace, "arterial", other, orientation="coronal")
    assert other.overlays.labels == ["F1"]
    other.show_slice(50)
    assert other.overlays.image_item.isVisible()
    workspace.remove_mask("arterial", "", "F1")
    assert axial.overlays.labels == other.overlays.labels == []


def test_an_unknown_series_fails_kindly(qtbot, workspace: ViewerWorkspace) -> None:
    with pytest.raises(KeyError):
        workspace.open_series("not-there")
    assert workspace.active_view.volume is None


def test_truth_file_exists_for_these_tests(small_phantom: Path) -> None:
    truth = json.loads((small_phantom / "truth.json").read_text())
    assert truth["size"] == "small"


def test_reference_cursor_marks_the_hovered_point_in_the_other_views(
    qtbot, workspace: ViewerWorkspace
) -> None:
    workspace.set_layout("1x2")
    arterial, venous = workspace.views
    open_and_wait(qtbot, workspace, "arterial", arterial)
    open_and_wait(qtbot, workspace, "venous_cut", venous)
    workspace.set_crosshair(True)
    info = arterial.hover_info(-68.0, -12.0)
    arterial.hovered.emit(info)
    marker = venous.references._cursor
    assert marker.isVisible()
    xs, ys = marker.getData()
    assert (xs[0], ys[0]) == pytest.approx((-68.0, -12.0))
    workspace.set_crosshair(False)
    assert not marker.isVisible()


def test_the_series_geometry_report_reaches_the_view(qtbot, task_runner, phases) -> None:
    from tace_planner.services.dto import SeriesItem, VolumePartItem

    def describe(series_uid: str) -> SeriesItem:
        status = "unmeasurable" if series_uid == "venous_cut" else "ok"
        warnings = ("2 missing slices between -45.0 and -30.0 mm",) if status != "ok" else ()
        part = VolumePartItem(None, 22, (22, 128, 128), (5.0, 3.125, 3.125), status, warnings)
        return SeriesItem(
            pk=1, series_uid=series_uid, study_uid="1.2", modality="CT", description=series_uid,
            series_number=1, series_on=None, image_count=22, is_volume=True,
            geometry_status=status, warnings=warnings, parts=(part,),
        )  # fmt: skip

    widget = ViewerWorkspace(
        SimpleNamespace(studies=FakeStudies(phases), annotations=None),
        task_runner,
        describe_series=describe,
    )
    qtbot.addWidget(widget)
    widget.set_layout("1x2")
    clean, gapped = widget.views
    open_and_wait(qtbot, widget, "arterial", clean)
    open_and_wait(qtbot, widget, "venous_cut", gapped)
    assert clean.corner_text.text("badge") == ""
    assert "missing slices" in gapped.corner_text.text("badge")
    assert gapped.title == "venous_cut"
    # No measurement on a series whose slice positions cannot be trusted.
    centre = gapped.slice_centre_lps()
    with qtbot.waitSignal(widget.annotations.message) as blocker:
        assert widget.annotations.measure(gapped, "ruler", [centre, centre + 10.0]) is None
    assert "refused" in blocker.args[0]
    widget.release()


def test_double_click_maximises_a_view_and_again_restores_the_layout(
    qtbot, workspace: ViewerWorkspace
) -> None:
    workspace.set_layout("2x2")
    views = workspace.views
    views[2].maximise_requested.emit()
    assert [v.isVisible() for v in views] == [False, False, True, False]
    views[2].maximise_requested.emit()
    assert all(v.isVisible() for v in views)


def test_a_series_chosen_in_mpr_fills_the_three_planes(qtbot, workspace: ViewerWorkspace) -> None:
    workspace.set_layout("mpr")  # nothing shown yet: three empty views
    assert all(v.volume is None for v in workspace.views)
    with qtbot.waitSignals([workspace.volume_shown] * 3, timeout=20_000):
        workspace.open_series("venous_cut")
    assert [v.state.orientation for v in workspace.views] == ["axial", "coronal", "sagittal"]
    assert {v.series_key for v in workspace.views} == {("venous_cut", "")}


# ---------------------------------------------------------------- masks of the other phases


@pytest.fixture
def phase_workspace(qtbot, task_runner, phases):
    """The phases plus a copy of the arterial series in another frame of reference."""
    arterial = phases["arterial"]
    volumes = dict(phases)
    volumes["elsewhere"] = ImageVolume(arterial.voxels, arterial.index_to_lps, "9.9.9.9")
    widget = ViewerWorkspace(SimpleNamespace(studies=FakeStudies(volumes), annotations=None),
                             task_runner)  # fmt: skip
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    yield widget
    widget.release()


def test_a_contour_is_shown_resampled_and_dashed_on_the_other_phase(
    qtbot, phase_workspace: ViewerWorkspace, phases
) -> None:
    from tace_planner.imaging.segmentation import carry_mask

    workspace = phase_workspace
    workspace.set_layout("1x2")
    arterial_view, venous_view = workspace.views
    open_and_wait(qtbot, workspace, "arterial", arterial_view)
    open_and_wait(qtbot, workspace, "venous_10mm", venous_view)
    venous = venous_view.volume
    mask = np.zeros(venous.shape, dtype=bool)
    mask[6:10, 40:60, 40:60] = True
    workspace.set_mask("venous_10mm", "", "F1", mask, "#ff4646", 0.45)
    qtbot.waitUntil(lambda: not workspace.carried.pending, timeout=5_000)
    label = "F1 (from venous_10mm)"
    assert workspace.carried.carried_labels(arterial_view) == [label]
    assert workspace.carried.carried_labels(venous_view) == []  # its own series: the mask itself
    shown = arterial_view.overlays.mask(label)
    assert np.array_equal(shown, carry_mask(mask, venous, phases["arterial"]))
    pen = arterial_view.overlays.outline_pen(label)
    assert pen.style() != pen.style().SolidLine  # dashed: read-only, from another series
    assert pen.color().name() == "#ff4646"  # the lesion's colour
    # An edit is carried again; removing the mask removes it from the other phase.
    mask[6:10, 60:70, 40:60] = True
    workspace.mask_changed("venous_10mm", "", "F1")
    qtbot.waitUntil(lambda: not workspace.carried.pending, timeout=5_000)
    assert arterial_view.overlays.mask(label).sum() > shown.sum()
    workspace.remove_mask("venous_10mm", "", "F1")
    qtbot.waitUntil(lambda: not workspace.carried.pending, timeout=5_000)
    assert arterial_view.overlays.labels == []


def test_a_contour_is_not_carried_to_another_frame_of_reference(
    qtbot, phase_workspace: ViewerWorkspace
) -> None:
    workspace = phase_workspace
    workspace.set_layout("1x2")
    left, right = workspace.views
    open_and_wait(qtbot, workspace, "elsewhere", left)
    open_and_wait(qtbot, workspace, "arterial", right)
    mask = np.zeros(right.volume.shape, dtype=bool)
    mask[15:20, 40:60, 40:60] = True
    workspace.set_mask("arterial", "", "F1", mask, "#ff4646", 0.45)
    qtbot.waitUntil(lambda: not workspace.carried.pending, timeout=5_000)
    assert workspace.carried.carried_labels(left) == []
    assert left.overlays.labels == []


def test_switching_to_another_phase_keeps_the_view_still(
    qtbot, phase_workspace: ViewerWorkspace
) -> None:
    workspace = phase_workspace
    view = workspace.active_view
    open_and_wait(qtbot, workspace, "arterial", view)
    view.show_slice(24)
    view.state.zoom = 2.5
    centre = view.slice_centre_lps() + np.array((15.0, -10.0, 0.0))
    view.state.pan_center_lps = tuple(float(v) for v in centre)
    position, pan = view.slice_position_mm(), view.state.pan_center_lps
    open_and_wait(qtbot, workspace, "venous_10mm", view)  # every 2nd slice: 10 mm apart
    assert view.slice_position_mm() == pytest.approx(position, abs=5.0 + 1e-6)
    assert view.state.zoom == 2.5
    assert view.state.pan_center_lps == pan
    # Another patient space starts afresh, at its middle.
    open_and_wait(qtbot, workspace, "elsewhere", view)
    assert view.state.zoom == 1.0
    assert view.slice_index == view.slice_count // 2
