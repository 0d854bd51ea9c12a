"""What a workspace is: its title, the page and docks it shows, and when it can be entered.

The main window serves four jobs; each gets a workspace of its own instead of
one pile of docks (the modes of OHIF, the modules of 3D Slicer). A workspace
knows nothing of the window's internals: it asks its host to show a central
page and a set of docks and tool bars by their object names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tace_planner.domain.person_name import readable_person_name
from tace_planner.services.dto import CaseItem, PatientItem, patient_list_label


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether a workspace can be entered now, and if not, why (shown as its tab's tool tip)."""

    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class WorkspaceContext:
    """The patient and case the window is on (None: none chosen)."""

    patient: PatientItem | None = None
    case: CaseItem | None = None

    def _name_and_id(self) -> tuple[str, str] | None:
        """The patient's stored name and Patient ID (from the case when no patient is set)."""
        if self.patient is not None:
            return self.patient.name, self.patient.patient_id
        if self.case is not None:
            return self.case.patient_name, self.case.patient_id
        return None

    @property
    def patient_label(self) -> str:
        """The patient as the case list writes them: "DEMO, Phantom [TACE-DEMO-001]"
        (:func:`~tace_planner.services.dto.patient_list_label`), or the ID alone."""
        known = self._name_and_id()
        if known is None:
            return ""
        name, patient_id = known
        if not readable_person_name(name):
            return patient_id or "patient without name or ID"
        return patient_list_label(name, patient_id)

    @property
    def patient_short_label(self) -> str:
        """The patient's name alone (the ID when there is no name), for dock titles."""
        known = self._name_and_id()
        return "" if known is None else readable_person_name(known[0]) or known[1]


def banner_text(context: WorkspaceContext) -> str:
    """The line naming the current patient and case: "Patient … · Case … · TACE date"."""
    if context.patient is None and context.case is None:
        return "No patient selected — choose one in the case list"
    parts = [f"Patient {context.patient_label}"]
    case = context.case
    if case is None:
        parts.append("no case chosen (choose one, or Case → New case…)")
    else:
        parts.append(f"Case {case.title}")
        tace = case.planned_tace_on.isoformat() if case.planned_tace_on else "not set"
        parts.append(f"TACE {tace}")
    return " · ".join(parts)


class WorkspaceHost(Protocol):
    """What a workspace needs of the window."""

    def show_page(self, name: str, text: str = "") -> None:
        """Show the central page ``name`` ("viewer" or "placeholder" with ``text``)."""

    def set_docks_visible(self, names: tuple[str, ...]) -> None:
        """Show the docks of these object names (the first in front), hide the others."""

    def set_toolbars_visible(self, names: tuple[str, ...]) -> None:
        """Show the tool bars of these object names, hide the others."""


@dataclass(frozen=True, slots=True)
class Workspace:
    """One job of the main window (see the module docstring)."""

    key: str
    title: str
    page: str
    docks: tuple[str, ...] = ()
    toolbars: tuple[str, ...] = ()
    needs_case: bool = False
    placeholder: str = ""
    tooltip: str = ""

    def availability(self, case: CaseItem | None) -> Availability:
        """Whether the workspace can be entered with ``case`` chosen (or none)."""
        if self.needs_case and case is None:
            return Availability(False, f"{self.title}: choose a case in the case list first")
        return Availability(True, self.tooltip)

    def enter(self, host: WorkspaceHost) -> None:
        """Show this workspace's page, docks and tool bars."""
        host.show_page(self.page, self.placeholder)
        host.set_docks_visible(self.docks)
        host.set_toolbars_visible(self.toolbars)

    def exit(self, host: WorkspaceHost) -> None:
        """Leave the workspace (it holds no connections or tasks of its own yet)."""


_VIEWER_BARS = ("viewer_toolbar", "contour_toolbar")

WORKSPACES: tuple[Workspace, ...] = (
    Workspace(
        "plan",
        "Plan",
        "viewer",
        docks=("plan_dock", "lesion_dock"),
        toolbars=_VIEWER_BARS,
        tooltip="Read the baseline, contour the liver and the foci, propose and approve the plan",
    ),
    Workspace(
        "procedure",
        "Procedure",
        "viewer",
        docks=("procedure_dock", "plan_dock"),
        toolbars=("viewer_toolbar",),
        needs_case=True,
        tooltip="Log what was delivered at each TACE against the approved plan",
    ),
    Workspace(
        "follow_up",
        "Follow-up",
        "follow_up",
        tooltip=(
            "The follow-up worklist; baseline and follow-up side by side: contours proposed "
            "from the baseline, confirmed by you; spider plot and timeline of the case"
        ),
    ),
    Workspace(
        "cohort",
        "Cohort",
        "cohort",
        placeholder=(
            "Cohort plots need the case registry, which this window was opened without.\n\n"
            "The cohort tables of the source study can also be computed from a spreadsheet "
            "of one row per patient: see Help → User manual, “Cohort and export”."
        ),
        tooltip="Cohort plots on the registry: box per group, Kaplan–Meier, regression",
    ),
)
