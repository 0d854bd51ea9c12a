"""The demo case: generate the phantom once, import it, open its treatment case."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tace_planner.domain.progress import Progress, Task
from tace_planner.imaging.phantom import (
    PHANTOM_PATIENT_ID,
    PhantomSize,
    generate_phantom,
)
from tace_planner.services.cases import CaseService
from tace_planner.services.dto import CaseItem
from tace_planner.services.studies import ImportReport, StudyService

if TYPE_CHECKING:
    from tace_planner.services.contouring import ContouringService

DEMO_CASE_TITLE = "NET liver metastases — DEBIRI course (demo)"
DEMO_LIVER_SEED_LPS = (-95.0, 0.0, 20.0)
"""A click in the right lobe's parenchyma, away from foci and vessels (baseline frame)."""
_MARKER = "phantom-parameters.json"


@dataclass(frozen=True, slots=True)
class DemoReport:
    """What preparing the demo did."""

    case: CaseItem
    imported: ImportReport
    generated: bool
    phantom_dir: Path
    contoured: int = 0
    """Lesions contoured by this run (0: none, or the case was contoured before)."""


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
    contouring: ContouringService | None = None,
) -> Task[DemoReport]:
    """Make sure the demo patient and case exist; running it twice adds nothing.

    The phantom is generated into ``folder`` only when no phantom of the same
    size and seed is cached there, then imported through the ordinary import
    (known files are skipped), and its studies are linked to the demo case:
    studies up to the TACE date as baseline, later ones as follow-ups. With
    ``contouring``, the baseline is then contoured by the app's own tools from
    seeds (see :func:`contour_demo`), unless the case has lesions already.

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
    contoured = 0
    if contouring is not None:
        contoured = yield from contour_demo(contouring, refreshed.pk, truth)
    return DemoReport(
        case=refreshed,
        imported=imported,
        generated=generated,
        phantom_dir=folder,
        contoured=contoured,
    )


def contour_demo(contouring: ContouringService, case_pk: int, truth: dict[str, Any]) -> Task[int]:
    """Contour the demo case's baseline from seeds, as a user would; return the lesion count.

    The liver from one click in the right lobe's parenchyma, then every
    baseline focus from a click at its centre (the phantom's truth), all on the
    baseline portal-venous CT; each is measured, so the plan has a burden. A
    case that has lesions already is left alone (running the demo twice adds
    nothing).
    """
    if contouring.list_lesions(case_pk):
        return 0
    baseline = truth["timepoints"][0]
    venous = next(s["series_uid"] for s in baseline["series"] if s["folder"] == "CT_venous")
    offset = baseline.get("patient_offset_lps_mm") or (0.0, 0.0, 0.0)
    foci = baseline["foci"]
    total = len(foci) + 2
    yield Progress(0, total, "Loading the baseline venous CT")
    contouring.volume(venous)
    yield Progress(1, total, "Contouring the liver")
    seed = tuple(float(a) + float(b) for a, b in zip(DEMO_LIVER_SEED_LPS, offset, strict=True))
    contouring.contour_liver(case_pk, venous, seed)
    for number, focus in enumerate(foci, start=2):
        yield Progress(number, total, f"Contouring {focus['name']}")
        contouring.auto_contour(
            case_pk,
            venous,
            focus["center_lps_mm"],
            lesion=focus["name"],
            couinaud_segment=focus.get("couinaud_segment"),
        )
    yield Progress(total, total, "Demo case contoured")
    return len(foci) + 1
