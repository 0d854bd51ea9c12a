"""The JSON case record, one file per case, schema ``tace-planner-case/1``.

Keys: ``schema``, ``generator``, ``deidentified``, ``record_id``, ``case_id``, ``day_zero``
(what day 0 is), ``case`` (one object), ``lesion_timepoints``, ``procedures``,
``therapy_lines``, ``time_to_progression`` (lists of objects). Names, units and allowed
values of every field are those of the tidy CSV's data dictionary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tace_planner import __version__
from tace_planner.services.export.columns import cell
from tace_planner.services.export.record import CaseRecord, day_of
from tace_planner.services.export.tables import level_rows

SCHEMA = "tace-planner-case/1"


def case_json(record: CaseRecord, case_id: int) -> dict[str, Any]:
    """The JSON-ready record of one case."""

    def level(name: str) -> list[dict[str, Any]]:
        _, rows = level_rows([record], name, first_case_id=case_id)
        return [{k: v for k, v in row.items() if k not in ("record_id", "case_id")} for row in rows]

    ttp = []
    for row in record.ttp:
        item = {"after": row["after"], "start": row["start"], "scope": row["scope"]}
        item["start_day"] = day_of(record, row["start_on"])
        if not record.deidentified:
            item["start_on"] = cell(row["start_on"])
        item.update(days=row["days"], event=row["event"])
        ttp.append(item)
    return {
        "schema": SCHEMA,
        "generator": f"tace-planner {__version__}",
        "deidentified": record.deidentified,
        "record_id": record.record_id,
        "case_id": case_id,
        "day_zero": record.anchor,
        "case": level("case")[0],
        "lesion_timepoints": level("lesion_timepoint"),
        "procedures": level("procedure"),
        "therapy_lines": level("therapy_line"),
        "time_to_progression": ttp,
    }


def write_json(records: list[CaseRecord], folder: Path) -> list[Path]:
    """``case_<n>.json`` per case (n = the case's number in this export)."""
    written = []
    for number, record in enumerate(records, start=1):
        path = folder / f"case_{number:03d}.json"
        text = json.dumps(case_json(record, number), indent=2, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")
        written.append(path)
    return written
