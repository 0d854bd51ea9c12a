"""The Follow-up workspace's page: the worklist above, the review of the chosen case below.

Placement only (the panels are their own modules). The worklist (issue 14) is the page's
main list, as wide as the window so that its columns read whole; below it the chosen case
in tabs, each as wide as the page: baseline and follow-up side by side (issue 15), the
spider plot, the timeline and the cohort waterfall. Choosing a worklist row chooses its
case in the case list, as a click there does, and a follow-up's row its follow-up in the
Follow-up box (or says why it cannot be chosen); a study linked or a schedule chosen in the
worklist refills the box and the timeline at once. In the main window the page does not follow
the list by itself: the window asks about unsaved input first (ui/case_change.py) and calls
:meth:`FollowupPage.show_case` only when the case changes, so that after *Cancel* the page
stays on the window's case. The worklist was a dock under the case list before: at
1600 × 1000 it squeezed the review to a strip.

:class:`FollowupReviewPage` (the review's tabs and the bar above them) lives here too: its
Follow-up box offers the case's follow-ups from ``FollowupService.follow_up_choices``, those
without imaging greyed with why as their tooltip; choosing one with stored contours shows
them (:func:`~tace_planner.services.stored_review.stored_review_task`); *Propose* runs with the
window's progress and *Cancel*, which stops it within about a second even during the
registration (the task asks the cancel flag at each iteration), and closing the window
does not wait for it. Contours drawn
elsewhere meanwhile (the Plan workspace's contour tools, while this page was hidden) show
when the page is shown again or the case's course changes
(:meth:`FollowupReviewPage.refresh_stored`): read again only when the stored contours'
versions changed, and never over a proposal on screen. A follow-up without a CT volume (MR
only) is chosen, viewed and assessed, but *Propose* is disabled with the reason as its
tooltip. How its tasks run is :mod:`~tace_planner.ui.workspaces.followup_running`; its
answer to the window's case-change guard (proposals not confirmed: Confirm / Discard /
Cancel) is :mod:`~tace_planner.ui.workspaces.followup_unsaved`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.errors import TacePlannerError
from tace_planner.services.cohort import left_out_summary, waterfall_left_out
from tace_planner.services.stored_review import (
    StoredReview,
    stored_contour_versions,
    stored_review_task,
)
from tace_planner.ui.followup_review import NO_CASE, FollowupReview
from tace_planner.ui.followup_tasks import CancelFlag, assess_task, failure_reason, propose_task
from tace_planner.ui.panels.timeline_panel import TimelinePanel
from tace_planner.ui.panels.worklist_panel import WorklistPanel
from tace_planner.ui.wording import capitalised
from tace_planner.ui.workspaces.followup_names import (
    CHOICE_ROLE,
    BoxRows,
    confirmed_message,
    fill_choice_box,
)
from tace_planner.ui.workspaces.followup_running import PageTasks
from tace_planner.ui.workspaces.followup_unsaved import UnconfirmedProposals

#: Share of the page's height the worklist gets at first (the review gets the rest).
WORKLIST_HEIGHT_SHARE = 0.3
#: The worklist's least height: its filters, its header and three rows. An empty worklist
#: goes down to its filters, its header and its message (``FollowupPage._fit_empty``).
WORKLIST_MIN_HEIGHT_PX = 170
TIMELINE_TAB = "Timeline"
LABEL_ROLE = Qt.ItemDataRole.UserRole
"""The Follow-up box keeps each follow-up's label in its item data (its shown text is its
visit name, ``followup_names``), and its choice item under ``CHOICE_ROLE``."""


class FollowupReviewPage(PageTasks, UnconfirmedProposals, BoxRows, QWidget):
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
        choices: Callable[[int], list[Any]] | None = None,
        contouring: Any = None,
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
        self._choices = choices  # FollowupService.follow_up_choices: readiness of each
        self._contouring = contouring  # the stored contours are shown when given
        self._baseline_pk: int | None = None
        self._handle: Any = None  # the running proposal or stored-contour reading
        self._handle_kind = ""
        self._stored_read: tuple[int, str, frozenset[Any]] | None = None
        """Case, follow-up and stored-contour versions of the stored view last read."""
        self._window_cancel: Any = None  # the status bar's Cancel, while connected
        self.visit_names: dict[str, str] = {}
        """The case's follow-up labels → the names people read (the box's shown text)."""
        self._proposal_notes: dict[str, str] = {}
        """Follow-up label → why its contours cannot be proposed ("" when they can): imaging
        but no CT volume (``FollowUpTimepoint.proposal_note``); it is still viewed,
        contoured by hand and assessed."""
        self._row_note = ""
        """Why the worklist row's follow-up could not be chosen, kept before the next message
        (the stored contours read meanwhile) until another follow-up or case is chosen."""
        self.case_pk: int | None = None
        self.timepoints = QComboBox()
        self.timepoints.currentIndexChanged.connect(self._on_choice_changed)
        self.propose_button = QPushButton("Propose contours from the baseline")
        self.propose_button.clicked.connect(self.propose)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.message = QLabel(NO_CASE)
        self.message.setWordWrap(True)
        self.review = FollowupReview(confirm=self._confirm, course=propagation.course)
        self.review.visit = self.visit  # its titles name a follow-up as the page does
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
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.message, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.tabs, 1)
        self._set_enabled()
        self.course_changed.connect(self._on_course_changed)

    def showEvent(self, event: Any) -> None:
        """Shown again (the Follow-up workspace entered): contours drawn meanwhile show."""
        super().showEvent(event)
        self.refresh_stored()

    def _on_course_changed(self, case_pk: int) -> None:
        if case_pk == self.case_pk:
            self.refresh_stored()

    def refresh_stored(self) -> bool:
        """Read the chosen follow-up's stored contours again if they changed since they were
        last read (e.g. contoured in the Plan workspace); True when a reading started.

        Nothing is read when their versions are those read before (one query, no image), nor
        while a proposal is on screen (it is not replaced) or a task of the page runs.
        """
        choice = self.chosen_choice()
        if self._contouring is None or choice is None or self.case_pk is None:
            return False
        if self._handle is not None or self._refusal():
            return False
        if self.review.item is not None and not isinstance(self.review.item, StoredReview):
            return False
        versions = self._stored_versions()
        if versions is not None and self._stored_read == (self.case_pk, choice.label, versions):
            return False
        self._show_stored_contours(versions)
        return self._handle is not None

    def _stored_versions(self) -> frozenset[Any] | None:
        """The case's stored-contour versions (None when they cannot be read)."""
        if self._contouring is None or self.case_pk is None:
            return None
        try:
            return stored_contour_versions(self._contouring, self.case_pk)
        except TacePlannerError:
            return None  # the reading then says why

    def hasHeightForWidth(self) -> bool:
        """No height-for-width: the page fills the height it is given (see FollowupPage)."""
        return False

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.waterfall:
            self.show_waterfall()

    def show_waterfall(self) -> None:
        """Every case's best change from baseline (drawn when its tab is shown); the cases
        without a bar are counted by why (``services.cohort.waterfall_left_out``)."""
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
        measure = "diameter_sum_percent"  # the RECIST 1.1 sum of the target diameters
        try:  # why each case without a bar has none, counted as the Cohort page does
            reasons = [waterfall_left_out(self._propagation.course(c.case_pk))[measure]
                       for c in changes if getattr(c, measure) is None]  # fmt: skip
        except TacePlannerError:
            reasons = [""]  # the plot's usual reason then
        left_out = left_out_summary(reasons) if all(reasons) else ""
        self.waterfall.show_changes(labelled, measure, left_out=left_out)

    def chosen_label(self) -> str:
        """The chosen follow-up's label ("" when none), from the item's data."""
        label = self.timepoints.currentData()
        return str(label) if label is not None else ""

    def chosen_choice(self) -> Any:
        """The chosen follow-up's :class:`FollowupChoiceItem` (None without ``choices``)."""
        return self.timepoints.currentData(CHOICE_ROLE)

    def visit(self, label: str) -> str:
        """The follow-up ``label`` as people read it (its schedule slot when placed in one)."""
        return self.visit_names.get(label, label)

    def _refusal(self) -> str:
        """Why the chosen follow-up cannot be proposed or assessed ("" when it can)."""
        choice = self.chosen_choice()
        if choice is None or choice.ready:
            return ""
        return f"{capitalised(choice.visit_name)}: {choice.note}."

    def _proposal_refusal(self) -> str:
        """Why the chosen follow-up's contours cannot be proposed ("" when they can)."""
        label = self.chosen_label()
        note = self._proposal_notes.get(label, "")
        return f"{capitalised(self.visit(label))} {note}." if note else self._refusal()

    def _set_enabled(self) -> None:
        ready = self.case_pk is not None and bool(self.chosen_label()) and not self._refusal()
        proposing = self._handle is not None and self._handle_kind == "propose"
        refusal = self._proposal_refusal() if ready else ""
        self.propose_button.setEnabled(ready and not proposing and not refusal)
        self.propose_button.setToolTip(refusal)
        self.responses.assess_button.setEnabled(
            ready and self._assessments is not None and self._can_assess
        )

    def show_course(self, case_pk: int) -> Any:
        """Redraw the spider plot and the stored responses of ``case_pk``; its course."""
        stored = [] if self._assessments is None else self._assessments.stored(case_pk)
        course = self._propagation.course(case_pk)  # both carry their visits' names
        labels = {s.timepoint: s.category for s in stored if s.criterion == "recist"}
        self.spider.show_course(course, labels)
        # the best response's days count from the day 0 the spider plot uses
        day_zero = (course.day_zero_on, course.day_zero) if course.day_zero_on else None
        self.responses.show_stored(stored, day_zero=day_zero)
        return course

    def assess(self) -> None:
        """Assess the chosen follow-up by every criterion and store it (a task)."""
        if self._assessments is None or self.case_pk is None:
            return
        case_pk, label = self.case_pk, self.chosen_label()
        if not label or self._refusal():
            self.message.setText(self._refusal())
            return
        self._run(
            self.responses.assess_button,
            f"Assessing {self.visit(label)}…",
            assess_task(self._assessments, case_pk, label),
            "Assessing the follow-up",
            lambda result: self._assessed(result, case_pk),
            f"assess {self.visit(label)}",
            case_pk,
        )

    def _assessed(self, result: dict[str, Any], case_pk: int) -> None:
        self._set_enabled()
        if case_pk != self.case_pk:  # another case was chosen meanwhile: it is stored, not shown
            return
        recist = result.get("criteria", {}).get("recist", {})
        self.message.setText(
            f"{capitalised(self.visit(result['timepoint']))}: RECIST 1.1 "
            f"{recist.get('category', '—')} (stored)"
        )
        self.show_course(case_pk)
        self.course_changed.emit(case_pk)

    def set_case(self, case_pk: int | None) -> None:
        """Follow the case chosen in the case list (None: no case)."""
        from tace_planner.domain.errors import TacePlannerError

        if case_pk != self.case_pk:  # the last case's proposals are not this case's
            self.cancel()
            self.review.clear()
        self._row_note = ""
        self.case_pk = case_pk
        self.timepoints.blockSignals(True)
        self.timepoints.clear()
        self.visit_names = {}
        self.responses.show_stored([])
        if case_pk is None:  # a patient row, or nothing: no case's course is shown
            self.spider.clear()
            self.message.setText(NO_CASE)
        else:
            try:
                self._fill_choices(case_pk)
                self.show_course(case_pk)
                message = (
                    "" if self.timepoints.count() else "This case has no follow-up timepoint yet."
                )
            except TacePlannerError as error:
                message = str(error)
            self.message.setText(message)
        self.timepoints.blockSignals(False)
        self._set_enabled()
        self._on_choice_changed()

    def _fill_choices(self, case_pk: int) -> None:
        """The case's follow-ups; those without imaging greyed, saying why in their tooltip."""
        timepoints = self._propagation.timepoints(case_pk)
        self._baseline_pk = next((c.pk for c in timepoints if c.kind == "baseline"), None)
        self._proposal_notes = {
            c.label: c.proposal_note for c in timepoints if c.kind != "baseline"
        }  # the baseline is proposed from, never to
        if self._choices is None:
            for choice in timepoints:
                if choice.kind != "baseline":
                    self.timepoints.addItem(choice.label, choice.label)
            return
        self.visit_names = fill_choice_box(self.timepoints, self._choices(case_pk))

    def refresh_choices(self, prefer_pk: int | None = None) -> None:
        """Fill the Follow-up box again (the case's timepoints changed: a study linked, a new
        schedule); the follow-up ``prefer_pk`` is chosen when it can be, else the one chosen
        before, else the first ready one. Its stored contours are read again only when the
        chosen follow-up or its readiness changed."""
        if self.case_pk is None:
            return
        before = (self.chosen_label(), self._refusal())
        self.timepoints.blockSignals(True)
        try:
            self.timepoints.clear()
            self._fill_choices(self.case_pk)
            for index in (self._choice_index(prefer_pk), self.timepoints.findData(before[0])):
                if index >= 0 and self._choosable(index):
                    self.timepoints.setCurrentIndex(index)
                    break
        except TacePlannerError as error:
            self.message.setText(str(error))
        finally:
            self.timepoints.blockSignals(False)
        self._set_enabled()
        if (self.chosen_label(), self._refusal()) != before:
            self._on_choice_changed()

    def choose_follow_up(self, timepoint_pk: int) -> str:
        """Choose the follow-up ``timepoint_pk`` in the box (a worklist row chosen); returns
        why it cannot be chosen, also said above the review ("" when chosen)."""
        index = self._choice_index(timepoint_pk)
        if index < 0:
            return ""  # not a follow-up of the box (the baseline, or no such timepoint)
        if self._choosable(index):
            if index == self.timepoints.currentIndex() and self._row_note:  # chosen already
                self.message.setText(self.message.text().replace(self._row_note, "").strip())
            self._row_note = ""
            self.timepoints.setCurrentIndex(index)
            return ""
        choice = self.timepoints.itemData(index, CHOICE_ROLE)
        note = f"{capitalised(choice.visit_name)} cannot be reviewed yet: {choice.note}."
        self._row_note = note
        self.message.setText(note)
        return note

    def _on_choice_changed(self, _index: int = -1) -> None:
        """Another follow-up chosen: show the contours stored there (when any); checked
        proposals of the follow-up left are asked about first (:meth:`_leaves_proposals`)."""
        if not self._leaves_proposals():
            return
        if _index >= 0:  # the user's (or a worklist row's) choice: no earlier note holds
            self._row_note = ""
        if self._handle is not None and self._handle_kind == "stored":
            self.cancel()
        if isinstance(self.review.item, StoredReview) or (
            self.review.item is not None and self.review.item.follow_up.label != self.chosen_label()
        ):
            self.review.clear()
        self._set_enabled()
        refusal = self._refusal()
        if refusal:
            self.message.setText(self._notes() + refusal)
            self.timepoints.setToolTip(refusal)
            return
        self.timepoints.setToolTip("")
        if self.stored_note:  # said until the stored contours (if any are read) follow it
            self.message.setText(self.stored_note)
        self._show_stored_contours(self._stored_versions())
        if self.stored_note and not self.message.text().startswith(self.stored_note):
            self.message.setText(self._notes() + self.message.text())  # "Reading…" after it

    def _notes(self) -> str:
        """What the next messages begin with: the proposals stored as the follow-up was
        left (``stored_note``) and why the worklist row's follow-up was not chosen."""
        return "".join(f"{note} " for note in (self.stored_note, self._row_note) if note)

    def _show_stored_contours(self, versions: frozenset[Any] | None) -> None:
        """Read the baseline and the chosen follow-up with their stored contours (a task);
        ``versions``: the stored contours' versions before the reading (a change meanwhile
        is read again at the next :meth:`refresh_stored`)."""
        choice = self.chosen_choice()
        if self._contouring is None or choice is None or self.case_pk is None:
            return
        if self._baseline_pk is None or self._handle is not None:
            return
        case_pk = self.case_pk
        self._handle_kind = "stored"
        self._run(
            None,
            f"Reading the contours stored at {choice.visit_name}…",
            stored_review_task(self._contouring, case_pk, self._baseline_pk, choice),
            "Reading the stored contours",
            functools.partial(self._show_stored, case_pk, choice.label, versions),
            f"show the contours stored at {choice.visit_name}",
            case_pk,
            cancellable=True,
        )

    def _show_stored(
        self, case_pk: int, label: str, versions: frozenset[Any] | None, view: StoredReview | None
    ) -> None:
        if case_pk != self.case_pk or label != self.chosen_label():
            return  # another case or follow-up was chosen meanwhile
        if self.review.item is not None and not isinstance(self.review.item, StoredReview):
            return  # a proposal is shown: it is not replaced
        self._stored_read = None if versions is None else (case_pk, label, versions)
        note = self._notes()
        refusal = self._proposal_refusal()
        label = self.visit(label)
        if view is None:
            self.review.clear()  # the contours shown before may have been deleted since
            propose = "press “Propose contours from the baseline”, or " if not refusal else ""
            self.message.setText(
                f"{note}No contour stored at {label} yet: {propose}contour it in the Plan "
                "workspace (Contour menu or tool bar)." + (f" {refusal}" if refusal else "")
            )
            return
        self.review.show_stored(view, self._propagation.course(case_pk))
        self.message.setText(f"{note}{capitalised(label)}: the stored contours.")

    def propose(self) -> None:
        """Register the chosen follow-up to the baseline and propose its contours (a task)."""
        if self.case_pk is None or not self.chosen_label():
            return
        if self._proposal_refusal():
            self.message.setText(self._proposal_refusal())
            return
        if self._handle is not None:
            self.cancel()  # a reading of the stored contours gives way
        case_pk, label = self.case_pk, self.chosen_label()
        self.stored_note = ""  # the proposals' messages follow
        self._handle_kind = "propose"
        cancelled = CancelFlag()
        cancelled.handle = self._run(
            self.propose_button,
            f"Registering {self.visit(label)} to the baseline…",
            propose_task(self._propagation, case_pk, label, cancelled),
            "Proposing follow-up contours",
            self._show,
            f"propose contours at {self.visit(label)}",
            case_pk,
            cancellable=True,
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
                f"{capitalised(self.visit(item.follow_up.label))}: {found} of "
                f"{len(item.proposals)} lesion(s) found; check each proposal below (a lesion not "
                f"found stays unchecked until you look), then confirm the checked ones.{kept}"
            )
        else:
            self.message.setText(item.registration.message)
        self._set_enabled()

    def _failed(self, verb: str, error: BaseException, case_pk: int) -> None:
        """Say why ``verb`` ("propose contours at follow-up 2") failed, in people's words."""
        if case_pk == self.case_pk:  # another case's failure is not this case's
            self.message.setText(f"Cannot {verb}: {failure_reason(error, verb)}")
        self._set_enabled()

    def _confirm(self, item: Any, names: list[str], replace: list[str]) -> Any:
        result = self._propagation.confirm(item, names, replace=replace)
        course = self.show_course(item.case_pk)
        # "check each…, then confirm" is done; what is still unmeasured there is named
        self.message.setText(confirmed_message(result, course, self.visit(item.follow_up.label)))
        self.course_changed.emit(item.case_pk)
        return result


