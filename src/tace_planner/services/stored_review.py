"""The contours already stored at a follow-up, read for the side-by-side review.

:func:`stored_review_task` reads the baseline and follow-up CTs with the foci contoured
on them into a :class:`StoredReview` (not registered: the views are aligned on the chosen
lesion); :func:`stored_contour_versions` says cheaply whether they changed since they were
shown. Both read through the contouring service they are given
(:class:`~tace_planner.services.contouring.ContouringService`) and write nothing; they are
re-exported by :mod:`tace_planner.services.propagation`, which also offers them as
:class:`~tace_planner.services.propagation.PropagationService` methods.

Its own module, without the database layer, so that the UI can hold the DTO (the import
contract "the UI reaches data through services" forbids the UI any module that imports
the store, as :mod:`~tace_planner.services.propagation` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt

from tace_planner.domain.progress import Progress, Task

__all__ = ["StoredReview", "stored_contour_versions", "stored_review_task"]


@dataclass(eq=False)
class StoredReview:
    """The contours stored at the baseline and at a follow-up, for the side-by-side views.

    Not registered: the follow-up view follows the baseline by a shift that puts the chosen
    lesion's deepest point of one visit on the other's (:meth:`align_on`).
    """

    case_pk: int
    follow_up: Any
    baseline_image: Any
    follow_up_image: Any
    baseline_masks: tuple[tuple[str, npt.NDArray[np.bool_]], ...]
    follow_up_masks: tuple[tuple[str, npt.NDArray[np.bool_]], ...]
    registration: Any = field(
        default_factory=lambda: SimpleNamespace(ok=False, baseline_to_follow_up=np.eye(4))
    )
    proposals: tuple[Any, ...] = ()

    @property
    def message(self) -> str:
        """What the views show, and how they are linked."""
        return (
            f"Contours stored at the baseline and at {self.follow_up.label}. The views are not "
            "registered: they are aligned on the chosen lesion. Press “Propose contours from "
            "the baseline” to register them and propose the missing contours."
        )

    def align_on(self, name: str, baseline_point_lps: npt.ArrayLike) -> None:
        """Link the views by the shift from ``name``'s baseline point to its follow-up one."""
        from tace_planner.imaging.propagation import deepest_point_lps

        masks = dict(self.follow_up_masks)
        if name not in masks or not masks[name].any():
            return
        there = np.asarray(deepest_point_lps(masks[name], self.follow_up_image))
        shift = np.eye(4)
        shift[:3, 3] = there - np.asarray(baseline_point_lps, float)
        self.registration.baseline_to_follow_up = shift


def stored_contour_versions(contouring: Any, case_pk: int) -> frozenset[tuple[Any, ...]]:
    """What the stored view of ``case_pk`` is read from, cheaply: each focus's stored
    segmentation (lesion, name, timepoint, series, row, version), masks not decoded.

    ``contouring`` is the :class:`~tace_planner.services.contouring.ContouringService`.
    Equal before and after means nothing to read again: a contour drawn, edited or deleted
    anywhere in the case (the Plan workspace's tools, a confirmed proposal) changes it, and
    every timepoint counts since the lesion table shows the values of each.
    """
    return frozenset(
        (lesion.pk, lesion.name, seg.timepoint_pk, seg.series_uid, seg.pk, seg.version)
        for lesion, seg in contouring.masks.segmentations_of_case(case_pk)
        if not lesion.is_liver
    )


def stored_review_task(
    contouring: Any, case_pk: int, baseline_pk: int, follow_up: Any
) -> Task[StoredReview | None]:
    """Read the baseline and ``follow_up`` CTs with the foci contoured on them (a task).

    ``contouring`` is the :class:`~tace_planner.services.contouring.ContouringService`.
    Each visit shows the series most of its foci were contoured on; a mask not on its
    series' grid is left out. None when no focus is contoured at the follow-up (or at the
    baseline). Nothing is written.
    """
    yield Progress(0, 4, "Reading the stored contours")
    stored = [
        (lesion, seg)
        for lesion, seg in contouring.masks.segmentations_of_case(case_pk)
        if not lesion.is_liver
    ]
    visits = []
    for timepoint_pk in (baseline_pk, follow_up.pk):
        here = [(lesion, seg) for lesion, seg in stored if seg.timepoint_pk == timepoint_pk]
        drawn = [seg.series_uid for _, seg in here if not seg.is_empty]
        if not drawn:
            return None
        uid = max(set(drawn), key=drawn.count)
        visits.append((timepoint_pk, uid, [(le, seg) for le, seg in here if seg.series_uid == uid]))
    images, masks = [], []
    for step, (timepoint_pk, uid, here) in enumerate(visits, start=1):
        yield Progress(step, 4, "Reading the baseline CT" if step == 1 else
                       f"Reading the {follow_up.label} CT")  # fmt: skip
        volume = contouring.volume(uid, here[0][1].part)
        loaded = [contouring.load_mask(lesion.pk, timepoint_pk) for lesion, _ in here]
        images.append(volume)
        masks.append(tuple((m.lesion.name, m.mask) for m in loaded
                           if m is not None and m.mask.shape == volume.shape))  # fmt: skip
    yield Progress(3, 4, "Showing the stored contours")
    return StoredReview(case_pk, follow_up, images[0], images[1], masks[0], masks[1])
