"""Setting a focus's segment in the Lesions dock updates the Treatment plan dock."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]


@pytest.fixture
def window(open_window, contoured_demo_copy: Path):
    """The contoured demo with no focus assigned a Couinaud segment yet."""
    main = open_window(contoured_demo_copy, user="dr plan")
    services = main._test_services
    case_pk = services.cases.list_cases()[0].pk
    for item in services.contouring.list_lesions(case_pk):
        if not item.is_liver:
            services.contouring.lesions.set_segment(item.pk, "")
    main.select_case(case_pk)
    return main


def _unassigned(window) -> object:
    proposal = window.plan_panel.proposal
    if proposal is None:
        return None
    return next((a for a in proposal.advisories if a.code == "burden.unassigned_segment"), None)


def test_the_plan_follows_the_segments_set_in_the_lesions_dock(qtbot, window) -> None:
    qtbot.waitUntil(lambda: _unassigned(window) is not None, timeout=20_000)
    block = _unassigned(window)
    assert block.severity == "block"
    assert "right-click → Set Couinaud segment" in block.message
    panel = window.lesion_panel
    segments = {"F1": "VIII", "F2": "VI", "F3": "I", "F4": "IVa", "F5": "III", "F6": "VII"}
    for name, code in segments.items():
        assert panel.set_segment(next(i.pk for i in panel.lesions if i.name == name), code)
    qtbot.waitUntil(
        lambda: _unassigned(window) is not None and _unassigned(window).severity == "warning",
        timeout=20_000,
    )
    assert "(F7)" in _unassigned(window).message
    assert panel.set_segment(next(i.pk for i in panel.lesions if i.name == "F7"), "V")
    qtbot.waitUntil(lambda: _unassigned(window) is None, timeout=20_000)
