"""The image viewer: 1×1, 1×2, 2×2 or MPR layouts of slice views, linked by patient position.

:class:`ViewerWorkspace` owns four :class:`SliceView` widgets (one state each),
a :class:`~tace_planner.services.state.ViewLinker`, a :class:`VolumeProvider`
and the masks shown per series. Series open in the active view (selection in
the study tree) or in the view they are dropped on. Measurements drawn in a
view are measured and stored by ``services.annotations`` and shown again on
their plane whenever the series is open.

API for other workspaces (contouring):

- ``workspace.active_view`` → :class:`SliceView`; ``view.volume`` (ImageVolume),
  ``view.series_key`` ((series UID, part)), ``view.slice_position_mm()`` and
  ``view.slice_centre_lps()`` (LPS), ``view.geometry`` (plane mapping).
- ``workspace.set_mask(series_uid, part, label, mask_zyx, colour, opacity, outline)``
  shows a mask on every view of that series (now and when opened later);
  ``mask_changed`` after editing it in place; ``remove_mask``, ``clear_masks``.
- ``workspace.set_tool("custom")`` then ``workspace.pointer_event(view, PointerEvent)``:
  presses, drags, releases and clicks in LPS with the voxel under them.

Masks of one series are also shown, carried through patient coordinates and
read-only (dashed, "F1 (from <series>)"), on the views of the other series of
the same study and frame of reference (:mod:`~tace_planner.ui.viewer.carried_masks`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QGridLayout, QWidget

from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.reformat import acquisition_orientation
from tace_planner.services.dto import SeriesItem
from tace_planner.services.state import ViewLinker
from tace_planner.ui.tasks import TaskRunner
from tace_planner.ui.viewer.annotations_glue import AnnotationGlue
from tace_planner.ui.viewer.carried_masks import CarriedMasks
from tace_planner.ui.viewer.interaction import PointerEvent
from tace_planner.ui.viewer.linked_views import LinkedViews
from tace_planner.ui.viewer.mpr_info import MprInfo
from tace_planner.ui.viewer.overlays import DEFAULT_OPACITY, ColourLike
from tace_planner.ui.viewer.slice_view import SliceView
from tace_planner.ui.viewer.volume_loader import VolumeKey, VolumeProvider
from tace_planner.ui.viewer.window_presets import WindowPresetStore

if TYPE_CHECKING:
    from tace_planner.services.bootstrap import Services

LAYOUTS: dict[str, tuple[tuple[int, int], ...]] = {
    "1x1": ((0, 0),),
    "1x2": ((0, 0), (0, 1)),
    "2x2": ((0, 0), (0, 1), (1, 0), (1, 1)),
    "mpr": ((0, 0), (0, 1), (1, 0)),
}
MPR_ORIENTATIONS = ("axial", "coronal", "sagittal")
#: Smallest width and height of a view in a multi-view layout, pixels: corner text,
#: edge letters and a readable image still fit (the window scrolls no further).
MIN_VIEW_PX = (200, 160)
_PHASE_NAMES = {
    "native": "native",
    "arterial": "arterial",
    "venous": "portal venous",
    "delayed": "delayed",
}
_MaskSpec = tuple[npt.NDArray[np.bool_], ColourLike | None, float, bool]
_ViewPlace = tuple[float, float, tuple[float, float, float]]  # position mm, zoom, pan (LPS)


def _place_of(view: SliceView, volume: ImageVolume, orientation: str | None) -> _ViewPlace | None:
    """Where ``view`` looks, if ``volume`` is another phase of the same space and plane."""
    old = view.volume
    frame = volume.frame_of_reference_uid
    if old is None or not frame or old.frame_of_reference_uid != frame:
        return None
    if (orientation or acquisition_orientation(volume.index_to_lps)) != view.state.orientation:
        return None
    state = view.state
    return state.slice_position_mm, state.zoom, state.pan_center_lps


def _restore_place(view: SliceView, place: _ViewPlace) -> None:
    position_mm, zoom, pan = place
    view.state.zoom = zoom
    view.state.pan_center_lps = pan
    view.show_position(position_mm)


class ViewerWorkspace(QWidget):
    """Slice views in a grid with linking, reference lines, masks and measurements.

    Parameters
    ----------
    services : Services
        The app's services: ``volumes`` (or ``studies.load_series``) to read
        series, ``annotations`` to store measurements (optional).
    tasks : TaskRunner
        Runs the loads.
    describe_series : callable, optional
        ``series_uid -> SeriesItem | None`` (title, modality, geometry report).
    title_series : callable, optional
        ``(series_uid, part) -> title`` of a view (else the series' description).
    presets : WindowPresetStore, optional
        Window presets shared by the views.
    """

    active_view_changed = Signal(object)  # SliceView
    volume_shown = Signal(object)  # SliceView that received its whole volume
    preview_shown = Signal(object, object)  # SliceView, shape (z, y, x) of the whole volume
    load_failed = Signal(str, object)  # title, exception
    pointer_event = Signal(object, object)  # SliceView, PointerEvent (tool "custom")
    layout_changed = Signal(str)  # "1x1", "1x2", "2x2" or "mpr"
    tool_changed = Signal(str)

    def __init__(
        self,
        services: Services,
        tasks: TaskRunner,
        *,
        describe_series: Callable[[str], SeriesItem | None] | None = None,
        title_series: Callable[[str, str], str] | None = None,
        presets: WindowPresetStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("viewer_workspace")
        self._services = services
        self._describe = describe_series
        self._title_series = title_series
        self.presets = presets if presets is not None else WindowPresetStore()
        self.provider = VolumeProvider(services, tasks, self)
        self.annotations = AnnotationGlue(services.annotations, self)
        self._masks: dict[VolumeKey, dict[str, _MaskSpec]] = {}
        self._wanted: dict[int, tuple[VolumeKey, str | None]] = {}  # view number -> key, plane
        self._kept: dict[int, _ViewPlace] = {}  # view number -> place to keep until loaded
        self._previews: set[int] = set()  # views showing a preview of what they wait for
        self._views = [SliceView(self, presets=self.presets) for _ in range(4)]
        for view in self._views:
            view.setMinimumSize(*MIN_VIEW_PX)
        self._active = self._views[0]
        self._layout_name = "1x1"
        self._maximised: SliceView | None = None
        self._tool = "window"
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.mpr_info = MprInfo(self)  # the MPR layout's fourth cell
        self.mpr_info.hide()
        for view in self._views:
            view.activated.connect(self._on_view_activated)
            view.slice_changed.connect(self._on_view_slice_changed)
            view.series_dropped.connect(self._on_view_series_dropped)
            view.maximise_requested.connect(self._on_view_maximise_requested)
            view.pointer_event.connect(self._on_view_pointer_event)
            view.measurement_drawn.connect(self._on_view_measurement_drawn)
        self.provider.preview_ready.connect(self._on_provider_preview_ready)
        self.provider.volume_ready.connect(self._on_provider_volume_ready)
        self.provider.load_failed.connect(self._on_provider_load_failed)
        self.linking = LinkedViews(self)
        self.carried = CarriedMasks(self)
        self.set_layout("1x1")
        self._active.set_active(True)

    # ------------------------------------------------------------ views
    @property
    def views(self) -> list[SliceView]:
        """The views of the current layout, in reading order."""
        return self._views[: len(LAYOUTS[self._layout_name])]

    @property
    def all_views(self) -> list[SliceView]:
        """All four views, shown or not."""
        return list(self._views)

    @property
    def active_view(self) -> SliceView:
        """The view that receives series, keys and toolbar actions."""
        return self._active

    @property
    def layout_name(self) -> str:
        """ "1x1", "1x2", "2x2" or "mpr"."""
        return self._layout_name

    def set_active_view(self, view: SliceView) -> None:
        """Make ``view`` the active one."""
        if view is self._active:
            return
        self._active.set_active(False)
        self._active = view
        view.set_active(True)
        self.active_view_changed.emit(view)

    def set_layout(self, name: str) -> None:
        """Show ``name`` ("1x1", "1x2", "2x2" or "mpr"); MPR shows the active series three ways.

        Raises
        ------
        ValueError
            Unknown layout.
        """
        if name not in LAYOUTS:
            raise ValueError(f"layout must be one of {tuple(LAYOUTS)}, got {name!r}")
        self._layout_name = name
        self._maximised = None
        self._place_views()
        if self._active not in self.views:
            self.set_active_view(self._views[0])
        if name == "mpr":
            self._fill_mpr()
        self.linking.update_references()
        self.layout_changed.emit(name)

    def _fill_mpr(self) -> None:
        source = self._active if self._active.volume is not None else self._views[0]
        key = source.series_key
        if key is None:
            return
        for view, orientation in zip(self._views[:3], MPR_ORIENTATIONS, strict=True):
            self.open_series(*key, view=view, orientation=orientation, title=source.title)
        self.set_crosshair(True)

    def _place_views(self) -> None:
        """Put the views of the layout (or the maximised one alone) in equal rows and columns."""
        cells = LAYOUTS[self._layout_name]
        shown = self.views if self._maximised is None else [self._maximised]
        for view in self._views:
            self._grid.removeWidget(view)
            if view not in shown:
                view.hide()
        if self._maximised is not None:
            self._grid.addWidget(self._maximised, 0, 0)
            cells = ((0, 0),)
        else:
            for view, (row, column) in zip(self._views, cells, strict=False):
                self._grid.addWidget(view, row, column)
        rows = {row for row, _ in cells}
        columns = {column for _, column in cells}
        for index in range(2):  # equal shares: a view never squashes its neighbours
            self._grid.setRowStretch(index, 1 if index in rows else 0)
            self._grid.setColumnStretch(index, 1 if index in columns else 0)
        for view in shown:
            view.show()
        self._grid.removeWidget(self.mpr_info)
        shown_cell = self._mpr_cell_shown()
        if shown_cell:
            self._grid.addWidget(self.mpr_info, 1, 1)
            self.mpr_info.update_from(self.views)
        self.mpr_info.setVisible(shown_cell)

    def _mpr_cell_shown(self) -> bool:
        """True while the MPR layout shows its fourth cell (not while a view is enlarged);
        not ``isVisible``, which is False too while another workspace page is shown."""
        return self._layout_name == "mpr" and self._maximised is None

    @property
    def maximised_view(self) -> SliceView | None:
        """The view shown alone after a double click, or None."""
        return self._maximised

    def toggle_maximised(self, view: SliceView) -> None:
        """Show ``view`` alone over the whole layout; for the maximised view, restore the layout."""
        if view not in self.views:
            return
        self._maximised = None if self._maximised is view else view
        self._place_views()
        self.set_active_view(view)
        self.linking.update_references()

    @Slot(int)
    def _on_view_slice_changed(self, _index: int) -> None:
        if self._mpr_cell_shown() and self.sender() in self.views:
            self.mpr_info.update_from(self.views)

    @Slot()
    def _on_view_maximise_requested(self) -> None:
        view = self.sender()
        if isinstance(view, SliceView):
            self.toggle_maximised(view)

    # ------------------------------------------------------------ opening
    def open_series(
        self,
        series_uid: str,
        part: str = "",
        *,
        view: SliceView | None = None,
        orientation: str | None = None,
        title: str | None = None,
    ) -> None:
        """Open a series part in ``view`` (the active view when None); loads off the GUI thread.

        Raises
        ------
        Exception
            What the service raises at once (unknown series).
        """
        if view is None and orientation is None and self._layout_name == "mpr":
            for mpr_view, plane in zip(self._views[:3], MPR_ORIENTATIONS, strict=True):
                self.open_series(series_uid, part, view=mpr_view, orientation=plane, title=title)
            return
        target = view if view is not None else self._active
        key: VolumeKey = (series_uid, part or "")
        number = self._views.index(target)
        previous = self._wanted.get(number)
        self._wanted[number] = (key, orientation)
        if previous is not None and not any(k == previous[0] for k, _ in self._wanted.values()):
            self.provider.cancel(previous[0])  # nobody waits for it any more
        try:  # a part in memory arrives during the call: the view must be waiting already
            self.provider.request(series_uid, part, title or self._title_of(key))
        except Exception:
            self._wanted.pop(number, None)
            raise

    def close_series_except(self, keep: Callable[[str], bool]) -> int:
        """Empty every view showing (or loading) a series that ``keep(series_uid)`` refuses.

        The main window calls it when another patient is chosen, so that no view
        goes on showing the previous patient's images. Returns the views emptied.
        """
        emptied = 0
        for number, view in enumerate(self._views):
            wanted = self._wanted.get(number)
            if wanted is not None and not keep(wanted[0][0]):
                del self._wanted[number]
                self._previews.discard(number)
                self._kept.pop(number, None)
                if not any(k == wanted[0] for k, _ in self._wanted.values()):
                    self.provider.cancel(wanted[0])
            key = view.series_key
            if key is not None and not keep(key[0]):
                self.linking.leave(view)
                view.clear()
                emptied += 1
        self.linking.update_references()
        if self._mpr_cell_shown():  # an emptied view emits no slice change
            self.mpr_info.update_from(self.views)
        return emptied

    def _title_of(self, key: VolumeKey) -> str:
        if self._title_series is not None:
            return self._title_series(*key)
        series = self._describe(key[0]) if self._describe is not None else None
        if series is None:
            return key[0] if not key[1] else f"{key[0]} — {key[1]}"
        label = series.label
        return f"{label} — {key[1]}" if key[1] else label

    def _series_facts(self, key: VolumeKey) -> dict[str, Any]:
        series = self._describe(key[0]) if self._describe is not None else None
        if series is None:
            return {"modality": "", "geometry_status": "", "geometry_warnings": ()}
        part = next((p for p in series.parts if (p.part or "") == key[1]), None)
        status = part.geometry_status if part is not None else series.geometry_status
        warnings = part.warnings if part is not None else series.warnings
        return {
            "modality": series.modality,
            "geometry_status": status,
            "geometry_warnings": tuple(warnings),
        }

    def _views_wanting(self, key: VolumeKey) -> list[tuple[SliceView, str | None]]:
        return [(self._views[n], o) for n, (k, o) in self._wanted.items() if k == key]

    def _on_provider_preview_ready(
        self, key: VolumeKey, preview: ImageVolume, shape_zyx: tuple[int, int, int]
    ) -> None:
        for view, orientation in self._views_wanting(key):
            if orientation not in (None, acquisition_orientation(preview.index_to_lps)):
                continue  # a few acquired slices make no preview of another plane
            self._show_volume(view, key, preview, orientation, preview=True)
            self._previews.add(self._views.index(view))
            self.preview_shown.emit(view, shape_zyx)

    def _on_provider_volume_ready(self, key: VolumeKey, volume: ImageVolume) -> None:
        for view, orientation in self._views_wanting(key):
            number = self._views.index(view)
            del self._wanted[number]
            if number in self._previews and view.series_key == key:
                # Same grid, more slices: keep position, window, zoom and pan.
                view.set_volume(
                    volume,
                    view.window_hu,
                    series_key=key,
                    title=self.provider.title(key),
                    keep_view=True,
                    **self._series_facts(key),
                )
                kept = self._kept.pop(number, None)
                if kept is not None:  # the preview's few slices clamped the position
                    _restore_place(view, kept)
                self._show_masks(view, key)
                self.linking.join(view)
            else:
                self._show_volume(view, key, volume, orientation)
            self._previews.discard(number)
            self.annotations.show_on(view)
            self.linking.update_references()
            self.volume_shown.emit(view)

    def _on_provider_load_failed(self, key: VolumeKey, error: BaseException) -> None:
        for view, _ in self._views_wanting(key):
            del self._wanted[self._views.index(view)]
        self.load_failed.emit(self.provider.title(key), error)

    def _show_volume(
        self,
        view: SliceView,
        key: VolumeKey,
        volume: ImageVolume,
        orientation: str | None,
        *,
        preview: bool = False,
    ) -> None:
        """Show a new volume in ``view``, then join the linked group.

        Another phase of the patient space shown before (same frame of
        reference and plane) keeps the view where it was: the same patient
        position, zoom and pan, so that switching phases does not move the
        image under the cursor. Anything else starts at the middle plane.
        """
        number = self._views.index(view)
        kept = self._kept.pop(number, None) or _place_of(view, volume, orientation)
        if preview and kept is not None:
            self._kept[number] = kept
        self.linking.leave(view)
        view.overlays.clear_masks()
        view.set_volume(
            volume,
            orientation=orientation,
            series_key=key,
            title=self.provider.title(key),
            **self._series_facts(key),
        )
        view.show_slice(view.slice_count // 2)
        if kept is not None:
            _restore_place(view, kept)
        self._show_masks(view, key)
        view.set_tool(self._tool)
        self.linking.join(view)

    def _show_masks(self, view: SliceView, key: VolumeKey) -> None:
        for label, (mask, colour, opacity, outline) in self._masks.get(key, {}).items():
            if view.volume is not None and mask.shape == view.volume.shape:
                view.overlays.set_mask(label, mask, colour, opacity, outline)
        self.carried.schedule()  # this view may show other phases' masks, or lend its grid

    # ------------------------------------------------------------ for CarriedMasks
    def mask_keys(self) -> list[VolumeKey]:
        """The series parts that have masks."""
        return [key for key, masks in self._masks.items() if masks]

    def masks_of(self, key: VolumeKey) -> dict[str, tuple[npt.NDArray[np.bool_], Any]]:
        """The masks set on a series part: label -> (mask, colour)."""
        return {label: (spec[0], spec[1]) for label, spec in self._masks.get(key, {}).items()}

    def is_loading(self, view: SliceView) -> bool:
        """True while ``view`` waits for a volume (it may show a preview meanwhile)."""
        return self._views.index(view) in self._wanted

    def series_title(self, key: VolumeKey) -> str:
        """A short name of a series part for labels: its CT phase ("portal venous"), else
        its title."""
        series = self._describe(key[0]) if self._describe is not None else None
        phase = _PHASE_NAMES.get(series.phase, "") if series is not None else ""
        if phase:
            return f"{phase} — {key[1]}" if key[1] else phase
        return self._title_of(key)

    def study_of(self, series_uid: str) -> str | None:
        """The study UID of a series (None: not known)."""
        series = self._describe(series_uid) if self._describe is not None else None
        return None if series is None or not series.study_uid else series.study_uid

    def cached_volume(self, key: VolumeKey) -> ImageVolume | None:
        """A series part's volume if it is still in memory (never read from disk here)."""
        loader = getattr(self._services, "volumes", None)
        cached = getattr(loader, "cached", None)
        return None if cached is None else cached(key[0], key[1] or None)

    # ------------------------------------------------------------ masks (contouring API)
    def set_mask(
        self,
        series_uid: str,
        part: str,
        label: str,
        mask_zyx: npt.NDArray[np.bool_],
        colour: ColourLike | None = None,
        opacity: float = DEFAULT_OPACITY,
        outline: bool = False,
    ) -> None:
        """Show a mask on every view of (series, part), now and whenever it is opened.

        Raises
        ------
        ValueError
            The mask does not fit the volume shown (see ``MaskOverlay.set_mask``).
        """
        key: VolumeKey = (series_uid, part or "")
        self._masks.setdefault(key, {})[label] = (mask_zyx, colour, opacity, outline)
        for view in self._views:
            if view.series_key == key and view.volume is not None:
                view.overlays.set_mask(label, mask_zyx, colour, opacity, outline)
        self.carried.source_changed(key, label)

    def mask_changed(
        self,
        series_uid: str,
        part: str,
        label: str,
        changed_box: tuple[slice, slice, slice] | None = None,
    ) -> None:
        """A mask shown with :meth:`set_mask` was edited in place: redraw it everywhere."""
        key: VolumeKey = (series_uid, part or "")
        for view in self._views:
            if view.series_key == key:
                view.overlays.mask_changed(label, changed_box)
        self.carried.source_changed(key, label)

    def remove_mask(self, series_uid: str, part: str, label: str) -> None:
        """Stop showing one mask of a series."""
        key: VolumeKey = (series_uid, part or "")
        self._masks.get(key, {}).pop(label, None)
        for view in self._views:
            if view.series_key == key:
                view.overlays.remove_mask(label)
        self.carried.source_changed(key, label)

    def clear_masks(self, series_uid: str | None = None, part: str = "") -> None:
        """Remove the masks of one series, or of every series."""
        for key in list(self._masks):
            if series_uid is None or key == (series_uid, part or ""):
                del self._masks[key]
        for view in self._views:
            if series_uid is None or view.series_key == (series_uid, part or ""):
                view.overlays.clear_masks()
        self.carried.schedule()

    # ------------------------------------------------------------ tools and linking
    @property
    def tool(self) -> str:
        """The left-button tool of every view."""
        return self._tool

    def set_tool(self, tool: str) -> None:
        """Choose the left-button tool of every view (see ``tools.TOOLS``)."""
        for view in self._views:
            view.set_tool(tool)
        self._tool = tool
        self.tool_changed.emit(tool)

    @property
    def linker(self) -> ViewLinker:
        """The Qt-free linker of the views' states."""
        return self.linking.linker

    def set_linking(self, enabled: bool) -> None:
        """Switch linked scrolling, zoom and pan on or off for all views."""
        self.linking.set_linking(enabled)

    def set_view_linked(self, view: SliceView, linked: bool) -> None:
        """Take one view in or out of the linked group."""
        self.linking.set_view_linked(view, linked)

    @property
    def crosshair(self) -> bool:
        """True when reference lines and the linked cursor are shown."""
        return self.linking.crosshair

    def set_crosshair(self, visible: bool) -> None:
        """Show where the other views' planes cut each view, and the mouse's twin point."""
        self.linking.set_crosshair(visible)
        self.layout_changed.emit(self._layout_name)

    # ------------------------------------------------------------ view signals
    @Slot()
    def _on_view_activated(self) -> None:
        view = self.sender()
        if isinstance(view, SliceView):
            self.set_active_view(view)

    @Slot(str, str)
    def _on_view_series_dropped(self, series_uid: str, part: str) -> None:
        view = self.sender()
        if not isinstance(view, SliceView):
            return
        try:
            self.open_series(series_uid, part, view=view)
        except Exception as error:  # noqa: BLE001 - reported to the user, app keeps running
            self.load_failed.emit(series_uid, error)

    def _on_view_pointer_event(self, event: PointerEvent) -> None:
        self.pointer_event.emit(self.sender(), event)

    def _on_view_measurement_drawn(self, kind: str, points: object) -> None:
        view = self.sender()
        if isinstance(view, SliceView):
            self.annotations.measure(view, kind, list(points))  # type: ignore[call-overload]

    # ------------------------------------------------------------ snapshot
    def save_snapshot(self, path: str | Path, overlays: bool = True) -> Path:
        """Save the active view as a PNG (see ``SliceView.save_snapshot``)."""
        return self._active.save_snapshot(path, overlays)

    def release(self) -> None:
        """Cancel loads and disconnect the views from their states (before closing)."""
        self.provider.cancel_all()
        self.linking.release()
        for view in self._views:
            view.release_state()
