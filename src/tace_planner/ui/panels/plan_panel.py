"""Planning panel: patient inputs, options, live proposal, warnings, 'why?' on every number."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError, TacePlannerError
from tace_planner.domain.person_name import readable_person_name
from tace_planner.services.planning_dto import DISCLAIMER
from tace_planner.ui.dialogs.approve_plan_dialog import ApprovePlanDialog
from tace_planner.ui.dialogs.versioned_file_dialog import UnsavedChoice, ask_unsaved_changes
from tace_planner.ui.errors import show_error
from tace_planner.ui.panels.plan_inputs import FIELD_LABELS, PlanInputsForm, field_message
from tace_planner.ui.panels.plan_results import BANNER_STYLES, PlanResultsView, discard_widget
from tace_planner.ui.widget_sizes import let_shrink
from tace_planner.ui.wording import capitalised

__all__ = ["BANNER_STYLES", "FIELD_LABELS", "PlanPanel", "discard_widget", "field_message"]


class PlanPanel(PlanInputsForm, PlanResultsView, QWidget):
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
        self._stored_options: dict[str, Any] = {}
        """The plan options as the case was opened with or last saved in a plan (a draft or
        an approved version): options typed since differ."""
        self._inputs_version = 0  # the stored inputs' version the form started from
        self.input_problem = ""
        """Why the last recomputation failed, the field named for people ("" if it did not)."""
        self.proposal: Any = None
        self.saved_plan: Any = None
        self._latest_saved: Any = None
        """The case's latest saved version (a ``PlanItem``), None without one."""
        self._discard_asked = False  # "Discard" answered; carried out by finish_unsaved
        self.value_labels: dict[str, QLabel] = {}
        self.why_buttons: dict[str, QToolButton] = {}
        self._figure_labels: dict[str, QLabel] = {}
        self.ask_unsaved: Callable[[str], UnsavedChoice] = self._ask_unsaved
        """Asks Save / Discard / Cancel about unsaved patient inputs and plan options (tests
        replace it)."""
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
        # an approved plan under way is read first, above the inputs (the panel scrolls)
        layout.addWidget(self._build_progress_label())
        layout.addWidget(self._build_patient_group())
        layout.addWidget(self._build_options_group())
        self._default_options = self.options()  # a case without a saved plan opens on them
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

    # -- case and inputs ------------------------------------------------------

    def set_case(self, case_pk: int | None) -> None:
        """Show the plan of this case (None: no case), loading its stored inputs.

        The case shown again (the case list clicked again, contours confirmed, new
        parameters, a procedure logged) keeps patient inputs typed and not saved, as the
        procedure form keeps its own: the plan is recomputed from them. Only inputs a
        colleague stored meanwhile (a newer version) are loaded over them, as after a
        refused *Save patient inputs*.
        """
        if (
            case_pk is not None
            and case_pk == self._case_pk
            and self.inputs_unsaved()
            and self._stored_inputs_version(case_pk) == self._inputs_version
        ):
            self.model_note.setText(self._model_note_text(self._parameters_or_packaged()[0]))
            self.recompute()
            self._show_history()
            return
        if case_pk != self._case_pk:
            self._latest_saved = None
            # the case's own options (its latest saved plan's), never the previous case's
            self.set_options(self._options_of_case(case_pk))
            self._stored_options = self.options()
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

    def _stored_inputs_version(self, case_pk: int) -> int | None:
        """The version of the case's stored patient inputs (None when they cannot be read)."""
        try:
            return self._planning.clinical_inputs(case_pk).version or 0
        except TacePlannerError:
            return None

    def inputs_unsaved(self) -> bool:
        """True when the patient inputs in the form differ from the stored ones (an entry
        that cannot be used, such as "7500" kg or "abc", differs from every stored value)."""
        if self._case_pk is None:
            return False
        values, problems = self.patient_values()
        unusable = any(values.get(name) is None for name in problems)
        return unusable or values != self._stored_inputs

    def options_unsaved(self) -> list[str]:
        """The plan options changed since the case was opened or its plan last saved, as
        people name them ("Segments", "Interval"); [] when none (or no case)."""
        if self._case_pk is None:
            return []
        now, stored = self.options(), self._stored_options
        return [FIELD_LABELS.get(name, name) for name in now if now[name] != stored.get(name)]

    def resolve_unsaved(self) -> bool:
        """Before the window leaves this case: True to go on, False to stay on it.

        With patient inputs or plan options typed and not saved it asks Save / Discard /
        Cancel (the words of the parameter dialogs). *Save* stores the patient inputs as
        *Save patient inputs* does, and the options in a plan as *Save draft* does (they
        are stored only in a plan); when that is refused (an impossible value, a
        colleague's newer values) the reason is shown and the user stays on the case.
        *Discard* goes on (the stored inputs and the options as they were come back,
        :meth:`finish_unsaved`); *Cancel* stays.
        """
        self._discard_asked = False
        if not (self.inputs_unsaved() or self.options_unsaved()):
            return True
        if self._recompute_timer.isActive():  # the form's last keystroke, planned first
            self.recompute()
        inputs, options = self.inputs_unsaved(), self.options_unsaved()
        if options and not inputs and self.repeats_saved_plan():
            self._stored_options = self.options()  # the latest saved plan holds them
            return True
        name = ""
        if self.proposal is not None:
            name = readable_person_name(self.proposal.case.patient_name)
        what = " and ".join(
            part for part, unsaved in (("Patient inputs", inputs), ("plan options", options))
            if unsaved
        )  # fmt: skip
        what = capitalised(what) + (f" of {name}" if name else "")
        choice = self.ask_unsaved(what + (f" ({', '.join(options)})" if options else ""))
        if choice == "save":
            return self._save_unsaved(inputs, bool(options))
        self._discard_asked = choice == "discard"
        return self._discard_asked

    def _save_unsaved(self, inputs: bool, options: bool) -> bool:
        """*Save* of :meth:`resolve_unsaved`: the patient inputs, then the options in a draft
        (unless the latest saved plan holds them); False when a save was refused."""
        if inputs and not self.save_inputs():
            return False
        if options and not self.repeats_saved_plan() and self.save_draft() is None:
            return False
        self._stored_options = self.options()
        return True

    def finish_unsaved(self, leaving: bool) -> None:
        """After every panel answered (:class:`~tace_planner.ui.case_change.CaseChangeGuard`):
        when ``leaving``, inputs the user discarded go from the form (the stored ones and
        the options as they were are shown again, even if the change then stops, e.g. the
        New case dialog is closed); else (a *Cancel*) they stay, still unsaved, and are
        asked about again."""
        discard, self._discard_asked = self._discard_asked, False
        if not (discard and leaving and self._case_pk is not None):
            return
        case_pk, latest = self._case_pk, self._latest_saved
        self._loading = True
        try:
            self.set_options(self._stored_options)
        finally:
            self._loading = False
        self._case_pk = None  # set_case keeps typed inputs of the case shown: load afresh
        self.set_case(case_pk)
        self._latest_saved = latest

    def _options_of_case(self, case_pk: int | None) -> dict[str, Any]:
        """The plan options a case opens on: those of its latest saved plan (a draft or an
        approved version; an option left to the parameter file's default keeps the form's
        default), else the form's defaults."""
        options = dict(self._default_options)
        if case_pk is None:
            return options
        try:
            plans = self._planning.list_plans(case_pk)
        except TacePlannerError:
            return options  # the case itself says why when it is shown
        if plans:
            saved = plans[-1].proposal.options.to_json()
            options.update({k: v for k, v in saved.items() if k in options and v is not None})
        return options

    def set_options(self, options: dict[str, Any]) -> None:
        """Show ``options`` (the :meth:`options` form) in the *Plan options* group."""
        combos = {
            "model": self.model_combo,
            "product_code": self.product_combo,
            "schedule": self.schedule_combo,
            "delivery": self.delivery_combo,
            "bsa_formula": self.bsa_combo,
            "slv_formula": self.slv_combo,
        }
        for name, combo in combos.items():
            index = combo.findData(options.get(name))
            if index >= 0:
                combo.setCurrentIndex(index)
        self.segments_edit.setText(", ".join(options.get("segments") or ()))
        self.interval_spin.setValue(int(options.get("interval_days") or self.interval_spin.value()))
        for name, edit in (
            ("capacity_mg_per_ml", self.capacity_edit),
            ("vial_bead_volume_ml", self.vial_edit),
        ):
            value = options.get(name)
            edit.setText("" if value is None else f"{value:.10g}")

    def _ask_unsaved(self, what: str) -> UnsavedChoice:
        inputs, options = self.inputs_unsaved(), bool(self.options_unsaved())
        save = "Save inputs and draft" if inputs and options else "Save patient inputs"
        return ask_unsaved_changes(self, what, save_text="Save draft" if not inputs else save)

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
        progress = getattr(self.proposal, "progress", None)  # an approved plan under way
        self.approve_button.setEnabled(not refusal)
        self.approve_button.setToolTip(
            refusal
            or " ".join(
                t
                for t in (
                    "Review the warnings, override if needed, and approve this plan.",
                    progress.approve_tip() if progress is not None else "",
                )
                if t
            )
        )
        repeated = self.repeats_saved_plan()
        self.save_draft_button.setEnabled(self._case_pk is not None and not repeated)
        latest = self._latest_saved
        note = (
            ""
            if latest is None or self._planning_pending()
            else latest.save_draft_note(self.proposal)
        )
        self.save_draft_button.setToolTip(
            note or (progress.save_draft_tip() if progress is not None else "")
        )

    def _planning_pending(self) -> bool:
        """True while an edit waits to be planned (the proposal shown is not its plan)."""
        return self._recompute_timer.isActive()

    def repeats_saved_plan(self) -> str:
        """The saved version ("v3") *Save draft* would repeat, storing nothing, else "".

        The service's rule (:meth:`PlanItem.repeated_by`): the latest version is a
        draft with the proposal's content; after an approved version the same
        proposal is stored as a new draft. An edit still waiting to be planned counts
        as a change (*Save draft* plans it first, then checks again).
        """
        latest, proposal = self._latest_saved, self.proposal
        if latest is None or self._planning_pending() or not latest.repeated_by(proposal):
            return ""
        return f"v{latest.plan_version}"

    def _show_history(self) -> None:
        self._latest_saved = None
        try:
            self._list_history()
        finally:
            self._update_buttons()

    def _list_history(self) -> None:
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
        self._latest_saved = plans[-1]
        lines = [
            f"v{p.plan_version} {p.status}"
            + (f" by {p.approved_by}" if p.approved_by else f" by {p.created_by}")
            + f": {p.total_loaded_mg:.0f} mg loaded in {len(p.sessions)} session(s)"
            for p in plans
        ]
        self.history_label.setText("Saved plans: " + "; ".join(lines))

    # -- saving, approving, printing --------------------------------------------

    def save_draft(self) -> Any:
        """Save the current proposal as a new draft version; return the PlanItem.

        Entries that cannot be saved (an impossible or unconfirmed implausible
        value, a refused option) save nothing and say which field to correct.
        """
        if self._refuse("Save draft"):
            return None
        repeated = self.repeats_saved_plan()
        if repeated:
            self._stored_options = self.options()  # the options are those saved there
            self._say(f"Save draft: nothing changed since {repeated} was saved — not saved again.")
            self._update_buttons()
            return None
        try:
            self.saved_plan = self._planning.save_plan(self.proposal)
        except TacePlannerError as error:
            show_error(self, "Save plan", error)
            return None
        self._stored_options = self.options()
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
        self._stored_options = self.options()
        self._say("")
        self._show_history()
        self.plan_saved.emit(self.saved_plan)
        return self.saved_plan

    def print_plan(self, path: Path) -> Path:
        """Write the plan sheet (the approved or saved plan if current, else the proposal)."""
        from tace_planner.ui.plan_sheet import render_plan_pdf

        plan = self.saved_plan if self.saved_plan is not None else self.proposal
        progress = getattr(self.proposal, "progress", None)
        key = None
        if self._key_image is not None and self._case_pk is not None:
            try:
                key = self._key_image(self._case_pk)
            except TacePlannerError:
                key = None
        return render_plan_pdf(plan, path, key, progress=progress)

    def _on_print_clicked(self) -> None:
        if self.proposal is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Plan sheet", "plan.pdf", "PDF (*.pdf)")
        if name:
            try:
                self.print_plan(Path(name))
            except (OSError, TacePlannerError) as error:
                show_error(self, "Plan sheet", error)
