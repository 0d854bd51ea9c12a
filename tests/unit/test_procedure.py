"""The procedure record's pure rules: delivered dose, validation, differences, risk factors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tace_planner.domain.procedure import (
    AdverseEvent,
    PlannedSession,
    ProcedureFieldError,
    RecordContext,
    check_record,
    delivered_dose_mg,
    loaded_dose_mg,
    missing_to_sign,
    parse_adverse_event,
    plan_differences,
    prefill_from_session,
    record_from_json,
    validate_record,
    with_reasons,
)
from tace_planner.domain.procedure_risk import (
    CIRSE_GRADES,
    CTCAE_GRADES,
    CourseContext,
    ProcedureParameters,
    risk_factors,
)

PARAMETERS_FILE = Path(__file__).parents[2] / "resources" / "parameters" / "procedure.json"
TODAY = dt.date(2026, 4, 1)
CONTEXT = RecordContext(today=TODAY, baseline_on=dt.date(2026, 3, 2))
SESSION = PlannedSession(
    plan_pk=7,
    plan_version=1,
    number=1,
    territory_label="right lobe (V–VIII)",
    segments=("VI", "VIII"),
    product_code="dc_bead",
    product_name="DC Bead",
    vials=2,
    vial_loads_mg=(100.0, 100.0),
    loaded_mg=200.0,
    expected_delivered_mg=200.0,
    interval_days=21,
)
INTERNAL_WORDING = ("clinical-reference", "§", "[D]", "[S]", "NOT FOUND")


@pytest.fixture(scope="module")
def params() -> ProcedureParameters:
    return ProcedureParameters.from_dict(json.loads(PARAMETERS_FILE.read_text("utf-8")))


def test_delivered_is_loaded_times_fraction_and_kept_apart_from_loaded() -> None:
    record = prefill_from_session(SESSION, delivered_fraction=0.6, performed_on="2026-03-16")
    assert loaded_dose_mg(record) == 200.0
    assert delivered_dose_mg(record) == pytest.approx(120.0)
    assert record.loaded_mg == 200.0  # the loaded dose is never overwritten


def test_delivered_per_vial_wins_over_the_fraction() -> None:
    record = record_from_json(
        {"vials": 2, "loaded_per_vial_mg": [100, 100], "delivered_per_vial_mg": [100, 35]}
    )
    assert delivered_dose_mg(record) == pytest.approx(135.0)
    assert loaded_dose_mg(record) == pytest.approx(200.0)


def test_nothing_is_delivered_without_a_fraction() -> None:
    assert delivered_dose_mg(record_from_json({"loaded_mg": 100})) is None


@given(
    loaded=st.floats(0, 400, allow_nan=False),
    fraction=st.floats(0, 1, allow_nan=False),
)
def test_delivered_never_exceeds_loaded(loaded: float, fraction: float) -> None:
    record = record_from_json({"loaded_mg": loaded, "delivered_fraction": fraction})
    delivered = delivered_dose_mg(record)
    assert delivered is not None
    assert 0 <= delivered <= loaded + 1e-9
    assert not [p for p in check_record(record, CONTEXT) if p.kind == "impossible"]


@pytest.mark.parametrize(
    ("values", "key", "label"),
    [
        ({"delivered_fraction": 1.2}, "delivered_fraction", "Delivered fraction"),
        ({"delivered_fraction": -0.1}, "delivered_fraction", "Delivered fraction"),
        ({"performed_on": "2026-03-01"}, "performed_on", "Date of the procedure"),
        ({"performed_on": "2026-04-02"}, "performed_on", "Date of the procedure"),
        (
            {"performed_on": "2026-03-16", "lot": "L1", "expiry": "2026-03-15"},
            "expiry",
            "Expiry date",
        ),
        ({"loaded_mg": -100}, "loaded_mg", "Irinotecan loaded (mg)"),
        ({"lidocaine_mg": -5}, "lidocaine_mg", "Intra-arterial lidocaine (mg)"),
        ({"vials": 2, "loaded_per_vial_mg": [100, -1]}, "loaded_per_vial_mg", None),
        ({"vials": 2, "loaded_per_vial_mg": [100]}, "loaded_per_vial_mg", None),
        ({"start_time": "10:00", "end_time": "09:00"}, "end_time", "End time"),
        ({"endpoint": "flood"}, "endpoint", "End point"),
        ({"loaded_mg": 100, "delivered_per_vial_mg": [150]}, "delivered_per_vial_mg", None),
        ({"vessels": [{"artery": "RHA", "segments": ["IX"]}]}, "vessels", "Vessels treated"),
    ],
)
def test_impossible_values_are_refused_naming_the_field(
    values: dict, key: str, label: str | None
) -> None:
    record = record_from_json(values)
    with pytest.raises(ProcedureFieldError) as caught:
        validate_record(record, CONTEXT, confirm_implausible=True)
    assert caught.value.key == key
    if label:
        assert caught.value.field == label
        assert str(caught.value).startswith(label)


def test_not_a_date_or_number_names_the_field() -> None:
    with pytest.raises(ProcedureFieldError) as caught:
        record_from_json({"performed_on": "16/03/2026"})
    assert caught.value.key == "performed_on"
    with pytest.raises(ProcedureFieldError) as caught:
        record_from_json({"loaded_mg": "lots"})
    assert caught.value.key == "loaded_mg"


def test_implausible_values_need_confirming() -> None:
    record = record_from_json({"fluoroscopy_min": 400})
    with pytest.raises(ProcedureFieldError) as caught:
        validate_record(record, CONTEXT)
    assert caught.value.key == "fluoroscopy_min"
    confirmed = validate_record(record, CONTEXT, confirm_implausible=True)
    assert [p.key for p in confirmed] == ["fluoroscopy_min"]


def test_expiry_on_the_day_is_allowed() -> None:
    record = record_from_json({"performed_on": "2026-03-16", "expiry": "2026-03-16"})
    assert check_record(record, CONTEXT) == []


def test_adverse_events_parse_and_grade_ranges() -> None:
    assert parse_adverse_event("Abdominal pain:2") == AdverseEvent("Abdominal pain", 2)
    assert parse_adverse_event("Fever:1:2:1") == AdverseEvent("Fever", 1, 2, 1)
    for text in ("Pain", "Pain:6", "Pain:2:7", "Pain:x", ":2"):
        with pytest.raises(ProcedureFieldError) as caught:
            parse_adverse_event(text)
        assert caught.value.key == "adverse_events"
    assert sorted(CIRSE_GRADES) == [1, 2, 3, 4, 5, 6]
    assert sorted(CTCAE_GRADES) == [1, 2, 3, 4, 5]


def test_differences_from_the_plan_need_reasons() -> None:
    same = prefill_from_session(SESSION)
    assert plan_differences(same, SESSION) == ()
    changed = same.changed(vials=1, loaded_per_vial_mg=[100], loaded_mg=100, product_code="x")
    keys = [d.key for d in plan_differences(changed, SESSION)]
    assert keys == ["product_code", "vials", "loaded_mg"]
    explained = with_reasons(changed, {"vials": "one vial sufficed", "loaded_mg": "same"})
    reasons = {d.key: d.reason for d in plan_differences(explained, SESSION)}
    assert reasons == {"product_code": "", "vials": "one vial sufficed", "loaded_mg": "same"}
    (unplanned,) = plan_differences(record_from_json({}), None)
    assert unplanned.key == "plan"


def test_a_record_needs_its_key_fields_to_be_signed() -> None:
    assert set(missing_to_sign(record_from_json({}))) >= {
        "performed_on",
        "operator",
        "lot",
        "expiry",
        "endpoint",
        "loaded_mg",
        "delivered_fraction",
    }


def test_record_round_trips_through_json() -> None:
    record = prefill_from_session(
        SESSION,
        performed_on="2026-03-16",
        start_time="09:05",
        adverse_events=[AdverseEvent("Nausea", 1, 1, 0).to_json()],
        difference_reasons={"vials": "x"},
    )
    assert record_from_json(json.loads(json.dumps(record.to_json()))) == record


def test_risk_factors_apply_with_their_sources(params: ProcedureParameters) -> None:
    calm = record_from_json(
        {"performed_on": "2026-03-16", "loaded_mg": 100, "delivered_fraction": 1.0,
         "endpoint": "near-stasis", "lidocaine_mg": 40, "bilirubin_mg_dl": 0.8}
    )  # fmt: skip
    assert risk_factors(calm, CourseContext(1), params) == ()
    risky = calm.changed(loaded_mg=200, endpoint="stasis", lidocaine_mg=None, bilirubin_mg_dl=2.5)
    course = CourseContext(3, previous_on=dt.date(2026, 3, 2), planned_interval_days=21)
    found = {r.code: r for r in risk_factors(risky, course, params)}
    assert set(found) == {
        "risk.delivered_above_limit",
        "risk.complete_stasis",
        "risk.procedure_count",
        "risk.no_ia_lidocaine",
        "risk.bilirubin",
        "risk.short_interval",
    }
    assert "Martin, Cardiovasc Intervent Radiol 2010" in found["risk.complete_stasis"].source
    assert "Szemitko, J Clin Med 2021" in found["risk.short_interval"].source
    assert "14 days" in found["risk.short_interval"].message
    # exactly 100 mg delivered is not above the limit
    assert "risk.delivered_above_limit" not in {
        r.code for r in risk_factors(risky.changed(loaded_mg=100), course, params)
    }


def test_text_a_clinician_reads_cites_publications(params: ProcedureParameters) -> None:
    risky = record_from_json({"performed_on": "2026-03-16", "loaded_mg": 200,
                              "delivered_fraction": 1, "endpoint": "stasis"})  # fmt: skip
    texts = [f"{r.message} {r.source}" for r in risk_factors(risky, CourseContext(4), params)]
    texts += [params.cite(name) for name in params.values]
    for text in texts:
        for word in INTERNAL_WORDING:
            assert word not in text, (word, text)
    assert all(("20" in t and "," in t) or "institutional" in t for t in texts)


def test_parameter_file_is_strict() -> None:
    data = json.loads(PARAMETERS_FILE.read_text("utf-8"))
    data["values"]["bilirubin_limit_mg_dl"]["value"] = -2
    with pytest.raises(ValueError, match="bilirubin_limit_mg_dl"):
        ProcedureParameters.from_dict(data)
    data = json.loads(PARAMETERS_FILE.read_text("utf-8"))
    data["values"]["typo"] = {"value": 1, "source": "x"}
    with pytest.raises(ValueError, match="typo"):
        ProcedureParameters.from_dict(data)
