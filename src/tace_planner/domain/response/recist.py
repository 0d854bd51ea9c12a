"""RECIST 1.1 time-point response (Eisenhauer, Eur J Cancer 2009; Schwartz, Eur J Cancer 2009).

Target lesions: the sum of diameters (long axis; short axis for lymph nodes);
PR is a decrease of ≥ 30 % from the baseline sum, PD an increase of ≥ 20 % **and**
≥ 5 mm over the nadir (the smallest sum on study, baseline included), CR is the
disappearance of every non-nodal target with every node under 10 mm (the sum may
then be > 0). Non-target status, new lesions and the overall response of Table 1
(targets present) and Table 2 (non-target disease only) follow.

Choices the sources leave open, written down here and in each explanation:

* Boundary values are compared exactly in decimal: −30.0 % is PR, +20.0 % with
  +5.0 mm is PD (``Decimal(repr(x))`` of the entered values; no float tolerance).
* A missing target (not measured / not evaluable) makes the target response NE,
  unless the measured targets alone already give PD over the nadir.
* The nadir is taken over the complete sums only (a sum with a missing target is
  not a smallest sum).
* Continued PR: after a confirmed PR, a later visit that meets neither PD nor CR
  stays PR even if it is less than 30 % below baseline (EORTC RECIST FAQ), when
  the caller says the PR was confirmed (``confirmed_pr=True``).
* Reappearance: only the size rules decide (PD needs +20 % and +5 mm over the
  nadir); a CR is not treated as "definitive" unless confirmed, so a reappearing
  lesion after an unconfirmed CR is PD only when the sizes say so.
* CR is decided before PD: target nodes that grow but stay under 10 mm short
  axis (with every other target gone) are normal nodes, not progression; a node
  has reappeared only at 10 mm or more (EORTC RECIST FAQ).
* An equivocal new lesion is not PD, but a CR is not assigned while it stays
  equivocal: the overall response is PR (targets) or NON-CR/NON-PD (non-targets only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from tace_planner.domain.response.base import (
    Response,
    change_percent,
    decreased_by_at_least,
    fmt,
    increased_by_at_least,
    progression_sources,
    verdict,
)
from tace_planner.domain.response.parameters import DEFAULT_RESPONSE, ResponseParameters, decimal

CRITERION = "RECIST 1.1"
SOURCE = "RECIST 1.1 (Eisenhauer, Eur J Cancer 2009; Schwartz, Eur J Cancer 2009)"
_RECIST_NAMES = (
    "recist_pr_decrease_percent",
    "recist_pd_increase_percent",
    "recist_pd_absolute_mm",
)
VALIDATED_FOR = "solid tumours (RECIST 1.1)"
_TARGET_FORMULA = (
    "sum = Σ long axis (short axis for nodes); PR: (sum − baseline)/baseline ≤ −30 %; "
    "PD: (sum − nadir)/nadir ≥ 20 % and sum − nadir ≥ 5 mm"
)

TargetCategory = Literal["CR", "PR", "SD", "PD", "NE"]
NonTargetCategory = Literal["CR", "NON-CR/NON-PD", "PD", "NE"]
NewLesions = Literal["none", "equivocal", "unequivocal"]
NonTargetState = Literal["absent", "present", "unequivocal_progression", "not_evaluated"]

NEW_LESION_STATES: tuple[NewLesions, ...] = ("none", "equivocal", "unequivocal")
NON_TARGET_STATES: tuple[NonTargetState, ...] = (
    "absent",
    "present",
    "unequivocal_progression",
    "not_evaluated",
)


@dataclass(frozen=True)
class TargetMeasurement:
    """One target lesion at one timepoint.

    Attributes
    ----------
    lesion_id : str
        Its identity across timepoints (e.g. ``"T01"``).
    diameter_mm : float or None
        Longest diameter, or the short axis for a lymph node; 0 when it has
        disappeared, 5 when too small to measure; None when not measured.
    is_node : bool
        A lymph node (short axis, CR when < 10 mm).
    """

    lesion_id: str
    diameter_mm: float | None
    is_node: bool = False


@dataclass(frozen=True)
class TargetSum:
    """The sum of one timepoint's targets and which were missing."""

    total_mm: Decimal
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def target_sum(
    measurements: Sequence[TargetMeasurement], expected: Sequence[str] | None = None
) -> TargetSum:
    """The sum of the measured diameters; ``expected`` ids absent or None are missing."""
    total = Decimal(0)
    seen: set[str] = set()
    missing: list[str] = []
    for item in measurements:
        seen.add(item.lesion_id)
        if item.diameter_mm is None:
            missing.append(item.lesion_id)
        else:
            total += decimal(item.diameter_mm)
    if expected is not None:
        missing += [lesion for lesion in expected if lesion not in seen]
    return TargetSum(total, tuple(sorted(set(missing))))


