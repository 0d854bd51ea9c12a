"""Lesions dock edits: Couinaud segment (cell editor, context menu), RECIST target, timepoints."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox
from sqlalchemy import select

from tace_planner.domain.progress import run_sync
from tace_planner.services.bootstrap import open_services
from tace_planner.services.demo import prepare_demo
from tace_planner.services.settings import AppSettings
from tace_planner.store.models import AuditEventRow
from tace_planner.ui.dialogs.segment_dialog import SegmentChoice, SegmentDialog
from tace_planner.ui.panels.lesion_panel import SEGMENT_COLUMN, TARGET_COLUMN, LesionPanel

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]


@pytest.fixture(scope="module")
def contoured_dir(tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path) -> Path:
    data_dir = tmp_path_factory.mktemp("lesion-edits") / "data"
    shutil.copytree(demo_data_dir, data_dir)
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="t"))
    try:
        run_sync(
            prepare_demo(services.studies, services.cases, services.settings.demo_dir,
                         size="small", contouring=services.contouring)
        )  # fmt: skip
    finally:
        services.close()
    return data_dir


@pytest.fixture
def setup(qtbot, tmp_path: Path, contoured_dir: Path):
    data_dir = tmp_path / "data"
    shutil.copytree(contoured_dir, data_dir)
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="dr segment"))
    case_pk = services.cases.list_cases()[0].pk
    widget = LesionPanel(services.contouring)
    qtbot.addWidget(widget)
    widget.set_case(case_pk)
    yield widget, services, case_pk
    services.close()


def _row(panel: LesionPanel, name: str) -> int:
    return next(i for i, item in enumerate(panel.lesions) if item.name == name)


def _clear_segments(services, case_pk: int, *names: str) -> None:
    for item in services.contouring.list_lesions(case_pk):
        if item.name in names:
            services.contouring.lesions.set_segment(item.pk, "")


def _audit(services, action: str) -> list[AuditEventRow]:
    with services.session_factory() as session:
        return list(session.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))


def test_the_segment_cell_edits_through_the_service_and_is_audited(qtbot, setup) -> None:
    panel, services, case_pk = setup
    _clear_segments(services, case_pk, "F2")
    panel.refresh()
    row = _row(panel, "F2")
    cell = panel.table.item(row, SEGMENT_COLUMN)
    assert cell.text() == "—"
    assert "Set Couinaud segment" in cell.toolTip()
    assert cell.flags() & Qt.ItemIsEditable
    assert not panel.table.item(0, SEGMENT_COLUMN).flags() & Qt.ItemIsEditable  # the liver
    edited = []
    panel.lesions_edited.connect(lambda: edited.append(True))
    panel.table.editItem(cell)
    editor = panel.table.findChild(QComboBox, "segment_editor")
    assert editor is not None
    choices = [editor.itemText(i) for i in range(editor.count())]
    assert choices == ["—", "I", "II", "III", "IVa", "IVb", "V", "VI", "VII", "VIII"]
    editor.setCurrentText("VI")
    delegate = panel.table.itemDelegateForColumn(SEGMENT_COLUMN)
    delegate.commitData.emit(editor)
    delegate.closeEditor.emit(editor)
    qtbot.waitUntil(lambda: panel.table.item(_row(panel, "F2"), SEGMENT_COLUMN).text() == "VI")
    f2 = next(i for i in services.contouring.list_lesions(case_pk) if i.name == "F2")
    assert f2.couinaud_segment == "VI"
    assert edited
    event = _audit(services, "set_segment")[-1]
    assert event.user == "dr segment"
    assert event.before["couinaud_segment"] == ""
    assert event.after["couinaud_segment"] == "VI"


def test_the_context_menu_sets_the_segment_with_the_proposal(qtbot, setup, monkeypatch) -> None:
    panel, services, case_pk = setup
    _clear_segments(services, case_pk, "F1")
    panel.refresh()
    f1 = next(i for i in panel.lesions if i.name == "F1")
    seen = {}

    def ask(cls, parent, name, current, proposal):
        seen.update(name=name, current=current, proposal=proposal)
        return SegmentChoice("VIII", "dome on the coronal view")

    monkeypatch.setattr(SegmentDialog, "ask", classmethod(ask))
    menu = panel.context_menu(f1.pk)
    action = next(a for a in menu.actions() if a.text() == "Set Couinaud segment…")
    action.trigger()
    assert seen["name"] == "F1"
    assert seen["current"] == ""
    # The geometric proposal from the demo's liver contour: F1 is the phantom's segment VIII.
    assert seen["proposal"].code == "VIII"
    assert "Bismuth" in seen["proposal"].explanation
    assert panel.table.item(_row(panel, "F1"), SEGMENT_COLUMN).text() == "VIII"
    event = _audit(services, "set_segment")[-1]
    assert event.after["reason"] == "dome on the coronal view"
    assert "→ VIII" in event.summary
    liver_menu = panel.context_menu(panel.lesions[0].pk)
    assert "Set Couinaud segment…" not in [a.text() for a in liver_menu.actions()]


def test_the_target_box_respects_recist_limits(qtbot, setup, monkeypatch) -> None:
    panel, _services, _case_pk = setup
    asked = []
    monkeypatch.setattr(
        LesionPanel,
        "ask_target_override",
        classmethod(lambda cls, parent, name, advisories: asked.append(advisories) or None),
    )
    for name in ("F1", "F2"):
        panel.table.item(_row(panel, name), TARGET_COLUMN).setCheckState(Qt.Checked)
        qtbot.waitUntil(lambda n=name: next(i for i in panel.lesions if i.name == n).is_target)
    assert panel.table.item(_row(panel, "F1"), TARGET_COLUMN).checkState() == Qt.Checked
    # A third liver target breaks "at most 2 per organ": refused with the rule.
    panel.table.item(_row(panel, "F7"), TARGET_COLUMN).setCheckState(Qt.Checked)
    qtbot.waitUntil(lambda: bool(asked))
    qtbot.waitUntil(lambda: not panel.message_label.isHidden())
    assert "per organ" in panel.message_label.text()
    assert "F7 is not a target" in panel.message_label.text()
    assert not next(i for i in panel.lesions if i.name == "F7").is_target
    assert panel.table.item(_row(panel, "F7"), TARGET_COLUMN).checkState() == Qt.Unchecked
    # Unticking is audited too.
    panel.table.item(_row(panel, "F2"), TARGET_COLUMN).setCheckState(Qt.Unchecked)
    qtbot.waitUntil(lambda: not next(i for i in panel.lesions if i.name == "F2").is_target)
    assert not panel.table.item(0, TARGET_COLUMN).flags() & Qt.ItemIsUserCheckable  # liver


def test_the_target_override_is_stored_with_its_reason(qtbot, setup, monkeypatch) -> None:
    panel, services, case_pk = setup
    monkeypatch.setattr(
        LesionPanel, "ask_target_override", classmethod(lambda cls, *a: "tumour board")
    )
    for name in ("F1", "F2", "F7"):
        pk = next(i for i in panel.lesions if i.name == name).pk
        assert panel.set_target(pk, True)
    f7 = next(i for i in services.contouring.list_lesions(case_pk) if i.name == "F7")
    assert f7.is_target
    assert f7.target_override_reason == "tumour board"
    assert _audit(services, "override_target")


def test_the_timepoint_box_lists_the_case_timepoints(qtbot, setup) -> None:
    panel, _services, _case_pk = setup
    labels = [panel.timepoint_box.itemText(i) for i in range(panel.timepoint_box.count())]
    assert len(labels) >= 2
    assert labels[0].startswith("baseline")
    assert panel.timepoint_box.isEnabled()
    assert float(panel.table.item(_row(panel, "F1"), 3).text()) > 50
    panel.timepoint_box.setCurrentIndex(1)
    assert panel.timepoint_pk is not None
    # The demo contours the baseline only: the follow-up shows no values yet.
    assert panel.table.item(_row(panel, "F1"), 3).text() == "—"
    assert "not contoured at" in panel.table.item(_row(panel, "F1"), 3).toolTip()
    assert panel.burden_label.text().lower().startswith("follow")
