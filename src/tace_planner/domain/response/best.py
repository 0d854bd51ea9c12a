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
  the baseline imaging; otherwise the best response is PD if a PD follows, else NE.
* An unconfirmed CR followed by SD before the minimum SD duration is PD (the
  disease came back; Table 3).
* Without confirmation (``confirm=False``, randomised trials) the best response is
  simply the best time-point response, SD still needing its minimum duration.

Days. The rules count the minimum SD duration from the baseline imaging (institutional
default: RECIST 1.1 counts it "after study entry" and leaves its length to the protocol),
so the assessments are given in days after the baseline imaging and the rule text says
"N days after baseline", never a bare "day N". A reader whose day 0 is another date (the
case report and the spider plot count from the first TACE,
:mod:`tace_planner.domain.response.day_zero`) gets the same decision worded in its own
days by :func:`best_response_wording`, the baseline intervals kept in words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tace_planner.domain.response.base import Response, verdict
from tace_planner.domain.response.parameters import DEFAULT_RESPONSE, ResponseParameters
from tace_planner.domain.response.recist import CRITERION, SOURCE, VALIDATED_FOR

_FORMULA = "RECIST 1.1 Table 3: CR/PR confirmed, SD after its minimum duration, none after PD"
_CONFIRMS = {"CR": ("CR",), "PR": ("PR", "CR")}
_KEEPS = {"CR", "PR", "NE"}
_RECIST_CATEGORIES = {"CR", "PR", "SD", "PD", "NE"}
RESPONSES_KEY = "responses, days after baseline"
"""The explanation input listing every time-point response (``"56: PR, 112: SD"``)."""


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
    """An overall response ``day`` days after the baseline imaging."""

    day: int
    category: str


@dataclass(frozen=True)
class _Decision:
    """What decided the best overall response (days after baseline), before wording."""

    category: str
    kind: str  # confirmed, unconfirmed_ok, stable, progression, came_back, none
    at: TimepointResponse | None = None
    later: TimepointResponse | None = None
    unconfirmed: TimepointResponse | None = None


def _decide(
    ordered: Sequence[TimepointResponse], confirm: bool, gap: int, sd_days: int, non_target: str
) -> _Decision:
    kept: list[TimepointResponse] = []
    for item in ordered:
        kept.append(item)
        if item.category == "PD":
            break

    def confirmed(index: int) -> TimepointResponse | None:
        first = kept[index]
        for later in kept[index + 1 :]:
            if later.category not in _KEEPS:
                return None
            if later.day - first.day >= gap and later.category in _CONFIRMS[first.category]:
                return later
        return None

    for category in ("CR", "PR"):
        for index, item in enumerate(kept):
            if item.category != category:
                continue
            if not confirm:
                return _Decision(category, "unconfirmed_ok", item)
            later = confirmed(index)
            if later is not None:
                return _Decision(category, "confirmed", item, later)
    unconfirmed = next((a for c in ("CR", "PR") for a in kept if a.category == c), None)
    stable = [a for a in kept if a.category in ("CR", "PR", "SD", non_target) and a.day >= sd_days]
    if stable:
        only_non_target = all(a.category == non_target for a in stable)
        category = non_target if only_non_target else "SD"
        return _Decision(category, "stable", stable[0], unconfirmed=unconfirmed)
    if kept and kept[-1].category == "PD":
        return _Decision("PD", "progression", kept[-1], unconfirmed=unconfirmed)
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
        return _Decision("PD", "came_back", after_cr, unconfirmed=unconfirmed)
    return _Decision("NE", "none", unconfirmed=unconfirmed)


def _wording(decision: _Decision, gap: int, sd_days: int, shift: int | None) -> str:
    """The rule in words; ``shift``: days from the baseline imaging to the reader's day 0
    (None: the days are said as days after baseline)."""

    def when(item: TimepointResponse) -> str:
        return f"{item.day} days after baseline" if shift is None else f"on day {item.day - shift}"

    def duration(item: TimepointResponse) -> str:
        if shift is None:
            return f" (at least {sd_days} needed for SD)"
        return f", {item.day} days after baseline (at least {sd_days} needed for SD)"

    def not_confirmed(item: TimepointResponse) -> str:
        return (
            f"{item.category} {when(item)} not confirmed (needs a second assessment "
            f"≥ {gap} days later, Eisenhauer 2009)"
        )

    at, later, unconfirmed = decision.at, decision.later, decision.unconfirmed
    category = decision.category
    if decision.kind == "confirmed" and at is not None and later is not None:
        return f"{category} {when(at)}, confirmed {when(later)} ({later.day - at.day} days later)"
    if decision.kind == "unconfirmed_ok" and at is not None:
        return f"{category} {when(at)} (no confirmation required)"
    if decision.kind == "stable" and at is not None:
        if at.category in _CONFIRMS:
            return f"{not_confirmed(at)}: counts as {category}{duration(at)}"
        text = f"{category} {when(at)}{duration(at)}"
        if unconfirmed is not None:
            text += f"; {not_confirmed(unconfirmed)}"
        return text
    if decision.kind == "progression" and at is not None:
        return f"progression {when(at)} before any confirmed response"
    if decision.kind == "came_back" and at is not None:
        return (
            f"SD {when(at)} after an unconfirmed CR means the disease came back, before the "
            f"minimum duration of stable disease ({sd_days} days after baseline)"
        )
    if unconfirmed is not None:
        return (
            f"{not_confirmed(unconfirmed)}, and no stable disease at least {sd_days} days "
            "after baseline"
        )
    return (
        f"no confirmed response and no stable disease of the minimum duration "
        f"({sd_days} days after baseline)"
    )


