"""Foci share no voxels: what the tumour volume V_mts rests on, kept honest.

V_mts is the sum of the foci's volumes, so a voxel held by two foci counts twice. Three
places guard it:

- an auto contour leaves out what another focus on the series already holds and says so
  (:func:`without_other_foci`), and a first click inside a contoured focus is refused
  (:func:`refuse_a_click_in_another_focus`);
- a brush or eraser stroke is kept as painted, but when the edited focus now shares
  volume with another focus the edit says so (:func:`shared_after_edit`);
- the plan gets the volume each pair of baseline foci shares (:func:`shared_volumes`),
  which :func:`tace_planner.domain.dosing_advisories.shared_volume_advisories` judges.

Masks are stored cropped to their bounding box (:mod:`tace_planner.imaging.mask_codec`):
only the crops are decoded, never a whole series grid, and for the plan only those of foci
whose boxes meet, so the check stays cheap next to a plan refresh or a brush save.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.dosing_advisories import counts_twice
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.volume import ImageVolume, mask_volume_cm3
from tace_planner.imaging.mask_codec import unpack_mask
from tace_planner.services.contour_records import natural
from tace_planner.services.contouring_dto import LesionMask
from tace_planner.store import repositories
from tace_planner.store.models import LesionRow, SegmentationRow, TimepointRow

PointLps = Sequence[float]
SharedVolume = tuple[str, str, float]
"""(first focus, second focus, volume both hold in cm³), the names in natural order."""


# -- the auto contour: foci do not share voxels ---------------------------------------


def other_foci(
    masks: Sequence[LesionMask], name: str, volume: ImageVolume
) -> dict[str, npt.NDArray[np.bool_]]:
    """The other foci contoured on this series part (name → mask on its grid)."""
    return {
        item.lesion.name: item.mask
        for item in masks
        if not item.lesion.is_liver
        and item.lesion.name != name
        and item.mask.shape == tuple(volume.shape)
        and item.mask.any()
    }


def refuse_a_click_in_another_focus(
    volume: ImageVolume, seed_lps: PointLps, others: dict[str, npt.NDArray[np.bool_]]
) -> None:
    """A first click inside a focus already contoured would draw that focus again."""
    from tace_planner.imaging.segmentation.common import seeds_to_index

    index = seeds_to_index(volume, [seed_lps], "seed")[0]
    for other, mask in others.items():
        if mask[tuple(int(v) for v in index)]:
            raise InvalidInputError(
                "auto contour",
                f"the click lies in {other}, which is already contoured: select {other} "
                "in the Lesions list to contour it again, or click outside it",
            )


def without_other_foci(
    mask: npt.NDArray[np.bool_], others: dict[str, npt.NDArray[np.bool_]], volume: ImageVolume
) -> tuple[npt.NDArray[np.bool_], str]:
    """The contour without the voxels other foci hold, and a message naming them.

    Foci never share voxels: the tumour volume V_mts of the burden is their sum, and a
    voxel counted in two foci would be counted twice.
    """
    taken: list[str] = []
    for other, held in others.items():
        shared = mask & held
        if shared.any():
            taken.append(f"{mask_volume_cm3(shared, volume):.2f} cm³ of {other}")
            mask = mask & ~held
    if not taken:
        return mask, ""
    return mask, (
        "Left out what another focus already holds ("
        + ", ".join(taken)
        + "): foci do not share voxels."
    )


# -- cropped masks ------------------------------------------------------------------------


class FocusCrop:
    """A focus's mask cut to its bounding box; decoded only when first needed.

    Parameters
    ----------
    name : str
        The focus.
    box : tuple of 6 int
        (z0, z1, y0, y1, x0, x1) of the crop on its grid.
    decode : callable
        Returns the crop, bool of shape (z1 - z0, y1 - y0, x1 - x0).
    """

    def __init__(self, name: str, box: Sequence[int], decode: Callable[[], Any]) -> None:
        self.name = name
        self.start = (int(box[0]), int(box[2]), int(box[4]))
        self.stop = (int(box[1]), int(box[3]), int(box[5]))
        self._decode = decode

    @classmethod
    def of_row(cls, name: str, row: SegmentationRow) -> FocusCrop | None:
        """The crop of a stored segmentation (None when empty or not a stored mask)."""
        box = [int(v) for v in (row.grid_shape or {}).get("bbox") or ()]
        if len(box) != 6 or box[1] <= box[0] or box[3] <= box[2] or box[5] <= box[4]:
            return None
        size = (box[1] - box[0], box[3] - box[2], box[5] - box[4])
        crop = (0, size[0], 0, size[1], 0, size[2])
        # The crop alone, on a grid of its own size: never the whole series grid.
        return cls(name, box, lambda: unpack_mask(crop, row.mask_packed, size))

    @functools.cached_property
    def voxels(self) -> npt.NDArray[np.bool_]:
        """The crop, bool of the box's shape (empty for stored bytes that do not decode:
        opening that contour says what is wrong; a plan refresh does not stop on it)."""
        try:
            return np.asarray(self._decode(), dtype=bool)
        except InvalidInputError:
            return np.zeros(np.subtract(self.stop, self.start), dtype=bool)

    @functools.cached_property
    def count(self) -> int:
        """How many voxels the focus holds."""
        return int(np.count_nonzero(self.voxels))

    def shared_with(self, mask: npt.NDArray[np.bool_]) -> int:
        """How many voxels this focus and a full ``mask`` (same grid, (z, y, x)) both hold."""
        (z0, y0, x0), (z1, y1, x1) = self.start, self.stop
        return int(np.count_nonzero(mask[z0:z1, y0:y1, x0:x1] & self.voxels))

    def shared_voxels(self, other: FocusCrop) -> int:
        """How many voxels this focus and ``other`` (same grid) both hold."""
        low = np.maximum(self.start, other.start)
        high = np.minimum(self.stop, other.stop)
        if np.any(high <= low):
            return 0  # the boxes do not meet: nothing decoded
        return int(np.count_nonzero(self._window(low, high) & other._window(low, high)))

    def _window(
        self, low: npt.NDArray[np.int_], high: npt.NDArray[np.int_]
    ) -> npt.NDArray[np.bool_]:
        first, last = low - self.start, high - self.start
        return self.voxels[first[0] : last[0], first[1] : last[1], first[2] : last[2]]


# -- a hand edit: kept as painted, said when it shares -------------------------------


def shared_after_edit(
    session_factory: sessionmaker[Session],
    series_uid: str,
    part: str | None,
    name: str,
    mask: npt.NDArray[np.bool_],
    voxel_cm3: float,
) -> str:
    """One message when focus ``name``, as just edited, shares volume with other foci
    on the same series part ("" when it shares none worth counting).

    Parameters
    ----------
    session_factory : sessionmaker
        Opens the session that reads the other foci's stored masks.
    series_uid, part : the series part the mask was drawn on
    name : the edited focus
    mask : numpy.ndarray of bool, shape (z, y, x)
        Its mask as stored.
    voxel_cm3 : float
        Volume of one voxel of that grid (cm³).
    """
    shares = []
    with session_factory() as session:
        series = repositories.find_series(session, series_uid)
        rows = (
            []
            if series is None
            else session.execute(
                select(LesionRow.name, SegmentationRow)
                .join(SegmentationRow, SegmentationRow.lesion_pk == LesionRow.id)
                .where(SegmentationRow.series_pk == series.id, LesionRow.kind != "liver")
            ).all()
        )
        for other, row in sorted(rows, key=lambda r: natural(r[0])):
            grid = row.grid_shape or {}
            if (
                other == name
                or grid.get("part") != part
                or tuple(grid.get("shape", ())) != mask.shape
            ):
                continue
            crop = FocusCrop.of_row(other, row)
            shared_cm3 = 0.0 if crop is None else crop.shared_with(mask) * voxel_cm3
            if counts_twice(shared_cm3):
                shares.append(f"{shared_cm3:.2f} cm³ with {other}")
    if not shares:
        return ""
    return (
        f"{name} now shares {' and '.join(shares)}: that volume is counted in both foci "
        "(erase it from one to count it once)."
    )


# -- the plan: the volume each pair of foci counts twice ------------------------------


def shared_volumes(
    session: Session, case_pk: int, timepoint_label: str, volumes_cm3: Mapping[str, float]
) -> tuple[SharedVolume, ...]:
    """Every pair of foci contoured on one grid at a timepoint that hold voxels in common.

    Parameters
    ----------
    session : Session
    case_pk : int
    timepoint_label : str
        The timepoint (labels are unique in a case); "" gives nothing.
    volumes_cm3 : mapping of focus name to its measured volume (cm³)
        The foci the tumour volume counts; any other focus is left out.

    Returns
    -------
    tuple of (first, second, shared cm³)
        The shared volume is measured as the foci are: shared voxels × the first focus's
        volume per voxel. Foci on different series are not compared.
    """
    if len(volumes_cm3) < 2 or not timepoint_label:
        return ()
    rows = session.execute(
        select(LesionRow.name, SegmentationRow)
        .join(SegmentationRow, SegmentationRow.lesion_pk == LesionRow.id)
        .join(TimepointRow, TimepointRow.id == SegmentationRow.timepoint_pk)
        .where(
            TimepointRow.case_pk == case_pk,
            TimepointRow.label == timepoint_label,
            LesionRow.case_pk == case_pk,
            LesionRow.kind != "liver",
        )
    ).all()
    grids: dict[tuple[Any, ...], list[FocusCrop]] = {}
    for name, row in sorted(rows, key=lambda r: natural(r[0])):
        grid = row.grid_shape or {}
        crop = FocusCrop.of_row(name, row) if name in volumes_cm3 else None
        if crop is not None:
            key = (row.series_pk, grid.get("part"), tuple(grid.get("shape", ())))
            grids.setdefault(key, []).append(crop)
    out = []
    for crops in grids.values():
        for first, second in itertools.combinations(crops, 2):
            shared = first.shared_voxels(second)
            if shared:
                per_voxel_cm3 = volumes_cm3[first.name] / first.count
                out.append((first.name, second.name, shared * per_voxel_cm3))
    return tuple(out)
