"""Volume planning from headers: order, splitting into parts, geometry checks (no files)."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tace_planner.domain.errors import UnsupportedSeriesError
from tace_planner.domain.geometry import index_to_lps
from tace_planner.imaging.dicom.scan import FrameHeader, InstanceHeader
from tace_planner.imaging.dicom.series import choose_plan
from tace_planner.imaging.dicom.volumes import VolumePlan, plan_volumes, plane_name

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)

BASE = InstanceHeader(
    path=Path("x.dcm"),
    sop_instance_uid="1",
    sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
    transfer_syntax_uid="1.2.840.10008.1.2.1",
    patient_id="p",
    patient_name="",
    issuer="",
    patient_birth_on=None,
    patient_sex="",
    study_uid="2",
    study_on=None,
    study_description="",
    accession_number="",
    series_uid="1.2.3",
    series_number=4,
    series_on=None,
    modality="CT",
    series_description="Abdomen venous",
    frame_of_reference_uid="9",
    instance_number=1,
    orientation=AXIAL,
    position_lps_mm=(0.0, 0.0, 0.0),
    pixel_spacing_mm=(0.8, 0.7),
    slice_thickness_mm=2.5,
    rows=8,
    columns=8,
    number_of_frames=1,
    acquisition_time="",
    contrast_agent="",
    contrast_start_time="",
    field_strength_t=None,
    echo_time_ms=None,
    b_value=None,
    image_type=("ORIGINAL", "PRIMARY", "AXIAL"),
    file_size_bytes=0,
)

_counter = iter(range(1, 10**9))


def stack(
    depths: Sequence[float],
    *,
    step_direction: Sequence[float] = (0.0, 0.0, 1.0),
    origin: Sequence[float] = (-10.0, -20.0, 0.0),
    **changes: object,
) -> list[InstanceHeader]:
    """Headers at origin + depth * direction, with unique SOP UIDs and file names."""
    headers = []
    for n, depth in enumerate(depths, start=1):
        uid = next(_counter)
        position = tuple(float(o + depth * d) for o, d in zip(origin, step_direction, strict=True))
        fields = {
            "sop_instance_uid": f"1.9.{uid}",
            "path": Path(f"f{uid}.dcm"),
            "instance_number": n,
            "position_lps_mm": position,
        }
        fields.update(changes)
        headers.append(dataclasses.replace(BASE, **fields))  # type: ignore[arg-type]
    return headers


def depths_of(plan: VolumePlan) -> list[float]:
    """Positions (z here) of a plan's slices, in slice order."""
    out = []
    for file_index, frame in plan.frames:
        header = plan.headers[file_index]
        position = header.frames[frame].position_lps_mm if header.frames else header.position_lps_mm
        assert position is not None
        out.append(position[2])
    return out


def only(plans: list[VolumePlan]) -> VolumePlan:
    assert len(plans) == 1, [p.part for p in plans]
    return plans[0]


# ---------------------------------------------------------------- order and grid


def test_uniform_stack_is_ok_and_ordered_by_position_not_input_order() -> None:
    headers = stack([2.5 * i for i in range(10)])
    shuffled = headers[:]
    random.Random(1).shuffle(shuffled)
    plan = only(plan_volumes(shuffled))
    assert plan.part is None
    assert plan.report.status == "ok"
    assert plan.report.warnings == ()
    assert depths_of(plan) == [2.5 * i for i in range(10)]
    assert plan.report.shape_zyx == (10, 8, 8)
    assert plan.report.spacing_mm == pytest.approx((2.5, 0.8, 0.7))
    assert plan.report.missing_slices == plan.report.duplicate_positions == 0
    affine = plan.index_to_lps
    # Pixel Spacing is (row spacing, column spacing): y index steps 0.8 mm, x index 0.7 mm.
    assert index_to_lps(affine, [9, 1, 1]) == pytest.approx([-10 + 0.7, -20 + 0.8, 22.5])


