"""The plan's input form: patient values (validated as typed) and planning options.

:class:`PlanInputsForm` is a part of :class:`~tace_planner.ui.panels.plan_panel.PlanPanel`
(it builds the *Patient* and *Plan options* groups and reads them back); the panel
connects each entry to its recomputation (``_on_input_changed``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from tace_planner.domain.body import check_patient_field
from tace_planner.ui.number_input import float_or_none

_NUMBER_FIELDS = (
    ("height_cm", "Height (cm)"),
    ("weight_kg", "Weight (kg)"),
    ("bilirubin_mg_dl", "Bilirubin (mg/dL)"),
)
_CHOICE_FIELDS = {
    "ecog": ("ECOG", [("not recorded", None), *[(str(n), n) for n in range(5)]]),
    "ugt1a1_status": (
        "UGT1A1",
        [("not recorded", ""), ("normal", "normal"), ("reduced", "reduced")],
    ),
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


class PlanInputsForm:
    """The patient and options groups of the plan panel, and the values they hold.

    A part of ``PlanPanel`` (which provides ``_planning``, ``_on_input_changed`` and
    ``save_inputs``): the widgets are its attributes (``field_edits``, ``model_combo`` …).
    """

    _planning: Any

    def _on_input_changed(self) -> None:  # pragma: no cover - the panel's
        raise NotImplementedError

    def save_inputs(self) -> bool:  # pragma: no cover - the panel's
        raise NotImplementedError

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
