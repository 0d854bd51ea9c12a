"""A brush stroke on the arterial series into foci drawn on the portal-venous series is said.

The plan compares foci across the phases of a study (test_focus_overlap_across_series.py),
but the brush's message compared only the foci of the series being painted: a focus painted
on the arterial series over F1 and F2, contoured on the portal-venous series of the same
study, said nothing, although the tumour volume counts that volume twice. The message now
compares the foci of the timepoint on every series of the same frame of reference, as the
plan does, and names each overlapped focus once.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from tests.integration.test_foci_share_no_voxels import _foci, _venous, contoured_demo

from tace_planner.imaging.segmentation.resample import resample_mask

pytestmark = [pytest.mark.db, pytest.mark.dicom]

__all__ = ["contoured_demo"]  # the fixture, reused


def _arterial(truth: dict) -> str:
    series = truth["timepoints"][0]["series"]
    return next(s["series_uid"] for s in series if s["folder"] == "CT_arterial")


def test_a_stroke_on_another_phase_names_each_focus_it_overlaps_once(
    contoured_demo: Any,
) -> None:
    services, contouring, case_pk, truth = contoured_demo
    venous, arterial = _venous(truth), _arterial(truth)
    _, timepoint_pk, _ = contouring.series_context(arterial)
    assert contouring.series_context(venous)[1] == timepoint_pk  # one study, one timepoint
    on_venous, grid = _foci(contouring, venous), contouring.volume(venous)
    target = contouring.volume(arterial)

    def carried(name: str) -> np.ndarray:
        return resample_mask(on_venous[name], grid.index_to_lps, target.index_to_lps, target.shape)

    f1, f2 = carried("F1"), carried("F2")
    assert f1.any()
    assert f2.any()
    assert not (f1 & f2).any()
    # A new focus painted on the arterial series over the whole of F1 and F2.
    f8 = contouring.lesions.create_lesion(case_pk, "F8").lesion
    result = contouring.save_and_measure(f8.pk, timepoint_pk, arterial, None, f1 | f2)

    message = result.message
    assert message.startswith("F8 now shares "), message
    assert message.endswith(
        ": that volume is counted in both foci (erase it from one to count it once)."
    )
    assert result.warnings == (message,)
    said = dict(
        (name, float(cm3))
        for cm3, name in re.findall(
            r"([0-9.]+) cm³ with (F\d+) \(contoured on another series\)", message
        )
    )
    assert list(said) == ["F1", "F2"]  # each once, in order
    assert message.count("F1") == 1
    assert message.count("F2") == 1
    for name, mask in (("F1", f1), ("F2", f2)):
        # carried back by nearest neighbour: about the voxels painted over it
        expected_cm3 = int(mask.sum()) * target.voxel_volume_cm3
        assert said[name] == pytest.approx(expected_cm3, rel=0.1), name
    # The plan says the same pairs.
    pairs = {(a, b) for a, b, _ in services.planning.burden_inputs(case_pk).shared_volumes}
    assert {("F1", "F8"), ("F2", "F8")} <= pairs

    # Erased from F8 on the arterial series: nothing shared, nothing said.
    apart = np.zeros_like(f1)
    apart[tuple(np.argwhere(~(f1 | f2))[:5].T)] = True
    erased = contouring.save_and_measure(f8.pk, timepoint_pk, arterial, None, apart)
    assert erased.message == ""
    assert erased.warnings == ()
