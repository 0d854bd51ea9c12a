"""Propose a focus's Couinaud segment from its stored mask and the liver contour.

The geometry is :func:`tace_planner.imaging.couinaud.propose_segment`; this module
finds the masks to give it: the focus and the liver contoured on the same series
grid, at the earliest timepoint that has both (the baseline when it does). The
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
    order = {t.pk: (i, t.label) for i, t in enumerate(lesions.timepoints(item.case_pk))}
    stored = masks.masks_of_case(item.case_pk)
    pair = _first_pair(stored, lesion_pk, order)
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
        order.get(seg.timepoint_pk, (0, ""))[1],
    )


def _first_pair(
    stored: list[LesionMask], lesion_pk: int, order: dict[int, tuple[int, str]]
) -> tuple[LesionMask, LesionMask] | None:
    """The focus's mask and the liver's on the same grid, earliest timepoint first."""
    livers = [m for m in stored if m.lesion.is_liver and m.mask.any()]
    foci = [m for m in stored if m.lesion.pk == lesion_pk and m.mask.any()]
    foci.sort(key=lambda m: order.get(m.segmentation.timepoint_pk, (len(order), ""))[0])
    for focus in foci:
        seg = focus.segmentation
        for liver in livers:
            other = liver.segmentation
            if (
                other.timepoint_pk == seg.timepoint_pk
                and other.series_uid == seg.series_uid
                and other.part == seg.part
                and liver.mask.shape == focus.mask.shape
            ):
                return focus, liver
    return None