def sum_of_diameters_mm(
    measurements: Sequence[TargetMeasurement], expected: Sequence[str]
) -> float | None:
    """The RECIST 1.1 sum of the target diameters at one timepoint, in mm.

    The one definition drawn and compared against the RECIST guide lines (−30 %, +20 %):
    the long axis of each target lesion (short axis for a lymph node), 0 for a target that
    disappeared (Eisenhauer et al., Eur J Cancer 2009). None without targets, or when a
    target in ``expected`` has no value at this timepoint: a partial sum is not the sum
    of diameters.
    """
    if not expected:
        return None
    total = target_sum(measurements, expected)
    return float(total.total_mm) if total.complete else None


def nadir_mm(baseline: TargetSum, previous: Sequence[TargetSum]) -> Decimal:
    """Smallest complete sum on study, baseline included."""
    sums = [baseline.total_mm] + [s.total_mm for s in previous if s.complete]
    return min(sums)


def target_response(
    baseline: Sequence[TargetMeasurement],
    current: Sequence[TargetMeasurement],
    previous: Sequence[Sequence[TargetMeasurement]] = (),
    *,
    confirmed_pr: bool = False,
    parameters: ResponseParameters = DEFAULT_RESPONSE,
) -> Response:
    """Target-lesion response at ``current`` (RECIST 1.1).

    Parameters
    ----------
    baseline : sequence of TargetMeasurement
        The targets at baseline (all measured).
    current : sequence of TargetMeasurement
        The same lesions now (a baseline id absent or with ``None`` is missing).
    previous : sequence of sequences
        Earlier follow-ups, for the nadir.
    confirmed_pr : bool
        A PR was confirmed earlier (continued PR, see the module notes).
    """
    ids = [m.lesion_id for m in baseline]
    base = target_sum(baseline, ids)
    now = target_sum(current, ids)
    earlier = [target_sum(p, ids) for p in previous]
    nadir = nadir_mm(base, earlier)
    p = parameters
    pd_pct, pd_mm, pr_pct = (
        p.recist_pd_increase_percent,
        p.recist_pd_absolute_mm,
        p.recist_pr_decrease_percent,
    )
    from_base = change_percent(now.total_mm, base.total_mm)
    from_nadir = change_percent(now.total_mm, nadir)
    inputs = {
        "baseline sum": fmt(base.total_mm, "mm"),
        "nadir (baseline included)": fmt(nadir, "mm"),
        "current sum": fmt(now.total_mm, "mm"),
        "change from baseline": fmt(from_base, "%"),
        "change over nadir": f"{fmt(from_nadir, '%')}, {fmt(now.total_mm - nadir, 'mm')}",
        "thresholds": f"PR ≤ −{fmt(pr_pct, '%')} from baseline; "
        f"PD ≥ +{fmt(pd_pct, '%')} and ≥ +{fmt(pd_mm, 'mm')} over nadir",
    }
    if base.missing:
        inputs["baseline"] = f"not measured: {', '.join(base.missing)}"
    if now.missing:
        inputs["missing targets"] = ", ".join(now.missing)
    progressed = increased_by_at_least(now.total_mm, nadir, pd_pct) and (
        now.total_mm - nadir >= pd_mm
    )
    nodes = {m.lesion_id for m in baseline if m.is_node}
    by_id = {m.lesion_id: m for m in current}

    def done(category: str, rule: str) -> Response:
        return verdict(
            CRITERION,
            VALIDATED_FOR,
            "RECIST 1.1 target response",
            _TARGET_FORMULA,
            SOURCE + "; " + p.source(*_RECIST_NAMES),
            inputs,
            category,
            rule,
        )

    if not ids:
        return done("NE", "no target lesion at baseline (use the non-target response)")
    if base.missing:
        return done("NE", "a baseline target was not measured, so no sum can be compared")
    if now.missing:
        if progressed:
            return done(
                "PD",
                "targets missing, but the measured ones alone already rise ≥ 20 % and ≥ 5 mm "
                "over the nadir",
            )
        return done("NE", "a target was not measured and the others do not prove progression")
    complete = all(
        (by_id[i].diameter_mm or 0) == 0
        if i not in nodes
        else decimal(by_id[i].diameter_mm or 0) < p.node_normal_short_axis_mm
        for i in ids
    )
    if complete:
        return done(
            "CR",
            "every non-nodal target disappeared and every target node is under "
            f"{fmt(p.node_normal_short_axis_mm, 'mm')} short axis",
        )
    if progressed:
        return done("PD", "the sum rose ≥ 20 % and ≥ 5 mm over the nadir")
    if decreased_by_at_least(now.total_mm, base.total_mm, pr_pct):
        return done("PR", "the sum fell ≥ 30 % from baseline")
    if confirmed_pr:
        return done(
            "PR",
            "continued PR: a confirmed PR stays PR until progression (RECIST FAQ, EORTC)",
        )
    return done("SD", "neither ≥ 30 % below baseline nor progression over the nadir")


