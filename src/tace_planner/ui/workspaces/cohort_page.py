"""The Cohort workspace's page: the source study's plots on the registry.

Box and strip plot of a variable per group (median, Q1, Q3 of R's type 7 and the test's
p), Kaplan–Meier time to progression after TACE per group with censoring marks and the
number at risk, and the regression of doubling time on volume change with its line and
R². The numbers come from a service (``load(group) -> (tables, plots)``); this page only
draws them, and can save each plot as a PNG.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
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

from tace_planner.domain.errors import TacePlannerError

GROUPINGS = (
    ("metastases_timing", "Synchronous vs metachronous"),
    ("tace_sequence", "TACE immediately vs after chemotherapy"),
    ("primary", "Primary site"),
)
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
PNG_NAMES = ("box_strip.png", "kaplan_meier.png", "regression.png")


def _p(value: float | None) -> str:
    if value is None:
        return "p not computed"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


class CohortPage(QWidget):
    """The page; ``load(group)`` returns (CohortTables, CohortPlots) or raises."""

    def __init__(self, load: Callable[[str], tuple[Any, Any]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("cohort_page")
        self._load = load
        self._plots: Any = None
        self.group_box = QComboBox()
        for key, label in GROUPINGS:
            self.group_box.addItem(label, key)
        self.variable_box = QComboBox()
        self.refresh_button = QPushButton("Refresh")
        self.save_button = QPushButton("Save plots as PNG…")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Groups:"))
        controls.addWidget(self.group_box)
        controls.addWidget(QLabel("Variable:"))
        controls.addWidget(self.variable_box, stretch=1)
        controls.addWidget(self.refresh_button)
        controls.addWidget(self.save_button)
        self.box_plot = pg.PlotWidget(background="w")
        self.km_plot = pg.PlotWidget(background="w")
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
        grid.addWidget(self.regression_plot, 1, 0, 1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addLayout(grid, stretch=1)
        self.refresh_button.clicked.connect(self.refresh)
        self.group_box.currentIndexChanged.connect(self.refresh)
        self.variable_box.currentIndexChanged.connect(self._draw_box)
        self.save_button.clicked.connect(self._ask_save)

    @property
    def plots(self) -> Any:
        """The plots drawn (None before a successful refresh)."""
        return self._plots

    def refresh(self) -> None:
        """Ask the service for the tables and plots of the chosen grouping and draw them."""
        group = str(self.group_box.currentData())
        try:
            tables, plots = self._load(group)
        except TacePlannerError as error:
            self._plots = None
            self.status.setText(f"No cohort plots: {error}")
            for plot in (self.box_plot, self.km_plot, self.regression_plot):
                plot.clear()
            self.risk_table.setText("")
            return
        sizes = ", ".join(f"{name}: {n}" for name, n in tables.group_sizes.items())
        self.status.setText(f"Cases per group — {sizes}. Statistics as in {tables_source(tables)}.")
        self.show_plots(plots)

    def show_plots(self, plots: Any) -> None:
        """Draw ``plots`` (CohortPlots)."""
        self._plots = plots
        current = self.variable_box.currentData()
        self.variable_box.blockSignals(True)
        self.variable_box.clear()
        for box in plots.boxes:
            self.variable_box.addItem(box.label, box.variable)
        index = self.variable_box.findData(current)
        self.variable_box.setCurrentIndex(max(index, 0))
        self.variable_box.blockSignals(False)
        self._draw_box()
        self._draw_km(plots)
        self._draw_regression(plots)

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
            ticks.append((i, f"{name} (n={len(values)})"))
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
        plot.setTitle(f"{box.label}: Me [Q1; Q3], {box.test or 'no test'}, {_p(box.p)}")

    def _draw_km(self, plots: Any) -> None:
        plot = self.km_plot
        plot.clear()
        plot.addLegend(offset=(-10, 10))
        for i, curve in enumerate(plots.curves):
            colour = COLOURS[i % len(COLOURS)]
            median = "not reached" if curve.median is None else f"{curve.median:g} d"
            plot.plot(list(curve.step_x), list(curve.step_y), pen=pg.mkPen(colour, width=2),
                      name=f"{curve.group} (median {median})")  # fmt: skip
            if curve.censored:
                xs, ys = zip(*curve.censored, strict=True)
                plot.addItem(pg.ScatterPlotItem(x=list(xs), y=list(ys), symbol="+", size=10,
                                                pen=pg.mkPen(colour), brush=None))  # fmt: skip
        plot.setYRange(0, 1.02)
        plot.setLabel("bottom", "Days after TACE")
        plot.setLabel("left", "Without progression")
        plot.setTitle(
            f"Time to progression after TACE (Kaplan–Meier), log-rank {_p(plots.logrank_p)}"
        )
        width = max((len(name) for name, _ in plots.at_risk), default=5)
        lines = ["Number at risk".ljust(width) + "".join(f"{t:>7g}" for t in plots.risk_times)]
        for name, counts in plots.at_risk:
            lines.append(name.ljust(width) + "".join(f"{n:>7d}" for n in counts))
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
        r2 = "not computed" if plots.r2 is None else f"{plots.r2:.3f}"
        plot.setTitle(f"Linear regression, R² = {r2}, n = {len(plots.points)}")

    def save_pngs(self, folder: Path) -> list[Path]:
        """Save the three plots as PNG files into ``folder``."""
        folder = Path(folder)
        written = []
        for widget, name in zip(
            (self.box_plot, self.km_panel, self.regression_plot), PNG_NAMES, strict=True
        ):
            path = folder / name
            if not widget.grab().save(str(path)):
                raise TacePlannerError(f"{path}: the PNG could not be written")
            written.append(path)
        return written

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


def tables_source(tables: Any) -> str:
    """Where the statistics' defaults come from (R version), for the status line."""
    from tace_planner.domain.statistics import R_VERSION_MATCHED

    return str(R_VERSION_MATCHED) if tables is not None else ""


def render_cohort_pngs(plots: Any, folder: Path) -> list[Path]:
    """Draw ``plots`` offscreen and save the three PNGs (the command line's ``--png``)."""
    page = CohortPage(lambda group: (None, plots))
    try:
        page.resize(1400, 900)
        page.show_plots(plots)
        page.box_plot.resize(700, 450)
        page.km_panel.resize(700, 450)
        page.regression_plot.resize(1400, 450)
        return page.save_pngs(folder)
    finally:
        page.close()
        page.deleteLater()
