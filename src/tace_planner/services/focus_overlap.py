"""Foci share no voxels: what the tumour volume V_mts rests on, kept honest.

V_mts is the sum of the foci's volumes, so a voxel held by two foci counts twice. Three
places guard it:

- an auto contour leaves out what another focus on the series already holds and says so
  (:func:`without_other_foci`), and a first click inside a contoured focus is refused
  (:func:`refuse_a_click_in_another_focus`);
- a brush or eraser stroke is kept as painted, but when the edited focus now shares
  volume with another focus — on its series, or on another phase of the study — the edit
  says so, naming each focus once (:func:`shared_after_edit`);
- the plan gets the volume each pair of baseline foci shares (:func:`shared_volumes`),
  which :func:`tace_planner.domain.dosing_advisories.shared_volume_advisories` judges:
  foci on one grid, and foci on two series of one frame of reference (the arterial and
  the portal-venous phase of a study: one tumour contoured on each counts twice).

Masks are stored cropped to their bounding box (:mod:`tace_planner.imaging.mask_codec`):
only the crops are decoded, never a whole series grid, and for the plan only those of foci
whose boxes meet, so the check stays cheap next to a plan refresh or a brush save.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.dosing_advisories import counts_twice
from tace_planner.domain.errors import InvalidInputError, TacePlannerError
from tace_planner.domain.volume import ImageVolume, mask_volume_cm3
from tace_planner.imaging.mask_codec import unpack_mask
from tace_planner.services.contour_records import natural
from tace_planner.services.contouring_dto import LesionMask
from tace_planner.services.file_stamps import file_stamp
from tace_planner.store import repositories
from tace_planner.store.models import LesionRow, SegmentationRow, SeriesRow, TimepointRow

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
    *,
    timepoint_pk: int | None = None,
    index_to_lps: npt.ArrayLike | None = None,
    grids: GridSource | None = None,
) -> str:
    """One message when focus ``name``, as just edited, shares volume with other foci
    ("" when it shares none worth counting), each focus named once.

    Foci on the same series part are compared voxel by voxel. With ``timepoint_pk``,
    ``index_to_lps`` and ``grids``, the foci of that timepoint drawn on another series of
    the same (0020,0052) *Frame of Reference UID* (another phase of the study) are compared
    too, as the plan compares them (:func:`shared_volumes`): each is carried onto the
    edited mask's grid by nearest neighbour; one whose grid cannot be read is left out.

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
    timepoint_pk : int, optional
        The timepoint of the edit (without it only the series part is compared).
    index_to_lps : array (4, 4), optional
        The edited grid's (z, y, x, 1) index → LPS mm affine.
    grids : callable (series UID, part) → (index_to_lps, shape), optional
        The grids of the other series (``header_grids``).
    """
    shared: dict[str, float] = {}
    elsewhere: set[str] = set()
    with session_factory() as session:
        series = repositories.find_series(session, series_uid)
        if series is None:
            return ""
        query = (
            select(
                LesionRow.name,
                SegmentationRow,
                SeriesRow.series_uid,
                SeriesRow.frame_of_reference_uid,
            )
            .join(SegmentationRow, SegmentationRow.lesion_pk == LesionRow.id)
            .join(SeriesRow, SeriesRow.id == SegmentationRow.series_pk)
            .where(LesionRow.kind != "liver", LesionRow.name != name)
        )
        across = timepoint_pk is not None and index_to_lps is not None and grids is not None
        if across:
            query = query.where(SegmentationRow.timepoint_pk == timepoint_pk)
        else:
            query = query.where(SegmentationRow.series_pk == series.id)
        frame = series.frame_of_reference_uid or ""
        edited: PlacedCrop | None = None
        for other, row, other_uid, other_frame in session.execute(query).all():
            grid = row.grid_shape or {}
            crop = FocusCrop.of_row(other, row)
            if crop is None:
                continue
            if row.series_pk == series.id and grid.get("part") == part:
                if tuple(grid.get("shape", ())) == mask.shape:
                    shared[other] = shared.get(other, 0.0) + crop.shared_with(mask) * voxel_cm3
                continue
            if not across or not frame or other_frame != frame:
                continue  # not the same patient space without a registration
            placed = _placed_on_grid(crop, other_uid, grid, grids)
            if placed is None:
                continue
            edited = edited or _placed_mask(name, mask, index_to_lps)
            shared[other] = shared.get(other, 0.0) + edited.shared_voxels(placed) * voxel_cm3
            elsewhere.add(other)
    shares = [
        f"{cm3:.2f} cm³ with {other}"
        + (" (contoured on another series)" if other in elsewhere else "")
        for other, cm3 in sorted(shared.items(), key=lambda item: natural(item[0]))
        if counts_twice(cm3)
    ]
    if not shares:
        return ""
    return (
        f"{name} now shares {' and '.join(shares)}: that volume is counted in both foci "
        "(erase it from one to count it once)."
    )


def _placed_mask(name: str, mask: npt.NDArray[np.bool_], index_to_lps: Any) -> PlacedCrop:
    """A full-grid mask cut to its bounding box and placed in LPS."""
    spans = [
        np.flatnonzero(mask.any(axis=tuple(a for a in range(3) if a != axis))) for axis in range(3)
    ]
    box = [int(v) for span in spans for v in ((span[0], span[-1] + 1) if span.size else (0, 0))]
    window = tuple(slice(box[2 * n], box[2 * n + 1]) for n in range(3))
    return PlacedCrop(FocusCrop(name, box, lambda: mask[window]), index_to_lps)


def _placed_on_grid(
    crop: FocusCrop, series_uid: str, stored: Mapping[str, Any], grids: GridSource
) -> PlacedCrop | None:
    """A stored crop placed in LPS through its series' grid (None: see :func:`_affine`)."""
    affine = _affine(grids, series_uid, stored.get("part"), tuple(stored.get("shape", ())))
    return None if affine is None else PlacedCrop(crop, affine)


