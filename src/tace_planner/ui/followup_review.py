"""Side-by-side review of a follow-up: baseline and follow-up linked through the registration.

Left the baseline CT with its contours, right the follow-up CT with the proposed
contours. The two studies have different frames of reference, so the views are linked
through the registration (a point of the baseline carried into the follow-up frame),
never by slice index: moving through the baseline moves the follow-up to the slice that
holds the same anatomy. The lesion table lists each focus's values per timepoint and its
proposal; choosing a row jumps both views to that lesion. *Confirm* stores the checked
proposals through the service (the widget computes no clinical number). A lesion already
contoured at that follow-up (confirmed earlier, perhaps corrected by hand) is unchecked
and says so; confirming it anyway asks before its stored contour is replaced. A lesion
*not found* (proposed as disappeared, 0 mm) is unchecked too: a disappearance counts towards
a complete response, so the reader looks at it and checks it deliberately; it was ticked by
default and stored unseen by a Confirm answered in passing. Its advice (the *To check*
column) wraps within its row, the row growing, and reads whole in its tooltip. Contours
already stored at a follow-up (drawn by hand, or confirmed earlier) show without a proposal
(:meth:`FollowupReview.show_stored`); those views are not registered and are aligned on
the chosen lesion instead.

Data come from :class:`~tace_planner.services.propagation.PropagationService`:
:meth:`~PropagationService.propose` (images, registration, proposals) and
:meth:`~PropagationService.course` (values per timepoint); the stored contours from
:func:`~tace_planner.services.stored_review.stored_review_task` (a
:class:`~tace_planner.services.stored_review.StoredReview`). This widget only shows them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.geometry import lps_to_index
from tace_planner.imaging.body import body_extent
from tace_planner.services.stored_review import StoredReview
from tace_planner.ui.contour_actions import ask_yes_no
from tace_planner.ui.panels.empty_plot import centred_note
from tace_planner.ui.wording import capitalised

_WINDOW_HU = (-135.0, 215.0)  # soft tissue: level 40, width 350
VIEWS_MIN_HEIGHT_PX = 240
"""The images' least height while the table has no proposal to show."""
VIEWS_FLOOR_PX = 150
"""The images' least height while proposals are listed: below :data:`VIEWS_MIN_HEIGHT_PX`
they give way to the table's first :data:`TABLE_MIN_ROWS` rows and the Confirm button (on a
1366 × 768 screen the table showed 2 of 7 rows and the button was cut off)."""
VIEWS_HEIGHT_SHARE = 0.65
TABLE_MIN_ROWS = 8
"""Proposals listed: the table keeps room for this many rows (every focus of most cases; at
1366 × 768 it showed 5 of the demo's 7), as tall as their wrapped advice."""
NOT_FOUND_NOTE = (
    "Unchecked until you have looked: choose the row to see both views, then check it to "
    "store the lesion as disappeared (0 mm), which counts towards a complete response "
    "(RECIST 1.1; Eisenhauer et al., Eur J Cancer 2009)."
)
"""What a row *not found* adds to its advice (it starts unchecked)."""
EMPTY_REVIEW_HINT = (
    "Choose the follow-up and press “Propose contours from the baseline”: the baseline "
    "and the follow-up then show here side by side, linked through the registration, with "
    "each lesion's proposed contour to confirm."
)

EMPTY_VIEW_HINT = "No images yet: press “Propose contours from the baseline”"
"""What an empty review view says in its middle."""
NO_CASE = "Choose a case in the worklist or in the case list."
"""What the page says while no case is chosen."""


