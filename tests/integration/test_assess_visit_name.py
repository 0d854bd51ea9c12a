"""``assess --timepoint`` finds a follow-up as ``followup progression`` and ``followup
propagate`` do (services/visit_lookup.py): its stored label, its visit name, its id.

Seen: ``assess`` took only the exact stored label or the id as a number, so the CT linked
as "CT of 11 May" and placed in the slot "TACE 1 follow-up 1" (the name the worklist shows)
was refused by that name, and ``--timepoint 7`` (its id, typed) was refused as a label.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from followup_seed import add_response_course
from tace_planner.cli import main
from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.assessment import AssessmentService
from tace_planner.store.models import TimepointRow

pytestmark = pytest.mark.db

LABEL = "CT of 11 May"


@pytest.fixture
def relabelled(services: Any) -> tuple[Any, int, Any, int]:
    """The response course (PR at its first follow-up), its first follow-up stored under
    another label than its slot's name: (services, case, followups, that follow-up's id)."""
    case, followups = add_response_course(services.session_factory, "A1")
    with services.session_factory() as session:
        row = session.scalars(
            select(TimepointRow).where(
                TimepointRow.case_pk == case, TimepointRow.label == "TACE 1 follow-up 1"
            )
        ).one()
        row.label = LABEL
        session.commit()
        pk = row.id
    return services, case, followups, pk


def test_assess_finds_a_follow_up_by_label_visit_name_and_id(relabelled) -> None:
    services, case, followups, pk = relabelled
    service = AssessmentService(services.contouring, followups, sessions=services.session_factory)
    for typed in (LABEL, "ct OF  11 may", "TACE 1 follow-up 1", "tace 1 FOLLOW-UP 1", str(pk), pk):
        result = service.assess(case, typed, ["recist"], store=False)
        assert result["recist"]["overall"]["category"] == "PR", typed
        assert result["days_from_baseline"] == 71, typed
    # a later follow-up by its name, its course through the relabelled one
    second = service.assess(case, "TACE 1 follow-up 2", ["recist"], store=False)
    assert second["recist"]["best_overall"]["category"] == "PR"
    with pytest.raises(InvalidInputError, match="is the baseline"):
        service.assess(case, "baseline", store=False)


def test_refusals_list_the_follow_ups_by_name_with_their_labels(relabelled) -> None:
    services, case, followups, _ = relabelled
    service = AssessmentService(services.contouring, followups, sessions=services.session_factory)
    with pytest.raises(InvalidInputError) as refused:
        service.assess(case, "follow-up 9", store=False)
    assert refused.value.field == "timepoint"
    text = str(refused.value)
    assert "'follow-up 9'" in text
    assert f"'TACE 1 follow-up 1 ({LABEL})', 'TACE 1 follow-up 2', 'TACE 1 follow-up 3'" in text
    assert "'baseline'" not in text  # a follow-up is assessed, not the baseline


def test_without_a_database_the_label_and_the_id_only(relabelled) -> None:
    """A service built without sessions cannot know the visit names: label and id."""
    services, case, followups, pk = relabelled
    service = AssessmentService(services.contouring, followups)
    for typed in (LABEL, str(pk), pk):
        assert service.assess(case, typed, ["recist"])["timepoint"] == LABEL, typed
    with pytest.raises(InvalidInputError) as refused:
        service.assess(case, "TACE 1 follow-up 1")
    assert refused.value.field == "timepoint"
    assert f"'{LABEL}', 'TACE 1 follow-up 2', 'TACE 1 follow-up 3'" in str(refused.value)


def test_cli_assess_by_visit_name_and_refusal_in_one_line(relabelled, capsys) -> None:
    services, case, _, _ = relabelled
    args = ["--data-dir", str(services.settings.data_dir), "assess", "--case", str(case)]
    assert main([*args, "--timepoint", "TACE 1 follow-up 1", "--no-store", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"timepoint": "CT of 11 May"' in out
    assert main([*args, "--timepoint", "first visit", "--no-store"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith(f"error: timepoint: case {case} has no timepoint 'first visit'")
    assert f"'TACE 1 follow-up 1 ({LABEL})'" in line
