"""The radiologist's follow-up worklist: due this week, overdue, upcoming, done; filters.

It shows what :meth:`FollowupService.worklist` returns and holds no other state. A row
whose window holds a newly imported study of the patient shows that study as proposed;
*Link proposed study* confirms it (``confirm_match``). After an import,
:meth:`WorklistPanel.studies_imported` links the new studies at once when the saved setting
says so (``link_at_once``), else shows them proposed for the user to confirm.

The patient-or-case filter applies while typing (:data:`FILTER_DELAY_MS` after the last key)
to the rows last listed, without asking the service again. Each column is at least wide
enough for its usual text (:data:`COLUMN_MIN_TEXTS`), so that an empty list at
1366 × 768 does not squeeze its headers to "Patient Case TACE…".

The selected row is kept by what it shows (its timepoint, or its TACE session), never by
its position, when the filter or a refresh lists the rows again: the row is selected
again where it now is, or nothing is selected when it is no longer listed. Listing again
never chooses a case (``case_selected`` comes only from the user's choice of a row); the
*Link proposed study* button and the schedule choice then follow the row selected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.person_name import readable_person_name
from tace_planner.services.followup_dto import DueSession, TimepointItem
from tace_planner.ui.widget_sizes import let_shrink

if TYPE_CHECKING:
    from tace_planner.services.followups import FollowupService

COLUMNS = ("Patient", "Case", "TACE", "Timepoint", "Due", "Window", "Status", "Study")
CASE_COLUMN = COLUMNS.index("Case")
COLUMN_MIN_TEXTS = dict(
    zip(
        COLUMNS,
        ("DEMO, Phantom [TD-001]", "DEBIRI course", "TACE 1 · 2026-03-16", "TACE 1 follow-up 4",
         "2026-12-07", "2026-04-27 – 2026-05-25", "overdue", "CT abdomen · CT"),
        strict=True,
    )
)  # fmt: skip
"""Each column is at least as wide as its usual text, in the table's font."""
FILTER_DELAY_MS = 200
"""The patient-or-case filter applies this long after the last key typed."""
CATEGORY_LABELS = {
    "due": "Due this week",
    "overdue": "Overdue",
    "upcoming": "Upcoming",
    "done": "Done",
    "all": "All",
}
SESSION_COLOUR = "#cfe2f3"
STATUS_COLOURS = {"overdue": "#f4c7c3", "due": "#fce8b2", "done": "#d9ead3"}
_PK_ROLE = Qt.UserRole + 1
"""A timepoint row's timepoint pk."""
_SESSION_ROLE = Qt.UserRole + 2
"""A TACE session row's (case pk, session number)."""

RowKey = tuple[str, int, int]
"""What a row shows: ("timepoint", timepoint pk, 0) or ("session", case pk, session number)."""


def _patient(name: str, patient_id: str) -> str:
    """The patient as the app shows people ("DEMO, Phantom [TACE-DEMO-001]"), not the DICOM
    person-name form ("Demo^Phantom")."""
    return f"{readable_person_name(name)} [{patient_id}]"


def _case(title: str, patient: str) -> str:
    """A case as the case list shows it: its title under its patient."""
    return f"Case “{title}” of {patient}" if title else f"Case of {patient}"


def _matches(words: list[str], name: str, patient_id: str, case_title: str) -> bool:
    """True when every word of the filter is in the patient's name or ID or the case title
    (case-insensitive; the name in the DICOM form "Demo^Phantom" and as people read it)."""
    text = " ".join((name, readable_person_name(name), patient_id, case_title)).casefold()
    return all(word in text for word in words)


