"""``assess``: every criterion on a registry case's follow-ups; PD records progression."""

from __future__ import annotations

import json
from typing import Any

import pytest

from followup_seed import add_response_course
from tace_planner.cli import main
from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.assessment import AssessmentService
from tace_planner.services.followups import FollowupService

pytestmark = pytest.mark.db


@pytest.fixture
def course(services: Any) -> tuple[Any, int, FollowupService]:
    """Targets F1 + F2: 165 → 63 → 65 → 90 mm (PR, continued PR, PD); F3 new at the third."""
    case, followups = add_response_course(services.session_factory, "R1")
    return services, case, followups


def test_recist_course_continued_pr_best_response_and_growth(course):
    services, case, followups = course
    service = AssessmentService(services.contouring, followups)
    first = service.assess(case, "TACE 1 follow-up 1")
    assert first["recist"]["overall"]["category"] == "PR"
    assert first["days_from_baseline"] == 71
    second = service.assess(case, "TACE 1 follow-up 2", ["recist", "volume"])
    assert second["recist"]["target"]["category"] == "PR"
    assert second["recist"]["best_overall"]["category"] == "PR"  # day 71 confirmed on day 163
    assert set(second["criteria"]) == {"recist", "volume"}
    assert second["criteria"]["volume"]["category"] == "PR"  # 52 → 5.3 cm³, −90 %
    growth = second["growth"]  # since follow-up 1: F1 4.0 → 4.2 cm³ in 92 days
    assert (growth["since"], growth["interval_days"]) == ("TACE 1 follow-up 1", 92)
    assert growth["lesions"][0]["flag"] == "growing"
    assert first["growth"]["total"]["sgr_per_day"] < 0  # baseline 52 → 5 cm³
    assert second["stored"] is False
    f1 = next(row for row in second["lesions"] if row["lesion"] == "F1")
    assert (f1["role"], f1["diameter_mm"]["change_percent"]) == ("target", -59.0)


def test_pd_records_progression_and_ends_the_schedule(course):
    services, case, followups = course
    service = AssessmentService(services.contouring, followups)
    third = service.assess(case, "TACE 1 follow-up 3", record_progression=True)
    recist = third["recist"]
    assert recist["target"]["category"] == "PD"  # 90 mm: +43 %, +27 mm over the nadir 63
    assert recist["new_lesions"] == "unequivocal"
    assert [row["role"] for row in third["lesions"]] == ["target", "target", "new"]
    assert third["criteria"]["choi"]["category"] == "PD"
    assert "hepatocellular" in third["criteria"]["mrecist"]["validated_for"]
    assert [g["flag"] for g in third["growth"]["lesions"]] == ["growing", "growing", "new_lesion"]
    assert third["progression_recorded"] is True
    point = next(t for t in followups.case_timepoints(case) if t.study_uid == "1.2.R1.3")
    assert point.progression_site == "liver"
    ttp = services.therapy.ttp(case)
    tace = next(r for r in ttp["after_tace"] if r["scope"] == "liver")
    assert tace["event"] is True


def test_refusals_name_the_field(course):
    services, case, followups = course
    service = AssessmentService(services.contouring, followups)
    with pytest.raises(InvalidInputError, match="timepoint"):
        service.assess(case, "baseline")
    with pytest.raises(InvalidInputError, match="timepoint"):
        service.assess(case, "follow-up 9")
    with pytest.raises(InvalidInputError, match="criteria"):
        service.assess(case, "TACE 1 follow-up 1", ["who"])


def test_cli_assess_json_and_text(course, capsys):
    services, case, _ = course
    folder = str(services.settings.data_dir)
    args = ["--data-dir", folder, "assess", "--case", str(case), "--timepoint"]
    assert main([*args, "TACE 1 follow-up 2", "--criteria", "recist,easl", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["criteria"]) == {"recist", "easl"}
    assert "enhancing volume fraction" in data["criteria"]["easl"]["explanation"]["inputs"]["note"]
    assert main([*args, "TACE 1 follow-up 1"]) == 0
    text = capsys.readouterr().out
    assert "RECIST 1.1: PR" in text
    with pytest.raises(SystemExit) as usage:
        main([*args, "TACE 1 follow-up 1", "--criteria", "who"])
    assert usage.value.code == 2
    capsys.readouterr()
    assert main([*args, "nowhere"]) == 1
    assert capsys.readouterr().err.strip().startswith("error: timepoint:")