def test_descending_positions_are_sorted_along_the_normal() -> None:
    headers = stack([-2.5 * i for i in range(6)])  # instance 1 is the top slice
    plan = only(plan_volumes(headers))
    assert depths_of(plan) == [-12.5, -10.0, -7.5, -5.0, -2.5, 0.0]
    assert plan.origin_lps_mm[2] == -12.5
    assert plan.step_lps_mm == pytest.approx((0, 0, 2.5))


def test_coronal_stack_is_ordered_along_its_normal() -> None:
    # Row cosine +x, column cosine -z: the normal is +y (posterior).
    headers = stack([3.0 * i for i in range(5)], step_direction=(0, 1, 0), orientation=CORONAL)
    random.Random(2).shuffle(headers)
    plan = only(plan_volumes(headers))
    ys = [plan.headers[f].position_lps_mm[1] for f, _ in plan.frames]  # type: ignore[index]
    assert ys == [-20.0, -17.0, -14.0, -11.0, -8.0]
    assert plan.report.status == "ok"
    assert plane_name(CORONAL) == "coronal"


def test_the_same_instance_twice_is_one_image() -> None:
    headers = stack([2.5 * i for i in range(5)])
    plan = only(plan_volumes([*headers, dataclasses.replace(headers[2], path=Path("copy.dcm"))]))
    assert plan.report.status == "ok"
    assert plan.report.slice_count == 5


def test_report_is_json_ready() -> None:
    plan = only(plan_volumes(stack([0.0, 1.0, 2.0])))
    data = json.loads(json.dumps(plan.report.to_json()))
    assert data["status"] == "ok"
    assert data["shape_zyx"] == [3, 8, 8]


# ---------------------------------------------------------------- spacing problems


def test_missing_slice_is_a_named_gap() -> None:
    depths = [2.5 * i for i in range(20) if i != 17]
    plan = only(plan_volumes(stack(depths)))
    assert plan.report.status == "unmeasurable"
    assert plan.report.missing_slices == 1
    (message,) = plan.report.warnings
    assert message == (
        'series 4 "Abdomen venous": gap of 5.0 mm between slices 17 and 18 '
        "(expected 2.5 mm): 1 slice missing"
    )


def test_two_missing_slices_in_one_gap() -> None:
    plan = only(plan_volumes(stack([0, 2.5, 5, 7.5, 15, 17.5, 20])))
    assert plan.report.missing_slices == 2
    assert (
        "gap of 7.5 mm between slices 4 and 5 (expected 2.5 mm): 2 slices missing"
        in plan.report.warnings[0]
    )


def test_many_gaps_are_summarised() -> None:
    depths = [d for d in np.arange(0, 60, 2.0) if d not in (6, 14, 22, 30, 38)]
    plan = only(plan_volumes(stack([float(d) for d in depths])))
    assert plan.report.missing_slices == 5
    assert "and 2 more gap(s), 5 slices missing in all" in plan.report.warnings[0]


def test_jitter_within_tolerance_is_ok() -> None:
    depths = [2.5 * i + (0.004 if i % 2 else 0.0) for i in range(10)]
    assert only(plan_volumes(stack(depths))).report.status == "ok"


def test_slightly_uneven_spacing_is_a_warning_with_min_median_max() -> None:
    depths = np.cumsum([0, 2.5, 2.5, 2.6, 2.5, 2.4, 2.5, 2.5]).tolist()
    report = only(plan_volumes(stack(depths))).report
    assert report.status == "warning"
    assert report.spacing_min_mm == pytest.approx(2.4)
    assert report.spacing_median_mm == pytest.approx(2.5)
    assert report.spacing_max_mm == pytest.approx(2.6)
    assert "uneven slice spacing: min 2.4, median 2.5, max 2.6 mm" in report.warnings[0]
    assert report.spacing_mm[0] == pytest.approx(depths[-1] / 7)


