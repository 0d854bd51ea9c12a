"""Study tree: the studies of the selected case and their series, with classification."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QMenu,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from tace_planner.services.dto import SeriesItem, StudyItem
from tace_planner.ui.dialogs.assign_patient_dialog import AssignPatientChoice, AssignPatientDialog
from tace_planner.ui.errors import show_error
from tace_planner.ui.viewer.interaction import SERIES_MIME_TYPE, series_mime_data

if TYPE_CHECKING:  # the service is handed in by the window; the UI never imports the store
    from tace_planner.services.study_reassign import StudyReassigned, StudyReassignService

_SERIES_ROLE = Qt.UserRole + 1
_PART_ROLE = Qt.UserRole + 2
_STUDY_ROLE = Qt.UserRole + 3
COLUMNS = ["Study / series", "Modality", "Phase / sequence", "Date", "Images"]


class StudyTreePanel(QTreeWidget):
    """Shows studies (grouped by timepoint) and their series.

    Selecting a volume series emits ``series_selected(series UID, part)``, the
    part being "" for a series that is one volume; a series holding several
    volumes (b-values, echoes) lists them as children to choose from. Series
    that are not volumes (reports, segmentations, localizers) are greyed out;
    a geometry warning shows as an icon with the reasons in the tooltip.
    A volume can be dragged onto a view of the viewer (mime type
    ``SERIES_MIME_TYPE``: series UID and part).

    Given ``assigner``, a study of the placeholder patient (files imported without a
    Patient ID) offers *Assign to patient…* in its context menu; a study handed over
    leaves the placeholder's list and ``study_reassigned`` tells the window.
    """

    series_selected = Signal(str, str)
    classification_requested = Signal(object)  # the SeriesItem to correct
    study_reassigned = Signal(object)  # the StudyReassigned result

    def __init__(
        self, parent: QWidget | None = None, *, assigner: StudyReassignService | None = None
    ) -> None:
        super().__init__(parent)
        self._assigner = assigner
        self._shown: list[StudyItem] = []
        self.setObjectName("study_tree")
        self.setHeaderLabels(COLUMNS)
        self.setUniformRowHeights(True)
        self.itemSelectionChanged.connect(self._on_selection_changed)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu_requested)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self._series: dict[str, SeriesItem] = {}
        self._studies: dict[str, StudyItem] = {}  # series UID -> its study

    def series_item(self, series_uid: str) -> SeriesItem | None:
        """The listed series with this UID, or None."""
        return self._series.get(series_uid)

    def mimeTypes(self) -> list[str]:
        """Dragged series travel as :data:`SERIES_MIME_TYPE`."""
        return [SERIES_MIME_TYPE]

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        """The first dragged volume (a series of several volumes: its last part)."""
        for item in items:
            uid = item.data(0, _SERIES_ROLE)
            if not uid or item.isDisabled():
                continue
            part = item.data(0, _PART_ROLE)
            if item.childCount() and part is None:
                part = item.child(item.childCount() - 1).data(0, _PART_ROLE)
            return series_mime_data(str(uid), str(part or ""))
        return QMimeData()

    def show_studies(self, studies: list[StudyItem]) -> None:
        """Replace the tree with ``studies``."""
        self.clear()
        self._shown = list(studies)
        self._series = {s.series_uid: s for study in studies for s in study.series}
        self._studies = {s.series_uid: study for study in studies for s in study.series}
        for study in studies:
            date = study.study_on.isoformat() if study.study_on else ""
            label = study.description or f"{study.modalities or 'study'} of {date or 'no date'}"
            if study.timepoint_label:
                label = f"{study.timepoint_label} — {label}"
            images = sum(s.image_count for s in study.series)
            top = QTreeWidgetItem([label, study.modalities, "", date, str(images)])
            top.setFlags(top.flags() & ~Qt.ItemIsSelectable & ~Qt.ItemIsDragEnabled)
            top.setData(0, _STUDY_ROLE, study.study_uid)
            identity = [w for s in study.series for w in s.identity_warnings]
            if identity:  # e.g. no Patient ID: say so where the study is chosen
                top.setIcon(0, self.style().standardIcon(QStyle.SP_MessageBoxWarning))
                top.setToolTip(0, "\n".join(dict.fromkeys(identity)))
            self.addTopLevelItem(top)
            for series in study.series:
                row = self._series_row(series)
                top.addChild(row)
                if len(series.parts) > 1:
                    for part in series.parts:
                        child = QTreeWidgetItem(
                            [
                                f"{part.part}",
                                series.modality,
                                row.text(2),
                                "",
                                str(part.slice_count),
                            ]
                        )
                        child.setData(0, _SERIES_ROLE, series.series_uid)
                        child.setData(0, _PART_ROLE, part.part or "")
                        child.setToolTip(0, "\n".join(part.warnings) or "one volume of the series")
                        row.addChild(child)
        self.expandAll()
        for column in range(self.columnCount()):
            self.resizeColumnToContents(column)

    def _series_row(self, series: SeriesItem) -> QTreeWidgetItem:
        date = series.series_on.isoformat() if series.series_on else ""
        item = QTreeWidgetItem(
            [
                series.label,
                series.modality,
                series.classification or ("—" if series.is_volume else "not a volume"),
                date,
                str(series.image_count),
            ]
        )
        item.setData(0, _SERIES_ROLE, series.series_uid)
        tips = [f"Series Instance UID {series.series_uid}"]
        if series.geometry_status in ("warning", "unmeasurable"):
            icon = (
                QStyle.SP_MessageBoxWarning
                if series.geometry_status == "warning"
                else QStyle.SP_MessageBoxCritical
            )
            item.setIcon(0, self.style().standardIcon(icon))
            tips.insert(0, f"Geometry: {series.geometry_status}")
        tips.extend(series.warnings)
        if series.identity_warnings:
            if series.geometry_status != "unmeasurable":
                item.setIcon(0, self.style().standardIcon(QStyle.SP_MessageBoxWarning))
            tips[:0] = series.identity_warnings
        item.setToolTip(0, "\n".join(tips))
        if series.classification_source == "user":
            item.setToolTip(2, "set by a user")
            item.setText(2, f"{item.text(2)} ✎")
        if not series.is_volume:
            item.setDisabled(True)
        return item

    def title_of(self, series_uid: str, part: str = "") -> str:
        """A view's title: the series (and part) and when it was imaged, so that two series
        of the same description (the baseline's and a follow-up's) are told apart:
        "Abdomen portal venous 2.5mm · follow-up 1, 2026-05-11"."""
        series = self._series.get(series_uid)
        if series is None:
            return f"{series_uid} — {part}" if part else series_uid
        name = f"{series.label} — {part}" if part else series.label
        study = self._studies.get(series_uid)
        when = [study.timepoint_label] if study is not None and study.timepoint_label else []
        day = study.study_on if study is not None and study.study_on else series.series_on
        if day:
            when.append(day.isoformat())
        return f"{name} · {', '.join(when)}" if when else name

    def series_rows(self) -> list[tuple[str, str, str]]:
        """(description, modality, classification) of every listed series, top to bottom."""
        rows = []
        for top in range(self.topLevelItemCount()):
            parent = self.topLevelItem(top)
            for child in range(parent.childCount()):
                item = parent.child(child)
                rows.append((item.text(0), item.text(1), item.text(2)))
        return rows

    def item_of(self, series_uid: str, part: str = "") -> QTreeWidgetItem | None:
        """The row of a series (or of one part of it), or None."""
        for top in range(self.topLevelItemCount()):
            study = self.topLevelItem(top)
            for child in range(study.childCount()):
                row = study.child(child)
                if row.data(0, _SERIES_ROLE) != series_uid:
                    continue
                if not part:
                    return row
                for sub in range(row.childCount()):
                    if row.child(sub).data(0, _PART_ROLE) == part:
                        return row.child(sub)
        return None

    def select_series(self, series_uid: str, part: str = "") -> bool:
        """Select a series (part): it opens in the active view; False when not listed."""
        item = self.item_of(series_uid, part)
        if item is None:
            return False
        self.setCurrentItem(item)
        return True

    def select_first_volume(self, modality: str = "CT", prefer: str = "venous") -> bool:
        """Select the first volume of ``modality``, the first ``prefer`` one if any.

        Returns False when the tree holds no volume of that modality.
        """
        candidates = []
        for top in range(self.topLevelItemCount()):
            parent = self.topLevelItem(top)
            for child in range(parent.childCount()):
                item = parent.child(child)
                if item.text(1) == modality and not item.isDisabled() and not item.childCount():
                    candidates.append(item)
        if not candidates:
            return False
        preferred = [item for item in candidates if item.text(2) == prefer]
        self.setCurrentItem((preferred or candidates)[0])
        return True

    def _on_context_menu_requested(self, position: QPoint) -> None:
        menu = self.context_menu(self.itemAt(position))
        if menu is not None:
            menu.popup(self.viewport().mapToGlobal(position))

    def context_menu(self, item: QTreeWidgetItem | None) -> QMenu | None:
        """The context menu of a row (None when it offers nothing); not shown."""
        if item is None:
            return None
        uid = item.data(0, _SERIES_ROLE)
        series = self._series.get(str(uid)) if uid else None
        study_uid = item.data(0, _STUDY_ROLE) or (series.study_uid if series else None)
        menu = QMenu(self)
        menu.setAttribute(Qt.WA_DeleteOnClose)
        if series is not None and series.modality in ("CT", "MR"):
            action = menu.addAction("Correct classification…")
            action.setData(series.series_uid)
            action.triggered.connect(self._on_correct_classification_triggered)
        if study_uid and self._is_placeholder_study(str(study_uid)):
            action = menu.addAction("Assign to patient…")
            action.setData(str(study_uid))
            action.triggered.connect(self._on_assign_patient_triggered)
        if menu.isEmpty():
            menu.deleteLater()
            return None
        return menu

    def _study(self, study_uid: str) -> StudyItem | None:
        return next((s for s in self._shown if s.study_uid == study_uid), None)

    def _is_placeholder_study(self, study_uid: str) -> bool:
        study = self._study(study_uid)
        if self._assigner is None or study is None:
            return False
        try:
            return study.patient_pk == self._assigner.placeholder_patient_pk()
        except Exception as error:  # noqa: BLE001 - the menu goes without the action
            show_error(self, "Cannot check the study's patient", error)
            return False

    @Slot()
    def _on_assign_patient_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.assign_patient(str(action.data()))

    def assign_patient(self, study_uid: str) -> StudyReassigned | None:
        """Ask whose images a placeholder study holds and hand it over (None: not done)."""
        study = self._study(study_uid)
        if self._assigner is None or study is None:
            return None
        assigner = self._assigner

        def assign(choice: AssignPatientChoice) -> StudyReassigned:
            # run from the dialog's OK: a refusal stays in the dialog with the input
            return assigner.reassign(
                study_uid,
                patient_pk=choice.patient_pk,
                patient_id=choice.patient_id,
                patient_name=choice.patient_name,
            )

        try:
            heading = self._assign_heading(study)
            result = AssignPatientDialog.ask(heading, assigner.named_patients(), assign, self)
        except Exception as error:  # noqa: BLE001 - shown to the user, the app keeps running
            show_error(self, "Cannot assign the study", error)
            return None
        if result is None:
            return None
        self._show_handed_over(study, result)
        self.study_reassigned.emit(result)
        return result

    def _assign_heading(self, study: StudyItem) -> str:
        """The study as the dialog names it, told apart from another of the same description
        by its series count, first acquisition time and accession number:
        "The study “CT abdomen” of 2026-01-02 at 11:29 (2 series, 240 images; accession
        number A123)"."""
        date = study.study_on.isoformat() if study.study_on else "no date"
        times = sorted(s.acquired_at for s in study.series if s.acquired_at)
        when = f"{date} at {times[0]}" if times else date
        count = len(study.series)
        images = sum(s.image_count for s in study.series)
        details = f"{count} series, {images} image{'' if images == 1 else 's'}"
        accession = self._assigner.accession_number(study.study_uid) if self._assigner else ""
        if accession:
            details += f"; accession number {accession}"
        name = study.description or study.modalities or "study"
        return f"The study “{name}” of {when} ({details})"

    def _show_handed_over(self, study: StudyItem, result: StudyReassigned) -> None:
        """Drop the study from the placeholder's list; elsewhere (a case) show it updated."""
        placeholder_list = not result.case_title and all(
            s.patient_pk == study.patient_pk for s in self._shown
        )
        moved = dataclasses.replace(
            study,
            patient_pk=result.to_patient_pk,
            series=tuple(
                dataclasses.replace(
                    s, identity_warnings=result.series_warnings.get(s.series_uid, ())
                )
                for s in study.series
            ),
        )
        self.show_studies(
            [
                moved if s is study else s
                for s in self._shown
                if not (s is study and placeholder_list)
            ]
        )

    @Slot()
    def _on_correct_classification_triggered(self) -> None:
        # A bound slot reading the action, not a lambda holding the tree alive.
        action = self.sender()
        series = self._series.get(str(action.data())) if isinstance(action, QAction) else None
        if series is not None:
            self.classification_requested.emit(series)

    def _on_selection_changed(self) -> None:
        items = self.selectedItems()
        if not items or not items[0].data(0, _SERIES_ROLE):
            return
        item = items[0]
        if item.childCount() and item.data(0, _PART_ROLE) is None:
            self.setCurrentItem(item.child(item.childCount() - 1))  # a series of parts: pick one
            return
        self.series_selected.emit(
            str(item.data(0, _SERIES_ROLE)), str(item.data(0, _PART_ROLE) or "")
        )
