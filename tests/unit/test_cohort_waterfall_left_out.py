"""Why a case has no bar in the cohort's waterfall, per measure, from its course; the counts
per reason as the page says them; a cohort regrouped (or kept whole) without reading it again.
"""

from __future__ import annotations

from types import MappingProxyType, SimpleNamespace

from tace_planner.services.cohort import (
    FOCI_NOT_AT_FOLLOW_UP,
    NO_BASELINE,
    NO_FOLLOW_UP,
    NO_TARGETS,
    TARGETS_NOT_AT_FOLLOW_UP,
    cohort_tables,
    left_out_summary,
    regroup,
    waterfall_left_out,
)
from tace_planner.services.cohort_csv import CohortData, CohortRow


def _course(*lesions: tuple[bool, tuple, tuple], sums: tuple = ()) -> SimpleNamespace:
    """(is_target, diameters per timepoint, volumes per timepoint) per lesion."""
    n = len(lesions[0][1]) if lesions else 1
    return SimpleNamespace(
        timepoints=tuple(range(n)),
        lesions=tuple(
            SimpleNamespace(is_target=t, diameters_mm=d, volumes_cm3=v) for t, d, v in lesions
        ),
        sums_of_diameters_mm=sums or (None,) * n,
    )


def test_a_case_measured_at_baseline_only_has_no_follow_up() -> None:
    course = _course((True, (30.0, None), (14.0, None)), sums=(30.0, None))
    assert waterfall_left_out(course) == {
        "diameter_sum_percent": NO_FOLLOW_UP,
        "volume_percent": NO_FOLLOW_UP,
    }


def test_a_followed_case_without_targets_lacks_only_the_sum() -> None:
    course = _course((False, (30.0, 20.0), (14.0, 7.0)))
    assert waterfall_left_out(course) == {"diameter_sum_percent": NO_TARGETS, "volume_percent": ""}


def test_a_follow_up_missing_a_focus() -> None:
    # F1 (target) measured at both; F2 (not a target) missing at the follow-up
    course = _course(
        (True, (30.0, 20.0), (14.0, 7.0)), (False, (12.0, None), (2.0, None)), sums=(30.0, 20.0)
    )
    assert waterfall_left_out(course) == {
        "diameter_sum_percent": "",
        "volume_percent": FOCI_NOT_AT_FOLLOW_UP,
    }
    # both targets, the second not measured at the follow-up: no complete sum there
    course = _course(
        (True, (30.0, 20.0), (14.0, 7.0)), (True, (12.0, None), (2.0, 1.0)), sums=(42.0, None)
    )
    assert waterfall_left_out(course)["diameter_sum_percent"] == TARGETS_NOT_AT_FOLLOW_UP


def test_a_case_without_measurements() -> None:
    assert waterfall_left_out(_course()) == dict.fromkeys(
        ("diameter_sum_percent", "volume_percent"), NO_BASELINE
    )


def test_the_summary_counts_each_reason_most_frequent_first() -> None:
    reasons = [NO_TARGETS, NO_FOLLOW_UP, "", NO_FOLLOW_UP, NO_FOLLOW_UP]
    assert left_out_summary(reasons) == (
        "3 cases without a follow-up measurement, 1 without target lesions"
    )
    assert left_out_summary([NO_TARGETS]) == "1 case without target lesions"
    assert left_out_summary([""]) == ""


def test_a_cohort_is_regrouped_or_kept_whole() -> None:
    rows = tuple(
        CohortRow(n + 2, MappingProxyType({
            "patient": f"TP00{n + 1}", "group": None, "tace_sequence": sequence,
            "ttp_after_tace_days": days, "progression_event": 1.0,
            "volume_before_cm3": 10.0 + n,
        }))
        for n, (sequence, days) in enumerate((("immediate", 90.0), ("", 120.0), (None, 200.0)))
    )  # fmt: skip
    data = CohortData("registry", ("patient", "group", "tace_sequence"), rows, ())
    by_sequence = regroup(data, "tace_sequence")
    assert [row.text("group") for row in by_sequence.rows] == ["immediate", None, None]
    whole = cohort_tables(regroup(data, "all"), "group")
    assert whole.group_sizes == {"all": 3}
    assert whole.survival.logrank is None  # one group: nothing to compare
    assert whole.survival.groups["all"].n == 3
    assert data.rows[0].text("group") is None  # the cohort read is left as it was