def test_very_uneven_spacing_is_unmeasurable() -> None:
    depths = np.cumsum([0, 2.5, 2.5, 3.5, 2.5, 2.5, 1.8, 2.5]).tolist()
    report = only(plan_volumes(stack(depths))).report
    assert report.status == "unmeasurable"
    assert report.missing_slices == 0
    assert "more than 10% apart" in report.warnings[0]


# ---------------------------------------------------------------- duplicates


def test_duplicate_position_keeps_the_first_instance() -> None:
    headers = stack([2.5 * i for i in range(6)])
    copy = dataclasses.replace(
        headers[3], sop_instance_uid="1.9.dup", instance_number=99, path=Path("dup.dcm")
    )
    plan = only(plan_volumes([copy, *headers]))
    assert plan.report.status == "warning"
    assert plan.report.duplicate_positions == 1
    assert plan.report.slice_count == 6
    assert all(h.sop_instance_uid != "1.9.dup" for h in plan.headers)
    assert (
        "the first image at each position (lowest instance number) is kept"
        in plan.report.warnings[0]
    )


def test_duplicate_depth_shifted_in_plane_is_unmeasurable() -> None:
    headers = stack([2.5 * i for i in range(6)])
    shifted = dataclasses.replace(
        headers[3], sop_instance_uid="1.9.shift", instance_number=99, position_lps_mm=(-5, -20, 7.5)
    )
    report = only(plan_volumes([*headers, shifted])).report
    assert report.status == "unmeasurable"
    assert any("shifted in-plane" in w for w in report.warnings)


# ---------------------------------------------------------------- tilt and shear


def test_gantry_tilt_keeps_the_sheared_grid() -> None:
    tilt = math.radians(15)
    direction = (0.0, math.tan(tilt), 1.0)
    headers = stack([2.0 * i for i in range(12)], step_direction=direction, gantry_tilt_deg=15.0)
    plan = only(plan_volumes(headers))
    report = plan.report
    assert report.status == "warning"
    assert report.gantry_tilt_deg == pytest.approx(15.0, abs=1e-6)
    assert report.resampled is False
    assert report.spacing_mm[0] == pytest.approx(2.0)  # along the normal
    assert plan.step_lps_mm == pytest.approx((0.0, 2.0 * math.tan(tilt), 2.0))
    # Voxel volume is exact for the sheared grid: the height along the normal times the pixel.
    det = abs(np.linalg.det(plan.index_to_lps[:3, :3]))
    assert det == pytest.approx(2.0 * 0.8 * 0.7)
    assert "tilt of 15.0°" in report.warnings[0]


def test_negative_tilt_tag_gives_the_sign() -> None:
    direction = (0.0, -math.tan(math.radians(10)), 1.0)
    headers = stack([2.0 * i for i in range(5)], step_direction=direction, gantry_tilt_deg=-10.0)
    assert only(plan_volumes(headers)).report.gantry_tilt_deg == pytest.approx(-10.0)


def test_tilt_tag_without_sheared_positions_is_a_warning() -> None:
    report = only(plan_volumes(stack([0, 2, 4, 6], gantry_tilt_deg=12.0))).report
    assert report.status == "warning"
    assert report.gantry_tilt_deg == 0.0
    assert (
        "Gantry/Detector Tilt says 12° but the slice positions are not sheared"
        in report.warnings[0]
    )


def test_origins_off_a_line_are_unmeasurable() -> None:
    headers = stack([2.5 * i for i in range(8)])
    headers[4] = dataclasses.replace(headers[4], position_lps_mm=(-7.0, -20.0, 10.0))
    report = only(plan_volumes(headers)).report
    assert report.status == "unmeasurable"
    assert "deviate up to 3.0 mm from a straight line" in report.warnings[0]


# ---------------------------------------------------------------- splitting into parts


