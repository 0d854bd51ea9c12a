"""Stored assessments: ``assess`` stores each criterion, a re-assessment supersedes (audited),
the timeline shows the stored RECIST 1.1 labels; mRECIST's overall response on a registry case."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from followup_seed import add_response_course
from tace_planner.cli import main
from tace_planner.services.response_parameters import load_response_parameters
from tace_planner.store.assessment_rows import AssessmentRow
from tace_planner.store.models import AuditEventRow, LesionRow, MeasurementRow, SegmentationRow

pytestmark = pytest.mark.db


def _enhancing(factory: Any, case_pk: int, fractions: dict[tuple[str, int], float]) -> None:
    """Set the enhancing fraction of (lesion, n-th timepoint measured) pairs."""
    with factory() as session:
        rows = session.execute(
            select(LesionRow.name, SegmentationRow.timepoint_pk, MeasurementRow)
            .join(SegmentationRow, SegmentationRow.lesion_pk == LesionRow.id)
            .join(MeasurementRow, MeasurementRow.segmentation_pk == SegmentationRow.id)
            .where(LesionRow.case_pk == case_pk)
        ).all()
        order = sorted({tp for _, tp, _ in rows})
        for name, timepoint_pk, measurement in rows:
            key = (name, order.index(timepoint_pk))
            if key in fractions:
                measurement.enhancing_fraction = fractions[key]
        session.commit()


@pytest.fixture
def course(services: Any) -> tuple[Any, int]:
    """Targets F1 + F2: 165 → 63 → 65 → 90 mm; F3 new (12 mm, enhancing) at the third.

    Enhancing fraction 1 at baseline, 0 at the first two follow-ups (viable sum 0:
    mRECIST target CR), 0.5 at the third.
    """
    factory = services.session_factory
    case, _ = add_response_course(factory, "S1")
    fractions = {(name, n): 1.0 if n == 0 else 0.0 for name in ("F1", "F2") for n in range(3)}
    fractions |= {("F1", 3): 0.5, ("F2", 3): 0.5, ("F3", 3): 0.5}
    _enhancing(factory, case, fractions)
    return services, case


def test_assess_stores_every_criterion_with_its_explanation(course):
    services, case = course
    result = services.assessments.assess(case, "TACE 1 follow-up 1")
    assert result["stored"] is True
    assert set(result["assessment_ids"]) == {"recist", "mrecist", "easl", "choi", "volume"}
    stored = services.assessments.stored(case)
    # EASL: no short axis was measured, so there is no viable area (NE).
    assert {s.criterion: s.category for s in stored} == {
        "recist": "PR", "mrecist": "CR", "easl": "NE", "choi": "PR", "volume": "PR",
    }  # fmt: skip
    recist = next(s for s in stored if s.criterion == "recist")
    assert recist.timepoint == "TACE 1 follow-up 1"
    assert recist.created_by == services.settings.user
    assert recist.status == "current"
    assert recist.parameters_version == load_response_parameters().version  # the shipped file
    assert recist.explanation["target"]["category"] == "PR"
    assert recist.rule == "target PR without progression elsewhere"
    with services.session_factory() as session:
        row = session.get(AssessmentRow, recist.pk)
        assert row.parameters["recist_pr_decrease_percent"] == 30.0


def test_reassessment_supersedes_and_keeps_the_older_row_audited(course):
    services, case = course
    first = services.assessments.assess(case, "TACE 1 follow-up 1", ["recist"])
    second = services.assessments.assess(case, "TACE 1 follow-up 1", ["recist"])
    old, new = first["assessment_ids"]["recist"], second["assessment_ids"]["recist"]
    assert old != new
    current = services.assessments.stored(case)
    assert [s.pk for s in current] == [new]
    every = services.assessments.stored(case, include_superseded=True)
    superseded = next(s for s in every if s.pk == old)
    assert (superseded.status, superseded.superseded_by_pk) == ("superseded", new)
    with services.session_factory() as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.entity == "response_assessment")
        ).all()
    assert [(e.action, e.entity_pk) for e in events] == [
        ("assess", old), ("supersede", old), ("assess", new),
    ]  # fmt: skip
    supersede = events[1]
    assert (supersede.before["status"], supersede.after["status"]) == ("current", "superseded")


def test_not_stored_when_asked_or_without_a_database(course):
    services, case = course
    result = services.assessments.assess(case, "TACE 1 follow-up 1", store=False)
    assert result["stored"] is False
    assert services.assessments.stored(case) == []


def test_timeline_shows_the_stored_recist_labels(course):
    services, case = course
    services.assessments.assess(case, "TACE 1 follow-up 1", ["recist"])
    services.assessments.assess(case, "TACE 1 follow-up 3", ["recist"])
    points = {p.label: p.response for p in services.therapy.timeline(case).points}
    assert points["TACE 1 follow-up 1"] == "PR"
    assert points["TACE 1 follow-up 2"] == ""  # not assessed
    assert points["TACE 1 follow-up 3"] == "PD"


def test_mrecist_overall_on_the_registry_course(course):
    services, case = course
    first = services.assessments.assess(case, "TACE 1 follow-up 1", ["mrecist"], store=False)
    assert first["mrecist"]["target"]["category"] == "CR"  # no viable tumour left
    assert first["criteria"]["mrecist"]["category"] == "CR"
    third = services.assessments.assess(case, "TACE 1 follow-up 3", ["mrecist"], store=False)
    mrecist = third["mrecist"]
    assert mrecist["new_lesions"] == "unequivocal"  # F3: 12 mm, arterially enhancing
    assert "washout not assessed" in mrecist["new_lesion_rule"]["explanation"]["inputs"]["F3"]
    assert mrecist["overall"]["category"] == "PD"
    assert "new lesion" in mrecist["overall"]["rule"]


def test_mrecist_best_overall_response_over_the_course(course, capsys):
    """mRECIST CR on day 71 (viable sum 0) confirmed by CR on day 163, then PD."""
    services, case = course
    first = services.assessments.assess(case, "TACE 1 follow-up 1", ["mrecist"], store=False)
    best = first["mrecist"]["best_overall"]
    assert best["category"] == "SD"  # one CR, not yet confirmed: SD (day 71 ≥ 42)
    third = services.assessments.assess(case, "TACE 1 follow-up 3")
    mrecist = third["mrecist"]
    assert [step["overall"] for step in mrecist["course"]] == ["CR", "CR", "PD"]
    best = mrecist["best_overall"]
    assert (best["criterion"], best["category"]) == ("mRECIST", "CR")
    assert best["rule"] == (
        "CR 71 days after baseline, confirmed 163 days after baseline (92 days later)"
    )
    assert "Lencioni and Llovet" in best["explanation"]["source"]
    assert "enhancing volume fraction" in best["explanation"]["inputs"]["note"]
    assert third["recist"]["best_overall"]["category"] == "PR"  # RECIST 1.1 kept as it was
    stored = next(s for s in services.assessments.stored(case) if s.criterion == "mrecist")
    assert stored.explanation["best_overall"]["category"] == "CR"
    folder = str(services.settings.data_dir)
    args = ["--data-dir", folder, "assess", "--case", str(case), "--timepoint"]
    assert main([*args, "TACE 1 follow-up 2", "--criteria", "recist,mrecist", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"target", "non_target", "new_lesions", "new_lesion_rule", "overall"} <= set(
        data["mrecist"]
    )
    assert data["mrecist"]["best_overall"]["category"] == "CR"
    assert data["criteria"]["mrecist"]["category"] == "CR"
    assert main([*args, "TACE 1 follow-up 2", "--no-store"]) == 0
    assert "mRECIST best overall response so far: CR" in capsys.readouterr().out


def test_cli_assess_stores_unless_no_store(course, capsys):
    services, case = course
    folder = str(services.settings.data_dir)
    args = ["--data-dir", folder, "assess", "--case", str(case), "--timepoint"]
    assert main([*args, "TACE 1 follow-up 2", "--criteria", "recist", "--no-store", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stored"] is False
    assert services.assessments.stored(case) == []
    assert main([*args, "TACE 1 follow-up 2", "--criteria", "recist", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stored"] is True
    assert [s.category for s in services.assessments.stored(case)] == ["PR"]
    assert main([*args, "TACE 1 follow-up 2"]) == 0
    assert "supersedes" in capsys.readouterr().out


def test_migration_0005_goes_down_to_0004_and_back(course):
    from sqlalchemy import inspect

    from tace_planner.store.upgrade import (
        current_revision,
        downgrade,
        head_revision,
        upgrade_to_head,
    )

    services, case = course
    services.assessments.assess(case, "TACE 1 follow-up 1", ["recist"])
    engine = services.engine
    downgrade(engine, "0004")
    assert current_revision(engine) == "0004"
    assert "response_assessment" not in inspect(engine).get_table_names()
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    assert services.assessments.stored(case) == []  # the table is new and empty
    services.assessments.assess(case, "TACE 1 follow-up 1", ["recist"])
    assert [s.category for s in services.assessments.stored(case)] == ["PR"]


def test_two_current_rows_from_two_workstations_show_the_newer(course):
    services, case = course
    first = services.assessments.assess(case, "TACE 1 follow-up 1", ["recist"])
    with services.session_factory() as session:  # another workstation, at the same moment
        row = session.get(AssessmentRow, first["assessment_ids"]["recist"])
        session.add(AssessmentRow(case_pk=case, timepoint_pk=row.timepoint_pk,
                                  criterion="recist", category="SD", rule="other reader",
                                  parameters_version="2", created_by="dr other"))  # fmt: skip
        session.commit()
    [shown] = services.assessments.stored(case)
    assert (shown.category, shown.created_by) == ("SD", "dr other")
    points = {p.label: p.response for p in services.therapy.timeline(case).points}
    assert points["TACE 1 follow-up 1"] == "SD"
