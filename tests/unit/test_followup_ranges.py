"""Safety bounds of the follow-up schedule parameters (the form refuses what they refuse)."""

from __future__ import annotations

import importlib.resources
import json

from tace_planner.domain.followup_ranges import (
    PRESET_SPECS_BY_NAME,
    describe_change,
    followup_problems,
    preset_problems,
)
from tace_planner.domain.schedule import MAX_WINDOW_DAYS

PROTOCOL = {"label": "Protocol", "first_weeks": 8, "months": [], "repeat_months": 3,
            "window_before_days": 14, "window_after_days": 14, "modality": "CT"}  # fmt: skip


def test_the_packaged_file_is_within_every_bound() -> None:
    resource = importlib.resources.files("tace_planner.resources") / "parameters"
    data = json.loads((resource / "followup.json").read_text(encoding="utf-8"))
    assert followup_problems({k: v["value"] for k, v in data["values"].items()}) == []


def test_windows_stay_within_the_worklist_query_bound() -> None:
    for name in ("window_before_days", "window_after_days"):
        assert (PRESET_SPECS_BY_NAME[name].maximum or 0) <= MAX_WINDOW_DAYS


def test_a_preset_needs_weeks_or_months_and_separate_windows_after_the_tace() -> None:
    assert preset_problems("protocol", "Protocol", PROTOCOL) == []
    neither = {**PROTOCOL, "first_weeks": None}
    assert preset_problems("p", "P", neither)[0][0] == "p.first_weeks"
    both = {**PROTOCOL, "months": [1, 3]}
    assert "not both" in preset_problems("p", "P", both)[0][1]
    early = {**PROTOCOL, "first_weeks": 2, "window_before_days": 14}
    assert "on or before the TACE day" in preset_problems("p", "P", early)[0][1]
    overlapping = {**PROTOCOL, "first_weeks": None, "months": [1, 2], "window_after_days": 20}
    [(key, message)] = preset_problems("p", "P", overlapping)
    assert key == "p.window_after_days"
    assert "consecutive windows would overlap (14 + 20 days against 1 month(s)" in message
    assert "must increase" in preset_problems("p", "P", {**neither, "months": [3, 1]})[0][1]


def test_changes_are_described_by_the_names_people_read() -> None:
    after = {**PROTOCOL, "first_weeks": 6, "months": []}
    assert describe_change(PROTOCOL, after) == (
        "First imaging after the TACE changed from 8 to 6 weeks"
    )
    assert describe_change(0.05, 0.06) == "changed from 0.05 to 0.06"
