"""Measurement list of the series in the active view: select to jump there, delete.

Shows ``AnnotationItem`` read models (from ``services.annotations``, handed
in by the main window); it calls no service itself. Selecting a row emits
``annotation_selected(pk)``; *Delete* (or the Delete key) emits
``delete_requested(pk)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

_PK_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ["Measurement", "Plane", "By"]


class AnnotationPanel(QWidget):
    """The measurements of one series part (see the module docstring)."""

    annotation_selected = Signal(int)
    delete_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("annotation_panel")
        self.heading = QLabel("Measurements")
        self.heading.setObjectName("annotation_heading")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.itemSelectionChanged.connect(self._on_selection_changed)
        self.tree.installEventFilter(self)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.tree, stretch=1)
        layout.addLayout(buttons)

    def show_items(self, items: Sequence[Any], heading: str = "") -> None:
        """Replace the list with ``items`` (``AnnotationItem``: pk, annotation, created_by)."""
        selected = self.selected_pk()
        self.tree.blockSignals(True)
        self.tree.clear()
        for item in items:
            annotation = item.annotation
            row = QTreeWidgetItem(
                [
                    item.summary(),
                    f"{annotation.orientation} {annotation.plane_position_mm:.1f} mm",
                    item.created_by,
                ]
            )
            row.setData(0, _PK_ROLE, int(item.pk))
            row.setToolTip(0, annotation.details())
            self.tree.addTopLevelItem(row)
            if item.pk == selected:
                row.setSelected(True)
        self.tree.blockSignals(False)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        count = len(items)
        self.heading.setText(f"Measurements{f' — {heading}' if heading else ''} ({count})")
        self.delete_button.setEnabled(self.selected_pk() is not None)

    def count(self) -> int:
        """Number of listed measurements."""
        return self.tree.topLevelItemCount()

    def selected_pk(self) -> int | None:
        """Primary key of the selected measurement, or None."""
        items = self.tree.selectedItems()
        return int(items[0].data(0, _PK_ROLE)) if items else None

    def select_pk(self, pk: int) -> bool:
        """Select the row of ``pk`` (emits ``annotation_selected``); False if not listed."""
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item.data(0, _PK_ROLE) == pk:
                self.tree.setCurrentItem(item)
                return True
        return False

    @Slot()
    def _on_selection_changed(self) -> None:
        pk = self.selected_pk()
        self.delete_button.setEnabled(pk is not None)
        if pk is not None:
            self.annotation_selected.emit(pk)

    @Slot()
    def _on_delete_clicked(self) -> None:
        pk = self.selected_pk()
        if pk is not None:
            self.delete_requested.emit(pk)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        """The Delete key deletes the selected measurement."""
        if (
            watched is self.tree
            and isinstance(event, QKeyEvent)
            and event.type() == QKeyEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
        ):
            self._on_delete_clicked()
            return True
        return super().eventFilter(watched, event)
