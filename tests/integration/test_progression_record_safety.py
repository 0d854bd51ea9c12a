"""Recording progression on the demo's follow-ups (made by ``case link``, no schedule).

Seen: ``followup progression`` and ``assess --record-progression`` saved the progression
on such a follow-up, then stopped with "unexpected StopIteration" (exit 1), so the user
believed nothing was saved and the assessment itself was never stored. And
``assess --record-progression`` replaced a recorded "both" (liver and extrahepatic) by
"liver", losing the extrahepatic progression that counts for time to progression.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from followup_seed import add_measurement
from tace_planner.cli import main

pytestmark = [pytest.mark.db, pytest.mark.dicom]


@pytest.fixture
def demo_copy(tmp_path: Path, demo_data_dir: Path) -> Path:
    """A private copy of the demo data folder (the shared one is read-only)."""
    target = tmp_path / "data"
    shutil.copytree(demo_data_dir, target)
    return target


def _run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "--user", "dr cli", *args])


def _open(data_dir: Path) -> Any:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    return open_services(AppSettings(data_dir=data_dir, db_url=None, user="seed"))


def _timepoints(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The demo case's timepoints by label: pk, status, progression site, first study."""
    from sqlalchemy import select

    from tace_planner.store.models import StudyRow, TimepointRow

    services = _open(data_dir)
    try:
        with services.session_factory() as session:
            rows = session.scalars(select(TimepointRow).order_by(TimepointRow.id)).all()
            out = {}
            for row in rows:
                study = session.scalars(
                    select(StudyRow.study_uid)
                    .where(StudyRow.timepoint_pk == row.id)
                    .order_by(StudyRow.id)
                ).first()
                out[row.label] = {
                    "pk": row.id,
                    "case": row.case_pk,
                    "status": row.status,
                    "site": row.progression_site,
                    "study": study,
                }
            return out
    finally:
        services.close()


def _seed_liver_pd(data_dir: Path) -> dict[str, dict[str, Any]]:
    """Target F1 at 40 mm at baseline, 60 mm at follow-up 1 (+50 %: RECIST 1.1 PD)."""
    points = _timepoints(data_dir)
    case = points["baseline"]["case"]
    services = _open(data_dir)
    try:
        factory = services.session_factory
        add_measurement(factory, case, points["baseline"]["study"], "F1", 30.0, 40.0)
        add_measurement(factory, case, points["follow-up 1"]["study"], "F1", 100.0, 60.0)
    finally:
        services.close()
    return points


def _stored_criteria(data_dir: Path, case_pk: int, timepoint_pk: int) -> list[str]:
    """The criteria of the current stored assessments at the timepoint."""
    services = _open(data_dir)
    try:
        stored = services.assessments.stored(case_pk)
        return sorted(a.criterion for a in stored if a.timepoint_pk == timepoint_pk)
    finally:
        services.close()


