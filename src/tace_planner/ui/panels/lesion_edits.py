"""Editing in the Lesions dock: the Couinaud segment and the RECIST target of a focus.

:class:`LesionEditsMixin` is mixed into
:class:`~tace_planner.ui.panels.lesion_panel.LesionPanel`: the *Seg.* cell's
editor (:class:`SegmentDelegate`), the row's context menu with *Set Couinaud
segment…* (the proposal from the liver contour in
:class:`~tace_planner.ui.dialogs.segment_dialog.SegmentDialog`) and the *Target*
box; the menu also holds *Go to lesion* (see the panel). Each change is one
audited service call; a target selection that breaks a RECIST 1.1 rule is
refused with the rule unless the physician gives a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPoint, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QInputDialog,
    QLabel,
    QMenu,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QWidget,
)

from tace_planner.domain.explanation import Advisory
from tace_planner.services.contouring_dto import LesionItem, SegmentProposal
from tace_planner.ui.dialogs.segment_dialog import NO_SEGMENT, SegmentDialog, segment_choices

if TYPE_CHECKING:
    from tace_planner.services.contouring import ContouringService


class LesionEditsMixin:
    """Segment and target edits of the lesion panel (see the module docstring)."""

    # Provided by LesionPanel.
    _contouring: ContouringService
    _lesions: list[LesionItem]
    table: QTableWidget
    message_label: QLabel
    lesions_edited: Any
    refresh: Callable[[], None]
    _on_rename_button_clicked: Callable[[], None]
    _on_delete_button_clicked: Callable[[], None]
    select_lesion: Callable[[int], bool]
    go_to_selected: Callable[[], bool]

    @classmethod
    def ask_target_override(
        cls, parent: QWidget, name: str, advisories: tuple[Advisory, ...]
    ) -> str | None:
        """Say why a target selection is refused; the physician's override reason, or None.

        Tests monkeypatch this.
        """
        rules = "\n".join(f"• {a.message}" for a in advisories)
        text, ok = QInputDialog.getText(
            parent,
            f"{name} is not made a target",
            f"{rules}\n\nRECIST 1.1 (Eisenhauer, Eur J Cancer 2009). To make {name} a target "
            "anyway, give the reason (kept in the audit trail); Cancel keeps it non-target:",
        )
        return text.strip() if ok and text.strip() else None

    def _lesion(self, lesion_pk: int) -> LesionItem | None:
        return next((item for item in self._lesions if item.pk == lesion_pk), None)

    def _say(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def set_segment(self, lesion_pk: int, code: str, reason: str = "") -> bool:
        """Store a focus's Couinaud segment ("" clears it); True when stored."""
        lesion = self._lesion(lesion_pk)
        if lesion is None or lesion.is_liver or code == lesion.couinaud_segment:
            return False
        try:
            self._contouring.lesions.set_segment(
                lesion_pk, code, reason=reason, expected_version=lesion.version
            )
        except Exception as error:  # noqa: BLE001 - shown to the user
            self._show_error("Cannot set the segment", error)
            self.refresh()
            return False
        self._say("")
        self.refresh()
        self.lesions_edited.emit()
        return True

    def set_target(self, lesion_pk: int, is_target: bool) -> bool:
        """Make a focus a RECIST 1.1 target or not; True when stored.

        A selection that breaks a rule is refused with the rule, unless the
        physician gives a reason (:meth:`ask_target_override`).
        """
        lesion = self._lesion(lesion_pk)
        if lesion is None or lesion.is_liver:
            return False
        try:
            # the selection as shown here: a colleague's change since is not overwritten
            change = self._contouring.update_lesion(
                lesion_pk, is_target=is_target, expected_version=lesion.version
            )
            if not change.applied:
                reason = self.ask_target_override(self, lesion.name, change.advisories)  # type: ignore[arg-type]
                if reason:
                    change = self._contouring.update_lesion(
                        lesion_pk, is_target=True, override_reason=reason
                    )
        except Exception as error:  # noqa: BLE001 - shown to the user
            self._show_error("Cannot change the target selection", error)
            self.refresh()
            return False
        if change.applied:
            self._say("")
        else:
            rules = " ".join(a.message for a in change.advisories)
            self._say(f"{lesion.name} is not a target: {rules}")
        self.refresh()
        if change.applied:
            self.lesions_edited.emit()
        return change.applied

    def ask_and_set_segment(self, lesion_pk: int) -> bool:
        """*Set Couinaud segment…*: the dialog with the proposal, then the audited change."""
        lesion = self._lesion(lesion_pk)
        if lesion is None or lesion.is_liver:
            return False
        try:
            proposal = self._contouring.propose_segment(lesion_pk)
        except Exception as error:  # noqa: BLE001 - the dialog still opens without it
            proposal = SegmentProposal(lesion_pk, "", 0.0, "", f"No proposal: {error}")
        choice = SegmentDialog.ask(self, lesion.name, lesion.couinaud_segment, proposal)  # type: ignore[arg-type]
        if choice is None:
            return False
        return self.set_segment(lesion_pk, choice.code, choice.reason)

    def context_menu(self, lesion_pk: int) -> QMenu:
        """The right-click menu of a row (built per click; tests trigger its actions)."""
        menu = QMenu(self)  # type: ignore[call-overload]
        lesion = self._lesion(lesion_pk)
        if lesion is None:
            return menu
        go_to = QAction("Go to lesion", menu)
        go_to.setObjectName("go_to_lesion_action")
        go_to.setToolTip("Show this lesion's centre in the views")
        go_to.triggered.connect(lambda: self.select_lesion(lesion_pk) and self.go_to_selected())
        menu.addAction(go_to)
        menu.addSeparator()
        if not lesion.is_liver:
            segment = QAction("Set Couinaud segment…", menu)
            segment.setObjectName("set_segment_action")
            segment.triggered.connect(lambda: self.ask_and_set_segment(lesion_pk))
            menu.addAction(segment)
            target = QAction("RECIST target lesion", menu)
            target.setObjectName("target_action")
            target.setCheckable(True)
            target.setChecked(lesion.is_target)
            target.triggered.connect(lambda checked: self.set_target(lesion_pk, checked))
            menu.addAction(target)
            menu.addSeparator()
        rename = menu.addAction("Rename…")
        rename.triggered.connect(self._on_rename_button_clicked)
        delete = menu.addAction("Delete")
        delete.triggered.connect(self._on_delete_button_clicked)
        return menu

    def _on_table_context_menu_requested(self, position: QPoint) -> None:
        row = self.table.rowAt(position.y())
        if not 0 <= row < len(self._lesions):
            return
        self.table.selectRow(row)
        menu = self.context_menu(self._lesions[row].pk)
        menu.exec(self.table.viewport().mapToGlobal(position))
        menu.deleteLater()

    def _show_error(self, title: str, error: BaseException) -> None:
        from tace_planner.ui.errors import message_for

        self._say(f"{title}: {message_for(error)}")


