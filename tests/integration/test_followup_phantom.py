"""The phantom's scripted course, imported from its DICOM files, drives the schedule.

The small phantom is written and imported as a user would (the studies' dates and patient
come from the DICOM headers); ``truth.json`` gives the TACE date and the follow-ups. A signed
TACE on that date lays out the study protocol's timepoints (8 weeks, then every 3 months),
and each imported follow-up study is matched to its timepoint and linked.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from followup_seed import clock, sign_tace
from tace_planner.domain.progress import run_sync
from tace_planner.services.followups import FollowupService

pytestmark = [pytest.mark.db, pytest.mark.dicom, pytest.mark.slow]


def test_imported_phantom_follow_ups_match_their_due_dates(
    services: Any, small_phantom: Path
) -> None:
    truth = json.loads((small_phantom / "truth.json").read_text(encoding="utf-8"))
    run_sync(services.studies.import_paths([small_phantom]))
    tace_on = dt.date.fromisoformat(truth["tace_date"])
    baseline = truth["timepoints"][0]
    [patient] = services.cases.list_patients()
    case = services.cases.create_case(patient.patient_id, "DEBIRI course")
    services.cases.link_study(
        case.pk, baseline["study_uid"], timepoint_label="baseline", timepoint_kind="baseline"
    )
    sign_tace(services.session_factory, case.pk, tace_on)
    followups = FollowupService(
        services.session_factory, "dr rad", clock=clock(dt.date(2026, 12, 2))
    )
    timepoints = followups.sync_case(case.pk)
    # 16 March 2026: 8 weeks → 11 May; every 3 months → 11 August, 11 November
    assert [t.due_on for t in timepoints[:3]] == [
        dt.date(2026, 5, 11), dt.date(2026, 8, 11), dt.date(2026, 11, 11)
    ]  # fmt: skip
    pending = {m.study_uid: m for m in followups.unmatched_studies()}
    follow_ups = truth["timepoints"][1:]
    assert set(pending) >= {t["study_uid"] for t in follow_ups}
    for number, point in enumerate(follow_ups, start=1):
        match = pending[point["study_uid"]]
        assert match.study_on == dt.date.fromisoformat(point["date"])
        assert match.candidates[0].timepoint.label == f"TACE 1 follow-up {number}"
        linked = followups.confirm_match(point["study_uid"])
        assert linked.study_on == dt.date.fromisoformat(point["date"])
    done = followups.worklist("done", case_pk=case.pk)
    assert [t.label for t in done] == ["TACE 1 follow-up 1", "TACE 1 follow-up 2",
                                       "TACE 1 follow-up 3"]  # fmt: skip
    assert followups.worklist("overdue", case_pk=case.pk) == []
