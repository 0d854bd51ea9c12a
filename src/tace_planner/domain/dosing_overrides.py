"""Physician overrides of a proposed session, re-derived by the dosing kernel, and re-judged.

An override changes one of :data:`OVERRIDABLE_FIELDS` with a reason; what depends
on it (vials, vial loads, expected delivered dose) is re-derived by the same
kernel as the proposal (:func:`tace_planner.domain.dosing_kernel.load_vials`),
impossible values are refused — a bead volume more than twice the per-session maximum
among them (:func:`refuse_implausible_beads`). The sessions that will actually be approved are
then judged again, session and course alike (:func:`rejudge`): every advisory the
overrides raise or change is new and must be acknowledged on its own — an
override's reason never stands for an acknowledgement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from tace_planner.domain.catalogue import BeadProduct
from tace_planner.domain.dosing_advisories import dose_advisories, is_dose_advisory
from tace_planner.domain.dosing_inputs import CourseHistory
from tace_planner.domain.dosing_kernel import load_vials, vials_for
from tace_planner.domain.dosing_parameters import Model, PlanningParameters
from tace_planner.domain.dosing_results import SessionPlan
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import SEVERITIES, Advisory, Explanation

OVERRIDABLE_FIELDS = ("beads_ml", "vials", "irinotecan_loaded_mg")
"""Session numbers a physician may override (with a reason) when approving a plan."""

FIELD_LABELS = {
    "beads_ml": "bead volume (mL)",
    "vials": "vials",
    "irinotecan_loaded_mg": "irinotecan loaded (mg)",
}
"""How the overridable fields are named for people ("Session 1 bead volume (mL)")."""

OVERRIDDEN_WORDS = {
    "beads_ml": "the bead volume",
    "vials": "the number of vials",
    "irinotecan_loaded_mg": "the irinotecan loaded",
}
"""An overridden number in the words of the missing-reason line."""

OVERRIDE_PREFIX = "override."

PLAUSIBLE_BEADS_FACTOR = 2
"""An override's beads above this many times the per-session maximum are refused.

Institutional default, no published source (as the maximum itself): 5 or 6 mL at a
4 mL maximum is a considered choice, judged by a warning to acknowledge; 40 or 400 mL
typed for 4.0 is a slip, not a volume for one session. Derived from the maximum, so an
institution that widens the maximum widens this limit with it. The messages say "twice".
"""

_EPS = 1e-9


def field_label(key: str) -> str:
    """``"session1.beads_ml"`` → ``"Session 1 bead volume (mL)"`` (other keys unchanged)."""
    head, _, name = key.partition(".")
    number = head.removeprefix("session")
    if not number.isdigit() or name not in FIELD_LABELS:
        return key
    return f"Session {number} {FIELD_LABELS[name]}"


def reason_label(session: int | str) -> str:
    """``1`` or ``"session1"`` → ``"Session 1 reason for the override"``: the reason's field."""
    return f"Session {str(session).removeprefix('session')} reason for the override"


def missing_reason(session: int | str, overridden: Iterable[str]) -> InvalidInputError:
    """The error of an override without a reason, in the same words for every caller.

    ``"Session 1 reason for the override: required when the bead volume is overridden"``:
    the reason's field, and the first of :data:`OVERRIDABLE_FIELDS` among ``overridden``
    (the first the approver filled in, in the order the fields are shown).
    """
    names = set(overridden)
    first = next((name for name in OVERRIDABLE_FIELDS if name in names), None)
    what = OVERRIDDEN_WORDS[first] if first is not None else "a number"
    return InvalidInputError(reason_label(session), f"required when {what} is overridden")


