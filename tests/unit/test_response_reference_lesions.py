"""The one rule choosing each criterion's reference lesions (domain, no service)."""

from __future__ import annotations

import pytest

from tace_planner.domain.recist import RecistParameters
from tace_planner.domain.response.reference_lesions import (
    REFERENCE_RULES,
    BaselineFocus,
    reference_lesions,
)

FOCI = [
    BaselineFocus("F1", 40.0),
    BaselineFocus("F2", 10.0),  # exactly the RECIST 1.1 minimum: measurable
    BaselineFocus("F3", 9.9),
    BaselineFocus("F4", None),  # not measured
]


def test_measurable_criteria_keep_foci_of_at_least_10_mm() -> None:
    for criterion in ("mrecist", "easl", "choi"):
        chosen = reference_lesions(criterion, FOCI)
        assert chosen.basis == "measurable"
        assert chosen.lesions == ("F1", "F2"), criterion
        assert [f.name for f in chosen.left_out] == ["F3", "F4"]
    line = reference_lesions("mrecist", FOCI).detail()
    assert (
        "measured the 2 measurable foci (F3 at 9.9 mm is below 10 mm; F4 has no measured " in line
    )
    assert line.endswith(
        "(Lencioni and Llovet, Semin Liver Dis 2010; Eisenhauer, Eur J Cancer 2009)."
    )


def test_volume_keeps_every_focus_and_recist_has_no_target_sum() -> None:
    assert reference_lesions("volume", FOCI).lesions == ("F1", "F2", "F3", "F4")
    assert "F3 at 9.9 mm included" in reference_lesions("volume", FOCI).detail()
    recist = reference_lesions("recist", FOCI)
    assert (recist.basis, recist.lesions) == ("none", ())
    assert "4 foci as non-target lesions" in recist.detail()


def test_chosen_targets_win_for_every_criterion_even_a_small_one() -> None:
    foci = [BaselineFocus("F1", 40.0, True), BaselineFocus("F3", 9.9, True), FOCI[1]]
    for criterion in REFERENCE_RULES:
        chosen = reference_lesions(criterion, foci)
        assert (chosen.basis, chosen.lesions) == ("targets", ("F1", "F3")), criterion
        assert chosen.detail().endswith("chosen by the physician: F1, F3")


def test_the_minimum_is_the_recist_parameter_files() -> None:
    chosen = reference_lesions("choi", FOCI, RecistParameters(min_longest_diameter_mm=15.0))
    assert chosen.lesions == ("F1",)
    assert "below 15 mm" in chosen.detail()


def test_an_unknown_criterion_is_refused() -> None:
    with pytest.raises(KeyError):
        reference_lesions("who", FOCI)
