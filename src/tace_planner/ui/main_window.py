"""Main window: workspaces, patient banner, case list, study tree, viewer, docks and menus.

Parts of the window live beside it: the pages, docks and layout
(``main_window_layout``), the status bar with its progress and *Cancel*
(``main_window_status``), the menus and their dialogs (``main_window_menus``), and the
heavy content built in :meth:`MainWindow.attach` (``main_window_parts``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from tace_planner import __version__
from tace_planner.services.settings import config_file
from tace_planner.ui.case_change import CaseChangeGuard
from tace_planner.ui.demo_loader import DemoLoader
from tace_planner.ui.dialogs.classification_dialog import ClassificationDialog
from tace_planner.ui.dialogs.new_case_dialog import NewCaseDialog
from tace_planner.ui.errors import show_error
from tace_planner.ui.main_window_layout import DISCLAIMER, LEFT_COLUMN_MIN_PX, WindowLayoutMixin
from tace_planner.ui.main_window_layout import DOCK_WIDTH_MAX_SHARE as DOCK_WIDTH_MAX_SHARE
from tace_planner.ui.main_window_layout import DOCK_WIDTH_SHARE as DOCK_WIDTH_SHARE
from tace_planner.ui.main_window_menus import SnapshotDialog as SnapshotDialog
from tace_planner.ui.main_window_menus import WindowMenusMixin
from tace_planner.ui.main_window_status import StatusBarMixin
from tace_planner.ui.panels.case_list import CaseListPanel
from tace_planner.ui.panels.contour_note import ContourNote
from tace_planner.ui.tasks import TaskHandle, TaskRunner
from tace_planner.ui.view_title import ViewTitleLabel
from tace_planner.ui.window_layout import WindowLayoutStore
from tace_planner.ui.workspaces import WorkspaceBar, WorkspaceContext

# The viewer, panels and docks (pyqtgraph, numpy, pydicom, the services' models) are in
# ui/main_window_parts.py, imported when the window builds its content (attach), so that
# the empty window is painted first (issue 17).

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tace_planner.domain.progress import Task
    from tace_planner.domain.protocol import RequirementResult
    from tace_planner.services.bootstrap import Services
    from tace_planner.services.demo import DemoReport
    from tace_planner.services.dto import CaseItem, PatientItem, SeriesItem
    from tace_planner.ui.viewer.slice_view import SliceView

#: The docks that follow the current patient, and their titles before the patient's name.
DOCK_TITLES = {
    "plan_dock": "Treatment plan",
    "procedure_dock": "Procedure",
    "lesion_dock": "Lesions",
}


def _key_image(services: Services, plan_case_pk: int) -> Any:
    """The plan sheet's key image: a baseline slice through the largest focus, with contours."""
    return services.planning.key_image(plan_case_pk, services.studies.load_series)


def protocol_tooltip(requirements: Sequence[RequirementResult]) -> str:
    """One line per requirement, for people: failed first, then not checked, then passed.

    The status in words ("failed", "not checked", "passed"), what is required and why;
    the reasons name series by description, number and phase, never by UID.
    """
    order = {"fail": 0, "not_evaluated": 1, "pass": 2}
    ranked = sorted(requirements, key=lambda r: order.get(r.status, 3))
    return "\n".join(f"{r.status_words.capitalize()}: {r.name} — {r.reason}" for r in ranked)


