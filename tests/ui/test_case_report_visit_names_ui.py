"""The printed case report names a visit placed in a schedule slot by the slot's name, as
the worklist does; a de-identified one by its visit "follow-up k" (ui/case_report.py)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

pytest.importorskip("PySide6")

from visit_seed import PLACED, placed_response_course

pytestmark = pytest.mark.db


@pytest.fixture
def placed(services: Any) -> int:
    return placed_response_course(services, "VU-1")[0]


def _text(services: Any, case: int, pseudonym: str = "", **kwargs: Any) -> str:
    from tace_planner.services.export.case_report import build_case_report
    from tace_planner.services.export.record import deidentified
    from tace_planner.services.export.records import gather_case
    from tace_planner.ui.case_report import case_report_html

    record = gather_case(services, case)
    if pseudonym:
        record = deidentified(record, pseudonym)
    markup = case_report_html(build_case_report(services, record, 1), 300, **kwargs)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end)]


def test_the_report_reads_the_slots_name(qtbot: Any, services: Any, placed: int) -> None:
    # the stored assessments as the service gives them (their stored labels), too
    for responses in (None, services.assessments.stored(placed)):
        text = _text(services, placed, responses=responses)
        table = _between(text, "Response at each follow-up", "Follow-up and time")
        assert f"{PLACED} 56 PR sum 63 mm" in table
        assert not re.search(r"(?<!TACE 1 )follow-up 2 ", table)
        lesions = _between(text, "Lesions per timepoint", "Plan")
        assert f"{PLACED} 56 F1" in lesions
        assert not re.search(r"(?<!TACE 1 )follow-up 2 ", lesions)
    # de-identified: the visit by imaging order, never the slot's name or the label
    text = _text(services, placed, "TP078")
    table = _between(text, "Response at each follow-up", "Follow-up and time")
    assert "follow-up 1 56 PR" in table
    assert PLACED not in text
