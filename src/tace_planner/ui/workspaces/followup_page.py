"""The Follow-up workspace's page: the worklist above, the review of the chosen case below.

Placement only (the panels are their own modules). The worklist (issue 14) is the page's
main list, as wide as the window so that its columns read whole; below it the chosen case
in tabs, each as wide as the page: baseline and follow-up side by side (issue 15), the
spider plot, the timeline and the cohort waterfall. Choosing a worklist row chooses its
case in the case list, as a click there does. In the main window the page does not follow
the list by itself: the window asks about unsaved input first (ui/case_change.py) and calls
:meth:`FollowupPage.show_case` only when the case changes, so that after *Cancel* the page
stays on the window's case. The worklist was a dock under the case list before: at
1600 × 1000 it squeezed the review to a strip.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from tace_planner.domain.errors import TacePlannerError
from tace_planner.ui.followup_review import FollowupReviewPage
from tace_planner.ui.panels.timeline_panel import TimelinePanel
from tace_planner.ui.panels.worklist_panel import WorklistPanel

#: Share of the page's height the worklist gets at first (the review gets the rest).
WORKLIST_HEIGHT_SHARE = 0.3
#: The worklist's least height: its filters, its header and three rows.
WORKLIST_MIN_HEIGHT_PX = 170
TIMELINE_TAB = "Timeline"


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
        top.setMinimumHeight(WORKLIST_MIN_HEIGHT_PX)
        self.addWidget(top)
        # The review (proposals, responses, plots) scrolls rather than set the window's
        # minimum: on a 1366 × 768 screen the page needed 762 px of height and pushed the
        # status bar (progress, Cancel) off-screen.
        review_area = QScrollArea()
        review_area.setObjectName("followup_review_area")
        review_area.setWidgetResizable(True)
        review_area.setFrameShape(QFrame.Shape.NoFrame)
        review_area.setWidget(self.review)
        self.addWidget(review_area)
        self.setChildrenCollapsible(False)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 3)
        self._sized = False
        self.review.course_changed.connect(self._on_course_changed)
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
        """Choose the row's case in the case list; a row whose case did not become the one
        shown (unsaved input elsewhere, *Cancel*) is unselected again."""
        self._case_list.select_case(case_pk)
        if self.review.case_pk != case_pk:
            self.worklist.table.clearSelection()

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
            self.timeline.show_timeline(self._services.therapy.timeline(case_pk))
        except TacePlannerError as error:
            self.timeline.hover.setText(str(error))

    def showEvent(self, event: Any) -> None:
        """At the first showing, give the worklist its share of the height."""
        super().showEvent(event)
        if not self._sized and self.height() > 0:
            self._sized = True
            worklist = max(WORKLIST_MIN_HEIGHT_PX, int(self.height() * WORKLIST_HEIGHT_SHARE))
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
