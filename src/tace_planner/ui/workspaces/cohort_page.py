"""The Cohort workspace's page: the source study's plots on the registry.

Box and strip plot of a variable per group (median, Q1, Q3 of R's type 7 and the test's p),
Kaplan–Meier time to progression after TACE per group with censoring marks and the number at
risk, and the regression of doubling time on volume change with its line and R², and the
waterfall of each case's best change from baseline (the RECIST 1.1 sum of the target
diameters, or the total volume of the foci, coloured by group; the Follow-up page's
:class:`WaterfallPlot`). The numbers come from a service (``load(group) -> (tables,
plots)``); this page only draws them, and saves them as PNG files or as one PDF with a plot
per page. The waterfall names its bars as the user knows the cases (Patient ID over case
title, the ID whole when the room between two bars holds it, the title elided; in full in
the tooltip); when the IDs do not fit side by side they go on staggered rows (upright in a
tall plot), each whole, as in a printed figure; saved images name them by pseudonym only.
Under the waterfall, how many cases each reason leaves without a bar. "All cases" keeps the
cohort whole (one Kaplan–Meier curve, one box; no test between groups). Until the user picks
a grouping, the page shows the first one some case has a value for (all cases when none has),
and says which it skipped and where their values are entered (a first view of empty plots
helps no researcher); the registry is read once for that search. Given a task runner, the
service runs off the GUI thread (a registry of thousands of cases takes seconds), the page
saying so meanwhile; a grouping chosen while it runs is computed next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.errors import EmptyColumnError, TacePlannerError
from tace_planner.domain.vocabulary import ALL_CASES, group_value_label
from tace_planner.services.cohort import left_out_summary
from tace_planner.ui.errors import message_for
from tace_planner.ui.panels.empty_plot import (
    fit_axis_title,
    legend_strip,
    show_empty,
    show_scales,
)
from tace_planner.ui.panels.waterfall_plot import AXIS_TITLE, MAX_NAMED_BARS, WaterfallPlot
from tace_planner.ui.panels.waterfall_plot import TITLES as WATERFALL_TITLES

log = logging.getLogger(__name__)

GROUPINGS = (
    (ALL_CASES, "All cases"),
    ("metastases_timing", "Synchronous vs metachronous"),
    ("tace_sequence", "TACE immediately vs after chemotherapy"),
    ("primary", "Primary site"),
    ("grade", "Tumour grade"),
)
DEFAULT_GROUPING = 1
"""Where the search for the first grouping some case has a value for starts (the source
study's: synchronous vs metachronous); all cases (0) come after the last grouping."""
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
PNG_NAMES = ("box_strip.png", "kaplan_meier.png", "regression.png")
WATERFALL_PNG_NAMES = {
    "diameter_sum_percent": "waterfall_diameters.png",
    "volume_percent": "waterfall_volume.png",
}
NOT_COMPUTED = "Not computed yet: press Refresh"
"""What the plots say before the first computation."""
COMPUTING = "Computing the cohort statistics…"
"""What the plots say while the first computation runs."""
NO_TTP = "No case has a time to progression after TACE: see why above the plots"
"""What the Kaplan–Meier says when every case is left out (the status line gives why)."""
ONE_GROUP = "one group: no log-rank test"
"""What the Kaplan–Meier's title says with fewer than two curves: the log-rank test compares
groups, and is not applicable to one (all cases, or one group with a time to progression)."""
NO_WATERFALL = "No waterfall: it needs the follow-up measurements of the registry's cases."
"""What the waterfall says when no case has a best change to draw."""
EMPTY_TITLES = (
    "Variables by group: Me [Q1; Q3]",
    "Time to progression after TACE (Kaplan–Meier)",
    "Linear regression",
)
"""Titles of the three plots while they have nothing to draw (what they will show)."""

REGRESSION_TIP = (
    "Doubling time DT = ΔT·ln 2 / ln(V1/V0) (Schwartz, Cancer 1961): negative when the "
    "tumour shrank (|DT| is its halving time), undefined when the volume did not change, "
    "so it jumps from −∞ to +∞ around a 0 % change. The specific growth rate SGR = "
    "ln(V1/V0)/ΔT = ln 2/DT is defined everywhere and better suited to statistics "
    "(Mehrara et al., Cancer Res 2007); the cohort table gives it (Specific growth "
    "rate, %/day)."
)
"""The regression plot's tooltip when it draws the doubling time."""

BAR_NAME_MIN_CHARS = 10
"""A bar's name keeps about this many characters per line until the plot is laid out."""
BAR_NAME_ROOM = 0.95
"""The share of a bar's slot its name may take: the rest keeps two names apart."""
MAX_NAME_ROWS = 3
"""Staggered Patient IDs take up to this many rows (lines of the axis' height)."""
UPRIGHT_SHARE = 1 / 3
"""Upright Patient IDs may take up to this share of the waterfall's height."""
POINT_AT_A_BAR = f"{AXIS_TITLE} (point at a bar for its Patient ID)"
"""The axis' title when the IDs fit under the bars in no layout: the tooltip names them."""
ENTER_GROUPS = "Case → Dates and groups for the cohort…"
"""Where a case's groups are entered (the Case menu's dialog)."""

MEASURES = (
    ("diameter_sum_percent", "Sum of target diameters (RECIST 1.1)"),
    ("volume_percent", "Total volume of the foci"),
)


def _p(value: float | None) -> str:
    if value is None:
        return "p not computed"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


class CohortPage(QWidget):
    """The page; ``load(group)`` returns (CohortTables, CohortPlots) or raises."""

    def __init__(
        self,
        load: Callable[[str], tuple[Any, Any]],
        parent: QWidget | None = None,
        tasks: Any = None,
    ):
        super().__init__(parent)
        self.setObjectName("cohort_page")
        self._load = load
        self._tasks = tasks
        self._running: str | None = None
        """The grouping being computed off the GUI thread (None when idle)."""
        self._finished_group: str | None = None
        self._plots: Any = None
        self._bars: tuple[Any, ...] = ()
        """The waterfall's bars: the plots', or with a grouping no case has, ungrouped."""
        self._identified = True
        """Bars named by Patient ID · case title (on screen), else by pseudonym (saving)."""
        self.empty_notes: list[Any] = []
        """The texts that say why the plots are empty (none once they are drawn)."""
        self._first_recorded = True
        """Until the user picks a grouping, the page shows the first one some case has a
        value for (a first view of nothing helps no one); :attr:`_skipped` says which not."""
        self._skipped: list[str] = []
        self._switching = False
        self._reuse: Callable[[str], tuple[Any, Any]] | None = None
        """While the page looks for the default grouping: the cohort its first refusal read,
        grouped another way without reading the registry again (the refusal's ``plots``)."""
        self.group_box = QComboBox()
        for key, label in GROUPINGS:
            self.group_box.addItem(label, key)
        self.group_box.setCurrentIndex(DEFAULT_GROUPING)
        self.variable_box = QComboBox()
        self.refresh_button = QPushButton("Refresh")
        self.save_button = QPushButton("Save plots as PNG…")
        self.pdf_button = QPushButton("Save plots as PDF…")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Groups:"))
        controls.addWidget(self.group_box)
        controls.addWidget(QLabel("Variable:"))
        controls.addWidget(self.variable_box, stretch=1)
        controls.addWidget(self.refresh_button)
        controls.addWidget(self.save_button)
        controls.addWidget(self.pdf_button)
        self.box_plot = pg.PlotWidget(background="w")
        self.km_plot = pg.PlotWidget(background="w")
        # under the plot: inside, at 1366 × 768 it lay over the curves' flat tails
        self.km_legend = legend_strip(self.km_plot)
        self.regression_plot = pg.PlotWidget(background="w")
        self.risk_table = QLabel("")
        self.risk_table.setObjectName("number_at_risk")
        self.risk_table.setStyleSheet("font-family: monospace;")
        self.km_panel = QWidget()
        km_layout = QVBoxLayout(self.km_panel)
        km_layout.setContentsMargins(0, 0, 0, 0)
        km_layout.addWidget(self.km_plot, stretch=1)
        km_layout.addWidget(self.risk_table)
        grid = QGridLayout()
        grid.addWidget(self.box_plot, 0, 0)
        grid.addWidget(self.km_panel, 0, 1)
        grid.addWidget(self.regression_plot, 1, 0)
        self.measure_box = QComboBox()
        for key, label in MEASURES:
            self.measure_box.addItem(label, key)
        self.waterfall = WaterfallPlot()
        self.waterfall_panel = QWidget()
        waterfall_layout = QVBoxLayout(self.waterfall_panel)
        waterfall_layout.setContentsMargins(0, 0, 0, 0)
        measure_row = QHBoxLayout()
        measure_row.addWidget(QLabel("Waterfall of the best change:"))
        measure_row.addWidget(self.measure_box, stretch=1)
        waterfall_layout.addLayout(measure_row)
        waterfall_layout.addWidget(self.waterfall, stretch=1)
        grid.addWidget(self.waterfall_panel, 1, 1)
        grid.setRowStretch(0, 1)  # two rows of equal height
        grid.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addLayout(grid, stretch=1)
        self.refresh_button.clicked.connect(self.refresh)
        self.group_box.currentIndexChanged.connect(self._on_grouping_changed)
        self.variable_box.currentIndexChanged.connect(self._draw_box)
        self.save_button.clicked.connect(self._ask_save)
        self.pdf_button.clicked.connect(self._ask_save_pdf)
        self.measure_box.currentIndexChanged.connect(self._draw_waterfall)
        self.waterfall.plot.getViewBox().sigResized.connect(self._name_bars)  # room per bar
        self.waterfall.plot.getViewBox().sigXRangeChanged.connect(self._name_bars)
        for plot in (self.km_plot, self.regression_plot):  # long titles wrap on small screens
            plot.getViewBox().sigResized.connect(lambda _view, plot=plot: fit_axis_title(plot))
        self.waterfall.plot.scene().sigMouseMoved.connect(self._on_waterfall_mouse_moved)
        self._show_empty(NOT_COMPUTED, waterfall_note="")

    @property
    def plots(self) -> Any:
        """The plots drawn (None before a successful refresh)."""
        return self._plots

    @property
    def busy(self) -> bool:
        """True while the service computes off the GUI thread."""
        return self._running is not None

    def _on_grouping_changed(self) -> None:
        if not self._switching:  # the user's choice: shown as chosen, even when empty
            self._first_recorded, self._skipped = False, []
        self.refresh()

    def _next_grouping(self) -> bool:
        """The default grouping has no value in any case: choose the next one, all cases
        after the last (True), or, when even that is refused, go back to the first (False)."""
        self._skipped.append(self.group_box.currentText())
        index = self.group_box.currentIndex()
        if index != 0:  # all cases (0) follow the last grouping
            self._switching = True
            try:  # computes it
                self.group_box.setCurrentIndex((index + 1) % self.group_box.count())
            finally:
                self._switching = False
            return True
        self._reuse = None
        self.group_box.blockSignals(True)
        self.group_box.setCurrentIndex(DEFAULT_GROUPING)
        self.group_box.blockSignals(False)
        return False

    def refresh(self) -> None:
        """Ask the service for the tables and plots of the chosen grouping and draw them
        (until the user picks one: the first grouping some case has a value for)."""
        if self._first_recorded and not self._switching and self._running is None:
            self._skipped = []  # start again from the first: its values may be entered now
            self.group_box.blockSignals(True)
            self.group_box.setCurrentIndex(DEFAULT_GROUPING)
            self.group_box.blockSignals(False)
        if not self._switching:  # a new refresh reads the registry again
            self._reuse = None
        load = self._reuse or self._load
        group = str(self.group_box.currentData())
        if self._tasks is None:
            try:
                self._show(load(group))
            except TacePlannerError as error:
                self._refused(error)
            return
        if self._running is not None:
            return  # the grouping chosen meanwhile is computed when this one ends
        self._running = group
        self.refresh_button.setEnabled(False)
        self.status.setText(f"Computing the cohort statistics ({self.group_box.currentText()})…")
        if self._plots is None:  # nothing drawn yet: no bare 0-1 scales meanwhile
            self._show_empty(COMPUTING, waterfall_note="")
        self._tasks.submit(
            _load_task(load, group),
            title="Cohort statistics",
            on_result=self._loaded,
            on_error=self._load_failed,
        )

    def _loaded(self, result: tuple[Any, Any]) -> None:
        self._settle()
        if not self._refresh_if_changed():
            self._show(result)

    def _load_failed(self, error: BaseException) -> None:
        self._settle()
        if self._refresh_if_changed():
            return
        if not isinstance(error, TacePlannerError):  # a defect: logged, said in one line
            log.error("Cohort statistics", exc_info=error)
        self._refused(error)

    def _settle(self) -> None:
        self._running, self._finished_group = None, self._running
        self.refresh_button.setEnabled(True)

    def _refresh_if_changed(self) -> bool:
        if self._finished_group != str(self.group_box.currentData()):
            self.refresh()
            return True
        return False

    def _show(self, result: tuple[Any, Any]) -> None:
        self._reuse = None
        tables, plots = result
        sizes = ", ".join(
            f"{group_value_label(name)}: {n}" for name, n in tables.group_sizes.items()
        )
        text = f"Cases per group — {sizes}. Statistics as in {tables_source(tables)}."
        left_out = tables.survival.notes  # who the Kaplan–Meier leaves out, why
        if left_out:
            text += " " + "; ".join(left_out) + "."
        if self._skipped:  # why this grouping and not the default
            names = " or ".join(f"“{name}”" for name in self._skipped)
            text = (
                f"Grouped by “{self.group_box.currentText()}”: no case has a value for {names}"
                f" yet (enter it per case: {ENTER_GROUPS}). {text}"
            )
        self.status.setText(text)
        self.show_plots(plots)

    def _refused(self, error: BaseException) -> None:
        self._plots, self._bars = None, ()
        if isinstance(error, EmptyColumnError):
            # the cohort read (the registry's RegistryCohort; None from a spreadsheet): the
            # next grouping is computed from it, and its bars need no grouping
            cohort: Any = error.partial
            self._reuse = None if cohort is None else cohort.plots
            if self._first_recorded and self._next_grouping():
                return  # the next grouping is being computed
            grouping, then = f"“{self.group_box.currentText()}”", "or choose another grouping"
            if self._first_recorded:  # every grouping tried
                grouping, then, self._skipped = "any grouping", "then refresh", []
            self.status.setText(
                f"No plots by group yet: no case has a value for {grouping}."
                f" Enter the groups per case ({ENTER_GROUPS}), {then}."
            )
            reason = f"No case has a value for {grouping}"
            self._bars = () if cohort is None else tuple(cohort.waterfall)
        else:
            self.status.setText(f"No cohort plots: {message_for(error)}")
            reason = "Nothing to plot: see the message above"
        self.risk_table.setText("")
        self.variable_box.clear()
        self._show_empty(reason)
        if self._bars:
            self._draw_waterfall()

    def _show_empty(self, reason: str, waterfall_note: str = NO_WATERFALL) -> None:
        """Each plot titled with what it shows, empty, and saying why in its middle."""
        self.empty_notes = []
        for plot, title in zip((self.box_plot, self.km_plot, self.regression_plot), EMPTY_TITLES,
                               strict=True):  # fmt: skip
            self.empty_notes.append(show_empty(plot, reason))
            plot.setTitle(title)
        self.km_legend.setVisible(False)  # an empty legend would show as a blank strip
        for control in (self.variable_box, self.save_button, self.pdf_button):
            control.setEnabled(False)  # nothing to choose or save
        self.waterfall.clear()
        self.waterfall.note.setText(waterfall_note)

    def show_plots(self, plots: Any) -> None:
        """Draw ``plots`` (CohortPlots)."""
        self._plots, self._bars = plots, tuple(plots.waterfall)
        self.empty_notes = []
        for plot in (self.box_plot, self.km_plot, self.regression_plot):
            show_scales(plot)
        current = self.variable_box.currentData()
        self.variable_box.blockSignals(True)
        self.variable_box.clear()
        for box in plots.boxes:
            self.variable_box.addItem(box.label, box.variable)
        index = self.variable_box.findData(current)
        self.variable_box.setCurrentIndex(max(index, 0))
        self.variable_box.blockSignals(False)
        self.variable_box.setEnabled(bool(plots.boxes))
        self.save_button.setEnabled(True)
        self.pdf_button.setEnabled(True)
        self._draw_box()
        self._draw_km(plots)
        self._draw_regression(plots)
        self._draw_waterfall()

    def _draw_waterfall(self) -> None:
        if self._plots is None and not self._bars:
            return
        bars, measure = self._bars, str(self.measure_box.currentData())
        # all cases: one colour, no legend
        groups = {bar.label: group_value_label(bar.group) for bar in bars if bar.group != ALL_CASES}
        reasons = [bar.left_out.get(measure, "") for bar in bars if getattr(bar, measure) is None]
        # said per reason when every case left out has one (the registry's, a spreadsheet's)
        left_out = left_out_summary(reasons) if all(reasons) else ""
        self.waterfall.show_changes(bars, measure, groups, left_out=left_out)
        if not bars:
            self.waterfall.note.setText(NO_WATERFALL)
        self._name_bars()

    def bar_names(self) -> list[str]:
        """The full name of each bar drawn, in the waterfall's order: Patient ID · case title
        on screen (the pseudonym when no name is known), the pseudonym while saving."""
        names = {bar.label: bar.name for bar in self._bars}
        if not self._identified:
            return list(self.waterfall.order)
        return [names.get(label) or label for label in self.waterfall.order]

    def _name_bars(self) -> None:
        """Tick each bar with its name (the plot names bars only up to
        :data:`MAX_NAMED_BARS`; beyond, and in full, the tooltip names them).

        While every Patient ID fits in its bar's room, level: Patient ID over case title,
        the title elided to the room. Else the Patient IDs alone, each whole, as a printed
        figure names its bars (the case in full in the tooltip): on staggered rows (up to
        :data:`MAX_NAME_ROWS`), else standing upright in a tall enough plot, else none, the
        axis' title saying to point at a bar."""
        order, axis = self.waterfall.order, self.waterfall.name_axis
        self.waterfall.plot.plotItem.setToolTip("")
        self._axis_title(AXIS_TITLE)
        if not order or len(order) > MAX_NAMED_BARS:
            axis.set_layout("level")
            return
        metrics = QFontMetrics(axis.style.get("tickFont") or axis.font())
        room_px = self.bar_room_px()
        if room_px < metrics.averageCharWidth():  # not laid out yet: a resize names them again
            room_px = BAR_NAME_MIN_CHARS * metrics.averageCharWidth()
        names = self.bar_names()
        ids = [name.split(" · ", 1)[0] for name in names]
        widest = max(metrics.horizontalAdvance(text) for text in ids)
        if widest > room_px:  # IDs only, each whole
            axis.setTicks([list(enumerate(ids))])
            if axis.staggered_rows() <= MAX_NAME_ROWS:
                axis.set_layout("staggered")
            elif widest <= UPRIGHT_SHARE * self.waterfall.plot.height():
                axis.set_layout("upright")
            else:  # no room under the bars: the tooltip names them
                axis.set_layout("level")
                axis.setTicks(None)
                self._axis_title(POINT_AT_A_BAR)
            return
        axis.set_layout("level")

        def fit(text: str) -> str:  # Patient ID whole, over the title elided
            return "\n".join(
                metrics.elidedText(part, Qt.TextElideMode.ElideRight, room_px)
                for part in text.split(" · ", 1)
            )

        axis.setTicks([[(i, fit(name)) for i, name in enumerate(names)]])

    def _axis_title(self, title: str) -> None:
        if self.waterfall.name_axis.labelText != title:  # a new title lays the plot out again
            self.waterfall.plot.setLabel("bottom", title)

    def bar_room_px(self) -> int:
        """The width in pixels a bar's name may take, from the view's mapping as laid out:
        the distance between two bars' centres, or the whole view for a single bar (its
        name then reaches into the empty slots beside it), times :data:`BAR_NAME_ROOM`;
        0 before the layout."""
        view = self.waterfall.plot.getViewBox()
        left, right = view.viewRange()[0]
        if right <= left or not self.waterfall.order:
            return 0
        px_per_bar = view.width() / (right - left)
        bars = (right - left) if len(self.waterfall.order) == 1 else 1.0
        return int(BAR_NAME_ROOM * px_per_bar * bars)

    def _on_waterfall_mouse_moved(self, position: QPointF) -> None:
        """Over a bar (or its name): the tooltip names the case in full, with its change."""
        plot, order = self.waterfall.plot, self.waterfall.order
        index = -1
        if order and plot.plotItem.sceneBoundingRect().contains(position):
            x = plot.getViewBox().mapSceneToView(position).x()
            index = round(x)
            index = index if 0 <= index < len(order) and abs(x - index) <= 0.4 else -1
        plot.plotItem.setToolTip(self.bar_tooltip(index) if index >= 0 else "")

    def bar_tooltip(self, index: int) -> str:
        """The waterfall bar ``index`` (in its order): its case in full and its change."""
        label = self.waterfall.order[index]
        name = self.bar_names()[index]
        said = f"{name} ({label} in saved plots and notes)" if name != label else label
        return f"{said}: {self.waterfall.heights[index]:+.1f} %"

    def _draw_box(self) -> None:
        plot = self.box_plot
        plot.clear()
        if self._plots is None or not self._plots.boxes:
            return
        variable = self.variable_box.currentData()
        box = next((b for b in self._plots.boxes if b.variable == variable), self._plots.boxes[0])
        rng = np.random.default_rng(0)  # the same jitter at every redraw
        ticks = []
        for i, (name, values, median, q1, q3) in enumerate(box.groups):
            colour = COLOURS[i % len(COLOURS)]
            ticks.append((i, f"{group_value_label(name)} (n={len(values)})"))
            if q1 is not None and q3 is not None and median is not None:
                brush = pg.mkBrush(colour + "40")
                bar = pg.BarGraphItem(x=[i], height=[q3 - q1], y0=[q1], width=0.5,
                                      brush=brush, pen=colour)  # fmt: skip
                plot.addItem(bar)
                plot.plot([i - 0.25, i + 0.25], [median, median], pen=pg.mkPen(colour, width=3))
            if values:
                jitter = rng.uniform(-0.15, 0.15, len(values))
                plot.addItem(pg.ScatterPlotItem(x=i + jitter, y=list(values), size=7,
                                                brush=pg.mkBrush(colour), pen=None))  # fmt: skip
        plot.getAxis("bottom").setTicks([ticks])
        if len(box.groups) < 2:  # all cases: nothing to compare
            plot.setTitle(f"{box.label}: Me [Q1; Q3], one group: no test")
        else:
            plot.setTitle(f"{box.label}: Me [Q1; Q3], {box.test or 'no test'}, {_p(box.p)}")

    def _draw_km(self, plots: Any) -> None:
        plot = self.km_plot
        plot.clear()
        if not plots.curves:  # every case left out: the status line says why
            self.empty_notes.append(show_empty(plot, NO_TTP))
            plot.setTitle(EMPTY_TITLES[1])
            self.km_legend.setVisible(False)
            self.risk_table.setText("")
            return
        self.km_legend.setVisible(True)
        self.km_legend.setColumnCount(min(len(plots.curves), 2))  # long names: two a line
        for i, curve in enumerate(plots.curves):
            colour = COLOURS[i % len(COLOURS)]
            median = "not reached" if curve.median is None else f"{curve.median:g} d"
            plot.plot(list(curve.step_x), list(curve.step_y), pen=pg.mkPen(colour, width=2),
                      name=f"{group_value_label(curve.group)} (median {median})")  # fmt: skip
            if curve.censored:
                xs, ys = zip(*curve.censored, strict=True)
                plot.addItem(pg.ScatterPlotItem(x=list(xs), y=list(ys), symbol="+", size=10,
                                                pen=pg.mkPen(colour), brush=None))  # fmt: skip
        plot.setYRange(0, 1.02)
        plot.setLabel("bottom", "Days after TACE")
        plot.setLabel("left", "Without progression")
        fit_axis_title(plot)
        test = ONE_GROUP if len(plots.curves) < 2 else f"log-rank {_p(plots.logrank_p)}"
        plot.setTitle(f"Time to progression after TACE (Kaplan–Meier), {test}")
        width = max((len(group_value_label(name)) for name, _ in plots.at_risk), default=5)
        lines = ["Number at risk".ljust(width) + "".join(f"{t:>7g}" for t in plots.risk_times)]
        for name, counts in plots.at_risk:
            lines.append(group_value_label(name).ljust(width) + "".join(f"{n:>7d}" for n in counts))
        self.risk_table.setText("\n".join(lines))

    def _draw_regression(self, plots: Any) -> None:
        plot = self.regression_plot
        plot.clear()
        if plots.points:
            xs, ys = zip(*plots.points, strict=True)
            plot.addItem(pg.ScatterPlotItem(x=list(xs), y=list(ys), size=8,
                                            brush=pg.mkBrush(COLOURS[0]), pen=None))  # fmt: skip
            if plots.slope is not None and plots.intercept is not None:
                line_x = [min(xs), max(xs)]
                line_y = [plots.intercept + plots.slope * x for x in line_x]
                plot.plot(line_x, line_y, pen=pg.mkPen(COLOURS[1], width=2))
        plot.setLabel("bottom", plots.x_label)
        plot.setLabel("left", plots.y_label)
        fit_axis_title(plot)
        plot.setToolTip(REGRESSION_TIP if plots.y_label.startswith("Doubling time") else "")
        r2 = "not computed" if plots.r2 is None else f"{plots.r2:.3f}"
        plot.setTitle(f"Linear regression, R² = {r2}, n = {len(plots.points)}")

    def _images(self) -> list[tuple[str, str, Any]]:
        """(PNG name, caption, QImage) of every plot shown: the box plot of the chosen
        variable, Kaplan–Meier with the number at risk, the regression, and the two
        waterfalls when there are cases with a follow-up."""
        captions = (self.box_plot.plotItem.titleLabel.text,
                    self.km_plot.plotItem.titleLabel.text,
                    self.regression_plot.plotItem.titleLabel.text)  # fmt: skip
        out = [
            (name, _plain(caption), widget.grab().toImage())
            for widget, name, caption in zip(
                (self.box_plot, self.km_panel, self.regression_plot), PNG_NAMES, captions,
                strict=True,
            )
        ]  # fmt: skip
        if self._plots is not None and self._plots.waterfall:
            current = self.measure_box.currentIndex()
            self._identified = False  # a saved plot names no patient: pseudonyms only
            try:
                for index, (measure, _) in enumerate(MEASURES):
                    self.measure_box.setCurrentIndex(index)
                    self._name_bars()
                    out.append((WATERFALL_PNG_NAMES[measure], WATERFALL_TITLES[measure],
                                self.waterfall.grab().toImage()))  # fmt: skip
            finally:
                self._identified = True
                self.measure_box.setCurrentIndex(current)
                self._name_bars()
        return out

    def box_images(self) -> list[tuple[str, Any]]:
        """(caption, QImage) of the box plot of every variable, for the PDF."""
        if self._plots is None:
            return []
        current = self.variable_box.currentIndex()
        out = []
        try:
            for index in range(self.variable_box.count()):
                self.variable_box.setCurrentIndex(index)
                caption = _plain(self.box_plot.plotItem.titleLabel.text)
                out.append((caption, self.box_plot.grab().toImage()))
        finally:
            self.variable_box.setCurrentIndex(current)
        return out

    def save_pngs(self, folder: Path) -> list[Path]:
        """Save the plots as PNG files into ``folder`` (:data:`PNG_NAMES`, and the two
        waterfalls, :data:`WATERFALL_PNG_NAMES`, when there are cases to draw)."""
        folder = Path(folder)
        written = []
        for name, _, image in self._images():
            path = folder / name
            if not image.save(str(path)):
                raise TacePlannerError(f"{path}: the PNG could not be written")
            written.append(path)
        return written

    def save_pdf(self, path: Path) -> Path:
        """Save every plot into one PDF, one per page: a box plot per variable, then
        Kaplan–Meier, the regression and the waterfalls."""
        from tace_planner.ui.cohort_pdf import render_plots_pdf

        others = [(caption, image) for _, caption, image in self._images()[1:]]
        return render_plots_pdf([*self.box_images(), *others], path)

    def _ask_save(self) -> None:
        if self._plots is None:
            self.status.setText("Nothing to save: refresh the plots first.")
            return
        folder = QFileDialog.getExistingDirectory(self, "Save the cohort plots into")
        if folder:
            try:
                paths = self.save_pngs(Path(folder))
            except TacePlannerError as error:
                self.status.setText(str(error))
            else:
                self.status.setText(f"Saved {', '.join(p.name for p in paths)} in {folder}")

    def _ask_save_pdf(self) -> None:
        if self._plots is None:
            self.status.setText("Nothing to save: refresh the plots first.")
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the cohort plots as PDF", "cohort_plots.pdf", "PDF (*.pdf)"
        )
        if name:
            path = Path(name if name.lower().endswith(".pdf") else f"{name}.pdf")
            try:
                self.save_pdf(path)
            except TacePlannerError as error:
                self.status.setText(str(error))
            else:
                self.status.setText(f"Saved the plots, one per page, in {path}")


