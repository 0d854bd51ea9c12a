"""Lesion list of a case: measurements, burden summary, add/rename/delete, visibility, lock.

Reads come from the contouring service as DTOs; each button is one service call.
Selecting a row emits ``lesion_selected(pk)`` only: the views stay still. A
double click (except on a focus's *Seg.* cell, which opens its editor) or the
row's "Go to lesion" action emits ``jump_requested(point_lps)`` (the lesion's
centroid) so the main window can move the views there.

The Couinaud segment is edited in its cell (a list of segments) or with the
context menu's *Set Couinaud segment…* (with the proposal from the liver
contour); the *Target* box selects RECIST 1.1 target lesions, refused with the
rule it breaks unless the physician gives a reason. Both are audited service
calls. *Values at* chooses the timepoint whose measurements are shown, each follow-up by
the name the Follow-up workspace gives it (its schedule slot when placed in one) when the
panel is given the case's follow-up ``choices``. It lists the baseline, the timepoint shown
and the timepoints with imaging (an imaging date, or a follow-up ``ready``: a study linked
or contours), not the scheduled follow-ups still awaited (slots 4–12 of the demo course
were listed, each with nothing to show).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.errors import TacePlannerError
from tace_planner.services.contouring_dto import LesionItem, MeasurementsItem
from tace_planner.services.visit_names import names_by_label
from tace_planner.ui.dialogs.segment_dialog import NO_SEGMENT
from tace_planner.ui.panels.lesion_edits import LesionEditsMixin, SegmentDelegate
from tace_planner.ui.wording import capitalised

if TYPE_CHECKING:
    from tace_planner.services.contouring import ContouringService

COLUMNS = ("Lesion", "Seg.", "Target", "Volume cm³", "Long mm", "Short mm", "HU", "Enh. %",
           "Show", "Lock")  # fmt: skip
#: The header shown: units on a second line, so that the table fits the dock at 1400 px.
HEADER_LABELS = tuple(c.replace(" cm³", "\ncm³").replace(" mm", "\nmm") for c in COLUMNS)
SEGMENT_COLUMN, TARGET_COLUMN = 1, 2
UNASSIGNED_TIP = (
    "No Couinaud segment: the plan cannot treat this focus. Double-click here, or right-click "
    "→ Set Couinaud segment…"
)


def _num(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


class LesionPanel(LesionEditsMixin, QWidget):
    """Table of lesions with their baseline measurements and the burden F."""

    lesion_selected = Signal(object)  # lesion pk or None
    jump_requested = Signal(object)  # (x, y, z) LPS
    measurement_selected = Signal(object)  # LesionMeasurementItem or None
    visibility_changed = Signal(int, bool)
    lock_changed = Signal(int, bool)
    lesions_edited = Signal()

    def __init__(
        self,
        contouring: ContouringService,
        parent: QWidget | None = None,
        *,
        choices: Callable[[int], list[Any]] | None = None,
    ) -> None:
        super().__init__(parent)
        self._contouring = contouring
        self._choices = choices  # FollowupService.follow_up_choices: the visits' names
        self._names: dict[str, str] = {}  # label → visit name, of the case shown
        self._case_pk: int | None = None
        self._lesions: list[LesionItem] = []
        self._centroids: dict[int, tuple[float, float, float]] = {}
        self._measurements: dict[int, Any] = {}
        self._baseline_measurements: dict[int, Any] = {}  # while a follow-up is shown
        self._timepoint_pk: int | None = None
        self._filling = False
        self.delete_handler: Callable[[int], object] | None = None
        """Deletes a lesion instead of the panel (the contour controller's undoable delete)."""
        self.timepoint_box = QComboBox()
        self.timepoint_box.setObjectName("timepoint_box")
        self.timepoint_box.setToolTip("Whose measurements the list shows: baseline or a follow-up")
        self.timepoint_box.currentIndexChanged.connect(self._on_timepoint_box_changed)
        self.message_label = QLabel("")
        self.message_label.setObjectName("lesion_message")
        self.message_label.setWordWrap(True)
        self.message_label.setVisible(False)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("lesion_table")
        self.table.setHorizontalHeaderLabels(HEADER_LABELS)
        recist = contouring.recist
        self.table.horizontalHeaderItem(COLUMNS.index("Enh. %")).setToolTip(
            f"Share of the focus at or above {recist.enhancing_threshold_hu:g} HU on the "
            f"arterial phase — {recist.enhancing_source()}"
        )
        self.table.horizontalHeaderItem(COLUMNS.index("Long mm")).setToolTip(
            "RECIST 1.1 longest diameter in the patient's axial plane "
            "(Eisenhauer, Eur J Cancer 2009)"
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.DoubleClicked
            | QAbstractItemView.SelectedClicked
            | QAbstractItemView.EditKeyPressed
        )
        self.table.setItemDelegateForColumn(SEGMENT_COLUMN, SegmentDelegate(self))
        self.table.horizontalHeaderItem(SEGMENT_COLUMN).setToolTip(
            "Couinaud segment (Couinaud 1957; Bismuth, World J Surg 1982): double-click to "
            "change, or right-click → Set Couinaud segment… for the proposal from the liver"
        )
        self.table.horizontalHeaderItem(TARGET_COLUMN).setToolTip(
            "RECIST 1.1 target lesion: at most 5 in all and 2 per organ, each ≥ 10 mm "
            "(Eisenhauer, Eur J Cancer 2009)"
        )
        self.table.setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu_requested)
        self.table.verticalHeader().setVisible(False)
        self.burden_label = QLabel("No case")
        self.burden_label.setObjectName("burden_label")
        self.burden_label.setWordWrap(True)
        self.add_button = QPushButton("Add focus")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete")
        buttons = QHBoxLayout()
        for button in (self.add_button, self.rename_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        timepoint_row = QHBoxLayout()
        timepoint_row.addWidget(QLabel("Values at"))
        timepoint_row.addWidget(self.timepoint_box, stretch=1)
        layout = QVBoxLayout(self)
        layout.addLayout(timepoint_row)
        layout.addWidget(self.burden_label)
        layout.addWidget(self.message_label)
        layout.addWidget(self.table, stretch=1)
        layout.addLayout(buttons)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.table.itemChanged.connect(self._on_table_item_changed)
        self.table.cellDoubleClicked.connect(self._on_table_cell_double_clicked)
        # The right-click menu (context_menu) also holds "Go to lesion" for its row.
        self.go_to_action = QAction("Go to lesion", self.table)
        self.go_to_action.setToolTip("Show the selected lesion's centre in the views")
        self.go_to_action.triggered.connect(self.go_to_selected)
        self.table.addAction(self.go_to_action)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.rename_button.clicked.connect(self._on_rename_button_clicked)
        self.delete_button.clicked.connect(self._on_delete_button_clicked)
        self._update_buttons()

    # ------------------------------------------------------------------ data
    @property
    def lesions(self) -> list[LesionItem]:
        """The lesions shown, in table order."""
        return list(self._lesions)

    @property
    def case_pk(self) -> int | None:
        """The case whose lesions are listed (None: no case)."""
        return self._case_pk

    @property
    def timepoint_pk(self) -> int | None:
        """The timepoint whose values are shown (None: the baseline)."""
        return self._timepoint_pk

    def set_case(self, case_pk: int | None) -> None:
        """Show the lesions of a case (None: empty), with the baseline values."""
        changed = case_pk != self._case_pk
        self._case_pk = case_pk
        if changed:
            self._timepoint_pk = None
        self._fill_timepoints()
        self.refresh()

    def show_timepoint(self, timepoint_pk: int | None) -> None:
        """Show the values of a timepoint of the case (None: the baseline)."""
        shown = self._timepoint_pk
        self._timepoint_pk = timepoint_pk
        self._fill_timepoints()  # the baseline becomes None
        if self._timepoint_pk != shown:
            self.refresh()

    def _fill_timepoints(self) -> None:
        case_pk = self._case_pk
        choices = [] if case_pk is None else self._contouring.lesions.timepoints(case_pk)
        if self._timepoint_pk not in {c.pk for c in choices[1:]}:
            self._timepoint_pk = None  # the first (the baseline) or gone
        self._names, imaged = self._visit_names(case_pk)
        choices = [  # the baseline, the one shown, those imaged: not those still awaited
            c for i, c in enumerate(choices)
            if i == 0 or c.pk == self._timepoint_pk or c.imaged_on or c.label in imaged
        ]  # fmt: skip
        blocked = self.timepoint_box.blockSignals(True)
        self.timepoint_box.clear()
        for choice in choices:
            when = f" ({choice.imaged_on.isoformat()})" if choice.imaged_on else ""
            self.timepoint_box.addItem(
                self._names.get(choice.label, choice.label) + when, choice.pk
            )
        if choices:
            current = self._timepoint_pk if self._timepoint_pk is not None else choices[0].pk
            self.timepoint_box.setCurrentIndex(self.timepoint_box.findData(current))
        self.timepoint_box.setEnabled(len(choices) > 1)
        self.timepoint_box.blockSignals(blocked)

    def _visit_names(self, case_pk: int | None) -> tuple[dict[str, str], set[str]]:
        """The case's follow-up labels → the names people read ({} when unknown), and the
        labels of the follow-ups holding imaging (a study linked or contours)."""
        if self._choices is None or case_pk is None:
            return {}, set()
        try:
            choices = self._choices(case_pk)
        except TacePlannerError:
            return {}, set()  # the labels then, and the imaging dates
        return names_by_label(choices), {c.label for c in choices if c.ready}

    def _name(self, measured: MeasurementsItem) -> str:
        """The measured timepoint as people read it."""
        return self._names.get(measured.timepoint_label, measured.timepoint_label)

    def _on_timepoint_box_changed(self, _index: int) -> None:
        data = self.timepoint_box.currentData()
        first = self.timepoint_box.currentIndex() == 0
        self._timepoint_pk = None if data is None or first else data
        self.refresh()

    def refresh(self) -> None:
        """Reread lesions and the shown timepoint's measurements, keeping the selection."""
        selected = self.selected_lesion_pk()
        if self._case_pk is None:
            self._fill([], None)
            self.burden_label.setText("No case")
            return
        lesions = self._contouring.list_lesions(self._case_pk)
        timepoint = "baseline" if self._timepoint_pk is None else self._timepoint_pk
        try:
            measured = self._contouring.measurements(case_pk=self._case_pk, timepoint=timepoint)
        except Exception:  # noqa: BLE001 - no baseline yet: the list still shows
            measured = None
        baseline = None
        if self._timepoint_pk is not None and measured is not None:
            try:
                baseline = self._contouring.measurements(
                    case_pk=self._case_pk, timepoint="baseline"
                )
            except Exception:  # noqa: BLE001 - no baseline: no change shown
                baseline = None
        self._fill(lesions, measured, baseline)
        self.burden_label.setText(_burden_text(measured, bool(lesions), self._names))
        if selected is not None and self.select_lesion(selected):
            # The same row stays selected, so no selection signal: the views' RECIST
            # axes must still follow the new measurement (a correction, a margin).
            self.measurement_selected.emit(self._measurements.get(selected))

    def _fill(
        self,
        lesions: list[LesionItem],
        measured: MeasurementsItem | None,
        baseline: MeasurementsItem | None = None,
    ) -> None:
        self._filling = True
        self._lesions = lesions
        self._centroids = {}
        by_pk = {m.lesion_pk: m for m in measured.lesions} if measured is not None else {}
        self._measurements = by_pk
        self._baseline_measurements = (
            {m.lesion_pk: m for m in baseline.lesions} if baseline is not None else {}
        )
        self.table.setRowCount(len(lesions))
        for row, lesion in enumerate(lesions):
            m = by_pk.get(lesion.pk)
            if m is not None and m.centroid_lps is not None:
                self._centroids[lesion.pk] = m.centroid_lps
            enhancing = (
                None if m is None or m.enhancing_fraction is None else 100 * m.enhancing_fraction
            )
            texts = (
                lesion.name,
                "liver" if lesion.is_liver else (lesion.couinaud_segment or NO_SEGMENT),
                "",
                _num(m.volume_cm3 if m else None, 2),
                _num(m.longest_axial_diameter_mm if m else None, 1),
                _num(m.short_axis_mm if m else None, 1),
                _num(m.mean_hu if m else None, 0),
                _num(enhancing, 0),
            )
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                if column == 0 and lesion.colour:
                    item.setForeground(Qt.GlobalColor.black)
                    item.setBackground(QColor(lesion.colour))
                if m is not None and m.trust not in ("ok", "") and column == 3:
                    item.setToolTip("; ".join(m.notes) or m.trust)
                if column == 3 and m is not None and baseline is not None:
                    item.setToolTip(_change_text(baseline, m))
                if column == 3 and m is None and measured is not None:
                    item.setToolTip(
                        f"{lesion.name} is not contoured at {self._name(measured)}: select "
                        "it and contour it on a series of that timepoint"
                    )
                if column == SEGMENT_COLUMN and not lesion.is_liver:
                    item.setFlags(item.flags() | Qt.ItemIsEditable)
                    if not lesion.couinaud_segment:
                        item.setBackground(QColor("#f5c242"))
                        item.setForeground(Qt.GlobalColor.black)
                        item.setToolTip(UNASSIGNED_TIP)
                if column == TARGET_COLUMN and not lesion.is_liver:
                    item.setFlags(Qt.ItemIsUserCheckable | Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                    item.setCheckState(Qt.Checked if lesion.is_target else Qt.Unchecked)
                    if lesion.target_override_reason:
                        item.setToolTip(f"Target by override: {lesion.target_override_reason}")
                self.table.setItem(row, column, item)
            for column in (8, 9):
                previous = self.table.item(row, column)
                checked = column == 8 if previous is None else previous.checkState()
                box = QTableWidgetItem()
                box.setFlags(Qt.ItemIsUserCheckable | Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                box.setCheckState(Qt.Checked if checked in (True, Qt.Checked) else Qt.Unchecked)
                self.table.setItem(row, column, box)
        self.table.resizeColumnsToContents()
        self._filling = False
        self._update_buttons()

    # ------------------------------------------------------------------ selection
    def selected_lesion_pk(self) -> int | None:
        """The selected lesion's id, or None."""
        rows = {index.row() for index in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        row = rows.pop()
        return self._lesions[row].pk if row < len(self._lesions) else None

    def select_lesion(self, lesion_pk: int) -> bool:
        """Select a lesion's row; False when it is not listed."""
        for row, lesion in enumerate(self._lesions):
            if lesion.pk == lesion_pk:
                self.table.selectRow(row)
                return True
        return False

    def _on_table_selection_changed(self) -> None:
        # A click selects only: the views stay where the user put them (double click: go to).
        pk = self.selected_lesion_pk()
        self._update_buttons()
        self.lesion_selected.emit(pk)
        self.measurement_selected.emit(self._measurements.get(pk) if pk is not None else None)

    def go_to_selected(self) -> bool:
        """Ask the views to show the selected lesion (``jump_requested``); False: nothing shown."""
        pk = self.selected_lesion_pk()
        if pk is None or pk not in self._centroids:
            return False
        self.jump_requested.emit(self._centroids[pk])
        return True

    def _on_table_cell_double_clicked(self, row: int, column: int) -> None:
        if row >= len(self._lesions):
            return
        if column == SEGMENT_COLUMN and not self._lesions[row].is_liver:
            return  # the double click edits the segment: the views stay still
        self.select_lesion(self._lesions[row].pk)
        self.go_to_selected()

    def _on_table_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.row() >= len(self._lesions):
            return
        if item.column() == TARGET_COLUMN:
            lesion = self._lesions[item.row()]
            if not lesion.is_liver and (item.checkState() == Qt.Checked) != lesion.is_target:
                # After the table's own handling of the click: the refresh rebuilds the row.
                from PySide6.QtCore import QTimer

                QTimer.singleShot(0, lambda: self.set_target(lesion.pk, not lesion.is_target))
            return
        if item.column() not in (8, 9):
            return
        pk = self._lesions[item.row()].pk
        checked = item.checkState() == Qt.Checked
        if item.column() == 8:
            self.visibility_changed.emit(pk, checked)
        else:
            self.lock_changed.emit(pk, checked)

    def _update_buttons(self) -> None:
        has_case = self._case_pk is not None
        selected = self.selected_lesion_pk() is not None
        self.add_button.setEnabled(has_case)
        self.rename_button.setEnabled(selected)
        self.delete_button.setEnabled(selected)

    # ------------------------------------------------------------------ actions
    @classmethod
    def ask_name(cls, parent: QWidget, title: str, current: str) -> str | None:
        """Ask for a lesion name (tests monkeypatch this)."""
        text, ok = QInputDialog.getText(parent, title, "Name:", text=current)
        return text if ok else None

    def _on_add_button_clicked(self) -> None:
        if self._case_pk is None:
            return
        change = self._contouring.create_lesion(self._case_pk)
        self.refresh()
        self.select_lesion(change.lesion.pk)
        self.lesions_edited.emit()

    def _on_rename_button_clicked(self) -> None:
        pk = self.selected_lesion_pk()
        if pk is None:
            return
        current = next(item for item in self._lesions if item.pk == pk)
        name = self.ask_name(self, "Rename lesion", current.name)
        if not name:
            return
        try:  # the lesion as shown here: a colleague's rename since is not overwritten
            self._contouring.update_lesion(pk, name=name, expected_version=current.version)
        except Exception as error:  # noqa: BLE001 - shown to the user
            from tace_planner.ui.errors import show_error

            show_error(self, "Cannot rename", error)
            self.refresh()  # a colleague's change: show the lesions as stored
            return
        self.refresh()
        self.lesions_edited.emit()

    @classmethod
    def confirm_delete(cls, parent: QWidget, text: str) -> bool:
        """Ask before deleting a contoured lesion (tests monkeypatch this)."""
        answer = QMessageBox.question(
            parent,
            "Delete lesion",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _on_delete_button_clicked(self) -> None:
        pk = self.selected_lesion_pk()
        if pk is None:
            return
        lesion = next(item for item in self._lesions if item.pk == pk)
        # Contoured at the shown timepoint, or at baseline while a follow-up is shown:
        # the delete takes its contours at every timepoint.
        measured = self._measurements.get(pk) or self._baseline_measurements.get(pk)
        if measured is not None:
            volume = measured.volume_cm3
            size = "not measured yet" if volume is None else f"{volume:.2f} cm³"
            undo = "Edit → Undo brings it back." if self.delete_handler else ""
            text = (
                f"Delete {lesion.name} ({size}) with its contours and measurements? "
                f"The plan will no longer count it. {undo}"
            )
            if not self.confirm_delete(self, text.strip()):
                return
        if self.delete_handler is not None:  # the contour controller: an undoable delete
            self.delete_handler(pk)
            return
        self._contouring.delete_lesion(pk)
        self.refresh()
        self.lesions_edited.emit()


def _change_text(baseline: MeasurementsItem, now: Any) -> str:
    """The volume change of a lesion since baseline, for the volume cell's tooltip."""
    before = next((m for m in baseline.lesions if m.lesion_pk == now.lesion_pk), None)
    if before is None or before.volume_cm3 is None or now.volume_cm3 is None:
        return f"{now.name} has no baseline volume to compare with"
    text = f"Baseline {before.volume_cm3:.2f} cm³ → {now.volume_cm3:.2f} cm³"
    if before.volume_cm3 > 0:
        text += f" ({100 * (now.volume_cm3 / before.volume_cm3 - 1):+.0f} %)"
    return text


def _burden_text(
    measured: MeasurementsItem | None, has_lesions: bool, names: dict[str, str] | None = None
) -> str:
    if measured is None:
        return "No baseline timepoint." if has_lesions else "No lesion contoured yet."
    # An unknown value in words, never "— cm³" or "F = — %".
    v_mts = (
        "V_mts not measured"
        if measured.tumour_volume_cm3 is None
        else f"V_mts {_num(measured.tumour_volume_cm3, 1)} cm³"
    )
    v_liv = (
        "V_liv not measured"
        if measured.liver_volume_cm3 is None
        else f"V_liv {_num(measured.liver_volume_cm3, 0)} cm³"
    )
    burden = (
        "F unknown"
        if measured.burden_percent is None
        else f"F = {_num(measured.burden_percent, 2)} %"
    )
    when = (names or {}).get(measured.timepoint_label, measured.timepoint_label)
    text = f"{capitalised(when)}: {v_mts}, {v_liv}, {burden}"
    if measured.notes:
        text += "\n" + " ".join(measured.notes)
    return text
