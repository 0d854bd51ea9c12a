"""Case list: patients and their treatment cases, from the case service."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from tace_planner.services.dto import CaseItem

_CASE_ROLE = Qt.UserRole + 1


class CaseListPanel(QTreeWidget):
    """Lists patients with their cases; selecting a case emits ``case_selected(case pk)``.

    It shows what ``CaseService.list_cases`` returns and holds no other state.
    """

    case_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("case_list")
        self.setHeaderLabels(["Patient / case", "TACE", "Studies"])
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)
        self.itemSelectionChanged.connect(self._on_selection_changed)

    def show_cases(self, cases: list[CaseItem]) -> None:
        """Replace the list with ``cases``, grouped by patient."""
        self.clear()
        patients: dict[int, QTreeWidgetItem] = {}
        for case in cases:
            parent = patients.get(case.patient_pk)
            if parent is None:
                name = case.patient_name.replace("^", " ").strip() or "(no name)"
                parent = QTreeWidgetItem([f"{name}  [{case.patient_id}]", "", ""])
                parent.setFlags(parent.flags() & ~Qt.ItemIsSelectable)
                patients[case.patient_pk] = parent
                self.addTopLevelItem(parent)
            tace = case.planned_tace_on.isoformat() if case.planned_tace_on else "—"
            item = QTreeWidgetItem([case.title, tace, str(case.study_count)])
            item.setData(0, _CASE_ROLE, case.pk)
            parent.addChild(item)
        self.expandAll()
        for column in range(self.columnCount()):
            self.resizeColumnToContents(column)

    def select_case(self, case_pk: int) -> bool:
        """Select the case with this key; return False if it is not listed."""
        for top in range(self.topLevelItemCount()):
            parent = self.topLevelItem(top)
            for child in range(parent.childCount()):
                item = parent.child(child)
                if item.data(0, _CASE_ROLE) == case_pk:
                    self.setCurrentItem(item)
                    return True
        return False

    def _on_selection_changed(self) -> None:
        items = self.selectedItems()
        if items and items[0].data(0, _CASE_ROLE) is not None:
            self.case_selected.emit(int(items[0].data(0, _CASE_ROLE)))
