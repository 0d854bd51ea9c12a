"""One name for one follow-up visit (services/visit_names.py).

Seen: a CT linked by hand as "follow-up 2" and then placed in the schedule's slot "TACE 1
follow-up 1" was "follow-up 2" in the worklist and the Follow-up box but its slot's name
elsewhere, so the radiologist read one visit under two names. The rule: a visit placed in a
schedule slot is named by its slot everywhere people read it; the stored label is added in
brackets on the command line (where users type labels) and still works there; an
unscheduled visit keeps its label.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from followup_seed import add_case, add_study, clock, sign_tace
from tace_planner.cli import main
from tace_planner.services.followups import FollowupService
from tace_planner.services.visit_names import typed_of, visit_name

pytestmark = pytest.mark.db
D = dt.date
TODAY = D(2026, 12, 7)
PLACED_SLOT = "TACE 1 follow-up 1"


def _placed_case(
    services: Any, patient_id: str = "V1", label: str = "follow-up 2"
) -> tuple[int, FollowupService]:
    """TACE 1 on 16 March, its schedule laid out; the CT of 11 May linked by hand as
    ``label`` (placed in the slot "TACE 1 follow-up 1"), one of 3 July outside every
    window (unscheduled)."""
    factory = services.session_factory
    case = add_case(factory, patient_id, baseline_on=D(2026, 3, 2))
    sign_tace(factory, case, D(2026, 3, 16))
    followups = FollowupService(factory, "dr rad", clock=clock(TODAY))
    followups.sync_case(case)
    add_study(factory, patient_id, f"1.2.{patient_id}.1", D(2026, 5, 11))
    services.cases.link_study(
        case, f"1.2.{patient_id}.1", timepoint_label=label, timepoint_kind="follow_up"
    )
    add_study(factory, patient_id, f"1.2.{patient_id}.2", D(2026, 7, 3))
    followups.confirm_match(f"1.2.{patient_id}.2", case_pk=case)
    followups.sync_case(case)
    return case, followups


def test_the_rule() -> None:
    assert visit_name("follow-up 2", 1, 1) == "TACE 1 follow-up 1"
    assert visit_name("unscheduled 2026-07-03", 1, None) == "unscheduled 2026-07-03"
    assert visit_name("baseline", None, None) == "baseline"


def test_a_placed_visit_has_one_name_in_worklist_choices_and_timeline(services: Any) -> None:
    case, followups = _placed_case(services)
    items = {item.label: item for item in followups.worklist("all", case_pk=case)}
    placed = items["follow-up 2"]
    assert (placed.status, placed.tace_number, placed.followup_number) == ("done", 1, 1)
    assert placed.visit_name == "TACE 1 follow-up 1"
    assert placed.to_json()["visit_name"] == "TACE 1 follow-up 1"
    assert placed.to_json()["label"] == "follow-up 2"  # the JSON keys stay
    assert typed_of(placed) == "TACE 1 follow-up 1 (follow-up 2)"
    # a slot the schedule made: its name is its label, no brackets
    slot = items["TACE 1 follow-up 2"]
    assert slot.visit_name == typed_of(slot) == "TACE 1 follow-up 2"

    choices = followups.follow_up_choices(case)
    by_pk = {choice.pk: choice for choice in choices}
    assert by_pk[placed.pk].visit_name == placed.visit_name
    assert by_pk[placed.pk].to_json()["visit_name"] == "TACE 1 follow-up 1"
    names = [choice.visit_name for choice in choices]
    assert len(names) == len(set(names))  # one visit, one name; no two visits share one
    assert "follow-up 2" not in names
    unscheduled = next(c for c in choices if c.status == "unscheduled")
    assert unscheduled.visit_name == unscheduled.label == "unscheduled 2026-07-03"

    timeline = services.therapy.timeline(case)  # the points carry their names
    imaged = [point.name for point in timeline.points]
    assert "TACE 1 follow-up 1" in imaged
    assert "follow-up 2" not in imaged
    assert "unscheduled 2026-07-03" in imaged
    assert all(item.visit_name.startswith("TACE 1 follow-up ") for item in timeline.due)


def test_a_slot_laid_out_again_leaves_the_visit_its_label(services: Any) -> None:
    """A new preset for the same TACE whose first window misses the CT: the schedule lays
    "TACE 1 follow-up 1" out again; the CT placed there before keeps its label, so that no
    two visits share a name (worklist and Follow-up box alike)."""
    case, followups = _placed_case(services)
    followups.set_preset(case, "society")  # first imaging 4 weeks after TACE
    followups.sync_case(case)
    choices = followups.follow_up_choices(case)
    names = [choice.visit_name for choice in choices]
    assert len(names) == len(set(names))
    assert names.count(PLACED_SLOT) == 1
    moved = next(choice for choice in choices if choice.label == "follow-up 2")
    assert (moved.followup_number, moved.slot_relaid) == (1, True)
    assert moved.visit_name == "follow-up 2"
    items = {item.pk: item for item in followups.worklist("all", case_pk=case)}
    assert items[moved.pk].visit_name == "follow-up 2"
    assert [i.visit_name for i in items.values()].count(PLACED_SLOT) == 1


def _cli(data_dir: Path, capsys: Any, *args: str) -> str:
    code = main(["--data-dir", str(data_dir), "--user", "dr cli", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return str(captured.out)


def _named_in_text_and_json(data_dir: Path, capsys: Any, *args: str) -> dict[str, Any]:
    """Run ``args`` as text, then as JSON: the text names the placed visit by its slot with
    its label in brackets, the JSON gives its ``visit_name``; the JSON's timepoints by label."""
    out = _cli(data_dir, capsys, *args)
    assert "TACE 1 follow-up 1 (follow-up 2)" in out
    out = _cli(data_dir, capsys, *args, "--json")
    rows = {row["label"]: row for row in json.loads(out)["timepoints"]}
    assert rows["follow-up 2"]["visit_name"] == "TACE 1 follow-up 1"
    return rows


def test_the_command_line_names_the_slot_and_still_takes_the_label(
    services: Any, tmp_path: Path, capsys: Any
) -> None:
    case, _ = _placed_case(services)
    data_dir = tmp_path / "data"
    _named_in_text_and_json(data_dir, capsys, "followups", "--all", "--case", str(case))
    shown = _named_in_text_and_json(data_dir, capsys, "case", "show", "--case", str(case))
    assert shown["baseline"]["visit_name"] == "baseline"
    assert shown["unscheduled 2026-07-03"]["visit_name"] == "unscheduled 2026-07-03"

    # the label it was linked under keeps working ("follow-up N", as the demo's CTs were
    # linked), and the answer names the visit as the worklist does
    other, _ = _placed_case(services, "V2", label="follow-up 1")
    out = _cli(
        data_dir, capsys, "followup", "progression", "--case", str(other),
        "--timepoint", "follow-up 1", "--site", "liver",
    )  # fmt: skip
    assert out.startswith(f"TACE 1 follow-up 1 (follow-up 1) of case {other}: progression liver")
