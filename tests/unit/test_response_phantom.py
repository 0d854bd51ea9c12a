"""The phantom's scripted course read by the response engines (issue 15 acceptance).

Targets are the two largest liver foci (RECIST 1.1 allows two per organ), the
others non-targets; F8 appears at the third follow-up (the scripted progression).
The values are the phantom truth's, so propagated contours can later be checked
against the same expected responses.
"""

from __future__ import annotations

from tace_planner.domain.response.best import TimepointResponse, best_overall_response
from tace_planner.domain.response.growth import lesion_growth
from tace_planner.domain.response.other import volumetric_response
from tace_planner.domain.response.recist import (
    NonTargetAssessment,
    TargetMeasurement,
    non_target_response,
    overall_response,
    target_response,
)
from tace_planner.imaging.phantom_model import TIMEPOINT_DATES, TIMEPOINT_LABELS
from tace_planner.imaging.phantom_truth import foci_at

TARGETS = ("F1", "F2")


def _course() -> list[dict[str, object]]:
    base = {f.name: f for f in foci_at("baseline")}
    base_targets = [TargetMeasurement(n, base[n].longest_axial_diameter_mm) for n in TARGETS]
    base_volume = sum(base[n].volume_cm3 for n in TARGETS)
    previous: list[list[TargetMeasurement]] = []
    volumes: list[float] = []
    out = []
    for label in TIMEPOINT_LABELS[1:]:
        now = {f.name: f for f in foci_at(label)}
        targets = [TargetMeasurement(n, now[n].longest_axial_diameter_mm) for n in TARGETS]
        target = target_response(base_targets, targets, previous)
        non_target = non_target_response(
            [NonTargetAssessment(n, "present") for n in base if n not in TARGETS]
        )
        new = "unequivocal" if set(now) - set(base) else "none"
        overall = overall_response(target.category, non_target.category, new)
        volume = sum(now[n].volume_cm3 for n in TARGETS)
        by_volume = volumetric_response(base_volume, volume, volumes, new_lesions=new != "none")
        previous.append(targets)
        volumes.append(volume)
        day = (TIMEPOINT_DATES[label] - TIMEPOINT_DATES["baseline"]).days
        out.append(
            {
                "day": day,
                "target": target.category,
                "overall": overall.category,
                "volume": by_volume.category,
                "change": target.explanation.inputs["change from baseline"],
            }
        )
    return out


def test_scripted_course_gives_sd_sd_then_pd_by_the_new_focus():
    course = _course()
    assert [c["target"] for c in course] == ["SD", "SD", "SD"]
    assert [c["overall"] for c in course] == ["SD", "SD", "PD"]
    assert [c["volume"] for c in course] == ["SD", "SD", "PD"]
    # 54 → 44.2 mm and 36 → 28.6 mm: diameters scale by the cube roots of 0.55 and 0.50
    assert course[0]["change"] == "-19.1 %"
    best = best_overall_response([TimepointResponse(c["day"], c["overall"]) for c in course])
    assert best.category == "SD"


def test_growth_of_the_regrowing_and_the_new_focus():
    days = (TIMEPOINT_DATES["follow_up_3"] - TIMEPOINT_DATES["follow_up_2"]).days
    before = {f.name: f.volume_cm3 for f in foci_at("follow_up_2")}
    after = {f.name: f.volume_cm3 for f in foci_at("follow_up_3")}
    regrowth = lesion_growth("F7", before["F7"], after["F7"], days)
    assert regrowth.flag == "growing"
    assert 100 < regrowth.doubling_time_days < 105  # 92 days · ln 2 / ln(1.3 / 0.7)
    assert lesion_growth("F8", before.get("F8", 0.0), after["F8"], days).flag == "new_lesion"
    assert lesion_growth("F6", before["F6"], after["F6"], days).flag == "shrinking"
