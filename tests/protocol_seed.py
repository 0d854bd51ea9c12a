"""Helpers of the protocol tests: a folder imported as a case's baseline, and one series
as the protocol check reads its headers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tace_planner.domain.progress import run_sync
from tace_planner.domain.protocol import ProtocolSeries


def import_as_baseline(services: Any, folder: Path, tace_on: dt.date, patient_id: str) -> int:
    """Import ``folder``, open a case of ``patient_id`` (the imported patient's ID) planned
    for ``tace_on``, and link its studies dated up to that day (or undated) as the baseline;
    the case's id."""
    report = run_sync(services.studies.import_paths([folder]))
    assert report.errors == ()
    case = services.cases.create_case(patient_id, "protocol test", planned_tace_on=tace_on)
    for study in services.studies.studies_of_patient(case.patient_pk):
        if study.study_on is None or study.study_on <= tace_on:
            services.cases.link_study(
                case.pk,
                study.study_uid,
                timepoint_label="baseline",
                timepoint_kind="baseline",
                imaged_on=study.study_on,
            )
    return int(case.pk)


def exam_series(
    modality: str,
    description: str,
    number: int | None,
    study_on: dt.date | None,
    *,
    series_uid: str = "",
    **headers: Any,
) -> ProtocolSeries:
    """Series ``number`` of an exam dated ``study_on``, its UID made from its number (never
    shown in a reason) unless ``series_uid`` is given, and its other ``headers`` (phase,
    thickness, sequence, …). A series without a number (``None``) needs its ``series_uid``."""
    if not series_uid:
        if number is None:
            raise ValueError("exam_series: a series without a number needs a series_uid")
        series_uid = f"1.2.826.0.1.3680043.8.498.{9532 * 10**13 + number}"
    return ProtocolSeries(
        series_uid, modality, description, series_number=number, study_on=study_on, **headers
    )