def test_mixed_matrix_sizes_become_parts() -> None:
    small = stack([2.5 * i for i in range(5)])
    large = stack([2.5 * i for i in range(7)], rows=16, columns=16, pixel_spacing_mm=(0.4, 0.4))
    plans = plan_volumes(large + small)
    assert [p.part for p in plans] == ["axial 8x8", "axial 16x16"]
    assert [p.report.slice_count for p in plans] == [5, 7]


def test_mixed_orientations_become_parts() -> None:
    axial = stack([2.5 * i for i in range(5)])
    coronal = stack([3.0 * i for i in range(4)], step_direction=(0, 1, 0), orientation=CORONAL)
    plans = plan_volumes(coronal + axial)
    assert [p.part for p in plans] == ["axial 8x8", "coronal 8x8"]
    assert all(p.report.status == "ok" for p in plans)


def test_a_single_image_of_another_grid_is_left_out_with_a_warning() -> None:
    scout = dataclasses.replace(
        BASE, sop_instance_uid="1.9.scout", rows=512, columns=512, instance_number=0
    )
    plan = only(plan_volumes([scout, *stack([2.5 * i for i in range(5)])]))
    assert plan.part is None
    assert plan.report.status == "warning"
    assert "1 single image(s) of another grid, contrast or time left out" in plan.report.warnings[0]


def test_multi_echo_series_splits_by_echo() -> None:
    depths = [3.0 * i for i in range(6)]
    first = stack(depths, echo_number=1, echo_time_ms=2.3, modality="MR")
    second = stack(depths, echo_number=2, echo_time_ms=4.6, modality="MR")
    mixed = [h for pair in zip(second, first, strict=True) for h in pair]
    plans = plan_volumes(mixed)
    assert [p.part for p in plans] == ["echo 1 (TE 2.3 ms)", "echo 2 (TE 4.6 ms)"]
    assert all(p.report.status == "ok" and p.report.slice_count == 6 for p in plans)


def test_dwi_series_splits_by_b_value() -> None:
    depths = [5.0 * i for i in range(4)]
    plans = plan_volumes(stack(depths, b_value=800.0) + stack(depths, b_value=50.0))
    assert [p.part for p in plans] == ["b=50", "b=800"]


def test_magnitude_and_phase_are_parts() -> None:
    depths = [5.0 * i for i in range(4)]
    magnitude = stack(depths, complex_component="magnitude")
    phase = stack(depths, complex_component="phase")
    assert [p.part for p in plan_volumes(phase + magnitude)] == ["magnitude", "phase"]


def test_repeated_positions_split_by_temporal_position() -> None:
    depths = [4.0 * i for i in range(5)]
    headers = [h for t in (1, 2, 3) for h in stack(depths, temporal_position_index=t)]
    plans = plan_volumes(headers)
    assert [p.part for p in plans] == ["time 1", "time 2", "time 3"]
    assert all(p.report.status == "ok" for p in plans)


def test_repeated_positions_split_by_acquisition_number() -> None:
    depths = [4.0 * i for i in range(5)]
    headers = stack(depths, acquisition_number=1) + stack(depths, acquisition_number=2)
    assert [p.part for p in plan_volumes(headers)] == ["acquisition 1", "acquisition 2"]