def _listing(ordered: Sequence[TimepointResponse], shift: int | None) -> str:
    if shift is None:
        return ", ".join(f"{a.day}: {a.category}" for a in ordered) or "none"
    return ", ".join(f"day {a.day - shift}: {a.category}" for a in ordered) or "none"


def best_overall_response(
    assessments: Sequence[TimepointResponse],
    *,
    confirm: bool = True,
    parameters: ResponseParameters = DEFAULT_RESPONSE,
    rules: BestResponseRules = RECIST_RULES,
) -> Response:
    """The best overall response of a subject's time-point responses (any order), their
    days counted from the baseline imaging (module notes).

    ``rules`` names the criterion (RECIST 1.1 unless given) and its stable category
    for non-target-only disease.
    """
    ordered = sorted(assessments, key=lambda a: a.day)
    gap, sd_days = parameters.confirmation_min_days, parameters.sd_min_days
    decision = _decide(ordered, confirm, gap, sd_days, rules.non_target_stable)
    kept = next((i + 1 for i, a in enumerate(ordered) if a.category == "PD"), len(ordered))
    inputs = {
        RESPONSES_KEY: _listing(ordered, None),
        "confirmation": f"≥ {gap} days later" if confirm else "not required",
        "minimum SD duration": f"{sd_days} days after baseline",
    }
    if len(ordered) > kept:
        inputs["dropped"] = f"{len(ordered) - kept} assessment(s) after the first PD"
    source = f"{rules.source}; {parameters.source('confirmation_min_days', 'sd_min_days')}"
    return verdict(
        rules.criterion,
        rules.validated_for,
        rules.title,
        _FORMULA,
        source,
        inputs,
        decision.category,
        _wording(decision, gap, sd_days, None),
    )


@dataclass(frozen=True)
class BestResponseWording:
    """A stored best overall response worded for one reader: its rule and its inputs."""

    rule: str
    inputs: Mapping[str, str]


_OLD_ITEM = re.compile(r"^day (-?\d+): (\S+)$")
_NEW_ITEM = re.compile(r"^(-?\d+): (\S+)$")
_DAYS = re.compile(r"(\d+) days")


def _parsed(inputs: Mapping[str, Any]) -> tuple[list[TimepointResponse], str] | None:
    """The time-point responses of a stored explanation and the key they were under
    (this module's listing, or the older ``"responses"``: "day 56: PR, …"); None when
    they cannot be read."""
    for key, pattern in ((RESPONSES_KEY, _NEW_ITEM), ("responses", _OLD_ITEM)):
        text = inputs.get(key)
        if not isinstance(text, str):
            continue
        items = [] if text == "none" else text.split(", ")
        found = [pattern.match(item) for item in items]
        if not all(found):
            return None
        return [TimepointResponse(int(m[1]), m[2]) for m in found if m], key
    return None


def best_response_wording(
    best: Mapping[str, Any], assessed_on_day: int | None = None
) -> BestResponseWording:
    """A stored best overall response (``Response.to_json()``) worded in the reader's days.

    ``assessed_on_day`` is the reader's day (from its day 0, e.g. the first TACE) of the
    follow-up the response was assessed at, the last of its time-point responses; the
    days then read as "day N" from that day 0 and the minimum SD duration keeps its
    baseline interval in words ("SD on day 56, 70 days after baseline (at least 42
    needed for SD)"). None: every day is said as days after baseline. An older stored
    rule ("SD on day 70, at least 42 days in", days after baseline) is worded anew too;
    a response that cannot be re-read (or does not decide the same) keeps its text.
    """
    stored_rule = str(best.get("rule") or "")
    explanation = best.get("explanation")
    inputs: dict[str, str] = {}
    if isinstance(explanation, Mapping) and isinstance(explanation.get("inputs"), Mapping):
        inputs = {str(k): str(v) for k, v in explanation["inputs"].items()}
    parsed = _parsed(inputs)
    gap_text, sd_text = inputs.get("confirmation", ""), inputs.get("minimum SD duration", "")
    gap, sd = _DAYS.search(gap_text), _DAYS.search(sd_text)
    if parsed is None or sd is None or (gap is None and gap_text != "not required"):
        return BestResponseWording(stored_rule, inputs)
    ordered, key = sorted(parsed[0], key=lambda a: a.day), parsed[1]
    gap_days, sd_days = (int(gap[1]) if gap else 0), int(sd[1])
    others = {a.category for a in ordered} - _RECIST_CATEGORIES
    non_target = next(iter(others)) if len(others) == 1 else RECIST_RULES.non_target_stable
    decision = _decide(ordered, gap is not None, gap_days, sd_days, non_target)
    if decision.category != best.get("category"):
        return BestResponseWording(stored_rule, inputs)
    shift = None
    if assessed_on_day is not None and ordered:
        shift = ordered[-1].day - assessed_on_day
    worded = {k: v for k, v in inputs.items() if k != key}
    listing = {"responses": _listing(ordered, shift)} if shift is not None else {}
    listing = listing or {RESPONSES_KEY: _listing(ordered, None)}
    worded = {**listing, **worded, "minimum SD duration": f"{sd_days} days after baseline"}
    return BestResponseWording(_wording(decision, gap_days, sd_days, shift), worded)