class MainWindow(WindowMenusMixin, StatusBarMixin, WindowLayoutMixin, QMainWindow):
    """The application window.

    Top: the workspace bar (Plan, Procedure, Follow-up, Cohort) and the banner
    naming the current patient and case. Left: the case list
    (``CaseService.list_cases``), the study tree of the selected case
    (``StudyService.studies_of_case``) and the measurements of the series in the
    active view (``AnnotationService``). Centre: the image viewer
    (:class:`ViewerWorkspace`), which opens the selected series in its active
    view, or a series dragged from the tree onto any view, off the GUI thread.
    Right: the docks of the workspace, each following the current patient and
    case. The status bar names the database; its progress bar and *Cancel*
    button belong to the running loads. The layout is kept between starts
    (:class:`WindowLayoutStore`, ``window.ini`` beside the settings file).
    """

    def __init__(
        self,
        services: Services | None,
        parent: QWidget | None = None,
        *,
        layout_settings: QSettings | None = None,
        demo: Callable[[str], Task[DemoReport]] | None = None,
        cohort: Callable[[str], tuple[Any, Any]] | None = None,
        export: Callable[..., Task[Any]] | None = None,
    ) -> None:
        super().__init__(parent)
        self._services: Services | None = None
        self._demo = demo
        self._cohort = cohort
        self._export = export
        self._tasks = TaskRunner(self)
        self._case_pk: int | None = None
        self._context = WorkspaceContext()
        self._patients: dict[int, PatientItem] = {}
        self._cases: dict[int, CaseItem] = {}
        self._workspace_key = ""
        self._on_screen = False
        self._built = False
        self._leaving_allowed = False  # True while a case change was allowed already
        self._layout_store = WindowLayoutStore(
            layout_settings
            if layout_settings is not None
            else QSettings(str(config_file().with_name("window.ini")), QSettings.Format.IniFormat)
        )
        self.setWindowTitle(f"TACE Planner {__version__}")
        self.resize(1400, 860)
        if services is not None:
            self.attach(services)
            return
        # Started without services (app.run_gui): an empty window is painted at once, and
        # attach() builds the content once the database is open, off the GUI thread.
        starting = QLabel(f"{DISCLAIMER}\n\nOpening the database…")
        starting.setObjectName("starting_label")
        starting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        starting.setWordWrap(True)
        starting.setStyleSheet("color: #303030; font-size: 13pt; padding: 40px;")
        self.setCentralWidget(starting)
        self.statusBar().showMessage("Opening the database…")

    @property
    def ready(self) -> bool:
        """True once the window has its services and content (:meth:`attach`)."""
        return self._built

    def start_in_background(
        self,
        opening: Task[Services],
        on_ready: Callable[[Services], None],
        on_failed: Callable[[BaseException], None],
    ) -> TaskHandle:
        """Run ``opening`` (it opens the database) on the window's task runner.

        ``on_ready`` gets the services on the GUI thread (it calls :meth:`attach`);
        ``on_failed`` the error. Closing the window first cancels it.
        """
        return self._tasks.submit(
            opening, title="Opening the database", on_result=on_ready, on_error=on_failed
        )

    def attach(
        self,
        services: Services,
        *,
        demo: Callable[[str], Task[DemoReport]] | None = None,
        cohort: Callable[[str], tuple[Any, Any]] | None = None,
        export: Callable[..., Task[Any]] | None = None,
    ) -> None:
        """Build the window's content on ``services``: viewer, case list, docks and menus.

        The constructor calls it when given services; ``app.run_gui`` shows the empty
        window first and calls it once the database is open. ``demo``, ``cohort`` and
        ``export`` replace those given to the constructor.
        """
        if self._services is not None:
            raise RuntimeError("the main window already has its services")
        from tace_planner.ui import main_window_parts as parts

        self._services = services
        self._demo = demo or self._demo
        self._cohort = cohort or self._cohort
        self._export = export or self._export
        self.statusBar().clearMessage()
        self.case_list = CaseListPanel()
        self.study_tree = parts.StudyTreePanel(assigner=services.study_reassign)
        self.protocol_label = QLabel("")
        self.protocol_label.setObjectName("protocol_label")
        self.protocol_label.setWordWrap(True)
        studies = QWidget()
        studies_layout = QVBoxLayout(studies)
        studies_layout.setContentsMargins(0, 0, 0, 0)
        studies_layout.addWidget(self.protocol_label)
        studies_layout.addWidget(self.study_tree, stretch=1)
        self.annotation_panel = parts.AnnotationPanel()
        self.annotation_panel.heading.setWordWrap(True)  # a long series title never widens it
        left = QSplitter(Qt.Vertical)
        left.setMinimumWidth(LEFT_COLUMN_MIN_PX)
        left.addWidget(self.case_list)
        left.addWidget(studies)
        left.addWidget(self.annotation_panel)
        left.setStretchFactor(0, 1)
        left.setStretchFactor(1, 3)
        left.setStretchFactor(2, 1)

        self.viewer = parts.ViewerWorkspace(
            services,
            self._tasks,
            describe_series=self.study_tree.series_item,
            title_series=self.study_tree.title_of,
            # Next to the settings file, so a test's or a portable install's stays its own.
            presets=parts.WindowPresetStore(
                QSettings(str(config_file().with_name("viewer.ini")), QSettings.Format.IniFormat)
            ),
        )
        self.workspace_bar = WorkspaceBar(self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.workspace_bar)
        self.addToolBarBreak()
        self.viewer_toolbar = parts.ViewerToolBar(self.viewer, self)
        self.addToolBar(self.viewer_toolbar)
        # shortened to fit: the series and visit stay, the grid moves to the tooltip
        self.view_title = ViewTitleLabel(
            "Select a series in the study tree, or drag it onto a view"
        )
        self.view_title.setObjectName("view_title")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 0, 4, 4)
        right_layout.addWidget(self.view_title)
        right_layout.addWidget(self.viewer, stretch=1)
        self.contour_note = ContourNote(over=self.viewer)

        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 4)
        splitter.setSizes([340, 1060])
        splitter.setChildrenCollapsible(False)
        self._splitter = splitter
        self.setCentralWidget(self._build_central(splitter, parts.CohortPage))

        self.plan_panel = parts.PlanPanel(
            services.planning, key_image=functools.partial(_key_image, services)
        )
        self.plan_dock = QDockWidget("Treatment plan", self)
        self.plan_dock.setObjectName("plan_dock")
        self.plan_dock.setWidget(self.plan_panel)
        self.addDockWidget(Qt.RightDockWidgetArea, self.plan_dock)
        self.procedure_panel = parts.add_procedure_dock(self, services)
        # The Follow-up workspace's page: the worklist over the review of the chosen case.
        self.followup_page = parts.add_followup_page(self, services, self._tasks)
        self.worklist_panel = self.followup_page.worklist
        self.timeline_panel = self.followup_page.timeline
        self.followup_review = self.followup_page.review
        self.contour_workbench = parts.ContourWorkbench(self, services)
        self.contouring = self.contour_workbench.contouring
        self.contour_controller = self.contour_workbench.controller
        self.lesion_panel = self.contour_workbench.lesion_panel
        # contours confirmed in the Follow-up review: the Plan workspace shows them (and its
        # edits start from them, not from the copy read before)
        self.followup_review.course_changed.connect(self._on_course_changed)

        self._build_status_bar()
        self.demo_loader = DemoLoader(self, self._tasks, self._demo)
        self._build_menus()
        self.workspace_bar.workspace_requested.connect(self.enter_workspace)
        # The only listener of the case list: it asks the guard, then tells every part.
        self._case_guard = CaseChangeGuard(
            self.case_list, (self.plan_panel, self.procedure_panel, self.followup_review)
        )
        self.case_list.case_selected.connect(self._on_case_list_case_selected)
        self.case_list.patient_selected.connect(self._on_case_list_patient_selected)
        self.study_tree.series_selected.connect(self._on_study_tree_series_selected)
        self.study_tree.classification_requested.connect(
            self._on_study_tree_classification_requested
        )
        self.study_tree.study_reassigned.connect(self._on_study_tree_study_reassigned)
        self._connect_viewer()
        self.refresh_cases()
        self.workspace_bar.set_context(self._context)
        self.enter_workspace("plan")
        self._built = True
        if self._on_screen:
            self._restore_layout()

    @property
    def slice_view(self) -> SliceView:
        """The active view of the viewer."""
        return self.viewer.active_view

    def _connect_viewer(self) -> None:
        viewer = self.viewer
        viewer.provider.busy_changed.connect(self._on_loading_busy_changed)
        viewer.provider.progressed.connect(self._on_load_progress)
        viewer.load_failed.connect(self._on_load_failed)
        viewer.volume_shown.connect(self._on_viewer_volume_shown)
        viewer.preview_shown.connect(self._on_viewer_preview_shown)
        viewer.active_view_changed.connect(self._on_viewer_active_view_changed)
        viewer.annotations.message.connect(self._on_viewer_message)
        viewer.annotations.changed.connect(self._refresh_annotation_panel)
        self.annotation_panel.annotation_selected.connect(self._on_annotation_selected)
        self.annotation_panel.delete_requested.connect(self._on_annotation_delete_requested)

    # ----------------------------------------------------------------- workspaces
    @property
    def workspace_key(self) -> str:
        """Key of the workspace shown ("plan", "procedure", "follow_up" or "cohort")."""
        return self._workspace_key

    @Slot(str)
    def enter_workspace(self, key: str) -> None:
        """Show workspace ``key``; one that cannot be entered now says why in the status bar."""
        workspace = self.workspace_bar.workspace(key)
        available = workspace.availability(self._context.case)
        if not available.ok:
            self.statusBar().showMessage(available.reason, 8_000)
            self.workspace_bar.set_current(self._workspace_key or "plan")
            return
        if self._workspace_key and self._workspace_key != key:
            self.workspace_bar.workspace(self._workspace_key).exit(self)
        self._workspace_key = key
        workspace.enter(self)
        self.workspace_bar.set_current(key)

    @property
    def context(self) -> WorkspaceContext:
        """The patient and case the window is on."""
        return self._context

    def _set_context(self, patient_pk: int | None, case_pk: int | None) -> None:
        """Name the patient everywhere and empty the views of another patient's images."""
        case = self._cases.get(case_pk) if case_pk is not None else None
        if case is not None:
            patient_pk = case.patient_pk
        patient = self._patients.get(patient_pk) if patient_pk is not None else None
        self._context = WorkspaceContext(patient, case)
        self.workspace_bar.set_context(self._context)
        label = self._context.patient_short_label
        for name, dock in self._docks().items():
            base = DOCK_TITLES.get(name)
            if base is not None:
                dock.setWindowTitle(f"{base} — {label}" if label else base)
        emptied = self.viewer.close_series_except(
            lambda uid: self.study_tree.series_item(uid) is not None
        )
        if emptied:
            self.view_title.setText("Select a series in the study tree, or drag it onto a view")
        self._refresh_annotation_panel()
        if not self.workspace_bar.workspace(self._workspace_key or "plan").availability(case).ok:
            self.enter_workspace("plan")

    # ----------------------------------------------------------------- cases
    def refresh_cases(self) -> None:
        """Reload the case list from the database."""
        try:
            patients = self._services.cases.list_patients()
            cases = self._services.cases.list_cases()
        except Exception as error:  # noqa: BLE001 - shown to the user, app keeps running
            show_error(self, "Cannot list cases", error)
            return
        self._patients = {patient.pk: patient for patient in patients}
        self._cases = {case.pk: case for case in cases}
        self.case_list.show_cases(patients, cases)
        # The row of what the window shows stays selected, without showing it again (a
        # click on it then changes nothing); select_case shows a case anew when asked.
        shown_patient = self._context.patient
        self.case_list.reselect(self._case_pk, shown_patient.pk if shown_patient else None)
        if self._context.case is not None or self._context.patient is not None:
            # A renamed case or a new study: the banner and the dock titles say it at once.
            case, patient = self._context.case, self._context.patient
            self._set_context(patient.pk if patient else None, case.pk if case else None)
        if not patients:
            self.statusBar().showMessage(
                "No case yet: File → Open the demo case, or File → Import DICOM…", 10_000
            )

    def select_case(self, case_pk: int) -> None:
        """Select a case and show its studies; its first portal-venous CT (or first CT) opens.

        The case shown already is shown again (a demo re-run or an import may have changed
        its studies and contours); typed input of the plan and procedure forms is kept.
        """
        if self._case_pk == case_pk:
            self.case_list.reselect(case_pk, None)  # its row, without a signal
            self._on_case_list_case_selected(case_pk)
        elif not self.case_list.select_case(case_pk):
            return
        if self._case_pk == case_pk:
            self.study_tree.select_first_volume("CT")

    def _on_case_list_patient_selected(self, patient_pk: int) -> None:
        if not self._case_change_allowed(None):
            return
        self._case_pk = None
        self.followup_page.show_case(None)
        try:
            studies = self._services.studies.studies_of_patient(patient_pk)
        except Exception as error:  # noqa: BLE001 - shown to the user
            show_error(self, "Cannot list studies", error)
            return
        self.study_tree.show_studies(studies)
        # No case chosen: no dock may go on showing the previous case's plan or lesions.
        self.plan_panel.set_case(None)
        self.procedure_panel.set_case(None)
        if self.lesion_panel is not None and self.contour_controller is not None:
            self.lesion_panel.set_case(None)
            self.contour_controller.set_case(None)
        self._set_context(patient_pk, None)
        self.protocol_label.setText("Open a case to check its baseline against the protocol.")
        self.protocol_label.setStyleSheet("")
        self.protocol_label.setToolTip("")

    def _on_case_list_case_selected(self, case_pk: int) -> None:
        if not self._case_change_allowed(case_pk):
            return
        self._case_pk = case_pk
        self.procedure_panel.set_case(case_pk)
        self.followup_page.show_case(case_pk)
        try:
            studies = self._services.studies.studies_of_case(case_pk)
        except Exception as error:  # noqa: BLE001 - shown to the user
            show_error(self, "Cannot list studies", error)
            return
        self.study_tree.show_studies(studies)
        self._set_context(None, case_pk)
        self.show_protocol_status(case_pk)
        self.plan_panel.set_case(case_pk)
        QTimer.singleShot(0, self.fit_docks)  # the case's plan decides the width it needs
        if self.lesion_panel is not None and self.contour_controller is not None:
            self.lesion_panel.set_case(case_pk)
            try:
                self.contour_controller.set_case(case_pk)
            except Exception as error:  # noqa: BLE001 - shown to the user
                show_error(self, "Cannot show the contours", error)

    def _case_change_allowed(self, case_pk: int | None) -> bool:
        """Unsaved plan inputs or procedure form: Save / Discard / Cancel (ui/case_change.py);
        Cancel puts the list back on the case shown, or on the patient shown without a case."""
        if self._leaving_allowed:  # asked already (a new case)
            return True
        patient = self._context.patient
        return self._case_guard.allows(case_pk, self._case_pk, patient.pk if patient else None)

    def _on_course_changed(self, case_pk: int) -> None:
        if case_pk != self._case_pk or self.contour_controller is None:
            return
        try:
            self.contour_controller.set_case(case_pk)
        except Exception as error:  # noqa: BLE001 - shown to the user
            show_error(self, "Cannot show the contours", error)
        if self.lesion_panel is not None:
            self.lesion_panel.refresh()
        self.plan_panel.set_case(case_pk)

    def show_protocol_status(self, case_pk: int) -> None:
        """Check the case's baseline against the imaging protocol and show the verdict."""
        try:
            result = self._services.protocol.check_baseline(case_pk)
        except Exception as error:  # noqa: BLE001 - the check is advice; say why it is missing
            self.protocol_label.setText(f"Imaging protocol not checked: {error}")
            self.protocol_label.setStyleSheet("")
            self.protocol_label.setToolTip("")  # not the previous case's verdict
            return
        colours = {"pass": "#1e6b2f", "fail": "#a31515", "not_evaluated": "#5c4400"}
        failures = [r for r in result.requirements if r.status != "pass"]
        text = f"Baseline {result.summary()}"
        if failures:
            text += " — " + "; ".join(r.name for r in failures[:3])
            text += " …" if len(failures) > 3 else ""
        self.protocol_label.setText(text)
        # Only the label: a bare "color:" also painted every line of its tooltip red.
        colour = colours.get(result.status, "palette(text)")
        self.protocol_label.setStyleSheet(f"QLabel#protocol_label {{ color: {colour}; }}")
        self.protocol_label.setToolTip(protocol_tooltip(result.requirements))

    def _on_study_tree_study_reassigned(self, result: Any) -> None:
        """A study handed to its patient: the case list counts it under that patient, and a
        patient view (not a case's) goes on to that patient, where the study now is."""
        self.refresh_cases()
        if self._case_pk is None and result.to_patient_pk in self._patients:
            self.case_list.reselect(None, result.to_patient_pk)
            self._on_case_list_patient_selected(result.to_patient_pk)
        self.statusBar().showMessage(
            f"Study handed to {result.patient_label}; the change is in the audit trail.", 10_000
        )

    def _on_study_tree_classification_requested(self, series: SeriesItem) -> None:
        choice = ClassificationDialog.ask(
            series.description,
            series.modality,
            (series.phase, series.sequence, series.plane),
            self,
        )
        if choice is None:
            return
        try:
            self._services.protocol.correct_classification(
                series.series_uid,
                phase=choice.phase or None,
                sequence=choice.sequence or None,
                plane=choice.plane or None,
                reason=choice.reason,
            )
        except Exception as error:  # noqa: BLE001 - shown to the user
            show_error(self, "Cannot change the classification", error)
            return
        if self._case_pk is not None:
            self._on_case_list_case_selected(self._case_pk)

    # ----------------------------------------------------------------- series
    def _on_study_tree_series_selected(self, series_uid: str, part: str) -> None:
        title = self.study_tree.title_of(series_uid, part)
        self.view_title.setText(f"Loading {title}…")
        try:
            self.viewer.open_series(series_uid, part, title=title)
        except Exception as error:  # noqa: BLE001 - shown to the user
            self.view_title.setText(f"{title}: could not be opened")
            show_error(self, "Cannot open series", error)

    def _describe_view(self, view: SliceView, shape_zyx: tuple[int, int, int] | None = None) -> str:
        volume = view.volume
        if volume is None:
            return "Select a series in the study tree, or drag it onto a view"
        dz, dy, dx = volume.spacing_mm
        z, y, x = shape_zyx or volume.shape
        loading = " (loading…)" if shape_zyx is not None else ""
        return f"{view.title} — {z} × {y} × {x} voxels, {dz:.2f} × {dy:.2f} × {dx:.2f} mm{loading}"

    @Slot(object)
    def _on_viewer_volume_shown(self, view: SliceView) -> None:
        if view is self.viewer.active_view:
            self.view_title.setText(self._describe_view(view))
            self._refresh_annotation_panel()
            self.contour_workbench.follow_view(view)

    @Slot(object, object)
    def _on_viewer_preview_shown(self, view: SliceView, shape_zyx: tuple[int, int, int]) -> None:
        if view is self.viewer.active_view:
            self.view_title.setText(self._describe_view(view, shape_zyx))

    @Slot(object)
    def _on_viewer_active_view_changed(self, view: SliceView) -> None:
        self.view_title.setText(self._describe_view(view))
        self._refresh_annotation_panel()
        self.contour_workbench.follow_view(view)

    # ----------------------------------------------------------------- measurements
    def _refresh_annotation_panel(self) -> None:
        view = self.viewer.active_view
        items = self.viewer.annotations.items_for(view.series_key)
        patient = self._context.patient_short_label
        heading = f"{patient}: {view.title}" if patient and view.title else view.title or patient
        self.annotation_panel.show_items(items, heading)

    @Slot(int)
    def _on_annotation_selected(self, pk: int) -> None:
        self.viewer.annotations.jump_to(pk, self.viewer.active_view)

    @Slot(int)
    def _on_annotation_delete_requested(self, pk: int) -> None:
        self.viewer.annotations.delete(pk)

    # ----------------------------------------------------------------- new case
    def _on_new_case_triggered(self) -> None:
        patient = self.case_list.selected_patient()
        if patient is None:
            self.statusBar().showMessage("Select a patient first", 5_000)
            return
        # Unsaved plan inputs or procedure form: Save / Discard / Cancel before the dialog,
        # so that Cancel creates nothing (the new case is then shown without asking again).
        if not self._case_guard.allows_leaving():
            return
        patient_pk, label = patient
        try:  # the dialog asks about a planned TACE date before the patient's imaging
            studies = self._services.studies.studies_of_patient(patient_pk)
        except Exception:  # noqa: BLE001 - the question is advice; the dialog works without it
            studies = []
        earliest = min((s.study_on for s in studies if s.study_on), default=None)
        choice = NewCaseDialog.ask(label, self, earliest_imaging_on=earliest)
        if choice is None:
            return
        try:
            case = self._services.cases.create_case(
                None,
                choice.title,
                patient_pk=patient_pk,
                planned_tace_on=choice.planned_tace_on,
                primary_site=choice.primary_site,
            )
            if choice.planned_tace_on is not None:
                self._services.cases.link_studies_by_date(case.pk, choice.planned_tace_on)
        except Exception as error:  # noqa: BLE001 - shown to the user
            show_error(self, "Cannot open the case", error)
            return
        self.refresh_cases()
        self._leaving_allowed = True
        try:
            self.select_case(case.pk)
        finally:
            self._leaving_allowed = False

    # ----------------------------------------------------------------- demo
    def load_demo(self, size: str = "full") -> TaskHandle | None:
        """Prepare and open the demo case off the GUI thread (see :class:`DemoLoader`)."""
        return self.demo_loader.load(size)

    # ----------------------------------------------------------------- errors, closing
    def _show_error(self, title: str, error: BaseException) -> None:
        """Show ``error`` (for the window's parts: tests replace this module's ``show_error``)."""
        show_error(self, title, error)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask about unsaved input, then remember the layout, cancel running work and wait
        for it before the window goes.

        Plan inputs typed and not saved, or a procedure record not saved, ask the question
        of a case change (Save / Discard / Cancel, ``ui/case_change.py``); Cancel, or a
        save that is refused, keeps the window open with what was typed.
        """
        if self.ready and not self._case_guard.allows_leaving():
            event.ignore()
            return
        if self.ready:  # an empty window (closed while starting) would forget the docks
            self._layout_store.save(self, self._workspace_key)
            self.viewer.release()
        self._tasks.shutdown()
        super().closeEvent(event)
