"""Segmentation masks over a slice view: a colour per lesion, opacity, fill or outline, labels.

The contouring workspace shows a mask with ``view.overlays.set_mask("F1",
mask_zyx, colour="#ff5050", opacity=0.4, outline=False)`` (or, for every view
showing a series, ``ViewerWorkspace.set_mask``). A mask belongs to one series
grid: it must have the shape of the volume shown, (z, y, x), bool. It is kept
by reference (no copy); after changing it in place (painting) call
:meth:`MaskOverlay.mask_changed` with the box that changed, or call ``set_mask`` again.

Filled masks of a view are drawn by one ``ImageItem``: each slice change writes
the visible masks' labels into a small uint8 image, inside each mask's
bounding box only, and Qt draws it through a 256-entry colour table.
Outlined masks (the liver; contours carried from another phase, dashed) are
drawn as vector paths along the mask's edge in the plane, with a cosmetic pen
of :data:`OUTLINE_WIDTH_PX` over a dark halo, so that they stay visible at any
zoom and on any grey. A mask's label sits at the top of its outline on the
current plane (where it is on screen), not at a corner of its bounding box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QGraphicsPathItem

from tace_planner.imaging.reformat import PlaneGeometry
from tace_planner.services.contouring_dto import LIVER_LESION_NAME
from tace_planner.ui.viewer.label_placement import (
    LABEL_ANCHORS,
    follow_labels,
    place_after_others,
    relayout_leaders,
    set_extents,
    text_rect,
)

MAX_MASKS = 255
DEFAULT_OPACITY = 0.4
OUTLINE_WIDTH_PX = 2.0
"""Width of an outline on screen, whatever the zoom (a cosmetic pen)."""
HALO_WIDTH_PX = 4.0

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
    dashed: bool = False
    text: str = ""  # what the label shows ("" : the label itself)
    tooltip: str = ""


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


def _is_liver(label: str) -> bool:
    """True for the liver's mask, here or carried from another series ("Liver (from …)")."""
    name = LIVER_LESION_NAME.casefold()
    folded = label.casefold()
    return folded == name or folded.startswith(f"{name} (from ")


