"""The viewer's tool bar: layout, left-button tool, plane, window preset, invert, reset, linking.

Every action acts on the :class:`ViewerWorkspace` (and its active view) and
follows it: choosing another view updates the plane, preset and link boxes.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QComboBox, QToolBar, QWidget

from tace_planner.ui.viewer.slice_view import SliceView
from tace_planner.ui.viewer.viewer_grid import LAYOUTS, ViewerWorkspace
from tace_planner.ui.viewer.window_presets import WindowPresetDialog

_LAYOUT_LABELS = {"1x1": "1×1", "1x2": "1×2", "2x2": "2×2", "mpr": "MPR"}
_TOOL_LABELS = {
    "window": ("W/L", "Left drag: window (horizontal) and level (vertical)"),
    "ruler": ("Ruler", "Left drag: distance in mm"),
    "ellipse": ("Ellipse", "Left drag: ellipse ROI — mean, SD, min, max and area"),
    "angle": ("Angle", "Left drag the first arm, then click the end of the second"),
    "crosshair": ("Cursor", "Left click or drag: move the 3D cursor; linked views follow"),
}


class ViewerToolBar(QToolBar):
    """Tool bar bound to one workspace (see the module docstring)."""

    def __init__(self, workspace: ViewerWorkspace, parent: QWidget | None = None) -> None:
        super().__init__("Viewer", parent)
        self.setObjectName("viewer_toolbar")
        self._workspace = workspace
        self.layout_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for name in LAYOUTS:
            action = QAction(_LAYOUT_LABELS[name], self, checkable=True)
            action.setData(name)
            action.setToolTip(f"Layout {_LAYOUT_LABELS[name]}")
            group.addAction(action)
            self.addAction(action)
            self.layout_actions[name] = action
        self.layout_actions[workspace.layout_name].setChecked(True)
        group.triggered.connect(self._on_layout_triggered)
        self.addSeparator()

        self.tool_actions: dict[str, QAction] = {}
        tools = QActionGroup(self)
        for name, (label, tip) in _TOOL_LABELS.items():
            action = QAction(label, self, checkable=True)
            action.setData(name)
            action.setToolTip(tip)
            tools.addAction(action)
            self.addAction(action)
            self.tool_actions[name] = action
        self.tool_actions["window"].setChecked(True)
        tools.triggered.connect(self._on_tool_triggered)
        self.addSeparator()

        self.orientation_box = QComboBox()
        self.orientation_box.addItems(["axial", "coronal", "sagittal"])
        self.orientation_box.setToolTip("Plane of the active view")
        self.orientation_box.activated.connect(self._on_orientation_activated)
        self.addWidget(self.orientation_box)
        self.preset_box = QComboBox()
        self.preset_box.setPlaceholderText("Custom window")
        self.preset_box.activated.connect(self._on_preset_activated)
        self.addWidget(self.preset_box)
        self._fill_presets()
        edit = self.addAction("Presets…")
        edit.setToolTip("Edit the window presets")
        edit.triggered.connect(self._on_edit_presets_triggered)
        self.invert_action = self.addAction("Invert")
        self.invert_action.setCheckable(True)
        self.invert_action.setToolTip("Invert the grey scale (I)")
        self.invert_action.triggered.connect(self._on_invert_triggered)
        reset = self.addAction("Reset")
        reset.setToolTip("Fit, centre and first window (R)")
        reset.triggered.connect(self._on_reset_triggered)
        self.addSeparator()
        self.link_action = self.addAction("Link")
        self.link_action.setCheckable(True)
        self.link_action.setChecked(True)
        self.link_action.setToolTip("Link scrolling, zoom and pan by patient position")
        self.link_action.triggered.connect(self._on_link_triggered)
        self.view_link_action = self.addAction("Link this view")
        self.view_link_action.setCheckable(True)
        self.view_link_action.setChecked(True)
        self.view_link_action.triggered.connect(self._on_view_link_triggered)
        self.crosshair_action = self.addAction("Reference lines")
        self.crosshair_action.setCheckable(True)
        self.crosshair_action.setToolTip(
            "Where the other views cut this one, and the linked cursor"
        )
        self.crosshair_action.triggered.connect(self._on_crosshair_triggered)
        workspace.active_view_changed.connect(self._on_active_view_changed)
        workspace.volume_shown.connect(self._on_active_view_changed)
        workspace.layout_changed.connect(self._on_workspace_layout_changed)
        workspace.tool_changed.connect(self._on_workspace_tool_changed)
        for view in workspace.all_views:
            view.view_changed.connect(self._on_view_changed)
        self.sync_preset_box(workspace.active_view)

    def _fill_presets(self) -> None:
        self.preset_box.clear()
        presets = self._workspace.presets.presets
        for number, preset in enumerate(presets, start=1):
            self.preset_box.addItem(f"{number}  {preset.label}", number)
        self.preset_box.addItem("0  Automatic (percentiles)", 0)
        # Only the keys that act: 1 to the number of presets, at most 9 (apply_preset_key).
        count = min(len(presets), 9)
        keys = {0: "", 1: "key 1, "}.get(count, f"keys 1–{count}, ")
        self.preset_box.setToolTip(f"Window preset of the active view ({keys}0 = automatic window)")

    # ------------------------------------------------------------ slots
    @Slot(QAction)
    def _on_layout_triggered(self, action: QAction) -> None:
        self._workspace.set_layout(str(action.data()))

    @Slot(str)
    def _on_workspace_layout_changed(self, name: str) -> None:
        self.layout_actions[name].setChecked(True)
        self.crosshair_action.setChecked(self._workspace.crosshair)

    @Slot(str)
    def _on_workspace_tool_changed(self, tool: str) -> None:
        action = self.tool_actions.get(tool)
        if action is not None:
            action.setChecked(True)

    @Slot(QAction)
    def _on_tool_triggered(self, action: QAction) -> None:
        self._workspace.set_tool(str(action.data()))

    @Slot(int)
    def _on_orientation_activated(self, row: int) -> None:
        view = self._workspace.active_view
        view.set_orientation(self.orientation_box.itemText(row))
        self._workspace.linking.join(view)

    @Slot(int)
    def _on_preset_activated(self, row: int) -> None:
        self._workspace.active_view.apply_preset_key(int(self.preset_box.itemData(row)))

    @Slot()
    def _on_edit_presets_triggered(self) -> None:
        edited = WindowPresetDialog.ask(self._workspace.presets.presets, self)
        if edited is not None:
            self._workspace.presets.save(edited)
            self._fill_presets()
            self.sync_preset_box(self._workspace.active_view)

    @Slot(bool)
    def _on_invert_triggered(self, checked: bool) -> None:
        self._workspace.active_view.set_invert(checked)

    @Slot()
    def _on_reset_triggered(self) -> None:
        self._workspace.active_view.reset_view()

    @Slot(bool)
    def _on_link_triggered(self, checked: bool) -> None:
        self._workspace.set_linking(checked)

    @Slot(bool)
    def _on_view_link_triggered(self, checked: bool) -> None:
        self._workspace.set_view_linked(self._workspace.active_view, checked)

    @Slot(bool)
    def _on_crosshair_triggered(self, checked: bool) -> None:
        self._workspace.set_crosshair(checked)

    @Slot(object)
    def _on_active_view_changed(self, view: SliceView) -> None:
        if view is not self._workspace.active_view:
            return
        self.orientation_box.setCurrentText(view.state.orientation)
        self.invert_action.setChecked(view.state.invert)
        self.view_link_action.setChecked(view.state.linked)
        self.sync_preset_box(view)

    @Slot()
    def _on_view_changed(self) -> None:
        # A preset key, a drag of the window or a reset change the active view's window.
        view = self.sender()
        if view is self._workspace.active_view and isinstance(view, SliceView):
            self.sync_preset_box(view)
            self.invert_action.setChecked(view.state.invert)

    def sync_preset_box(self, view: SliceView) -> None:
        """Show the preset the view's window comes from; blank ("Custom window") for none."""
        self.preset_box.setCurrentIndex(self._preset_row(view))

    def _preset_row(self, view: SliceView) -> int:
        if view.volume is None:
            return self.preset_box.findData(1)  # what a CT opens with
        if view.preset_name == "auto":
            return self.preset_box.findData(0)
        window = tuple(float(v) for v in view.window_hu)
        for number, preset in enumerate(self._workspace.presets.presets, start=1):
            if (preset.width_hu, preset.level_hu) == window and view.preset_name in (
                preset.name,
                "",
            ):
                return self.preset_box.findData(number)
        return -1