def _affine(
    grids: GridSource, series_uid: str, part: str | None, shape: Sequence[int]
) -> npt.ArrayLike | None:
    """The index → LPS affine of a series part whose stored masks have ``shape`` (None: its
    grid cannot be told, its images cannot be read now — opening the series says why — or
    it no longer matches the stored shape)."""
    try:
        grid = grids(series_uid, part)
    except (TacePlannerError, OSError):
        return None
    if grid is None or tuple(int(n) for n in grid[1]) != tuple(int(n) for n in shape):
        return None
    return grid[0]


# -- the plan: the volume each pair of foci counts twice ------------------------------

Grid = tuple[npt.ArrayLike, Sequence[int]]
"""(index_to_lps, shape): the 4 x 4 affine from (z, y, x, 1) indices to LPS mm of a series
part, and its (z, y, x) size."""
GridSource = Callable[[str, str | None], Grid | None]
"""Series UID and part → its grid (None when it cannot be told)."""


def header_grids(series_files: Callable[[str], Sequence[Path]]) -> GridSource:
    """A grid source that reads only the DICOM headers of a series' files (no pixels),
    each series part once while its stored files stay the same.

    Parameters
    ----------
    series_files : callable
        Series UID → the paths of its stored files (``StudyService.series_files``).

    Notes
    -----
    A grid is kept with the path, size, modification time and file number of each of the
    series' files, and read again when any of them changed: a series removed and imported
    again under the same UID (its files stored under the same names) may have another
    geometry. Checking costs one query and one ``stat`` per file, no header read.

    A series whose files cannot be read or planned raises (``TacePlannerError`` or
    ``OSError``); :func:`shared_volumes` then leaves its foci out of the comparison
    across series, and asks again at the next plan refresh.
    """
    from tace_planner.domain.progress import run_sync
    from tace_planner.imaging.dicom.series import choose_plan, plan_series

    known: dict[tuple[str, str | None], tuple[tuple[Any, ...], Grid]] = {}

    def grid(series_uid: str, part: str | None) -> Grid:
        paths = list(series_files(series_uid))
        stamp = tuple(file_stamp(path) for path in paths)
        held = known.get((series_uid, part))
        if held is None or held[0] != stamp:
            plan = choose_plan(run_sync(plan_series(paths)), part)
            held = (stamp, (plan.index_to_lps, plan.report.shape_zyx))
            known[(series_uid, part)] = held
        return held[1]

    return grid


class PlacedCrop:
    """A focus's crop with the grid it was drawn on, placed in LPS millimetres."""

    def __init__(self, crop: FocusCrop, index_to_lps: npt.ArrayLike) -> None:
        self.crop = crop
        shift = np.eye(4)
        shift[:3, 3] = crop.start
        self.affine = np.asarray(index_to_lps, dtype=float) @ shift
        """index (within the crop) → LPS mm"""
        size = np.subtract(crop.stop, crop.start)
        edges = [(-0.5, n - 0.5) for n in size]  # the outer faces of the end voxels
        corners = np.array([(*corner, 1.0) for corner in itertools.product(*edges)])
        lps = (self.affine @ corners.T)[:3]
        self.low, self.high = lps.min(axis=1), lps.max(axis=1)

    def meets(self, other: PlacedCrop) -> bool:
        """Whether the LPS boxes of the two crops meet (nothing decoded)."""
        return bool(np.all(self.low < other.high) and np.all(other.low < self.high))

    def shared_voxels(self, other: PlacedCrop) -> int:
        """How many voxels of this focus's grid fall in both foci: ``other`` is carried onto
        this crop by nearest neighbour (each voxel centre takes the value of the voxel of
        ``other`` that holds it). Only crops whose boxes meet are decoded."""
        from tace_planner.imaging.segmentation.resample import resample_mask

        if not self.meets(other) or not self.crop.count or not other.crop.count:
            return 0
        carried = resample_mask(
            other.crop.voxels, other.affine, self.affine, self.crop.voxels.shape
        )
        return int(np.count_nonzero(carried & self.crop.voxels))


