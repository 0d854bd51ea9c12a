"""Measurements between the views and ``services.annotations``: measure, store, list, show, delete.

Keeps the stored measurements of each open series part, draws them in every
view of that part, and turns a drawing finished in a view into one service
call (measure and store). Without an annotation service (fake services in
tests) measurements are not stored and the user is told so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from tace_planner.ui.viewer.slice_view import SliceView
    from tace_planner.ui.viewer.viewer_grid import ViewerWorkspace

VolumeKey = tuple[str, str]


class AnnotationGlue(QObject):
    """The measurement side of a :class:`ViewerWorkspace` (see the module docstring).

    ``changed`` is emitted after the stored measurements of a part changed;
    ``message`` carries a sentence for the status bar.
    """

    changed = Signal()
    message = Signal(str)

    def __init__(self, service: Any, workspace: ViewerWorkspace) -> None:
        super().__init__(workspace)
        self._service = service
        self._workspace = workspace
        self._items: dict[VolumeKey, list[Any]] = {}

    @property
    def available(self) -> bool:
        """True when measurements can be stored."""
        return self._service is not None

    def items_for(self, key: VolumeKey | None) -> list[Any]:
        """The stored measurements (``AnnotationItem``) of a part, loading them once."""
        if key is None or self._service is None:
            return []
        if key not in self._items:
            try:
                self._items[key] = list(self._service.list_for_series(key[0], key[1] or None))
            except Exception as error:  # noqa: BLE001 - the images stay usable without them
                self.message.emit(f"Measurements could not be read: {error}")
                self._items[key] = []
        return self._items[key]

    def reload(self, key: VolumeKey) -> None:
        """Read a part's measurements again and redraw them."""
        self._items.pop(key, None)
        for view in self._workspace.all_views:
            if view.series_key == key:
                self.show_on(view)
        self.changed.emit()

    def show_on(self, view: SliceView) -> None:
        """Draw the stored measurements of the view's part."""
        items = self.items_for(view.series_key)
        view.measurements.set_annotations([(item.pk, item.annotation) for item in items])

    def measure(self, view: SliceView, kind: str, points_lps: list[np.ndarray]) -> Any:
        """Measure and store what was drawn in ``view``; the stored item, or None."""
        key, volume = view.series_key, view.volume
        if key is None or volume is None:
            return None
        if view.geometry_status == "unmeasurable":
            self.message.emit(
                f"{kind.capitalize()} refused: the slice positions of this series cannot be "
                "trusted (see the red badge)"
            )
            return None
        if self._service is None:
            self.message.emit("Measurements are not stored here (no annotation service)")
            return None
        try:
            item = self._service.add_measurement(
                key[0],
                key[1] or None,
                kind,
                [tuple(float(v) for v in p) for p in points_lps],
                volume=volume,
                orientation=view.state.orientation,
                unit="" if view.modality == "MR" else "HU",
            )
        except Exception as error:  # noqa: BLE001 - a bad drawing must not stop the viewer
            self.message.emit(f"{kind.capitalize()} not saved: {error}")
            return None
        self.reload(key)
        self.message.emit(f"Saved: {item.summary()}")
        return item

    def delete(self, pk: int) -> bool:
        """Delete a stored measurement of any open part; True when done."""
        if self._service is None:
            return False
        key = self._key_of(pk)
        try:
            self._service.delete(pk)
        except Exception as error:  # noqa: BLE001 - reported, nothing else changes
            self.message.emit(f"Measurement not deleted: {error}")
            return False
        if key is not None:
            self.reload(key)
        return True

    def jump_to(self, pk: int, view: SliceView) -> bool:
        """Show the plane of a measurement in ``view`` (same part), centred on it, selected."""
        item = next((i for i in self.items_for(view.series_key) if i.pk == pk), None)
        if item is None:
            return False
        annotation = item.annotation
        if annotation.orientation and annotation.orientation != view.state.orientation:
            view.set_orientation(annotation.orientation)
        view.centre_on(np.asarray(annotation.points_lps[0], dtype=float))
        for other in self._workspace.all_views:
            other.measurements.select(pk if other.series_key == view.series_key else None)
        return True

    def _key_of(self, pk: int) -> VolumeKey | None:
        for key, items in self._items.items():
            if any(item.pk == pk for item in items):
                return key
        return None
