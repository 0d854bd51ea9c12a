"""The plan's figures (what the plan sheet, the CLI's JSON and the saved plan carry) follow
the panel's rules: no BSA from an implausible height or weight, no 0 cm³ for a lobe whose
foci have no segment yet."""

from __future__ import annotations

from tace_planner.domain.body import PatientInputs
from tace_planner.domain.dosing import PlanOptions, _figures
from tace_planner.domain.dosing_inputs import BurdenInputs, TumourFocus


def _burden(*foci: TumourFocus) -> BurdenInputs:
    return BurdenInputs(liver_volume_cm3=1500.0, foci=foci)


def test_an_implausible_height_gives_no_bsa_in_the_figures() -> None:
    burden = _burden(TumourFocus("F1", "VI", 20.0))
    figures, why = _figures(PatientInputs(height_cm=1.72, weight_kg=70.0), burden, PlanOptions())
    assert figures["bsa_m2"] is None
    assert figures["standard_liver_volume_cm3"] is None
    assert why["bsa_m2"].result.startswith("not computed")
    figures, _ = _figures(PatientInputs(height_cm=172.0, weight_kg=70.0), burden, PlanOptions())
    assert abs(figures["bsa_m2"] - (172.0 * 70.0 / 3600) ** 0.5) < 1e-9  # Mosteller


def test_lobes_are_unknown_not_zero_while_foci_lack_a_segment() -> None:
    nothing_placed = _burden(TumourFocus("F1", "", 80.0), TumourFocus("F2", "", 13.0))
    figures, why = _figures(PatientInputs(), nothing_placed, PlanOptions())
    for lobe in ("right", "left", "caudate"):
        assert figures[f"tumour_volume_cm3.{lobe}"] is None, lobe
    assert "segment not assigned: F1, F2" in why["tumour_volume_cm3.right"].result

    one_placed = _burden(TumourFocus("F1", "VI", 80.0), TumourFocus("F2", "", 13.0))
    figures, why = _figures(PatientInputs(), one_placed, PlanOptions())
    assert figures["tumour_volume_cm3.right"] == 80.0
    assert why["tumour_volume_cm3.right"].result.startswith("≥ 80.0 cm³")
    assert figures["tumour_volume_cm3.left"] is None

    all_placed = _burden(TumourFocus("F1", "VI", 80.0), TumourFocus("F2", "III", 13.0))
    figures, why = _figures(PatientInputs(), all_placed, PlanOptions())
    assert (figures["tumour_volume_cm3.left"], figures["tumour_volume_cm3.caudate"]) == (13.0, 0.0)
    assert why["tumour_volume_cm3.caudate"].result == "0.0 cm³"
