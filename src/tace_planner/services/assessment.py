"""Response assessment of a case's follow-up: every criterion side by side, on demand.

Reads the lesions and their latest measurements per timepoint (through the
contouring service) and runs the engines of :mod:`tace_planner.domain.response`.
Each assessment is stored (one row per criterion with its explanation, the parameter
values, who and when; :mod:`tace_planner.services.assessment_records`) unless
``store=False``; assessing the same follow-up again supersedes the older rows, which
are kept and audited. When ``record_progression`` is set and the
RECIST 1.1 overall response is PD, liver progression is added to the follow-up
through :meth:`FollowupService.add_progression`, which ends the schedule and
feeds the time to progression. It never narrows a site already recorded there:
extrahepatic progression recorded by hand becomes "both", "both" stays "both", and a
progression recorded without its site is kept as it is (the result's
``progression_note`` says what was kept).

How the registry's data map onto the criteria (choices written down):

* Targets are the baseline foci marked as targets; their diameter is the latest
  longest axial diameter (every focus here is a liver lesion, none a lymph node).
  A target without a contour at the follow-up is missing (NE unless the rest
  proves PD).
* Which lesions each criterion measures is decided once, in
  :func:`~tace_planner.domain.response.reference_lesions.reference_lesions`: the
  targets when any were chosen; without targets RECIST 1.1 has no target sum,
  mRECIST, EASL and Choi measure the measurable foci (≥ 10 mm) and the volumetric
  criterion the total volume of every focus. The result's ``reference_lesions``
  names them per criterion, and each criterion's explanation says it ("lesions
  measured").
* Non-targets are the other baseline foci: contoured with a volume > 0 is
  "present", volume 0 is "absent", not contoured is "not evaluated".
  Unequivocal non-target progression is the reader's judgement and is not
  inferred from numbers.
* A focus first contoured after baseline is an unequivocal new lesion (it was
  contoured, so it was seen).
* mRECIST non-targets: enhancing fraction > 0 is "enhancing", 0 (or volume 0) "not
  enhancing", not measured "not evaluated". A new focus is judged by the mRECIST
  new-lesion rule: its longest diameter, arterial enhancement = enhancing fraction
  > 0 (washout is not assessed), interval growth since it was first contoured.
* mRECIST and EASL need viable (enhancing) diameters, which are not measured:
  they are estimated from the enhancing volume fraction f of each target
  (viable diameter D·f^(1/3), viable area D·d·f^(2/3), sphere assumption); the
  explanation says so. Choi's attenuation is the mean arterial-phase HU (Choi
  used the portal venous phase), again said in the explanation.
* Day 0 of the best overall response is the baseline imaging date. RECIST 1.1 and
  mRECIST each give one (``best_overall``), from their own time-point overall
  responses at every follow-up up to the one assessed (mRECIST's listed in
  ``course``), by the same confirmation rules.
* Doubling time and SGR are given per lesion and in total since the previous
  timepoint (the baseline for the first follow-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Explanation
from tace_planner.domain.response.base import Response
from tace_planner.domain.response.best import TimepointResponse, best_overall_response
from tace_planner.domain.response.growth import lesion_growth, total_growth
from tace_planner.domain.response.mrecist import (
    MrecistNonTarget,
    NewLesionObservation,
    new_lesion_status,
)
from tace_planner.domain.response.mrecist import best_overall_response as mrecist_best
from tace_planner.domain.response.mrecist import non_target_response as mrecist_non_target
from tace_planner.domain.response.mrecist import overall_response as mrecist_overall
from tace_planner.domain.response.other import (
    choi_response,
    easl_response,
    mrecist_response,
    volumetric_response,
)
from tace_planner.domain.response.parameters import DEFAULT_RESPONSE, ResponseParameters
from tace_planner.domain.response.recist import (
    NonTargetAssessment,
    TargetMeasurement,
    non_target_response,
    overall_response,
    target_response,
)
from tace_planner.domain.response.reference_lesions import (
    BaselineFocus,
    ReferenceSet,
    reference_lesions,
)
from tace_planner.services.assessment_records import (
    StoredAssessment,
    store_results,
    stored_assessments,
)
from tace_planner.services.contouring_dto import (
    LesionMeasurementItem,
    MeasurementsItem,
    TimepointChoice,
)
from tace_planner.services.visit_lookup import case_visits, listed, visit_matches
from tace_planner.services.visit_names import name_of, typed_of

CRITERIA = ("recist", "mrecist", "easl", "choi", "volume")
"""The criteria ``assess`` can compute."""

ESTIMATE_NOTE = (
    "viable size estimated from the enhancing volume fraction f (sphere assumption: "
    "diameter D·f^(1/3), area D·d·f^(2/3)); not a measured viable diameter"
)


class _Lesions(Protocol):
    def timepoints(self, case_pk: int) -> list[TimepointChoice]: ...


class _Contouring(Protocol):
    lesions: _Lesions

    def measurements(
        self, series_uid: str | None = None, *, case_pk: int | None = None, timepoint: Any = None
    ) -> MeasurementsItem: ...


class _Followups(Protocol):
    def add_progression(self, timepoint_pk: int, site: str) -> tuple[str, Any]: ...


class AssessmentService:
    """Assess a follow-up with RECIST 1.1, mRECIST, EASL, Choi and volume.

    Parameters
    ----------
    contouring, followups
        The contouring and follow-up services.
    parameters : ResponseParameters, optional
        The thresholds (``response.json``).
    sessions : sessionmaker, optional
        Where assessments are stored; without it nothing is stored.
    user : str
        Written with each stored assessment and into the audit trail.
    """

    def __init__(
        self,
        contouring: _Contouring,
        followups: _Followups,
        parameters: ResponseParameters = DEFAULT_RESPONSE,
        *,
        sessions: sessionmaker[Session] | None = None,
        user: str = "",
    ) -> None:
        self._contouring = contouring
        self._followups = followups
        self.parameters = parameters
        self._sessions = sessions
        self._user = user

    def stored(self, case_pk: int, *, include_superseded: bool = False) -> list[StoredAssessment]:
        """The case's stored assessments (current only unless ``include_superseded``)."""
        if self._sessions is None:
            return []
        return stored_assessments(self._sessions, case_pk, include_superseded=include_superseded)

    def _timepoint(
        self, case_pk: int, points: Sequence[TimepointChoice], typed: str | int
    ) -> tuple[TimepointChoice, Any]:
        """The timepoint of ``points`` that ``typed`` names (see :meth:`assess`) and its visit
        (:func:`~tace_planner.services.visit_lookup.case_visits`: what
        :func:`~tace_planner.services.visit_names.name_of` names)."""
        visits = case_visits(self._sessions, case_pk, points)
        named = [v for v in visits if v.pk == typed] if isinstance(typed, int) else []
        named = named or visit_matches(str(typed), visits)
        if len(named) > 1:
            raise InvalidInputError(
                "timepoint",
                f"{typed!r} names {len(named)} timepoints of case {case_pk}: "
                f"{listed(named, with_ids=True)}; give the full name or the id",
            )
        if not named:
            follow_ups = [v for v, p in zip(visits, points, strict=True) if p.kind != "baseline"]
            raise InvalidInputError(
                "timepoint",
                f"case {case_pk} has no timepoint {typed!r} (its follow-ups: {listed(follow_ups)})",
            )
        return next(p for p in points if p.pk == named[0].pk), named[0]

    def assess(
        self,
        case_pk: int,
        timepoint: str | int,
        criteria: Sequence[str] = CRITERIA,
        *,
        record_progression: bool = False,
        store: bool = True,
    ) -> dict[str, Any]:
        """Every requested criterion at ``timepoint``, JSON-ready.

        ``timepoint`` is an id (int), or what a user typed, in this order
        (:func:`~tace_planner.services.visit_lookup.visit_matches`): the stored label
        ("follow-up 2"), the visit name ("TACE 1 follow-up 1", as the worklist shows it),
        the id. Case and spacing do not matter. Without ``sessions`` the visit names are
        not known: the label and the id only.

        The result names the follow-up twice: ``timepoint`` is its stored label (what
        commands accept), ``visit_name`` the name the worklist and the Follow-up box show
        (:func:`~tace_planner.services.visit_names.name_of`; the label without ``sessions``).

        Stored (superseding the criteria's earlier rows at that timepoint) when
        ``store`` and the service has ``sessions``.

        Raises
        ------
        InvalidInputError
            Unknown criterion, unknown or ambiguous timepoint (the message lists the case's
            follow-ups by name, the label in brackets when it differs), or the baseline.
        """
        unknown = [c for c in criteria if c not in CRITERIA]
        if unknown:
            raise InvalidInputError("criteria", f"unknown {unknown}; expected some of {CRITERIA}")
        points = self._contouring.lesions.timepoints(case_pk)
        baseline = next((p for p in points if p.kind == "baseline"), None)
        if baseline is None:
            raise InvalidInputError("timepoint", f"case {case_pk} has no baseline timepoint")
        current, visit = self._timepoint(case_pk, points, timepoint)
        if current.pk == baseline.pk:
            raise InvalidInputError("timepoint", "is the baseline: assess a follow-up")
        follow_ups = [p for p in points if p.kind != "baseline"]
        course = follow_ups[: follow_ups.index(current) + 1]
        base = self._contouring.measurements(case_pk=case_pk, timepoint=baseline.pk)
        measured = [self._contouring.measurements(case_pk=case_pk, timepoint=p.pk) for p in course]
        # a follow-up not imaged (yet) is no visit: refused when asked, left out of the course
        kept = [(p, m) for p, m in zip(course, measured, strict=True) if _imaged(p, m)]
        if not kept or kept[-1][0].pk != current.pk:
            raise InvalidInputError(
                "timepoint",
                f"{typed_of(visit)} has no images yet: link its study and confirm its "
                "contours, then assess (nothing stored)",
            )
        course, measured = [p for p, _ in kept], [m for _, m in kept]
        result: dict[str, Any] = {
            "case": case_pk,
            "timepoint": current.label,
            "visit_name": name_of(visit),
            "baseline": baseline.label,
            "days_from_baseline": _days(baseline, current),
            "stored": False,
            "note": "computed on demand from the latest measurements; not stored",
            "parameters_version": self.parameters.version,
            "criteria": {},
        }
        chosen = _reference_sets(base, criteria)
        result["reference_lesions"] = {c: chosen[c].to_json() for c in criteria}
        if "recist" in criteria:
            result["recist"] = self._recist(base, measured, course, baseline)
            _say(result["recist"]["overall"], chosen["recist"])
            result["criteria"]["recist"] = result["recist"]["overall"]
        now, earlier = measured[-1], measured[:-1]
        new = any(f.name not in {b.name for b in base.foci} for f in now.foci)
        if "volume" in criteria:
            reference = _lesions_of(base, chosen["volume"])
            result["criteria"]["volume"] = _say(
                volumetric_response(
                    _total(reference, base, "volume_cm3") or 0.0,
                    _total(reference, now, "volume_cm3") if reference else None,
                    [v for m in earlier if (v := _total(reference, m, "volume_cm3")) is not None],
                    new_lesions=new,
                    parameters=self.parameters,
                ).to_json(),
                chosen["volume"],
            )
        if "mrecist" in criteria:
            reference = _lesions_of(base, chosen["mrecist"])
            result["mrecist"] = self._mrecist_course(base, measured, reference, course, baseline)
            for part in ("target", "overall"):
                if result["mrecist"][part] is not None:
                    _say(result["mrecist"][part], chosen["mrecist"])
            result["criteria"]["mrecist"] = result["mrecist"]["overall"]
        if "easl" in criteria:
            reference = _lesions_of(base, chosen["easl"])
            result["criteria"]["easl"] = _say(
                _noted(
                    easl_response(
                        _viable(reference, base, "area") or 0.0,
                        _viable(reference, now, "area") if reference else None,
                        [v for m in earlier if (v := _viable(reference, m, "area")) is not None],
                        new_lesions=new,
                        parameters=self.parameters,
                    ),
                    ESTIMATE_NOTE,
                ),
                chosen["easl"],
            )
        if "choi" in criteria:
            reference = _lesions_of(base, chosen["choi"])
            result["criteria"]["choi"] = _say(
                _choi(reference, base, now, earlier, new, self.parameters), chosen["choi"]
            )
        result["lesions"] = _per_lesion(base, now)
        before, before_point = (measured[-2], course[-2]) if len(course) > 1 else (base, baseline)
        result["growth"] = _growth(before, now, _days(before_point, current))
        result["growth"]["since"] = before_point.label
        result["progression_recorded"] = False
        overall = result.get("recist", {}).get("overall", {}).get("category")
        if record_progression and overall == "PD":
            recorded, item = self._followups.add_progression(current.pk, "liver")
            result["progression_recorded"] = True
            result["progression_site"] = item.progression_site
            result["progression_note"] = progression_note(recorded, item.progression_site)
        if store and self._sessions is not None:
            parts = {"recist": result.get("recist"), "mrecist": result.get("mrecist")}
            result["assessment_ids"] = store_results(
                self._sessions,
                self._user,
                case_pk,
                current.pk,
                {key: parts.get(key) or value for key, value in result["criteria"].items()},
                self.parameters.to_json(),
            )
            result["stored"] = True
            result["note"] = (
                "stored; assessing this follow-up again supersedes it, and the older one is kept"
            )
        if result.get("progression_note"):
            result["note"] += f"; {result['progression_note']}"
        return result

    def _mrecist_course(
        self,
        base: MeasurementsItem,
        measured: list[MeasurementsItem],
        reference: list[LesionMeasurementItem],
        course: list[TimepointChoice],
        baseline: TimepointChoice,
    ) -> dict[str, Any]:
        """mRECIST at the last follow-up, its course and the best overall response."""
        timeline: list[TimepointResponse] = []
        steps: list[dict[str, str]] = []
        out: dict[str, Any] = {}
        for index, point in enumerate(course):
            out = self._mrecist(base, measured[: index + 1], reference)
            category = out["overall"]["category"]
            steps.append({"timepoint": point.label, "overall": category})
            days = _days(baseline, point)
            if days is not None:
                timeline.append(TimepointResponse(days, category))
        out["course"] = steps
        if len(timeline) == len(course):
            best = mrecist_best(timeline, parameters=self.parameters)
            out["best_overall"] = _noted(best, ESTIMATE_NOTE)
        else:
            out["best_overall"] = None
            out["best_overall_note"] = "an imaging date is missing: confirmation cannot be timed"
        return out

    def _mrecist(
        self,
        base: MeasurementsItem,
        measured: list[MeasurementsItem],
        reference: list[LesionMeasurementItem],
    ) -> dict[str, Any]:
        """mRECIST target, non-target, new lesions and overall response at ``measured[-1]``."""
        now, earlier = measured[-1], measured[:-1]
        p = self.parameters
        target = (
            mrecist_response(
                _viable(reference, base, "diameter") or 0.0,
                _viable(reference, now, "diameter"),
                [v for m in earlier if (v := _viable(reference, m, "diameter")) is not None],
                parameters=p,
            )
            if reference
            else None
        )
        chosen = {f.name for f in reference}
        non_target = mrecist_non_target(
            [_mrecist_non_target(f.name, now.lesion(f.name)) for f in base.foci
             if f.name not in chosen]
        )  # fmt: skip
        known = {f.name for f in base.foci}
        new = new_lesion_status(
            [
                NewLesionObservation(
                    f.name,
                    f.longest_axial_diameter_mm,
                    (f.enhancing_fraction or 0.0) > 0,
                    None,
                    _growth_since_first(f, earlier),
                )
                for f in now.foci
                if f.name not in known
            ],
            p,
        )
        overall = mrecist_overall(
            None if target is None else target.category,
            None if non_target is None else non_target.category,
            new.category,  # type: ignore[arg-type]
        )
        return {
            "target": None if target is None else _noted(target, ESTIMATE_NOTE),
            "non_target": None if non_target is None else non_target.to_json(),
            "new_lesions": new.category,
            "new_lesion_rule": new.to_json(),
            "overall": _noted(overall, ESTIMATE_NOTE),
        }

    def _recist(
        self,
        base: MeasurementsItem,
        measured: list[MeasurementsItem],
        course: list[TimepointChoice],
        baseline: TimepointChoice,
    ) -> dict[str, Any]:
        targets = [f for f in base.foci if f.is_target]
        non_targets = [f for f in base.foci if not f.is_target]
        known = {f.name for f in base.foci}
        base_t = [TargetMeasurement(f.name, f.longest_axial_diameter_mm) for f in targets]
        timeline: list[TimepointResponse] = []
        previous: list[list[TargetMeasurement]] = []
        out: dict[str, Any] = {}
        for point, items in zip(course, measured, strict=True):
            now_t = [
                TargetMeasurement(f.name, m.longest_axial_diameter_mm)
                for f in targets
                if (m := items.lesion(f.name)) is not None
            ]
            confirmed = bool(timeline) and best_overall_response(
                timeline, parameters=self.parameters
            ).category in ("PR", "CR")
            target = (
                target_response(
                    base_t, now_t, previous, confirmed_pr=confirmed, parameters=self.parameters
                )
                if targets
                else None
            )
            non_target = non_target_response(
                [_non_target(f.name, items.lesion(f.name)) for f in non_targets], self.parameters
            )
            new = "unequivocal" if any(f.name not in known for f in items.foci) else "none"
            overall = overall_response(
                None if target is None else target.category,
                None if non_target is None else non_target.category,
                new,
            )
            previous.append(now_t)
            days = _days(baseline, point)
            if days is not None:
                timeline.append(TimepointResponse(days, overall.category))
            out = {
                "target": None if target is None else target.to_json(),
                "non_target": None if non_target is None else non_target.to_json(),
                "new_lesions": new,
                "overall": overall.to_json(),
                "course": [*out.get("course", []), {"timepoint": point.label,
                                                     "overall": overall.category}],
            }  # fmt: skip
        if len(timeline) == len(course):
            out["best_overall"] = best_overall_response(
                timeline, parameters=self.parameters
            ).to_json()
        else:
            out["best_overall"] = None
            out["best_overall_note"] = "an imaging date is missing: confirmation cannot be timed"
        return out


