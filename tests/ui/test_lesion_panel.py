"""Lesion panel: rows and burden from the service, add/rename/delete, jump to a lesion."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tace_planner.domain.progress import run_sync
from tace_planner.services.bootstrap import open_services
from tace_planner.services.demo import prepare_demo
from tace_planner.services.settings import AppSettings
from tace_planner.ui.panels.lesion_panel import LesionPanel

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]


@pytest.fixture(scope="module")
def contoured_dir(tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path) -> Path:
    data_dir = tmp_path_factory.mktemp("lesions") / "data"
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
def panel(qtbot, tmp_path: Path, contoured_dir: Path):
    data_dir = tmp_path / "data"
    shutil.copytree(contoured_dir, data_dir)
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="t"))
    widget = LesionPanel(services.contouring)
    qtbot.addWidget(widget)
    widget.set_case(services.cases.list_cases()[0].pk)
    yield widget
    services.close()


def test_rows_and_burden(panel) -> None:
    assert [item.name for item in panel.lesions] == ["Liver", *[f"F{n}" for n in range(1, 8)]]
    assert panel.table.item(1, 1).text() == "VIII"
    assert "F = " in panel.burden_label.text()
    assert "— %" not in panel.burden_label.text()


def test_the_enhancing_column_says_its_threshold_is_an_institutional_default(panel) -> None:
    header = panel.table.horizontalHeaderItem(7)
    assert header.text() == "Enh. %"
    assert "40 HU" in header.toolTip()
    assert "institutional default" in header.toolTip()
    assert "mRECIST" not in header.toolTip()


def test_selecting_a_row_does_not_jump_a_double_click_does(qtbot, panel) -> None:
    jumps: list[object] = []
    panel.jump_requested.connect(jumps.append)
    with qtbot.waitSignal(panel.lesion_selected):
        panel.select_lesion(panel.lesions[1].pk)
    assert jumps == []  # a single click selects only: the views stay still
    with qtbot.waitSignal(panel.jump_requested) as jump:
        panel.table.cellDoubleClicked.emit(1, 0)
    assert jump.args[0] == pytest.approx((-68.0, -12.0, 18.0), abs=3.2)
    with qtbot.waitSignal(panel.jump_requested):
        panel.go_to_action.trigger()


def test_add_rename_delete(qtbot, panel, monkeypatch) -> None:
    panel.add_button.click()
    assert panel.lesions[-1].name == "F8"
    monkeypatch.setattr(LesionPanel, "ask_name", classmethod(lambda cls, *a: "New focus"))
    panel.rename_button.click()
    assert "New focus" in [item.name for item in panel.lesions]
    panel.delete_button.click()
    assert "New focus" not in [item.name for item in panel.lesions]


def test_no_case(qtbot, panel) -> None:
    panel.set_case(None)
    assert panel.table.rowCount() == 0
    assert not panel.add_button.isEnabled()


def test_visibility_and_lock_signals(qtbot, panel) -> None:
    from PySide6.QtCore import Qt

    with qtbot.waitSignal(panel.visibility_changed) as shown:
        panel.table.item(1, 8).setCheckState(Qt.Unchecked)
    assert shown.args == [panel.lesions[1].pk, False]
    with qtbot.waitSignal(panel.lock_changed) as locked:
        panel.table.item(1, 9).setCheckState(Qt.Checked)
    assert locked.args == [panel.lesions[1].pk, True]


def test_the_burden_line_says_what_is_unknown_in_words() -> None:
    """At a follow-up without a liver contour it read "V_liv — cm³, F = — %"."""
    from types import SimpleNamespace

    from tace_planner.ui.panels.lesion_panel import _burden_text

    follow_up = SimpleNamespace(
        liver_volume_cm3=None,
        tumour_volume_cm3=53.7,
        burden_percent=None,
        timepoint_label="follow-up 1",
        notes=(),
    )
    text = _burden_text(follow_up, True)
    assert text.startswith("Follow-up 1: V_mts 53.7 cm³")
    assert "— cm³" not in text
    assert "— %" not in text
    assert "V_liv not measured" in text
    assert "F unknown" in text
    baseline = SimpleNamespace(
        liver_volume_cm3=1560.0,
        tumour_volume_cm3=113.2,
        burden_percent=7.26,
        timepoint_label="baseline",
        notes=(),
    )
    assert _burden_text(baseline, True) == "Baseline: V_mts 113.2 cm³, V_liv 1560 cm³, F = 7.26 %"


def test_a_rename_or_target_change_on_an_old_row_does_not_overwrite_a_colleagues(
    qtbot, panel, monkeypatch
) -> None:
    """The panel shows F1 and F2 as read; another workstation changes them; the panel's
    rename and target change are refused, not laid over the colleague's."""
    contouring = panel._contouring  # the same database, as another workstation sees it
    f1, f2 = (next(i for i in panel.lesions if i.name == n) for n in ("F1", "F2"))
    contouring.update_lesion(f2.pk, name="F2 hilum")
    errors: list[str] = []
    monkeypatch.setattr(
        "tace_planner.ui.errors.show_error", lambda parent, title, error: errors.append(str(error))
    )
    assert panel.set_target(f2.pk, True) is False  # refused, said under the table
    assert "changed on another workstation" in panel.message_label.text()
    assert contouring.lesions.lesion(f2.pk).is_target is False
    contouring.update_lesion(f1.pk, name="F1 dome")  # after the panel was refreshed
    monkeypatch.setattr(LesionPanel, "ask_name", classmethod(lambda cls, *a: "F1 right"))
    panel.select_lesion(f1.pk)
    panel.rename_button.click()
    assert len(errors) == 1
    assert "changed on another workstation" in errors[0]
    assert contouring.lesions.lesion(f1.pk).name == "F1 dome"
    # the panel then shows the lesions as stored
    assert {"F1 dome", "F2 hilum"} <= {item.name for item in panel.lesions}
