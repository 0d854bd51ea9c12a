"""Planning panel: patient inputs, options, live proposal, warnings, 'why?' on every number."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.body import check_patient_field
from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError, TacePlannerError
from tace_planner.domain.person_name import readable_person_name
from tace_planner.services.planning_dto import DISCLAIMER
from tace_planner.ui.dialogs.approve_plan_dialog import ApprovePlanDialog
from tace_planner.ui.dialogs.versioned_file_dialog import UnsavedChoice, ask_unsaved_changes
from tace_planner.ui.errors import show_error
from tace_planner.ui.number_input import float_or_none
from tace_planner.ui.widget_sizes import let_shrink

BANNER_STYLES = {
    "block": "background: #b00020; color: white;",
    "contraindication": "background: #6a1b9a; color: white;",
    "strong_warning": "background: #d35400; color: white;",
    "warning": "background: #f5c242; color: #3d2c00;",
    "info": "background: #d6eaf8; color: #0b3d62;",
}
_NUMBER_FIELDS = (
    ("height_cm", "Height (cm)"),
    ("weight_kg", "Weight (kg)"),
    ("bilirubin_mg_dl", "Bilirubin (mg/dL)"),
)
_CHOICE_FIELDS = {
    "ecog": ("ECOG", [("not recorded", None), *[(str(n), n) for n in range(5)]]),
    "ugt1a1_status": ("UGT1A1", [("unknown", ""), ("normal", "normal"), ("reduced", "reduced")]),
    "extrahepatic_disease": (
        "Extrahepatic disease",
        [("not recorded", None), ("no", False), ("yes", True)],
    ),
    "ia_lidocaine_planned": (
        "IA lidocaine planned",
        [("not recorded", None), ("yes", True), ("no", False)],
    ),
}
_OPTION_LABELS = {
    "model": "Model",
    "product_code": "Product",
    "schedule": "Sessions",
    "delivery": "Delivery",
    "segments": "Segments",
    "interval_days": "Interval",
    "bsa_formula": "BSA formula",
    "slv_formula": "SLV formula",
    "capacity_mg_per_ml": "Capacity (mg/mL)",
    "vial_bead_volume_ml": "Vial volume (mL)",
    "loading_mg_per_ml": "Loading (mg/mL)",
    "options": "Plan options",
}
FIELD_LABELS = {
    **dict(_NUMBER_FIELDS),
    **{name: label for name, (label, _) in _CHOICE_FIELDS.items()},
    "measured_on": "Measured on",
    **_OPTION_LABELS,
}
"""How each input is named for people in messages ("Weight (kg)", not ``weight_kg``)."""


def field_message(field: str, reason: str) -> str:
    """ "<field as people name it>: <reason>" (unknown fields are shown as given)."""
    return f"{FIELD_LABELS.get(field, field)}: {reason}"


_FIGURES = (
    ("liver_volume_cm3", "Liver volume V_liv", 0, "cm³"),
    ("standard_liver_volume_cm3", "Standard liver volume", 0, "cm³"),
    ("tumour_volume_cm3", "Tumour volume V_mts", 1, "cm³"),
    ("tumour_volume_cm3.right", "  right lobe (V–VIII)", 1, "cm³"),
    ("tumour_volume_cm3.left", "  left lobe (II–IV)", 1, "cm³"),
    ("tumour_volume_cm3.caudate", "  caudate lobe (I)", 1, "cm³"),
    ("burden_percent", "Tumour burden F", 1, "%"),
    ("burden_percent_of_non_tumour_liver", "V_mts / non-tumour liver", 1, "%"),
    ("bsa_m2", "Body surface area", 3, "m²"),
)
_SESSION_NUMBERS = (
    ("tumour_volume_cm3", "Tumour", "{:.1f} cm³"),
    ("beads_ml", "Beads", "{:.2f} mL"),
    ("vials", "Vials", "{}"),
    ("irinotecan_loaded_mg", "Loaded", "{:.0f} mg"),
    ("irinotecan_expected_delivered_mg", "Expected delivered", "{:.0f} mg"),
)
"""The numbers of a session, as rows of the sessions table: (attribute, title, format)."""


class PlanPanel(QWidget):
    """The treatment-planning panel of one case.

    It shows the patient inputs (validated as typed, errors beside the field), the
    planning options, the burden figures and the proposed sessions, each number
    with a *why?* button that opens its explanation (formula, values, source), and
    the advisories as coloured banners. Every change recomputes the proposal with
    ``planning.propose`` (nothing is saved until *Save inputs*, *Save draft* or
    *Approve…*). It binds to nothing global: give it the planning service (the
    real ``PlanningService`` or a fake) and call :meth:`set_case`.

    Signals
    -------
    plan_changed(object)
        The new proposal (or None) after each recomputation.
    plan_saved(object)
        A saved or approved ``PlanItem``.
    """

    plan_changed = Signal(object)
    plan_saved = Signal(object)

    def __init__(
        self,
        planning: Any,
        parent: QWidget | None = None,
        *,
        key_image: Callable[[int], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("plan_panel")
        self._planning = planning
        self._key_image = key_image
        self._case_pk: int | None = None
        self._loading = False
        self._stored_inputs: dict[str, Any] = {}  # as loaded or last saved (unsaved edits differ)
        self._inputs_version = 0  # the stored inputs' version the form started from
        self.input_problem = ""
        """Why the last recomputation failed, the field named for people ("" if it did not)."""
        self.proposal: Any = None
        self.saved_plan: Any = None
        self.value_labels: dict[str, QLabel] = {}
        self.why_buttons: dict[str, QToolButton] = {}
        self._figure_labels: dict[str, QLabel] = {}
        self.ask_unsaved: Callable[[str], UnsavedChoice] = self._ask_unsaved
        """Asks Save / Discard / Cancel about unsaved patient inputs (tests replace it)."""
        self._recompute_timer = QTimer(self)
        self._recompute_timer.setSingleShot(True)
        self._recompute_timer.setInterval(150)
        self._recompute_timer.timeout.connect(self.recompute)

        content = QWidget()
        layout = QVBoxLayout(content)
        disclaimer = QLabel(DISCLAIMER)
        disclaimer.setWordWrap(True)
        disclaimer.setStyleSheet("background: #fff4ce; color: #5c4400; padding: 3px;")
        layout.addWidget(disclaimer)
        self.case_label = QLabel("No case selected.")
        self.case_label.setObjectName("case_label")
        self.case_label.setWordWrap(True)  # a long case title never widens the dock
        layout.addWidget(self.case_label)
        layout.addWidget(self._build_patient_group())
        layout.addWidget(self._build_options_group())
        self.banner_box = QVBoxLayout()
        layout.addLayout(self.banner_box)
        self.banners: list[QLabel] = []
        self.burden_problems = QLabel("")
        self.burden_problems.setObjectName("burden_problems")
        self.burden_problems.setWordWrap(True)
        layout.addWidget(self.burden_problems)
        layout.addWidget(self._build_figures_group())
        self.sessions_group = QGroupBox("Sessions")
        self.sessions_grid = QGridLayout(self.sessions_group)
        layout.addWidget(self.sessions_group)
        layout.addLayout(self._build_buttons())
        self.history_label = QLabel("")
        self.history_label.setObjectName("history_label")
        self.history_label.setWordWrap(True)
        layout.addWidget(self.history_label)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        self._scroll = scroll
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        for combo in content.findChildren(QComboBox):
            let_shrink(combo)
        self._set_enabled(False)

    def minimumSizeHint(self) -> QSize:
        """As narrow as the plan allows without scrolling sideways (the dock's minimum width).

        The content wraps its text and elides its choices, so this stays under a
        third of a 1400 px screen; the height is free (the plan scrolls down).
        """
        scroll = self._scroll
        width = (
            scroll.widget().minimumSizeHint().width()
            + scroll.verticalScrollBar().sizeHint().width()
            + 2 * scroll.frameWidth()
        )
        return QSize(width, super().minimumSizeHint().height())

    # -- construction ------------------------------------------------------

    def _build_patient_group(self) -> QGroupBox:
        group = QGroupBox("Patient")
        form = QFormLayout(group)
        self.field_edits: dict[str, QLineEdit] = {}
        self.field_choices: dict[str, QComboBox] = {}
        self.field_errors: dict[str, QLabel] = {}
        for name, label in _NUMBER_FIELDS:
            edit = QLineEdit()
            edit.setObjectName(name)
            edit.textChanged.connect(self._on_input_changed)
            self.field_edits[name] = edit
            form.addRow(label, self._with_error(name, edit))
        for name, (label, options) in _CHOICE_FIELDS.items():
            combo = QComboBox()
            combo.setObjectName(name)
            for text, value in options:
                combo.addItem(text, value)
            combo.currentIndexChanged.connect(self._on_input_changed)
            self.field_choices[name] = combo
            form.addRow(label, self._with_error(name, combo))
        self.confirm_implausible = QCheckBox("confirm implausible values")
        self.save_inputs_button = QPushButton("Save patient inputs")
        self.save_inputs_button.clicked.connect(self.save_inputs)
        row = QHBoxLayout()
        row.addWidget(self.confirm_implausible)
        row.addWidget(self.save_inputs_button)
        form.addRow(row)
        return group

    def _with_error(self, name: str, widget: QWidget) -> QWidget:
        error = QLabel("")
        error.setObjectName(f"{name}_error")
        error.setStyleSheet("color: #b00020")
        error.setWordWrap(True)
        self.field_errors[name] = error
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(widget, stretch=1)
        row.addWidget(error, stretch=2)
        return box

    def _build_options_group(self) -> QGroupBox:
        group = QGroupBox("Plan options")
        form = QFormLayout(group)
        params, catalogue = self._parameters_or_packaged()
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("model")
        for text, value in (("burden-scaled", "burden"), ("fixed dose (100 mg / 2 mL)", "fixed")):
            self.model_combo.addItem(text, value)
        self.model_combo.setCurrentIndex(self.model_combo.findData(params.value("default_model")))
        self.model_note = QLabel(self._model_note_text(params))
        self.model_note.setWordWrap(True)
        self.model_note.setStyleSheet("color: #555")
        self.product_combo = QComboBox()
        self.product_combo.setObjectName("product")
        for product in catalogue.products:
            self.product_combo.addItem(product.name, product.code)
        self.product_combo.setCurrentIndex(
            self.product_combo.findData(params.value("default_product"))
        )
        self.schedule_combo = QComboBox()
        self.schedule_combo.setObjectName("schedule")
        self.schedule_combo.addItem("one lobe per session (larger burden first)", "sequential")
        self.schedule_combo.addItem("all territories in one session", "single")
        self.delivery_combo = QComboBox()
        self.delivery_combo.setObjectName("delivery")
        self.delivery_combo.addItem("lobar", "lobar")
        self.delivery_combo.addItem("segmental (superselective)", "segmental")
        self.segments_edit = QLineEdit()
        self.segments_edit.setObjectName("segments")
        self.segments_edit.setPlaceholderText("e.g. VI, VIII (empty: all with tumour)")
        self.interval_spin = QSpinBox()
        self.interval_spin.setObjectName("interval_days")
        self.interval_spin.setRange(1, 365)
        self.interval_spin.setValue(int(params.value("lobar_interval_days")))
        self.interval_spin.setSuffix(" days")
        self.bsa_combo = QComboBox()
        self.bsa_combo.setObjectName("bsa_formula")
        self.bsa_combo.addItem("Mosteller", "mosteller")
        self.bsa_combo.addItem("DuBois", "dubois")
        self.slv_combo = QComboBox()
        self.slv_combo.setObjectName("slv_formula")
        self.slv_combo.addItem("Urata", "urata")
        self.slv_combo.addItem("Vauthey", "vauthey")
        self.capacity_edit = QLineEdit()
        self.capacity_edit.setObjectName("capacity_mg_per_ml")
        self.capacity_edit.setPlaceholderText("only for a product without a capacity")
        self.vial_edit = QLineEdit()
        self.vial_edit.setObjectName("vial_bead_volume_ml")
        self.vial_edit.setPlaceholderText("only for a product without a vial volume")
        self.options_error = QLabel("")
        self.options_error.setObjectName("options_error")
        self.options_error.setStyleSheet("color: #b00020")
        self.options_error.setWordWrap(True)
        form.addRow("Model", self.model_combo)
        form.addRow(self.model_note)
        form.addRow("Product", self.product_combo)
        form.addRow("Sessions", self.schedule_combo)
        form.addRow("Delivery", self.delivery_combo)
        form.addRow("Segments", self.segments_edit)
        form.addRow("Interval", self.interval_spin)
        form.addRow("BSA formula", self.bsa_combo)
        form.addRow("SLV formula", self.slv_combo)
        form.addRow("Capacity (mg/mL)", self.capacity_edit)
        form.addRow("Vial volume (mL)", self.vial_edit)
        form.addRow(self.options_error)
        for combo in (
            self.model_combo,
            self.product_combo,
            self.schedule_combo,
            self.delivery_combo,
            self.bsa_combo,
            self.slv_combo,
        ):
            combo.currentIndexChanged.connect(self._on_input_changed)
        for edit in (self.segments_edit, self.capacity_edit, self.vial_edit):
            edit.textChanged.connect(self._on_input_changed)
        self.interval_spin.valueChanged.connect(self._on_input_changed)
        return group

    @staticmethod
    def _model_note_text(params: Any) -> str:
        k = params.values["embolic_capacity_ml_per_cm3"]
        cap = params.value("per_session_cap_mg")
        return (
            f"Burden-scaled: beads = tumour volume × k, k = {k.value:g} mL per cm³ "
            "(institutional default: no publication links bead volume or dose to tumour "
            f"volume). The burden sets beads, vials and sessions; each session stays within "
            f"the {cap:g} mg session limit ({params.cite('per_session_cap_mg')})."
        )

    def _parameters_or_packaged(self) -> tuple[Any, Any]:
        """The parameters and catalogue to lay out the options with (the packaged ones when
        the institution's file is refused: every proposal then says why)."""
        if hasattr(self._planning, "parameters_for_display"):
            params, catalogue, _ = self._planning.parameters_for_display()
            return params, catalogue
        return self._planning.parameters, self._planning.catalogue

    def _build_figures_group(self) -> QGroupBox:
        group = QGroupBox("Burden and body")
        self.figures_grid = QGridLayout(group)
        for row, (key, label, _, _) in enumerate(_FIGURES):
            self.figures_grid.addWidget(QLabel(label), row, 0)
            value = QLabel("—")
            value.setObjectName(f"figure:{key}")
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            self.figures_grid.addWidget(value, row, 1)
            self.figures_grid.addWidget(self._why_button(key), row, 2)
            self._figure_labels[key] = value
        return group

    def _build_buttons(self) -> QVBoxLayout:
        row = QHBoxLayout()
        self.save_draft_button = QPushButton("Save draft")
        self.save_draft_button.clicked.connect(self.save_draft)
        self.approve_button = QPushButton("Approve…")
        self.approve_button.clicked.connect(self.approve)
        self.print_button = QPushButton("Print plan sheet…")
        self.print_button.clicked.connect(self._on_print_clicked)
        for button in (self.save_draft_button, self.approve_button, self.print_button):
            row.addWidget(button)
        row.addStretch(1)
        self.action_message = QLabel("")
        self.action_message.setObjectName("action_message")
        self.action_message.setWordWrap(True)
        self.action_message.setStyleSheet("color: #b00020; font-weight: bold")
        self.action_message.hide()
        column = QVBoxLayout()
        column.addLayout(row)
        column.addWidget(self.action_message)
        return column

    def _why_button(self, key: str) -> QToolButton:
        button = QToolButton()
        button.setText("why?")
        button.setObjectName(f"why:{key}")
        button.setEnabled(False)
        button.clicked.connect(lambda _=False, k=key: self.show_why(k))
        self.why_buttons[key] = button
        return button

    # -- case and inputs ------------------------------------------------------

    def set_case(self, case_pk: int | None) -> None:
        """Show the plan of this case (None: no case), loading its stored inputs."""
        self._case_pk = case_pk
        self.saved_plan = None
        self.input_problem = ""
        self._say("")
        self.model_note.setText(self._model_note_text(self._parameters_or_packaged()[0]))
        self._set_enabled(case_pk is not None)
        if case_pk is None:
            self.case_label.setText("No case selected.")
            self._show(None)
            return
        try:
            item = self._planning.clinical_inputs(case_pk)
        except TacePlannerError as error:
            self.case_label.setText(str(error))
            self._show(None)
            return
        stored = item.inputs
        self._inputs_version = item.version or 0
        self._loading = True
        try:
            for name, edit in self.field_edits.items():
                value = getattr(stored, name)
                # every digit: the approval compares the plan's inputs with the stored ones
                edit.setText("" if value is None else f"{value:.10g}")
            for name, combo in self.field_choices.items():
                index = combo.findData(getattr(stored, name))
                combo.setCurrentIndex(max(index, 0))
        finally:
            self._loading = False
        self._stored_inputs = self.patient_values()[0]
        self.recompute()
        self._show_history()

    def inputs_unsaved(self) -> bool:
        """True when the patient inputs in the form differ from the stored ones (an entry
        that cannot be used, such as "7500" kg or "abc", differs from every stored value)."""
        if self._case_pk is None:
            return False
        values, problems = self.patient_values()
        unusable = any(values.get(name) is None for name in problems)
        return unusable or values != self._stored_inputs

    def resolve_unsaved(self) -> bool:
        """Before the window leaves this case: True to go on, False to stay on it.

        With patient inputs typed and not saved it asks Save / Discard / Cancel (the
        words of the parameter dialogs). *Save* stores them as *Save patient inputs*
        does; when that is refused (an impossible value, a colleague's newer values) the
        reason is shown beside the field and the user stays on the case. *Discard*
        goes on (the next case loads its own inputs); *Cancel* stays.
        """
        if not self.inputs_unsaved():
            return True
        if self._recompute_timer.isActive():  # the form's last keystroke, planned first
            self.recompute()
        name = ""
        if self.proposal is not None:
            name = readable_person_name(self.proposal.case.patient_name)
        choice = self.ask_unsaved(f"Patient inputs{f' of {name}' if name else ''}")
        if choice == "save":
            return self.save_inputs()
        return choice == "discard"

    def _ask_unsaved(self, what: str) -> UnsavedChoice:
        return ask_unsaved_changes(self, what, save_text="Save patient inputs")

    def patient_values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The patient values entered, and a message per field that cannot be used."""
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for name, edit in self.field_edits.items():
            text = edit.text().strip().replace(",", ".")
            if not text:
                values[name] = None
                continue
            try:
                value: Any = float(text)
            except ValueError:
                problems[name] = f"{text!r} is not a number"
                continue
            values[name] = value
        for name, combo in self.field_choices.items():
            values[name] = combo.currentData()
        for name, value in list(values.items()):
            problem = check_patient_field(name, value)
            if problem is not None:
                problems[name] = problem.message
                if problem.kind == "impossible":
                    values[name] = None  # unusable: planned as not entered, never saved
        for name in problems:
            values.setdefault(name, None)
        return values, problems

    def options(self) -> dict[str, Any]:
        """The planning options chosen (the ``PlanOptions`` JSON form)."""
        segments = [s.strip() for s in self.segments_edit.text().replace(";", ",").split(",")]
        return {
            "model": self.model_combo.currentData(),
            "product_code": self.product_combo.currentData(),
            "schedule": self.schedule_combo.currentData(),
            "delivery": self.delivery_combo.currentData(),
            "segments": [s for s in segments if s],
            "interval_days": self.interval_spin.value(),
            "bsa_formula": self.bsa_combo.currentData(),
            "slv_formula": self.slv_combo.currentData(),
            "capacity_mg_per_ml": float_or_none(self.capacity_edit.text()),
            "vial_bead_volume_ml": float_or_none(self.vial_edit.text()),
        }

    def _on_input_changed(self) -> None:
        if not self._loading and self._case_pk is not None:
            self._recompute_timer.start()

    def recompute(self) -> None:
        """Ask the service for a new proposal from the current inputs and show it."""
        self._recompute_timer.stop()
        if self._case_pk is None:
            return
        values, problems = self.patient_values()
        for name, label in self.field_errors.items():
            label.setText(problems.get(name, ""))
        self.options_error.setText("")
        self.input_problem = ""
        try:
            proposal = self._planning.propose(
                self._case_pk, options=self.options(), patient_changes=values
            )
        except InvalidInputError as error:
            self.input_problem = field_message(error.field, error.reason)
            self.input_problem += self._parameter_file_hint(error)
            target = self.field_errors.get(error.field, self.options_error)
            target.setText(error.reason if target is not self.options_error else self.input_problem)
            self._update_buttons()
            return
        except TacePlannerError as error:
            self.input_problem = str(error)
            self.options_error.setText(str(error))
            self._update_buttons()
            return
        self._say("")
        self._show(proposal)

    def _parameter_file_hint(self, error: InvalidInputError) -> str:
        """How to fix a refused parameter file (the field names a .json file)."""
        if error.field.endswith(".json"):
            return " Correct it in Case → Planning parameters."
        return ""

    def unsaveable_inputs(self) -> str:
        """Why the entries cannot be saved in a plan, naming the field ("" when they can).

        A value that is impossible, or implausible and not confirmed, and an option
        the planner refuses, keep *Save draft* and *Approve…* from saving anything.
        """
        values, problems = self.patient_values()
        confirmed = self.confirm_implausible.isChecked()
        for name, message in problems.items():
            if values.get(name) is None or not confirmed:
                return field_message(name, message)
        return self.input_problem

    def _say(self, text: str) -> None:
        """Show (or clear) the message under the plan buttons."""
        self.action_message.setText(text)
        self.action_message.setVisible(bool(text))

    def _refuse(self, action: str) -> bool:
        """Say why ``action`` cannot run now and return True; False when it can."""
        if self._recompute_timer.isActive():  # an edit is still waiting to be planned
            self.recompute()
        problem = self.unsaveable_inputs()
        if problem:
            self._say(f"{action}: not saved — {problem}")
            return True
        if self.proposal is None:
            self._say(f"{action}: not saved — there is no proposal to save yet.")
            return True
        return False

    def save_inputs(self) -> bool:
        """Store the patient inputs; on an error show it beside the field and save nothing."""
        if self._case_pk is None:
            return False
        values, problems = self.patient_values()
        try:
            for name, message in problems.items():
                if values.get(name) is None or not self.confirm_implausible.isChecked():
                    raise InvalidInputError(name, message)
            item = self._planning.set_clinical_inputs(
                self._case_pk,
                confirm_implausible=self.confirm_implausible.isChecked(),
                expected_version=self._inputs_version,
                **values,
            )
        except ConcurrentEditError as error:  # a colleague saved them meanwhile
            self._say(f"Patient inputs not saved: {error}.")
            return False
        except InvalidInputError as error:
            label = self.field_errors.get(error.field)
            if label is None:
                self.options_error.setText(field_message(error.field, error.reason))
            else:
                label.setText(error.reason)
                self._focus(error.field)
            self._say("Patient inputs not saved — " + field_message(error.field, error.reason))
            return False
        for label in self.field_errors.values():
            label.setText("")
        self._inputs_version = item.version or 0
        self._stored_inputs = values
        self._say("")
        self.recompute()
        return True

    def _focus(self, field: str) -> None:
        widget = self.field_edits.get(field) or self.field_choices.get(field)
        if widget is not None:
            widget.setFocus()

    # -- showing ----------------------------------------------------------------

    def _set_enabled(self, enabled: bool) -> None:
        for button in (self.save_inputs_button, self.save_draft_button, self.print_button):
            button.setEnabled(enabled)
        self._update_buttons()

    def _show(self, proposal: Any) -> None:
        self.proposal = proposal
        for banner in self.banners:
            self.banner_box.removeWidget(banner)
            discard_widget(banner)
        self.banners = []
        if proposal is None:
            for key, label in self._figure_labels.items():
                label.setText("—")
                self.why_buttons[key].setEnabled(False)
            self._show_sessions(None)
            self.burden_problems.setText("")
            self._update_buttons()
            self.plan_changed.emit(None)
            return
        case = proposal.case
        self.case_label.setText(
            f"<b>{html.escape(readable_person_name(case.patient_name))}</b> "
            f"[{html.escape(case.patient_id)}] — {html.escape(case.case_title)}; "
            f"planned TACE {case.planned_tace_on or 'not set'}"
        )
        for advisory in proposal.advisories:
            # The source cited on the banner itself, as the printed plan does: a tooltip
            # alone is found by few.
            source = f" <small>({html.escape(advisory.source)})</small>" if advisory.source else ""
            banner = QLabel(
                f"<b>{advisory.severity.replace('_', ' ').upper()}</b>: "
                f"{html.escape(advisory.message)}{source}"
            )
            banner.setObjectName(f"banner:{advisory.severity}:{advisory.code}")
            banner.setWordWrap(True)
            banner.setToolTip(advisory.source)
            banner.setStyleSheet(BANNER_STYLES[advisory.severity] + " padding: 3px;")
            self.banner_box.addWidget(banner)
            self.banners.append(banner)
        self.burden_problems.setText("\n".join(proposal.burden.problems))
        for key, _, digits, unit in _FIGURES:
            value = proposal.figures.get(key)
            text = "—" if value is None else f"{value:.{digits}f} {unit}"
            self._figure_labels[key].setText(text)
            explanation = proposal.explanation(key)
            self.why_buttons[key].setEnabled(explanation is not None)
            self._figure_labels[key].setToolTip(explanation.to_text() if explanation else "")
        self._show_sessions(proposal)
        self._update_buttons()
        self.plan_changed.emit(proposal)

    def approve_refusal(self) -> str:
        """Why the current proposal cannot be approved ("" when it can)."""
        proposal = self.proposal
        if self._case_pk is None:
            return "Select a case first."
        if self.input_problem:
            return f"Correct the entries first — {self.input_problem}"
        if proposal is None:
            return "No proposal yet."
        if proposal.blocked:
            blocks = [a.message for a in proposal.advisories if a.severity == "block"]
            return "Nothing to approve: the plan is blocked — " + " ".join(blocks)
        if not proposal.sessions:
            return "Nothing to approve: the plan has no session (no dose proposed)."
        return ""

    def _update_buttons(self) -> None:
        """Approve only what can be approved; the tooltip says why not."""
        refusal = self.approve_refusal()
        self.approve_button.setEnabled(not refusal)
        self.approve_button.setToolTip(
            refusal or "Review the warnings, override if needed, and approve this plan."
        )
        self.save_draft_button.setEnabled(self._case_pk is not None)

    def _show_sessions(self, proposal: Any) -> None:
        """One column per session, one row per number (see :data:`_SESSION_NUMBERS`).

        A plan has at most three sessions (one per lobe, the caudate joining the
        first), so the columns stay narrow enough for the dock on a 1400 px screen,
        and the sessions read side by side; a row per session with eight columns did not.
        """
        while self.sessions_grid.count():
            item = self.sessions_grid.takeAt(0)
            if item.widget() is not None:
                discard_widget(item.widget())
        for key in [k for k in self.why_buttons if k.startswith("session")]:
            del self.why_buttons[key]
        self.value_labels = {
            k: v for k, v in self.value_labels.items() if not k.startswith("session")
        }
        if proposal is None or not proposal.sessions:
            text = "No dose proposed." if proposal is not None else ""
            self.sessions_grid.addWidget(QLabel(text), 0, 0)
            self.updateGeometry()
            return
        for column, session in enumerate(proposal.sessions, start=1):
            when = f"day {session.day}" + (f" · {session.on.isoformat()}" if session.on else "")
            header = QLabel(
                f"<b>Session {session.number}</b><br>{when}<br>"
                f"{html.escape(session.territory_label)}"
            )
            header.setObjectName(f"session_header:{session.number}")
            header.setWordWrap(True)
            header.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            self.sessions_grid.addWidget(header, 0, column)
            self.sessions_grid.setColumnStretch(column, 1)
        for row, (name, title, fmt) in enumerate(_SESSION_NUMBERS, start=1):
            self.sessions_grid.addWidget(QLabel(title), row, 0)
            for column, session in enumerate(proposal.sessions, start=1):
                key = f"session{session.number}.{name}"
                cell = QWidget()
                cell_layout = QHBoxLayout(cell)
                cell_layout.setContentsMargins(0, 0, 0, 0)
                value = QLabel(fmt.format(getattr(session, name)))
                value.setObjectName(f"value:{key}")
                explanation = session.explanations.get(name)
                value.setToolTip(explanation.to_text() if explanation else "")
                self.value_labels[key] = value
                cell_layout.addWidget(value)
                button = self._why_button(key)
                button.setEnabled(explanation is not None)
                cell_layout.addWidget(button)
                cell_layout.addStretch(1)
                self.sessions_grid.addWidget(cell, row, column)
        self.updateGeometry()  # the dock's minimum width follows the sessions shown

    def _show_history(self) -> None:
        if self._case_pk is None:
            self.history_label.setText("")
            return
        try:
            plans = self._planning.list_plans(self._case_pk)
        except TacePlannerError as error:
            self.history_label.setText(str(error))
            return
        if not plans:
            self.history_label.setText("No saved plan yet.")
            return
        lines = [
            f"v{p.plan_version} {p.status}"
            + (f" by {p.approved_by}" if p.approved_by else f" by {p.created_by}")
            + f": {p.total_loaded_mg:.0f} mg loaded in {len(p.sessions)} session(s)"
            for p in plans
        ]
        self.history_label.setText("Saved plans: " + "; ".join(lines))

    # -- why? ----------------------------------------------------------------------

    def explanation_text(self, key: str) -> str:
        """The explanation of a figure or session number as text ("" if none)."""
        if self.proposal is None:
            return ""
        explanation = self.proposal.explanation(key)
        return explanation.to_text() if explanation is not None else ""

    def show_why(self, key: str) -> None:
        """Open the explanation of one number (formula, values put in, source)."""
        text = self.explanation_text(key)
        if text:
            self.show_explanation_box(self, "Why this number?", text)

    @staticmethod
    def show_explanation_box(parent: QWidget, title: str, text: str) -> None:
        """Show an explanation (tests replace this to avoid a modal box)."""
        QMessageBox.information(parent, title, text)

    # -- saving, approving, printing --------------------------------------------

    def save_draft(self) -> Any:
        """Save the current proposal as a new draft version; return the PlanItem.

        Entries that cannot be saved (an impossible or unconfirmed implausible
        value, a refused option) save nothing and say which field to correct.
        """
        if self._refuse("Save draft"):
            return None
        try:
            self.saved_plan = self._planning.save_plan(self.proposal)
        except TacePlannerError as error:
            show_error(self, "Save plan", error)
            return None
        self._say("")
        self._show_history()
        self.plan_saved.emit(self.saved_plan)
        return self.saved_plan

    def approve(self) -> Any:
        """Ask for approval of the proposal and approve it; cancelling saves nothing.

        A draft saved from the same proposal is approved as it is; otherwise the
        proposal is saved and approved in one step only once the physician approves.
        """
        if self._recompute_timer.isActive():
            self.recompute()
        refusal = self.approve_refusal()
        if refusal:
            self._say(f"Approve: {refusal}")
            return None
        if self._refuse("Approve"):
            return None
        # an approved plan rests on stored, audited inputs: the form's entries are saved
        # first (refused when a colleague saved other values meanwhile)
        if self.inputs_unsaved() and not self.save_inputs():
            return None
        proposal = self.proposal
        plan = self.saved_plan
        if (
            plan is not None
            and plan.status == "draft"
            and plan.proposal.to_json() == proposal.to_json()
        ):
            target: Any = plan

            def preview(overrides: dict[str, tuple[float, str]]) -> Any:
                return self._planning.preview_overrides(plan.pk, overrides)
        else:
            plan = None
            target = proposal

            def preview(overrides: dict[str, tuple[float, str]]) -> Any:
                return self._planning.preview_proposal(proposal, overrides)

        choice = ApprovePlanDialog.ask(target, self, preview=preview)
        if choice is None:
            return None
        try:
            if plan is not None:
                self.saved_plan = self._planning.approve(
                    plan.pk,
                    choice.acknowledged,
                    choice.overrides,
                    contraindication_reasons=choice.contraindication_reasons,
                )
            else:
                self.saved_plan = self._planning.approve_proposal(
                    proposal,
                    choice.acknowledged,
                    choice.overrides,
                    contraindication_reasons=choice.contraindication_reasons,
                )
        except TacePlannerError as error:
            show_error(self, "Approve plan", error)
            return None
        self._say("")
        self._show_history()
        self.plan_saved.emit(self.saved_plan)
        return self.saved_plan

    def print_plan(self, path: Path) -> Path:
        """Write the plan sheet (the approved or saved plan if current, else the proposal)."""
        from tace_planner.ui.plan_sheet import render_plan_pdf

        plan = self.saved_plan if self.saved_plan is not None else self.proposal
        key = None
        if self._key_image is not None and self._case_pk is not None:
            try:
                key = self._key_image(self._case_pk)
            except TacePlannerError:
                key = None
        return render_plan_pdf(plan, path, key)

    def _on_print_clicked(self) -> None:
        if self.proposal is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Plan sheet", "plan.pdf", "PDF (*.pdf)")
        if name:
            try:
                self.print_plan(Path(name))
            except (OSError, TacePlannerError) as error:
                show_error(self, "Plan sheet", error)


def discard_widget(widget: QWidget) -> None:
    """Take a widget of an earlier result off the screen now, and delete it later.

    ``deleteLater`` alone leaves it shown, at its old place under the new result, until
    Qt's event loop deletes it; a recomputation run where that loop does not (a lesion
    deleted from a script or a test that only processes events) drew every banner and
    session number twice. Hidden at once, it is never drawn again, and the deletion still
    waits for a safe moment (a *why?* button may be on the call stack of a box still open).
    """
    widget.hide()
    widget.deleteLater()
