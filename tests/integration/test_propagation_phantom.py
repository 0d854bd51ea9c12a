"""Follow-up contours proposed from the baseline on the small phantom's scripted follow-ups.

The demo case (small phantom imported, studies linked to baseline and follow-ups 1–3)
gets its baseline contours from the phantom's analytic truth; each follow-up is
registered to the baseline (the patient lies 4–7 mm elsewhere at each visit,
``truth.json``), every focus is carried over and contoured again, and the proposals are
held to the follow-up's analytic volumes. Only confirmed proposals are stored.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tace_planner.imaging.phantom_truth import PhantomTruth, truth_masks
from tace_planner.services.bootstrap import open_services
from tace_planner.services.contouring import ContourWrite
from tace_planner.services.propagation import propagation_service
from tace_planner.services.settings import AppSettings

pytestmark = [pytest.mark.db, pytest.mark.dicom, pytest.mark.slow]

VOLUME_TOLERANCE = 0.15
"""3.125 mm pixels and 5 mm slices: a 2 cm³ focus is ~40 voxels, so ±15 % (the
contouring test holds the 45 cm³ focus to 6 % on this grid)."""
MEASURABLE_MM = 10.0


@pytest.fixture(scope="module")
def contoured(tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path):
    """The demo case with the baseline truth stored as its contours (liver and foci)."""
    data_dir = tmp_path_factory.mktemp("propagate") / "data"
    shutil.copytree(demo_data_dir, data_dir)
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="tester"))
    truth = PhantomTruth.from_json(
        json.loads((data_dir / "demo-phantom" / "truth.json").read_text(encoding="utf-8"))
    )
    baseline = truth.timepoint("baseline")
    venous = baseline.series_by_folder("CT_venous")
    case_pk, timepoint_pk, _ = services.contouring.series_context(venous.series_uid)
    volume = services.contouring.volume(venous.series_uid)
    masks = truth_masks(truth, volume, "baseline")
    writes = [ContourWrite("Liver", "liver", masks["liver"], "manual")]
    writes += [ContourWrite(f.name, "focus", masks[f.name], "manual") for f in baseline.foci]
    services.contouring.write_contours(case_pk, timepoint_pk, venous.series_uid, None, writes)
    yield services, truth, case_pk
    services.close()


@pytest.mark.parametrize(("label", "number"), [("follow_up_1", 1), ("follow_up_3", 3)])
def test_registration_recovers_the_patient_offset(contoured, label: str, number: int) -> None:
    services, truth, case_pk = contoured
    item = propagation_service(services).propose(case_pk, f"follow-up {number}", lesions=["F1"])
    offset = np.asarray(truth.timepoint(label).patient_offset_lps_mm)
    assert item.registration.ok, item.registration.message
    # The phantom's follow-up is the baseline anatomy shifted by the offset.
    assert np.abs(np.asarray(item.registration.translation_mm) - offset).max() <= 2.0
    assert np.allclose(item.registration.baseline_to_follow_up[:3, :3], np.eye(3), atol=0.02)
    assert item.registration.correlation > item.registration.correlation_before


@pytest.mark.parametrize("number", [1, 3])
def test_proposals_at_follow_ups_against_the_phantom_truth(contoured, number: int) -> None:
    """Every measurable focus is found; most within the volume tolerance; the rest flagged.

    Measured (small phantom, portal venous; benchmarks/propagate.py): 14 of 18 focus-visits
    within 15 % on this noise draw, 75 of 90 over five draws (contoured on the coarse
    voxels, before the local grid and the edge fit: 13 of 18, 57 of 90); the misses are
    the 15–17 mm foci F3 and F6 (one of them necrotic at follow-up 1) on 3.125 mm pixels
    and 5 mm slices, where ~45 edge voxels fix the volume to about ±10 % under this noise
    (test_propagation_small_draws.py counts three more draws; the full-size phantom's test
    holds 18 of 18). Far misses carry a message asking to check.
    """
    services, truth, case_pk = contoured
    item = propagation_service(services).propose(case_pk, f"follow-up {number}")
    assert item.registration.ok, item.registration.message
    follow_up = truth.timepoint(f"follow_up_{number}")
    within, measurable = 0, 0
    for proposal in item.proposals:
        focus = next(f for f in follow_up.foci if f.name == proposal.name)
        if 2 * max(focus.semi_axes_mm) < MEASURABLE_MM:
            continue  # F5 (7 mm at baseline) is below the RECIST size: a few voxels here
        measurable += 1
        assert proposal.found, proposal.messages
        ratio = proposal.volume_cm3 / focus.volume_cm3
        within += abs(ratio - 1.0) <= VOLUME_TOLERANCE
        if ratio < 0.6:
            assert any("check that the whole focus" in m for m in proposal.messages)
        baseline_cm3 = proposal.baseline_volume_cm3
        if baseline_cm3 and proposal.volume_cm3 > 1.6 * baseline_cm3:  # same grid: ≈ carried
            assert any("has not leaked" in m for m in proposal.messages)
    assert measurable == 6
    assert within >= 4


def test_a_proposal_decodes_only_the_masks_it_carries(
    contoured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proposing one focus reads that focus and the baseline liver, not every mask of the case."""
    from tace_planner.services import mask_store

    services, _, case_pk = contoured
    decoded: list[int] = []
    real = mask_store.decode_segmentation

    def counted(row):  # type: ignore[no-untyped-def]
        decoded.append(row.lesion_pk)
        return real(row)

    monkeypatch.setattr(mask_store, "decode_segmentation", counted)
    item = propagation_service(services).propose(case_pk, "follow-up 1", lesions=["F3"])
    assert [p.name for p in item.proposals] == ["F3"]
    names = {lesion.pk: lesion.name for lesion in services.contouring.list_lesions(case_pk)}
    assert sorted(names[pk] for pk in decoded) == ["F3", "Liver"]


