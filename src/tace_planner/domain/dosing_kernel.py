"""The dosing kernel: whole vials, their irinotecan loads and the expected delivered dose.

One pure function, :func:`load_vials`, used by the proposal (both models) and by
a physician's overrides, so that the same bead volume always gives the same
vials, loads and delivered dose. The rules::

    vials      = ⌈beads / vial volume⌉ (whole vials are prepared), or as given
    per vial   ≤ vial volume × min(loading concentration, product capacity)
    loaded     = dose asked (default: every vial full), ≤ session limit when one applies;
                 vials are filled in order, so a vial beyond the dose stays unloaded
    delivered  = Σ (fraction of vial i injected) × load_i, vials injected in order

*The delivery model* (:func:`delivered_from_fraction_mg`) is the one rule for the
plan's expected delivered dose and for the procedure's delivered dose
(:mod:`tace_planner.domain.procedure_dose`): the vials are injected in the order
they were prepared, and each vial's beads carry its own load evenly. With equal
loads it is loaded × fraction of the suspension injected (a homogeneous
suspension). It is an institutional default: no published rule covers beads left
undelivered, and loaded ≠ delivered even when everything is injected:
irinotecan-loaded beads lose 4–6 % of the drug at once in contrast (Pereira,
Anti-Cancer Drugs 2016).

Worked example: two 2 mL vials loaded 100 + 0 mg, 60 % of the 4 mL injected =
2.4 mL = 1.2 vials: vial 1 whole (1 × 100 mg) + 20 % of vial 2 (0.2 × 0 mg) =
100 mg. Loaded 50 + 50 mg instead: 1 × 50 + 0.2 × 50 = 60 mg = 100 mg × 0.6.

*Whole-vial step.* A bead volume just above a vial boundary prepares one more
vial: 2.00 mL → 1 vial, 2.0005 mL → 2 vials; with every vial loaded that is
100 → 200 mg loaded while the expected delivered dose barely moves. The kernel
reports the step (:attr:`VialLoading.whole_vial_step`) so that the planner shows it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tace_planner.domain.errors import InvalidInputError

_EPS = 1e-9

NO_PUBLISHED_RULE = (
    "institutional default: no published rule covers beads left undelivered; loaded ≠ "
    "delivered — beads lose 4–6 % of irinotecan at once in contrast (Pereira, Anti-Cancer "
    "Drugs 2016)"
)
VIALS_IN_ORDER = (
    "vials injected in the order prepared, each vial's beads carrying its own load evenly "
    "(equal loads: loaded × fraction of the suspension injected)"
)
DELIVERY_ASSUMPTION = (
    f"expected delivered dose: {VIALS_IN_ORDER}; {NO_PUBLISHED_RULE}; the procedure log "
    "counts the delivered dose by the same rule"
)


def fill_vials(vials: int, per_vial_mg: float, total_mg: float) -> tuple[float, ...]:
    """Vial loads (mg) filled in order: full vials first, the last partly, then empty ones."""
    loads = []
    left = max(total_mg, 0.0)
    for _ in range(vials):
        load = min(per_vial_mg, left)
        loads.append(load)
        left -= load
    return tuple(loads)


def delivered_from_fraction_mg(loads: Sequence[float], fraction: float) -> float:
    """The delivery model: dose in ``fraction`` (0–1) of the prepared suspension.

    ``loads`` are the irinotecan of each (equal-volume) vial in the order they are
    injected; ``fraction × len(loads)`` vials are injected, vial ``i`` (from 0) by
    ``clamp(fraction × len(loads) − i, 0, 1)``::

        delivered = Σ clamp(f·n − i, 0, 1) × load_i

    The plan's expected delivered dose and the procedure's delivered dose both come
    from here, so the same vials and fraction give the same dose.
    """
    injected = fraction * len(loads)  # vials' worth of suspension injected
    return math.fsum(min(max(injected - i, 0.0), 1.0) * load for i, load in enumerate(loads))


def delivered_mg(beads_ml: float, vial_ml: float, loads: Sequence[float]) -> float:
    """Dose in the first ``beads_ml`` of suspension when vials are injected in order."""
    if not loads:
        return 0.0
    return delivered_from_fraction_mg(loads, beads_ml / (vial_ml * len(loads)))


@dataclass(frozen=True, slots=True)
class VialLoading:
    """What :func:`load_vials` derived for one session.

    Attributes
    ----------
    beads_ml : float
        Planned injection volume of loaded beads.
    vials : int
        Whole vials prepared.
    vial_ml : float
        Hydrated bead volume per vial.
    prepared_ml : float
        ``vials × vial_ml``.
    per_vial_limit_mg : float
        Most irinotecan one vial takes here (``vial_ml × min(c_load, capacity)``).
    loads_mg : tuple of float
        Irinotecan per vial, in injection order.
    loaded_mg : float
        Σ loads.
    expected_delivered_mg : float
        Irinotecan in the planned ``beads_ml`` (vials injected in order).
    asked_mg : float
        The dose asked before the session limit (every vial full when no dose is given).
    limited_by : tuple of str
        "capacity" (loading concentration above the product's capacity),
        "session_cap" (the dose asked exceeded the session limit).
    whole_vial_step : bool
        True when a part of the last vial is not planned for injection
        (``prepared_ml > beads_ml``), so loaded and expected delivered differ.
    """

    beads_ml: float
    vials: int
    vial_ml: float
    prepared_ml: float
    per_vial_limit_mg: float
    loads_mg: tuple[float, ...]
    loaded_mg: float
    expected_delivered_mg: float
    asked_mg: float
    limited_by: tuple[str, ...]
    whole_vial_step: bool

    @property
    def undelivered_mg(self) -> float:
        """Loaded irinotecan outside the planned injection volume."""
        return self.loaded_mg - self.expected_delivered_mg


def vials_for(beads_ml: float, vial_ml: float) -> int:
    """Whole vials that hold ``beads_ml`` (at least one)."""
    return max(1, math.ceil(beads_ml / vial_ml - _EPS))


def load_vials(
    *,
    beads_ml: float,
    vial_ml: float,
    loading_mg_per_ml: float,
    capacity_mg_per_ml: float,
    session_limit_mg: float | None,
    vials: int | None = None,
    dose_mg: float | None = None,
) -> VialLoading:
    """Derive vials, loads and the expected delivered dose of one session.

    Parameters
    ----------
    beads_ml : float
        Planned injection volume (> 0).
    vial_ml : float
        Bead volume per vial (> 0).
    loading_mg_per_ml : float
        Loading concentration asked (mg per mL of beads).
    capacity_mg_per_ml : float
        The product's irinotecan capacity; a vial never holds more.
    session_limit_mg : float or None
        The per-session limit the proposal respects; None applies none (an
        override asks for its dose explicitly and is judged by the advisories).
    vials : int, optional
        Vials prepared (default ⌈beads / vial⌉).
    dose_mg : float, optional
        Irinotecan asked for the session (default: every vial loaded full).

    Raises
    ------
    InvalidInputError
        Field ``vials``: fewer vials than the beads need, or not a whole number ≥ 1;
        field ``irinotecan_loaded_mg``: a dose the vials cannot take up.
    """
    for name, value in (
        ("beads_ml", beads_ml),
        ("vial_ml", vial_ml),
        ("loading_mg_per_ml", loading_mg_per_ml),
        ("capacity_mg_per_ml", capacity_mg_per_ml),
    ):
        if isinstance(value, bool) or not math.isfinite(value) or value <= 0:
            raise InvalidInputError(name, f"must be a positive number, got {value!r}")
    if vials is None:
        vials = vials_for(beads_ml, vial_ml)
    elif isinstance(vials, bool) or float(vials) != int(vials) or int(vials) < 1:
        raise InvalidInputError("vials", f"must be a whole number ≥ 1, got {vials!r}")
    vials = int(vials)
    prepared = vials * vial_ml
    if beads_ml > prepared + _EPS:
        raise InvalidInputError(
            "vials", f"{vials} vial(s) hold {prepared:g} mL, less than the {beads_ml:g} mL planned"
        )
    limited: list[str] = []
    concentration = min(loading_mg_per_ml, capacity_mg_per_ml)
    if loading_mg_per_ml > capacity_mg_per_ml + _EPS:
        limited.append("capacity")
    per_vial = vial_ml * concentration
    most = vials * per_vial
    if dose_mg is None:
        asked = most
    else:
        if isinstance(dose_mg, bool) or not math.isfinite(dose_mg) or dose_mg <= 0:
            raise InvalidInputError(
                "irinotecan_loaded_mg", f"must be a positive number, got {dose_mg!r}"
            )
        if dose_mg > most + _EPS:
            raise InvalidInputError(
                "irinotecan_loaded_mg",
                f"{dose_mg:g} mg exceeds what {vials} vial(s) of {vial_ml:g} mL take up at "
                f"{concentration:g} mg/mL ({most:g} mg)",
            )
        asked = dose_mg
    loaded_target = asked
    if session_limit_mg is not None and asked > session_limit_mg + _EPS:
        loaded_target = session_limit_mg
        limited.append("session_cap")
    loads = fill_vials(vials, per_vial, loaded_target)
    loaded = math.fsum(loads)
    delivered = delivered_mg(beads_ml, vial_ml, loads)
    return VialLoading(
        beads_ml=beads_ml,
        vials=vials,
        vial_ml=vial_ml,
        prepared_ml=prepared,
        per_vial_limit_mg=per_vial,
        loads_mg=loads,
        loaded_mg=loaded,
        expected_delivered_mg=delivered,
        asked_mg=asked,
        limited_by=tuple(limited),
        whole_vial_step=prepared > beads_ml + _EPS and loaded > delivered + _EPS,
    )