def test_followup_progression_on_a_case_linked_follow_up_saves_and_reports(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    points = _timepoints(demo_copy)
    follow_up = points["follow-up 2"]
    assert follow_up["status"] == ""  # made by case link: no schedule
    assert _run(demo_copy, "followup", "progression", "--timepoint", str(follow_up["pk"]),
                "--site", "both") == 0  # fmt: skip
    captured = capsys.readouterr()
    assert captured.err == ""
    assert f"follow-up 2 of case {follow_up['case']}: progression both" in captured.out
    assert _timepoints(demo_copy)["follow-up 2"]["site"] == "both"
    # clearing it works the same way
    assert _run(demo_copy, "followup", "progression", "--timepoint", str(follow_up["pk"]),
                "--site", "none") == 0  # fmt: skip
    assert "progression cleared" in capsys.readouterr().out
    assert _timepoints(demo_copy)["follow-up 2"]["site"] == ""


def test_followup_progression_refuses_bad_input_in_one_line_and_saves_nothing(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    points = _timepoints(demo_copy)
    assert _run(demo_copy, "followup", "progression", "--timepoint",
                str(points["baseline"]["pk"]), "--site", "liver") == 1  # fmt: skip
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert "baseline" in line
    assert "follow-up" in line
    assert "StopIteration" not in line
    assert captured.out == ""
    assert _timepoints(demo_copy)["baseline"]["site"] == ""
    assert _run(demo_copy, "followup", "progression", "--timepoint", "9999",
                "--site", "liver") == 1  # fmt: skip
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "9999" in line
    assert "StopIteration" not in line


def test_assess_record_progression_on_a_case_linked_follow_up_stores_both(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    points = _seed_liver_pd(demo_copy)
    follow_up = points["follow-up 1"]
    assert _run(demo_copy, "assess", "--case", str(follow_up["case"]), "--timepoint",
                "follow-up 1", "--record-progression", "--json") == 0  # fmt: skip
    captured = capsys.readouterr()
    assert captured.err == ""
    result = json.loads(captured.out)
    assert result["recist"]["overall"]["category"] == "PD"
    assert result["progression_recorded"] is True
    assert result["progression_site"] == "liver"
    assert result["stored"] is True
    assert _timepoints(demo_copy)["follow-up 1"]["site"] == "liver"
    assert len(_stored_criteria(demo_copy, follow_up["case"], follow_up["pk"])) == 5


@pytest.mark.parametrize(
    ("recorded", "kept"),
    [("both", "both"), ("extrahepatic", "both"), ("liver", "liver")],
)
def test_assess_record_progression_never_narrows_a_recorded_site(
    demo_copy: Path, capsys: pytest.CaptureFixture[str], recorded: str, kept: str
) -> None:
    points = _seed_liver_pd(demo_copy)
    follow_up = points["follow-up 1"]
    assert _run(demo_copy, "followup", "progression", "--timepoint", str(follow_up["pk"]),
                "--site", recorded) == 0  # fmt: skip
    capsys.readouterr()
    assert _run(demo_copy, "assess", "--case", str(follow_up["case"]), "--timepoint",
                "follow-up 1", "--record-progression", "--json") == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert result["progression_recorded"] is True
    assert result["progression_site"] == kept
    assert result["stored"] is True
    assert _timepoints(demo_copy)["follow-up 1"]["site"] == kept
    if recorded != "liver":
        assert "extrahepatic" in result["progression_note"]
    # the text output says what was kept
    assert _run(demo_copy, "assess", "--case", str(follow_up["case"]), "--timepoint",
                "follow-up 1", "--record-progression") == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "progression recorded on this follow-up" in out
    if recorded != "liver":
        assert "liver and extrahepatic" in out
    assert _timepoints(demo_copy)["follow-up 1"]["site"] == kept


def test_assess_record_progression_keeps_a_site_recorded_as_not_specified(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A progression recorded without its site may be extrahepatic: it is not replaced by
    "liver"; the result says so."""
    points = _seed_liver_pd(demo_copy)
    follow_up = points["follow-up 1"]
    assert _run(demo_copy, "followup", "progression", "--timepoint", str(follow_up["pk"]),
                "--site", "unspecified") == 0  # fmt: skip
    capsys.readouterr()
    assert _run(demo_copy, "assess", "--case", str(follow_up["case"]), "--timepoint",
                "follow-up 1", "--record-progression", "--json") == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert result["progression_site"] == "unspecified"
    assert "not specified" in result["progression_note"]
    assert _timepoints(demo_copy)["follow-up 1"]["site"] == "unspecified"


@pytest.mark.parametrize(
    ("recorded", "kept"),
    [("both", "both"), ("extrahepatic", "both"), ("liver", "liver"), ("", "liver")],
)
def test_scheduled_follow_up_liver_pd_keeps_the_recorded_extrahepatic_site(
    services: Any, recorded: str, kept: str
) -> None:
    """The same on a scheduled follow-up (RECIST 1.1 PD at TACE 1 follow-up 3), through the
    services: a recorded extrahepatic progression is kept (liver + extrahepatic = both)."""
    from followup_seed import add_response_course
    from tace_planner.services.assessment import AssessmentService

    case, followups = add_response_course(services.session_factory, "R9")
    point = next(t for t in followups.case_timepoints(case) if t.study_uid == "1.2.R9.3")
    if recorded:
        followups.record_progression(point.pk, recorded)
    service = AssessmentService(services.contouring, followups)
    result = service.assess(case, point.label, record_progression=True)
    assert result["recist"]["overall"]["category"] == "PD"
    after = next(t for t in followups.case_timepoints(case) if t.pk == point.pk)
    assert after.progression_site == kept
    assert result["progression_recorded"] is True
    assert result["progression_site"] == kept
    tace = next(r for r in services.therapy.ttp(case)["after_tace"] if r["scope"] == "anywhere")
    assert tace["event"] is True
