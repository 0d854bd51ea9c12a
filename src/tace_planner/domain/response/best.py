"""Best overall response with confirmation (RECIST 1.1: Eisenhauer, Eur J Cancer 2009, Table 3).

The same rules serve every criterion whose time-point responses use the RECIST
categories (CR, PR, SD, PD, NE): :class:`BestResponseRules` names the criterion and
its stable category for disease without targets (NON-CR/NON-PD in RECIST 1.1,
IR/SD in mRECIST, :func:`tace_planner.domain.response.mrecist.best_overall_response`).

Rules, with the choices written down:

* Assessments after the first PD are dropped (the PD itself is kept).
* A CR is confirmed by a later CR at least ``confirmation_min_days`` after it; a PR
  by a later PR or CR at least that long after it. Assessments in between must be
  CR/PR (or NE, which neither breaks nor confirms); an SD or PD in between breaks it.
* Unconfirmed CR/PR, SD and NON-CR/NON-PD count as SD (NON-CR/NON-PD for
  non-target-only disease; IR/SD in mRECIST) when the assessment is at least ``sd_min_days`` after
  the start of treatment; otherwise the best response is PD if a PD follows, else NE.
* An unconfirmed CR followed by SD before the minimum SD duration is PD (the
  disease came back; Table 3).
* Without confirmation (``confirm=False``, randomised trials) the best response is
  simply the best time-point response, SD still needing its minimum duration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tace_planner.domain.response.base import Response, verdict
from tace_planner.domain.response.parameters import DEFAULT_RESPONSE, ResponseParameters
from tace_planner.domain.response.recist import CRITERION, SOURCE, VALIDATED_FOR

_FORMULA = "RECIST 1.1 Table 3: CR/PR confirmed, SD after its minimum duration, none after PD"
_CONFIRMS = {"CR": ("CR",), "PR": ("PR", "CR")}
_KEEPS = {"CR", "PR", "NE"}


@dataclass(frozen=True)
class BestResponseRules:
    """Who the best overall response is for: names and the non-target-only stable category."""

    criterion: str
    validated_for: str
    title: str
    source: str
    non_target_stable: str


RECIST_RULES = BestResponseRules(
    CRITERION, VALIDATED_FOR, "RECIST 1.1 best overall response", SOURCE, "NON-CR/NON-PD"
)


@dataclass(frozen=True)
class TimepointResponse:
    """An overall response ``day`` days after the start of treatment."""

    day: int
    category: str


def best_overall_response(
    assessments: Sequence[TimepointResponse],
    *,
    confirm: bool = True,
    parameters: ResponseParameters = DEFAULT_RESPONSE,
    rules: BestResponseRules = RECIST_RULES,
) -> Response:
    """The best overall response of a subject's time-point responses (any order).

    ``rules`` names the criterion (RECIST 1.1 unless given) and its stable category
    for non-target-only disease.
    """
    ordered = sorted(assessments, key=lambda a: a.day)
    kept: list[TimepointResponse] = []
    for item in ordered:
        kept.append(item)
        if item.category == "PD":
            break
    dropped = len(ordered) - len(kept)
    gap, sd_days = parameters.confirmation_min_days, parameters.sd_min_days
    inputs = {
        "responses": ", ".join(f"day {a.day}: {a.category}" for a in ordered) or "none",
        "confirmation": f"≥ {gap} days later" if confirm else "not required",
        "minimum SD duration": f"{sd_days} days from the start",
    }
    if dropped:
        inputs["dropped"] = f"{dropped} assessment(s) after the first PD"

    def confirmed(index: int) -> TimepointResponse | None:
        first = kept[index]
        for later in kept[index + 1 :]:
            if later.category not in _KEEPS:
                return None
            if later.day - first.day >= gap and later.category in _CONFIRMS[first.category]:
                return later
        return None

    def done(category: str, rule: str) -> Response:
        source = f"{rules.source}; {parameters.source('confirmation_min_days', 'sd_min_days')}"
        return verdict(
            rules.criterion,
            rules.validated_for,
            rules.title,
            _FORMULA,
            source,
            inputs,
            category,
            rule,
        )

    for category in ("CR", "PR"):
        for index, item in enumerate(kept):
            if item.category != category:
                continue
            if not confirm:
                return done(category, f"{category} on day {item.day} (no confirmation required)")
            later = confirmed(index)
            if later is not None:
                return done(
                    category,
                    f"{category} on day {item.day} confirmed on day {later.day}",
                )
    non_target = rules.non_target_stable
    stable = [a for a in kept if a.category in ("CR", "PR", "SD", non_target) and a.day >= sd_days]
    if stable:
        only_non_target = all(a.category == non_target for a in stable)
        category = non_target if only_non_target else "SD"
        return done(category, f"{category} on day {stable[0].day}, at least {sd_days} days in")
    if kept and kept[-1].category == "PD":
        return done("PD", f"progression on day {kept[-1].day} before any confirmed response")
    after_cr = next(
        (
            later
            for index, item in enumerate(kept)
            if item.category == "CR"
            for later in kept[index + 1 :]
            if later.category == "SD"
        ),
        None,
    )
    if after_cr is not None:
        return done(
            "PD",
            f"SD on day {after_cr.day} after a CR means the disease came back, before the "
            "minimum duration of stable disease",
        )
    return done("NE", "no confirmed response and no stable disease of the minimum duration")
