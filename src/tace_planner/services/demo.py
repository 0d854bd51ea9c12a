"""The demo case: generate the phantom once, import it, open its treatment case."""

from __future__ import annotations

import datetime as dt
import json
import logging
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
from tace_planner.services.contouring_dto import LIVER_LESION_NAME
from tace_planner.services.dto import CaseItem
from tace_planner.services.studies import ImportReport, StudyService

if TYPE_CHECKING:
    from tace_planner.services.contouring import ContouringService

DEMO_CASE_TITLE = "NET liver metastases — DEBIRI course (demo)"
DEMO_LIVER_SEED_LPS = (-95.0, 0.0, 20.0)
"""A click in the right lobe's parenchyma, away from foci and vessels (baseline frame)."""
_MARKER = "phantom-parameters.json"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoReport:
    """What preparing the demo did."""

    case: CaseItem
    imported: ImportReport
    generated: bool
    phantom_dir: Path
    contoured: int = 0
    """Lesions contoured by this run (0: none, or the case was contoured before)."""
    kept_lesions: tuple[str, ...] = ()
    """The case's lesions when it was changed since the demo contoured it: left as they were."""
    note: str = ""
    """What this run left as it was, for the user in one line ("" when nothing): the
    series a user removed, then the lesions of a case changed since the demo contoured it."""
    removed_series: tuple[str, ...] = ()
    """Demo series a user removed (descriptions): left out of the import, not brought back."""


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
    (known files are skipped) except the series a user removed since (the
    audit trail records each removal; one imported again by hand counts as
    kept): they stay removed, and the report says so. Its studies are then
    linked to the demo case, found by the demo patient's ID and the demo's
    studies when the user renamed it (:func:`find_demo_case`):
    studies up to the TACE date as baseline, later ones as follow-ups (a case
    that already holds every demo study is not linked again, so a study the
    user moved stays where it is). With ``contouring``, the baseline is then
    contoured by the app's own tools from seeds (see :func:`contour_demo`):
    on a new case, or to finish a run that was interrupted while contouring.
    A case whose lesions someone changed since (renamed, deleted, added, a
    contour removed) is skipped: nothing of it is recreated, duplicated or
    overwritten, and the report's ``note`` names what was left as it was.

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
    removed = studies.removed_series([uid for uid, _, _ in _demo_series(truth)])
    kept_out = [
        f"{removed[uid] or uid} ({label.replace('follow_up_', 'follow-up ')})"
        for uid, label, _ in _demo_series(truth)
        if uid in removed
    ]
    paths = [
        folder / label / series_folder
        for uid, label, series_folder in _demo_series(truth)
        if uid not in removed
    ]
    imported = yield from studies.import_paths(paths if removed else [folder])
    existing = find_demo_case(cases, truth)
    case = existing or cases.create_case(
        PHANTOM_PATIENT_ID,
        DEMO_CASE_TITLE,
        planned_tace_on=tace_on,
        primary_site="small intestine (NET)",
        grade="G2",
    )
    if existing is None or existing.study_count < _study_count(truth):
        cases.link_studies_by_date(case.pk, tace_on)
    refreshed = next((item for item in cases.list_cases() if item.pk == case.pk), case)
    contoured = 0
    kept: tuple[str, ...] = ()
    # The baseline venous CT removed: nothing to contour on (it had no contour, or its
    # removal would have been refused); the note says so.
    uncontourable = contouring is not None and _baseline_venous(truth) in removed
    notes = [_removed_note(kept_out, uncontourable=uncontourable)] if kept_out else []
    if contouring is not None and not uncontourable:
        changes = demo_case_changes(contouring, refreshed.pk, truth)
        if changes:
            kept = tuple(item.name for item in contouring.list_lesions(refreshed.pk))
            notes.append(
                f"Demo case {refreshed.pk} was changed since the demo contoured it "
                f"({'; '.join(changes)}), so it was not contoured again: its lesions "
                f"({', '.join(kept) or 'none'}) and their contours, measurements and "
                "plans were left as they were."
            )
            yield Progress(1, 1, notes[-1])
        else:
            contoured = yield from contour_demo(contouring, refreshed.pk, truth)
    return DemoReport(
        case=refreshed,
        imported=imported,
        generated=generated,
        phantom_dir=folder,
        contoured=contoured,
        kept_lesions=kept,
        note=" ".join(notes),
        removed_series=tuple(kept_out),
    )


