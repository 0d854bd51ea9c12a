"""Cancelling a proposal during the registration: the optimiser is asked at each iteration
and stops, rather than only between the task's steps (no Qt, no database)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tace_planner.domain.progress import run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.registration import register_follow_up
from tace_planner.services.contouring_dto import TimepointChoice
from tace_planner.services.propagation import PropagationService

SPACING_MM = (2.5, 1.5, 1.5)


def _body(shift_voxels: tuple[int, int, int] = (0, 0, 0)) -> ImageVolume:
    """A textured ellipsoidal body (soft tissue with darker and brighter spots) in air."""
    from scipy import ndimage

    shape = (40, 72, 72)
    z, y, x = np.indices(shape, dtype=float)
    inside = ((z - 20) / 17) ** 2 + ((y - 36) / 30) ** 2 + ((x - 36) / 26) ** 2 <= 1.0
    texture = ndimage.gaussian_filter(np.random.default_rng(3).normal(size=shape), 2.0)
    voxels = np.where(inside, 50.0 + 400.0 * texture, -1000.0).astype(np.float32)
    voxels = np.roll(voxels, shift_voxels, axis=(0, 1, 2))
    return ImageVolume(voxels, np.diag([*SPACING_MM, 1.0]))


class _Asked:
    """A cancel flag that counts how often it was asked; says yes from the ``at``-th time."""

    def __init__(self, at: int | None) -> None:
        self.at, self.asked = at, 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.at is not None and self.asked >= self.at


@pytest.fixture(scope="module")
def pair() -> tuple[ImageVolume, ImageVolume]:
    return _body(), _body((1, 3, -2))


def test_a_registration_cancelled_at_its_first_iteration_stops_there(pair: Any) -> None:
    baseline, follow_up = pair
    full = _Asked(None)  # never cancelled: asked at every iteration of every level
    finished = register_follow_up(baseline, follow_up, should_stop=full)
    assert finished.kind != "cancelled"
    assert full.asked > 10

    cancel = _Asked(1)  # yes at the first iteration event
    stopped = register_follow_up(baseline, follow_up, should_stop=cancel)
    assert stopped.kind == "cancelled"
    assert not stopped.ok
    assert "cancelled" in stopped.message
    assert np.array_equal(stopped.baseline_to_follow_up, np.eye(4))
    assert cancel.asked == 1  # asked once: the registration did not go on
    assert stopped.stages == ()  # no stage kept, the affine one never started


def test_a_proposal_cancelled_during_the_registration_proposes_nothing(
    pair: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline_image, follow_image = pair
    baseline = TimepointChoice(1, "baseline", "baseline", None)
    follow = TimepointChoice(2, "follow-up 1", "follow_up", None)
    focus_mask = np.zeros(baseline_image.shape, bool)
    focus_mask[18:22, 30:36, 30:36] = True
    lesion = SimpleNamespace(pk=7, name="F1", is_liver=False)
    segmentation = SimpleNamespace(timepoint_pk=1, is_empty=False, series_uid="1.2.b", part=None)
    contouring = SimpleNamespace(
        lesions=SimpleNamespace(timepoints=lambda _case: [baseline, follow]),
        load_mask=lambda _lesion, _tp: SimpleNamespace(lesion=lesion, mask=focus_mask),
        volume=lambda uid, part=None: baseline_image if uid == "1.2.b" else follow_image,
    )
    service = PropagationService(None, contouring)  # type: ignore[arg-type]
    monkeypatch.setattr(service, "_stored", lambda _case: [(lesion, segmentation)])
    monkeypatch.setattr(service, "_phase", lambda _uid: "venous")
    monkeypatch.setattr(service, "_follow_up_series", lambda _tp, _phase: "1.2.f")
    monkeypatch.setattr(service, "_liver", lambda *_args: None)

    def never(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a focus was proposed after the registration was cancelled")

    monkeypatch.setattr("tace_planner.imaging.propagation.propagate_lesion", never)
    cancel = _Asked(1)
    item = run_sync(service.propose_task(5, "follow-up 1", cancelled=cancel))
    assert item.registration.kind == "cancelled"
    assert not item.registration.ok
    assert item.proposals == ()
    assert cancel.asked == 1
