"""``tace-planner --self-test``: the whole path of one case, end to end, in a throw-away folder.

An installed app (a bundle or a pip install) checks that everything it needs at run time is
there and works: the database and its migrations, the DICOM codecs, the phantom, the import,
contouring (scipy, scikit-image), planning with its parameter files, the PDF plan sheet (Qt,
injected by the GUI root) and DICOM SEG (highdicom and its data files). Each step is timed;
the first failure stops the run and is named.
"""

from __future__ import annotations

import datetime as dt
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tace_planner import __version__

PdfRenderer = Callable[[Any, Path, Any], None]
"""Writes a plan as its one-page PDF plan sheet (``app.render_plan_sheet``)."""

SELF_TEST_USER = "self-test"
LIVER_SEED_LPS = (-95.0, 0.0, 20.0)
"""A click in the phantom's right-lobe parenchyma (the demo's liver seed)."""
PATIENT_INPUTS: dict[str, Any] = {
    "height_cm": 175.0,
    "weight_kg": 75.0,
    "bilirubin_mg_dl": 0.8,
    "ecog": 0,
}
"""Plausible adult inputs, so that the plan is computed rather than blocked."""


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of the self-test: its name, whether it passed, how long it took, what it saw."""

    name: str
    ok: bool
    seconds: float
    detail: str


@dataclass(slots=True)
class SelfTestReport:
    """Every step run, in order; the run stops at the first failure."""

    steps: list[StepResult] = field(default_factory=list)
    work_dir: Path | None = None

    @property
    def ok(self) -> bool:
        """True when every step passed."""
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def failed(self) -> StepResult | None:
        """The step that failed, if any."""
        return next((step for step in self.steps if not step.ok), None)

    def lines(self) -> list[str]:
        """The one-screen report."""
        out = [header()]
        out.extend(_line(step) for step in self.steps)
        total = sum(step.seconds for step in self.steps)
        failed = self.failed
        if failed is None:
            out.append(f"self-test passed: {len(self.steps)} steps in {total:.1f} s")
        else:
            out.append(f"self-test failed at step '{failed.name}': {failed.detail}")
        return out


def header() -> str:
    """The report's first line: version, kind of install, Python and platform."""
    kind = "bundle" if getattr(sys, "frozen", False) else "Python install"
    return (
        f"TACE Planner {__version__} self-test ({kind}, Python "
        f"{platform.python_version()}, {platform.system()} {platform.machine()})"
    )


class _StepFailed(Exception):
    """A step's own check did not hold (the message says what was seen)."""


def run_self_test(
    render_pdf: PdfRenderer | None,
    *,
    work_dir: Path | None = None,
    keep: bool = False,
    echo: Callable[[str], None] | None = None,
) -> SelfTestReport:
    """Run every step in a new temporary folder; stop at the first failure.

    Parameters
    ----------
    render_pdf : callable or None
        The PDF plan sheet renderer (needs Qt); None makes the PDF step fail.
    work_dir : Path, optional
        Where to make the temporary folder (default: the system's temp folder).
    keep : bool
        Keep the folder afterwards (its path is in the report) instead of deleting it.
    echo : callable, optional
        Called with each step's report line as soon as the step ends.
    """
    folder = Path(tempfile.mkdtemp(prefix="tace-self-test-", dir=work_dir))
    report = SelfTestReport(work_dir=folder if keep else None)
    state: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("open a new database", lambda s: _open(s, folder)),
        ("generate a small phantom", lambda s: _phantom(s, folder / "phantom")),
        ("import the phantom", _import),
        ("create the case", _case),
        ("contour the liver", _liver),
        ("contour a focus", _focus),
        ("measure the tumour burden", _measure),
        ("propose a plan", _plan),
        ("write the plan sheet PDF", lambda s: _pdf(s, render_pdf, folder / "plan.pdf")),
        ("DICOM SEG export and import", lambda s: _seg(s, folder / "contours.dcm")),
    ]
    try:
        for name, step in steps:
            start = time.perf_counter()
            try:
                detail, ok = step(state), True
            except Exception as error:  # noqa: BLE001 - a self-test reports any failure
                detail, ok = _one_line(error), False
            result = StepResult(name, ok, time.perf_counter() - start, detail)
            report.steps.append(result)
            if echo is not None:
                echo(_line(result))
            if not ok:
                break
    finally:
        services = state.get("services")
        if services is not None:
            services.close()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return report


def _line(step: StepResult) -> str:
    mark = "ok  " if step.ok else "FAIL"
    return f"  {mark} {step.name:<28} {step.seconds:6.1f} s  {step.detail}"


def _one_line(error: BaseException) -> str:
    from tace_planner.domain.errors import TacePlannerError

    text = str(error).strip().splitlines()
    first = text[0][:200] if text else "(no message)"
    if isinstance(error, _StepFailed | TacePlannerError):
        return first  # the app's own words
    return f"{type(error).__name__}: {first}"


def _open(state: dict[str, Any], folder: Path) -> str:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    services = open_services(
        AppSettings(data_dir=folder / "data", db_url=None, user=SELF_TEST_USER)
    )
    state["services"] = services
    return f"schema {services.upgrade.to_revision}"


def _phantom(state: dict[str, Any], folder: Path) -> str:
    from tace_planner.domain.progress import run_sync
    from tace_planner.imaging.phantom import generate_phantom

    folder.mkdir(parents=True)
    truth = run_sync(generate_phantom(folder, size="small", seed=0))
    state["phantom"] = folder
    state["truth"] = truth.to_json()
    files = sum(1 for path in folder.rglob("*") if path.is_file())
    return f"{files} files"


