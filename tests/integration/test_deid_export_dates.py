"""De-identified exports keep what the export dialog promises; SDTM results are written to
the precision measured; an output folder whose parents are missing is made (and taken
back when the export stops)."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from tests.export_seed import seed_registry

from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.export import runner
from tace_planner.services.export.record import CaseRecord
from tace_planner.services.export.runner import export_cases, export_task
from tace_planner.services.export.sdtm import sdtm_tables

ISO_DATE = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b")
D = dt.date


@pytest.fixture
def registry(services: Any) -> Any:
    seed_registry(services)
    return services


def _lesion(visit: str, on: dt.date, diameter: float, volume: float) -> dict[str, Any]:
    return {"lesion": "F1", "lesion_kind": "focus", "is_target": True, "visit": visit,
            "imaged_on": on, "longest_axial_diameter_mm": diameter,
            "volume_cm3": volume}  # fmt: skip


def test_sdtm_results_are_rounded_to_the_precision_measured() -> None:
    record = CaseRecord(
        record_id="TP001", case_pk=7, patient_id="", patient_name="", birth_on=None,
        anchor_on=D(2025, 3, 4), anchor="first TACE",
        case={"first_tace_on": D(2025, 3, 4), "sex": "F", "age_at_anchor_years": 61},
        lesions=[_lesion("baseline", D(2025, 2, 22), 53.959722796159916, 12.345678),
                 _lesion("follow-up 1", D(2025, 4, 29), 27.04999, 0.1 + 0.2)],
        procedures=[], therapy_lines=[], ttp=[],
    )  # fmt: skip
    header, rows = sdtm_tables([record])["tr"]
    code, value = header.index("TRTESTCD"), header.index("TRSTRESN")
    original = header.index("TRORRES")
    written = [(r[code], r[value], r[original]) for r in rows]
    assert written == [
        ("LDIAM", "54", "54"), ("VOLUME", "12.35", "12.35"),
        ("LDIAM", "27", "27"), ("VOLUME", "0.3", "0.3"),
    ]  # fmt: skip


def test_deidentified_sdtm_says_its_dates_are_shifted_and_the_day_formats_hold_none(
    registry: Any, tmp_path: Path
) -> None:
    sdtm = export_cases(registry, tmp_path / "sdtm", "sdtm", deidentify=True)
    assert any(note.startswith("SDTM de-identified: every date is moved") for note in sdtm.notes)
    assert runner.DATED_FORMATS == ("sdtm", "seg")
    assert any(ISO_DATE.search(p.read_text(encoding="utf-8")) for p in sdtm.files)
    for fmt in ("csv", "json", "redcap"):
        result = export_cases(registry, tmp_path / fmt, fmt, deidentify=True)
        assert runner.SDTM_DATES_NOTE not in result.notes
        for path in result.files:
            assert not ISO_DATE.search(path.read_text(encoding="utf-8")), (fmt, path.name)


def test_an_output_folder_with_missing_parents_is_made(registry: Any, tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "out"
    result = export_cases(registry, out, "csv", deidentify=True)
    assert result.folder == out.resolve()
    with (out / "case.csv").open(encoding="utf-8", newline="") as handle:
        assert [row["record_id"] for row in csv.DictReader(handle)] == ["TP001", "TP002"]


def test_a_cancelled_export_takes_back_the_parents_it_made(registry: Any, tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "out"
    task = export_task(registry, out, "csv")
    steps = [next(task) for _ in range(4)]  # two cases read, writing, written
    assert out.is_dir()
    assert steps[-1].done == steps[-1].total
    task.close()  # cancelled at the last step
    assert not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_file_in_the_output_path_is_refused_in_one_line(registry: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "report.txt"
    blocker.write_text("mine", encoding="utf-8")
    with pytest.raises(InvalidInputError) as raised:
        export_cases(registry, blocker / "sub" / "out", "csv")
    assert raised.value.field == "OUT"
    assert f"{blocker} is a file" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert blocker.read_text(encoding="utf-8") == "mine"
