"""mRECIST, EASL, Choi (and modified Choi) and volumetric response.

Each is labelled with the tumour type it was validated for: mRECIST and EASL for
hepatocellular carcinoma, Choi for gastrointestinal stromal tumours; applied to
liver metastases (e.g. of neuroendocrine tumours) they are an extrapolation.

Inputs are totals over the target lesions at baseline, at the nadir (smallest
value on study, baseline included: the caller passes the earlier values) and now;
``None`` now means not evaluable (NE). Choices the sources leave open:

* Choi progression compares the size with its nadir, like RECIST (Choi et al.
  state "an increase in tumour size of ≥ 10 %" without naming the reference).
* EASL takes the viable (enhancing) area in mm² (the sum of the products of two
  perpendicular viable diameters, or a contoured area); new enhancing tissue in a
  new lesion is PD through ``new_lesions``.
* Volumetric CR is a total volume of 0; a volume equal to the nadir of 0 stays CR.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tace_planner.domain.response.base import (
    Response,
    change_percent,
    decreased_by_at_least,
    fmt,
    increased_by_at_least,
    verdict,
)
from tace_planner.domain.response.parameters import DEFAULT_RESPONSE, ResponseParameters, decimal

MRECIST = "mRECIST"
EASL = "EASL"
CHOI = "Choi"
MODIFIED_CHOI = "modified Choi"
VOLUMETRIC = "volumetric"

_CHOI_NAMES = (
    "choi_size_pr_decrease_percent",
    "choi_density_pr_decrease_percent",
    "choi_size_pd_increase_percent",
)
HCC = "hepatocellular carcinoma (an extrapolation for liver metastases)"
GIST = "gastrointestinal stromal tumour treated with imatinib (an extrapolation elsewhere)"
VOLUME_VALIDATION = (
    "no tumour type of its own: derived from RECIST 1.1 by sphere volume, not validated for "
    "metastases"
)


@dataclass(frozen=True)
class ThresholdCriterion:
    """A criterion decided by one total against a PR and a PD percentage.

    ``pr_parameter`` and ``pd_parameter`` name the thresholds in ``response.json``;
    ``reference`` is the publication (empty when the parameter sources say it all).
    """

    name: str
    validated_for: str
    quantity: str
    unit: str
    pr_parameter: str
    pd_parameter: str
    reference: str = ""


THRESHOLD_CRITERIA: Mapping[str, ThresholdCriterion] = {
    c.name: c
    for c in (
        ThresholdCriterion(MRECIST, HCC, "viable diameter sum", "mm",
                           "mrecist_pr_decrease_percent", "mrecist_pd_increase_percent",
                           "mRECIST (Lencioni and Llovet, Semin Liver Dis 2010)"),
        ThresholdCriterion(EASL, HCC, "viable area", "mm²", "easl_pr_decrease_percent",
                           "easl_pd_increase_percent", "EASL (Bruix et al., J Hepatol 2001)"),
        ThresholdCriterion(VOLUMETRIC, VOLUME_VALIDATION, "total volume", "cm³",
                           "volume_pr_decrease_percent", "volume_pd_increase_percent",
                           "volumetric response: the RECIST 1.1 limits as sphere volumes, "
                           "1 − 0.7³ and 1.2³ − 1 (Eisenhauer, Eur J Cancer 2009)"),
    )
}  # fmt: skip
"""mRECIST (target sum), EASL and volumetric: one rule, three quantities."""


def threshold_response(
    criterion: str,
    baseline: float,
    current: float | None,
    earlier: Sequence[float] = (),
    *,
    new_lesions: bool = False,
    parameters: ResponseParameters = DEFAULT_RESPONSE,
) -> Response:
    """The response of ``criterion`` (a key of :data:`THRESHOLD_CRITERIA`) from its totals.

    PD when the total rose by the PD percentage over its nadir (baseline included) or
    a new lesion appeared; CR when nothing is left; PR when it fell by the PR
    percentage from baseline; NE when ``current`` is None; SD otherwise.
    """
    spec = THRESHOLD_CRITERIA[criterion]
    quantity, unit = spec.quantity, spec.unit
    pr_percent = getattr(parameters, spec.pr_parameter)
    pd_percent = getattr(parameters, spec.pd_parameter)
    source = "; ".join(
        part
        for part in (spec.reference, parameters.source(spec.pr_parameter, spec.pd_parameter))
        if part
    )
    base = decimal(baseline)
    nadir = min([base, *(decimal(v) for v in earlier)])
    inputs = {
        f"baseline {quantity}": fmt(base, unit),
        f"nadir {quantity} (baseline included)": fmt(nadir, unit),
        f"current {quantity}": "not evaluable" if current is None else fmt(decimal(current), unit),
        "new lesions": "yes" if new_lesions else "no",
        "thresholds": f"PR ≤ −{fmt(pr_percent, '%')} from baseline; "
        f"PD ≥ +{fmt(pd_percent, '%')} over nadir",
    }

    def done(category: str, rule: str) -> Response:
        formula = f"change = ({quantity} − reference) / reference"
        return verdict(
            criterion,
            spec.validated_for,
            f"{criterion} response",
            formula,
            source,
            inputs,
            category,
            rule,
        )

    if new_lesions:
        return done("PD", "a new lesion appeared")
    if current is None:
        return done("NE", f"the {quantity} was not evaluable")
    now = decimal(current)
    inputs["change from baseline"] = fmt(change_percent(now, base), "%")
    inputs["change over nadir"] = fmt(change_percent(now, nadir), "%")
    if increased_by_at_least(now, nadir, pd_percent) and now > nadir:
        return done("PD", f"the {quantity} rose ≥ {fmt(pd_percent, '%')} over its nadir")
    if now == 0:
        return done("CR", f"no {quantity} left")
    if decreased_by_at_least(now, base, pr_percent):
        return done("PR", f"the {quantity} fell ≥ {fmt(pr_percent, '%')} from baseline")
    return done("SD", "neither response nor progression")


def mrecist_response(
    baseline_viable_mm: float, current_viable_mm: float | None, *args: Any, **options: Any
) -> Response:
    """mRECIST target response from the sum of viable (arterially enhancing) diameters."""
    return threshold_response(MRECIST, baseline_viable_mm, current_viable_mm, *args, **options)


def easl_response(
    baseline_viable_area_mm2: float, current_viable_area_mm2: float | None, *args: Any,
    **options: Any,
) -> Response:  # fmt: skip
    """EASL response from the viable (enhancing) tumour area."""
    return threshold_response(
        EASL, baseline_viable_area_mm2, current_viable_area_mm2, *args, **options
    )


def volumetric_response(
    baseline_cm3: float, current_cm3: float | None, *args: Any, **options: Any
) -> Response:
    """Volumetric response: −65 % from baseline (PR), +73 % over the nadir (PD)."""
    return threshold_response(VOLUMETRIC, baseline_cm3, current_cm3, *args, **options)


def choi_response(
    baseline_size_mm: float,
    current_size_mm: float | None,
    baseline_hu: float,
    current_hu: float | None,
    earlier_size_mm: Sequence[float] = (),
    *,
    new_lesions: bool = False,
    modified: bool = False,
    parameters: ResponseParameters = DEFAULT_RESPONSE,
) -> Response:
    """Choi response (size ≥ 10 % or density ≥ 15 % decrease); ``modified``: both needed.

    Size is the sum of longest diameters; density the mean attenuation (HU) of the
    targets on the portal venous phase.
    """
    p = parameters
    criterion = MODIFIED_CHOI if modified else CHOI
    size_pr, hu_pr, size_pd = (
        p.choi_size_pr_decrease_percent,
        p.choi_density_pr_decrease_percent,
        p.choi_size_pd_increase_percent,
    )
    base, base_hu = decimal(baseline_size_mm), decimal(baseline_hu)
    nadir = min([base, *(decimal(v) for v in earlier_size_mm)])
    inputs = {
        "baseline size": fmt(base, "mm"),
        "nadir size (baseline included)": fmt(nadir, "mm"),
        "current size": "not evaluable"
        if current_size_mm is None
        else fmt(decimal(current_size_mm), "mm"),
        "baseline attenuation": fmt(base_hu, "HU"),
        "current attenuation": "not evaluable"
        if current_hu is None
        else fmt(decimal(current_hu), "HU"),
        "new lesions": "yes" if new_lesions else "no",
        "thresholds": f"PR: size ≤ −{fmt(size_pr, '%')} {'and' if modified else 'or'} "
        f"attenuation ≤ −{fmt(hu_pr, '%')}; PD: size ≥ +{fmt(size_pd, '%')} over nadir "
        "without the attenuation response",
    }
    source = "Choi et al., J Clin Oncol 2007" + (
        "; modified Choi: size and attenuation both required" if modified else ""
    )

    def done(category: str, rule: str) -> Response:
        formula = "size change and attenuation change from baseline"
        return verdict(
            criterion,
            GIST,
            f"{criterion} response",
            formula,
            source + "; " + p.source(*_CHOI_NAMES),
            inputs,
            category,
            rule,
        )

    if new_lesions:
        return done("PD", "a new lesion appeared")
    if current_size_mm is None:
        return done("NE", "the size was not evaluable")
    size = decimal(current_size_mm)
    inputs["size change from baseline"] = fmt(change_percent(size, base), "%")
    size_down = decreased_by_at_least(size, base, size_pr)
    hu_down = current_hu is not None and decreased_by_at_least(decimal(current_hu), base_hu, hu_pr)
    if current_hu is not None:
        inputs["attenuation change"] = fmt(change_percent(decimal(current_hu), base_hu), "%")
    if size == 0:
        return done("CR", "every target disappeared and no new lesion")
    if increased_by_at_least(size, nadir, size_pd) and size > nadir and not hu_down:
        return done("PD", "size rose ≥ 10 % over its nadir and attenuation did not fall ≥ 15 %")
    responded = (size_down and hu_down) if modified else (size_down or hu_down)
    if responded:
        which = "size and attenuation" if modified else (
            "size" if size_down and not hu_down else "attenuation" if hu_down and not size_down
            else "size and attenuation"
        )  # fmt: skip
        return done("PR", f"{which} fell by the response threshold")
    if current_hu is None and not size_down:
        return done("NE", "attenuation not measured and the size alone shows no response")
    return done("SD", "neither response nor progression")
