"""What each follow-up schedule parameter is called, its unit and the values an institution may set.

The form of ``followup.json`` (Case → Follow-up schedule parameters…) shows, for each
preset (study protocol, society guidance, 1-3-6-9-12 months), the first imaging, the
repeat interval and the window, and for the file the default preset and how far ahead
schedules are laid out. As for the planning parameters
(:mod:`tace_planner.domain.planning_ranges`), the ranges are safety bounds on what may be
saved (a slip such as a first imaging 80 weeks after the TACE is refused), not clinical
thresholds; they live here, once, so that editing the file cannot widen them.

Beyond each value's range, a preset must keep its windows apart and after the TACE:

* the first window opens after the TACE (window before < the first interval), so that
  the pre-TACE imaging is never taken for a follow-up;
* two consecutive windows do not overlap (window before + window after < the shortest
  interval between due dates, a month counted as 28 days), so that a new study fits at
  most one window and is matched without ambiguity.

:func:`followup_problems` checks a whole file's values and names each parameter for people.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from tace_planner.domain.planning_ranges import ParameterSpec
from tace_planner.domain.schedule import PRESET_PREFIX

SHORTEST_MONTH_DAYS = 28
"""A calendar month counted at its shortest, for the window checks."""

PRESET_SPECS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "first_weeks",
        "First imaging after the TACE",
        "weeks",
        "integer",
        1,
        26,
        "safety bound, institutional default: from 1 week to 6 months; the study protocol "
        "images at 8 weeks (Zvezdkina et al., Journal of Clinical Practice 2022), society "
        "guidance at 4 weeks (Gaba et al., J Vasc Interv Radiol 2017). Empty for a preset "
        "given as a list of months",
    ),
    ParameterSpec(
        "months",
        "Imaging at (months after the TACE)",
        "months",
        "integer",
        1,
        60,
        "safety bound, institutional default: each 1–60 months, increasing, e.g. 1, 3, 6, "
        "9, 12 (Maas et al., Insights Imaging 2020). Empty for a preset given by its first "
        "imaging in weeks",
    ),
    ParameterSpec(
        "repeat_months",
        "Then every",
        "months",
        "integer",
        1,
        24,
        "safety bound, institutional default: from monthly to every 2 years; the study "
        "protocol repeats every 3 months (Zvezdkina et al., Journal of Clinical Practice 2022)",
    ),
    ParameterSpec(
        "window_before_days",
        "Window before the due date",
        "days",
        "integer",
        0,
        42,
        "safety bound, institutional default: at most 6 weeks early",
    ),
    ParameterSpec(
        "window_after_days",
        "Window after the due date",
        "days",
        "integer",
        0,
        42,
        "safety bound, institutional default: at most 6 weeks late (the society window of "
        "4–6 weeks is 14 days after a 4-week due date)",
    ),
    ParameterSpec(
        "modality",
        "Expected modality",
        "",
        "choice",
        reason="the modalities the follow-up reads",
        choices=(("CT", "CT"), ("MR", "MR")),
    ),
)
"""The fields of one preset, in the order of the form."""

FILE_SPECS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "horizon_months",
        "Schedule laid out ahead of the last TACE",
        "months",
        "integer",
        6,
        120,
        "safety bound, institutional default: from 6 months to 10 years",
    ),
    ParameterSpec(
        "course_gap_days",
        "A TACE within this many days continues its course",
        "days",
        "integer",
        0,
        120,
        "safety bound, institutional default: sequential lobar sessions 3 weeks apart "
        "(Szemitko, J Clin Med 2021) fit well inside 4 months",
    ),
)
"""Values of the whole file (the default preset is a choice among the presets)."""

PRESET_SPECS_BY_NAME = {spec.name: spec for spec in PRESET_SPECS}
FILE_SPECS_BY_NAME = {spec.name: spec for spec in FILE_SPECS}


def preset_problems(key: str, label: str, preset: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every reason one preset cannot be saved, as (``<key>.<field>``, message for people)."""
    problems: list[tuple[str, str]] = []
    name = label or key
    first, months = preset.get("first_weeks"), preset.get("months") or []
    if first is None and not months:
        problems.append((f"{key}.first_weeks", f"{name}: give the first imaging in weeks "
                         "or a list of months"))  # fmt: skip
    if first is not None and months:
        problems.append((f"{key}.months", f"{name}: give either the first imaging in weeks "
                         "or a list of months, not both"))  # fmt: skip
    for spec in PRESET_SPECS:
        value = preset.get(spec.name)
        if spec.name == "first_weeks" and value is None:
            continue
        if spec.name == "months":
            if not isinstance(value, list):
                problems.append((f"{key}.months", f"{name}: {spec.label}: must be a list"))
                continue
            for month in value:
                problem = spec.problem(month)
                if problem is not None:
                    problems.append((f"{key}.months", f"{name}: {spec.label}: {problem}"))
                    break
            else:
                if value != sorted(set(value)):
                    problems.append((f"{key}.months", f"{name}: {spec.label}: must increase"))
            continue
        problem = spec.problem(value)
        if problem is not None:
            problems.append((f"{key}.{spec.name}", f"{name}: {spec.label}: {problem}"))
    if problems:
        return problems
    before, after = preset["window_before_days"], preset["window_after_days"]
    first_days = first * 7 if first is not None else months[0] * SHORTEST_MONTH_DAYS
    if before >= first_days:
        problems.append(
            (
                f"{key}.window_before_days",
                f"{name}: the first window would open on or before the TACE day "
                f"({before} days before a first imaging {first_days} days after it)",
            )
        )
    steps = [b - a for a, b in itertools.pairwise(months)] + [preset["repeat_months"]]
    gap_days = min(steps) * SHORTEST_MONTH_DAYS
    if before + after >= gap_days:
        problems.append(
            (
                f"{key}.window_after_days",
                f"{name}: consecutive windows would overlap ({before} + {after} days "
                f"against {min(steps)} month(s) between due dates, a month counted as "
                f"{SHORTEST_MONTH_DAYS} days): a new study must fit one window only",
            )
        )
    return problems