def _import(state: dict[str, Any]) -> str:
    from tace_planner.domain.progress import run_sync

    report = run_sync(state["services"].studies.import_paths([state["phantom"]]))
    if report.errors:
        first = report.errors[0]
        failed = report.failed_files
        raise _StepFailed(f"{failed} file(s) failed, e.g. {first.path}: {first.reason}")
    volumes = [s for s in report.series if s.is_volume]
    if not volumes:
        raise _StepFailed("no image volume was imported")
    return f"{report.new_instances} files, {len(volumes)} volumes"


def _case(state: dict[str, Any]) -> str:
    from tace_planner.imaging.phantom import PHANTOM_PATIENT_ID

    cases = state["services"].cases
    tace_on = dt.date.fromisoformat(state["truth"]["tace_date"])
    case = cases.create_case(PHANTOM_PATIENT_ID, "Self-test case", planned_tace_on=tace_on)
    cases.link_studies_by_date(case.pk, tace_on)
    baseline = state["truth"]["timepoints"][0]
    state["case_pk"] = case.pk
    state["venous"] = next(
        s["series_uid"] for s in baseline["series"] if s["folder"] == "CT_venous"
    )
    state["offset"] = baseline.get("patient_offset_lps_mm") or (0.0, 0.0, 0.0)
    return f"case {case.pk}, TACE {tace_on}"


def _liver(state: dict[str, Any]) -> str:
    seed = tuple(float(a) + float(b) for a, b in zip(LIVER_SEED_LPS, state["offset"], strict=True))
    contouring = state["services"].contouring
    result = contouring.contour_liver(state["case_pk"], state["venous"], seed)
    volume = _volume_of(result)
    truth = float(state["truth"]["liver_volume_cm3"])
    if volume is None or not 0.8 * truth <= volume <= 1.2 * truth:
        raise _StepFailed(f"liver {volume} cm³, the phantom's is {truth:.0f} cm³")
    return f"{volume:.0f} cm³ (phantom {truth:.0f} cm³)"


def _focus(state: dict[str, Any]) -> str:
    focus = max(state["truth"]["timepoints"][0]["foci"], key=lambda f: f["volume_cm3"])
    result = state["services"].contouring.auto_contour(
        state["case_pk"],
        state["venous"],
        tuple(focus["center_lps_mm"]),
        lesion=focus["name"],
        couinaud_segment=focus.get("couinaud_segment"),
    )
    volume = _volume_of(result)
    truth = float(focus["volume_cm3"])
    if volume is None or not 0.5 * truth <= volume <= 1.5 * truth:
        raise _StepFailed(f"{focus['name']} {volume} cm³, the phantom's is {truth:.1f} cm³")
    state["focus"] = focus["name"]
    return f"{focus['name']} {volume:.1f} cm³ (phantom {truth:.1f} cm³)"


def _volume_of(result: Any) -> float | None:
    measurement = getattr(result, "measurement", None)
    return None if measurement is None else measurement.volume_cm3


def _measure(state: dict[str, Any]) -> str:
    result = state["services"].contouring.measurements(state["venous"])
    state["volumes"] = {item.name: item.volume_cm3 for item in result.lesions}
    state["liver_cm3"] = result.liver_volume_cm3
    if result.burden_percent is None:
        raise _StepFailed("no tumour burden F: " + "; ".join(result.notes))
    return f"F = {result.burden_percent:.2f} %"


def _plan(state: dict[str, Any]) -> str:
    planning = state["services"].planning
    planning.set_clinical_inputs(state["case_pk"], **PATIENT_INPUTS)
    plan = planning.propose(state["case_pk"])
    state["plan"] = plan
    if plan.blocked:
        blocks = "; ".join(a.message for a in plan.advisories if a.severity == "block")
        raise _StepFailed(f"the plan is blocked: {blocks[:160]}")
    beads = sum(session.beads_ml for session in plan.sessions)
    dose = sum(session.irinotecan_loaded_mg for session in plan.sessions)
    return (
        f"{len(plan.sessions)} session(s), beads {beads:.1f} mL, irinotecan {dose:.0f} mg "
        f"(model {plan.model})"
    )


def _pdf(state: dict[str, Any], render_pdf: PdfRenderer | None, path: Path) -> str:
    if render_pdf is None:
        raise _StepFailed("the PDF plan sheet needs Qt (install tace-planner[gui])")
    services = state["services"]
    key = services.planning.key_image(state["case_pk"], services.studies.load_series)
    render_pdf(state["plan"], path, key)
    with path.open("rb") as handle:
        head = handle.read(5)
    if head != b"%PDF-":
        raise _StepFailed(f"{path.name} is not a PDF")
    return f"{path.stat().st_size // 1024} KiB" + (", key image" if key is not None else "")


def _seg(state: dict[str, Any], path: Path) -> str:
    contouring = state["services"].contouring
    contouring.export_seg(state["venous"], path)
    focus = next(
        item for item in contouring.list_lesions(state["case_pk"]) if item.name == state["focus"]
    )
    contouring.delete_lesion(focus.pk)
    imported = contouring.import_seg(path, replace=True)  # every contour read back
    again = {
        item.name: item.volume_cm3 for item in contouring.measurements(state["venous"]).lesions
    }
    for name, before in state["volumes"].items():
        after = again.get(name)
        if before is None or after is None or abs(after - before) > 1e-6 * max(before, 1.0):
            raise _StepFailed(f"{name}: {before} cm³ before the round trip, {after} cm³ after")
    names = ", ".join(item.name for item in imported.lesions)
    return f"{path.stat().st_size // 1024} KiB, {names} read back with the same volumes"