def _removed_note(kept_out: list[str], *, uncontourable: bool) -> str:
    """One sentence on the demo series a user removed, which this run left out."""
    were = "was" if len(kept_out) == 1 else "were"
    end = ", so the demo case was not contoured" if uncontourable else ""
    return (
        f"{len(kept_out)} demo series removed by a user {were} not imported again "
        f"({'; '.join(kept_out)}){end}."
    )


def find_demo_case(cases: CaseService, truth: dict[str, Any]) -> CaseItem | None:
    """The demo case: the demo patient's case of the demo's title, or, renamed since, the
    demo patient's case that holds most of the demo's studies (the demo links them all to
    the case it opens; a study the user linked elsewhere stays there)."""
    found = cases.find_case(PHANTOM_PATIENT_ID, DEMO_CASE_TITLE)
    if found is not None:
        return found
    demo_studies = {
        str(series["study_uid"])
        for timepoint in truth["timepoints"]
        for series in timepoint["series"]
    }
    best: tuple[int, CaseItem] | None = None
    for item in cases.list_cases():
        if item.patient_id != PHANTOM_PATIENT_ID or not item.study_count:
            continue
        detail = cases.case_detail(item.pk)
        held = {
            study["study_uid"]
            for timepoint in detail["timepoints"]
            for study in timepoint["studies"]
        }
        count = len(held & demo_studies)
        if count and (best is None or count > best[0]):
            best = (count, item)
    return best[1] if best else None


