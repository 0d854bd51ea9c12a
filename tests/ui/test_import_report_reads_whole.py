"""The import report reads whole, and counts files.

Review findings (a series refused as another patient's):

1. The refusal line was cut at the dialog's width ("… differs from that of the stored
   st…"): the stored study, the other patient and how many files were not imported
   could be read only in its tool tip. Lines under "Files that failed" and "Warnings"
   now wrap at the row's width; the tool tip stays.
2. The summary said "1 failed" and the heading "Files that failed (1)" while every
   file of the series was refused: both now count files ("N files failed (1 series)").
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QFontMetrics
from test_import_refusal_line import _as_another_patient

from tace_planner.domain.progress import run_sync
from tace_planner.ui.dialogs.import_dialog import ImportDialog

pytestmark = [pytest.mark.dicom, pytest.mark.db]


def _refused(qtbot, services, task_runner, small_phantom: Path, tmp_path: Path):
    arterial = small_phantom / "baseline" / "CT_arterial"
    run_sync(services.studies.import_paths([arterial]))
    _as_another_patient(arterial, tmp_path / "stick" / "john")
    dialog = ImportDialog(services.studies, task_runner)
    qtbot.addWidget(dialog)
    dialog.resize(760, 520)
    dialog.show()
    qtbot.waitExposed(dialog)
    with qtbot.waitSignal(dialog.imported, timeout=30_000):
        dialog.start([tmp_path / "stick"])
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=5_000)
    return dialog, len(list(arterial.glob("*.dcm")))


def _lines_shown(dialog: ImportDialog, item) -> tuple[int, int]:
    """(lines the row's height holds, lines its text needs at least at the row's width)."""
    tree = dialog.report
    rect = tree.visualRect(tree.indexFromItem(item, 0))
    metrics = QFontMetrics(tree.font())
    needed = math.ceil(metrics.horizontalAdvance(item.text(0)) / rect.width())
    return rect.height() // metrics.lineSpacing(), needed


def _has_ink(dialog: ImportDialog, item, top: int, bottom: int) -> bool:
    """Whether text is painted between ``top`` and ``bottom`` (pixels) of the row."""
    tree = dialog.report
    rect = tree.visualRect(tree.indexFromItem(item, 0))
    image = tree.viewport().grab(rect).toImage()
    background = image.pixelColor(image.width() - 1, 0)
    return any(
        image.pixelColor(x, y) != background
        for y in range(max(top, 0), min(bottom, image.height()))
        for x in range(image.width())
    )


def test_the_refusal_reads_whole_in_a_760_px_dialog_and_at_1366_px(
    qtbot, services, task_runner, small_phantom: Path, tmp_path: Path
) -> None:
    dialog, _ = _refused(qtbot, services, task_runner, small_phantom, tmp_path)
    line = dialog.report.topLevelItem(0).child(0)
    text = line.text(0)
    assert "[TACE-DEMO-001]" in text
    assert "were not imported" in text
    assert line.toolTip(0)  # kept

    held, needed = _lines_shown(dialog, line)
    assert needed >= 2  # one line at 760 px cannot hold it (it was elided there)
    assert held >= needed
    rect = dialog.report.visualRect(dialog.report.indexFromItem(line, 0))
    assert rect.right() <= dialog.report.viewport().width()  # no scrolling sideways
    metrics = QFontMetrics(dialog.report.font())
    # the text is painted down to its last line, not only its first
    last_line = rect.height() - 2 * metrics.lineSpacing()
    assert _has_ink(dialog, line, last_line, rect.height())

    wide_height = None
    dialog.resize(1366, 520)
    qtbot.waitUntil(lambda: dialog.report.viewport().width() > 1200, timeout=2_000)

    def relaid() -> None:
        nonlocal wide_height
        wide_height = dialog.report.visualRect(dialog.report.indexFromItem(line, 0)).height()
        assert wide_height < rect.height()  # the row follows the width

    qtbot.waitUntil(relaid, timeout=2_000)
    held, needed = _lines_shown(dialog, line)
    assert held >= needed


def test_the_summary_counts_the_files_of_a_refused_series(
    qtbot, services, task_runner, small_phantom: Path, tmp_path: Path
) -> None:
    dialog, files = _refused(qtbot, services, task_runner, small_phantom, tmp_path)
    assert files > 1
    assert dialog.report.topLevelItem(0).text(0) == f"{files} files failed (1 series)"
    assert dialog.report.topLevelItem(0).childCount() == 1  # one line for the series
    status = dialog.status_label.text()
    assert f"0 new file(s) imported, 0 already stored, {files} failed (1 series)." in status