def refuse_implausible_beads(
    number: int,
    changes: Mapping[str, float],
    beads_ml: float,
    vials: int,
    vial_ml: float,
    params: PlanningParameters,
) -> None:
    """Refuse an overridden bead volume or vial count not plausible for one session.

    The planned bead volume is refused when it was overridden and is more than
    :data:`PLAUSIBLE_BEADS_FACTOR` × ``max_beads_per_session_ml``; the vials when they
    were overridden and are more than the whole vials that hold that volume (so that
    one vial is never refused, whatever the maximum). At or below it the per-session
    maximum stays a warning to acknowledge
    (:func:`tace_planner.domain.dosing_advisories.dose_advisories`).

    Raises
    ------
    InvalidInputError
        Named for people ("Session 1 bead volume (mL)", "Session 1 vials"), in one line.
    """
    beads_max = float(params.value("max_beads_per_session_ml"))
    limit_ml = PLAUSIBLE_BEADS_FACTOR * beads_max
    why = (
        f"more than twice the per-session maximum of {beads_max:g} mL — not a plausible "
        "volume for one session (institutional default); check the value"
    )
    if "beads_ml" in changes and beads_ml > limit_ml + _EPS:
        where = field_label(f"session{number}.beads_ml")
        raise InvalidInputError(where, f"{beads_ml:g} mL is {why}")
    if "vials" in changes and vial_ml > 0 and vials > vials_for(limit_ml, vial_ml):
        held = f"{vials} vials hold {vials * vial_ml:g} mL of beads"  # never one vial
        raise InvalidInputError(field_label(f"session{number}.vials"), f"{held}, {why}")