class SegmentDelegate(QStyledItemDelegate):
    """The Seg. cell's editor: a list of the Couinaud segments; the choice goes to the service."""

    def __init__(self, panel: Any) -> None:
        super().__init__(panel)
        self._panel = panel

    def createEditor(
        self, parent: QWidget, _option: QStyleOptionViewItem, index: QModelIndex
    ) -> QWidget:
        """A combo box of the segments."""
        editor = QComboBox(parent)
        editor.setObjectName("segment_editor")
        lesions = self._panel.lesions
        current = lesions[index.row()].couinaud_segment if index.row() < len(lesions) else ""
        editor.addItems(segment_choices(current))
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        """Select the stored segment."""
        assert isinstance(editor, QComboBox)
        editor.setCurrentText(str(index.data()) if index.data() else NO_SEGMENT)

    def setModelData(self, editor: QWidget, _model: Any, index: QModelIndex) -> None:
        """Store the chosen segment through the service (the refresh redraws the cell)."""
        assert isinstance(editor, QComboBox)
        lesions = self._panel.lesions
        if index.row() >= len(lesions):
            return
        text = editor.currentText()
        code = "" if text == NO_SEGMENT else text
        pk = lesions[index.row()].pk
        # After the editor has closed: the refresh rebuilds the table.
        QTimer.singleShot(0, lambda: self._panel.set_segment(pk, code))
