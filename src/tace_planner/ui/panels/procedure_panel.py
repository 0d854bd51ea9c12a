"""Procedure panel: the case's procedures, and the form that logs, signs and amends one.

The list shows every TACE of the case with its status (draft / signed / amended);
"Log this session" prefills the form from an approved plan's session. Every edit is
checked by the service (:meth:`ProcedureService.preview`): an impossible value is
shown in red beside its field and cannot be saved, an implausible one in amber must
be confirmed; the delivered dose, the differences from the plan (each with its
reason field) and the risk factors are the service's answer, never computed here.
A signed record is read-only: *Amend…* saves the changes as a new version with a
reason. Keyboard: Tab moves through the form, Ctrl+S saves the draft.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.procedure import FieldProblem, ProcedureFieldError, field_label
from tace_planner.services.procedure_dto import DISCLAIMER
from tace_planner.ui.dialogs.versioned_file_dialog import UnsavedChoice, ask_unsaved_changes
from tace_planner.ui.errors import show_error
from tace_planner.ui.panels.procedure_form import (
    CHOICES,
    FIELDS,
    PLACEHOLDERS,
    TOOLTIPS,
    as_text,
    delivered_line,
    from_text,
)

IMPOSSIBLE_STYLE = "color: #b00020;"
IMPLAUSIBLE_STYLE = "color: #8a5a00;"
RISK_STYLE = "background: #f5c242; color: #3d2c00; padding: 3px;"
STATUS_LABELS = {"draft": "draft", "signed": "signed", "amended": "amended"}

__all__ = ["ProcedurePanel", "delivered_line"]


class ProcedurePanel(QWidget):
    """The procedure log of one case (list + form). Give it a ``ProcedureService``.

    Signals
    -------
    procedure_saved(object)
        A saved, signed or amended ``ProcedureItem``.
    """

    procedure_saved = Signal(object)

    def __init__(
        self,
        procedures: Any,
        parent: QWidget | None = None,
        *,
        key_image: Callable[[int], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("procedure_panel")
        self._procedures = procedures
        self._key_image = key_image
        self._case_pk: int | None = None
        self._loading = False
        self.current: Any = None  # the ProcedureItem shown, or None for a new record
        self.plan_session: tuple[int, int] | None = None  # (plan_pk, session) of a new one
        self.draft: Any = None  # the service's latest preview
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.reason_edits: dict[str, QLineEdit] = {}
        self.confirm: Callable[[str, str], bool] = self._ask_confirm
        self.ask_reason: Callable[[], str | None] = self._ask_reason
        self.ask_unsaved: Callable[[str], UnsavedChoice] = self._ask_unsaved
        self._clean: tuple[Any, ...] = ()  # the form as filled: typed input differs from it
        self._discard_asked = False  # "Discard" answered; carried out by finish_unsaved
        self._reasons: dict[str, str] = {}
        self._choices = dict(CHOICES)
        self._products_problem = ""  # why the catalogue offers no product, said at the field
        try:
            products = list(procedures.products())
        except TacePlannerError as error:
            products, self._products_problem = [], str(getattr(error, "reason", error))
        self._product_names = dict(products)  # code -> the catalogue's display name
        self._choices["product_code"] = [*CHOICES["product_code"], *((n, c) for c, n in products)]
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(200)
        self._preview_timer.timeout.connect(self.refresh_preview)

        layout = QVBoxLayout(self)
        self.header = QLabel("No case selected.")
        self.header.setWordWrap(True)
        layout.addWidget(self.header)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["TACE", "Date", "Status", "Loaded", "Delivered"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMaximumHeight(100)
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        layout.addWidget(self.table)
        starter = QHBoxLayout()
        self.session_combo = QComboBox()
        self.session_combo.setToolTip("Approved plan sessions not logged yet")
        self.log_session_button = QPushButton("Log this session")
        self.log_session_button.clicked.connect(self.log_selected_session)
        self.unplanned_button = QPushButton("Unplanned…")
        self.unplanned_button.setToolTip("Log a procedure without an approved plan")
        self.unplanned_button.clicked.connect(self.new_unplanned)
        starter.addWidget(self.session_combo, stretch=1)
        starter.addWidget(self.log_session_button)
        starter.addWidget(self.unplanned_button)
        layout.addLayout(starter)

        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.delivered_label = QLabel("")
        self.delivered_label.setObjectName("delivered_label")
        self.delivered_label.setWordWrap(True)
        self.delivered_label.setStyleSheet("font-weight: bold;")
        layout.addWidget(self.delivered_label)
        self.problems_label = QLabel("")
        self.problems_label.setObjectName("problems_label")
        self.problems_label.setWordWrap(True)
        self.problems_label.setTextFormat(Qt.TextFormat.PlainText)
        self.problems_label.setStyleSheet(IMPOSSIBLE_STYLE)
        self.problems_label.setVisible(False)
        layout.addWidget(self.problems_label)

        self.differences_box = QGroupBox("Differences from the plan (each needs a reason)")
        self.differences_layout = QFormLayout(self.differences_box)
        layout.addWidget(self.differences_box)
        self.risks_box = QGroupBox("Adverse-event risk factors")
        self.risks_layout = QVBoxLayout(self.risks_box)
        layout.addWidget(self.risks_box)
        for box in (self.differences_box, self.risks_box):  # shown once they hold something
            box.setVisible(False)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.addWidget(self._build_form())
        body_layout.addStretch(1)
        scroll.setWidget(body)
        layout.addWidget(scroll, stretch=1)

        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save draft")
        self.save_button.setToolTip("Ctrl+S")
        self.save_button.clicked.connect(self.save)
        self.sign_button = QPushButton("Sign…")
        self.sign_button.clicked.connect(self.sign)
        self.amend_button = QPushButton("Amend…")
        self.amend_button.clicked.connect(self.amend)
        self.print_button = QPushButton("Procedure note…")
        self.print_button.clicked.connect(self._on_print_clicked)
        for button in (self.save_button, self.sign_button, self.amend_button, self.print_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        disclaimer = QLabel(f"<small>{DISCLAIMER}</small>")
        disclaimer.setWordWrap(True)
        layout.addWidget(disclaimer)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)
        self._set_form_enabled(False)
        self._show_products_problem()

    # -- building --------------------------------------------------------------

    def _build_form(self) -> QGroupBox:
        box = QGroupBox("Procedure record")
        form = QFormLayout(box)
        for key, kind in FIELDS:
            if kind == "choice":
                widget: QWidget = QComboBox()
                for text, value in self._choices[key]:
                    widget.addItem(text, value)
                if key == "product_code":  # a long product name never widens the dock
                    widget.setSizeAdjustPolicy(
                        QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
                    )
                    widget.setMinimumContentsLength(16)
                widget.currentIndexChanged.connect(self._on_edited)
            elif kind == "multiline":
                widget = QPlainTextEdit()
                widget.setTabChangesFocus(True)
                widget.setMaximumHeight(60)
                widget.textChanged.connect(self._on_edited)
            else:
                widget = QLineEdit()
                widget.setPlaceholderText(PLACEHOLDERS.get(key, ""))
                widget.setToolTip(TOOLTIPS.get(key, ""))
                widget.textEdited.connect(self._on_edited)
            widget.setObjectName(f"field_{key}")
            error = QLabel("")
            error.setWordWrap(True)
            error.setVisible(False)
            holder = QWidget()
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(0)
            column.addWidget(widget)
            column.addWidget(error)
            form.addRow(field_label(key), holder)
            self.fields[key] = widget
            self.errors[key] = error
        return box

    # -- case and list -----------------------------------------------------------

    def set_case(self, case_pk: int | None) -> None:
        """Show the procedures of a case (None clears the panel).

        Another case empties the form (ask first with :meth:`resolve_unsaved`); the same
        case again reloads the list and keeps what is typed in the form.
        """
        if case_pk is not None and case_pk == self._case_pk:
            if self.has_unsaved_input():
                self.refresh_list()
            else:
                self.refresh()
            return
        self._case_pk = case_pk
        self.current = None
        self.plan_session = None
        self._close_record()
        self.refresh()

    def _close_record(self) -> None:
        """No record in the form: emptied, disabled, nothing said about it."""
        self._clear_form()
        self._set_form_enabled(False)
        for label in (self.status_label, self.delivered_label, self.problems_label):
            label.setText("")
        self.problems_label.setVisible(False)
        for label in self.errors.values():
            label.setVisible(False)
        self._show_products_problem()
        self._show_differences(())
        self._show_risks(())

    # -- unsaved input -----------------------------------------------------------

    def _snapshot(self) -> tuple[Any, ...]:
        texts: list[Any] = []
        for widget in self.fields.values():
            if isinstance(widget, QComboBox):
                texts.append(widget.currentIndex())
            elif isinstance(widget, QPlainTextEdit):
                texts.append(widget.toPlainText())
            else:
                texts.append(widget.text())
        reasons = {**self._reasons, **{k: e.text() for k, e in self.reason_edits.items()}}
        texts.append(tuple(sorted((k, v) for k, v in reasons.items() if v.strip())))
        return tuple(texts)

    def has_unsaved_input(self) -> bool:
        """True when the form holds input typed since it was filled and not saved."""
        return bool(self._clean) and self._snapshot() != self._clean

    def resolve_unsaved(self) -> bool:
        """Before the form is emptied (another case): ask Save draft / Discard / Cancel when
        it holds unsaved input. True to go on (saved or discarded), False to stay.

        *Discard* is carried out only when the change goes ahead (:meth:`finish_unsaved`,
        called by the case-change guard once every panel has answered): until then the
        input stays in the form and counts as unsaved, so that a change not carried out
        (a later *Cancel*, the New case dialog closed) loses nothing without asking.
        """
        self._discard_asked = False
        if not self.has_unsaved_input():
            return True
        locked = self.current is not None and self.current.locked
        what = (
            f"TACE {self.current.number} procedure record"
            if self.current is not None
            else "The new procedure record"
        )
        choice = self.ask_unsaved(what)
        if choice == "cancel":
            return False
        if choice == "save":
            return (self.amend() if locked else self.save()) is not None
        self._discard_asked = True  # carried out by finish_unsaved(leaving=True)
        return True

    def finish_unsaved(self, leaving: bool) -> None:
        """After every panel answered the unsaved-input question: when ``leaving``, input
        the user discarded goes from the form (a stored record is shown again as stored,
        a new record not saved is closed); else (a *Cancel*) it stays, still unsaved."""
        discard, self._discard_asked = self._discard_asked, False
        if not (discard and leaving):
            return
        if self.current is not None:
            self._fill(self.current.record.to_json())
            self._set_form_enabled(True)
            self._update_buttons()
            self.refresh_preview()
            return
        self.plan_session = None
        self._close_record()
        self.status_label.setText("The new procedure record was discarded (not saved).")

    def _ask_unsaved(self, what: str) -> UnsavedChoice:
        locked = self.current is not None and self.current.locked
        return ask_unsaved_changes(self, what, save_text="Amend…" if locked else "Save draft")

    def refresh_list(self) -> None:
        """Reload the list and the sessions still to log, keeping the form as it is."""
        current, plan_session = self.current, self.plan_session
        self.current = None  # refresh() would refill the form from the stored record
        try:
            self.refresh()
        finally:
            self.current, self.plan_session = current, plan_session

    def refresh(self) -> None:
        """Reload the list and the sessions still to log."""
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        self.session_combo.clear()
        self.table.blockSignals(False)
        if self._case_pk is None:
            self.header.setText("No case selected.")
            self._clear_form()
            self._set_form_enabled(False)
            return
        try:
            items = self._procedures.list_procedures(self._case_pk)
            sessions = self._procedures.approved_sessions(self._case_pk)
            course = self._procedures.course(self._case_pk)
        except TacePlannerError as error:
            show_error(self, "Cannot list the procedures", error)
            return
        self.items = items
        for row, item in enumerate(items):
            self.table.insertRow(row)
            values = (
                f"TACE {item.number}",
                str(item.record.performed_on or "—"),
                STATUS_LABELS.get(item.status, item.status),
                "—" if item.loaded_mg is None else f"{item.loaded_mg:.0f} mg",
                "—" if item.delivered_mg is None else f"{item.delivered_mg:.0f} mg",
            )
            for column, text in enumerate(values):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, item.pk)
                self.table.setItem(row, column, cell)
        for planned in sessions:
            self.session_combo.addItem(
                f"Plan version {planned.plan_version}, session {planned.number}: "
                f"{planned.territory_label} ({planned.loaded_mg:.0f} mg loaded)",
                (planned.plan_pk, planned.number),
            )
        self.log_session_button.setEnabled(bool(sessions))
        due = (
            f"; next: session {course.next_session} due {course.next_session_due_on}"
            if course.next_session is not None and course.next_session_due_on
            else ""
        )
        # An empty table and an empty choice say nothing: say where the sessions come from.
        hint = "" if sessions or items else " — approve the plan (Plan workspace) to log it here"
        self.header.setText(
            f"{course.procedures} TACE signed, {course.delivered_mg:.0f} mg delivered; "
            f"{course.planned_sessions} approved session(s) to do "
            f"({course.planned_mg:.0f} mg planned){due}{hint}"
        )
        if self.current is not None:
            self.show_procedure(self.current.pk)

    def _on_table_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        pk = self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        self.show_procedure(int(pk))

    def show_procedure(self, procedure_pk: int) -> None:
        """Show a saved procedure in the form (read-only once signed)."""
        try:
            item = self._procedures.get(procedure_pk)
        except TacePlannerError as error:
            show_error(self, "Cannot open the procedure", error)
            return
        self.current = item
        self.plan_session = None
        self._fill(item.record.to_json())
        self._set_form_enabled(True)
        self._update_buttons()
        self.refresh_preview()

    # -- starting a record -------------------------------------------------------

    def log_selected_session(self) -> None:
        """Prefill the form from the session chosen in the list of approved sessions."""
        data = self.session_combo.currentData()
        if data is None or self._case_pk is None:
            return
        self.start_from_plan(*data)

    def start_from_plan(self, plan_pk: int, session_number: int) -> None:
        """A new record prefilled from an approved plan's session ("Log this session")."""
        if self._case_pk is None:
            return
        try:
            draft = self._procedures.prefill(self._case_pk, plan_pk, session_number)
        except TacePlannerError as error:
            show_error(self, "Cannot prefill from the plan", error)
            return
        self.current = None
        self.plan_session = (plan_pk, session_number)
        self._fill(draft.record.to_json())
        self._set_form_enabled(True)
        self._update_buttons()
        self.refresh_preview()
        self.fields["performed_on"].setFocus()

    def new_unplanned(self) -> None:
        """An empty record without a plan (flagged as unplanned)."""
        if self._case_pk is None:
            return
        self.current = None
        self.plan_session = None
        self._clear_form()
        self._set_form_enabled(True)
        self._update_buttons()
        self.refresh_preview()
        self.fields["performed_on"].setFocus()

    # -- the form ----------------------------------------------------------------

    def _clear_form(self) -> None:
        self._fill({})

    def _fill(self, data: dict[str, Any]) -> None:
        self._loading = True
        try:
            for key, widget in self.fields.items():
                value = data.get(key)
                if isinstance(widget, QComboBox):
                    self._choose(widget, key, value, data)
                elif isinstance(widget, QPlainTextEdit):
                    widget.setPlainText(str(value or ""))
                else:
                    widget.setText(as_text(key, value))
            self._reasons = dict(data.get("difference_reasons") or {})
            self.reason_edits = {}  # the next preview lays out this record's reasons
        finally:
            self._loading = False
        self._clean = self._snapshot()

    def _choose(self, combo: QComboBox, key: str, value: Any, data: dict[str, Any]) -> None:
        if value is None:
            value = self._choices[key][0][1]
        index = combo.findData(value)
        if index < 0 and key == "product_code" and value:
            # a product the catalogue no longer lists: shown by the name the record keeps
            combo.addItem(str(data.get("product_name") or value), value)
            self._product_names.setdefault(value, str(data.get("product_name") or value))
            index = combo.count() - 1
        combo.setCurrentIndex(max(index, 0))

    def values(self) -> dict[str, Any]:
        """The form as record values (texts; the service coerces and checks them).

        Raises
        ------
        ProcedureFieldError
            An adverse event cannot be read (the field is named).
        """
        values, problems = self._read_form()
        if problems:
            raise problems[0]
        return values

    def _read_form(self) -> tuple[dict[str, Any], list[ProcedureFieldError]]:
        """The form as record values, and the error of each field that cannot be read
        here (that field is left out; the service reads and checks the others)."""
        values: dict[str, Any] = {}
        problems: list[ProcedureFieldError] = []
        for key, widget in self.fields.items():
            if isinstance(widget, QComboBox):
                values[key] = widget.currentData()
            elif isinstance(widget, QPlainTextEdit):
                values[key] = widget.toPlainText()
            else:
                try:
                    values[key] = from_text(key, widget.text())
                except ProcedureFieldError as error:
                    problems.append(error)
        code = values.get("product_code") or ""
        values["product_name"] = self._product_names.get(code, code) if code else ""
        reasons = dict(self._reasons)
        reasons.update({k: e.text() for k, e in self.reason_edits.items()})
        values["difference_reasons"] = {k: v for k, v in reasons.items() if v.strip()}
        return values, problems

    def _set_form_enabled(self, enabled: bool) -> None:
        for widget in self.fields.values():
            widget.setEnabled(enabled)
        for button in (self.save_button, self.sign_button, self.amend_button, self.print_button):
            button.setEnabled(enabled)

    def _update_buttons(self) -> None:
        locked = self.current is not None and self.current.locked
        self.save_button.setEnabled(not locked)
        self.sign_button.setEnabled(self.current is not None and not locked)
        self.amend_button.setEnabled(locked)
        self.print_button.setEnabled(self.current is not None)
        if self.current is None:
            origin = (
                f"New record from plan session {self.plan_session[1]}"
                if self.plan_session
                else "New UNPLANNED record (no approved plan)"
            )
            self.status_label.setText(origin + " — not saved yet.")
        else:
            item = self.current
            text = f"TACE {item.number}: {item.status.upper()} (revision {item.revision})"
            if item.signed_by:
                text += f", signed by {item.signed_by} on {item.signed_at:%Y-%m-%d %H:%M} UTC"
            if locked:
                text += " — locked: change it with Amend… (a reason is required)"
            if len(item.revisions) > 1:
                text += "; earlier versions kept: " + ", ".join(
                    f"rev {r.revision} ({r.amendment_reason or r.status})"
                    for r in item.revisions[:-1]
                )
            self.status_label.setText(text)

    def _on_edited(self) -> None:
        if not self._loading:
            self._preview_timer.start()

    def refresh_preview(self) -> None:
        """Ask the service what the form would show; mark every field with a problem.

        Every field's problem is shown at once (a value that cannot be read does not
        hide the others), each beside its field and all of them, by field name, above
        the form. The delivered dose is shown only when what it comes from is possible.
        """
        self._preview_timer.stop()
        for label in self.errors.values():
            label.setVisible(False)
            label.setText("")
        self.problems_label.setVisible(False)
        self.problems_label.setText("")
        self._show_products_problem()
        if self._case_pk is None:
            return
        values, unreadable = self._read_form()
        try:
            plan_pk, session = self.plan_session or (None, None)
            draft = self._procedures.preview(
                self._case_pk,
                values,
                plan_pk=plan_pk,
                session_number=session,
                procedure_pk=self.current.pk if self.current is not None else None,
            )
        except TacePlannerError as error:
            self.draft = None
            self.status_label.setText(str(error))
            return
        if unreadable:
            read_here = tuple(FieldProblem(e.key, e.reason, "impossible") for e in unreadable)
            draft = replace(draft, problems=(*read_here, *draft.problems))
        self.draft = draft
        for problem in draft.problems:
            self._mark(problem.key, problem.message, problem.kind)
        self._summarise(draft.problems)
        explanation = draft.delivered_explanation
        self.delivered_label.setText(delivered_line(draft))
        self.delivered_label.setToolTip(
            f"{explanation.get('formula', '')}\n{explanation.get('source', '')}"
        )
        impossible = {p.key for p in draft.problems if p.kind == "impossible"}
        # a difference from an impossible value says nothing: the value is corrected first
        self._show_differences([d for d in draft.differences if d.key not in impossible])
        self._show_risks(draft.risk_factors)

    def _show_products_problem(self) -> None:
        """Beside "Product": why no product can be chosen (the catalogue cannot be read)."""
        if self._products_problem:
            self._mark("product_code", self._products_problem, "impossible")

    def _summarise(self, problems: Any) -> None:
        """Above the form, every field that blocks saving by name (the form scrolls)."""
        blocking = [p for p in problems if p.kind == "impossible"]
        if not blocking:
            return
        names = list(dict.fromkeys(p.label for p in blocking))
        lines = [f"{p.label}: {p.message}" for p in blocking]
        self.problems_label.setText(
            f"Cannot be saved — correct {len(names)} field{'s' if len(names) > 1 else ''}:\n"
            + "\n".join(lines)
        )
        self.problems_label.setVisible(True)

    def _mark(self, key: str, message: str, kind: str) -> None:
        label = self.errors.get(key)
        if label is None:
            self.status_label.setText(f"{field_label(key)}: {message}")
            return
        if label.isVisibleTo(self) and label.text():
            # the first problem of a field sets its colour; later ones are added below it
            label.setText(f"{label.text()}\n{message}")
        else:
            label.setText(message)
            label.setStyleSheet(IMPOSSIBLE_STYLE if kind == "impossible" else IMPLAUSIBLE_STYLE)
        label.setVisible(True)

    def _show_differences(self, differences: Any) -> None:
        # reasons typed so far are kept, also for a difference not shown for now
        self._reasons.update({k: e.text() for k, e in self.reason_edits.items()})
        while self.differences_layout.rowCount():
            self.differences_layout.removeRow(0)
        self.reason_edits = {}
        for difference in differences:
            edit = QLineEdit(self._reasons.get(difference.key, difference.reason))
            edit.setObjectName(f"reason_{difference.key}")
            edit.setPlaceholderText("reason (required)")
            edit.setEnabled(not (self.current is not None and self.current.locked))
            self.reason_edits[difference.key] = edit
            planned, actual = difference.planned, difference.actual
            if difference.key == "product_code":  # people read the catalogue's names
                planned = self._product_names.get(planned, planned)
                actual = self._product_names.get(actual, actual)
            self.differences_layout.addRow(f"{difference.label}: {planned} → {actual}", edit)
        self.differences_box.setVisible(bool(differences))

    def _show_risks(self, risks: Any) -> None:
        while self.risks_layout.count():
            widget = self.risks_layout.takeAt(0).widget()
            if widget is not None:
                widget.hide()
                widget.setParent(None)  # gone at once, not at the next event loop turn
                widget.deleteLater()
        for risk in risks:
            banner = QLabel(f"{risk.message} <small>({risk.source})</small>")
            banner.setWordWrap(True)
            banner.setStyleSheet(RISK_STYLE)
            self.risks_layout.addWidget(banner)
        self.risks_box.setVisible(bool(risks))

    # -- actions ---------------------------------------------------------------------

    def _implausible(self) -> list[Any]:
        return [p for p in (self.draft.problems if self.draft else ()) if p.kind == "implausible"]

    def _confirmed(self) -> bool | None:
        """None: an impossible value blocks; else whether implausible values are confirmed."""
        self.refresh_preview()
        if self.draft is None or any(p.kind == "impossible" for p in self.draft.problems):
            return None
        odd = self._implausible()
        if not odd:
            return False
        text = "\n".join(f"{p.label}: {p.message}" for p in odd)
        return True if self.confirm("Confirm unusual values", text) else None

    def save(self) -> Any:
        """Save the form as a new draft, or the shown draft's changes."""
        if self._case_pk is None or (self.current is not None and self.current.locked):
            return None
        confirmed = self._confirmed()
        if confirmed is None:
            return None
        try:
            values = self.values()
            if self.current is None:
                plan_pk, session = self.plan_session or (None, None)
                item = self._procedures.log(
                    self._case_pk, values, plan_pk=plan_pk, session_number=session,
                    confirm_implausible=confirmed,
                )  # fmt: skip
            else:
                item = self._procedures.update_draft(
                    self.current.pk, values, expected_version=self.current.version,
                    confirm_implausible=confirmed,
                )  # fmt: skip
        except TacePlannerError as error:
            show_error(self, "The procedure was not saved", error)
            return None
        return self._saved(item)

    def sign(self) -> Any:
        """Save the draft, then sign it (locked afterwards)."""
        if self.save() is None or self.current is None:
            return None
        try:
            item = self._procedures.sign(self.current.pk, expected_version=self.current.version)
        except TacePlannerError as error:
            show_error(self, "The procedure was not signed", error)
            return None
        return self._saved(item)

    def amend(self) -> Any:
        """Save the form's changes of a signed record as an amendment, with a reason."""
        if self.current is None or not self.current.locked:
            return None
        confirmed = self._confirmed()
        if confirmed is None:
            return None
        reason = self.ask_reason()
        if reason is None:
            return None
        try:
            item = self._procedures.amend(
                self.current.pk, reason, self.values(),
                expected_version=self.current.version, confirm_implausible=confirmed,
            )  # fmt: skip
        except TacePlannerError as error:
            show_error(self, "The amendment was not saved", error)
            return None
        return self._saved(item)

    def _saved(self, item: Any) -> Any:
        self.current = item
        self.plan_session = None
        self.refresh()
        self.procedure_saved.emit(item)
        return item

    def print_note(self, path: Path) -> Path:
        """Write the shown procedure's note as a PDF."""
        from tace_planner.ui.procedure_note import render_procedure_pdf

        key = self._key_image(self.current.case_pk) if self._key_image else None
        return render_procedure_pdf(self.current, path, key)

    def _on_print_clicked(self) -> None:
        if self.current is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Procedure note", f"tace-{self.current.number}.pdf", "PDF (*.pdf)"
        )
        if name:
            try:
                self.print_note(Path(name))
            except (TacePlannerError, OSError) as error:
                show_error(self, "The procedure note was not written", error)

    def _ask_confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text + "\n\nSave these values?")
        return answer == QMessageBox.StandardButton.Yes

    def _ask_reason(self) -> str | None:
        text, ok = QInputDialog.getText(self, "Amend a signed record", "Reason (required):")
        return text if ok else None
