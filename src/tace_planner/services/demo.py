"""The demo case: generate the phantom once, import it, open its treatment case."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from tace_planner.domain.progress import Progress, Task
from tace_planner.imaging.phantom import (
    PHANTOM_PATIENT_ID,
    PhantomSize,
    generate_phantom,
)
from tace_planner.services.cases import CaseService
from tace_planner.services.dto import CaseItem
from tace_planner.services.studies import ImportReport, StudyService

DEMO_CASE_TITLE = "NET liver metastases — DEBIRI course (demo)"
_MARKER = "phantom-parameters.json"


@dataclass(frozen=True, slots=True)
class DemoReport:
    """What preparing the demo did."""

    case: CaseItem
    imported: ImportReport
    generated: bool
    phantom_dir: Path


def _phantom_is_cached(folder: Path, parameters: dict[str, object]) -> bool:
    try:
        saved = json.loads((folder / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return saved == parameters and (folder / "truth.json").is_file()


def prepare_demo(
    studies: StudyService,
    cases: CaseService,
    folder: Path,
    *,
    size: PhantomSize = "full",
    seed: int = 0,
) -> Task[DemoReport]:
    """Make sure the demo patient and case exist; running it twice adds nothing.

    The phantom is generated into ``folder`` only when no phantom of the same
    size and seed is cached there, then imported through the ordinary import
    (known files are skipped), and its studies are linked to the demo case:
    studies up to the TACE date as baseline, later ones as follow-ups.

    Yields
    ------
    Progress
        Generation, then import.
    """
    parameters: dict[str, object] = {"size": size, "seed": seed, "generator": 1}
    generated = False
    if not _phantom_is_cached(folder, parameters):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        yield Progress(0, 0, "Generating the demo phantom")
        yield from generate_phantom(folder, size=size, seed=seed)
        (folder / _MARKER).write_text(json.dumps(parameters), encoding="utf-8")
        generated = True
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    tace_on = dt.date.fromisoformat(truth["tace_date"])
    imported = yield from studies.import_paths([folder])
    case = cases.find_case(PHANTOM_PATIENT_ID, DEMO_CASE_TITLE) or cases.create_case(
        PHANTOM_PATIENT_ID,
        DEMO_CASE_TITLE,
        planned_tace_on=tace_on,
        primary_site="small intestine (NET)",
        grade="G2",
    )
    cases.link_studies_by_date(case.pk, tace_on)
    refreshed = cases.find_case(PHANTOM_PATIENT_ID, DEMO_CASE_TITLE) or case
    return DemoReport(case=refreshed, imported=imported, generated=generated, phantom_dir=folder)
