"""``assess`` names the follow-up as the worklist does: its text output prints the visit
name with the stored label in brackets when they differ (as ``followup propagate`` and
``followup match`` print it), and its JSON gives ``visit_name`` beside ``timepoint``.

Seen: the text output printed the stored label only ("case 1, CT of 11 May"), so the
follow-up the worklist lists as "TACE 1 follow-up 1" was not recognisable in it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_assess_visit_name import LABEL, relabelled  # noqa: F401 - the fixture

from tace_planner.cli import main

pytestmark = pytest.mark.db


def _args(services: Any, case: int, *more: str) -> list[str]:
    return ["--data-dir", str(services.settings.data_dir), "assess", "--case", str(case), *more]


def test_text_output_names_the_visit_with_its_label(relabelled, capsys) -> None:  # noqa: F811
    services, case, _, _ = relabelled
    assert main(_args(services, case, "--timepoint", LABEL, "--no-store")) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"case {case}, TACE 1 follow-up 1 ({LABEL}) (71 days after baseline)")
    # a follow-up whose label is its name: the name once
    assert main(_args(services, case, "--timepoint", "TACE 1 follow-up 2", "--no-store")) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"case {case}, TACE 1 follow-up 2 (")
    assert "TACE 1 follow-up 2 (TACE" not in first


def test_json_gives_the_visit_name_beside_the_label(relabelled, capsys) -> None:  # noqa: F811
    services, case, _, pk = relabelled
    for typed in (LABEL, "TACE 1 follow-up 1", str(pk)):
        assert main(_args(services, case, "--timepoint", typed, "--no-store", "--json")) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["timepoint"] == LABEL, typed  # the key readers rely on, unchanged
        assert result["visit_name"] == "TACE 1 follow-up 1", typed
        keys = list(result)
        assert keys.index("visit_name") == keys.index("timepoint") + 1


def test_without_a_database_the_visit_name_is_the_label(relabelled) -> None:  # noqa: F811
    from tace_planner.services.assessment import AssessmentService

    services, case, followups, pk = relabelled
    result = AssessmentService(services.contouring, followups).assess(case, pk, ["recist"])
    assert (result["timepoint"], result["visit_name"]) == (LABEL, LABEL)