class WorklistPanel(QWidget):
    """Follow-up timepoints of one category, filtered by radiologist, modality and by words
    of the patient's name or ID or of the case title.

    Selecting a row emits ``case_selected(case pk)``; a change of a case's timepoints made
    here (a study linked, a new schedule) emits ``timepoints_changed(case pk)``.
    """

    case_selected = Signal(int)
    timepoints_changed = Signal(int)  # the case's primary key

    def __init__(
        self,
        service: FollowupService,
        parent: QWidget | None = None,
        *,
        link_at_once: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("worklist_panel")
        self._service = service
        self.link_at_once = link_at_once
        """The setting "link newly imported studies to their expected follow-up at once"."""
        self._items: list[TimepointItem] = []
        self._sessions: list[DueSession] = []
        self._listed: tuple[list[TimepointItem], list[DueSession], str] = ([], [], "all")
        """The rows the service last returned (before the patient-or-case filter), and
        their category."""
        self._refilling = False
        """True while the table is listed again: the selection then changes by no choice."""
        self.category = QComboBox()
        for key, text in CATEGORY_LABELS.items():
            self.category.addItem(text, key)
        self.radiologist = QLineEdit()
        self.radiologist.setPlaceholderText("radiologist")
        # a name, not a sentence: the row's room goes to the schedule's label
        self.radiologist.setMaximumWidth(self.radiologist.fontMetrics().horizontalAdvance("M" * 16))
        self.modality = QComboBox()
        for text, value in (("any modality", ""), ("CT", "CT"), ("MR", "MR")):
            self.modality.addItem(text, value)
        self.case_filter = QLineEdit()
        self.case_filter.setPlaceholderText("patient or case")
        self.case_filter.setToolTip(
            "Show only the rows whose patient name, patient ID or case title holds these words"
        )
        self.case_filter.setMaximumWidth(self.case_filter.fontMetrics().horizontalAdvance("M" * 10))
        self.preset = QComboBox()
        self.preset.setToolTip("Follow-up schedule of the selected row's case (audited)")
        self.preset_label = QLabel("Schedule:")
        self.preset_label.setBuddy(self.preset)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.parameter_problem = ""
        """Why the follow-up parameters cannot be used ("" when they can), shown first."""
        self.reload_presets()
        self.preset.setEnabled(False)
        self.refresh_button = QPushButton("Refresh")
        self.link_button = QPushButton("Link proposed study")
        self.link_button.setEnabled(False)
        for combo in (self.category, self.modality, self.preset):
            let_shrink(combo, characters=10)  # the filters fit a 1400 px window
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        # fitted to the contents at each listing (_size_columns), never below the least
        # width of the column; the user may widen a column
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self._size_columns()
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self._apply_filter)

        filters = QHBoxLayout()
        for widget in (
            self.category, self.radiologist, self.modality, self.case_filter,
            self.refresh_button, self.link_button, self.preset_label, self.preset,
        ):  # fmt: skip
            filters.addWidget(widget)
        filters.setStretchFactor(self.preset, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table)
        layout.addWidget(self.message)

        self.category.currentIndexChanged.connect(self.refresh)
        self.modality.currentIndexChanged.connect(self.refresh)
        self.radiologist.editingFinished.connect(self.refresh)
        self.case_filter.textChanged.connect(self._filter_timer.start)  # while typing
        self.case_filter.editingFinished.connect(self.refresh)  # Enter: listed again
        self.refresh_button.clicked.connect(self.refresh)
        self.link_button.clicked.connect(self.link_selected)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.preset.activated.connect(self._on_preset_chosen)

    def reload_presets(self) -> None:
        """Fill the preset choice from the follow-up parameters in use (after an edit)."""
        current = self.preset.currentData()
        try:
            presets = self._service.parameters.presets
        except TacePlannerError as error:  # a bad followup.json: say it, keep the window
            self.preset.clear()
            self.preset.setEnabled(False)
            self.parameter_problem = f"No new schedule until the file is corrected: {error}. "
            self.message.setText(self.parameter_problem)
            return
        self.parameter_problem = ""
        self.preset.blockSignals(True)
        self.preset.clear()
        for key, preset in presets.items():
            self.preset.addItem(preset.label, key)
        if current is not None:
            self.preset.setCurrentIndex(max(0, self.preset.findData(current)))
        self.preset.blockSignals(False)

    @property
    def items(self) -> list[TimepointItem]:
        """The follow-up timepoints shown (below the due TACE sessions)."""
        return list(self._items)

    @property
    def sessions(self) -> list[DueSession]:
        """The planned TACE sessions shown first (e.g. the second lobe of a sequential plan)."""
        return list(self._sessions)

    def set_category(self, key: str) -> None:
        """Show ``due``, ``overdue``, ``upcoming``, ``done`` or ``all``."""
        self.category.setCurrentIndex(self.category.findData(key))

    def refresh(self) -> None:
        """Ask the service again with the current filters (an error: one line, kept running)."""
        category = str(self.category.currentData())
        radiologist = self.radiologist.text().strip() or None
        modality = str(self.modality.currentData()) or None
        try:
            items = self._service.worklist(category, radiologist=radiologist, modality=modality)
            imaging_filter = radiologist or modality or category == "done"
            sessions = [] if imaging_filter else self._service.due_sessions(category)
        except TacePlannerError as error:
            self.message.setText(str(error))
            return
        self._listed = (list(items), list(sessions), category)
        self._apply_filter()

    def _apply_filter(self) -> None:
        """Show the rows last listed whose patient or case holds the filter's words."""
        self._filter_timer.stop()  # applied now: a pending application is not needed
        case_text = self.case_filter.text().strip()
        words = case_text.replace(",", " ").casefold().split()
        items, sessions, category = self._listed
        self._items = [
            i for i in items if _matches(words, i.patient_name, i.patient_id, i.case_title)
        ]
        self._sessions = [
            s for s in sessions if _matches(words, s.patient_name, s.patient_id, s.case_title)
        ]
        self._fill()
        self._size_columns()
        self.message.setText(self._listing_text(case_text, category))
        self._show_selected()  # the row kept, or none: its link button and schedule

    def _listing_text(self, case_text: str, category: str) -> str:
        """The line under the table on the rows listed."""
        if case_text and not self._items and not self._sessions:
            elsewhere = (
                ""
                if category == "all"
                else f" ({CATEGORY_LABELS[category]}): choose “All” to search every follow-up"
            )
            return f"{self.parameter_problem}No patient or case matches “{case_text}”{elsewhere}"
        proposed = sum(1 for item in self._items if item.proposed_study_uid)
        return (
            self.parameter_problem
            + f"{len(self._items)} timepoint(s)"
            + (f", {len(self._sessions)} TACE session(s) to perform" if self._sessions else "")
            + (f"; {proposed} with a new study to confirm" if proposed else "")
            + (self._empty_hint(category) if not self._items and not self._sessions else "")
        )

    @staticmethod
    def _empty_hint(category: str) -> str:
        """What to do when the list is empty (an empty table alone says nothing)."""
        if category == "all":
            return " — no follow-up scheduled yet: they are planned when a TACE is signed"
        return f" {CATEGORY_LABELS[category].lower()} — choose “All” to see every follow-up"

    def _size_columns(self) -> None:
        """Fit the columns to their contents, each at least its least width."""
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        metrics = header.fontMetrics()
        padding_px = 2 * header.style().pixelMetric(header.style().PixelMetric.PM_HeaderMargin)
        for column, name in enumerate(COLUMNS):
            least = metrics.horizontalAdvance(COLUMN_MIN_TEXTS[name]) + padding_px
            if header.sectionSize(column) < least:
                header.resizeSection(column, least)

    def _fill(self) -> None:
        """List the rows again; the row selected stays selected where it now is (or none
        is, when it is no longer listed), and no case is chosen by it."""
        kept = self._selected_key()
        self._refilling = True
        try:
            self.table.selectionModel().clear()  # no row selected by its old position
            self._fill_rows()
            row = self._row_of(kept)
            if row is not None:
                self.table.selectRow(row)
        finally:
            self._refilling = False

    def _fill_rows(self) -> None:
        offset = len(self._sessions)
        self.table.setRowCount(offset + len(self._items))
        for row, planned in enumerate(self._sessions):
            after = f"after TACE {planned.after_tace}" if planned.after_tace else "planned"
            values = (
                _patient(planned.patient_name, planned.patient_id),
                planned.case_title,
                after,
                planned.label,
                planned.due_on.isoformat() if planned.due_on else "",
                "",
                f"TACE {planned.category}",
                "",
            )
            for column, text in enumerate(values):
                cell = QTableWidgetItem(text)
                cell.setBackground(QBrush(QColor(SESSION_COLOUR)))
                cell.setData(_SESSION_ROLE, (planned.case_pk, planned.session_number))
                if column == CASE_COLUMN:
                    cell.setToolTip(_case(planned.case_title, values[0]))
                self.table.setItem(row, column, cell)
        for row, item in enumerate(self._items, start=offset):
            tace = (
                f"TACE {item.tace_number} · {item.tace_on.isoformat()}"
                if item.tace_on and item.tace_number
                else ""
            )
            study = item.study_text
            if not study and item.proposed_study_uid:
                study = f"proposed: {item.proposed_study_text}"
            values = (
                _patient(item.patient_name, item.patient_id),
                item.case_title,
                tace,
                item.visit_name,  # a placed visit by its schedule slot, as everywhere
                item.due_on.isoformat() if item.due_on else "",
                item.window_text,
                item.category if item.category != "done" else item.status,
                study or "",
            )
            colour = STATUS_COLOURS.get(item.category)
            for column, text in enumerate(values):
                cell = QTableWidgetItem(text)
                cell.setData(_PK_ROLE, item.pk)
                if column == CASE_COLUMN:
                    cell.setToolTip(_case(item.case_title, values[0]))
                if colour:
                    cell.setBackground(QBrush(QColor(colour)))
                self.table.setItem(row, column, cell)

    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def selected_item(self) -> TimepointItem | None:
        """The selected row's timepoint (None for a TACE session row)."""
        row = self._selected_row()
        index = -1 if row is None else row - len(self._sessions)
        return self._items[index] if 0 <= index < len(self._items) else None

    def selected_session(self) -> DueSession | None:
        """The selected row's planned TACE session (None for a timepoint row)."""
        row = self._selected_row()
        return self._sessions[row] if row is not None and row < len(self._sessions) else None

    def _row_key(self, row: int) -> RowKey | None:
        """What row ``row`` shows, read from its cell (see :data:`RowKey`)."""
        cell = self.table.item(row, 0)
        if cell is None:
            return None
        if cell.data(_SESSION_ROLE) is not None:
            case_pk, number = cell.data(_SESSION_ROLE)
            return ("session", int(case_pk), int(number))
        pk = cell.data(_PK_ROLE)
        return None if pk is None else ("timepoint", int(pk), 0)

    def _selected_key(self) -> RowKey | None:
        row = self._selected_row()
        return None if row is None else self._row_key(row)

    def _row_of(self, key: RowKey | None) -> int | None:
        """The row now showing ``key`` (None: not listed)."""
        if key is None:
            return None
        return next((r for r in range(self.table.rowCount()) if self._row_key(r) == key), None)

    def _show_selected(self) -> None:
        """The link button and the schedule choice of the row selected (or of none)."""
        item = self.selected_item()
        self.link_button.setEnabled(bool(item and item.proposed_study_uid))
        self.preset.setEnabled(item is not None)
        if item is not None:
            try:
                preset, _version = self._service.schedule_preset(item.case_pk)
                self.preset.setCurrentIndex(self.preset.findData(preset.key))
            except TacePlannerError as error:
                self.message.setText(str(error))

    def _on_selection(self) -> None:
        """The user chose a row (or none): its case is chosen (not when listing again)."""
        if self._refilling:
            return
        self._show_selected()
        item, session = self.selected_item(), self.selected_session()
        if item is not None:
            self.case_selected.emit(item.case_pk)
        elif session is not None:
            self.case_selected.emit(session.case_pk)

    def _on_preset_chosen(self, index: int) -> None:
        item = self.selected_item()
        if item is None:
            return
        key = str(self.preset.itemData(index))
        try:
            self._service.set_preset(item.case_pk, key)
        except TacePlannerError as error:
            self.message.setText(str(error))
            return
        self.refresh()
        case = _case(item.case_title, _patient(item.patient_name, item.patient_id))
        self.message.setText(f"{case}: schedule {self.preset.itemText(index)}")
        self.timepoints_changed.emit(item.case_pk)

    def studies_imported(self, study_uids: list[str]) -> str:
        """Newly imported studies: linked at once (``link_at_once``) or proposed on their
        rows; the worklist is refreshed and the outcome said in one line (also returned)."""
        try:
            outcome = self._service.studies_imported(study_uids, link_at_once=self.link_at_once)
        except TacePlannerError as error:
            self.message.setText(str(error))
            return str(error)
        text = outcome.message()
        if not text:
            return ""
        if outcome.to_confirm and not outcome.linked:
            self.set_category("due" if self.category.currentData() != "all" else "all")
        self.refresh()
        self.message.setText(text)
        for case_pk in dict.fromkeys(linked.case_pk for linked in outcome.linked):
            self.timepoints_changed.emit(case_pk)
        return text

    def link_selected(self) -> None:
        """Link the selected row's proposed study to its timepoint (the user confirms by
        pressing the button)."""
        item = self.selected_item()
        if item is None or not item.proposed_study_uid:
            return
        try:
            linked = self._service.confirm_match(item.proposed_study_uid, timepoint_pk=item.pk)
        except TacePlannerError as error:
            self.message.setText(str(error))
            return
        self.refresh()
        self.message.setText(f"Study {linked.study_text} linked to {linked.visit_name}")
        self.timepoints_changed.emit(item.case_pk)