def followup_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every reason the values of a ``followup.json`` cannot be saved, as (key, message).

    ``values`` maps each file value name to its plain value (``preset_protocol`` → the
    preset's object). Values not in ``values`` are not checked.
    """
    problems: list[tuple[str, str]] = []
    presets = {
        name.removeprefix(PRESET_PREFIX): value
        for name, value in values.items()
        if name.startswith(PRESET_PREFIX)
    }
    for key, preset in presets.items():
        if not isinstance(preset, Mapping):
            problems.append((key, f"{key}: must be an object"))
            continue
        problems.extend(preset_problems(key, str(preset.get("label", "")), preset))
    for spec in FILE_SPECS:
        if spec.name in values:
            problem = spec.problem(values[spec.name])
            if problem is not None:
                problems.append((spec.name, f"{spec.label}: {problem}"))
    default = values.get("default_preset")
    if default is not None and presets and default not in presets:
        problems.append(("default_preset", f"Default preset: {default!r} is not a preset"))
    return problems


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return "none" if value is None else str(value)


def describe_change(before: Any, after: Any) -> str:
    """A changed value in words: "changed from 0.05 to 0.06", or for a preset the fields
    that changed by their names for people ("Window after the due date changed from 14 to
    21 days")."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        parts = []
        for name in dict.fromkeys([*before, *after]):
            if before.get(name) == after.get(name):
                continue
            spec = PRESET_SPECS_BY_NAME.get(name)
            label = spec.label if spec is not None else name.replace("_", " ")
            unit = f" {spec.unit}" if spec is not None and spec.unit else ""
            parts.append(
                f"{label} changed from {_plain(before.get(name))} to "
                f"{_plain(after.get(name))}{unit}"
            )
        if parts:
            return "; ".join(parts)
    return f"changed from {before} to {after}"


def followup_file_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """:func:`followup_problems` of a whole ``followup.json`` (its ``values`` entries)."""
    values = data.get("values") or {}
    plain = {
        name: entry.get("value") for name, entry in values.items() if isinstance(entry, Mapping)
    }
    return followup_problems(plain)
