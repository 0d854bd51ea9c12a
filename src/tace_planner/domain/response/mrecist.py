"""mRECIST non-target and new lesions, the time-point and the best overall response.

Modified RECIST for hepatocellular carcinoma (Lencioni and Llovet, Semin Liver Dis
2010): the target response is the sum of viable (arterially enhancing) diameters
(:func:`tace_planner.domain.response.other.mrecist_response`); this module adds the
non-target response, the new-lesion rules and the overall response of the paper's
table, each with the rule that decided, as the RECIST 1.1 engine does.

* Non-target: CR is the disappearance of any intratumoural arterial enhancement in
  every non-target lesion; IR/SD (incomplete response / stable disease) its
  persistence in one or more; PD the unequivocal progression of a non-target lesion.
  An ascites or pleural effusion that appears or grows is progression only when
  cytology proves it malignant.
* New lesion: it counts as progression when its longest diameter is at least 10 mm
  and it enhances in the arterial phase with washout in the portal venous or late
  phase (the typical vascular pattern); a lesion of 10 mm or more without that
  pattern counts once it has grown at least 10 mm between scans. Anything else is
  equivocal, which is not progression.
* Overall response (target × non-target × new lesions): CR + CR + no → CR;
  CR + IR/SD + no → PR; PR + non-PD + no → PR; SD + non-PD + no → SD; PD in any
  column or a new lesion → PD.

Choices the source leaves open, written down here and in each explanation:

* Washout not assessed (``washout=None``): the arterially enhancing criterion
  decides alone (liver metastases do not have the washout pattern of hepatocellular
  carcinoma, and the registry does not measure it); an explicit "no washout" makes
  the lesion atypical, so it needs the interval growth.
* Not evaluable (NE) is not in the published table; as in RECIST 1.1 Table 1, a
  non-target NE leaves a target CR as PR and a target PR or SD as it is, a target NE
  without progression elsewhere is NE.
* An equivocal new lesion is not PD, but a CR is not assigned while it stays
  equivocal (PR, as RECIST 1.1).
* Disease without targets: the paper gives no table; the overall response is the
  non-target response (CR, IR/SD or NE) unless a new lesion makes it PD.
* Boundary values are compared exactly in decimal (10.0 mm is enough).
* Best overall response over the course: Lencioni and Llovet (Semin Liver Dis 2010)
  amend RECIST only in the measurement of target lesions (viable diameter), the
  non-target and new-lesion rules and the overall response table; they give no
  rule of their own for the best overall response or its confirmation. The RECIST
  1.1 rules (Eisenhauer, Eur J Cancer 2009) are therefore applied unchanged, from
  the same code (:mod:`tace_planner.domain.response.best`): CR/PR confirmed by a
  later CR/PR at least ``confirmation_min_days`` later (an NE in between neither
  breaks nor confirms, an SD or PD breaks), an unconfirmed CR/PR or SD counts as SD
  after ``sd_min_days``, assessments after the first PD dropped. IR/SD (disease
  without targets) takes the place of RECIST's NON-CR/NON-PD.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tace_planner.domain.response.base import Response, fmt, progression_sources, verdict
from tace_planner.domain.response.best import BestResponseRules, TimepointResponse
from tace_planner.domain.response.best import best_overall_response as _best
from tace_planner.domain.response.other import HCC, MRECIST
from tace_planner.domain.response.parameters import DEFAULT_RESPONSE, ResponseParameters, decimal
from tace_planner.domain.response.recist import NEW_LESION_STATES, NewLesions

SOURCE = "mRECIST (Lencioni and Llovet, Semin Liver Dis 2010)"
_NEW_NAMES = ("mrecist_new_lesion_min_mm", "mrecist_new_lesion_growth_mm")

NonTargetState = Literal["not_enhancing", "enhancing", "unequivocal_progression", "not_evaluated"]
NON_TARGET_STATES: tuple[NonTargetState, ...] = (
    "not_enhancing",
    "enhancing",
    "unequivocal_progression",
    "not_evaluated",
)
IR_SD = "IR/SD"
BEST_RULES = BestResponseRules(
    MRECIST,
    HCC,
    "mRECIST best overall response",
    f"{SOURCE}; confirmation and minimum duration as RECIST 1.1 (Eisenhauer, Eur J Cancer 2009)",
    IR_SD,
)


def _response(category: str, rule: str, what: str, formula: str, inputs: dict[str, str],
              source: str = SOURCE) -> Response:  # fmt: skip
    return verdict(MRECIST, HCC, f"mRECIST {what}", formula, source, inputs, category, rule)


@dataclass(frozen=True)
class NewLesionObservation:
    """A lesion first seen after baseline.

    Attributes
    ----------
    lesion_id : str
    longest_diameter_mm : float or None
        None when not measured.
    arterial_enhancement : bool
        It enhances in the arterial phase.
    washout : bool or None
        Washout in the portal venous or late phase; None when not assessed.
    interval_growth_mm : float or None
        Growth of its longest diameter since the scan that first showed it.
    """

    lesion_id: str
    longest_diameter_mm: float | None
    arterial_enhancement: bool
    washout: bool | None = None
    interval_growth_mm: float | None = None


def _classify(item: NewLesionObservation, p: ResponseParameters) -> tuple[bool, str]:
    """(counts as progression, why) for one new lesion."""
    size_mm = p.mrecist_new_lesion_min_mm
    if item.longest_diameter_mm is None:
        return False, "not measured: equivocal"
    size = decimal(item.longest_diameter_mm)
    if size < size_mm:
        return False, f"{fmt(size, 'mm')} < {fmt(size_mm, 'mm')}: equivocal"
    growth = None if item.interval_growth_mm is None else decimal(item.interval_growth_mm)
    grew = growth is not None and growth >= p.mrecist_new_lesion_growth_mm
    typical = item.arterial_enhancement and item.washout is not False
    if typical:
        pattern = "arterial enhancement" + (
            " with washout" if item.washout else " (washout not assessed)"
        )
        return True, f"{fmt(size, 'mm')} ≥ {fmt(size_mm, 'mm')} with {pattern}"
    if grew:
        return True, (
            f"{fmt(size, 'mm')}, atypical, but grew {fmt(growth, 'mm')} ≥ "
            f"{fmt(p.mrecist_new_lesion_growth_mm, 'mm')} between scans"
        )
    return False, (
        f"{fmt(size, 'mm')} without the typical vascular pattern or interval growth: equivocal"
    )


def new_lesion_status(
    lesions: Sequence[NewLesionObservation], parameters: ResponseParameters = DEFAULT_RESPONSE
) -> Response:
    """Whether the new lesions show progression: category none, equivocal or unequivocal."""
    p = parameters
    inputs = {
        "thresholds": f"≥ {fmt(p.mrecist_new_lesion_min_mm, 'mm')} with arterial enhancement "
        f"and washout, or ≥ {fmt(p.mrecist_new_lesion_growth_mm, 'mm')} interval growth",
    }
    verdicts = {item.lesion_id: _classify(item, p) for item in lesions}
    inputs.update({name: why for name, (_, why) in verdicts.items()})
    source = f"{SOURCE}; {p.source(*_NEW_NAMES)}"
    what, formula = "new lesions", "per new lesion: size and vascular pattern, or interval growth"
    if not lesions:
        return _response("none", "no new lesion", what, formula, inputs, source)
    proven = [name for name, (hit, _) in verdicts.items() if hit]
    if proven:
        return _response(
            "unequivocal", f"new lesion {', '.join(proven)} meets the rule", what, formula,
            inputs, source,
        )  # fmt: skip
    return _response(
        "equivocal",
        "every new lesion is equivocal (not progression; re-assess at the next scan)",
        what, formula, inputs, source,
    )  # fmt: skip


@dataclass(frozen=True)
class MrecistNonTarget:
    """A non-target lesion at one timepoint (mRECIST).

    ``state``: "not_enhancing" (no intratumoural arterial enhancement left, or gone),
    "enhancing", "unequivocal_progression", "not_evaluated". ``effusion``: an ascites
    or pleural effusion, whose progression needs ``cytology_confirmed``.
    """

    lesion_id: str
    state: NonTargetState
    effusion: bool = False
    cytology_confirmed: bool = False


def non_target_response(lesions: Sequence[MrecistNonTarget]) -> Response | None:
    """mRECIST non-target response (CR, IR/SD, PD, NE); None when there are none."""
    if not lesions:
        return None
    inputs = {m.lesion_id: m.state.replace("_", " ") for m in lesions}
    unproven = [
        m.lesion_id
        for m in lesions
        if m.effusion and m.state == "unequivocal_progression" and not m.cytology_confirmed
    ]
    for name in unproven:
        inputs[name] += " (effusion without cytological proof: not progression)"
    what, formula = "non-target response", "per-lesion arterial enhancement"
    if any(m.state == "unequivocal_progression" and m.lesion_id not in unproven for m in lesions):
        return _response(
            "PD", "unequivocal progression of non-target disease", what, formula, inputs
        )
    if any(m.state == "not_evaluated" for m in lesions):
        return _response("NE", "a non-target lesion was not evaluated", what, formula, inputs)
    if all(m.state == "not_enhancing" for m in lesions):
        return _response(
            "CR", "no intratumoural arterial enhancement in any non-target lesion", what,
            formula, inputs,
        )  # fmt: skip
    return _response(
        IR_SD, "arterial enhancement persists in one or more non-target lesions", what,
        formula, inputs,
    )  # fmt: skip


def overall_response(
    target: str | None, non_target: str | None, new_lesions: NewLesions = "none"
) -> Response:
    """mRECIST time-point overall response (the paper's overall response table).

    ``target``: CR/PR/SD/PD/NE or None (no target); ``non_target``: CR/IR/SD/PD/NE or
    None (no non-target disease); ``new_lesions``: none/equivocal/unequivocal (see
    :func:`new_lesion_status`).
    """
    if new_lesions not in NEW_LESION_STATES:
        raise ValueError(f"new_lesions must be one of {NEW_LESION_STATES}")
    inputs = {
        "target": target or "none at baseline",
        "non-target": non_target or "none at baseline",
        "new lesions": new_lesions,
    }
    equivocal = new_lesions == "equivocal"
    note = " (an equivocal new lesion is not progression; re-assess at the next scan)"

    def done(category: str, rule: str) -> Response:
        return _response(category, rule, "overall response", "target × non-target × new lesions",
                         inputs)  # fmt: skip

    progressed = progression_sources(target, non_target, new_lesions)
    if progressed:
        return done("PD", "progression of " + progressed)
    if target is None:
        if non_target is None:
            return done("NE", "no target and no non-target disease recorded")
        if non_target == "CR" and equivocal:
            return done(IR_SD, "non-target CR, but a new lesion is equivocal" + note)
        return done(non_target, f"no target disease: the non-target response {non_target}")
    if target == "CR":
        if non_target in (None, "CR"):
            if equivocal:
                return done("PR", "target CR, but a new lesion is equivocal" + note)
            return done("CR", "target and non-target CR, no new lesion")
        return done("PR", f"target CR with non-target {non_target}")
    if target in ("PR", "SD"):
        return done(target, f"target {target} without progression elsewhere"
                    + (note if equivocal else ""))  # fmt: skip
    return done("NE", "target disease not evaluable and no progression elsewhere")


def best_overall_response(
    assessments: Sequence[TimepointResponse],
    *,
    confirm: bool = True,
    parameters: ResponseParameters = DEFAULT_RESPONSE,
) -> Response:
    """mRECIST best overall response of the time-point overall responses (any order).

    The RECIST 1.1 rules of confirmation and minimum SD duration (see the module).
    """
    return _best(assessments, confirm=confirm, parameters=parameters, rules=BEST_RULES)
