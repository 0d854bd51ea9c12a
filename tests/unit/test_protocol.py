"""The imaging protocol check: one worked case per requirement, at the limit and just beyond."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from protocol_seed import exam_series
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.protocol import (
    ProtocolParameters,
    ProtocolResult,
    ProtocolSeries,
    check_protocol,
    field_strength_tesla,
    slice_interval_from_positions,
)

TACE_ON = dt.date(2026, 3, 16)
CT_ON = dt.date(2026, 3, 2)
MR_ON = dt.date(2026, 3, 4)
PARAMS = ProtocolParameters()
PARAMETER_FILE = Path(__file__).resolve().parents[2] / "resources/parameters/imaging_protocol.json"


def ct(phase: str, thickness: float | None = 2.5, interval: float | None = 2.5) -> ProtocolSeries:
    """A CT series of ``phase`` dated by its series date only, its UID readable."""
    return exam_series(
        "CT",
        f"Abdomen {phase} {thickness}mm",
        None,
        None,
        series_uid=f"ct.{phase}.{thickness}",
        phase=phase,
        slice_thickness_mm=thickness,
        slice_interval_mm=interval,
        series_on=CT_ON,
    )


def mr(sequence: str, plane: str, **changes: object) -> ProtocolSeries:
    """A 1.5 T MR series of ``sequence`` in ``plane`` dated by its series date only, its UID
    readable; ``changes`` replace its other headers."""
    headers: dict[str, object] = {
        "slice_thickness_mm": 5.0,
        "slice_interval_mm": 6.0,
        "field_strength_t": 1.5,
        "b_values": (50.0, 800.0) if sequence == "dwi" else (),
        "series_on": MR_ON,
        **changes,
    }
    return exam_series(
        "MR",
        f"{sequence} {plane}",
        None,
        None,
        series_uid=f"mr.{sequence}.{plane}",
        sequence=sequence,
        plane=plane,
        **headers,
    )


def complete() -> list[ProtocolSeries]:
    """A baseline that satisfies every requirement."""
    return [
        *(ct(phase) for phase in ("native", "arterial", "venous", "delayed")),
        mr("t2", "axial"),
        mr("t2", "coronal"),
        mr("t1", "axial"),
        mr("dwi", "axial"),
        mr("adc", "axial"),
    ]


def failed(result: ProtocolResult) -> set[str]:
    return {r.code for r in result.failures}


def replaced(series: list[ProtocolSeries], uid: str, **changes: object) -> list[ProtocolSeries]:
    return [dataclasses.replace(s, **changes) if s.series_uid == uid else s for s in series]  # type: ignore[arg-type]


def test_complete_baseline_passes_every_requirement() -> None:
    result = check_protocol(complete(), TACE_ON, PARAMS)
    assert result.status == "pass"
    assert result.passed
    assert result.parameters_version == PARAMS.version
    assert [r.status for r in result.requirements] == ["pass"] * len(result.requirements)
    codes = [r.code for r in result.requirements]
    assert codes == [
        "ct.present",
        "ct.phase.native", "ct.phase.arterial", "ct.phase.venous", "ct.phase.delayed",
        "ct.slices.native", "ct.slices.arterial", "ct.slices.venous", "ct.slices.delayed",
        "mr.present",
        "mr.field_strength",
        "mr.sequence.t2.axial", "mr.sequence.t2.coronal", "mr.sequence.t1.axial",
        "mr.sequence.dwi.axial", "mr.sequence.adc.any",
        "mr.dwi.b_values",
        "baseline_age.ct", "baseline_age.mr",
    ]  # fmt: skip
    assert result.requirement("ct.phase.arterial").series_uids == ("ct.arterial.2.5",)


@pytest.mark.parametrize("phase", ["native", "arterial", "venous", "delayed"])
def test_each_missing_ct_phase_fails_by_name(phase: str) -> None:
    series = [s for s in complete() if s.phase != phase]
    result = check_protocol(series, TACE_ON, PARAMS)
    assert failed(result) == {f"ct.phase.{phase}"}
    assert result.requirement(f"ct.slices.{phase}").status == "not_evaluated"
    assert "no CT series classified as" in result.requirement(f"ct.phase.{phase}").reason


@pytest.mark.parametrize(
    ("thickness", "interval", "status"),
    [
        (2.5, 2.5, "pass"),
        (2.505, 2.5, "pass"),  # within the 0.01 mm rounding tolerance
        (2.6, 2.5, "fail"),
        (2.5, 2.6, "fail"),
        (1.25, 0.625, "pass"),  # thin, overlapping reconstruction
        (5.0, 5.0, "fail"),
    ],
)
def test_ct_slice_thickness_and_interval_at_the_limit(
    thickness: float, interval: float, status: str
) -> None:
    series = [s for s in complete() if s.phase != "venous"] + [ct("venous", thickness, interval)]
    requirement = check_protocol(series, TACE_ON, PARAMS).requirement("ct.slices.venous")
    assert requirement.status == status
    if status == "fail":
        assert f"Abdomen venous {thickness}mm" in requirement.reason
        bad = thickness if thickness > 2.51 else interval
        assert f"{bad:g} mm > 2.5 mm" in requirement.reason


def test_a_thin_reconstruction_beside_a_thick_one_is_enough() -> None:
    series = [*complete(), ct("arterial", 5.0, 5.0)]
    requirement = check_protocol(series, TACE_ON, PARAMS).requirement("ct.slices.arterial")
    assert requirement.status == "pass"
    assert requirement.series_uids == ("ct.arterial.2.5",)


def test_unrecorded_thickness_is_not_evaluated_rather_than_passed() -> None:
    series = [s for s in complete() if s.phase != "native"] + [ct("native", thickness=None)]
    result = check_protocol(series, TACE_ON, PARAMS)
    requirement = result.requirement("ct.slices.native")
    assert requirement.status == "not_evaluated"
    assert "thickness not recorded" in requirement.reason
    assert result.status == "not_evaluated"
    assert not result.passed


@pytest.mark.parametrize(
    ("tesla", "status"),
    [
        (1.5, "pass"),
        (1.494, "pass"),
        (3.0, "pass"),
        (15000.0, "pass"),
        (1.0, "fail"),
        (1.4, "fail"),
    ],
)
def test_mr_field_strength_at_the_limit(tesla: float, status: str) -> None:
    series = replaced(complete(), "mr.t1.axial", field_strength_t=tesla)
    requirement = check_protocol(series, TACE_ON, PARAMS).requirement("mr.field_strength")
    assert requirement.status == status
    if status == "fail":
        assert requirement.series_uids == ("mr.t1.axial",)
        assert f"{tesla:g} T < 1.5 T" in requirement.reason


def test_field_strength_not_recorded_is_not_evaluated() -> None:
    series = [dataclasses.replace(s, field_strength_t=None) for s in complete()]
    requirement = check_protocol(series, TACE_ON, PARAMS).requirement("mr.field_strength")
    assert requirement.status == "not_evaluated"


def test_field_strength_in_gauss_is_converted() -> None:
    assert field_strength_tesla(15000.0) == pytest.approx(1.5)
    assert field_strength_tesla(3.0) == 3.0
    assert field_strength_tesla(None) is None


@pytest.mark.parametrize(
    ("uid", "code"),
    [
        ("mr.t2.axial", "mr.sequence.t2.axial"),
        ("mr.t2.coronal", "mr.sequence.t2.coronal"),
        ("mr.t1.axial", "mr.sequence.t1.axial"),
        ("mr.dwi.axial", "mr.sequence.dwi.axial"),
        ("mr.adc.axial", "mr.sequence.adc.any"),
    ],
)
def test_each_missing_mr_sequence_fails_by_name(uid: str, code: str) -> None:
    series = [s for s in complete() if s.series_uid != uid]
    result = check_protocol(series, TACE_ON, PARAMS)
    expected = {code}
    assert failed(result) == expected
    assert result.requirement(code).status == "fail"


def test_t2_in_the_wrong_plane_is_named() -> None:
    series = replaced(complete(), "mr.t2.coronal", plane="sagittal")
    requirement = check_protocol(series, TACE_ON, PARAMS).requirement("mr.sequence.t2.coronal")
    assert requirement.status == "fail"
    assert "is sagittal" in requirement.reason


def test_adc_in_any_plane_counts() -> None:
    series = replaced(complete(), "mr.adc.axial", plane="")
    assert check_protocol(series, TACE_ON, PARAMS).passed


def test_dwi_needs_two_b_values_or_an_adc_map() -> None:
    one_b = replaced(complete(), "mr.dwi.axial", b_values=(800.0,))
    assert check_protocol(one_b, TACE_ON, PARAMS).requirement("mr.dwi.b_values").passed
    without_adc = [s for s in one_b if s.sequence != "adc"]
    result = check_protocol(without_adc, TACE_ON, PARAMS)
    assert failed(result) == {"mr.sequence.adc.any", "mr.dwi.b_values"}
    assert "only b = 800" in result.requirement("mr.dwi.b_values").reason
    two_b = [s for s in complete() if s.sequence != "adc"]
    result = check_protocol(two_b, TACE_ON, PARAMS)
    assert result.requirement("mr.dwi.b_values").status == "pass"
    assert failed(result) == {"mr.sequence.adc.any"}  # the protocol still asks for the map
    unknown_b = replaced(two_b, "mr.dwi.axial", b_values=())
    status = check_protocol(unknown_b, TACE_ON, PARAMS).requirement("mr.dwi.b_values").status
    assert status == "not_evaluated"


@pytest.mark.parametrize(
    ("days_before", "status"), [(0, "pass"), (1, "pass"), (28, "pass"), (29, "fail")]
)
def test_baseline_age_at_the_limit(days_before: int, status: str) -> None:
    tace_on = CT_ON + dt.timedelta(days=days_before)
    series = [dataclasses.replace(s, series_on=CT_ON) for s in complete()]
    result = check_protocol(series, tace_on, PARAMS)
    requirement = result.requirement("baseline_age.ct")
    assert requirement.status == status
    assert f"is {days_before} day(s) before the TACE" in requirement.reason
    assert result.requirement("baseline_age.mr").status == status


def test_baseline_after_the_tace_fails() -> None:
    series = [dataclasses.replace(s, series_on=TACE_ON + dt.timedelta(days=1)) for s in complete()]
    requirement = check_protocol(series, TACE_ON, PARAMS).requirement("baseline_age.ct")
    assert requirement.status == "fail"
    assert "after the TACE" in requirement.reason


def test_ct_and_mr_ages_are_judged_separately() -> None:
    old_mr = [
        dataclasses.replace(s, series_on=TACE_ON - dt.timedelta(days=40))
        if s.modality == "MR"
        else s
        for s in complete()
    ]
    result = check_protocol(old_mr, TACE_ON, PARAMS)
    assert failed(result) == {"baseline_age.mr"}
    assert "40 day(s)" in result.requirement("baseline_age.mr").reason


def test_newest_baseline_before_the_tace_is_used() -> None:
    older = dataclasses.replace(
        ct("native"), series_uid="old", series_on=TACE_ON - dt.timedelta(days=60)
    )
    requirement = check_protocol([*complete(), older], TACE_ON, PARAMS).requirement(
        "baseline_age.ct"
    )
    assert requirement.status == "pass"
    assert "old" not in requirement.series_uids


def test_missing_tace_date_is_not_evaluated() -> None:
    result = check_protocol(complete(), None, PARAMS)
    assert result.requirement("baseline_age.ct").status == "not_evaluated"
    assert result.requirement("baseline_age.ct").reason == "no planned TACE date"
    assert result.requirement("baseline_age.ct").passed is None
    assert result.status == "not_evaluated"
    assert not result.failures


def test_missing_modality_fails_once_and_leaves_the_rest_not_evaluated() -> None:
    ct_only = [s for s in complete() if s.modality == "CT"]
    result = check_protocol(ct_only, TACE_ON, PARAMS)
    assert result.requirement("mr.present").status == "fail"
    assert result.requirement("mr.field_strength").status == "not_evaluated"
    assert result.requirement("baseline_age.mr").status == "not_evaluated"
    checked_alone = check_protocol(ct_only, TACE_ON, PARAMS, modalities={"CT"})
    assert checked_alone.passed
    assert not any(r.code.startswith("mr.") for r in checked_alone.requirements)


def test_result_to_json_round_trips_through_json() -> None:
    result = check_protocol(complete(), None, PARAMS)
    data = json.loads(json.dumps(result.to_json()))
    assert data["status"] == "not_evaluated"
    assert data["parameters"]["max_slice_thickness_mm"] == 2.5
    assert {r["code"] for r in data["requirements"]} >= {"ct.phase.native", "baseline_age.mr"}
    assert result.summary() == (
        "imaging protocol not fully checked: 17 passed, 0 failed, 2 not checked (parameters v1)"
    )


def test_slice_interval_from_positions() -> None:
    assert slice_interval_from_positions([10.0, 0.0, 5.0, 15.0]) == 5.0
    # a DWI series repeats each position once per b-value
    assert slice_interval_from_positions([0.0, 0.0, 2.5, 2.5, 5.0, 5.0]) == 2.5
    assert slice_interval_from_positions([0.0, 2.5, 5.0000001, 7.5]) == pytest.approx(2.5)
    assert slice_interval_from_positions([3.0]) is None
    assert slice_interval_from_positions([]) is None


def test_packaged_parameter_file_parses_with_a_source_for_every_value() -> None:
    data = json.loads(PARAMETER_FILE.read_text(encoding="utf-8"))
    params = ProtocolParameters.from_dict(data)
    assert params == dataclasses.replace(ProtocolParameters(), sources=params.sources)
    assert set(params.sources) == set(data["values"])
    assert params.max_slice_thickness_mm == 2.5
    assert params.baseline_max_age_days == 28
    assert ("adc", None) in params.required_mr


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["values"].pop("max_slice_thickness_mm"), "values.max_slice_thickness_mm"),
        (lambda d: d["values"]["min_field_strength_t"].update(value=-1), "min_field_strength_t"),
        (lambda d: d["values"]["baseline_max_age_days"].update(source=""), "source"),
        (lambda d: d["values"]["required_ct_phases"].update(value=["portal"]), "required_ct"),
        (lambda d: d["values"]["required_mr"].update(value=[["t3", "axial"]]), "required_mr[0]"),
        (lambda d: d.update(format="other"), "format"),
    ],
)
def test_invalid_parameter_files_name_the_field(
    change: Callable[[dict[str, Any]], object], field: str
) -> None:
    data = json.loads(PARAMETER_FILE.read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(InvalidInputError) as raised:
        ProtocolParameters.from_dict(data, origin="imaging_protocol.json")
    assert field in raised.value.field
    assert raised.value.field.startswith("imaging_protocol.json")