SITE_WORDS = {
    "liver": "liver",
    "extrahepatic": "extrahepatic",
    "both": "liver and extrahepatic",
    "unspecified": "site not specified",
}


def progression_note(recorded: str, now: str) -> str:
    """What recording liver progression did to the site already recorded, in plain words."""
    if not recorded:
        return f"progression recorded: {SITE_WORDS.get(now, now)}"
    if recorded == now:
        kept = f"progression was already recorded here ({SITE_WORDS.get(now, now)}); kept"
        if now == "unspecified":
            return f"{kept}, as it may lie outside the liver: give its site if it is known"
        return f"{kept} as it was"
    return (
        f"progression was already recorded here ({SITE_WORDS.get(recorded, recorded)}); "
        f"kept and the liver added: now {SITE_WORDS.get(now, now)}"
    )


def _percent(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return round(100 * (now - before) / before, 1)


def _per_lesion(base: MeasurementsItem, now: MeasurementsItem) -> list[dict[str, Any]]:
    """Each focus at baseline and now, with its % change (for the spider plot)."""
    rows = []
    known = {f.name for f in base.foci}
    for name in sorted(known | {f.name for f in now.foci}):
        b, a = base.lesion(name), now.lesion(name)
        d0 = None if b is None else b.longest_axial_diameter_mm
        d1 = None if a is None else a.longest_axial_diameter_mm
        v0 = None if b is None else b.volume_cm3
        v1 = None if a is None else a.volume_cm3
        role = "new" if name not in known else ("target" if b and b.is_target else "non-target")
        rows.append(
            {
                "lesion": name,
                "role": role,
                "diameter_mm": {"baseline": d0, "now": d1, "change_percent": _percent(d1, d0)},
                "volume_cm3": {"baseline": v0, "now": v1, "change_percent": _percent(v1, v0)},
            }
        )
    return rows


def _imaged(point: TimepointChoice, measured: MeasurementsItem) -> bool:
    """A follow-up that was imaged: it has an imaging date, or contours on its images."""
    return point.imaged_on is not None or bool(measured.lesions)


def _days(baseline: TimepointChoice, point: TimepointChoice) -> int | None:
    if baseline.imaged_on is None or point.imaged_on is None:
        return None
    return (point.imaged_on - baseline.imaged_on).days


def _non_target(name: str, item: LesionMeasurementItem | None) -> NonTargetAssessment:
    if item is None or item.volume_cm3 is None:
        return NonTargetAssessment(name, "not_evaluated")
    return NonTargetAssessment(name, "present" if item.volume_cm3 > 0 else "absent")


def _mrecist_non_target(name: str, item: LesionMeasurementItem | None) -> MrecistNonTarget:
    if item is None or item.volume_cm3 is None:
        return MrecistNonTarget(name, "not_evaluated")
    if item.volume_cm3 == 0 or item.enhancing_fraction == 0:
        return MrecistNonTarget(name, "not_enhancing")
    if item.enhancing_fraction is None:
        return MrecistNonTarget(name, "not_evaluated")
    return MrecistNonTarget(name, "enhancing")


def _growth_since_first(
    now: LesionMeasurementItem, earlier: list[MeasurementsItem]
) -> float | None:
    """Growth of a new focus's longest diameter since the first follow-up that showed it."""
    for items in earlier:
        first = items.lesion(now.name)
        if first is not None and first.longest_axial_diameter_mm is not None:
            if now.longest_axial_diameter_mm is None:
                return None
            return now.longest_axial_diameter_mm - first.longest_axial_diameter_mm
    return None


def _total(
    reference: list[LesionMeasurementItem], items: MeasurementsItem, field: str
) -> float | None:
    """Sum of ``field`` over the reference lesions; None when one is missing."""
    total = 0.0
    for lesion in reference:
        found = items.lesion(lesion.name)
        value = None if found is None else getattr(found, field)
        if value is None:
            return None
        total += float(value)
    return total


def _viable(
    reference: list[LesionMeasurementItem], items: MeasurementsItem, kind: str
) -> float | None:
    total = 0.0
    for lesion in reference:
        found = items.lesion(lesion.name)
        if found is None or found.longest_axial_diameter_mm is None:
            return None
        if found.enhancing_fraction is None:
            return None
        fraction = max(0.0, min(1.0, found.enhancing_fraction))
        if kind == "diameter":
            total += found.longest_axial_diameter_mm * fraction ** (1 / 3)
        else:
            if found.short_axis_mm is None:
                return None
            total += found.longest_axial_diameter_mm * found.short_axis_mm * fraction ** (2 / 3)
    return total


def _mean_hu(reference: list[LesionMeasurementItem], items: MeasurementsItem) -> float | None:
    """Volume-weighted mean HU of the reference lesions (None when one is missing)."""
    weighted = volume = 0.0
    for lesion in reference:
        found = items.lesion(lesion.name)
        if found is None or found.mean_hu is None or not found.volume_cm3:
            return None
        weighted += found.mean_hu * found.volume_cm3
        volume += found.volume_cm3
    return weighted / volume if volume else None


def _reference_sets(base: MeasurementsItem, criteria: Sequence[str]) -> dict[str, ReferenceSet]:
    """Each criterion's reference lesions, by the one rule of the domain."""
    foci = [BaselineFocus(f.name, f.longest_axial_diameter_mm, f.is_target) for f in base.foci]
    return {c: reference_lesions(c, foci) for c in criteria}


def _lesions_of(base: MeasurementsItem, chosen: ReferenceSet) -> list[LesionMeasurementItem]:
    """The baseline measurements of the lesions ``chosen`` names, in baseline order."""
    names = set(chosen.lesions)
    return [f for f in base.foci if f.name in names]


def _say(verdict: dict[str, Any], chosen: ReferenceSet) -> dict[str, Any]:
    """``verdict`` (a response's JSON) with the lesions it measured in its explanation."""
    explanation = verdict.setdefault("explanation", {})
    explanation["inputs"] = {**explanation.get("inputs", {}), "lesions measured": chosen.detail()}
    return verdict


def _choi(
    reference: list[LesionMeasurementItem],
    base: MeasurementsItem,
    now: MeasurementsItem,
    earlier: list[MeasurementsItem],
    new: bool,
    parameters: ResponseParameters,
) -> dict[str, Any]:
    """Choi on the sum of longest diameters and the mean HU of ``reference``."""
    size = "longest_axial_diameter_mm"
    return _noted(
        choi_response(
            _total(reference, base, size) or 0.0,
            _total(reference, now, size) if reference else None,
            _mean_hu(reference, base) or 0.0,
            _mean_hu(reference, now),
            [v for m in earlier if (v := _total(reference, m, size)) is not None],
            new_lesions=new,
            parameters=parameters,
        ),
        "attenuation is the mean arterial-phase HU of the lesions measured (Choi used the "
        "portal venous phase)",
    )


def _noted(response: Response, note: str) -> dict[str, Any]:
    inputs = {**response.explanation.inputs, "note": note}
    explanation: Explanation = replace(response.explanation, inputs=inputs)
    return replace(response, explanation=explanation).to_json()


def _growth(base: MeasurementsItem, now: MeasurementsItem, days: int | None) -> dict[str, Any]:
    if days is None or days <= 0:
        return {"note": "no interval: an imaging date is missing or not after baseline"}
    names = sorted({f.name for f in base.foci} | {f.name for f in now.foci})
    lesions = []
    before_total, after_total = [], []
    for name in names:
        b, a = base.lesion(name), now.lesion(name)
        v0 = 0.0 if b is None or b.volume_cm3 is None else b.volume_cm3
        v1 = 0.0 if a is None or a.volume_cm3 is None else a.volume_cm3
        if a is None and b is not None:
            lesions.append({"lesion_id": name, "flag": "not_contoured", "doubling_time_days": None,
                            "sgr_per_day": None})  # fmt: skip
            continue
        before_total.append(v0)
        after_total.append(v1)
        lesions.append(lesion_growth(name, v0, v1, days).to_json())
    return {
        "interval_days": days,
        "lesions": lesions,
        "total": total_growth(before_total, after_total, days).to_json(),
    }
