"""Propose a focus's Couinaud segment from its stored mask and the liver contour.

The geometry is :func:`tace_planner.imaging.couinaud.propose_segment`; this module
finds the masks to give it: the focus and the liver contoured on the same series
grid, at the earliest timepoint that has both (the baseline when it does). Only
those two masks are decoded. The
proposal is read-only: the physician sets the segment with
:meth:`~tace_planner.services.lesions.LesionService.set_segment`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.volume import ImageVolume
from tace_planner.services.contouring_dto import LesionMask, SegmentProposal
from tace_planner.services.lesions import LesionService
from tace_planner.services.mask_store import MaskStore

VolumeOpener = Callable[[str, "str | None"], ImageVolume]


def propose_lesion_segment(
    lesions: LesionService, masks: MaskStore, volume: VolumeOpener, lesion_pk: int
) -> SegmentProposal:
    """The proposed segment of a focus (``code`` "" with the reason when none can be made).

    Raises
    ------
    InvalidInputError
        The lesion is the whole-liver contour.
    NotFoundError
        No such lesion.
    """
    from tace_planner.imaging.couinaud import propose_segment

    item = lesions.lesion(lesion_pk)
    if item.is_liver:
        raise InvalidInputError("Couinaud segment", "the whole-liver contour has no segment")
    timepoints = lesions.timepoints(item.case_pk)
    liver_item = next((i for i in lesions.list_lesions(item.case_pk) if i.is_liver), None)
    pair = None
    if liver_item is not None:
        for timepoint in timepoints:
            pair = _pair_at(masks, lesion_pk, liver_item.pk, timepoint.pk)
            if pair is not None:
                break
    if pair is None:
        return SegmentProposal(
            lesion_pk,
            "",
            0.0,
            "",
            f"No proposal: contour the liver and {item.name} on the same series first — the "
            "proposal places the focus within the liver contour.",
        )
    focus, liver = pair
    seg = focus.segmentation
    affine = np.asarray(volume(seg.series_uid, seg.part).index_to_lps, dtype=float)
    centroid_index = np.argwhere(focus.mask).mean(axis=0)
    centroid_lps = affine[:3, :3] @ centroid_index + affine[:3, 3]
    proposal = propose_segment(liver.mask, affine, centroid_lps)
    return SegmentProposal(
        lesion_pk,
        proposal.code,
        proposal.confidence,
        proposal.confidence_label,
        proposal.explanation,
        next((t.label for t in timepoints if t.pk == seg.timepoint_pk), ""),
    )


def _pair_at(
    masks: MaskStore, lesion_pk: int, liver_pk: int, timepoint_pk: int
) -> tuple[LesionMask, LesionMask] | None:
    """The focus's and the liver's masks at a timepoint when both lie on the same grid."""
    focus = masks.load_mask(lesion_pk, timepoint_pk)
    if focus is None or not focus.mask.any():
        return None
    liver = masks.load_mask(liver_pk, timepoint_pk)
    if liver is None or not liver.mask.any():
        return None
    same = (
        liver.segmentation.series_uid == focus.segmentation.series_uid
        and liver.segmentation.part == focus.segmentation.part
        and liver.mask.shape == focus.mask.shape
    )
    return (focus, liver) if same else None
