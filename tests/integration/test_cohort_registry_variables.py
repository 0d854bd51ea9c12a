"""The registry's cohort rows carry F, the sums of diameters, the delivered dose, the number
of procedures, the worst AE grade and the best response, computed by hand here from the
seeded registry (tests/export_seed.py); what the registry lacks stays empty with a note."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tests.export_seed import _follow_up, seed_registry
from tests.followup_seed import TODAY, add_case, add_measurement, clock

from tace_planner.cli import main
from tace_planner.services.export.cohort_registry import registry_cohort
from tace_planner.services.procedures import ProcedureService
from tace_planner.store.models import LesionRow

START = dt.date(2025, 3, 4)  # case 1's TACE 1 (seed_registry)
NEW = ("burden_percent", "diameter_sum_before_mm", "diameter_sum_change_percent",
       "delivered_irinotecan_mg", "n_procedures")  # fmt: skip


def _sign_with_adverse_event(factory, case_pk: int, on: dt.date) -> None:
    procedures = ProcedureService(factory, "dr ir", clock=clock(max(on, TODAY)))
    item = procedures.log(
        case_pk,
        {"performed_on": on.isoformat(), "operator": "Dr A", "lot": "L1",
         "expiry": "2030-01-01", "endpoint": "near-stasis", "product_code": "dc_bead",
         "vials": 1, "loaded_mg": 100.0, "delivered_fraction": 0.5, "lidocaine_mg": 40,
         "difference_reasons": {"plan": "treated without a plan"},
         "adverse_events": [{"term": "Abdominal pain", "ctcae_grade": 3, "cirse_grade": 2,
                             "onset_day": 1}]},
    )  # fmt: skip
    procedures.sign(item.pk)


@pytest.fixture
def registry(services):
    """Case 1: liver 1000 cm³, F2 measured again (9 mm), a 2nd TACE (50 mg, AE grade 3).
    Case 2: as seeded (no liver, F2 not measured after TACE, one TACE without AE)."""
    case_1, _ = seed_registry(services)
    factory = services.session_factory
    add_measurement(factory, case_1, "1.2.EXP-4711.8", 'F2, "cyst"', 2.0, 9.0)
    add_measurement(factory, case_1, "1.2.EXP-4711.0", "Liver", 1000.0, 150.0)
    with factory() as session:
        liver = session.query(LesionRow).filter_by(case_pk=case_1, name="Liver").one()
        liver.kind, liver.is_target = "liver", False
        session.commit()
    _sign_with_adverse_event(factory, case_1, START + dt.timedelta(days=70))
    return services


def test_registry_rows_hold_the_treatment_and_response_values(registry) -> None:
    data = registry_cohort(registry, "tace_sequence")
    by_sequence = {row.values["tace_sequence"]: row for row in data.rows}
    one, two = (by_sequence[k].values for k in ("after_chemotherapy", "immediate"))
    second = by_sequence["immediate"].text("patient")  # the case list sorts by patient ID
    assert one["burden_percent"] == pytest.approx((12.5 + 3.0) / 1000.0 * 100)  # F1 + F2
    assert one["diameter_sum_before_mm"] == 31.0 + 15.0
    assert one["diameter_sum_after_mm"] == 27.5 + 9.0
    assert one["diameter_sum_change_percent"] == pytest.approx((36.5 - 46.0) / 46.0 * 100)
    assert one["delivered_irinotecan_mg"] == 100.0 + 50.0
    assert one["n_procedures"] == 2.0
    assert one["worst_ae_grade"] == "3"
    assert one["best_response"] == "SD"  # −20.7 %, 66 days from baseline
    # case 2: missing stays missing, never 0
    assert two["burden_percent"] is None
    assert two["diameter_sum_before_mm"] == 31.0 + 15.0
    assert two["diameter_sum_after_mm"] is None
    assert two["diameter_sum_change_percent"] is None
    assert two["delivered_irinotecan_mg"] == 100.0
    assert two["n_procedures"] == 1.0
    assert two["worst_ae_grade"] == "none"
    assert two["best_response"] == "NE"  # a target not measured at the follow-up
    notes = "\n".join(data.notes)
    assert f"{second}: the liver is not contoured at baseline: no tumour burden F" in notes
    assert f"{second}: target diameter not measured after TACE 1" in notes
    assert notes.count("no tumour burden F") == 1


def test_cohort_json_has_the_new_variables_and_counts(registry, capsys) -> None:
    argv = ["--data-dir", str(registry.settings.data_dir), "cohort", "tables",
            "--group", "tace_sequence", "--json"]  # fmt: skip
    assert main(argv) == 0
    tables = json.loads(capsys.readouterr().out)
    for name in NEW:
        entry = tables["variables"][name]
        assert set(entry) >= {"label", "groups", "p", "test", "statistic"}
        for group in entry["groups"].values():
            assert set(group) >= {"median", "q1", "q3", "n"}
    dose = tables["variables"]["delivered_irinotecan_mg"]
    assert dose["groups"]["after_chemotherapy"]["median"] == 150.0
    assert dose["groups"]["immediate"]["median"] == 100.0
    assert dose["test"] == "Mann–Whitney U"
    burden = tables["variables"]["burden_percent"]["groups"]
    assert burden["immediate"]["n"] == 0
    assert burden["immediate"]["median"] is None
    response = tables["counts"]["best_response"]
    assert response["levels"] == ["SD", "NE"]  # clinical order, absent levels left out
    assert response["table"] == {"after_chemotherapy": {"SD": 1, "NE": 0},
                                 "immediate": {"SD": 0, "NE": 1}}  # fmt: skip
    assert response["percent"]["after_chemotherapy"] == {"SD": 100.0, "NE": 0.0}
    assert response["test"] == "Fisher exact"
    assert response["p"] == pytest.approx(1.0)  # fisher.test(matrix(c(1, 0, 0, 1), 2))
    grades = tables["counts"]["worst_ae_grade"]
    assert grades["levels"] == ["none", "3"]
    assert grades["table"]["after_chemotherapy"] == {"none": 0, "3": 1}


def test_a_case_without_baseline_or_procedure_stays_empty(services) -> None:
    seed_registry(services)
    factory = services.session_factory
    case = add_case(factory, "EXP-9999")  # no baseline imaging, no TACE
    _follow_up(factory, case, "EXP-9999", "1.2.EXP-9999.8", START, 1)
    add_measurement(factory, case, "1.2.EXP-9999.8", "F1", 20.0, 40.0)
    data = registry_cohort(services, "tace_sequence")
    row = next(r for r in data.rows if r.values["delivered_irinotecan_mg"] is None)
    for name in ("burden_percent", "diameter_sum_before_mm", "n_procedures", "worst_ae_grade",
                 "best_response"):  # fmt: skip
        assert row.values[name] is None, name  # the SDTM export writes no RS for it either
    patient = row.text("patient")
    notes = "\n".join(data.notes)
    assert f"{patient}: no signed TACE procedure: no dose, count or AE grade" in notes
    assert f"{patient}: no best overall response" in notes


def test_the_cohort_writes_no_file_outside_the_data_folder(registry, tmp_path, monkeypatch) -> None:
    """The best responses come from the SDTM tables built in memory: nothing goes to the
    system's temporary folder (a file outside the data folder, even for a moment)."""
    import tempfile

    spare = tmp_path / "system-temp"
    spare.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare))
    created: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def spy(*args, **kwargs):
        created.append(real_mkdtemp(*args, **kwargs))
        return created[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", spy)
    data = registry_cohort(registry, "tace_sequence")
    assert any(row.values["best_response"] for row in data.rows)
    assert created == []
    assert list(spare.iterdir()) == []
