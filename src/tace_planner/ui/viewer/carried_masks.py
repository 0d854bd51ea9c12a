"""Contours of one series shown on the other phases of the same study, read-only.

The phases of one CT study share a frame of reference: a contour drawn on the
portal-venous series marks the same patient tissue on the arterial series.
As 3D Slicer and ITK-SNAP do, every view shows the masks of the other series
of its study and frame of reference, carried onto its own grid through patient
coordinates (nearest neighbour through the two ``index_to_lps`` affines,
:func:`~tace_planner.imaging.segmentation.resample.resample_mask`). They are
drawn as a dashed outline in the lesion's colour, labelled short, "F1 (PV)", with
the full "F1 (from portal venous)" in the label's tooltip, and are never edited:
the contour tools edit a lesion on its own series only.

A source grid is known when a view shows that series or when its volume is
still in memory (the services' volume cache); nothing is read from disk for
it. Edits are carried again after a short pause (:data:`REFRESH_DELAY_MS`), not
at every brush dab.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, QTimer

from tace_planner.domain.volume import ImageVolume

if TYPE_CHECKING:
    from tace_planner.ui.viewer.slice_view import SliceView
    from tace_planner.ui.viewer.viewer_grid import ViewerWorkspace

VolumeKey = tuple[str, str]
REFRESH_DELAY_MS = 150
"""Pause after the last change of a mask before the other phases show it again."""


#: Short names of the CT phases for labels on a small view (radiology reports' usage).
PHASE_ABBREVIATIONS = (
    ("portal venous", "PV"),
    ("venous", "PV"),
    ("arterial", "art."),
    ("native", "native"),
    ("non-contrast", "native"),
    ("delayed", "delayed"),
)
SHORT_TITLE_CHARS = 8


def carried_label(label: str, source_title: str) -> str:
    """The name of a mask shown on another series: "F1 (from portal venous)"."""
    return f"{label} (from {source_title})"


def carried_text(label: str, source_title: str) -> str:
    """What the label of a carried mask shows: "F1 (PV)", short enough for a 2×2 view.

    The phase's usual abbreviation when the series title names one; else the
    title's first word, cut to :data:`SHORT_TITLE_CHARS` characters.
    """
    title = source_title.lower()
    short = next((abbr for phase, abbr in PHASE_ABBREVIATIONS if phase in title), "")
    if not short:
        first = source_title.split()[0] if source_title.split() else "other series"
        short = first if len(first) <= SHORT_TITLE_CHARS else first[: SHORT_TITLE_CHARS - 1] + "…"
    return f"{label} ({short})"


class CarriedMasks(QObject):
    """Shows each series' masks on the views of the other phases (see the module docstring)."""

    def __init__(self, workspace: ViewerWorkspace) -> None:
        super().__init__(workspace)
        self._workspace = workspace
        self._shown: dict[int, set[str]] = {}  # view number -> labels carried onto it
        self._generation: dict[tuple[VolumeKey, str], int] = {}
        self._cache: dict[tuple[Any, ...], npt.NDArray[np.bool_]] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)

    # ------------------------------------------------------------ triggers
    def source_changed(self, key: VolumeKey, label: str | None = None) -> None:
        """A mask of ``key`` was set, edited or removed (None: all of them): carry it again."""
        labels = [label] if label is not None else list(self._workspace.masks_of(key))
        for name in labels:
            entry = (key, name)
            self._generation[entry] = self._generation.get(entry, 0) + 1
        self._cache = {k: v for k, v in self._cache.items() if self._current(k)}
        self._timer.start()

    def schedule(self) -> None:
        """Refresh every view after the pause (a view got a volume, a grid became known)."""
        self._timer.start()

    @property
    def pending(self) -> bool:
        """True while a refresh waits for its pause."""
        return self._timer.isActive()

    # ------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """Carry every series' masks onto the views of the other phases now."""
        self._timer.stop()
        for number, view in enumerate(self._workspace.all_views):
            self._refresh_view(number, view)

    def carried_labels(self, view: SliceView) -> list[str]:
        """The labels of the masks carried onto ``view`` from other series."""
        number = self._workspace.all_views.index(view)
        return sorted(self._shown.get(number, set()))

    def _refresh_view(self, number: int, view: SliceView) -> None:
        target_key = view.series_key
        volume = view.volume
        wanted: dict[str, tuple[npt.NDArray[np.bool_], Any, str]] = {}
        if target_key is not None and volume is not None and not self._workspace.is_loading(view):
            target = (target_key[0], target_key[1] or "")
            for source_key in self._workspace.mask_keys():
                if source_key == target:
                    continue
                source = self._grid(source_key)
                if source is None or not self._same_space(source_key, source, target, volume):
                    continue
                title = self._workspace.series_title(source_key)
                for label, (mask, colour) in self._workspace.masks_of(source_key).items():
                    if mask.shape != source.shape:
                        continue
                    carried = self._carry(source_key, label, mask, source, target, volume)
                    if carried.any():
                        name = carried_label(label, title)
                        wanted[name] = (carried, colour, carried_text(label, title))
        for stale in self._shown.get(number, set()) - set(wanted):
            view.overlays.remove_mask(stale)
        for label, (carried, colour, text) in wanted.items():
            if view.overlays.mask(label) is carried:
                continue  # unchanged (the cache hands out the same array)
            try:
                view.overlays.set_mask(
                    label,
                    carried,
                    colour,
                    1.0,
                    outline=True,
                    dashed=True,
                    text=text,
                    tooltip=f"{label}: read-only here, edited on its own series",
                )
            except ValueError:
                continue
        self._shown[number] = set(wanted)

    def _carry(
        self,
        source_key: VolumeKey,
        label: str,
        mask: npt.NDArray[np.bool_],
        source: ImageVolume,
        target_key: VolumeKey,
        target: ImageVolume,
    ) -> npt.NDArray[np.bool_]:
        from tace_planner.imaging.segmentation.resample import resample_mask

        generation = self._generation.get((source_key, label), 0)
        cache_key = (source_key, label, generation, target_key, target.shape, id(source))
        carried = self._cache.get(cache_key)
        if carried is None:
            carried = resample_mask(mask, source.index_to_lps, target.index_to_lps, target.shape)
            self._cache[cache_key] = carried
        return carried

    def _current(self, cache_key: tuple[Any, ...]) -> bool:
        source_key, label, generation = cache_key[:3]
        return bool(self._generation.get((source_key, label), 0) == generation)

    # ------------------------------------------------------------ grids
    def _grid(self, key: VolumeKey) -> ImageVolume | None:
        """The volume of a series part if a view shows it or it is in memory (no disk read)."""
        for view in self._workspace.all_views:
            shown = view.series_key
            if (
                shown is not None
                and (shown[0], shown[1] or "") == key
                and view.volume is not None
                and not self._workspace.is_loading(view)
            ):
                return view.volume
        return self._workspace.cached_volume(key)

    def _same_space(
        self, source_key: VolumeKey, source: ImageVolume, target_key: VolumeKey, target: ImageVolume
    ) -> bool:
        """Same (non-empty) frame of reference and, when known, the same study."""
        frame = source.frame_of_reference_uid
        if not frame or frame != target.frame_of_reference_uid:
            return False
        first = self._workspace.study_of(source_key[0])
        second = self._workspace.study_of(target_key[0])
        return first is None or second is None or first == second
