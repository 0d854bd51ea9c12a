"""Follow-up schedule: calendar-correct due dates, windows, restart by a repeat TACE, endings."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.resources
import itertools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.schedule import (
    CaseEnd,
    FollowupParameters,
    TaceDate,
    add_months,
    case_schedule,
    schedule_after,
    schedule_explanation,
)

D = dt.date


def _file() -> dict[str, Any]:
    resource = importlib.resources.files("tace_planner.resources") / "parameters" / "followup.json"
    return json.loads(resource.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def params() -> FollowupParameters:
    return FollowupParameters.from_dict(_file())


def _dues(params: FollowupParameters, key: str, on: dt.date, n: int = 4) -> list[dt.date]:
    return [t.due_on for t in schedule_after(on, params.preset(key), 36)[:n]]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2027, 11, 30), 3, D(2028, 2, 29)),  # leap year
        (D(2027, 1, 31), 1, D(2027, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2028, 2, 29), 48, D(2032, 2, 29)),
        (D(2026, 8, 31), 1, D(2026, 9, 30)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),
        (D(2026, 3, 16), -1, D(2026, 2, 16)),
    ],
)
def test_calendar_months_clamp_to_the_month_end(
    day: dt.date, months: int, expected: dt.date
) -> None:
    assert add_months(day, months) == expected


def test_protocol_tace_on_31_january(params: FollowupParameters) -> None:
    # 8 weeks = 56 days: 28 March; then every 3 months from 28 March.
    assert _dues(params, "protocol", D(2027, 1, 31)) == [
        D(2027, 3, 28), D(2027, 6, 28), D(2027, 9, 28), D(2027, 12, 28)
    ]  # fmt: skip
    # the month list counts from the TACE date: 28 Feb, 30 Apr, 31 Jul, 31 Oct, 31 Jan, …
    assert _dues(params, "months", D(2027, 1, 31), 7) == [
        D(2027, 2, 28), D(2027, 4, 30), D(2027, 7, 31), D(2027, 10, 31), D(2028, 1, 31),
        D(2028, 7, 31), D(2029, 1, 31),
    ]  # fmt: skip


def test_tace_on_29_february_of_a_leap_year(params: FollowupParameters) -> None:
    assert _dues(params, "protocol", D(2028, 2, 29)) == [
        D(2028, 4, 25), D(2028, 7, 25), D(2028, 10, 25), D(2029, 1, 25)
    ]  # fmt: skip
    assert _dues(params, "months", D(2028, 2, 29), 6) == [
        D(2028, 3, 29), D(2028, 5, 29), D(2028, 8, 29), D(2028, 11, 29), D(2029, 2, 28),
        D(2029, 8, 29),
    ]  # fmt: skip


def test_three_months_after_30_november(params: FollowupParameters) -> None:
    # month list: 1 month = 30 Dec, 3 months = 28 Feb (29 in a leap year)
    assert _dues(params, "months", D(2026, 11, 30), 2) == [D(2026, 12, 30), D(2027, 2, 28)]
    assert _dues(params, "months", D(2027, 11, 30), 2) == [D(2027, 12, 30), D(2028, 2, 29)]
    # protocol: first 25 January, then 25 April …
    assert _dues(params, "protocol", D(2026, 11, 30), 2) == [D(2027, 1, 25), D(2027, 4, 25)]


def test_windows_and_society_preset(params: FollowupParameters) -> None:
    first = schedule_after(D(2026, 3, 16), params.preset("protocol"), 36)[0]
    assert (first.window_start_on, first.due_on, first.window_end_on) == (
        D(2026, 4, 27), D(2026, 5, 11), D(2026, 5, 25)
    )  # fmt: skip
    assert first.contains(D(2026, 4, 27))
    assert first.contains(D(2026, 5, 25))
    assert not first.contains(D(2026, 5, 26))
    society = schedule_after(D(2026, 3, 16), params.preset("society"), 36)[0]
    # 4–6 weeks after the TACE
    assert (society.window_start_on, society.window_end_on) == (D(2026, 4, 13), D(2026, 4, 27))


def test_horizon_limits_the_schedule(params: FollowupParameters) -> None:
    dues = schedule_after(D(2026, 3, 16), params.preset("protocol"), 12)
    assert dues[-1].due_on <= D(2027, 3, 16)
    assert [t.number for t in dues] == list(range(1, len(dues) + 1))
    assert len(dues) == 4  # 11 May, 11 Aug, 11 Nov 2026, 11 Feb 2027


def test_repeat_tace_restarts_the_schedule(params: FollowupParameters) -> None:
    preset = params.preset("protocol")
    planned = case_schedule([TaceDate(1, D(2026, 3, 16)), TaceDate(2, D(2026, 9, 1))], preset, 12)
    first = [p for p in planned if p.tace_number == 1]
    assert [(p.due.due_on, p.state) for p in first[:3]] == [
        (D(2026, 5, 11), "open"), (D(2026, 8, 11), "open"), (D(2026, 11, 11), "superseded")
    ]  # fmt: skip
    assert "TACE 2" in first[2].reason
    second = [p for p in planned if p.tace_number == 2 and p.state == "open"]
    assert second[0].due.due_on == D(2026, 10, 27)  # 8 weeks after 1 September


def test_progression_ends_the_schedule(params: FollowupParameters) -> None:
    planned = case_schedule(
        [TaceDate(1, D(2026, 3, 16))],
        params.preset("protocol"),
        36,
        CaseEnd(D(2026, 8, 11), "progression"),
    )
    assert [p.due.due_on for p in planned if p.state == "open"] == [D(2026, 5, 11), D(2026, 8, 11)]
    ended = [p for p in planned if p.state == "ended"]
    assert ended
    assert all("progression" in p.reason for p in ended)
    with pytest.raises(InvalidInputError, match="reason"):
        CaseEnd(D(2026, 8, 11), "bored")


def test_changed_file_is_read_with_its_new_values() -> None:
    data = copy.deepcopy(_file())
    data["version"] = "2"
    data["values"]["preset_protocol"]["value"]["window_before_days"] = 7
    changed = FollowupParameters.from_dict(data)
    assert changed.version == "2"
    assert changed.preset("protocol").window_before_days == 7
    # a stored snapshot rebuilds the preset it was made with
    snapshot = FollowupParameters.from_dict(_file()).preset("protocol").to_json()
    assert type(changed.preset("protocol")).from_json(snapshot).window_before_days == 14


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("preset_protocol", "value", "repeat_months"), 0, "preset_protocol.repeat_months"),
        (("preset_months", "value", "months"), [3, 1], "preset_months.months"),
        (("default_preset", "value"), "weekly", "default_preset"),
        (("horizon_months", "value"), "long", "horizon_months"),
    ],
)
def test_bad_parameter_file_names_the_field(path: tuple[str, ...], value: Any, field: str) -> None:
    data = copy.deepcopy(_file())
    target = data["values"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InvalidInputError, match=field.replace(".", r"\.")):
        FollowupParameters.from_dict(data)


def test_sources_are_cited_without_internal_wording(params: FollowupParameters) -> None:
    assert "Zvezdkina" in params.preset("protocol").source
    assert "Gaba" in params.preset("society").source
    assert "Maas" in params.preset("months").source
    text = json.dumps(_file())
    for word in ("§", "NOT FOUND", "[D]", "product brief"):
        assert word not in text
    explanation = schedule_explanation(params.preset("protocol"), D(2026, 3, 16))
    assert explanation.result.startswith("2026-05-11, 2026-08-11, 2026-11-11")
    assert "last day" in explanation.formula


_days = st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 12, 31))


@given(day=_days, months=st.integers(min_value=-240, max_value=240))
def test_add_months_lands_in_the_right_month_and_never_overshoots(
    day: dt.date, months: int
) -> None:
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day <= day.day
    if day.day <= 28:
        assert result.day == day.day
        assert add_months(result, -months) == day
    else:  # clamped only when the target month is shorter
        next_month = add_months(result.replace(day=1), 1)
        assert result.day == day.day or result == next_month - dt.timedelta(days=1)


@given(day=_days, key=st.sampled_from(["protocol", "society", "months"]))
def test_schedules_increase_and_windows_hold_their_due_date(day: dt.date, key: str) -> None:
    params = FollowupParameters.from_dict(_file())
    dues = schedule_after(day, params.preset(key), 36)
    assert dues
    assert all(a.due_on < b.due_on for a, b in itertools.pairwise(dues))
    assert all(t.contains(t.due_on) and t.due_on > day for t in dues)
    assert dues[-1].due_on <= add_months(day, 36)
