"""Side-by-side review of a follow-up: baseline and follow-up linked through the registration.

Left the baseline CT with its contours, right the follow-up CT with the proposed
contours. The two studies have different frames of reference, so the views are linked
through the registration (a point of the baseline carried into the follow-up frame),
never by slice index: moving through the baseline moves the follow-up to the slice that
holds the same anatomy. The lesion table lists each focus's values per timepoint and its
proposal; choosing a row jumps both views to that lesion. *Confirm* stores the checked
proposals through the service (the widget computes no clinical number). A lesion already
contoured at that follow-up (confirmed earlier, perhaps corrected by hand) is unchecked
and says so; confirming it anyway asks before its stored contour is replaced.

Data come from :class:`~tace_planner.services.propagation.PropagationService`:
:meth:`~PropagationService.propose` (images, registration, proposals) and
:meth:`~PropagationService.course` (values per timepoint).
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
from tace_planner.ui.contour_actions import ask_yes_no
from tace_planner.ui.panels.empty_plot import centred_note
from tace_planner.ui.wording import capitalised

_WINDOW_HU = (-135.0, 215.0)  # soft tissue: level 40, width 350
VIEWS_MIN_HEIGHT_PX = 240
VIEWS_HEIGHT_SHARE = 0.65
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
        self.baseline = _AxialPanel("Baseline", (0, 200, 255))
        self.follow_up = _AxialPanel("Follow-up", (255, 140, 0))
        self.slider = QSlider(Qt.Orientation.Vertical)
        self.slider.valueChanged.connect(self.show_baseline_slice)
        self.quality = QLabel(EMPTY_REVIEW_HINT)
        self.quality.setWordWrap(True)
        self.table = QTableWidget(0, 0)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.itemSelectionChanged.connect(self._row_chosen)
        self.confirm_button = QPushButton("Confirm checked proposals")
        self.confirm_button.setEnabled(False)  # nothing proposed yet
        self.confirm_button.clicked.connect(self._confirm_checked)
        self.status = QLabel("")
        views = QWidget()
        views.setMinimumHeight(VIEWS_MIN_HEIGHT_PX)  # the table below never squeezes the images
        row = QHBoxLayout(views)
        row.addWidget(self.baseline)
        row.addWidget(self.follow_up)
        row.addWidget(self.slider)
        lower = QWidget()
        column = QVBoxLayout(lower)
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
        height = self._splitter.height()
        if not self._user_sized and height > 0:
            views = max(VIEWS_MIN_HEIGHT_PX, int(height * VIEWS_HEIGHT_SHARE))
            self._splitter.setSizes([views, max(0, height - views)])

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
        # one scale for both visits, so that a lesion's size compares by eye
        panels = (self.baseline, self.follow_up)
        width = max(p.body_mm[1] - p.body_mm[0] for p in panels)
        height = max(p.body_mm[3] - p.body_mm[2] for p in panels)
        for panel in panels:
            panel.fit(width, height)
        self.baseline.title.setText(
            "Baseline" if item.baseline.label == "baseline" else f"Baseline ({item.baseline.label})"
        )
        self.follow_up.title.setText(f"{capitalised(item.follow_up.label)}, proposed contours")
        self._fill_table(item, course)
        self.slider.setRange(0, item.baseline_image.shape[0] - 1)
        self.slider.setValue(item.baseline_image.shape[0] // 2)
        self.show_baseline_slice(self.slider.value())

    def clear(self) -> None:
        """Nothing under review (another case was chosen): no images, no proposals."""
        self.item = None
        self._course = None
        for panel in (self.baseline, self.follow_up):
            panel.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.quality.setText(EMPTY_REVIEW_HINT)
        self.quality.setStyleSheet("")
        self.status.setText("")
        self.confirm_button.setEnabled(False)

    def _fill_table(self, item: Any, course: Any) -> None:
        labels = [] if course is None else [t.label for t in course.timepoints]
        headers = ["Lesion", "Proposal", *[f"{capitalised(label)} (mm)" for label in labels]]
        headers += ["Proposed (mm)", "Proposed (cm³)", "To check"]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(item.proposals))
        values = {} if course is None else {c.name: c for c in course.lesions}
        for row, proposal in enumerate(item.proposals):
            name = QTableWidgetItem(proposal.name)
            name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            # a contour already stored there (perhaps corrected by hand) is kept by default
            stored = proposal.stored is not None
            name.setCheckState(Qt.CheckState.Unchecked if stored else Qt.CheckState.Checked)
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
            cells.append(QTableWidgetItem(" ".join(notes)))
            for column, cell in enumerate(cells):
                if column:
                    cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, cell)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)  # the notes use the width

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

    def _confirm_checked(self) -> None:
        from tace_planner.domain.errors import TacePlannerError

        if self._confirm is None or self.item is None:
            return
        item = self.item
        names = self.checked_names()
        stored = {p.name for p in item.proposals if p.stored is not None}
        replace = [name for name in names if name in stored]
        label = item.follow_up.label
        one = len(replace) == 1
        question = (
            f"{', '.join(replace)} already {'has a contour' if one else 'have contours'} at "
            f"{label}, perhaps corrected by hand. Replace {'it' if one else 'them'} with the "
            "proposal?"
        )
        if replace and not self.ask("Replace stored contours?", question):
            self.status.setStyleSheet("")
            self.status.setText("Nothing stored: the stored contours are kept.")
            return
        try:
            result = self._confirm(item, names, replace)
        except TacePlannerError as error:  # e.g. a contour saved there since the proposal
            self.status.setText(f"Nothing stored: {error}")
            self.status.setStyleSheet("color: #b00020")
            return
        self.status.setStyleSheet("")
        self.status.setText(f"Stored {len(result.confirmed)} contour(s) at {label}.")
        # the rows now say what is stored (unchecked); the values include this follow-up
        self.item = result
        if self._course_of is not None:
            self._course = self._course_of(result.case_pk)
        self._fill_table(result, self._course)
        self.confirmed.emit(result)


class FollowupReviewPage(QWidget):
    """The Follow-up workspace's page: choose a follow-up, propose, review, confirm; spider plot.

    Registration, proposals and assessments run off the GUI thread (``tasks``); the page
    follows the case chosen in the case list (:meth:`set_case`). With ``assessments``
    (an :class:`~tace_planner.services.assessment.AssessmentService`) it shows the stored
    responses per timepoint, assesses the chosen follow-up on demand, and labels the
    spider plot with the stored RECIST 1.1 overall responses. :attr:`course_changed`
    says that the case's measured course changed (contours confirmed, a follow-up
    assessed), for the views of the course outside the page (the timeline).
    """

    course_changed = Signal(int)  # the case's primary key

    def __init__(
        self,
        propagation: Any,
        tasks: Any,
        list_cases: Callable[[], list[Any]] | None = None,
        parent: QWidget | None = None,
        *,
        assessments: Any = None,
        can_assess: bool = True,
        assessments_problem: str = "",
    ) -> None:
        from PySide6.QtWidgets import QComboBox, QTabWidget

        from tace_planner.ui.panels.response_table import ResponseTable
        from tace_planner.ui.panels.spider_plot import SpiderPlot
        from tace_planner.ui.panels.waterfall_plot import WaterfallPlot

        super().__init__(parent)
        self._propagation = propagation
        self._assessments = assessments
        self._can_assess = can_assess
        self._tasks = tasks
        self._list_cases = list_cases
        self.case_pk: int | None = None
        self.timepoints = QComboBox()
        self.propose_button = QPushButton("Propose contours from the baseline")
        self.propose_button.clicked.connect(self.propose)
        self.message = QLabel(NO_CASE)
        self.message.setWordWrap(True)
        self.review = FollowupReview(confirm=self._confirm, course=propagation.course)
        self.spider = SpiderPlot()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.review, "Baseline and follow-up")
        self.tabs.addTab(self.spider, "Spider plot")
        self.responses = ResponseTable()
        self.responses.problem = assessments_problem
        if assessments is not None or assessments_problem:
            self.tabs.addTab(self.responses, "Responses")
            self.responses.assess_requested.connect(self.assess)
        self.waterfall = WaterfallPlot()
        if list_cases is not None:
            self.tabs.addTab(self.waterfall, "Cohort waterfall")
            self.tabs.currentChanged.connect(self._tab_changed)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Follow-up:"))
        bar.addWidget(self.timepoints)
        bar.addWidget(self.propose_button)
        bar.addWidget(self.message, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.tabs, 1)
        self._set_enabled()

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.waterfall:
            self.show_waterfall()

    def show_waterfall(self) -> None:
        """Every case's best change from baseline (drawn when its tab is shown)."""
        from tace_planner.domain.errors import TacePlannerError

        if self._list_cases is None:
            return
        cases = self._list_cases()
        try:
            changes = self._propagation.best_changes([c.pk for c in cases])
        except TacePlannerError as error:
            self.waterfall.note.setText(str(error))
            return
        titles = {str(c.pk): f"{c.patient_id} · {c.title}" for c in cases}
        labelled = [type(c)(c.case_pk, titles.get(c.label, c.label), c.diameter_sum_percent,
                            c.volume_percent) for c in changes]  # fmt: skip
        self.waterfall.show_changes(labelled)

    def _set_enabled(self) -> None:
        ready = self.case_pk is not None and self.timepoints.count() > 0
        self.propose_button.setEnabled(ready)
        self.responses.assess_button.setEnabled(
            ready and self._assessments is not None and self._can_assess
        )

    def show_course(self, case_pk: int) -> None:
        """Redraw the spider plot and the stored responses of ``case_pk``."""
        stored = [] if self._assessments is None else self._assessments.stored(case_pk)
        labels = {s.timepoint: s.category for s in stored if s.criterion == "recist"}
        self.spider.show_course(self._propagation.course(case_pk), labels)
        self.responses.show_stored(stored)

    def assess(self) -> None:
        """Assess the chosen follow-up by every criterion and store it (a task)."""
        if self._assessments is None or self.case_pk is None:
            return
        case_pk, label = self.case_pk, self.timepoints.currentText()
        if not label:
            return
        self._run(
            self.responses.assess_button,
            f"Assessing {label}…",
            _assess_task(self._assessments, case_pk, label),
            "Assessing the follow-up",
            lambda result: self._assessed(result, case_pk),
            "assess",
            case_pk,
        )

    def _run(
        self,
        button: QPushButton,
        message: str,
        task: Any,
        title: str,
        on_result: Callable[[Any], None],
        verb: str,
        case_pk: int,
    ) -> None:
        """Submit ``task`` (of case ``case_pk``) off the GUI thread, ``button`` disabled
        until it ends; a failure is said only while that case is still the chosen one."""
        button.setEnabled(False)
        self.message.setText(message)
        self._tasks.submit(
            task,
            title=title,
            on_result=on_result,
            on_error=lambda e: self._failed(verb, e, case_pk),
        )

    def _assessed(self, result: dict[str, Any], case_pk: int) -> None:
        self._set_enabled()
        if case_pk != self.case_pk:  # another case was chosen meanwhile: it is stored, not shown
            return
        recist = result.get("criteria", {}).get("recist", {})
        self.message.setText(
            f"{result['timepoint']}: RECIST 1.1 {recist.get('category', '—')} (stored)"
        )
        self.show_course(case_pk)
        self.course_changed.emit(case_pk)

    def set_case(self, case_pk: int | None) -> None:
        """Follow the case chosen in the case list (None: no case)."""
        from tace_planner.domain.errors import TacePlannerError

        if case_pk != self.case_pk:  # the last case's proposals are not this case's
            self.review.clear()
        self.case_pk = case_pk
        self.timepoints.clear()
        self.responses.show_stored([])
        if case_pk is None:  # a patient row, or nothing: no case's course is shown
            self.spider.clear()
            self.message.setText(NO_CASE)
        else:
            try:
                choices = self._propagation.timepoints(case_pk)
                self.show_course(case_pk)
            except TacePlannerError as error:
                self.message.setText(str(error))
                choices = []
            for choice in choices:
                if choice.kind != "baseline":
                    self.timepoints.addItem(choice.label)
            self.message.setText(
                "" if self.timepoints.count() else "This case has no follow-up timepoint yet."
            )
        self._set_enabled()

    def propose(self) -> None:
        """Register the chosen follow-up to the baseline and propose its contours (a task)."""
        if self.case_pk is None or not self.timepoints.currentText():
            return
        case_pk, label = self.case_pk, self.timepoints.currentText()
        self._run(
            self.propose_button,
            f"Registering {label} to the baseline…",
            _propose_task(self._propagation, case_pk, label),
            "Proposing follow-up contours",
            self._show,
            "propose",
            case_pk,
        )

    def _show(self, result: tuple[Any, Any]) -> None:
        item, course = result
        if item.case_pk != self.case_pk:  # another case (or none) was chosen meanwhile:
            self._set_enabled()  # its proposals are dropped, never confirmable here
            return
        self.review.show_review(item, course)
        # the registration's quality reads above the proposals; here what to do next
        # (a failed registration is said here as well, where the user clicked)
        if item.registration.ok:
            found = sum(1 for proposal in item.proposals if proposal.found)
            stored = sum(1 for proposal in item.proposals if proposal.stored is not None)
            kept = (
                f" {stored} already contoured there: unchecked, so their contours are kept."
                if stored
                else ""
            )
            self.message.setText(
                f"{item.follow_up.label}: {found} of {len(item.proposals)} lesion(s) found; "
                f"check each proposal below, then confirm the checked ones.{kept}"
            )
        else:
            self.message.setText(item.registration.message)
        self._set_enabled()

    def _failed(self, verb: str, error: BaseException, case_pk: int) -> None:
        if case_pk == self.case_pk:  # another case's failure is not this case's
            self.message.setText(f"Cannot {verb}: {error}")
        self._set_enabled()

    def _confirm(self, item: Any, names: list[str], replace: list[str]) -> Any:
        result = self._propagation.confirm(item, names, replace=replace)
        self.show_course(item.case_pk)
        self.course_changed.emit(item.case_pk)
        return result


def _propose_task(propagation: Any, case_pk: int, label: str) -> Any:
    """:meth:`PropagationService.propose` and the case course as a task (one step)."""
    from tace_planner.domain.progress import Progress

    yield Progress(0, 1, f"Registering {label} to the baseline")
    item = propagation.propose(case_pk, label)
    return item, propagation.course(case_pk)


def _assess_task(assessments: Any, case_pk: int, label: str) -> Any:
    """:meth:`AssessmentService.assess` (stored) as a task (one step)."""
    from tace_planner.domain.progress import Progress

    yield Progress(0, 1, f"Assessing {label}")
    return assessments.assess(case_pk, label)
