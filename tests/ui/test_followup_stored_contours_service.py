"""The contours stored at a follow-up are read by the propagation service (a DTO); the
review widget only shows what it is given (pytest-qt, offscreen, a fake contouring service).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PySide6")

from tace_planner.domain.progress import run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.services.contouring_dto import TimepointChoice

BASELINE, FOLLOW_UP = 10, 11
SHAPE = (6, 20, 20)
FOLLOW = TimepointChoice(FOLLOW_UP, "follow-up 1", "follow_up", dt.date(2026, 5, 11))


class _Contouring:
    """F1 and F2 at the baseline, F1 at the follow-up (plus the liver, and an F3 mask on
    another grid); counts the volumes and masks read."""

    def __init__(self) -> None:
        self.read: list[tuple[str, Any]] = []
        self.masks = SimpleNamespace(segmentations_of_case=self._segmentations)

    def _segmentations(self, case_pk: int) -> list[tuple[Any, Any]]:
        rows = [("liver", BASELINE, 0), ("F1", BASELINE, 1), ("F2", BASELINE, 1),
                ("F3", BASELINE, 1), ("F1", FOLLOW_UP, 2)]  # fmt: skip
        return [
            (
                SimpleNamespace(pk=n, name=name, is_liver=name == "liver"),
                SimpleNamespace(
                    pk=n,
                    timepoint_pk=tp,
                    series_uid=f"1.2.{tp}",
                    part=None,
                    is_empty=False,
                    version=version,
                ),
            )
            for n, (name, tp, version) in enumerate(rows)
        ]

    def volume(self, uid: str, part: Any = None) -> ImageVolume:
        self.read.append(("volume", uid))
        return ImageVolume(np.zeros(SHAPE, np.float32), np.diag([2.5, 1.0, 1.0, 1.0]))

    def load_mask(self, lesion_pk: int, timepoint_pk: int) -> Any:
        self.read.append(("mask", (lesion_pk, timepoint_pk)))
        name = {1: "F1", 2: "F2", 3: "F3", 4: "F1"}[lesion_pk]
        shape = (2, 2, 2) if name == "F3" else SHAPE  # F3: drawn on another grid
        mask = np.zeros(shape, bool)
        mask[2:4, 5:9, 5:9] = True
        return SimpleNamespace(lesion=SimpleNamespace(name=name), mask=mask)


def test_the_service_reads_the_stored_contours_into_a_review_dto() -> None:
    from tace_planner.services.propagation import (
        PropagationService,
        StoredReview,
        stored_contour_versions,
        stored_review_task,
    )

    contouring = _Contouring()
    view = run_sync(stored_review_task(contouring, 1, BASELINE, FOLLOW))
    assert isinstance(view, StoredReview)
    assert [name for name, _ in view.baseline_masks] == ["F1", "F2"]  # liver and F3 left out
    assert [name for name, _ in view.follow_up_masks] == ["F1"]
    assert view.baseline_image.shape == view.follow_up_image.shape == SHAPE
    assert [uid for what, uid in contouring.read if what == "volume"] == ["1.2.10", "1.2.11"]
    assert not view.registration.ok  # not registered: aligned on a lesion
    assert "follow-up 1" in view.message
    versions = stored_contour_versions(contouring, 1)
    assert {entry[1] for entry in versions} == {"F1", "F2", "F3"}
    # the same through the propagation service (its contouring service)
    service = PropagationService(None, contouring)  # type: ignore[arg-type]
    again = run_sync(service.stored_review(1, BASELINE, FOLLOW))
    assert isinstance(again, StoredReview)
    assert [name for name, _ in again.follow_up_masks] == ["F1"]
    assert service.stored_versions(1) == versions
    # nothing at a follow-up without contours: None, and no CT read for it
    empty = TimepointChoice(12, "follow-up 2", "follow_up", None)
    contouring.read.clear()
    assert run_sync(stored_review_task(contouring, 1, BASELINE, empty)) is None
    assert contouring.read == []


def test_the_review_widget_reads_no_contours_and_shows_the_dto(qtbot: Any) -> None:
    import tace_planner.ui.followup_review as review_module
    from tace_planner.services.propagation import StoredReview, stored_review_task

    # the reading lives in the service; the widget module keeps only the display
    assert not hasattr(review_module, "stored_review_task")
    assert not hasattr(review_module, "stored_contour_versions")
    assert review_module.StoredReview is StoredReview  # the same DTO, for callers' isinstance

    view = run_sync(stored_review_task(_Contouring(), 1, BASELINE, FOLLOW))
    widget = review_module.FollowupReview()
    qtbot.addWidget(widget)
    widget.show_stored(view)
    assert widget.item is view
    assert widget.follow_up.title.text().startswith("Follow-up 1, stored contours")
    assert [widget.table.item(r, 0).text() for r in range(widget.table.rowCount())] == [
        "F1",
        "F2",
    ]
    assert not widget.confirm_button.isEnabled()
