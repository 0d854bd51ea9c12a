"""One tumour contoured on the arterial and on the portal-venous series counts twice in V_mts.

The phases of one CT study share a (0020,0052) *Frame of Reference UID* but not a grid
(other slice spacing, pixel size, origin). A focus F1 drawn on the arterial series and a
focus F2 over the same tumour on the portal-venous series hold the same volume of the
patient: V_mts, the sum of the foci, counts it twice. The plan's overlap check compared
foci of one grid only; it now carries one focus onto the other's grid by LPS position.

The case is built row by row (tests/planning_seed.py): two series of one frame of
reference with grids of their own, a sphere of radius 12 mm rasterised on each (a voxel is
in the sphere when its centre is), and the grid of each series given as the viewer's
volumes give it (index → LPS affine and shape).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from test_foci_share_no_voxels import contoured_demo  # noqa: F401 (a fixture)

from planning_seed import (
    PATIENT_INPUTS,
    add_baseline_study,
    add_lesion,
    add_measurement,
    add_series,
)
from tace_planner.imaging.mask_codec import pack_mask
from tace_planner.services.focus_overlap import shared_volumes
from tace_planner.services.planning import PlanningService
from tace_planner.store.models import SegmentationRow

pytestmark = pytest.mark.db

FRAME = "1.2.826.0.1.3680043.10.511.7"
IMAGED_ON = dt.date(2026, 3, 2)

RADIUS_MM = 12.0
CENTRE_LPS = (2.0, -8.0, 148.0)


def _affine(spacing_zyx: Sequence[float], origin_lps: Sequence[float]) -> np.ndarray:
    """Axial grid: index (z, y, x) → LPS (x along L, y along P, z along S)."""
    sz, sy, sx = spacing_zyx
    ox, oy, oz = origin_lps
    return np.array([[0, 0, sx, ox], [0, sy, 0, oy], [sz, 0, 0, oz], [0, 0, 0, 1.0]])


# The arterial series: 2.5 mm slices of 0.8 mm pixels; the portal-venous: 1.25 mm slices of
# 0.7 mm pixels, its origin off by fractions of a voxel. Both hold the sphere whole.
ARTERIAL = (_affine((2.5, 0.8, 0.8), (-30.0, -40.0, 100.0)), (40, 80, 80))
VENOUS = (_affine((1.25, 0.7, 0.7), (-29.65, -39.8, 100.3)), (80, 90, 90))


def _voxel_cm3(grid: tuple[np.ndarray, Sequence[int]]) -> float:
    return abs(float(np.linalg.det(grid[0][:3, :3]))) / 1000.0


def _centres_lps(grid: tuple[np.ndarray, Sequence[int]]) -> np.ndarray:
    affine, shape = grid
    index = np.indices(shape).reshape(3, -1)
    return (affine[:3, :3] @ index + affine[:3, 3:]).reshape((3, *shape))


def _ball(grid: Any, centre: Sequence[float] = CENTRE_LPS, radius: float = RADIUS_MM) -> Any:
    offset = _centres_lps(grid) - np.asarray(centre, dtype=float)[:, None, None, None]
    return (offset**2).sum(axis=0) <= radius**2


def _case(
    services: Any,
    foci: dict[str, tuple[str, np.ndarray]],
    frames: Sequence[str],
    patient: str = "P-overlap",
) -> int:
    """A baseline with the arterial and the venous series (frames of reference ``frames``),
    a measured liver and the foci: name → (series "arterial" or "venous", mask)."""
    with services.session_factory() as session:
        case, timepoint, study = add_baseline_study(session, patient, imaged_on=IMAGED_ON)
        series = {}
        for n, (phase, frame) in enumerate(zip(("arterial", "venous"), frames, strict=True)):
            row = add_series(session, study.id, f"1.2.3.{patient}.{n + 1}", imaged_on=IMAGED_ON)
            row.phase, row.frame_of_reference_uid = phase, frame
            series[phase] = row
        add_lesion(
            session, case.id, "liver", kind="liver", timepoint_pk=timepoint.id,
            series_pk=series["venous"].id, volume_cm3=1500.0,
        )  # fmt: skip
        for name, (phase, mask) in foci.items():
            lesion = add_lesion(session, case.id, name, "VII")
            box, data = pack_mask(mask)
            segmentation = SegmentationRow(
                lesion_pk=lesion.id,
                timepoint_pk=timepoint.id,
                series_pk=series[phase].id,
                grid_shape={"shape": list(mask.shape), "bbox": list(box), "part": None},
                mask_packed=data,
            )
            session.add(segmentation)
            session.flush()
            grid = ARTERIAL if phase == "arterial" else VENOUS
            add_measurement(session, segmentation.id, int(mask.sum()) * _voxel_cm3(grid))
        session.commit()
        return case.id


def _grids(uid: str, part: str | None) -> tuple[np.ndarray, Sequence[int]] | None:
    """The grid of each series, as its volume gives it (index_to_lps, shape)."""
    return {"1": ARTERIAL, "2": VENOUS}.get(uid.rsplit(".", 1)[-1])


def _shared(services: Any, case_pk: int) -> tuple[tuple[str, str, float], ...]:
    planning = PlanningService(services.session_factory, "dr test")
    volumes = {f.name: f.volume_cm3 for f in planning.burden_inputs(case_pk).foci}
    with services.session_factory() as session:
        return shared_volumes(session, case_pk, "baseline", volumes, grids=_grids)


def test_one_sphere_contoured_on_both_phases_is_counted_twice_and_measured(
    services: Any,
) -> None:
    arterial, venous = _ball(ARTERIAL), _ball(VENOUS)
    case_pk = _case(services, {"F1": ("arterial", arterial), "F2": ("venous", venous)}, [FRAME] * 2)

    ((first, second, shared_cm3),) = _shared(services, case_pk)
    assert (first, second) == ("F1", "F2")
    # Analytic: the sphere's volume. Each focus is the sphere rasterised on its grid, and F2
    # is carried onto F1's grid by nearest neighbour: an arterial voxel counts when its
    # centre falls in a venous voxel whose centre is in the sphere. The two differ only
    # within the venous half-voxel (0.35 × 0.35 × 0.625 mm) of the surface, which reaches
    # past it by about 0.1 mm averaged over the surface's directions, and the arterial
    # rasterisation adds an error of zero mean of that order: a shell of 0.25 mm over the
    # sphere's surface S (about a third of the venous pixel) bounds both (6 % of V here).
    volume = 4.0 / 3.0 * math.pi * RADIUS_MM**3 / 1000.0
    surface = 4.0 * math.pi * RADIUS_MM**2 / 1000.0
    assert shared_cm3 == pytest.approx(volume, abs=surface * 0.25)
    # Measured on F1's grid with F1's voxel volume: never more than F1 holds.
    assert shared_cm3 <= int(arterial.sum()) * _voxel_cm3(ARTERIAL) + 1e-9
    # Half of the tumour on the other phase: about half of it counted twice.
    half = venous & (_centres_lps(VENOUS)[2] < CENTRE_LPS[2])
    foci = {"F1": ("arterial", arterial), "F2": ("venous", half)}
    case_half = _case(services, foci, [FRAME] * 2, patient="P-half")
    ((_, _, half_cm3),) = _shared(services, case_half)
    assert half_cm3 == pytest.approx(volume / 2, abs=surface * 0.25)


def test_disjoint_foci_on_the_two_phases_share_nothing(services: Any) -> None:
    x_lps = _centres_lps(ARTERIAL)[0]
    left = _ball(ARTERIAL) & (x_lps < CENTRE_LPS[0] - 1.0)
    right = _ball(VENOUS) & (_centres_lps(VENOUS)[0] > CENTRE_LPS[0] + 1.0)
    far = _ball(VENOUS, (2.0, -8.0, 180.0), 6.0)  # its box does not meet F1's
    foci = {"F1": ("arterial", left), "F2": ("venous", right), "F3": ("venous", far)}
    case_pk = _case(services, foci, [FRAME] * 2)
    assert _shared(services, case_pk) == ()


def test_foci_on_series_of_different_frames_of_reference_are_not_compared(
    services: Any,
) -> None:
    foci = {"F1": ("arterial", _ball(ARTERIAL)), "F2": ("venous", _ball(VENOUS))}
    case_pk = _case(services, foci, [FRAME, FRAME + ".2"])
    assert _shared(services, case_pk) == ()


def test_the_plan_warns_of_a_tumour_contoured_on_both_phases(services: Any) -> None:
    foci = {"F1": ("arterial", _ball(ARTERIAL)), "F2": ("venous", _ball(VENOUS))}
    case_pk = _case(services, foci, [FRAME] * 2)
    # The plan reads the foci's grids through the grid source it is given.
    planning = PlanningService(services.session_factory, "dr test", grids=_grids)
    planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
    proposal = planning.propose(case_pk)
    advisories = {a.code: a for a in proposal.advisories}
    advisory = advisories["burden.foci_overlap.F1.F2"]
    assert advisory.severity == "warning"
    ((_, _, shared_cm3),) = planning.burden_inputs(case_pk).shared_volumes
    assert advisory.message.startswith(
        f"The contours of F1 and F2 overlap by {shared_cm3:.2f} cm³: that volume is counted "
        "in both foci, so the tumour volume is overstated"
    )
    assert "institutional default" in advisory.source
    for internal in ("voxel", "mask", "1.2.", "UID", "_"):
        assert internal not in advisory.message


@pytest.mark.dicom
def test_the_grid_of_a_series_is_read_from_its_headers(services: Any, small_phantom: Any) -> None:
    from tace_planner.domain.errors import NotFoundError
    from tace_planner.domain.progress import run_sync
    from tace_planner.services.focus_overlap import header_grids

    run_sync(services.studies.import_paths([small_phantom]))
    series = [s for s in services.studies.list_series() if s.is_volume and s.modality == "CT"]
    assert len(series) >= 2
    grids = header_grids(services.studies.series_files)
    for item in series[:2]:
        volume = run_sync(services.studies.load_series(item.series_uid))
        affine, shape = grids(item.series_uid, None)
        assert tuple(shape) == tuple(volume.shape)
        assert np.allclose(affine, volume.index_to_lps)
    with pytest.raises(NotFoundError):
        grids("1.2.3.not.stored", None)


def test_a_series_whose_grid_cannot_be_read_leaves_its_foci_out_without_stopping(
    services: Any,
) -> None:
    from tace_planner.domain.errors import DicomReadError

    foci = {"F1": ("arterial", _ball(ARTERIAL)), "F2": ("venous", _ball(VENOUS))}
    case_pk = _case(services, foci, [FRAME] * 2)

    def unreadable(uid: str, part: str | None) -> Any:
        if uid.endswith(".2"):
            raise DicomReadError("venous.dcm", "truncated file")
        return _grids(uid, part)

    planning = PlanningService(services.session_factory, "dr test")
    volumes = {f.name: f.volume_cm3 for f in planning.burden_inputs(case_pk).foci}
    with services.session_factory() as session:
        assert shared_volumes(session, case_pk, "baseline", volumes, grids=unreadable) == ()
        assert shared_volumes(session, case_pk, "baseline", volumes, grids=_grids) != ()


@pytest.mark.dicom
def test_the_apps_plan_warns_when_a_focus_is_contoured_again_on_the_arterial_phase(
    contoured_demo: Any,  # noqa: F811 (the fixture imported above)
) -> None:
    """As the app is put together (open_services): the demo's foci are contoured on the
    portal-venous series; F1 contoured again on the arterial series of the same study, as
    a new focus, is found holding F1's volume a second time."""
    services, contouring, case_pk, truth = contoured_demo
    series = truth["timepoints"][0]["series"]
    arterial = next(s["series_uid"] for s in series if s["folder"] == "CT_arterial")
    f1 = next(f for f in truth["timepoints"][0]["foci"] if f["name"] == "F1")
    assert services.planning.burden_inputs(case_pk).shared_volumes == ()
    contouring.auto_contour(case_pk, arterial, f1["center_lps_mm"], lesion="F8")
    burden = services.planning.burden_inputs(case_pk)
    volumes = {f.name: f.volume_cm3 for f in burden.foci}
    shared = {(a, b): cm3 for a, b, cm3 in burden.shared_volumes}
    assert set(shared) == {("F1", "F8")}
    # the same tumour twice: most of the smaller contour is held by the other
    assert shared[("F1", "F8")] > 0.7 * min(volumes["F1"], volumes["F8"])
