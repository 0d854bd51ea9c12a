"""A follow-up with imaging but no CT volume says, before Propose, why it cannot be proposed.

Proposing contours registers the follow-up CT to the baseline CT. A follow-up imaged by MR
only, or whose CT series do not read as one volume, was offered for Propose like any other
and refused only after the click, once the baseline masks were read. The propagation
service's timepoints now carry the reason (``FollowUpTimepoint.proposal_note``), worded as
the refusal is; the MR-only follow-up stays a timepoint to view, contour by hand and assess.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from planning_seed import add_baseline_study, add_lesion, add_series
from tace_planner.domain.errors import InvalidInputError
from tace_planner.imaging.mask_codec import pack_mask
from tace_planner.services.propagation import propagation_service
from tace_planner.store.models import SegmentationRow, SeriesRow, StudyRow, TimepointRow

pytestmark = pytest.mark.db

BASELINE_ON = dt.date(2026, 3, 2)
MR_ONLY = "follow-up 1"
CT_NOT_A_VOLUME = "follow-up 2"
CT_READY = "follow-up 3"
NOTHING_YET = "follow-up 4"
CT_OF_TWO_VOLUMES = "follow-up 5"


def _follow_up(session: Any, case_pk: int, patient_pk: int, n: int, imaged: bool) -> Any:
    imaged_on = BASELINE_ON + dt.timedelta(days=60 * n) if imaged else None
    timepoint = TimepointRow(
        case_pk=case_pk, kind="follow_up", label=f"follow-up {n}", ordinal=n, imaged_on=imaged_on
    )
    session.add(timepoint)
    session.flush()
    if not imaged:
        return timepoint, None
    study = StudyRow(
        patient_pk=patient_pk,
        case_pk=case_pk,
        timepoint_pk=timepoint.id,
        study_uid=f"1.2.3.9.{n}",
        study_on=imaged_on,
    )
    session.add(study)
    session.flush()
    return timepoint, study


def _series(session: Any, study: Any, uid: str, **fields: Any) -> SeriesRow:
    row = add_series(session, study.id, uid, imaged_on=study.study_on)
    for name, value in fields.items():
        setattr(row, name, value)
    session.flush()
    return row


@pytest.fixture
def case(services: Any) -> int:
    """A baseline CT with one contoured focus, and follow-ups imaged in several ways."""
    with services.session_factory() as session:
        case, baseline, study = add_baseline_study(session, "P-ready", imaged_on=BASELINE_ON)
        series = add_series(session, study.id, "1.2.3.9.0.1", imaged_on=BASELINE_ON)
        focus = add_lesion(session, case.id, "F1", "VII")
        mask = np.zeros((8, 16, 16), dtype=bool)
        mask[3:5, 6:9, 6:9] = True
        box, data = pack_mask(mask)
        session.add(
            SegmentationRow(
                lesion_pk=focus.id,
                timepoint_pk=baseline.id,
                series_pk=series.id,
                grid_shape={"shape": list(mask.shape), "bbox": list(box), "part": None},
                mask_packed=data,
            )
        )
        patient_pk = study.patient_pk
        _, mr = _follow_up(session, case.id, patient_pk, 1, True)
        _series(session, mr, "1.2.3.9.1.1", modality="MR", phase="", sequence="t1")
        _series(session, mr, "1.2.3.9.1.2", modality="MR", phase="", sequence="dwi")
        _, broken = _follow_up(session, case.id, patient_pk, 2, True)
        _series(session, broken, "1.2.3.9.2.1", is_volume=False, geometry_status="unmeasurable")
        _, ready = _follow_up(session, case.id, patient_pk, 3, True)
        _series(session, ready, "1.2.3.9.3.1", modality="MR", phase="")
        _series(session, ready, "1.2.3.9.3.2")  # a venous CT volume
        _follow_up(session, case.id, patient_pk, 4, False)
        _, double = _follow_up(session, case.id, patient_pk, 5, True)
        report = {"status": "ok", "parts": [{"part": "1"}, {"part": "2"}]}
        _series(session, double, "1.2.3.9.5.1", geometry_report=report)
        session.commit()
        return case.id


def test_each_follow_up_says_whether_its_contours_can_be_proposed(services: Any, case: int) -> None:
    choices = {c.label: c for c in propagation_service(services).timepoints(case)}

    assert choices["baseline"].can_propose  # nothing to say: it is not proposed onto
    assert choices[CT_READY].can_propose
    assert choices[CT_READY].proposal_note == ""
    assert not choices[MR_ONLY].can_propose
    assert choices[MR_ONLY].proposal_note == (
        "has imaging (MR only) but no CT series to register to the baseline — "
        "link its CT study first"
    )
    assert choices[MR_ONLY].proposal_refusal == f"{MR_ONLY} {choices[MR_ONLY].proposal_note}"
    for label in (CT_NOT_A_VOLUME, CT_OF_TWO_VOLUMES):
        assert choices[label].proposal_note == (
            "has CT images but no CT series read as one volume to register to the baseline — "
            "link a CT study whose series form a volume first"
        ), label
    assert choices[NOTHING_YET].proposal_note == (
        "has no CT series to register to the baseline (no images yet: link its study first)"
    )
    # Only the proposal is refused: contouring by hand (the Lesions panel's timepoints) and
    # the Follow-up box (viewing, assessing) keep the MR-only follow-up.
    assert MR_ONLY in [c.label for c in services.contouring.lesions.timepoints(case)]
    box = {c.label: c for c in services.followups.follow_up_choices(case)}
    assert box[MR_ONLY].ready
    for choice in choices.values():  # words a clinician reads: no database words
        for internal in ("UID", "1.2.", "_", "pk", "is_volume"):
            assert internal not in choice.proposal_note


def test_propose_refuses_with_the_same_words_before_reading_a_mask(
    services: Any, case: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    propagation = propagation_service(services)
    choices = {c.label: c for c in propagation.timepoints(case)}

    def no_mask(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a mask was read for a follow-up that cannot be proposed")

    monkeypatch.setattr(services.contouring, "load_mask", no_mask)
    for label in (MR_ONLY, CT_NOT_A_VOLUME, NOTHING_YET, CT_OF_TWO_VOLUMES):
        with pytest.raises(InvalidInputError) as refused:
            propagation.propose(case, label)
        assert refused.value.field == "timepoint"
        assert choices[label].proposal_refusal in str(refused.value)