class FollowupPage(QSplitter):
    """The worklist over the review tabs of the chosen case (see the module docstring).

    Parameters
    ----------
    services
        ``followups``, ``propagation``, ``therapy`` and ``cases`` are used.
    tasks
        The window's task runner (registration and proposals run there).
    case_list
        The window's case list, where a worklist row chooses its case; or None: the page
        then follows :meth:`show_case` alone.
    follow_case_list
        True: the page follows ``case_list``'s selection by itself (a page without a main
        window). False: the main window calls :meth:`show_case` once its case-change
        guard allowed the change (``add_followup_page``).
    """

    def __init__(
        self,
        services: Any,
        tasks: Any,
        case_list: Any = None,
        parent: QWidget | None = None,
        *,
        follow_case_list: bool = True,
    ) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setObjectName("followup_page")
        self._services = services
        self._case_list = case_list
        self.worklist = WorklistPanel(
            services.followups,
            link_at_once=bool(getattr(services.settings, "link_new_studies", False)),
        )
        self.timeline = TimelinePanel()
        try:
            assessments, problem = services.assessments, ""
        except TacePlannerError as error:  # e.g. a broken response.json: the window still opens
            assessments, problem = None, f"Responses unavailable: {error}"
        self.review = FollowupReviewPage(
            services.propagation,
            tasks,
            services.cases.list_cases,
            assessments=assessments,
            can_assess=not getattr(services, "read_only", False),
            assessments_problem=problem,
            choices=getattr(services.followups, "follow_up_choices", None),
            contouring=getattr(services, "contouring", None),
        )
        self.review.setObjectName("followup_review_page")
        tabs = self.review.tabs
        tabs.insertTab(tabs.indexOf(self.review.spider) + 1, self.timeline, TIMELINE_TAB)
        heading = QLabel("<b>Worklist</b> — follow-up imaging and TACE sessions of every patient")
        top = QWidget()
        top.setObjectName("worklist_box")
        column = QVBoxLayout(top)
        column.setContentsMargins(4, 4, 4, 0)
        column.addWidget(heading)
        column.addWidget(self.worklist, stretch=1)
        top.setMinimumHeight(WORKLIST_MIN_HEIGHT_PX)  # an empty worklist: less (_fit_empty)
        self.addWidget(top)
        # The review (proposals, responses, plots) scrolls rather than set the window's
        # minimum: on a 1366 × 768 screen the page needed 762 px of height and pushed the
        # status bar (progress, Cancel) off-screen.
        review_area = QScrollArea()
        review_area.setObjectName("followup_review_area")
        review_area.setWidgetResizable(True)
        review_area.setFrameShape(QFrame.Shape.NoFrame)
        # Held by a plain box: a resizable scroll area asks a layout with height-for-width
        # (wrapped labels) for its preferred height and made the review 940 px tall in a
        # 618 px view at 1600 × 1000, the waterfall's bars and names cut off below. The
        # review says it has none (:meth:`FollowupReviewPage.hasHeightForWidth`): it
        # fills the view and scrolls only below its minimum.
        holder = QWidget()
        holder.setObjectName("followup_review_holder")
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        holder_layout.addWidget(self.review)
        review_area.setWidget(holder)
        self.addWidget(review_area)
        self.setChildrenCollapsible(False)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 3)
        self._sized = False
        self._worklist_before: int | None = None  # its height before proposals were listed
        self._empty: bool | None = None  # the worklist listed no row (None: not known yet)
        self._worklist_rows: int | None = None  # its height before it was emptied
        self._proposals_listed = False
        model = self.worklist.table.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._fit_empty)
        self.review.review.proposals_listed.connect(self._fit_worklist)
        self.review.course_changed.connect(self._on_course_changed)
        self.worklist.timepoints_changed.connect(self._on_timepoints_changed)
        if case_list is not None:
            self.worklist.case_selected.connect(self._on_worklist_case_selected)
        if case_list is not None and follow_case_list:
            case_list.case_selected.connect(self.show_case)
            # a patient row chooses no case: nothing of the last case stays confirmable
            case_list.patient_selected.connect(self._on_case_list_patient_selected)
        self._open_worklist()

    def _open_worklist(self) -> None:
        """Bring the schedules in step with the signed procedures (unless read-only), list."""
        try:
            if not getattr(self._services, "read_only", False):
                self._services.followups.sync_all()
        except TacePlannerError as error:
            self.worklist.message.setText(str(error))
        self.worklist.refresh()
        self._fit_empty()  # an empty table's row count did not change: no signal

    def show_case(self, case_pk: int | None) -> None:
        """Follow the case chosen in the case list (None: no case chosen).

        The case's schedule is first brought in step (unless read-only), so that follow-up
        imaging it already holds stands for its scheduled follow-ups; the worklist is
        listed again when that changed something.
        """
        if case_pk is not None:
            self._sync_case(case_pk)
        self.review.set_case(case_pk)
        if case_pk is None:
            self.timeline.clear()
        else:
            self._draw_timeline(case_pk)

    def _on_case_list_patient_selected(self, _patient_pk: int) -> None:
        self.show_case(None)

    def _on_worklist_case_selected(self, case_pk: int) -> None:
        """Choose the row's case in the case list (no change when it is the case shown) and
        the row's follow-up in the Follow-up box (or say why it cannot be); a row whose case
        did not become the one shown (unsaved input elsewhere, *Cancel*), or whose follow-up
        was not chosen (proposals of another one kept: *Cancel*), is unselected again."""
        self._case_list.select_case(case_pk)
        if self.review.case_pk != case_pk:
            self.worklist.table.clearSelection()
            return
        item = self.worklist.selected_item()
        if item is not None and item.case_pk == case_pk:
            note = self.review.choose_follow_up(item.pk)
            chosen = self.review.chosen_choice()
            if not note and self.review.offers(item.pk) and chosen.pk != item.pk:  # kept
                self.worklist.table.clearSelection()

    def _on_timepoints_changed(self, case_pk: int) -> None:
        """The case's timepoints changed from the worklist (a study linked, a new schedule):
        the Follow-up box and the timeline of the case shown follow at once."""
        if case_pk != self.review.case_pk:
            return
        item = self.worklist.selected_item()
        self.review.refresh_choices(item.pk if item and item.case_pk == case_pk else None)
        self._draw_timeline(case_pk)

    def _sync_case(self, case_pk: int) -> None:
        if getattr(self._services, "read_only", False):
            return
        followups = self._services.followups
        try:
            before = followups.case_timepoints(case_pk)
            if followups.sync_case(case_pk) != before:
                # after the selection that chose the case has been handled (it may be the
                # worklist's own)
                QTimer.singleShot(0, self.worklist.refresh)
        except TacePlannerError as error:
            self.worklist.message.setText(str(error))

    def _on_course_changed(self, case_pk: int) -> None:
        if case_pk == self.review.case_pk:  # a task of the last case ending late: not shown
            self._draw_timeline(case_pk)

    def _draw_timeline(self, case_pk: int) -> None:
        """Draw the case's timeline again (its course changed, or another case is chosen)."""
        try:
            # each point carries its visit name, as the Follow-up box names it
            self.timeline.show_timeline(self._services.therapy.timeline(case_pk))
        except TacePlannerError as error:
            self.timeline.hover.setText(str(error))

    def _worklist_least(self) -> int:
        """The worklist's least height: its filters, header and message when it lists no
        row, else also three rows (:data:`WORKLIST_MIN_HEIGHT_PX`)."""
        least = self.widget(0).minimumSizeHint().height()
        return least if self._empty else max(WORKLIST_MIN_HEIGHT_PX, least)

    def _fit_empty(self) -> None:
        """The worklist emptied: its table down to its header and the worklist to its least
        height, the review gets the rest (at 1366 × 740 the empty worklist kept 170 px);
        rows listed again: its height back (its share at least). A filter typed that
        matches nothing keeps the height, so that the list does not jump while typing."""
        table = self.worklist.table
        empty = table.rowCount() == 0
        if empty == self._empty or (empty and self.worklist.case_filter.text().strip()):
            return
        self._empty = empty
        frame = 2 * table.frameWidth()
        header = table.horizontalHeader().sizeHint().height()
        table.setMaximumHeight(header + frame if empty else 16_777_215)  # QWIDGETSIZE_MAX
        top = self.widget(0)
        top.setMinimumHeight(0 if empty else WORKLIST_MIN_HEIGHT_PX)
        for layout in (self.worklist.layout(), top.layout()):  # least heights, new maximum
            layout.activate()
        self.setStretchFactor(0, 0 if empty else 1)  # empty: a taller window adds nothing
        (worklist, review) = self.sizes()
        if not self._sized or worklist + review <= 0:
            return
        if empty:
            self._worklist_rows = worklist
            height = self._worklist_least()
        else:
            share = int((worklist + review) * WORKLIST_HEIGHT_SHARE)
            height = max(self._worklist_rows or 0, share, WORKLIST_MIN_HEIGHT_PX)
            if self._proposals_listed:  # it grows once they are confirmed or discarded
                self._worklist_before, height = height, self._worklist_least()
        self.setSizes([height, max(0, worklist + review - height)])

    def _fit_worklist(self, listed: bool) -> None:
        """Proposals listed: the worklist down to its least height, the images and the table
        get the rest (at 1366 × 740 the empty worklist kept 185 px, the images 110 px);
        confirmed or discarded: the worklist's height before, unless it was dragged since."""
        (worklist, review), least = self.sizes(), self._worklist_least()
        self._proposals_listed = listed
        if not self._sized or worklist + review <= 0:
            return
        before, self._worklist_before = self._worklist_before, None
        if listed and worklist > least:
            self._worklist_before = worklist
            self.setSizes([least, worklist + review - least])
        elif not listed and before is not None and worklist <= least:
            self.setSizes([before, max(0, worklist + review - before)])

    def showEvent(self, event: Any) -> None:
        """At the first showing, give the worklist its share of the height."""
        super().showEvent(event)
        if not self._sized and self.height() > 0:
            self._sized = True
            worklist = max(WORKLIST_MIN_HEIGHT_PX, int(self.height() * WORKLIST_HEIGHT_SHARE))
            if self._empty:  # nothing listed: its filters, header and message
                worklist = self._worklist_least()
            self.setSizes([worklist, max(0, self.height() - worklist)])


def add_followup_page(window: Any, services: Any, tasks: Any) -> FollowupPage:
    """Add the Follow-up workspace's page to the main window's pages (key "follow_up").

    The page does not follow the case list itself: the window shows it the case once its
    case-change guard allowed the change (``MainWindow._on_case_list_case_selected``).
    """
    page = FollowupPage(services, tasks, window.case_list, follow_case_list=False)
    window.pages.addWidget(page)
    window._page_widgets["follow_up"] = page
    return page
