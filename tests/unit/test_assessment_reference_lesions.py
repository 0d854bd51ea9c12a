"""Every criterion measures the lesions its publication says, and says which.

A demo-like case: seven liver foci, F5 at 9.9 mm (below the 10 mm RECIST 1.1
minimum), all shrinking at the follow-up. Without targets RECIST 1.1 has no target
sum (every focus a non-target; Eisenhauer, Eur J Cancer 2009); mRECIST (Lencioni and
Llovet, Semin Liver Dis 2010), EASL and Choi (Choi et al., J Clin Oncol 2007) measure
the six measurable foci; the volumetric criterion measures the total volume of all
seven. With targets chosen, every criterion measures exactly the targets.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tace_planner.services.assessment import AssessmentService
from tace_planner.services.contouring_dto import (
    LesionMeasurementItem,
    MeasurementsItem,
    TimepointChoice,
)

# name: (longest diameter mm, short axis mm, volume cm³, mean HU, enhancing fraction)
BASELINE = {
    "F1": (40.0, 30.0, 25.0, 90.0, 0.8),
    "F2": (35.2, 25.0, 16.0, 85.0, 0.7),
    "F3": (30.1, 22.0, 10.0, 80.0, 0.6),
    "F4": (25.3, 20.0, 6.0, 75.0, 0.6),
    "F5": (9.9, 8.0, 0.4, 60.0, 0.5),
    "F6": (22.0, 18.0, 4.0, 70.0, 0.6),
    "F7": (19.0, 15.0, 3.0, 70.0, 0.5),
}
SHRINK = 0.8
"""Every diameter at the follow-up is 0.8 × its baseline value (volumes 0.5 ×)."""


def _item(name: str, values: tuple[float, ...], target: bool, scale: float) -> Any:
    longest, short, volume, hu, fraction = values
    return LesionMeasurementItem(
        lesion_pk=int(name[1:]),
        name=name,
        kind="focus",
        couinaud_segment="VII",
        is_target=target,
        segmentation_pk=int(name[1:]),
        series_uid="1.2.3",
        volume_cm3=volume * (0.5 if scale != 1 else 1.0),
        longest_axial_diameter_mm=longest * scale,
        short_axis_mm=short * scale,
        longest_3d_diameter_mm=longest * scale,
        mean_hu=hu * (0.9 if scale != 1 else 1.0),
        enhancing_fraction=fraction,
        method="manual",
        trust="ok",
    )


class _Lesions:
    def timepoints(self, case_pk: int) -> list[TimepointChoice]:
        return [
            TimepointChoice(1, "baseline", "baseline", dt.date(2026, 1, 5)),
            TimepointChoice(2, "follow-up 1", "follow-up", dt.date(2026, 3, 2)),
        ]


class _Contouring:
    def __init__(self, targets: set[str], foci: dict[str, tuple[float, ...]]) -> None:
        self.lesions = _Lesions()
        self._targets, self._foci = targets, foci

    def measurements(self, series_uid: Any = None, *, case_pk: Any = None, timepoint: Any = None):
        scale = 1.0 if timepoint == 1 else SHRINK
        items = tuple(
            _item(name, values, name in self._targets, scale) for name, values in self._foci.items()
        )
        return MeasurementsItem(case_pk, timepoint, "baseline" if timepoint == 1 else "fu", items)


class _Followups:
    def add_progression(self, timepoint_pk: int, site: str) -> tuple[str, Any]:
        raise AssertionError("not asked to record progression")


def _assess(targets: set[str], foci: dict[str, tuple[float, ...]] = BASELINE) -> dict[str, Any]:
    service = AssessmentService(_Contouring(targets, foci), _Followups())
    return service.assess(1, "follow-up 1", store=False)


def _inputs(verdict: dict[str, Any]) -> dict[str, str]:
    return verdict["explanation"]["inputs"]


MEASURABLE = ["F1", "F2", "F3", "F4", "F6", "F7"]


def test_without_targets_each_criterion_follows_its_reference_rule() -> None:
    result = _assess(set())
    chosen = result["reference_lesions"]
    assert chosen["recist"]["lesions"] == []  # no target sum: the reader chooses targets
    for criterion in ("mrecist", "easl", "choi"):
        assert chosen[criterion]["lesions"] == MEASURABLE, criterion
        assert chosen[criterion]["left_out"] == ["F5"], criterion
    assert chosen["volume"]["lesions"] == [*MEASURABLE[:4], "F5", *MEASURABLE[4:]]


def test_without_targets_f5_below_10_mm_is_out_of_the_sums() -> None:
    criteria = _assess(set())["criteria"]
    # Choi: sum of the measurable longest diameters, 181.5 − 9.9 = 171.6 mm (not 181.5)
    assert _inputs(criteria["choi"])["baseline size"] == "171.6 mm"
    # mRECIST viable sum: Σ D·f^(1/3) over the six measurable foci only
    viable = sum(BASELINE[n][0] * BASELINE[n][4] ** (1 / 3) for n in MEASURABLE)
    target = _assess(set())["mrecist"]["target"]
    assert _inputs(target)["baseline viable diameter sum"] == f"{viable:.1f} mm"
    # the volumetric criterion keeps F5: total tumour volume of all seven foci
    total = sum(v[2] for v in BASELINE.values())
    assert _inputs(criteria["volume"])["baseline total volume"] == f"{total:.1f} cm³"


def test_without_targets_f5_is_an_mrecist_non_target() -> None:
    mrecist = _assess(set())["mrecist"]
    assert mrecist["non_target"] is not None
    assert "F5" in str(mrecist["non_target"])


def test_the_detail_text_says_which_lesions_each_criterion_measured() -> None:
    result = _assess(set())
    said = {
        "recist": _inputs(result["recist"]["overall"]),
        "mrecist": _inputs(result["criteria"]["mrecist"]),
        "easl": _inputs(result["criteria"]["easl"]),
        "choi": _inputs(result["criteria"]["choi"]),
        "volume": _inputs(result["criteria"]["volume"]),
    }
    lines = {key: inputs["lesions measured"] for key, inputs in said.items()}
    small = "(F5 at 9.9 mm is below 10 mm)"
    assert lines["mrecist"].startswith(
        f"No target lesions were chosen: mRECIST measured the 6 measurable foci {small}"
    )
    assert "Lencioni and Llovet, Semin Liver Dis 2010" in lines["mrecist"]
    assert lines["choi"].startswith(
        f"No target lesions were chosen: Choi measured the 6 measurable foci {small}"
    )
    assert "Choi et al., J Clin Oncol 2007" in lines["choi"]
    assert "EASL measured the 6 measurable foci" in lines["easl"]
    assert "institutional default" in lines["easl"]
    assert "total volume of all 7 foci, F5 at 9.9 mm included" in lines["volume"]
    assert "7 foci as non-target lesions" in lines["recist"]
    assert "Eisenhauer, Eur J Cancer 2009" in lines["recist"]
    assert result["reference_lesions"]["choi"]["detail"] == lines["choi"]


def test_with_targets_every_criterion_measures_exactly_the_targets() -> None:
    result = _assess({"F1", "F2"})
    for criterion in ("recist", "mrecist", "easl", "choi", "volume"):
        assert result["reference_lesions"][criterion]["lesions"] == ["F1", "F2"], criterion
    criteria = result["criteria"]
    assert _inputs(criteria["choi"])["baseline size"] == "75.2 mm"  # 40.0 + 35.2
    assert _inputs(criteria["volume"])["baseline total volume"] == "41 cm³"  # 25 + 16
    assert result["recist"]["target"]["category"] == "SD"  # −20 %: neither PR nor PD
    line = _inputs(criteria["mrecist"])["lesions measured"]
    assert line.startswith("mRECIST measured the 2 target lesions chosen by the physician: F1, F2")


def test_without_any_measurable_focus_mrecist_has_no_target_sum() -> None:
    small = {name: (8.0, *values[1:]) for name, values in BASELINE.items()}
    result = _assess(set(), small)
    assert result["reference_lesions"]["mrecist"]["lesions"] == []
    assert result["mrecist"]["target"] is None
    assert result["criteria"]["choi"]["category"] == "NE"
    assert "no focus is measurable" in _inputs(result["criteria"]["choi"])["lesions measured"]
