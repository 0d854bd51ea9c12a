"""The protocol check dates an exam by its study date and names series for people.

A reviewer found the "at most 28 days before TACE" rule reading the series date
(1997-04-30 in files built from pydicom's example CT) while the study tree, the view
title and the banner show the study date (2004-01-19); and reasons naming series by
UID with statuses written as codes ("not_evaluated").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from protocol_seed import exam_series
from tace_planner.domain.protocol import (
    ProtocolParameters,
    ProtocolSeries,
    check_protocol,
)

PARAMS = ProtocolParameters()
STUDY_ON = dt.date(2004, 1, 19)
TEMPLATE_SERIES_ON = dt.date(1997, 4, 30)
TACE_ON = dt.date(2004, 1, 29)
UID = re.compile(r"\d+(\.\d+){4,}")


def venous(**changes: object) -> ProtocolSeries:
    series = exam_series(
        "CT",
        "Portal venous 2.5 mm",
        3,
        STUDY_ON,
        phase="venous",
        slice_thickness_mm=2.5,
        slice_interval_mm=2.5,
        series_on=TEMPLATE_SERIES_ON,
    )
    return dataclasses.replace(series, **changes)  # type: ignore[arg-type]


def test_the_baseline_age_is_counted_from_the_study_date_and_says_so() -> None:
    result = check_protocol([venous()], TACE_ON, PARAMS, modalities={"CT"})
    age = result.requirement("baseline_age.ct")
    assert age.status == "pass", age.reason
    assert age.reason.startswith(
        "CT of 2004-01-19 (study date) is 10 day(s) before the TACE on 2004-01-29 (limit 28)"
    )
    # the other date is named as not used, so a reader comparing headers is not puzzled
    assert "series date 1997-04-30 differs and is not used" in age.reason
    assert "2465" not in age.reason


def test_without_a_study_date_the_series_date_is_used_and_named() -> None:
    series = venous(study_on=None, series_on=TACE_ON - dt.timedelta(days=40))
    age = check_protocol([series], TACE_ON, PARAMS, modalities={"CT"}).requirement(
        "baseline_age.ct"
    )
    assert age.status == "fail"
    assert age.reason.startswith("CT of 2003-12-20 (series date) is 40 day(s) before")


def test_a_study_after_the_tace_names_its_study_date() -> None:
    late = venous(study_on=TACE_ON + dt.timedelta(days=2), series_on=STUDY_ON)
    age = check_protocol([late], TACE_ON, PARAMS, modalities={"CT"}).requirement("baseline_age.ct")
    assert age.status == "fail"
    assert age.reason.startswith("CT of 2004-01-31 (study date) is 2 day(s) after the TACE")


def test_reasons_name_series_by_description_number_and_phase_never_by_uid() -> None:
    series = [
        venous(series_uid=f"1.2.826.0.1.3680043.8.498.{n}1234567", phase=phase, series_number=n)
        for n, phase in enumerate(("native", "arterial", "venous", "delayed"), start=1)
    ]
    series.append(
        venous(
            series_uid="1.2.826.0.1.3680043.8.498.99", description="", phase="", series_number=None
        )
    )
    series.append(
        exam_series(
            "MR", "T2 TSE axial", 7, STUDY_ON, sequence="t2", plane="axial", field_strength_t=1.0
        )
    )
    result = check_protocol(series, TACE_ON, PARAMS)
    for requirement in result.requirements:
        assert not UID.search(requirement.reason), requirement.reason
    assert result.requirement("ct.phase.venous").reason == (
        "'Portal venous 2.5 mm' (series 3, portal venous)"
    )
    assert "'T2 TSE axial' (series 7, T2 axial): 1 T < 1.5 T" in (
        result.requirement("mr.field_strength").reason
    )
    # the programs still get the UIDs
    assert result.requirement("ct.phase.venous").series_uids == (
        "1.2.826.0.1.3680043.8.498.31234567",
    )
    assert series[4].label == "(no description)"


def test_statuses_read_as_words_for_people_and_stay_codes_in_json() -> None:
    result = check_protocol([venous()], None, PARAMS, modalities={"CT"})
    words = {r.status: r.status_words for r in result.requirements}
    assert words == {"pass": "passed", "fail": "failed", "not_evaluated": "not checked"}
    assert "not_evaluated" not in result.summary()
    assert "not checked" in result.summary()
    statuses = {r["status"] for r in result.to_json()["requirements"]}
    assert statuses == {"pass", "fail", "not_evaluated"}
    assert result.to_json()["status"] == "fail"


def test_an_unrecorded_field_strength_is_said_without_a_tag_number() -> None:
    mr = ProtocolSeries(series_uid="1.2.3", modality="MR", description="T1", sequence="t1")
    reason = (
        check_protocol([mr], TACE_ON, PARAMS, modalities={"MR"})
        .requirement("mr.field_strength")
        .reason
    )
    assert reason == "the magnetic field strength is not recorded in the image headers"