def _load_task(load: Callable[[str], tuple[Any, Any]], group: str) -> Any:
    """``load(group)`` as a task (one step)."""
    from tace_planner.domain.progress import Progress

    yield Progress(0, 1, "Computing the cohort statistics")
    return load(group)


def _plain(html_text: str) -> str:
    """A plot title without its HTML markup."""
    import re

    return re.sub(r"<[^>]+>", "", html_text).strip()


def tables_source(tables: Any) -> str:
    """Where the statistics' defaults come from (R version), for the status line."""
    from tace_planner.domain.statistics import R_VERSION_MATCHED

    return str(R_VERSION_MATCHED) if tables is not None else ""


def render_cohort_plots(plots: Any, path: Path) -> list[Path]:
    """Draw ``plots`` offscreen and save them: PNG files into the folder ``path`` (the
    command line's ``--png``), or one PDF, a plot per page, when ``path`` ends in ``.pdf``
    (``--pdf``)."""
    page = CohortPage(lambda group: (None, plots))
    try:
        page.resize(1400, 900)
        page.show_plots(plots)
        for widget in (page.box_plot, page.km_panel, page.regression_plot, page.waterfall):
            widget.resize(900, 560)
        if Path(path).suffix.lower() == ".pdf":
            return [page.save_pdf(Path(path))]
        return page.save_pngs(path)
    finally:
        page.close()
        page.deleteLater()
