"""A focus lying partly outside the liver contour is named in the measurements and the plan.

On the small demo phantom: the liver from one click, a focus inside it (no
warning), a focus drawn across the liver's edge (named with the share outside,
in the measurement notes, the burden inputs and the proposed plan's advisories),
and the warning gone once the liver contour is redrawn to hold the focus.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.integration.test_contouring_service import LIVER_SEED_LPS, open_demo, series_uid

pytestmark = [pytest.mark.db, pytest.mark.dicom]

OUTSIDE = "outside the liver contour"


def _notes_about(notes: tuple[str, ...], name: str) -> list[str]:
    return [n for n in notes if n.startswith(f"{name}:") and OUTSIDE in n]


def test_focus_across_the_liver_edge_is_warned_until_the_liver_holds_it(
    tmp_path_factory: pytest.TempPathFactory, small_phantom: Path
) -> None:
    from tace_planner.services.contouring import ContourWrite, contouring_service

    services, _, case_pk, truth = open_demo(tmp_path_factory.mktemp("data"), small_phantom)
    try:
        contouring = contouring_service(services)
        venous = series_uid(truth, "CT_venous")
        _, timepoint_pk, _ = contouring.series_context(venous)
        contouring.contour_liver(case_pk, venous, LIVER_SEED_LPS)
        f1 = truth["timepoints"][0]["foci"][0]
        contouring.auto_contour(case_pk, venous, f1["center_lps_mm"], lesion=f1["name"],
                                couinaud_segment=f1["couinaud_segment"])  # fmt: skip
        measured = contouring.measurements(venous)
        assert not [n for n in measured.notes if OUTSIDE in n]

        # A block across the liver's lateral edge: about half of it outside.
        liver_item = next(i for i in contouring.list_lesions(case_pk) if i.is_liver)
        liver = contouring.load_mask(liver_item.pk, timepoint_pk).mask
        k = int(np.argmax(liver.sum(axis=(1, 2))))
        j = int(np.flatnonzero(liver[k].any(axis=1)).mean())
        i = int(np.flatnonzero(liver[k, j])[0])  # the liver's first column on that row
        block = np.zeros_like(liver)
        block[k - 1 : k + 2, j - 3 : j + 4, i - 4 : i + 4] = True
        share = float((block & ~liver).sum()) / float(block.sum())
        assert 0.3 < share < 0.7
        contouring.write_contours(case_pk, timepoint_pk, venous, None,
                                  [ContourWrite("F9", "focus", block, "manual")])  # fmt: skip

        measured = contouring.measurements(venous)
        (note,) = _notes_about(measured.notes, "F9")
        assert note.startswith(f"F9: {100 * share:.0f} % of the focus lies outside")
        assert not _notes_about(measured.notes, f1["name"])
        burden = services.planning.burden_inputs(case_pk)
        assert dict(burden.outside_liver)["F9"] == pytest.approx(share)
        proposal = services.planning.propose(case_pk)
        codes = [a.code for a in proposal.advisories]
        assert "burden.focus_outside_liver.F9" in codes
        assert "burden.focus_outside_liver." + f1["name"] not in codes

        # The liver redrawn to hold the focus (a later measurement): no warning.
        contouring.save_and_measure(liver_item.pk, timepoint_pk, venous, None, liver | block)
        measured = contouring.measurements(venous)
        assert not [n for n in measured.notes if OUTSIDE in n]
        proposal = services.planning.propose(case_pk)
        assert not [a for a in proposal.advisories if a.code.startswith("burden.focus_outside")]
    finally:
        services.close()
