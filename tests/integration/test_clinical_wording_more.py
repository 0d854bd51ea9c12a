"""Clinical wording of a few refusals and notes: what a clinician reads names things as
people know them, with no internal placeholder ("REASON NEEDED") or database key.

- a difference from the plan without a reason (procedure ``show`` and the procedure note);
- a series whose removal is refused (by its number, description, modality and phase);
- a bead catalogue that cannot be read (one line naming the file and the problem).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from followup_seed import add_case
from tace_planner.cli import main
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.procedure import ProcedureFieldError
from tace_planner.services.procedures import ProcedureService
from tace_planner.services.study_removal import SeriesHasMeasurements
from tace_planner.store.models import (
    AnnotationRow,
    LesionRow,
    PatientRow,
    SegmentationRow,
    SeriesRow,
    StudyRow,
    TimepointRow,
)

pytestmark = pytest.mark.db

D = dt.date
UNPLANNED = {
    "performed_on": "2026-03-16", "operator": "Dr A", "lot": "L1", "expiry": "2030-01-01",
    "endpoint": "near-stasis", "product_code": "dc_bead", "vials": 1, "loaded_mg": 100.0,
    "delivered_fraction": 1.0,
}  # fmt: skip
PLACEHOLDERS = ("REASON NEEDED", "NEEDED", "NOT FOUND")


@pytest.fixture
def unexplained(services: Any) -> tuple[Path, int]:
    """A data folder with a draft unplanned TACE whose difference ("no plan") has no reason."""
    case = add_case(services.session_factory, "N1")
    item = ProcedureService(services.session_factory, "dr ir").log(case, UNPLANNED)
    assert [(d.key, d.reason) for d in item.differences] == [("plan", "")]
    return services.settings.data_dir, item.pk


def test_procedure_show_words_a_difference_without_reason_for_people(
    unexplained: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    data, pk = unexplained
    assert main(["--data-dir", str(data), "procedure", "show", str(pk)]) == 0
    out = capsys.readouterr().out
    assert "(no reason recorded yet: needed before signing)" in out
    for word in PLACEHOLDERS:
        assert word not in out
    # the JSON is a contract: same keys, the reason empty
    assert main(["--data-dir", str(data), "procedure", "show", str(pk), "--json"]) == 0
    [difference] = json.loads(capsys.readouterr().out)["differences"]
    assert set(difference) == {"field", "label", "planned", "actual", "reason"}
    assert (difference["field"], difference["reason"]) == ("plan", "")


def test_the_procedure_note_flags_a_missing_reason_in_clinical_words(
    services: Any, unexplained: tuple[Path, int]
) -> None:
    pytest.importorskip("PySide6")
    from tace_planner.ui.procedure_note import MISSING_REASON_COLOUR, procedure_note_html

    _, pk = unexplained
    draft = services.procedures.get(pk)
    text = procedure_note_html(draft)
    flagged = f"<font color='{MISSING_REASON_COLOUR}'><b>No reason recorded yet (needed before"
    assert flagged in text
    for word in PLACEHOLDERS:
        assert word not in text
    # signing refuses an unexplained difference; a record signed before that rule says so
    signed = procedure_note_html(dataclasses.replace(draft, status="signed"))
    assert f"<font color='{MISSING_REASON_COLOUR}'><b>No reason recorded</b></font>" in signed
    assert "needed before signing" not in signed
    explained = dataclasses.replace(
        draft, differences=(dataclasses.replace(draft.differences[0], reason="emergency"),)
    )
    assert "reason: emergency" in procedure_note_html(explained)


def _series_with_a_ruler_and_a_contour(factory: Any) -> None:
    """Series 3 "Abdomen arterial" (a ruler), a bare series (a ruler), series 5 (a contour)."""
    case = add_case(factory, "R1", baseline_on=D(2026, 3, 2))
    with factory() as session:
        patient = session.query(PatientRow).filter_by(patient_id="R1").one()
        study = StudyRow(patient=patient, study_uid="1.2.R1.9", study_on=D(2026, 3, 2))
        named = SeriesRow(study=study, series_uid="1.2.R1.9.3", modality="CT",
                          description="Abdomen arterial", series_number=3, phase="arterial",
                          series_on=D(2026, 3, 2))  # fmt: skip
        bare = SeriesRow(study=study, series_uid="1.2.R1.9.7", modality="CT")
        contoured = SeriesRow(study=study, series_uid="1.2.R1.9.5", modality="CT",
                              description="Portal venous 1.0", series_number=5,
                              phase="venous")  # fmt: skip
        session.add_all([study, named, bare, contoured])
        session.flush()
        for series in (named, bare):
            session.add(AnnotationRow(series_pk=series.id, kind="ruler", label="F1 long axis",
                                      values={"length_mm": 20.0}))  # fmt: skip
        lesion = LesionRow(case_pk=case, name="F1")
        timepoint = session.query(TimepointRow).filter_by(case_pk=case).one()
        session.add(lesion)
        session.flush()
        session.add(SegmentationRow(lesion_pk=lesion.id, timepoint_pk=timepoint.id,
                                    series_pk=contoured.id, mask_packed=b"\0"))  # fmt: skip
        session.commit()


def test_a_refused_series_removal_names_the_series_as_users_know_it(services: Any) -> None:
    _series_with_a_ruler_and_a_contour(services.session_factory)

    with pytest.raises(SeriesHasMeasurements) as caught:
        services.studies.remove_series("1.2.R1.9.3")
    message = str(caught.value)
    assert message.startswith(
        'Series 3 "Abdomen arterial" (CT, arterial phase, 2026-03-02): has 1 measurement(s)'
    )
    assert "F1 long axis" in message
    assert "1.2.R1.9.3" not in message
    assert caught.value.series_uid == "1.2.R1.9.3"  # kept for the command line

    with pytest.raises(InvalidInputError) as caught:
        services.studies.remove_series("1.2.R1.9.5")
    message = str(caught.value)
    assert message.startswith(
        'Series 5 "Portal venous 1.0" (CT, portal venous phase): has 1 contour(s)'
    )
    assert "1.2.R1.9.5" not in message

    # neither number nor description: the UID is all there is
    with pytest.raises(SeriesHasMeasurements) as caught:
        services.studies.remove_series("1.2.R1.9.7")
    assert str(caught.value).startswith("Series with UID 1.2.R1.9.7 (CT): has 1 measurement(s)")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"format": ', "not valid JSON"),
        (
            '{"format": "tace-planner-bead-catalogue/1", "version": "1", "products": []}',
            "products: must be a non-empty list",
        ),
    ],
)
def test_an_unreadable_bead_catalogue_is_said_in_one_line_naming_the_file(
    services: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, problem: str
) -> None:
    from tace_planner.services import planning_parameters

    broken = tmp_path / "bead_catalogue.json"
    broken.write_text(content, encoding="utf-8")
    monkeypatch.setattr(
        planning_parameters,
        "_packaged_catalogue",
        lambda: planning_parameters.load_bead_catalogue(broken),
    )

    with pytest.raises(ProcedureFieldError) as caught:
        services.procedures.products()

    message = str(caught.value)
    assert caught.value.key == "product_code"
    assert message.startswith("Product: no bead product to choose from")
    assert "bead_catalogue.json" in message
    assert problem in message
    assert "\n" not in message
