"""Case list: patients and their treatment cases, from the case service."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from tace_planner.services.dto import CaseItem, PatientItem

_CASE_ROLE = Qt.UserRole + 1
_PATIENT_ROLE = Qt.UserRole + 2


class CaseListPanel(QTreeWidget):
    """Lists imported patients with their cases.

    Selecting a case emits ``case_selected(case pk)``; selecting a patient
    emits ``patient_selected(patient pk)`` (a patient without a case yet shows
    its studies so that a case can be opened). It shows what
    ``CaseService.list_patients`` and ``list_cases`` return and holds no other state.
    """

    case_selected = Signal(int)
    patient_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("case_list")
        self.setHeaderLabels(["Patient / case", "TACE", "Studies"])
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)
        self.itemSelectionChanged.connect(self._on_selection_changed)

    def show_cases(self, patients: list[PatientItem], cases: list[CaseItem]) -> None:
        """Replace the list with ``patients`` and, under each, its ``cases``."""
        self.clear()
        rows: dict[int, QTreeWidgetItem] = {}
        for patient in patients:
            # Files without a Patient ID are filed together (they may be several people):
            # the label then warns instead of showing an ID.
            note = "" if patient.case_count else "no case yet"
            item = QTreeWidgetItem([patient.list_label, note, str(patient.study_count)])
            item.setData(0, _PATIENT_ROLE, patient.pk)
            rows[patient.pk] = item
            self.addTopLevelItem(item)
        for case in cases:
            parent = rows.get(case.patient_pk)
            if parent is None:
                continue
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

    def select_patient(self, patient_pk: int) -> bool:
        """Select the patient's own row; return False if it is not listed."""
        for top in range(self.topLevelItemCount()):
            item = self.topLevelItem(top)
            if item.data(0, _PATIENT_ROLE) == patient_pk:
                self.setCurrentItem(item)
                return True
        return False

    def reselect(self, case_pk: int | None, patient_pk: int | None) -> None:
        """Put the selection back on the case's row, else on the patient's row, else on no
        row, without a signal (a declined case change: the window stays where it is)."""
        blocked = self.blockSignals(True)
        try:
            if case_pk is not None and self.select_case(case_pk):
                return
            if patient_pk is not None and self.select_patient(patient_pk):
                return
            self.setCurrentItem(None)
            self.clearSelection()
        finally:
            self.blockSignals(blocked)

    def selected_patient(self) -> tuple[int, str] | None:
        """(patient pk, label) of the selected patient or of the selected case's patient."""
        items = self.selectedItems()
        if not items:
            return None
        item = items[0].parent() or items[0]
        return int(item.data(0, _PATIENT_ROLE)), item.text(0)

    def _on_selection_changed(self) -> None:
        items = self.selectedItems()
        if not items:
            return
        if items[0].data(0, _CASE_ROLE) is not None:
            self.case_selected.emit(int(items[0].data(0, _CASE_ROLE)))
        elif items[0].data(0, _PATIENT_ROLE) is not None:
            self.patient_selected.emit(int(items[0].data(0, _PATIENT_ROLE)))
