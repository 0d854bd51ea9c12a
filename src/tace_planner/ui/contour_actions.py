"""More contour tools: liver and 2D auto contour clicks, polygon fill, clean-up, brush cursor.

:class:`ContourActionsMixin` is mixed into
:class:`~tace_planner.ui.contour_tools.ContourController`; every edit becomes one
undoable command through the controller's ``_push_edit``. :class:`ToolOverlay`
draws the brush cursor (a circle of the brush radius following the mouse on the
active view) and the outline being drawn by the polygon tool.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF
from PySide6.QtGui import QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGraphicsEllipseItem,
    QLabel,
    QMessageBox,
    QToolBar,
    QWidget,
)

from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.plausibility import ImplausibleClickError, judge_parenchyma
from tace_planner.imaging.segmentation import (
    brush_footprint,
    fill_holes,
    interpolate_between_slices,
    remove_islands,
    smooth_mask,
)
from tace_planner.imaging.segmentation.interactive import click_contour

if TYPE_CHECKING:
    from tace_planner.services.contouring import ContouringService
    from tace_planner.ui.contour_tools import _Lesion

BRUSH_TOOLS = ("brush", "erase", "threshold")
"""Tools that show the brush cursor."""

CLEAN_UPS: dict[str, str] = {
    "fill_between": "fill between slices",
    "fill_holes": "fill holes",
    "smooth": "smooth",
    "remove_islands": "remove islands",
}
"""Menu clean-ups of the selected lesion: key → undo text."""

DEFAULT_THRESHOLD_HU = (40.0, 200.0)


def clean_up_mask(
    kind: str, mask: npt.NDArray[np.bool_], spacing_mm: Sequence[float]
) -> npt.NDArray[np.bool_]:
    """The mask after one of :data:`CLEAN_UPS` (a new array)."""
    if kind == "fill_between":
        return interpolate_between_slices(mask, spacing_mm)
    if kind == "fill_holes":
        return fill_holes(mask)
    if kind == "smooth":
        # About one in-plane voxel: 1 mm does not change a mask on a 3 mm grid.
        return smooth_mask(mask, spacing_mm, sigma_mm=max(1.0, *spacing_mm[1:]))
    if kind == "remove_islands":
        return remove_islands(mask, spacing_mm, keep_largest=True)
    raise ValueError(f"unknown clean-up {kind!r}")


def ask_yes_no(parent: QWidget | None, title: str, question: str) -> bool:
    """A Yes/No question whose default answer is No."""
    answer = QMessageBox.question(
        parent,
        title,
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_contour_anyway(parent: QWidget | None, question: str) -> bool:
    """Ask whether to contour a click on fat, bone, parenchyma or outside the liver
    (patched in tests)."""
    return ask_yes_no(parent, "Contour this click?", question)


def ask_new_lesion(parent: QWidget | None, question: str) -> bool:
    """Ask whether a click at a follow-up contours a new lesion (patched in tests)."""
    return ask_yes_no(parent, "New lesion at a follow-up?", question)


def new_lesion_question(timepoint: str, name: str, known: Sequence[str]) -> str:
    """The question asked before a click at a follow-up becomes a new lesion ``name``."""
    question = (
        f"This click would contour a new lesion, {name}, at {timepoint}. RECIST 1.1 counts "
        "a new lesion as progression (Eisenhauer, Eur J Cancer 2009)."
    )
    if known:
        shown = ", ".join(known[:6]) + (" …" if len(known) > 6 else "")
        question += (
            f" To measure a lesion already known ({shown}, not contoured at this visit), "
            "select its row in the Lesions list, then click on it."
        )
    return question + " Contour a new lesion?"


def neighbourhood_hu(volume: Any, point_lps: Any, radius_mm: float) -> tuple[float, float]:
    """HU range (mean ± 2 SD, at least 20 HU wide) in a disc around a click."""
    try:
        box, covered = brush_footprint(volume, [point_lps], max(radius_mm, 2.0), shape="disc")
    except ValueError:
        return DEFAULT_THRESHOLD_HU
    values = np.asarray(volume.voxels[box], dtype=float)[covered]
    if values.size == 0:
        return DEFAULT_THRESHOLD_HU
    mean, spread = float(values.mean()), max(2.0 * float(values.std()), 10.0)
    return round(mean - spread), round(mean + spread)


def polygon_slice_mask(
    geometry: Any, shape_zyx: tuple[int, int, int], slice_index: int, points_lps: Sequence[Any]
) -> npt.NDArray[np.bool_]:
    """A (z, y, x) mask: the inside of a closed outline on one plane of a view."""
    from skimage.draw import polygon

    result = np.zeros(shape_zyx, dtype=bool)
    if len(points_lps) < 3:
        return result
    index = np.array([geometry.lps_to_index(p) for p in points_lps])
    axis = int(geometry.slice_axis)
    if not 0 <= slice_index < shape_zyx[axis]:
        return result
    rows, columns = (a for a in range(3) if a != axis)
    plane_shape = (shape_zyx[rows], shape_zyx[columns])
    rr, cc = polygon(index[:, rows], index[:, columns], shape=plane_shape)
    selector: list[Any] = [slice(None)] * 3
    selector[axis] = slice_index
    plane = np.zeros(plane_shape, dtype=bool)
    plane[rr, cc] = True
    result[tuple(selector)] = plane
    return result


class ToolOverlay(QObject):
    """Brush cursor and polygon outline drawn on the slice views of a workspace."""

    def __init__(self, workspace: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._circles: dict[int, QGraphicsEllipseItem] = {}
        self._outline: pg.PlotCurveItem | None = None
        self._outline_view: Any = None
        self.radius_mm = 5.0
        self.enabled = False
        for view in workspace.all_views:
            view.hovered.connect(functools.partial(self.on_hover, view))

    def circle(self, view: Any) -> QGraphicsEllipseItem:
        """The cursor item of a view (created on first use, hidden)."""
        item = self._circles.get(id(view))
        if item is None:
            item = QGraphicsEllipseItem()
            pen = QPen(pg.mkColor(255, 220, 0))
            pen.setCosmetic(True)
            item.setPen(pen)
            item.setZValue(1_000)
            item.setVisible(False)
            view.view_box.addItem(item, ignoreBounds=True)
            self._circles[id(view)] = item
        return item

    def on_hover(self, view: Any, info: Any) -> None:
        """Move the cursor to the mouse (``info`` None: the mouse left the view)."""
        self.show_at(view, None if info is None else info.point_lps)

    def show_at(self, view: Any, point_lps: Any) -> None:
        """Show the brush circle centred on an LPS point of a view; hide it elsewhere."""
        active = self._workspace.active_view
        for other in self._workspace.all_views:
            if (other is not view or other is not active) and id(other) in self._circles:
                self._circles[id(other)].setVisible(False)
        geometry = view.geometry
        if not self.enabled or point_lps is None or view is not active or geometry is None:
            if id(view) in self._circles:
                self._circles[id(view)].setVisible(False)
            return
        u, v, _ = geometry.lps_to_screen(point_lps)
        r = self.radius_mm
        item = self.circle(view)
        item.setRect(QRectF(u - r, v - r, 2 * r, 2 * r))
        item.setVisible(True)

    def hide(self) -> None:
        """Hide the cursor everywhere."""
        for item in self._circles.values():
            item.setVisible(False)

    def draw_outline(self, view: Any, points_lps: Sequence[Any]) -> None:
        """Show the polygon being drawn (closed) on a view; no points: remove it."""
        if self._outline is not None and (self._outline_view is not view or not points_lps):
            self._outline_view.view_box.removeItem(self._outline)
            self._outline, self._outline_view = None, None
        if not points_lps or view.geometry is None:
            return
        uv = np.array([view.geometry.lps_to_screen(p)[:2] for p in points_lps])
        uv = np.vstack([uv, uv[:1]])
        if self._outline is None:
            self._outline = pg.PlotCurveItem(pen=pg.mkPen((255, 220, 0), width=1))
            self._outline.setZValue(1_000)
            view.view_box.addItem(self._outline, ignoreBounds=True)
            self._outline_view = view
        self._outline.setData(uv[:, 0], uv[:, 1])


class ContourActionsMixin:
    """Liver click, 2D auto contour click, polygon fill and clean-ups of the selected lesion."""

    # Provided by ContourController.
    _lesions: dict[tuple[int, int], _Lesion]
    _selected_state: Callable[[], _Lesion | None]
    _active_pk: int | None
    _case_pk: int | None
    _contouring: ContouringService
    _workspace: Any
    _polygon: list[Any]
    error: Any
    progressed: Any
    _editable: Callable[[Any], _Lesion | None]
    _push_edit: Callable[[_Lesion, npt.NDArray[np.bool_], str], bool]
    _start: Callable[..., None]
    _on_auto_contour_done: Callable[..., None]
    overlay: ToolOverlay
    auto_contour_at: Callable[..., None]
    parent: Callable[[], Any]
    _pending_click: tuple[Any, Any] | None = None
    """The view and point of the auto contour click being contoured (asked again if needed)."""

    def _confirm_click(self, error: BaseException) -> bool:
        """Ask about a click the service wants confirmed; contour it if the user agrees.

        Returns True when ``error`` was such a question or a refused click (handled here).
        """
        pending, self._pending_click = self._pending_click, None
        if not isinstance(error, ImplausibleClickError):
            return False
        if not error.needs_confirmation:  # air: refused, said as the 2D tool says it
            self.error.emit(f"Not contoured: {error.reason}.")
            return True
        if pending is None:
            return False
        parent = self.parent()
        if ask_contour_anyway(parent if isinstance(parent, QWidget) else None,
                              error.verdict.question):  # fmt: skip
            view, point = pending
            self.auto_contour_at(view, point, confirmed=True)
        else:
            self.error.emit(f"Not contoured: {error.verdict.reason}.")
        return True

    def _new_lesion_confirmed(self, timepoint_pk: int | None) -> bool:
        """At a follow-up, ask before a plain click adds a new focus (True: go on).

        A focus first contoured at a follow-up is a new lesion — progression by RECIST
        1.1 — so a click meant for a known lesion whose row was not selected must not
        silently become one. At the baseline (or outside a case) nothing is asked.
        """
        if self._case_pk is None or timepoint_pk is None:
            return True
        choices = self._contouring.lesions.timepoints(self._case_pk)
        here = next((c for c in choices if c.pk == timepoint_pk), None)
        if here is None or here.kind == "baseline" or (choices and choices[0].pk == here.pk):
            return True
        known = [
            item.name
            for item in self._contouring.list_lesions(self._case_pk)
            if not item.is_liver
            and not (
                (state := self._lesions.get((item.pk, timepoint_pk))) is not None
                and state.mask.any()
            )
        ]
        name = self._contouring.next_focus_name(self._case_pk)
        parent = self.parent()
        question = new_lesion_question(here.label, name, known)
        if ask_new_lesion(parent if isinstance(parent, QWidget) else None, question):
            return True
        self.error.emit(
            "Not contoured: select the lesion's row in the Lesions list to contour it "
            "at this visit."
        )
        return False

    def clean_up(self, kind: str) -> bool:
        """Apply a clean-up (:data:`CLEAN_UPS`) to the selected lesion; True when it changed."""
        lesion = self._selected_state()
        if lesion is None:
            self.error.emit("Select a lesion first.")
            return False
        if lesion.locked:
            self.error.emit(f"{lesion.item.name} is locked.")
            return False
        if not lesion.mask.any():
            self.error.emit(f"{lesion.item.name} has no contour yet.")
            return False
        try:
            new = clean_up_mask(kind, lesion.mask, self._volume_of(lesion).spacing_mm)
        except ValueError as error:
            self.error.emit(str(error))
            return False
        return self._push_edit(lesion, new, f"{CLEAN_UPS[kind]} {lesion.item.name}")

    def liver_at(self, view: Any, point_lps: Any) -> None:
        """Contour the liver from a seed off the GUI thread; the result becomes 'Liver'."""
        series_uid, part = view.series_key
        point = tuple(float(v) for v in np.asarray(point_lps)[:3])
        task = self._contouring.contour_liver_task(
            self._case_pk, series_uid, point, part=part or None, volume=view.volume
        )
        self._start(
            task,
            "Liver contour",
            functools.partial(self._on_auto_contour_done, [], []),
            on_progress=self.progressed.emit,
        )

    def auto_contour_2d_at(self, view: Any, point_lps: Any) -> bool:
        """Add the 2D auto contour around a click (its slice only) to the selected lesion."""
        lesion = self._editable(view)
        if lesion is None:
            return False
        if not lesion.item.is_liver and not self._click_accepted(view, point_lps):
            return False
        try:
            seed = np.asarray(point_lps, dtype=float)[:3]
            # The 3D tool's engine on the clicked slice (one model for 2D and 3D).
            drawn = click_contour(view.volume, [seed], liver_mask=self._liver(lesion), flat=True)
        except ValueError as error:
            self.error.emit(str(error))
            return False
        mask = drawn.mask
        if drawn.parenchyma is not None and not lesion.item.is_liver:
            # A click in healthy liver: asked as the 3D tool asks (and as for fat).
            verdict = judge_parenchyma(*drawn.parenchyma)
            parent = self.parent()
            if not ask_contour_anyway(
                parent if isinstance(parent, QWidget) else None, verdict.question
            ):
                self.error.emit(f"Not contoured: {verdict.reason}.")
                return False
        return self._push_edit(lesion, lesion.mask | mask, f"2D auto contour {lesion.item.name}")

    def _click_accepted(self, view: Any, point_lps: Any) -> bool:
        """Judge a 2D auto contour click as the service judges a 3D one; ask when needed."""
        series_uid, part = view.series_key
        point = tuple(float(v) for v in np.asarray(point_lps)[:3])
        try:
            verdict = self._contouring.check_click(
                self._case_pk, series_uid, point, part=part or None, volume=view.volume
            )
        except TacePlannerError as error:
            self.error.emit(str(error))
            return False
        if verdict.status == "ok":
            return True
        parent = self.parent()
        if verdict.status == "confirm" and ask_contour_anyway(
            parent if isinstance(parent, QWidget) else None, verdict.question
        ):
            return True
        self.error.emit(f"Not contoured: {verdict.reason}.")
        return False

    def polygon_fill(self, view: Any, points_lps: Sequence[Any]) -> bool:
        """Fill the inside of an outline on the view's current slice into the selected lesion."""
        lesion = self._editable(view)
        if lesion is None or view.geometry is None:
            return False
        inside = polygon_slice_mask(view.geometry, lesion.mask.shape, view.slice_index, points_lps)
        if not inside.any():
            return False
        return self._push_edit(lesion, lesion.mask | inside, f"polygon fill {lesion.item.name}")

    def _polygon_event(self, view: Any, event: Any) -> None:
        if event.kind == "press":
            self._polygon = [np.asarray(event.point_lps, dtype=float)[:3]]
        elif event.kind == "move" and self._polygon:
            self._polygon.append(np.asarray(event.point_lps, dtype=float)[:3])
        elif event.kind == "release" and self._polygon:
            points, self._polygon = self._polygon, []
            self.overlay.draw_outline(view, [])
            self.polygon_fill(view, points)
            return
        self.overlay.draw_outline(view, self._polygon)

    def _volume_of(self, lesion: _Lesion) -> Any:
        for view in self._workspace.all_views:
            key = view.series_key
            if (
                view.volume is not None
                and key
                and (key[0], key[1] or "")
                == (
                    lesion.series_uid,
                    lesion.part,
                )
            ):
                return view.volume
        return self._contouring.volume(lesion.series_uid, lesion.part or None)

    def _liver(self, lesion: _Lesion) -> npt.NDArray[np.bool_] | None:
        for other in self._lesions.values():
            if (
                other.item.is_liver
                and (other.series_uid, other.part) == (lesion.series_uid, lesion.part)
                and other.mask.shape == lesion.mask.shape
                and other.mask.any()
                and other is not lesion
            ):
                return other.mask
        return None