@dataclass(frozen=True)
class NonTargetAssessment:
    """A non-target lesion at one timepoint.

    ``state``: "absent" (gone; a node counts as absent below 10 mm short axis),
    "present", "unequivocal_progression", "not_evaluated".
    """

    lesion_id: str
    state: NonTargetState
    is_node: bool = False
    short_axis_mm: float | None = None


def non_target_response(
    lesions: Sequence[NonTargetAssessment], parameters: ResponseParameters = DEFAULT_RESPONSE
) -> Response | None:
    """Non-target response (CR, NON-CR/NON-PD, PD, NE); None when there are none."""
    if not lesions:
        return None
    inputs = {m.lesion_id: m.state.replace("_", " ") for m in lesions}

    def gone(m: NonTargetAssessment) -> bool:
        if m.state == "absent":
            return True
        return (
            m.is_node
            and m.state == "present"
            and m.short_axis_mm is not None
            and decimal(m.short_axis_mm) < parameters.node_normal_short_axis_mm
        )

    if any(m.state == "unequivocal_progression" for m in lesions):
        category, rule = "PD", "unequivocal progression of non-target disease"
    elif any(m.state == "not_evaluated" for m in lesions):
        category, rule = "NE", "a non-target lesion was not evaluated"
    elif all(gone(m) for m in lesions):
        category, rule = "CR", "every non-target lesion disappeared (nodes under 10 mm)"
    else:
        category, rule = "NON-CR/NON-PD", "non-target lesions persist without progression"
    return verdict(
        CRITERION,
        VALIDATED_FOR,
        "RECIST 1.1 non-target response",
        "per-lesion status",
        SOURCE,
        inputs,
        category,
        rule,
    )


def overall_response(
    target: str | None, non_target: str | None, new_lesions: NewLesions = "none"
) -> Response:
    """Time-point overall response: Table 1 (targets) or Table 2 (non-targets only).

    ``target`` is CR/PR/SD/PD/NE or None (no target disease); ``non_target`` is
    CR/NON-CR/NON-PD/PD/NE or None (no non-target disease); ``new_lesions`` is
    none/equivocal/unequivocal.
    """
    inputs = {
        "target": target or "none at baseline",
        "non-target": non_target or "none at baseline",
        "new lesions": new_lesions,
    }
    equivocal = new_lesions == "equivocal"

    def done(category: str, rule: str) -> Response:
        table = "Table 1" if target is not None else "Table 2"
        return verdict(
            CRITERION,
            VALIDATED_FOR,
            f"RECIST 1.1 overall response ({table})",
            "target × non-target × new lesions",
            SOURCE,
            inputs,
            category,
            rule,
        )

    if new_lesions not in NEW_LESION_STATES:
        raise ValueError(f"new_lesions must be one of {NEW_LESION_STATES}")
    progressed = progression_sources(target, non_target, new_lesions)
    if progressed:
        return done("PD", "progression of " + progressed)
    note = " (an equivocal new lesion is not progression; re-assess at the next visit)"
    if target is None:
        if non_target is None:
            return done("NE", "no target and no non-target disease recorded")
        if non_target == "CR":
            if equivocal:
                return done("NON-CR/NON-PD", "non-target CR, but a new lesion is equivocal" + note)
            return done("CR", "non-target CR and no new lesion")
        if non_target == "NE":
            return done("NE", "non-target disease not evaluated")
        return done("NON-CR/NON-PD", "non-target disease persists without progression")
    nt_ok = non_target in (None, "CR")
    if target == "CR":
        if nt_ok and not equivocal:
            return done("CR", "target and non-target CR, no new lesion")
        if nt_ok:
            return done("PR", "target CR, but a new lesion is equivocal" + note)
        return done("PR", f"target CR with non-target {non_target}")
    if target == "PR":
        return done("PR", "target PR without progression elsewhere" + (note if equivocal else ""))
    if target == "SD":
        return done("SD", "target SD without progression elsewhere" + (note if equivocal else ""))
    return done("NE", "target disease not evaluable and no progression elsewhere")