class _AxialPanel(QWidget):
    """One axial view: CT slice, contour overlay and a marker (a thin, Qt-only drawing)."""

    def __init__(self, title: str, colour: tuple[int, int, int]) -> None:
        super().__init__()
        self._empty_title = title
        self.title = QLabel(title)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("k")
        self.view = self.graphics.addViewBox(lockAspect=True, invertY=True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.marker = pg.ScatterPlotItem(
            size=14, pen=pg.mkPen("y", width=2), brush=None, symbol="+"
        )
        for item in (self.image, self.overlay, self.marker):
            self.view.addItem(item)
        # An empty view says what fills it, rather than a black box.
        self.hint = centred_note(self.view, EMPTY_VIEW_HINT, colour="#bbbbbb")
        self.colour = colour
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.graphics)
        self.volume: Any = None
        self.masks: list[np.ndarray] = []
        self.index = 0
        self.body_mm = (0.0, 1.0, 0.0, 1.0)
        """The body's box in the view's millimetres: x from, x to, y from, y to."""

    def set_volume(self, volume: Any, masks: list[np.ndarray]) -> None:
        self.volume, self.masks = volume, masks
        self.hint.setVisible(False)
        _, dy, dx = volume.spacing_mm
        transform = QTransform.fromScale(dx, dy)
        self.image.setTransform(transform)
        self.overlay.setTransform(transform)
        # the body's box, which the review fits in view (not the air around it) at one
        # scale for both visits
        (row0, row1), (column0, column1) = body_extent(volume.voxels)
        self.body_mm = (column0 * dx, column1 * dx, row0 * dy, row1 * dy)

    def clear(self) -> None:
        """Empty again: no image, no contours, the hint in the middle."""
        self.volume, self.masks, self.index = None, [], 0
        for image in (self.image, self.overlay):
            image.clear()
        self.marker.setData([], [])
        self.title.setText(self._empty_title)
        self.view.setRange(xRange=(0.0, 1.0), yRange=(0.0, 1.0), padding=0.0)
        self.hint.setVisible(True)

    def fit(self, width_mm: float, height_mm: float) -> None:
        """Show ``width_mm`` × ``height_mm`` around the middle of the body's box."""
        x0, x1, y0, y1 = self.body_mm
        x, y = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        self.view.setRange(
            xRange=(x - width_mm / 2.0, x + width_mm / 2.0),
            yRange=(y - height_mm / 2.0, y + height_mm / 2.0),
            padding=0.03,
        )

    def show_slice(self, index: int, marker_yx: tuple[float, float] | None = None) -> None:
        if self.volume is None:
            return
        self.index = int(np.clip(index, 0, self.volume.shape[0] - 1))
        self.image.setImage(
            np.asarray(self.volume.voxels[self.index]), levels=_WINDOW_HU, autoLevels=False
        )
        rgba = np.zeros((*self.volume.shape[1:], 4), dtype=np.uint8)
        for mask in self.masks:
            plane = mask[self.index]
            edge = plane & ~_eroded(plane)
            rgba[edge] = (*self.colour, 255)
        self.overlay.setImage(rgba, levels=(0, 255), autoLevels=False)
        _, dy, dx = self.volume.spacing_mm
        if marker_yx is None:
            self.marker.setData([], [])
        else:
            self.marker.setData([marker_yx[1] * dx], [marker_yx[0] * dy])
        self.title.setText(f"{self.title.text().split(' —')[0]} — slice {self.index + 1}")


def _eroded(plane: np.ndarray) -> np.ndarray:
    out = plane.copy()
    out[1:, :] &= plane[:-1, :]
    out[:-1, :] &= plane[1:, :]
    out[:, 1:] &= plane[:, :-1]
    out[:, :-1] &= plane[:, 1:]
    return out