class ContourOptions(QObject):
    """Tool-bar controls: brush size (mm), 2D disc / 3D sphere, threshold HU range."""

    def __init__(self, controller: Any, toolbar: QToolBar) -> None:
        super().__init__(toolbar)
        self._controller = controller
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Brush "))
        self.brush_size = QDoubleSpinBox()
        self.brush_size.setObjectName("brush_size")
        self.brush_size.setRange(1.0, 50.0)
        self.brush_size.setDecimals(1)
        self.brush_size.setSuffix(" mm")
        self.brush_size.setToolTip("Radius of brush, eraser and threshold paint")
        self.brush_size.setValue(controller.brush_radius_mm)
        self.brush_size.valueChanged.connect(controller.set_brush_radius)
        toolbar.addWidget(self.brush_size)
        self.brush_shape = QComboBox()
        self.brush_shape.setObjectName("brush_shape")
        self.brush_shape.addItem("2D disc", "disc")
        self.brush_shape.addItem("3D sphere", "sphere")
        self.brush_shape.setToolTip("Paint on the slice only, or in a ball across slices")
        self.brush_shape.currentIndexChanged.connect(self._on_brush_shape_changed)
        toolbar.addWidget(self.brush_shape)
        toolbar.addWidget(QLabel(" HU "))
        self.hu_low, self.hu_high = QDoubleSpinBox(), QDoubleSpinBox()
        for box, name, value in zip(
            (self.hu_low, self.hu_high), ("hu_low", "hu_high"), controller.threshold_hu, strict=True
        ):
            box.setObjectName(name)
            box.setRange(-1024.0, 3071.0)
            box.setDecimals(0)
            box.setValue(value)
            box.setToolTip("Threshold paint covers only voxels in this HU range")
            box.valueChanged.connect(self._on_hu_changed)
            toolbar.addWidget(box)
        self.hu_from_click = QCheckBox("from click")
        self.hu_from_click.setObjectName("hu_from_click")
        self.hu_from_click.setToolTip("Take the HU range from around each threshold-paint press")
        self.hu_from_click.setChecked(controller.threshold_from_click)
        self.hu_from_click.toggled.connect(self._on_hu_from_click_toggled)
        toolbar.addWidget(self.hu_from_click)
        controller.threshold_changed.connect(self._on_controller_threshold_changed)

    def _on_brush_shape_changed(self, _index: int) -> None:
        self._controller.set_brush_shape(str(self.brush_shape.currentData()))

    def _on_hu_changed(self, _value: float) -> None:
        self._controller.set_threshold(self.hu_low.value(), self.hu_high.value())
        self.hu_from_click.setChecked(False)  # typed limits win over the click's

    def _on_hu_from_click_toggled(self, checked: bool) -> None:
        self._controller.threshold_from_click = checked

    def _on_controller_threshold_changed(self, low_hu: float, high_hu: float) -> None:
        for box, value in ((self.hu_low, low_hu), (self.hu_high, high_hu)):
            blocked = box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(blocked)