def _plane_extent(
    region: npt.NDArray[np.bool_], rows: slice, columns: slice, transform: QTransform
) -> QRectF:
    """The rectangle of the True pixels of ``region`` (at ``rows``, ``columns``), view mm."""
    hit_rows = np.flatnonzero(region.any(axis=1))
    hit_columns = np.flatnonzero(region.any(axis=0))
    pixels = QRectF(
        float(columns.start + hit_columns[0]),
        float(rows.start + hit_rows[0]),
        float(hit_columns[-1] - hit_columns[0] + 1),
        float(hit_rows[-1] - hit_rows[0] + 1),
    )
    return transform.mapRect(pixels)


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
        self._text_homes: dict[str, tuple[float, float]] = {}  # each label's point, view mm
        self._paths: dict[str, tuple[QGraphicsPathItem, QGraphicsPathItem]] = {}  # halo, line
        self._geometry: PlaneGeometry | None = None
        self._index = 0
        self._transform = QTransform()
        self._visible = True
        self._lut = np.zeros((256, 4), dtype=np.uint8)
        self._buffer: npt.NDArray[np.uint8] | None = None
        # Placed again around the measurement labels each time those move.
        follow_labels(view_box, self.relayout_labels)

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
        dashed: bool = False,
        text: str = "",
        tooltip: str = "",
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
            Draw only the outline (in each displayed plane) instead of filling:
            a line of :data:`OUTLINE_WIDTH_PX` screen pixels in ``colour`` (the
            opacity applies to fills only).
        show_label : bool
            Write ``label`` at the top of the mask's outline on the plane.
        dashed : bool
            A dashed outline (a contour carried from another series, read-only).
        text : str, optional
            What the label shows instead of ``label`` (a short form, "F4 (PV)").
        tooltip : str, optional
            Shown when the mouse rests on the label (the full name).

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
            label,
            mask,
            qcolour,
            float(opacity),
            bool(outline),
            show_label,
            _bounding_box(mask),
            bool(dashed),
            text,
            tooltip,
        )
        self._style_path(self._masks[label])
        self._rebuild_lut()
        self.refresh()

    def remove_mask(self, label: str) -> None:
        """Stop showing the mask called ``label`` (no error if absent)."""
        if self._masks.pop(label, None) is not None:
            text = self._texts.pop(label, None)
            self._text_homes.pop(label, None)
            if text is not None:
                self._view_box.removeItem(text)
            for item in self._paths.pop(label, ()):
                self._view_box.removeItem(item)
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
        """Redraw the current plane; the measurement labels then keep off the masks as shown."""
        if self._geometry is not None:
            self.show_plane(self._index, self._transform)
            relayout_leaders(self._view_box)

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
            self._hide_paths()
            set_extents(self._view_box, [])
            return
        shape = geometry.image_shape
        if self._buffer is None or self._buffer.shape != shape:
            self._buffer = np.zeros(shape, dtype=np.uint8)
        labels = self._buffer
        labels.fill(0)
        drawn = False
        extents: list[tuple[QRectF, pg.TextItem | None]] = []
        for number, entry in enumerate(self._masks.values(), start=1):
            region_box = self._plane_box(entry, index)
            region = None
            if region_box is not None:
                rows, columns = region_box
                region = geometry.extract(entry.mask, index)[rows, columns]
            if region is None or not region.any():
                self._hide_text(entry.label)
                self._hide_path(entry.label)
                continue
            if entry.outline:
                self._draw_path(entry, region, rows, columns, transform)
            else:
                labels[rows, columns][region] = number
                drawn = True
            self._place_text(entry, region, rows, columns, transform)
            if not _is_liver(entry.label):
                owner = self._texts.get(entry.label) if entry.show_label else None
                extents.append((_plane_extent(region, rows, columns, transform), owner))
        set_extents(self._view_box, extents)
        self._separate_texts()
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

    # ------------------------------------------------------------ outlines
    def _path_items(self, entry: _Mask) -> tuple[QGraphicsPathItem, QGraphicsPathItem]:
        items = self._paths.get(entry.label)
        if items is None:
            items = (QGraphicsPathItem(), QGraphicsPathItem())
            for z, item in enumerate(items):
                item.setZValue(11 + 0.1 * z)
                item.setVisible(False)
                self._view_box.addItem(item, ignoreBounds=True)
            self._paths[entry.label] = items
            self._style_path(entry)
        return items

    def _style_path(self, entry: _Mask) -> None:
        items = self._paths.get(entry.label)
        if items is None:
            return
        halo_pen = QPen(QColor(0, 0, 0, 170))
        line_pen = QPen(QColor(entry.colour.red(), entry.colour.green(), entry.colour.blue()))
        halo_pen.setWidthF(HALO_WIDTH_PX)
        line_pen.setWidthF(OUTLINE_WIDTH_PX)
        for pen in (halo_pen, line_pen):
            pen.setCosmetic(True)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            if entry.dashed:
                pen.setStyle(Qt.PenStyle.CustomDashLine)
                pen.setDashPattern([4.0, 3.0] if pen is line_pen else [2.5, 1.5])
        items[0].setPen(halo_pen)
        items[1].setPen(line_pen)

    def outline_pen(self, label: str) -> QPen | None:
        """The pen of a mask's outline (None: not an outline); for tests and snapshots."""
        items = self._paths.get(label)
        return None if items is None else items[1].pen()

    def outline_path(self, label: str) -> QPainterPath | None:
        """The outline drawn on the current plane, in view coordinates (None: none shown)."""
        items = self._paths.get(label)
        if items is None or not items[1].isVisible():
            return None
        return items[1].transform().map(items[1].path())

    def _draw_path(
        self,
        entry: _Mask,
        region: npt.NDArray[np.bool_],
        rows: slice,
        columns: slice,
        transform: QTransform,
    ) -> None:
        from skimage.measure import find_contours

        path = QPainterPath()
        # Padded so that a mask touching the box edge still gets a closed outline.
        for contour in find_contours(np.pad(region, 1).astype(np.uint8), 0.5):
            # (row, column) of the padded region -> pixel centres of the ImageItem.
            x = contour[:, 1] - 1 + columns.start + 0.5
            y = contour[:, 0] - 1 + rows.start + 0.5
            path.moveTo(float(x[0]), float(y[0]))
            for u, v in zip(x[1:], y[1:], strict=True):
                path.lineTo(float(u), float(v))
        for item in self._path_items(entry):
            item.setPath(path)
            item.setTransform(transform)
            item.setVisible(True)

    def _hide_path(self, label: str) -> None:
        for item in self._paths.get(label, ()):
            item.setVisible(False)

    def _hide_paths(self) -> None:
        for label in self._paths:
            self._hide_path(label)

    # ------------------------------------------------------------ labels
    def label_position(self, label: str) -> tuple[float, float] | None:
        """Where a mask's label is anchored, in view coordinates (None: not shown)."""
        text = self._texts.get(label)
        if text is None or not text.isVisible():
            return None
        return float(text.pos().x()), float(text.pos().y())

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
            # A dark backing keeps the label readable over liver and bright vessels.
            text = pg.TextItem(
                entry.text or entry.label,
                color=entry.colour,
                anchor=(0.0, 1.0),
                fill=(0, 0, 0, 150),
            )
            text.setZValue(12)
            self._view_box.addItem(text)
            self._texts[entry.label] = text
        if text.toPlainText() != (entry.text or entry.label):
            text.setText(entry.text or entry.label)
        text.setToolTip(entry.tooltip)
        # At the top of the structure as shown (the screen may flip rows or columns):
        # the edge pixel highest on screen, rightmost among equals, at its corner.
        edge_rows, edge_columns = np.nonzero(_outline(region))
        x = (edge_columns + columns.start + 0.5).astype(float)
        y = (edge_rows + rows.start + 0.5).astype(float)
        u = transform.m11() * x + transform.m21() * y + transform.dx()
        v = transform.m12() * x + transform.m22() * y + transform.dy()
        best = int(np.lexsort((-u, v))[0])
        self._text_homes[entry.label] = (float(u[best]), float(v[best]))
        text.setPos(*self._text_homes[entry.label])
        text.setVisible(True)

    def label_rect(self, label: str) -> QRectF | None:
        """The label's box on screen, in scene pixels (None: not shown)."""
        text = self._texts.get(label)
        if text is None or not text.isVisible():
            return None
        return text_rect(self._view_box, text)

    def relayout_labels(self) -> None:
        """Place the labels again for the view's zoom, pan and size (a label is not zoomed)."""
        for label, text in self._texts.items():
            home = self._text_homes.get(label)
            if home is not None and text.isVisible():
                text.setPos(*home)
        self._separate_texts()

    def _separate_texts(self) -> None:
        """Keep a label inside the view, off the measurement labels and the labels before it.

        The measurement and RECIST labels keep their places (they are placed first, see
        :mod:`~tace_planner.ui.viewer.label_placement`): an "F1" sat on "F1 long axis:
        42.3 mm" when both ends met. Each contour label, in mask order, sits above its
        structure's top point; where that covers another label (on the demo, "F7" sat
        on "F1"), another lesion shown on the plane (the liver aside) or leaves the view,
        it goes to the left of the point, below it, or below-left — the first that covers
        none and stays inside — else beside the lesion it covers. When no place is free of
        the other lesions, they are no longer avoided; when none is free of the labels, it
        is moved inside the view and down (else up) past the labels it covers.
        """
        texts = [text for text in self._texts.values() if text.isVisible()]
        place_after_others(self._view_box, texts, [(anchor,) for anchor in LABEL_ANCHORS])

    def _hide_text(self, label: str) -> None:
        text = self._texts.get(label)
        if text is not None:
            text.setVisible(False)

    def _hide_texts(self) -> None:
        for text in self._texts.values():
            text.setVisible(False)
