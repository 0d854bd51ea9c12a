"""Segmentation masks over a slice view: a colour per lesion, opacity, fill or outline, labels.

The contouring workspace shows a mask with ``view.overlays.set_mask("F1",
mask_zyx, colour="#ff5050", opacity=0.4, outline=False)`` (or, for every view
showing a series, ``ViewerWorkspace.set_mask``). A mask belongs to one series
grid: it must have the shape of the volume shown, (z, y, x), bool. It is kept
by reference (no copy); after changing it in place (painting) call
:meth:`MaskOverlay.mask_changed` with the box that changed, or call ``set_mask`` again.

All masks of a view are drawn by one ``ImageItem``: each slice change writes
the visible masks' labels into a small uint8 image, inside each mask's
bounding box only, and Qt draws it through a 256-entry colour table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtGui import QColor, QTransform

from tace_planner.imaging.reformat import PlaneGeometry

MAX_MASKS = 255
DEFAULT_OPACITY = 0.4

ColourLike = str | tuple[int, int, int] | tuple[int, int, int, int] | QColor

#: Distinct lesion colours (colour-blind-safe Okabe–Ito order, then extras).
LESION_COLOURS = (
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#f0e442",
    "#0072b2",
    "#d55e00",
    "#cc79a7",
    "#ff4d4d",
    "#7fff7f",
    "#b48cff",
)


def lesion_colour(index: int) -> str:
    """A distinct colour for the ``index``-th lesion."""
    return LESION_COLOURS[index % len(LESION_COLOURS)]


@dataclass
class _Mask:
    label: str
    mask: npt.NDArray[np.bool_]
    colour: QColor
    opacity: float
    outline: bool
    show_label: bool
    box: tuple[slice, slice, slice] | None  # bounding box (z, y, x) of the True voxels


def _bounding_box(mask: npt.NDArray[np.bool_]) -> tuple[slice, slice, slice] | None:
    bounds = []
    for axis in range(3):
        others = tuple(a for a in range(3) if a != axis)
        hit = np.flatnonzero(mask.any(axis=others))
        if hit.size == 0:
            return None
        bounds.append(slice(int(hit[0]), int(hit[-1]) + 1))
    z, y, x = bounds
    return z, y, x


def _outline(region: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Pixels of ``region`` with a 4-neighbour outside it (edges count as outside)."""
    padded = np.pad(region, 1)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:] & region
    boundary: npt.NDArray[np.bool_] = region & ~interior
    return boundary


