"""RECIST long and short axes of the selected lesion are drawn on its slice of its series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]


@pytest.fixture
def window(open_window, contoured_demo_copy: Path):
    return open_window(contoured_demo_copy)


def test_selected_lesion_shows_its_axes_on_its_slice(window, qtbot) -> None:
    window.select_case(window._services.cases.list_cases()[0].pk)
    qtbot.waitUntil(lambda: window.slice_view.slice_count > 3, timeout=20_000)
    qtbot.waitUntil(lambda: not window.progress_bar.isVisible(), timeout=20_000)
    panel = window.lesion_panel
    qtbot.waitUntil(lambda: len(panel.lesions) > 1, timeout=10_000)
    f1 = next(lesion for lesion in panel.lesions if lesion.name == "F1")
    with qtbot.waitSignal(panel.measurement_selected) as selected:
        panel.select_lesion(f1.pk)
    measurement = selected.args[0]
    assert measurement.long_axis_lps is not None
    length = float(np.linalg.norm(np.subtract(*measurement.long_axis_lps)))
    assert length == pytest.approx(measurement.longest_axial_diameter_mm, abs=0.5)
    view = window.slice_view
    layer = view.measurements
    # The views were centred on F1; go to the long axis's slice: both axes are drawn there.
    z = float(measurement.long_axis_lps[0][2])
    view.centre_on((measurement.long_axis_lps[0][0], measurement.long_axis_lps[0][1], z))
    qtbot.waitUntil(lambda: len(layer.visible_derived()) == 2, timeout=5_000)
    assert layer.visible_derived() == ["F1 long axis", "F1 short axis"]
    view.scroll(6)  # 30 mm away on the small phantom: not on this plane any more
    qtbot.waitUntil(lambda: layer.visible_derived() == [], timeout=5_000)
    panel.table.clearSelection()
    qtbot.waitUntil(lambda: not layer._derived, timeout=5_000)
