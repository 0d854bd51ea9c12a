"""Window presets: shipped defaults with sources, user edits kept in QSettings, the edit dialog."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from tace_planner.ui.viewer.toolbar import ViewerToolBar
from tace_planner.ui.viewer.window_presets import (
    WindowPreset,
    WindowPresetDialog,
    WindowPresetStore,
    default_presets,
    presets_version,
)


def test_shipped_presets_follow_the_clinical_reference() -> None:
    presets = {p.key: p for p in default_presets()}
    assert (presets["abdomen"].width_hu, presets["abdomen"].level_hu) == (400.0, 40.0)
    assert (presets["liver"].width_hu, presets["liver"].level_hu) == (150.0, 90.0)
    assert {"bone", "lung"} <= set(presets)
    assert all(p.source for p in presets.values())
    assert default_presets()[0].key == "abdomen"  # number key 1
    assert presets_version() == "1"


def test_edits_are_kept_for_the_next_start_and_can_be_undone(tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)
    store = WindowPresetStore(settings)
    edited = [WindowPreset("liver", "Liver (ours)", 160.0, 60.0), *store.presets[2:]]
    store.save(edited)
    settings.sync()
    again = WindowPresetStore(QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat))
    assert again.preset_for_key(1) == edited[0]
    assert again.preset_for_key(99) is None
    again.reset()
    assert again.presets == default_presets()


def test_a_damaged_preference_falls_back_to_the_shipped_presets(tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)
    settings.setValue("viewer/window_presets", "{not json")
    assert WindowPresetStore(settings).presets == default_presets()


def test_dialog_edits_and_validates(qtbot) -> None:
    dialog = WindowPresetDialog(default_presets())
    qtbot.addWidget(dialog)
    dialog.table.item(1, 1).setText("160")
    dialog.table.item(1, 2).setText("60")
    assert dialog.presets()[1].width_hu == 160.0
    dialog.table.item(0, 1).setText("wide")
    dialog._on_accepted()
    assert "numbers" in dialog.error_label.text()
    assert dialog.result_presets is None
    with pytest.raises(ValueError, match="positive"):
        WindowPreset("x", "x", 0.0, 0.0)


def test_toolbar_applies_edited_presets(qtbot, task_runner, monkeypatch) -> None:
    from types import SimpleNamespace

    from tace_planner.ui.viewer.viewer_grid import ViewerWorkspace

    workspace = ViewerWorkspace(SimpleNamespace(studies=None, annotations=None), task_runner)
    qtbot.addWidget(workspace)
    toolbar = ViewerToolBar(workspace)
    qtbot.addWidget(toolbar)
    ours = [WindowPreset("liver", "Liver (ours)", 160.0, 60.0)]
    monkeypatch.setattr(WindowPresetDialog, "ask", classmethod(lambda cls, *a: ours))
    toolbar._on_edit_presets_triggered()
    assert workspace.presets.presets == tuple(ours)
    assert toolbar.preset_box.itemText(0).startswith("1  Liver (ours) 160/60")
    workspace.release()