def _demo_series(truth: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(Series Instance UID, timepoint folder, series folder) of every phantom series."""
    return [
        (str(series["series_uid"]), str(timepoint["label"]), str(series["folder"]))
        for timepoint in truth["timepoints"]
        for series in timepoint["series"]
    ]


def _study_count(truth: dict[str, Any]) -> int:
    """How many studies the phantom holds (every one is linked to the demo case)."""
    return len(
        {
            str(series["study_uid"])
            for timepoint in truth["timepoints"]
            for series in timepoint["series"]
        }
    )


def _baseline_venous(truth: dict[str, Any]) -> str:
    baseline = truth["timepoints"][0]
    return str(next(s["series_uid"] for s in baseline["series"] if s["folder"] == "CT_venous"))


def demo_case_changes(
    contouring: ContouringService, case_pk: int, truth: dict[str, Any]
) -> list[str]:
    """What shows that someone changed the demo case's lesions (empty: the demo's own work).

    The demo contours the liver, then the foci in the phantom's order, each
    lesion with its contour on the baseline venous CT in one write; a run that
    was interrupted therefore leaves the first few of them, and nothing else.
    Anything else is a user's work: a lesion the demo does not make (a
    renamed or added one), a gap in that order (a deleted one), a demo
    lesion without its baseline contour, or a focus name the case had once and
    has no more (the audit trail keeps deleted and renamed names).
    """
    foci = [str(focus["name"]) for focus in truth["timepoints"][0]["foci"]]
    order = [LIVER_LESION_NAME, *foci]
    names = [item.name for item in contouring.list_lesions(case_pk)]
    present = {name.casefold() for name in names}
    number = 1
    while f"f{number}" in present:
        number += 1
    gone = contouring.next_focus_name(case_pk) != f"F{number}"  # F<number> was once used
    if not names and not gone:
        return []  # a new case, or one the demo never got to contour
    known = {name.casefold() for name in order}
    others = [name for name in names if name.casefold() not in known]
    made = [name for name in order if name.casefold() in present]
    last = max((order.index(name) for name in made), default=-1)
    gap = any(name.casefold() not in present for name in order[:last])
    venous = _baseline_venous(truth)
    contoured = {
        item.lesion.name.casefold()
        for item in contouring.masks_of_series(venous)
        if item.lesion.case_pk == case_pk and item.mask.any()
    }
    uncontoured = [name for name in made if name.casefold() not in contoured]
    if not (others or gap or uncontoured or gone):
        return []  # the demo's own lesions, maybe not all yet: it carries on
    changes: list[str] = []
    if others:
        changes.append(f"{_listed(others)} {_is(others)} not one of the demo's lesions")
    absent = [name for name in order if name.casefold() not in present]
    if absent:
        changes.append(f"{_listed(absent)} {_is(absent)} not in the case")
    if uncontoured:
        have = "has" if len(uncontoured) == 1 else "have"
        changes.append(f"{_listed(uncontoured)} {have} no contour on the baseline venous CT")
    if not changes:
        changes.append(f"F{number} was deleted or renamed")
    return changes


def _listed(names: list[str]) -> str:
    return ", ".join(names)


def _is(names: list[str]) -> str:
    return "is" if len(names) == 1 else "are"


def contour_demo(contouring: ContouringService, case_pk: int, truth: dict[str, Any]) -> Task[int]:
    """Contour the demo case's baseline from seeds, as a user would; return the lesions contoured.

    The liver from one click in the right lobe's parenchyma, then every
    baseline focus from a click at its centre (the phantom's truth), all on the
    baseline portal-venous CT; each is measured, so the plan has a burden.
    Whatever is contoured already is kept: a run that was interrupted (killed
    while contouring F2, say) is resumed where it stopped, and a second run on
    a complete case adds nothing. A case someone changed since is not for
    this function: :func:`prepare_demo` checks with :func:`demo_case_changes`.
    """
    baseline = truth["timepoints"][0]
    venous = next(s["series_uid"] for s in baseline["series"] if s["folder"] == "CT_venous")
    offset = baseline.get("patient_offset_lps_mm") or (0.0, 0.0, 0.0)
    foci = baseline["foci"]
    done = {
        item.lesion.name.casefold()
        for item in contouring.masks_of_series(venous)
        if item.lesion.case_pk == case_pk and item.mask.any()
    }
    liver_done = LIVER_LESION_NAME.casefold() in done
    to_do = [focus for focus in foci if str(focus["name"]).casefold() not in done]
    total = len(foci) + 2
    contoured = 0
    if not liver_done or to_do:
        yield Progress(0, total, "Loading the baseline venous CT")
        contouring.volume(venous)
    if not liver_done:
        yield Progress(1, total, "Contouring the liver")
        seed = tuple(float(a) + float(b) for a, b in zip(DEMO_LIVER_SEED_LPS, offset, strict=True))
        contouring.contour_liver(case_pk, venous, seed)
        contoured += 1
    for focus in to_do:
        number = 2 + foci.index(focus)
        yield Progress(number, total, f"Contouring {focus['name']}")
        contouring.auto_contour(
            case_pk,
            venous,
            focus["center_lps_mm"],
            lesion=focus["name"],
            couinaud_segment=focus.get("couinaud_segment"),
        )
        contoured += 1
    if _unmeasured(contouring, venous):
        # A run killed between a contour and its measurement: measure what is stored.
        yield Progress(total - 1, total, "Measuring the contours")
        case, timepoint_pk, _ = contouring.series_context(venous)
        contouring.measure(case, timepoint_pk)
    yield Progress(total, total, "Demo case contoured")
    return contoured


def _unmeasured(contouring: ContouringService, series_uid: str) -> bool:
    """True when a stored contour of the series has no measurement."""
    contoured = {item.lesion.name for item in contouring.masks_of_series(series_uid)}
    measured = {
        item.name
        for item in contouring.measurements(series_uid).lesions
        if item.volume_cm3 is not None
    }
    return bool(contoured - measured)
