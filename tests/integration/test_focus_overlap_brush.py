"""A brush stroke may make two foci share voxels: kept as painted, said, and warned in the plan.

The auto contour leaves out what another focus holds (test_foci_share_no_voxels.py); a hand
edit is kept as the user painted it. Since V_mts is the sum of the foci, the shared volume
counts twice: the edit's result names both foci and the volume, and the plan carries a
warning until the overlap is erased from one of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.integration.test_foci_share_no_voxels import _foci, _venous, contoured_demo

pytestmark = [pytest.mark.db, pytest.mark.dicom]

__all__ = ["contoured_demo"]  # the fixture, reused


def _overlap_advisories(services: Any, case_pk: int) -> dict[str, Any]:
    proposal = services.planning.propose(case_pk)
    return {a.code: a for a in proposal.advisories if a.code.startswith("burden.foci_overlap.")}


def test_a_brush_stroke_into_another_focus_is_kept_said_and_warned_in_the_plan(
    contoured_demo: Any,
) -> None:
    services, contouring, case_pk, truth = contoured_demo
    venous = _venous(truth)
    _, timepoint_pk, _ = contouring.series_context(venous)
    lesions = {item.name: item for item in contouring.list_lesions(case_pk)}
    before = _foci(contouring, venous)
    assert not _overlap_advisories(services, case_pk)

    # The user paints ten of F1's voxels into F3 with the brush.
    stroke = np.zeros_like(before["F1"])
    stroke[tuple(np.argwhere(before["F1"])[:10].T)] = True
    painted = before["F3"] | stroke
    result = contouring.save_and_measure(lesions["F3"].pk, timepoint_pk, venous, None, painted)

    after = _foci(contouring, venous)
    assert np.array_equal(after["F3"], painted)  # kept as painted
    assert np.array_equal(after["F1"], before["F1"])
    shared_cm3 = 10 * contouring.volume(venous).voxel_volume_cm3
    assert result.message == (
        f"F3 now shares {shared_cm3:.2f} cm³ with F1: that volume is counted in both foci "
        "(erase it from one to count it once)."
    )
    assert result.warnings == (result.message,)

    burden = services.planning.burden_inputs(case_pk)
    ((first, second, volume_cm3),) = burden.shared_volumes
    assert (first, second) == ("F1", "F3")
    assert volume_cm3 == pytest.approx(shared_cm3, rel=1e-6)
    advisory = _overlap_advisories(services, case_pk)["burden.foci_overlap.F1.F3"]
    assert advisory.severity == "warning"
    assert advisory.message.startswith(
        f"The contours of F1 and F3 overlap by {shared_cm3:.2f} cm³: that volume is counted "
        "in both foci"
    )
    assert "institutional default" in advisory.source

    # Another stroke on F3: still shared, still said. The liver holds every focus: an
    # edit of it says nothing of the kind.
    again = contouring.save_and_measure(lesions["F3"].pk, timepoint_pk, venous, None, painted)
    assert again.message == result.message
    liver = next(item for item in lesions.values() if item.is_liver)
    holding = contouring.load_mask(liver.pk, timepoint_pk).mask | painted
    liver_edit = contouring.save_and_measure(liver.pk, timepoint_pk, venous, None, holding)
    assert "shares" not in " ".join((liver_edit.message, *liver_edit.warnings))

    # The eraser takes the stroke out of F1: nothing shared, nothing said or warned.
    erased = contouring.save_and_measure(
        lesions["F1"].pk, timepoint_pk, venous, None, before["F1"] & ~stroke
    )
    assert erased.message == ""
    assert erased.warnings == ()
    assert services.planning.burden_inputs(case_pk).shared_volumes == ()
    assert not _overlap_advisories(services, case_pk)
