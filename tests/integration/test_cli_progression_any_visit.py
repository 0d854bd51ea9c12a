"""``followup progression --timepoint … --case`` lets the service decide which follow-up a
label names: an unscheduled visit ("unscheduled 2026-07-03"), a label linked by hand, the
visit name; a refusal lists the case's follow-ups, in one line naming ``--timepoint``.

Seen: the command refused, before asking, every label that did not read "(TACE k)
follow-up N", so an unscheduled visit could not be named, and the refusal ("give the
timepoint's id, or 'follow-up N'") did not say which follow-ups the case has.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from test_visit_names import _placed_case

from tace_planner.cli import main
from tace_planner.store.models import TimepointRow

pytestmark = pytest.mark.db


def _sites(services: Any, case: int) -> dict[str, str]:
    with services.session_factory() as session:
        rows = session.scalars(select(TimepointRow).where(TimepointRow.case_pk == case)).all()
        return {row.label: row.progression_site for row in rows}


def _run(services: Any, case: int | None, site: str, *timepoint: str) -> int:
    args = ["--data-dir", str(services.settings.data_dir), "--user", "dr cli",
            "followup", "progression", "--site", site, "--timepoint", *timepoint]  # fmt: skip
    return main([*args, "--case", str(case)] if case is not None else args)


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    return line


def test_an_unscheduled_visit_and_a_hand_label_are_named_by_their_labels(
    services: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    case, _ = _placed_case(services)
    assert _run(services, case, "liver", "unscheduled", "2026-07-03") == 0
    assert capsys.readouterr().out == (
        f"unscheduled 2026-07-03 of case {case}: progression liver\n"
    )
    assert _sites(services, case)["unscheduled 2026-07-03"] == "liver"
    # the label linked by hand, and its visit name: the same follow-up
    assert _run(services, case, "both", "follow-up 2") == 0
    assert _run(services, case, "none", "TACE 1 follow-up 1") == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"TACE 1 follow-up 1 (follow-up 2) of case {case}: progression both",
        f"TACE 1 follow-up 1 (follow-up 2) of case {case}: progression cleared",
    ]


def test_a_label_the_case_lacks_is_refused_with_its_follow_ups(
    services: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    case, _ = _placed_case(services)
    before = _sites(services, case)
    assert _run(services, case, "liver", "first", "visit") == 1
    line = _one_error_line(capsys)
    assert line.startswith(f"error: --timepoint: case {case} has no follow-up 'first visit'")
    assert "'TACE 1 follow-up 1 (follow-up 2)'" in line
    assert "'unscheduled 2026-07-03'" in line
    # without its case a label cannot be looked up: said in one line, naming --case
    assert _run(services, None, "liver", "unscheduled 2026-07-03") == 1
    line = _one_error_line(capsys)
    assert line.startswith("error: --timepoint: 'unscheduled 2026-07-03'")
    assert "--case" in line
    assert _sites(services, case) == before