def test_proposals_are_stored_only_when_confirmed(contoured) -> None:
    services, _, case_pk = contoured
    propagation = propagation_service(services)
    item = propagation.propose(case_pk, "follow-up 2", lesions=["F2", "F4"])
    assert item.registration.ok
    # Nothing stored before the confirmation.
    stored = services.contouring.masks_of_case(case_pk)
    assert all(m.segmentation.timepoint_pk != item.follow_up.pk for m in stored)
    confirmed = propagation.confirm(item, ["F2", "F4"])
    assert confirmed.confirmed == ("F2", "F4")
    at_follow_up = {
        m.lesion.name: m
        for m in services.contouring.masks_of_case(case_pk)
        if m.segmentation.timepoint_pk == item.follow_up.pk
    }
    assert set(at_follow_up) == {"F2", "F4"}
    # Same lesion identity as at baseline: one lesion, a mask per timepoint.
    names = [lesion.name for lesion in services.contouring.list_lesions(case_pk)]
    assert names.count("F2") == 1
    measured = services.contouring.measurements(case_pk=case_pk, timepoint=item.follow_up.pk)
    volumes = {m.name: m.volume_cm3 for m in measured.lesions}
    proposed = {p.name: p for p in item.proposals}
    for name in ("F2", "F4"):  # the stored contour is the proposal, measured
        assert volumes[name] == pytest.approx(proposed[name].volume_cm3)
        assert np.array_equal(at_follow_up[name].mask, proposed[name].mask)


def test_a_focus_that_is_gone_is_proposed_as_not_found(contoured) -> None:
    """Baseline F8 does not exist before the last visit: at follow-up 1 it is said not found."""
    services, truth, case_pk = contoured
    # F8 appears at follow-up 3 only: contour it there as if it were a baseline focus
    # of a second case would need another case; instead carry F3's contour to where the
    # liver is plain (a known focus-free spot) by drawing a fake baseline focus there.
    baseline = truth.timepoint("baseline")
    venous = baseline.series_by_folder("CT_venous")
    volume = services.contouring.volume(venous.series_uid)
    f8 = next(f for f in truth.timepoint("follow_up_3").foci if f.name == "F8")
    # F8's place at baseline (its follow-up 3 centre less that visit's offset): plain liver.
    offset = np.asarray(truth.timepoint("follow_up_3").patient_offset_lps_mm)
    centre = np.asarray(f8.center_lps_mm) - offset
    index = np.linalg.solve(volume.index_to_lps, np.append(centre, 1.0))[:3]
    zz, yy, xx = np.indices(volume.shape)
    spacing = volume.spacing_mm
    ghost = (
        ((zz - index[0]) * spacing[0]) ** 2
        + ((yy - index[1]) * spacing[1]) ** 2
        + ((xx - index[2]) * spacing[2]) ** 2
    ) <= 8.0**2
    case_pk, timepoint_pk, _ = services.contouring.series_context(venous.series_uid)
    services.contouring.write_contours(
        case_pk, timepoint_pk, venous.series_uid, None,
        [ContourWrite("F9", "focus", ghost, "manual")],
    )  # fmt: skip
    item = propagation_service(services).propose(case_pk, "follow-up 1", lesions=["F9"])
    [proposal] = item.proposals
    assert not proposal.found
    assert proposal.volume_cm3 == 0.0
    assert proposal.longest_axial_diameter_mm == 0.0
    assert "No focus found where F9 was" in proposal.messages[0]
    services.contouring.delete_lesion(proposal.lesion_pk)