def shared_volumes(
    session: Session,
    case_pk: int,
    timepoint_label: str,
    volumes_cm3: Mapping[str, float],
    *,
    grids: GridSource | None = None,
) -> tuple[SharedVolume, ...]:
    """Every pair of foci at a timepoint that hold volume in common.

    Foci contoured on one grid (series part) are compared voxel by voxel. Foci contoured on
    two series (or two parts of one series) whose grids share a (0020,0052) *Frame of
    Reference UID* — the phases of one study: the same LPS point is the same point of the
    patient — are compared when ``grids`` tells both grids: the second focus is carried onto
    the first focus's grid by nearest neighbour through the two index→LPS affines, within
    the first focus's crop, and only for foci whose boxes in LPS millimetres meet. Foci on
    series of different frames of reference, or of no frame of reference, are not compared
    (their millimetres are not the same patient space without a registration).

    Parameters
    ----------
    session : Session
    case_pk : int
    timepoint_label : str
        The timepoint (labels are unique in a case); "" gives nothing.
    volumes_cm3 : mapping of focus name to its measured volume (cm³)
        The foci the tumour volume counts; any other focus is left out.
    grids : callable (series UID, part) → (index_to_lps, shape), optional
        The grid of a series part; without it foci on different grids are not compared.

    Returns
    -------
    tuple of (first, second, shared cm³), in natural order of the names
        The shared volume is measured as the foci are: the voxels shared on the first
        focus's grid (the first name in natural order) × that focus's measured volume per
        voxel (its volume / its voxel count), also when the second focus lies on another
        series.
    """
    if len(volumes_cm3) < 2 or not timepoint_label:
        return ()
    rows = session.execute(
        select(
            LesionRow.name, SegmentationRow, SeriesRow.series_uid, SeriesRow.frame_of_reference_uid
        )
        .join(SegmentationRow, SegmentationRow.lesion_pk == LesionRow.id)
        .join(TimepointRow, TimepointRow.id == SegmentationRow.timepoint_pk)
        .join(SeriesRow, SeriesRow.id == SegmentationRow.series_pk)
        .where(
            TimepointRow.case_pk == case_pk,
            TimepointRow.label == timepoint_label,
            LesionRow.case_pk == case_pk,
            LesionRow.kind != "liver",
        )
    ).all()
    grid_of: dict[tuple[Any, ...], tuple[str, str | None, str]] = {}
    on_grid: dict[tuple[Any, ...], list[FocusCrop]] = {}
    for name, row, series_uid, frame in sorted(rows, key=lambda r: natural(r[0])):
        grid = row.grid_shape or {}
        crop = FocusCrop.of_row(name, row) if name in volumes_cm3 else None
        if crop is not None:
            key = (row.series_pk, grid.get("part"), tuple(grid.get("shape", ())))
            on_grid.setdefault(key, []).append(crop)
            grid_of[key] = (series_uid, grid.get("part"), frame or "")
    counted: dict[tuple[str, str], int] = {}
    for crops in on_grid.values():
        for first, second in itertools.combinations(crops, 2):
            counted[(first.name, second.name)] = first.shared_voxels(second)
    frames = Counter(frame for _, _, frame in grid_of.values() if frame)
    if grids is not None and any(n > 1 for n in frames.values()):
        # only the grids of a frame of reference holding foci on two grids are read
        placed = _placed(
            {k: v for k, v in on_grid.items() if frames[grid_of[k][2]] > 1}, grid_of, grids
        )
        for key, other in itertools.combinations(placed, 2):
            if grid_of[key][2] != grid_of[other][2]:
                continue  # not the same patient space
            for one, two in itertools.product(placed[key], placed[other]):
                first, second = sorted((one, two), key=lambda p: natural(p.crop.name))
                pair = (first.crop.name, second.crop.name)
                counted[pair] = counted.get(pair, 0) + first.shared_voxels(second)
    out = []
    for (first_name, second_name), shared in sorted(
        counted.items(), key=lambda item: (natural(item[0][0]), natural(item[0][1]))
    ):
        if shared:
            first = next(c for crops in on_grid.values() for c in crops if c.name == first_name)
            per_voxel_cm3 = volumes_cm3[first_name] / first.count
            out.append((first_name, second_name, shared * per_voxel_cm3))
    return tuple(out)


def _placed(
    on_grid: Mapping[tuple[Any, ...], list[FocusCrop]],
    grid_of: Mapping[tuple[Any, ...], tuple[str, str | None, str]],
    grids: GridSource,
) -> dict[tuple[Any, ...], list[PlacedCrop]]:
    """The crops of each grid with a frame of reference, placed in LPS (a grid that cannot
    be told, or no longer matches the stored shape, is left out)."""
    out = {}
    for key, crops in on_grid.items():
        series_uid, part, frame = grid_of[key]
        affine = _affine(grids, series_uid, part, key[2]) if frame else None
        if affine is not None:
            out[key] = [PlacedCrop(crop, affine) for crop in crops]
    return out
