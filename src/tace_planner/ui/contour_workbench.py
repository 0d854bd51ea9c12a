"""Contouring in the main window: the lesion dock, the Contour menu and tool bar, RECIST axes."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu

from tace_planner.domain.annotations import Annotation
from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.progress import Progress
from tace_planner.ui.contour_actions import CLEAN_UPS, ContourOptions
from tace_planner.ui.contour_tools import MARGIN_STEP_MM, ContourController
from tace_planner.ui.panels.lesion_panel import LesionPanel
from tace_planner.ui.wording import capitalised

if TYPE_CHECKING:
    from tace_planner.services.bootstrap import Services
    from tace_planner.services.contouring import ContouringService


def recist_axes(measurement: Any, index_to_lps: np.ndarray) -> list[Annotation]:
    """The RECIST long and short axes of a measured lesion as read-only ruler annotations.

    They lie on the axial slice of the series grid where the long axis is longest.
    """
    normal = np.cross(index_to_lps[:3, 1], index_to_lps[:3, 2])
    normal = normal / np.linalg.norm(normal)
    axes = []
    for name, points, length in (
        ("long axis", measurement.long_axis_lps, measurement.longest_axial_diameter_mm),
        ("short axis", measurement.short_axis_lps, measurement.short_axis_mm),
    ):
        if points is None or length is None:
            continue
        axes.append(
            Annotation(
                kind="ruler",
                points_lps=tuple(tuple(float(v) for v in p) for p in points),
                orientation="axial",
                plane_normal_lps=tuple(float(v) for v in normal),
                plane_position_mm=float(np.asarray(points[0]) @ normal),
                values={"length_mm": float(length)},
                label=f"{measurement.name} {name}",
            )
        )
    return axes


class ContourWorkbench(QObject):
    """Wires contouring into the main window.

    It owns the Lesions dock (tabified with the plan), the contour controller on
    the viewer, and the Contour menu and tool bar; the window keeps references to
    the pieces its other parts and tests use (``lesion_panel``,
    ``contour_controller``, ``undo_action`` …). Nothing is built when the
    services offer no contouring.
    """

    def __init__(self, window: Any, services: Services) -> None:
        super().__init__(window)
        self._window: Any = window  # the MainWindow (not imported: it imports this module)
        self.lesion_dock: QDockWidget | None = None
        self._build(services)

    def _build(self, services: Services) -> None:
        self.contouring: ContouringService | None = services.contouring
        self.controller: ContourController | None = None
        self.lesion_panel: LesionPanel | None = None
        if self.contouring is None:
            return
        self.controller = ContourController(
            self._window.viewer, self.contouring, self._window._tasks, self._window
        )
        # the Lesions dock names each visit as the worklist does (its schedule slot)
        self.lesion_panel = LesionPanel(
            self.contouring, choices=services.followups.follow_up_choices
        )
        self.lesion_dock = QDockWidget("Lesions", self._window)
        self.lesion_dock.setObjectName("lesion_dock")
        self.lesion_dock.setWidget(self.lesion_panel)
        self._window.addDockWidget(Qt.RightDockWidgetArea, self.lesion_dock)
        self._window.tabifyDockWidget(self._window.plan_dock, self.lesion_dock)
        self._window.plan_dock.raise_()
        self.lesion_panel.lesion_selected.connect(self._on_lesion_panel_lesion_selected)
        self.lesion_panel.jump_requested.connect(self._on_lesion_panel_jump_requested)
        self.lesion_panel.measurement_selected.connect(self._on_lesion_panel_measurement_selected)
        self.lesion_panel.visibility_changed.connect(self.controller.set_visible)
        self.lesion_panel.lock_changed.connect(self.controller.set_locked)
        self.lesion_panel.lesions_edited.connect(self._on_lesion_panel_lesions_edited)
        self.lesion_panel.delete_handler = self.controller.delete_lesion
        self.controller.lesions_changed.connect(self._on_contour_lesions_changed)
        self.controller.error.connect(self._on_contour_error)
        self.controller.stack_changed.connect(self._on_contour_stack_changed)
        self.controller.progressed.connect(self._on_contour_progressed)
        self.controller.busy_changed.connect(self._on_contour_busy_changed)

    def build_menu(self) -> None:
        """The Contour menu and tool bar (after the other menus, so it comes after them)."""
        if self.controller is None:
            return
        menu = self._window.menuBar().addMenu("C&ontour")
        self._window.addToolBarBreak()
        toolbar = self._window.addToolBar("Contour")
        toolbar.setObjectName("contour_toolbar")
        self.contour_tool_actions: dict[str | None, QAction] = {}
        for tool, text in (
            (None, "&Navigate"),
            ("auto", "&Auto contour"),
            ("brush", "&Brush"),
            ("erase", "&Eraser"),
            ("threshold", "&Threshold paint"),
            ("liver", "&Liver from click"),
            ("auto2d", "&2D auto contour on this slice"),
            ("polygon", "&Polygon fill"),
        ):
            action = QAction(text, self._window)
            action.setToolTip(
                {
                    None: "The viewer's own tools (window/level, rulers)",
                    "auto": "Click in a focus: contour it in 3D; Ctrl-click: add the clicked "
                    "tissue; Shift-click: exclude it",
                    "brush": "Paint into the selected lesion (size and shape: tool bar)",
                    "erase": "Erase from the selected lesion",
                    "threshold": "Paint only voxels within the HU range of the tool bar",
                    "liver": "Click in the liver: contour it as the 'Liver' lesion; "
                    "Ctrl-click: add the clicked tissue; Shift-click: exclude it",
                    "auto2d": "Click in a focus: add its contour on this slice to the lesion",
                    "polygon": "Drag an outline: fill its inside on this slice into the lesion",
                }[tool]
            )
            action.setCheckable(True)
            action.setData(tool)
            action.triggered.connect(self._on_contour_tool_triggered)
            menu.addAction(action)
            toolbar.addAction(action)
            self.contour_tool_actions[tool] = action
        self.contour_tool_actions[None].setChecked(True)
        self.contour_options = ContourOptions(self.controller, toolbar)
        menu.addSeparator()
        self.contour_clean_up_actions: dict[str, QAction] = {}
        for kind, text in CLEAN_UPS.items():
            action = QAction(capitalised(text), self._window)
            action.setToolTip(f"{capitalised(text)} of the selected lesion (undoable)")
            action.setData(kind)
            action.triggered.connect(self._on_contour_clean_up_triggered)
            menu.addAction(action)
            self.contour_clean_up_actions[kind] = action
        # The whole auto contour out or in by half a millimetre: an edge followed a
        # little inside all round (a faint edge) is one key, not a click per side.
        self.margin_actions: dict[float, QAction] = {}
        for step, text, key in (
            (MARGIN_STEP_MM, "Grow contour by 0.5 mm", "]"),
            (-MARGIN_STEP_MM, "Shrink contour by 0.5 mm", "["),
        ):
            action = QAction(text, self._window)
            action.setShortcut(QKeySequence(key))
            action.setToolTip(
                f"{text} all round: the selected focus's auto contour, kept through later "
                f"clicks (undoable) [{key}]"
            )
            action.triggered.connect(functools.partial(self._on_margin_triggered, step))
            menu.addAction(action)
            self.margin_actions[step] = action
        menu.addSeparator()
        self.undo_action = QAction("&Undo contour edit", self._window)
        self.undo_action.setShortcut(QKeySequence.Undo)
        self.undo_action.triggered.connect(self.controller.undo)
        self.redo_action = QAction("&Redo contour edit", self._window)
        self.redo_action.setShortcut(QKeySequence("Ctrl+Shift+Z"))
        self.redo_action.triggered.connect(self.controller.redo)
        for action, word in ((self.undo_action, "Undo"), (self.redo_action, "Redo")):
            # The tool bar shows the short word: "Undo auto contour F12" pushed both
            # buttons into the overflow menu at 1400 px; the tooltip says what.
            action.setIconText(word)
            action.setEnabled(False)
            menu.addAction(action)
            toolbar.addAction(action)
        # Where users look for them first: Edit, right after File.
        bar = self._window.menuBar()
        self.edit_menu = QMenu("&Edit", self._window)
        self.edit_menu.setObjectName("edit_menu")
        self.edit_menu.addActions([self.undo_action, self.redo_action])
        after_file = next((a for a in bar.actions()[1:] if a.menu() is not None), None)
        if after_file is not None:
            bar.insertMenu(after_file, self.edit_menu)
        else:
            bar.addMenu(self.edit_menu)
        lesions_action = QAction("Show &lesions", self._window)
        lesions_action.triggered.connect(self._on_show_lesions_triggered)
        menu.addAction(lesions_action)

    def _on_contour_tool_triggered(self) -> None:
        action = self.sender()
        tool = action.data() if isinstance(action, QAction) else None
        for other, item in self.contour_tool_actions.items():
            item.setChecked(other == tool)
        if self.controller is not None:
            self.controller.set_tool(tool)

    def _on_contour_clean_up_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and self.controller is not None:
            self.controller.clean_up(str(action.data()))

    def _on_margin_triggered(self, step_mm: float) -> None:
        if self.controller is not None:
            self.controller.move_margin(step_mm)

    def _on_show_lesions_triggered(self) -> None:
        self.lesion_dock.show()
        self.lesion_dock.raise_()

    def _on_contour_stack_changed(self) -> None:
        if self.controller is None:
            return
        stack = self.controller.stack
        self.undo_action.setEnabled(stack.can_undo)
        self.redo_action.setEnabled(stack.can_redo)
        for action, word, can, what, keys in (
            (self.undo_action, "Undo", stack.can_undo, stack.undo_text, "Ctrl+Z"),
            (self.redo_action, "Redo", stack.can_redo, stack.redo_text, "Ctrl+Shift+Z"),
        ):
            action.setText(f"&{word} {what}" if can else f"&{word}")
            action.setIconText(word)
            action.setToolTip(f"{word} {what} ({keys})" if can else f"{word} ({keys})")

    def _on_contour_progressed(self, step: Progress) -> None:
        self._window.progress_bar.setVisible(True)
        self._window.progress_bar.setValue(int(step.fraction * 100))

    def _on_contour_busy_changed(self, busy: bool) -> None:
        if busy:  # a new gesture: the last one's advice no longer holds
            self._window.contour_note.clear()
        if not busy and not self._window.cancel_button.isVisible():
            self._window.progress_bar.setVisible(False)

    def _on_contour_error(self, message: str) -> None:
        """A message that fits the status bar goes there; a longer one over the images."""
        bar = self._window.statusBar()
        room = self._window.status_message_room()
        if bar.fontMetrics().horizontalAdvance(message) <= room:
            self._window.contour_note.clear()
            bar.showMessage(message, 8_000)
        else:
            bar.clearMessage()
            self._window.contour_note.say(message)

    def follow_view(self, view: Any) -> None:
        """The Lesions dock shows the values at the timepoint of the active view's series.

        Called when a series has loaded into the active view or another view becomes
        active (not on scrolling), so a timepoint chosen in *Values at* stays until then.
        """
        if self.controller is None or self.lesion_panel is None or view.series_key is None:
            return
        place = self.controller.place_of(view.series_key[0])
        if place is None or place[0] != self.lesion_panel.case_pk:
            return  # a series outside the case leaves the choice alone
        try:
            self.lesion_panel.show_timepoint(place[1])
        except TacePlannerError as error:  # e.g. the database went away: said, not raised
            self._window.statusBar().showMessage(str(error), 8_000)

    def _on_contour_lesions_changed(self) -> None:
        if self.lesion_panel is not None:
            if self.controller is not None and self.controller.active_timepoint_pk is not None:
                self.lesion_panel.show_timepoint(self.controller.active_timepoint_pk)
            self.lesion_panel.refresh()
            if self.controller is not None and self.controller.active_lesion_pk:
                self.lesion_panel.select_lesion(self.controller.active_lesion_pk)
        if self._window._case_pk is not None:
            self._window.plan_panel.set_case(self._window._case_pk)

    def _on_lesion_panel_lesions_edited(self) -> None:
        if self.controller is not None:
            self.controller.refresh_lesions()
            if self._window._case_pk is not None:
                self.controller.set_case(self._window._case_pk)
        if self._window._case_pk is not None:
            self._window.plan_panel.set_case(self._window._case_pk)

    def _on_lesion_panel_lesion_selected(self, lesion_pk: int | None) -> None:
        if self.controller is not None:
            self.controller.set_active_lesion(lesion_pk)

    def _on_lesion_panel_measurement_selected(self, measurement: Any) -> None:
        """Draw the selected lesion's RECIST long and short axes on the views of its series."""
        for view in self._window.viewer.all_views:
            shown = (
                measurement is not None
                and view.volume is not None
                and view.series_key is not None
                and view.series_key[0] == measurement.series_uid
            )
            view.measurements.set_derived(
                recist_axes(measurement, view.volume.index_to_lps) if shown else []
            )

    def _on_lesion_panel_jump_requested(self, point_lps: Any) -> None:
        for view in self._window.viewer.all_views:
            if view.volume is not None:
                view.centre_on(point_lps)
