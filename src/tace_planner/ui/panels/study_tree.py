"""Study tree: the studies of the selected case and their series, with classification."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from tace_planner.services.dto import SeriesItem, StudyItem

_SERIES_ROLE = Qt.UserRole + 1
COLUMNS = ["Study / series", "Modality", "Phase / sequence", "Date", "Images"]


class StudyTreePanel(QTreeWidget):
    """Shows studies (grouped by timepoint) and their series.

    Selecting a volume series emits ``series_selected(series UID)``. Series that
    are not volumes (reports, segmentations, localizers) are listed greyed out.
    """

    series_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("study_tree")
        self.setHeaderLabels(COLUMNS)
        self.setUniformRowHeights(True)
        self.itemSelectionChanged.connect(self._on_selection_changed)

    def show_studies(self, studies: list[StudyItem]) -> None:
        """Replace the tree with ``studies``."""
        self.clear()
        for study in studies:
            date = study.study_on.isoformat() if study.study_on else ""
            label = study.description or "(no description)"
            if study.timepoint_label:
                label = f"{study.timepoint_label} — {label}"
            images = sum(s.image_count for s in study.series)
            top = QTreeWidgetItem([label, study.modalities, "", date, str(images)])
            top.setFlags(top.flags() & ~Qt.ItemIsSelectable)
            self.addTopLevelItem(top)
            for series in study.series:
                top.addChild(self._series_row(series))
        self.expandAll()
        for column in range(self.columnCount()):
            self.resizeColumnToContents(column)

    @staticmethod
    def _series_row(series: SeriesItem) -> QTreeWidgetItem:
        date = series.series_on.isoformat() if series.series_on else ""
        item = QTreeWidgetItem(
            [
                series.description or f"series {series.series_number or '?'}",
                series.modality,
                series.classification or ("—" if series.is_volume else "not a volume"),
                date,
                str(series.image_count),
            ]
        )
        item.setData(0, _SERIES_ROLE, series.series_uid)
        item.setToolTip(0, f"Series Instance UID {series.series_uid}")
        if not series.is_volume:
            item.setDisabled(True)
        return item

    def series_rows(self) -> list[tuple[str, str, str]]:
        """(description, modality, classification) of every listed series, top to bottom."""
        rows = []
        for top in range(self.topLevelItemCount()):
            parent = self.topLevelItem(top)
            for child in range(parent.childCount()):
                item = parent.child(child)
                rows.append((item.text(0), item.text(1), item.text(2)))
        return rows

    def select_first_volume(self, modality: str = "CT", prefer: str = "venous") -> bool:
        """Select the first volume of ``modality``, the first ``prefer`` one if any.

        Returns False when the tree holds no volume of that modality.
        """
        candidates = []
        for top in range(self.topLevelItemCount()):
            parent = self.topLevelItem(top)
            for child in range(parent.childCount()):
                item = parent.child(child)
                if item.text(1) == modality and not item.isDisabled():
                    candidates.append(item)
        if not candidates:
            return False
        preferred = [item for item in candidates if item.text(2) == prefer]
        self.setCurrentItem((preferred or candidates)[0])
        return True

    def _on_selection_changed(self) -> None:
        items = self.selectedItems()
        if items and items[0].data(0, _SERIES_ROLE):
            self.series_selected.emit(str(items[0].data(0, _SERIES_ROLE)))