def test_a_failed_registration_is_said_and_proposes_nothing() -> None:
    """A follow-up that is not the same anatomy: quality below the threshold, not hidden."""
    from tace_planner.domain.volume import ImageVolume
    from tace_planner.imaging.phantom import phantom_truth
    from tace_planner.imaging.phantom_variants import render_phantom_ct
    from tace_planner.imaging.registration import register_follow_up

    truth = phantom_truth("small", seed=0)
    grid = truth.timepoint("baseline").series_by_folder("CT_venous").grid
    baseline = render_phantom_ct(grid, timepoint="baseline", seed=0)
    noise = np.random.default_rng(5).normal(0.0, 300.0, baseline.shape).astype(np.float32)
    unrelated = ImageVolume(noise, baseline.index_to_lps)
    result = register_follow_up(
        baseline, unrelated, baseline_liver=truth_masks(truth, grid, "baseline")["liver"]
    )
    assert not result.ok
    assert result.message.startswith("Registration failed")
    assert "contour them by hand" in result.message


def test_cli_followup_propagate(contoured, capsys: pytest.CaptureFixture[str]) -> None:
    from tace_planner.cli import main

    services, _, case_pk = contoured
    data_dir = str(services.settings.data_dir)
    base = ["--data-dir", data_dir, "followup", "propagate", "--case", str(case_pk)]
    assert main([*base, "--timepoint", "follow-up 1", "--lesion", "F7", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["registration"]["ok"] is True
    assert [p["name"] for p in payload["proposals"]] == ["F7"]
    assert payload["proposals"][0]["status"] == "found"
    assert payload["confirmed"] == []
    assert main([*base, "--timepoint", "FOLLOW-UP 1", "--lesion", "F7", "--confirm"]) == 0
    out = capsys.readouterr().out
    assert "Registered (rigid)" in out
    assert "F7: " in out
    assert "stored 1 contour(s) at follow-up 1" in out
    assert main([*base, "--timepoint", "follow-up 9"]) == 1
    assert "timepoint 'follow-up 9' is not in case" in capsys.readouterr().err


def test_cli_confirm_keeps_a_stored_contour_unless_replace(
    contoured, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second ``--confirm`` keeps what is stored at the follow-up; ``--replace`` replaces it."""
    from tace_planner.cli import main

    services, _, case_pk = contoured
    data_dir = str(services.settings.data_dir)
    base = ["--data-dir", data_dir, "followup", "propagate", "--case", str(case_pk)]
    base += ["--timepoint", "follow-up 3", "--lesion", "F1"]
    assert main([*base, "--confirm", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["confirmed"] == ["F1"]
    assert first["proposals"][0]["stored_contour"]["method"] == "auto"  # stored now
    # the contour is corrected by hand at follow-up 3
    timepoint_pk = services.propagation.timepoint(case_pk, "follow-up 3").pk
    (f1,) = [
        m
        for m in services.contouring.masks_of_case(case_pk)
        if m.segmentation.timepoint_pk == timepoint_pk and m.lesion.name == "F1"
    ]
    corrected = f1.mask.copy()
    corrected[tuple(np.argwhere(corrected)[:4].T)] = False
    services.contouring.write_contours(
        case_pk, timepoint_pk, f1.segmentation.series_uid, None,
        [ContourWrite("F1", "focus", corrected, "manual", None, f1.segmentation.version)],
    )  # fmt: skip

    def stored() -> np.ndarray:
        (mask,) = [
            m.mask
            for m in services.contouring.masks_of_case(case_pk)
            if m.segmentation.timepoint_pk == timepoint_pk and m.lesion.name == "F1"
        ]
        return mask

    assert main([*base, "--confirm"]) == 0
    captured = capsys.readouterr()
    assert "stored contour: edited by hand, tester, " in captured.out
    assert "kept the contour(s) already stored at follow-up 3 for F1" in captured.err
    assert np.array_equal(stored(), corrected)
    assert main([*base, "--replace"]) == 2
    assert "--replace needs --confirm" in capsys.readouterr().err
    assert main([*base, "--confirm", "--replace", "--json"]) == 0
    replaced = json.loads(capsys.readouterr().out)
    assert replaced["confirmed"] == ["F1"]
    assert replaced["kept"] == []
    after = replaced["proposals"][0]["stored_contour"]  # the proposal replaced the edit
    assert after["method"] == "auto"
    assert after["version"] == first["proposals"][0]["stored_contour"]["version"] + 2
    assert stored().sum() == corrected.sum() + 4
