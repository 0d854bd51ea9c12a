"""Timeline of one case (pyqtgraph): therapy lines, TACEs, imaging, tumour volume and diameters.

Three plots share one date axis: the top one has a lane per therapy line (bars from
start to stop, ▼ at progression), the TACE markers with their delivered irinotecan and
the imaging timepoints (● done, ○ due); below, the total volume of the contoured foci
(cm³) and the RECIST 1.1 sum of the target-lesion diameters (mm) at each imaged
timepoint. Hovering shows the values at the nearest date; *Export PNG* writes the widget
as an image (also for the case report).
It draws a :class:`~tace_planner.services.followup_dto.TimelineData` and holds no other
state.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from tace_planner.services.followup_dto import TimelineData

LINE_COLOUR = "#6d9eeb"
TACE_COLOUR = "#cc0000"
IMAGING_COLOUR = "#38761d"
DUE_COLOUR = "#999999"
DAY_S = 86_400.0
MEASURE_TITLES = (
    "Contoured foci: total volume (cm³)",
    "Target lesions: sum of diameters (mm)",
)
"""What the two lower rows show: the total volume of every focus contoured at the
timepoint; the RECIST 1.1 sum of the target-lesion diameters (Eisenhauer et al., Eur J
Cancer 2009), the sum the response and the cohort waterfall use, drawn only where every
target has a value."""
NO_TARGETS = "No target lesions chosen: mark them at the baseline (Lesions dock)"
"""What the diameter row says when the case has no sum of target diameters to draw."""


def _x(day: dt.date) -> float:
    """Seconds since the epoch at midnight UTC (the date axis' unit)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def _day(x: float) -> dt.date:
    return dt.datetime.fromtimestamp(x, tz=dt.UTC).date()


class TimelinePanel(QWidget):
    """The timeline of a case; :meth:`show_timeline` draws it, :meth:`export_png` saves it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline_panel")
        self._data: TimelineData | None = None
        self._texts: list[tuple[float, str]] = []
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground("w")
        self.events = self.layout_widget.addPlot(
            row=0, col=0, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")}
        )
        self.volume = self.layout_widget.addPlot(
            row=1, col=0, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")}
        )
        self.diameters = self.layout_widget.addPlot(
            row=2, col=0, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")}
        )
        self.volume.setXLink(self.events)
        self.diameters.setXLink(self.events)
        # the measures' names as titles: a vertical axis label needs more height than a
        # row has on a laptop screen (it was cut to "tal volume (cm³)" at 1400 × 860)
        for plot, title in ((self.volume, MEASURE_TITLES[0]), (self.diameters, MEASURE_TITLES[1])):
            plot.setTitle(title, size="9pt", color="#333333")
        # the dates written once, at the bottom; the grid's lines carry them up
        for plot in (self.events, self.volume):
            plot.getAxis("bottom").setStyle(showValues=False)
        for plot in (self.events, self.volume, self.diameters):
            plot.showGrid(x=True, y=False, alpha=0.25)
        self.events.hideAxis("left")
        self.events.setMouseEnabled(y=False)
        self.title = QLabel("No case")
        self.hover = QLabel(" ")
        self.export_button = QPushButton("Export PNG…")
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.layout_widget, 1)
        layout.addWidget(self.hover)
        self.export_button.clicked.connect(self._ask_export)
        self._proxy = pg.SignalProxy(
            self.layout_widget.scene().sigMouseMoved, rateLimit=30, slot=self._mouse_moved
        )

    def clear(self) -> None:
        """No case: empty plots, "No case" as the title."""
        self._data = None
        self._texts = []
        for plot in (self.events, self.volume, self.diameters):
            plot.clear()
        self.title.setText("No case")
        self.hover.setText(" ")

    def show_timeline(self, data: TimelineData) -> None:
        """Draw ``data`` (replacing what was shown)."""
        self._data = data
        self._texts = []
        for plot in (self.events, self.volume, self.diameters):
            plot.clear()
            plot.enableAutoRange()  # the last case's fixed scale does not carry over
        self.title.setText(data.title + (f" — closed {data.closed_on} ({data.closure_reason})"
                                         if data.closed_on else ""))  # fmt: skip
        self._draw_events(data)
        self._draw_measures(data)
        self.events.setXRange(*self._x_range(data), padding=0.02)

    @staticmethod
    def _x_range(data: TimelineData) -> tuple[float, float]:
        """From the first event to two due dates ahead (the later schedule is scrolled to)."""
        days = [line.start_on for line in data.lines] + [t.on for t in data.taces]
        days += [p.on for p in data.points]
        ahead = sorted(t.due_on for t in data.due if t.due_on)[:2]
        days += ahead + ([data.closed_on] if data.closed_on else [])
        if not days:
            today = dt.date.today()
            return _x(today - dt.timedelta(days=180)), _x(today + dt.timedelta(days=180))
        return _x(min(days) - dt.timedelta(days=20)), _x(max(days) + dt.timedelta(days=20))

    def _draw_events(self, data: TimelineData) -> None:
        plot = self.events
        lanes = len(data.lines)
        for index, line in enumerate(data.lines):
            y = lanes - index + 1
            stop = line.stop_on or line.progression_on or dt.date.today()
            bar = pg.BarGraphItem(
                x0=[_x(line.start_on)], x1=[_x(stop)], y=[y], height=0.6,
                brush=LINE_COLOUR, pen=None,
            )  # fmt: skip
            plot.addItem(bar)
            label = pg.TextItem(f"{line.drug}", color="k", anchor=(0, 0.5))
            label.setPos(_x(line.start_on), y)
            plot.addItem(label)
            self._texts.append((_x(line.start_on), f"therapy line {line.line_number}: "
                                f"{line.drug} from {line.start_on}"))  # fmt: skip
            if line.progression_on:
                plot.plot([_x(line.progression_on)], [y + 0.45], pen=None, symbol="t",
                          symbolBrush="k", symbolSize=10)  # fmt: skip
                self._texts.append((_x(line.progression_on),
                                    f"progression on line {line.line_number}"))  # fmt: skip
        y_tace, y_img = 1.0, 0.0
        for y, caption in ((y_tace, "TACE"), (y_img, "imaging")):
            lane = pg.TextItem(caption, color="#555555", anchor=(0, 1))
            lane.setPos(self._x_range(data)[0], y)
            plot.addItem(lane)
        for tace in data.taces:
            x = _x(tace.on)
            plot.addItem(pg.InfiniteLine(x, angle=90, pen=pg.mkPen(TACE_COLOUR, width=1)))
            plot.plot([x], [y_tace], pen=None, symbol="d", symbolBrush=TACE_COLOUR, symbolSize=12)
            dose = f"{tace.delivered_mg:.0f} mg" if tace.delivered_mg is not None else "dose —"
            text = pg.TextItem(f"TACE {tace.number} · {dose}", color=TACE_COLOUR, anchor=(0, 1))
            text.setPos(x, y_tace + 0.1)
            plot.addItem(text)
            self._texts.append((x, f"TACE {tace.number} on {tace.on}: {dose} delivered"))
        done = [p for p in data.points]
        if done:
            plot.plot([_x(p.on) for p in done], [y_img] * len(done), pen=None, symbol="o",
                      symbolBrush=IMAGING_COLOUR, symbolSize=10)  # fmt: skip
        for point in done:
            mark = f" · progression ({point.progression_site})" if point.progression_site else ""
            label = point.response or ("PD" if point.progression_site else "")
            if label:  # response labels are filled in by the response assessment
                text = pg.TextItem(label, color=IMAGING_COLOUR, anchor=(0.5, 1.2))
                text.setPos(_x(point.on), y_img)
                plot.addItem(text)
                mark += f" · {label}" if point.response else ""
            name = point.name or point.label  # the visit as the worklist names it
            self._texts.append((_x(point.on), f"{name} imaged {point.on}{mark}"))
        if data.due:
            plot.plot([_x(t.due_on) for t in data.due if t.due_on], [y_img] * len(data.due),
                      pen=None, symbol="o", symbolBrush=None, symbolPen=DUE_COLOUR,
                      symbolSize=10)  # fmt: skip
            for item in data.due:
                if item.due_on:
                    self._texts.append((_x(item.due_on), f"{item.visit_name} due {item.due_on} "
                                        f"(window {item.window_text})"))  # fmt: skip
        if data.closed_on:
            dashed = pg.mkPen("k", style=Qt.DashLine)
            plot.addItem(pg.InfiniteLine(_x(data.closed_on), angle=90, pen=dashed))
            self._texts.append((_x(data.closed_on), f"follow-up closed: {data.closure_reason}"))
        plot.setYRange(-0.8, lanes + 2.2)

    def _draw_measures(self, data: TimelineData) -> None:
        for plot, attribute, colour in (
            (self.volume, "total_volume_cm3", "#674ea7"),
            (self.diameters, "sum_of_diameters_mm", "#e69138"),
        ):
            points = [(p.on, getattr(p, attribute)) for p in data.points
                      if getattr(p, attribute) is not None]  # fmt: skip
            if not points:
                if plot is self.diameters and data.points:  # imaged, but no target sum
                    note = pg.TextItem(NO_TARGETS, color="#666666", anchor=(0, 0.5))
                    note.setPos(_x(min(p.on for p in data.points)), 0.5)
                    plot.addItem(note)
                    plot.setYRange(0.0, 1.0, padding=0)
                continue
            # from zero, so that a change reads in proportion (one point: no 0.2-unit scale)
            plot.setYRange(0.0, 1.15 * max(v for _, v in points), padding=0)
            plot.plot([_x(d) for d, _ in points], [v for _, v in points],
                      pen=pg.mkPen(colour, width=2), symbol="o", symbolBrush=colour)  # fmt: skip
            for day, value in points:
                unit = "cm³" if attribute == "total_volume_cm3" else "mm"
                name = "total volume" if unit == "cm³" else "target lesions: sum of diameters"
                self._texts.append((_x(day), f"{name} {value:.1f} {unit} on {day}"))

    def hover_text(self, day: dt.date) -> str:
        """What hovering at ``day`` shows: the values at the nearest dated event(s)."""
        if not self._texts:
            return ""
        x = _x(day)
        nearest = min(abs(t - x) for t, _ in self._texts)
        return "; ".join(text for t, text in self._texts if abs(abs(t - x) - nearest) < 1.0)

    def _mouse_moved(self, event: tuple[QPointF]) -> None:
        position = event[0]
        if not self.events.sceneBoundingRect().contains(position) and not any(
            p.sceneBoundingRect().contains(position) for p in (self.volume, self.diameters)
        ):
            return
        x = self.events.vb.mapSceneToView(position).x()
        if x <= 0:
            return
        self.hover.setText(self.hover_text(_day(x)))

    def export_png(self, path: Path) -> Path:
        """Write the timeline (title, plots, hover line) as a PNG; returns the path.

        Raises
        ------
        OSError
            The file cannot be written.
        """
        image = self.grab()
        if not image.save(str(path), "PNG"):
            raise OSError(f"{path}: the image could not be written")
        return path

    def _ask_export(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        name, _ = QFileDialog.getSaveFileName(self, "Export timeline", "timeline.png",
                                              "PNG image (*.png)")  # fmt: skip
        if name:
            try:
                self.export_png(Path(name))
            except OSError as error:
                self.hover.setText(str(error))