def test_acquisition_numbers_without_repeats_do_not_split() -> None:
    headers = stack([2.5 * i for i in range(8)])
    headers = [dataclasses.replace(h, acquisition_number=1 + n // 4) for n, h in enumerate(headers)]
    assert only(plan_volumes(headers)).report.status == "ok"


def test_part_names_do_not_depend_on_input_order() -> None:
    depths = [5.0 * i for i in range(4)]
    headers = stack(depths, b_value=0.0) + stack(depths, b_value=800.0)
    forward = [(p.part, [h.sop_instance_uid for h in p.headers]) for p in plan_volumes(headers)]
    backward = [
        (p.part, [h.sop_instance_uid for h in p.headers]) for p in plan_volumes(headers[::-1])
    ]
    assert forward == backward


def test_choose_plan_by_name_and_refuse_without_one() -> None:
    depths = [5.0 * i for i in range(4)]
    plans = plan_volumes(stack(depths, b_value=50.0) + stack(depths, b_value=800.0))
    assert choose_plan(plans, "b=800") is plans[1]
    with pytest.raises(UnsupportedSeriesError, match=r'holds 2 volumes \("b=50", "b=800"\)'):
        choose_plan(plans, None)
    with pytest.raises(UnsupportedSeriesError, match='no part "b=1000"'):
        choose_plan(plans, "b=1000")


# ---------------------------------------------------------------- multi-frame


def test_enhanced_multi_frame_frames_are_ordered_by_position() -> None:
    depths = [6.0, 0.0, 3.0, 9.0]
    frames = tuple(
        FrameHeader(position_lps_mm=(0.0, 0.0, d), orientation=AXIAL, pixel_spacing_mm=(0.5, 0.5))
        for d in depths
    )
    header = dataclasses.replace(BASE, number_of_frames=4, frames=frames)
    plan = only(plan_volumes([header]))
    assert plan.frames == ((0, 1), (0, 2), (0, 0), (0, 3))
    assert plan.report.status == "ok"
    assert plan.report.spacing_mm == pytest.approx((3.0, 0.5, 0.5))


def test_enhanced_multi_frame_b_values_per_frame() -> None:
    frames = tuple(
        FrameHeader(
            position_lps_mm=(0.0, 0.0, 5.0 * (n % 3)),
            orientation=AXIAL,
            pixel_spacing_mm=(1.0, 1.0),
            b_value=0.0 if n < 3 else 1000.0,
        )
        for n in range(6)
    )
    plans = plan_volumes(
        [dataclasses.replace(BASE, number_of_frames=6, frames=frames, modality="MR")]
    )
    assert [p.part for p in plans] == ["b=0", "b=1000"]
    assert plans[1].frames == ((0, 3), (0, 4), (0, 5))


# ---------------------------------------------------------------- refusals


def test_single_slice_series_is_refused_naming_the_series() -> None:
    with pytest.raises(UnsupportedSeriesError, match=r'series 4 "Abdomen venous" \(UID 1\.2\.3\)'):
        plan_volumes(stack([0.0]))


def test_series_without_geometry_is_refused() -> None:
    headers = stack([0.0, 2.5, 5.0], pixel_spacing_mm=None)
    with pytest.raises(UnsupportedSeriesError, match="no image has the position"):
        plan_volumes(headers)


def test_multi_frame_without_frame_positions_is_refused() -> None:
    with pytest.raises(UnsupportedSeriesError, match="no position for each frame"):
        plan_volumes([dataclasses.replace(BASE, number_of_frames=20)])


def test_no_headers_is_refused() -> None:
    with pytest.raises(UnsupportedSeriesError):
        plan_volumes([])


def test_images_without_geometry_are_left_out_with_a_warning() -> None:
    headers = [
        *stack([0.0, 2.5, 5.0]),
        dataclasses.replace(BASE, sop_instance_uid="x", orientation=None),
    ]
    report = only(plan_volumes(headers)).report
    assert report.status == "warning"
    assert "1 image(s) left out: no position, orientation or pixel spacing" in report.warnings[0]


def test_drifting_steps_are_unmeasurable_even_if_each_is_close() -> None:
    # 15 steps of 2.5 mm then 15 of 2.7 mm: each within 10 %, but the even grid
    # puts the middle slice 1.5 mm (more than half a step) from where it is.
    depths = np.cumsum([0.0] + [2.5] * 15 + [2.7] * 15).tolist()
    report = only(plan_volumes(stack(depths))).report
    assert report.status == "unmeasurable"
    assert (
        "the steps drift, so an even grid puts slice 16 1.5 mm from its true position"
        in (report.warnings[0])
    )
