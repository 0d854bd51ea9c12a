"""A focus partly outside the liver contour is named with the share that lies outside."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tace_planner.domain.burden import (
    FOCUS_OUTSIDE_LIVER_FRACTION,
    fraction_outside_liver,
    outside_liver_advisories,
)
from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.liver_containment import (
    FOCUS_KEY,
    LIVER_KEY,
    latest_outside_fractions,
)


def test_fraction_outside_counts_focus_voxels_beyond_the_liver() -> None:
    liver = np.zeros((4, 10, 10), dtype=bool)
    liver[:, :, :5] = True
    focus = np.zeros_like(liver)
    focus[1:3, 2:6, 3:8] = True  # columns 3-4 inside, 5-7 outside
    assert fraction_outside_liver(focus, liver) == pytest.approx(3 / 5)
    assert fraction_outside_liver(focus & liver, liver) == 0.0
    assert fraction_outside_liver(np.zeros_like(liver), liver) is None
    assert fraction_outside_liver(focus, np.zeros_like(liver)) == 1.0
    with pytest.raises(InvalidInputError, match="grid"):
        fraction_outside_liver(focus, liver[:2])


def test_advisory_names_the_focus_and_the_share_outside() -> None:
    advisories = outside_liver_advisories({"F1": 0.0, "F2": 0.18, "F3": 1.0, "F4": None})
    assert [a.code for a in advisories] == [
        "burden.focus_outside_liver.F2",
        "burden.focus_outside_liver.F3",
    ]
    f2, f3 = advisories
    assert f2.severity == "warning"
    assert f2.message.startswith("F2: 18 % of the focus lies outside the liver contour")
    assert "check the liver contour" in f2.message
    assert f3.message.startswith("F3: all of the focus lies outside the liver contour")
    assert "Heimann" in f2.source
    assert "institutional default" in f2.source
    # At the limit (a one-voxel disagreement at the capsule) nothing is said.
    assert outside_liver_advisories({"F1": FOCUS_OUTSIDE_LIVER_FRACTION}) == ()


def test_the_later_measurement_of_liver_or_focus_counts() -> None:
    early, late = dt.datetime(2026, 3, 2, 9), dt.datetime(2026, 3, 2, 10)
    liver = ({LIVER_KEY: {"F1": 0.4, "F2": 0.0}}, late)
    foci = {
        "F1": ({FOCUS_KEY: 0.0}, early),  # the liver was re-contoured since: 40 % outside
        "F2": ({FOCUS_KEY: 0.3}, late + dt.timedelta(minutes=1)),  # F2 redrawn after it
        "F3": ({FOCUS_KEY: 0.2}, early),  # drawn before; not in the liver's table
        "F4": ({}, early),  # measured before any liver: unknown
    }
    assert latest_outside_fractions(liver, foci) == {"F1": 0.4, "F2": 0.3, "F3": 0.2}
    assert latest_outside_fractions(None, foci) == {}  # no liver: F is unknown anyway