class MaskOverlay:
    """The masks drawn over one slice view (see the module docstring for the API)."""

    def __init__(self, view_box: pg.ViewBox) -> None:
        self._view_box = view_box
        self._item = pg.ImageItem(axisOrder="row-major")
        self._item.setZValue(10)
        self._item.setVisible(False)
        view_box.addItem(self._item)
        self._masks: dict[str, _Mask] = {}
        self._texts: dict[str, pg.TextItem] = {}
        self._geometry: PlaneGeometry | None = None
        self._index = 0
        self._transform = QTransform()
        self._visible = True
        self._lut = np.zeros((256, 4), dtype=np.uint8)
        self._buffer: npt.NDArray[np.uint8] | None = None

    # ------------------------------------------------------------ API
    @property
    def labels(self) -> list[str]:
        """Labels of the masks, in drawing order."""
        return list(self._masks)

    @property
    def image_item(self) -> pg.ImageItem:
        """The item that draws the masks (for tests)."""
        return self._item

    def mask(self, label: str) -> npt.NDArray[np.bool_] | None:
        """The mask shown under ``label``, or None."""
        entry = self._masks.get(label)
        return None if entry is None else entry.mask

    def set_mask(
        self,
        label: str,
        mask_zyx: npt.NDArray[np.bool_],
        colour: ColourLike | None = None,
        opacity: float = DEFAULT_OPACITY,
        outline: bool = False,
        *,
        show_label: bool = True,
    ) -> None:
        """Show (or replace) the mask called ``label``.

        Parameters
        ----------
        label : str
            Name of the lesion or organ ("F1", "liver"); drawn next to the mask
            when ``show_label``.
        mask_zyx : numpy.ndarray of bool, shape (z, y, x)
            On the grid of the volume shown (same shape). Kept by reference.
        colour : str, tuple or QColor, optional
            Defaults to a distinct lesion colour.
        opacity : float
            0 (invisible) to 1 (opaque).
        outline : bool
            Draw only the outline (in each displayed plane) instead of filling.

        Raises
        ------
        ValueError
            Wrong shape or dtype, opacity outside [0, 1], or too many masks.
        """
        mask = np.asarray(mask_zyx)
        if mask.dtype != np.bool_:
            raise ValueError(f"mask {label!r} must be bool, got {mask.dtype}")
        if self._geometry is not None and mask.shape != self._geometry.shape_zyx:
            raise ValueError(
                f"mask {label!r} has shape {mask.shape}, the volume shown "
                f"{self._geometry.shape_zyx}: a mask is drawn on its own series grid only"
            )
        if not 0.0 <= opacity <= 1.0:
            raise ValueError(f"opacity must be between 0 and 1, got {opacity}")
        if label not in self._masks and len(self._masks) >= MAX_MASKS:
            raise ValueError(f"at most {MAX_MASKS} masks per view")
        if colour is None:
            qcolour = QColor(lesion_colour(len(self._masks)))
        elif isinstance(colour, tuple):
            qcolour = QColor(*colour)
        else:
            qcolour = QColor(colour)
        self._masks[label] = _Mask(
            label, mask, qcolour, float(opacity), bool(outline), show_label, _bounding_box(mask)
        )
        self._rebuild_lut()
        self.refresh()

    def remove_mask(self, label: str) -> None:
        """Stop showing the mask called ``label`` (no error if absent)."""
        if self._masks.pop(label, None) is not None:
            text = self._texts.pop(label, None)
            if text is not None:
                self._view_box.removeItem(text)
            self._rebuild_lut()
            self.refresh()

    def clear_masks(self) -> None:
        """Remove every mask."""
        for label in list(self._masks):
            self.remove_mask(label)

    def set_visible(self, visible: bool) -> None:
        """Show or hide all masks and labels (snapshots without overlays)."""
        self._visible = visible
        self.refresh()

    def mask_changed(
        self, label: str, changed_box: tuple[slice, slice, slice] | None = None
    ) -> None:
        """A mask was changed in place: grow its bounding box and redraw.

        Parameters
        ----------
        label : str
            The mask.
        changed_box : tuple of 3 slices, optional
            (z, y, x) slices holding every voxel that changed; None rescans the
            whole mask (a full pass over it: avoid it for every brush stroke).
        """
        entry = self._masks.get(label)
        if entry is None:
            return
        if changed_box is None or entry.box is None:
            entry.box = _bounding_box(entry.mask)
        else:
            entry.box = tuple(  # type: ignore[assignment]
                slice(min(old.start, new.start or 0), max(old.stop, new.stop or size))
                for old, new, size in zip(entry.box, changed_box, entry.mask.shape, strict=True)
            )
        self.refresh()

    def refresh(self) -> None:
        """Redraw the current plane."""
        if self._geometry is not None:
            self.show_plane(self._index, self._transform)

    # ------------------------------------------------------------ view side
    def set_geometry(self, geometry: PlaneGeometry | None) -> None:
        """The plane orientation of the volume shown; masks of another shape are dropped."""
        self._geometry = geometry
        self._buffer = None
        if geometry is not None:
            for label in [k for k, m in self._masks.items() if m.mask.shape != geometry.shape_zyx]:
                self.remove_mask(label)

    def show_plane(self, index: int, transform: QTransform) -> None:
        """Draw plane ``index`` with the slice view's pixel-to-screen transform."""
        self._index = index
        self._transform = transform
        geometry = self._geometry
        if geometry is None or not self._masks or not self._visible:
            self._item.setVisible(False)
            self._hide_texts()
            return
        shape = geometry.image_shape
        if self._buffer is None or self._buffer.shape != shape:
            self._buffer = np.zeros(shape, dtype=np.uint8)
        labels = self._buffer
        labels.fill(0)
        drawn = False
        for number, entry in enumerate(self._masks.values(), start=1):
            region_box = self._plane_box(entry, index)
            if region_box is None:
                self._hide_text(entry.label)
                continue
            rows, columns = region_box
            region = geometry.extract(entry.mask, index)[rows, columns]
            if entry.outline:
                region = _outline(region)
            if not region.any():
                self._hide_text(entry.label)
                continue
            labels[rows, columns][region] = number
            drawn = True
            self._place_text(entry, region, rows, columns, transform)
        self._item.setVisible(drawn)
        if drawn:
            self._item.setImage(labels, levels=(0.0, 256.0), autoLevels=False)
            self._item.setTransform(transform)

    def _plane_box(self, entry: _Mask, index: int) -> tuple[slice, slice] | None:
        geometry = self._geometry
        if entry.box is None or geometry is None:
            return None
        along = entry.box[geometry.slice_axis]
        if not along.start <= index < along.stop:
            return None
        return entry.box[geometry.row_axis], entry.box[geometry.column_axis]

    def _rebuild_lut(self) -> None:
        self._lut[:] = 0
        for number, entry in enumerate(self._masks.values(), start=1):
            c = entry.colour
            self._lut[number] = (c.red(), c.green(), c.blue(), round(255 * entry.opacity))
        self._item.setLookupTable(self._lut.copy())

    # ------------------------------------------------------------ labels
    def _place_text(
        self,
        entry: _Mask,
        region: npt.NDArray[np.bool_],
        rows: slice,
        columns: slice,
        transform: QTransform,
    ) -> None:
        if not entry.show_label:
            return
        text = self._texts.get(entry.label)
        if text is None:
            text = pg.TextItem(entry.label, color=entry.colour, anchor=(0.0, 1.0))
            text.setZValue(12)
            self._view_box.addItem(text)
            self._texts[entry.label] = text
        hit_rows = np.flatnonzero(region.any(axis=1))
        hit_columns = np.flatnonzero(region.any(axis=0))
        # Top right corner of the region in this plane, in item coordinates.
        corner = transform.map(
            float(columns.start + hit_columns[-1] + 1), float(rows.start + hit_rows[0])
        )
        text.setPos(corner[0], corner[1])
        text.setVisible(True)

    def _hide_text(self, label: str) -> None:
        text = self._texts.get(label)
        if text is not None:
            text.setVisible(False)

    def _hide_texts(self) -> None:
        for text in self._texts.values():
            text.setVisible(False)
