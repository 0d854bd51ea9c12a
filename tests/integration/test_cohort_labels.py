"""The cohort names its cases by pseudonym (TP001 …, as a de-identified export of every case
does), never "case N" (a place in the case list) nor a Patient ID or name; the waterfall's
bars also carry Patient ID · case title for the app's identified view."""

from __future__ import annotations

import json

from tests.export_seed import NAMES, seed_registry
from tests.followup_seed import add_case

from tace_planner.cli import main
from tace_planner.services.export.cohort_plots import registry_waterfall
from tace_planner.services.export.cohort_registry import registry_cohort
from tace_planner.services.export.runner import export_cases


def _no_identity_and_no_place(text: str) -> None:
    assert "case 1" not in text
    assert "case 2" not in text
    assert "case 3" not in text
    for patient_id, name in NAMES.items():
        assert patient_id not in text
        assert name.split("^")[0] not in text


def test_rows_and_notes_name_cases_by_pseudonym(services) -> None:
    seed_registry(services)  # the case list sorts by patient name: EXP-0815 first
    data = registry_cohort(services, "tace_sequence")
    assert [row.text("patient") for row in data.rows] == ["TP001", "TP002"]
    assert data.notes  # the seeded registry has no liver contour: notes name cases
    assert all(note.startswith(("TP001: ", "TP002: ")) for note in data.notes)
    _no_identity_and_no_place("\n".join(data.notes))


def test_the_pseudonyms_match_a_deidentified_export_of_every_case(services, tmp_path) -> None:
    seed_registry(services)
    bars = registry_waterfall(services, registry_cohort(services, "tace_sequence"))
    mapping = tmp_path / "mapping.csv"
    export_cases(services, tmp_path / "out", "redcap", deidentify=True, mapping=mapping)
    rows = mapping.read_text(encoding="utf-8").splitlines()[1:]
    patient_of = dict(row.split(",") for row in rows)  # pseudonym → Patient ID
    assert {bar.label: patient_of[bar.label] for bar in bars} == {
        bar.label: bar.name.split(" · ")[0] for bar in bars
    }
    assert sorted(patient_of) == ["TP001", "TP002"]


def test_a_patient_with_two_cases_has_one_pseudonym_and_two_courses(services) -> None:
    from tace_planner.services.export.cohort_registry import case_labels

    seed_registry(services)
    add_case(services.session_factory, "EXP-0815")  # a second course of the first patient
    labels = case_labels(services.cases.list_cases())
    names = sorted(label.pseudonym for label in labels.values())
    assert names == ["TP001 (course 1)", "TP001 (course 2)", "TP002"]


def test_waterfall_bars_carry_pseudonym_and_patient_and_title(services) -> None:
    seed_registry(services)
    data = registry_cohort(services, "tace_sequence")
    bars = registry_waterfall(services, data)
    assert [(bar.label, bar.name) for bar in bars] == [
        ("TP001", "EXP-0815 · DEBIRI course"),
        ("TP002", "EXP-4711 · DEBIRI course"),
    ]


def test_cohort_tables_json_notes_use_pseudonyms(services, capsys) -> None:
    seed_registry(services)
    services.close()
    argv = ["--data-dir", str(services.settings.data_dir), "cohort", "tables",
            "--group", "tace_sequence", "--json"]  # fmt: skip
    assert main(argv) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any(note.startswith("TP002: ") for note in notes)
    _no_identity_and_no_place("\n".join(notes))