class FollowupReview(QWidget):
    """Baseline and follow-up side by side, linked through the registration (see module)."""

    confirmed = Signal(object)  # the PropagationItem after confirmation
    proposals_listed = Signal(bool)
    """True when proposals to check are listed, False once they are confirmed, discarded
    or replaced by stored contours (the page then gives the worklist its room back)."""

    def __init__(
        self,
        confirm: Callable[[Any, list[str], list[str]], Any] | None = None,
        parent: QWidget | None = None,
        *,
        course: Callable[[int], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self._confirm = confirm  # (item, names, names whose stored contour to replace)
        self._course_of = course  # the case's values per timepoint, read again after a confirm
        self._course: Any = None
        self.ask: Callable[[str, str], bool] = functools.partial(ask_yes_no, self)  # tests: a stub
        self.item: Any = None
        self._listed = False  # proposals to check are listed (``proposals_listed``)
        self.visit: Callable[[str], str] = lambda label: label
        """A follow-up's label → the name people read (the page's visit names)."""
        self.baseline = _AxialPanel("Baseline", (0, 200, 255))
        self.follow_up = _AxialPanel("Follow-up", (255, 140, 0))
        self.slider = QSlider(Qt.Orientation.Vertical)
        self.slider.valueChanged.connect(self.show_baseline_slice)
        self.quality = QLabel(EMPTY_REVIEW_HINT)
        self.quality.setWordWrap(True)
        self.table = QTableWidget(0, 0)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.itemSelectionChanged.connect(self._row_chosen)
        # rows as tall as their text: more proposals read at once on a short screen; the
        # advice wraps within its row, which grows (``_fit_rows``)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setWordWrap(True)
        self.table.horizontalHeader().sectionResized.connect(self._fit_rows)
        self.confirm_button = QPushButton("Confirm checked proposals")
        self.confirm_button.setEnabled(False)  # nothing proposed yet
        self.confirm_button.clicked.connect(self.confirm_checked)
        self.status = QLabel("")
        views = QWidget()
        views.setMinimumHeight(VIEWS_FLOOR_PX)  # the table never squeezes the images away
        row = QHBoxLayout(views)
        row.addWidget(self.baseline)
        row.addWidget(self.follow_up)
        row.addWidget(self.slider)
        lower = QWidget()
        column = QVBoxLayout(lower)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.quality)
        column.addWidget(self.table)
        buttons = QHBoxLayout()
        buttons.addWidget(self.confirm_button)
        buttons.addWidget(self.status, 1)
        column.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(views)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setChildrenCollapsible(False)
        self._splitter = splitter
        self._user_sized = False
        splitter.splitterMoved.connect(self._on_splitter_moved)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def resizeEvent(self, event: Any) -> None:
        """Give the images two thirds of the height and the table the rest, until the
        user drags the divider (by their size hints alone the empty table took more)."""
        super().resizeEvent(event)
        self._share_height()

    def _share_height(self) -> None:
        """Images two thirds (at least :data:`VIEWS_MIN_HEIGHT_PX`); with proposals listed
        the table keeps room for its first :data:`TABLE_MIN_ROWS` rows (as tall as their
        wrapped advice) and the Confirm button, the images then down to
        :data:`VIEWS_FLOOR_PX`."""
        height = self._splitter.height()
        if self._user_sized or height <= 0:
            return
        views = max(VIEWS_MIN_HEIGHT_PX, int(height * VIEWS_HEIGHT_SHARE))
        rows = min(self.table.rowCount(), TABLE_MIN_ROWS)
        if rows:
            lower = self._lower_height(rows) + self._splitter.handleWidth()
            views = max(VIEWS_FLOOR_PX, min(views, height - lower))
        self._splitter.setSizes([views, max(0, height - views - self._splitter.handleWidth())])

    def _lower_height(self, rows: int) -> int:
        """The height the part under the images needs to show ``rows`` rows and the button."""
        table = self.table
        spacing = max(0, self._splitter.widget(1).layout().spacing())
        quality = self.quality
        width = max(1, self._splitter.width())
        return (
            (
                quality.heightForWidth(width)
                if quality.hasHeightForWidth()
                else quality.sizeHint().height()
            )
            + table.horizontalHeader().height()
            + sum(table.rowHeight(row) for row in range(rows))
            + 2 * table.frameWidth()
            + (
                table.horizontalScrollBar().sizeHint().height()
                if self._scrolls_sideways(rows)
                else 0
            )
            + max(self.confirm_button.sizeHint().height(), self.status.sizeHint().height())
            + 2 * spacing
        )

    def _scrolls_sideways(self, rows: int) -> bool:
        """True when the table's columns are wider than its viewport (a scroll bar shows)
        while ``rows`` rows show (a vertical scroll bar, taking width, when more are)."""
        table = self.table
        header = table.horizontalHeader()
        last = header.count() - 1
        if last < 0:
            return False
        stretched = header.sectionResizeMode(last) == QHeaderView.ResizeMode.Stretch
        wanted = sum(header.sectionSize(c) for c in range(last)) + (
            header.minimumSectionSize() if stretched else header.sectionSize(last)
        )
        room = table.width() - 2 * table.frameWidth() - table.verticalHeader().width()
        if table.rowCount() > rows:
            room -= table.verticalScrollBar().sizeHint().width()
        return wanted > room

    def _fit_rows(self, *_section: Any) -> None:
        """Each row as tall as its wrapped text, never lower than one line
        (``sectionResized``: a column's width decides where its text wraps)."""
        table = self.table
        least = table.verticalHeader().defaultSectionSize()
        for row in range(table.rowCount()):
            height = max(least, table.sizeHintForRow(row))
            if table.rowHeight(row) != height:
                table.setRowHeight(row, height)
        self._share_height()

    def _on_splitter_moved(self) -> None:
        self._user_sized = True

    # -- data ----------------------------------------------------------------------------

    def show_review(self, item: Any, course: Any = None) -> None:
        """Show a :class:`~tace_planner.services.propagation.PropagationItem` (and values)."""
        self.item = item
        self._course = course
        registration = item.registration
        self.quality.setText(registration.message)
        self.quality.setStyleSheet("" if registration.ok else "color: #b00020; font-weight: bold")
        self.confirm_button.setEnabled(registration.ok and bool(item.proposals))
        if item.baseline_image is None or item.follow_up_image is None:
            return
        self.baseline.set_volume(item.baseline_image, [m for _, m in item.baseline_masks])
        self.follow_up.set_volume(item.follow_up_image, [p.mask for p in item.proposals])
        self._fit_both()
        self.baseline.title.setText(
            "Baseline"
            if item.baseline.label == "baseline"
            else f"Baseline ({self.visit(item.baseline.label)})"
        )
        self.follow_up.title.setText(
            f"{capitalised(self.visit(item.follow_up.label))}, proposed contours"
        )
        self._fill_table(item, course)
        left = self.proposed_disappeared(checked=False)
        self.status.setStyleSheet("")
        self.status.setText(
            f"{', '.join(left)} proposed as disappeared (0 mm): unchecked until you have "
            "looked (see “To check”)."
            if left
            else ""
        )
        self._set_listed(bool(item.proposals))
        self._share_height()
        self.slider.setRange(0, item.baseline_image.shape[0] - 1)
        self.slider.setValue(item.baseline_image.shape[0] // 2)
        self.show_baseline_slice(self.slider.value())

    def _set_listed(self, listed: bool) -> None:
        if listed != self._listed:
            self._listed = listed
            self.proposals_listed.emit(listed)

    def _fit_both(self) -> None:
        """One scale for both visits, so that a lesion's size compares by eye."""
        panels = (self.baseline, self.follow_up)
        width = max(p.body_mm[1] - p.body_mm[0] for p in panels)
        height = max(p.body_mm[3] - p.body_mm[2] for p in panels)
        for panel in panels:
            panel.fit(width, height)

    def show_stored(self, view: StoredReview, course: Any = None) -> None:
        """Show the contours stored at the baseline and at a follow-up (no proposal)."""
        self.item, self._course = view, course
        self.quality.setText(view.message)
        self.quality.setStyleSheet("")
        self.status.setText("")
        self.confirm_button.setEnabled(False)  # nothing proposed: the contours are stored
        self._set_listed(False)
        self.baseline.set_volume(view.baseline_image, [m for _, m in view.baseline_masks])
        self.follow_up.set_volume(view.follow_up_image, [m for _, m in view.follow_up_masks])
        self._fit_both()
        self.baseline.title.setText("Baseline, stored contours")
        self.follow_up.title.setText(
            f"{capitalised(self.visit(view.follow_up.label))}, stored contours"
        )
        labels = [] if course is None else [t.name or t.label for t in course.timepoints]
        values = {} if course is None else {c.name: c for c in course.lesions}
        headers = ["Lesion", *[f"{capitalised(label)} (mm)" for label in labels]]
        names = sorted(
            {n for n, _ in (*view.baseline_masks, *view.follow_up_masks)}, key=lambda n: (len(n), n)
        )
        self.table.clear()
        self._stretch_notes(False)
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(names))
        for row, name in enumerate(names):
            lesion = values.get(name)
            texts = [name] + [
                "—" if lesion is None or lesion.diameters_mm[n] is None
                else f"{lesion.diameters_mm[n]:.1f}"
                for n in range(len(labels))
            ]  # fmt: skip
            for column, text in enumerate(texts):
                cell = QTableWidgetItem(text)
                cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, cell)
        self.table.resizeColumnsToContents()
        self._fit_rows()
        self.slider.setRange(0, view.baseline_image.shape[0] - 1)
        first = next((n for n in names if n in dict(view.follow_up_masks)), None)
        if first is not None and first in dict(view.baseline_masks):
            self.jump_to(first)
        else:
            self.slider.setValue(view.baseline_image.shape[0] // 2)
            self.show_baseline_slice(self.slider.value())

    def clear(self) -> None:
        """Nothing under review (another case was chosen): no images, no proposals."""
        self.item = None
        self._course = None
        for panel in (self.baseline, self.follow_up):
            panel.clear()
        self._stretch_notes(False)
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.quality.setText(EMPTY_REVIEW_HINT)
        self.quality.setStyleSheet("")
        self.status.setText("")
        self.confirm_button.setEnabled(False)
        self._set_listed(False)

    def _fill_table(self, item: Any, course: Any) -> None:
        # the course's timepoints carry their visit names ("TACE 1 follow-up 1")
        labels = [] if course is None else [t.name or t.label for t in course.timepoints]
        headers = ["Lesion", "Proposal", *[f"{capitalised(label)} (mm)" for label in labels]]
        headers += ["Proposed (mm)", "Proposed (cm³)", "To check"]
        self._stretch_notes(False)
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(item.proposals))
        values = {} if course is None else {c.name: c for c in course.lesions}
        for row, proposal in enumerate(item.proposals):
            name = QTableWidgetItem(proposal.name)
            name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            # a contour already stored there (perhaps corrected by hand) is kept by default,
            # and a disappearance is stored only once the reader has looked at it
            stored = proposal.stored is not None
            checked = not stored and proposal.found
            name.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            cells = [name, QTableWidgetItem(proposal.status)]
            lesion = values.get(proposal.name)
            for n in range(len(labels)):
                value = None if lesion is None else lesion.diameters_mm[n]
                cells.append(QTableWidgetItem("—" if value is None else f"{value:.1f}"))
            cells.append(QTableWidgetItem(f"{proposal.longest_axial_diameter_mm:.1f}"))
            cells.append(QTableWidgetItem(f"{proposal.volume_cm3:.2f}"))
            notes = list(proposal.messages)
            if stored:
                notes.insert(
                    0, f"{capitalised(proposal.stored_text)}: check the row to replace it."
                )
            if not proposal.found and not stored:
                notes.append(NOT_FOUND_NOTE)
            advice = QTableWidgetItem(" ".join(notes))
            advice.setToolTip(advice.text())  # the whole advice, however narrow the column
            cells.append(advice)
            for column, cell in enumerate(cells):
                if column:
                    cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, cell)
        self.table.resizeColumnsToContents()
        self._stretch_notes(True)
        self._fit_rows()

    def _stretch_notes(self, stretched: bool) -> None:
        """The last column (the advice) takes the width left, its text wrapping within its
        row (``stretched``), or is as wide as its text (the stored contours' values)."""
        header = self.table.horizontalHeader()  # (not setStretchLastSection: that keeps
        # the width resizeColumnsToContents gave the whole text, and a scroll bar)
        if header.count():
            mode = (
                QHeaderView.ResizeMode.Stretch if stretched else QHeaderView.ResizeMode.Interactive
            )
            header.setSectionResizeMode(header.count() - 1, mode)

    # -- linking -------------------------------------------------------------------------

    def show_baseline_slice(self, index: int, marker_lps: np.ndarray | None = None) -> None:
        """Show baseline slice ``index`` and the follow-up slice holding the same anatomy."""
        item = self.item
        if item is None or item.baseline_image is None:
            return
        base = item.baseline_image
        marker = None
        if marker_lps is None:
            centre = np.array([index, (base.shape[1] - 1) / 2, (base.shape[2] - 1) / 2, 1.0])
            point = (np.asarray(base.index_to_lps, float) @ centre)[:3]
        else:
            point = np.asarray(marker_lps, float)
            local = lps_to_index(base.index_to_lps, point)
            marker = (float(local[1]), float(local[2]))
        self.baseline.show_slice(index, marker)
        carried = (item.registration.baseline_to_follow_up @ np.append(point, 1.0))[:3]
        target = lps_to_index(item.follow_up_image.index_to_lps, carried)
        follow_marker = None if marker_lps is None else (float(target[1]), float(target[2]))
        self.follow_up.show_slice(round(float(target[0])), follow_marker)

    def jump_to(self, name: str) -> None:
        """Show lesion ``name`` in both views (its carried point in the follow-up)."""
        item = self.item
        masks = dict(item.baseline_masks) if item is not None else {}
        if name not in masks:
            return
        from tace_planner.imaging.propagation import deepest_point_lps

        point = np.asarray(deepest_point_lps(masks[name], item.baseline_image))
        if isinstance(item, StoredReview):  # not registered: aligned on this lesion
            item.align_on(name, point)
        index = round(float(lps_to_index(item.baseline_image.index_to_lps, point)[0]))
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self.show_baseline_slice(index, point)

    def _row_chosen(self) -> None:
        rows = {i.row() for i in self.table.selectedItems()}
        if len(rows) == 1:
            self.jump_to(self.table.item(rows.pop(), 0).text())

    def checked_names(self) -> list[str]:
        """The lesions whose proposal is checked for confirmation."""
        return [
            self.table.item(r, 0).text()
            for r in range(self.table.rowCount())
            if self.table.item(r, 0).checkState() == Qt.CheckState.Checked
        ]

    def proposed_disappeared(self, *, checked: bool) -> list[str]:
        """The lesions proposed as disappeared (not found, 0 mm) whose row is ``checked``
        (what *Confirm* stores as disappeared); unchecked, those not stored there yet (what
        it leaves out). [] when no proposal is shown."""
        item = self.item
        if item is None or isinstance(item, StoredReview):
            return []
        ticked = set(self.checked_names())
        return [
            p.name
            for p in item.proposals
            if not p.found and (p.name in ticked if checked else p.name not in ticked)
            and (checked or p.stored is None)
        ]  # fmt: skip

    def unconfirmed(self) -> list[str]:
        """The lesions whose proposal is checked and not stored yet ([] when no proposal is
        shown, or its registration failed): what *Confirm checked proposals* would store."""
        item = self.item
        if item is None or isinstance(item, StoredReview) or not item.registration.ok:
            return []
        return self.checked_names()

    def confirm_checked(self) -> bool:
        """Store the checked proposals (*Confirm checked proposals*); True when stored.

        A lesion with a contour stored there is replaced only when the user agrees; a
        refusal (e.g. a contour saved there since the proposal) is said under the table.
        """
        from tace_planner.domain.errors import TacePlannerError

        if self._confirm is None or self.item is None:
            return False
        item = self.item
        names = self.checked_names()
        stored = {p.name for p in item.proposals if p.stored is not None}
        replace = [name for name in names if name in stored]
        label = self.visit(item.follow_up.label)
        one = len(replace) == 1
        question = (
            f"{', '.join(replace)} already {'has a contour' if one else 'have contours'} at "
            f"{label}, perhaps corrected by hand. Replace {'it' if one else 'them'} with the "
            "proposal?"
        )
        if replace and not self.ask("Replace stored contours?", question):
            self.status.setStyleSheet("")
            self.status.setText("Nothing stored: the stored contours are kept.")
            return False
        try:
            result = self._confirm(item, names, replace)
        except TacePlannerError as error:  # e.g. a contour saved there since the proposal
            self.status.setText(f"Nothing stored: {error}")
            self.status.setStyleSheet("color: #b00020")
            return False
        self.status.setStyleSheet("")
        self.status.setText(f"Stored {len(result.confirmed)} contour(s) at {label}.")
        # the rows now say what is stored (unchecked); the values include this follow-up
        self.item = result
        if self._course_of is not None:
            self._course = self._course_of(result.case_pk)
        self._fill_table(result, self._course)
        # the follow-up view shows what is stored now: the proposals confirmed (one left
        # unchecked is not stored, and is no longer drawn)
        self.follow_up.masks = [p.mask for p in result.proposals if p.name in result.confirmed]
        self.follow_up.title.setText(f"{capitalised(label)}, stored contours")
        self.follow_up.show_slice(self.follow_up.index)
        for row in range(self.table.rowCount()):  # a proposal left unchecked stays so
            cell = self.table.item(row, 0)
            if cell.text() not in names:
                cell.setCheckState(Qt.CheckState.Unchecked)
        self.confirmed.emit(result)
        self._set_listed(False)
        return True


def __getattr__(name: str) -> Any:
    """``FollowupReviewPage`` lives with the Follow-up page (imported from here before)."""
    if name == "FollowupReviewPage":
        from tace_planner.ui.workspaces.followup_page import FollowupReviewPage

        return FollowupReviewPage
    raise AttributeError(name)
