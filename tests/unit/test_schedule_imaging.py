"""Imaging already in a case stands for the scheduled follow-up whose window holds its date."""

from __future__ import annotations

import datetime as dt

from tace_planner.domain.schedule import DueTimepoint, match_imaging

D = dt.date
TACE = D(2026, 3, 16)
# study protocol after TACE 1 of 16 March 2026: 8 weeks, then every 3 months, ± 14 days
DUE = (
    DueTimepoint(1, D(2026, 5, 11), D(2026, 4, 27), D(2026, 5, 25)),
    DueTimepoint(2, D(2026, 8, 11), D(2026, 7, 28), D(2026, 8, 25)),
    DueTimepoint(3, D(2026, 11, 11), D(2026, 10, 28), D(2026, 11, 25)),
)


def test_the_demo_follow_ups_each_stand_for_one_scheduled_follow_up() -> None:
    imaged = [D(2026, 5, 11), D(2026, 8, 16), D(2026, 11, 16)]
    assert match_imaging(DUE, imaged, TACE) == {1: 0, 2: 1, 3: 2}


def test_outside_every_window_before_the_tace_or_undated_matches_nothing() -> None:
    imaged = [D(2026, 7, 1), D(2026, 3, 10), None, D(2026, 5, 26)]
    assert match_imaging(DUE, imaged, TACE) == {}
    # a window reaching back before the TACE: imaging on or before the TACE is no follow-up
    early = (DueTimepoint(1, D(2026, 3, 23), D(2026, 3, 9), D(2026, 4, 6)),)
    assert match_imaging(early, [D(2026, 3, 16), D(2026, 3, 12)], TACE) == {}


def test_two_cts_in_one_window_the_one_nearer_its_due_date_stands_for_it() -> None:
    imaged = [D(2026, 4, 28), D(2026, 5, 13)]  # 13 and 2 days from 11 May
    assert match_imaging(DUE, imaged, TACE) == {1: 1}


def test_one_ct_never_stands_for_two_follow_ups() -> None:
    overlapping = (
        DueTimepoint(1, D(2026, 4, 13), D(2026, 3, 30), D(2026, 4, 27)),
        DueTimepoint(2, D(2026, 4, 20), D(2026, 4, 6), D(2026, 5, 4)),
    )
    assert match_imaging(overlapping, [D(2026, 4, 19)], TACE) == {2: 0}
    assert match_imaging(overlapping, [D(2026, 4, 19), D(2026, 4, 12)], TACE) == {2: 0, 1: 1}
