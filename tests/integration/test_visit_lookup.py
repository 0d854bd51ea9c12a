"""A visit is found by what users see and by what they typed (services/visit_lookup.py).

Seen: the worklist names the CT linked by hand as "follow-up 2" and placed in the slot
"TACE 1 follow-up 1" by the slot's name, yet ``--timepoint "TACE 1 follow-up 1"`` was
refused; and ``--timepoint "follow-up 2"`` (its own label) was refused as ambiguous with
the schedule's "TACE 1 follow-up 2" (the "follow-up N" shorthand). The order now: the
stored label, then the visit name, then the id, then the shorthand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_visit_names import _placed_case

from tace_planner.cli import main
from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.services.propagation import propagation_service

pytestmark = pytest.mark.db


def _pks(followups: Any, case: int) -> dict[str, int]:
    return {item.label: item.pk for item in followups.worklist("all", case_pk=case)}


def test_the_visit_name_finds_the_visit(services: Any) -> None:
    case, followups = _placed_case(services)
    placed = _pks(followups, case)["follow-up 2"]
    for typed in ("TACE 1 follow-up 1", "tace 1  FOLLOW-UP 1", str(placed)):
        assert followups.follow_up_pk(case, typed) == placed, typed
        assert propagation_service(services).timepoint(case, typed).pk == placed, typed


def test_an_exact_label_wins_over_the_follow_up_shorthand(services: Any) -> None:
    """The bug on HEAD: "follow-up 2" named both the CT linked under that label and, as the
    shorthand for the schedule's 2nd follow-up, "TACE 1 follow-up 2"."""
    case, followups = _placed_case(services)
    pks = _pks(followups, case)
    assert followups.follow_up_pk(case, "follow-up 2") == pks["follow-up 2"]
    assert followups.follow_up_pk(case, "TACE 1 follow-up 2") == pks["TACE 1 follow-up 2"]
    # no label reads "follow-up 3": the shorthand still finds the 3rd follow-up
    assert followups.follow_up_pk(case, "follow-up 3") == pks["TACE 1 follow-up 3"]
    propagation = propagation_service(services)
    assert propagation.timepoint(case, "follow-up 2").pk == pks["follow-up 2"]
    assert propagation.timepoint(case, "TACE 1 follow-up 2").pk == pks["TACE 1 follow-up 2"]


def test_refusals_list_the_names_with_the_labels(services: Any) -> None:
    case, followups = _placed_case(services)
    with pytest.raises(InvalidInputError) as refused:
        followups.follow_up_pk(case, "follow-up 99")
    assert refused.value.field == "timepoint"
    assert "'TACE 1 follow-up 1 (follow-up 2)'" in str(refused.value)
    assert "'TACE 1 follow-up 2'," in str(refused.value)
    with pytest.raises(NotFoundError) as missing:
        propagation_service(services).timepoint(case, "follow-up 99")
    text = str(missing.value)
    assert text.startswith("timepoint 'follow-up 99' is not in case")
    assert "'baseline', 'TACE 1 follow-up 1 (follow-up 2)'" in text


def _progression(data_dir: Path, case: int, *timepoint: str) -> int:
    return main(["--data-dir", str(data_dir), "--user", "dr cli", "followup", "progression",
                 "--case", str(case), "--timepoint", *timepoint, "--site", "liver"])  # fmt: skip


def test_the_command_line_takes_the_name_and_the_label(
    services: Any, tmp_path: Path, capsys: Any
) -> None:
    case, _ = _placed_case(services)
    data_dir = tmp_path / "data"
    assert _progression(data_dir, case, "TACE", "1", "follow-up", "1") == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert out.startswith(f"TACE 1 follow-up 1 (follow-up 2) of case {case}: progression liver")

    other, _ = _placed_case(services, "V2")
    assert _progression(data_dir, other, "follow-up 2") == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert out.startswith(f"TACE 1 follow-up 1 (follow-up 2) of case {other}: progression liver")