def override_session(
    session: SessionPlan,
    product: BeadProduct,
    params: PlanningParameters,
    model: Model,
    changes: Mapping[str, float],
    *,
    reason: str,
    by: str,
    loading_mg_per_ml: float | None = None,
) -> SessionPlan:
    """Apply a physician's changes to one session and re-derive what depends on them.

    Parameters
    ----------
    session : SessionPlan
        The proposed session.
    product, params, model :
        As used for the proposal.
    changes : mapping
        Some of :data:`OVERRIDABLE_FIELDS` → new value.
    reason, by : str
        Why and who; shown in the explanations of the changed numbers.
    loading_mg_per_ml : float, optional
        Loading concentration of the proposal (default the parameter's).

    Returns
    -------
    SessionPlan
        The session with the changes, vials, loads and delivered dose re-derived by
        the kernel. A dose the physician asks for explicitly is not held at the
        session limit; :func:`rejudge` then raises what it exceeds.

    Raises
    ------
    InvalidInputError
        The reason is blank (:func:`missing_reason`), or a value is impossible: not
        positive, a fractional vial count, beads or vials more than twice the
        per-session maximum (:func:`refuse_implausible_beads`), more beads than the
        vials hold, or more irinotecan than the vials can take at the product's
        capacity. The field is named for people ("Session 1 vials").
    """
    n = session.number
    unknown = sorted(set(changes) - set(OVERRIDABLE_FIELDS))
    if unknown:
        raise InvalidInputError(f"Session {n} {unknown[0]}", "cannot be overridden")
    if not reason.strip():
        raise missing_reason(n, changes)
    for name, value in changes.items():
        where = field_label(f"session{n}.{name}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise InvalidInputError(where, f"must be a positive number, got {value!r}")
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidInputError(where, f"must be finite, got {value!r}")
    vial_ml = float(product.vial_bead_volume_ml.value or 0.0)
    capacity = float(product.irinotecan_capacity_mg_per_ml.value or 0.0)
    cap_mg = float(params.value("per_session_cap_mg"))
    loading = float(loading_mg_per_ml or params.value("loading_mg_per_ml"))
    beads = float(changes.get("beads_ml", session.beads_ml))
    if "vials" in changes:
        if float(changes["vials"]) != int(changes["vials"]):
            raise InvalidInputError(field_label(f"session{n}.vials"), "must be a whole number")
        vials = int(changes["vials"])
    elif "beads_ml" in changes:
        vials = vials_for(beads, vial_ml)
    else:
        vials = session.vials
    refuse_implausible_beads(n, changes, beads, vials, vial_ml, params)
    if "irinotecan_loaded_mg" in changes:
        kwargs = {
            "loading_mg_per_ml": capacity,
            "session_limit_mg": None,
            "dose_mg": float(changes["irinotecan_loaded_mg"]),
        }
    elif model == "burden":
        kwargs = {"loading_mg_per_ml": loading, "session_limit_mg": cap_mg, "dose_mg": None}
    else:
        kwargs = {
            "loading_mg_per_ml": loading,
            "session_limit_mg": cap_mg,
            "dose_mg": float(params.value("fixed_dose_mg")),
        }
    try:
        result = load_vials(
            beads_ml=beads,
            vial_ml=vial_ml,
            capacity_mg_per_ml=capacity,
            vials=vials,
            **kwargs,  # type: ignore[arg-type]
        )
    except InvalidInputError as error:
        raise InvalidInputError(field_label(f"session{n}.{error.field}"), error.reason) from None
    new_values = {
        "beads_ml": (result.beads_ml, f"{result.beads_ml:.4g} mL"),
        "vials": (result.vials, f"{result.vials} vial(s)"),
        "irinotecan_loaded_mg": (result.loaded_mg, f"{result.loaded_mg:.1f} mg"),
        "irinotecan_expected_delivered_mg": (
            result.expected_delivered_mg,
            f"{result.expected_delivered_mg:.1f} mg",
        ),
    }
    explanations = dict(session.explanations)
    for name, (value, text) in new_values.items():
        old = getattr(session, name)
        if value == old and name not in changes:
            continue
        overridden = name in changes
        explanations[name] = Explanation(
            summary=f"{'Overridden' if overridden else 'Re-derived after an override'} by {by}",
            formula="value entered by the physician"
            if overridden
            else "same rule as the proposal, from the overridden numbers",
            inputs={
                "proposed": f"{old:g}",
                "reason": reason,
                "beads": f"{result.beads_ml:g} mL",
                "vials": str(result.vials),
                "vial loads": " + ".join(f"{v:.1f}" for v in result.loads_mg) + " mg",
            },
            result=text,
            source=f"physician override ({by})",
        )
    kept = tuple(
        x
        for x in session.limited_by
        if x not in ("min_beads", "max_beads", "session_cap", "capacity", "whole_vial_step")
    )
    return replace(
        session,
        beads_ml=result.beads_ml,
        vials=result.vials,
        prepared_beads_ml=result.prepared_ml,
        irinotecan_loaded_mg=result.loaded_mg,
        vial_loads_mg=result.loads_mg,
        irinotecan_expected_delivered_mg=result.expected_delivered_mg,
        limited_by=(*kept, *result.limited_by, "override"),
        explanations=explanations,
    )


def rejudge(
    shown: Sequence[Advisory],
    sessions: Sequence[SessionPlan],
    product: BeadProduct,
    params: PlanningParameters,
    course: CourseHistory,
) -> tuple[Advisory, ...]:
    """The advisories of the sessions that will actually be approved.

    The inputs' advisories of ``shown`` (the proposal's) stay; the session and course
    advisories are computed again from ``sessions`` and ``course`` (which may have
    changed since the proposal). One that the proposal showed with the same code
    and the same message is the same advisory; any other is raised by the overrides
    (or by a changed course) and gets the code ``override.<code>``, so that it must
    be acknowledged on its own.
    """
    if not sessions:  # a blocked plan has no session to judge: nothing new is raised
        return tuple(shown)
    before = {a.code: a for a in shown if is_dose_advisory(a)}
    kept = [a for a in shown if not is_dose_advisory(a)]
    for advisory in dose_advisories(sessions, product, params, course):
        old = before.get(advisory.code)
        if old is not None and old.message == advisory.message:
            kept.append(advisory)
        else:
            kept.append(replace(advisory, code=OVERRIDE_PREFIX + advisory.code))
    return tuple(sorted(kept, key=lambda a: -SEVERITIES.index(a.severity)))
