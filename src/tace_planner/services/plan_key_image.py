"""The plan sheet's key image: the baseline slice through the largest focus, with contours.

Pure numpy drawing (no Qt), so the command line can build it too. The slice comes
from the series the largest focus was contoured on; contours are the outlines of
the baseline masks of every lesion contoured on that series, each in the lesion's
own colour (the colour the viewer and the Lesions dock use). The slice is turned
to the radiological convention the viewer uses (patient right on the left,
anterior at the top) from the series geometry, and the :class:`KeyImage` carries
what the printed sheet writes onto it: the lesion labels, the orientation letters
of its four edges (from the series geometry) and a scale bar. Masks are stored by
the contouring service with :mod:`tace_planner.imaging.mask_codec` (``grid_shape``
= ``{"shape": [z, y, x], "bbox": [z0, z1, y0, y1, x0, x1]}``); masks written in
the earlier draft layout (bare ``packbits`` of the crop, ``bbox`` = ``[z0, y0, x0,
z1, y1, x1]``) are still read. A mask that cannot be decoded is drawn as its
bounding box, and the caption says so.
"""

from __future__ import annotations

import contextlib
import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.progress import run_sync
from tace_planner.imaging.mask_codec import unpack_mask
from tace_planner.imaging.reformat import acquisition_orientation, direction_letters
from tace_planner.services.lesions import LIVER_COLOUR, PALETTE
from tace_planner.store.models import (
    LesionRow,
    MeasurementRow,
    SegmentationRow,
    SeriesRow,
    TimepointRow,
)

RgbImage = npt.NDArray[np.uint8]
WINDOW_HU = (400.0, 40.0)
"""Soft-tissue window width/level (OHIF viewer default; practice, presets vary by vendor)."""
SCALE_BAR_CHOICES_MM = (5.0, 10.0, 20.0, 50.0, 100.0)
SCALE_BAR_MAX_FRACTION = 0.3
"""The scale bar is the longest choice no wider than this share of the image."""


@dataclass(frozen=True)
class KeyLabel:
    """A lesion drawn on the key image: its name, colour and where its label goes.

    ``row`` and ``column`` are pixel indices of the displayed image (after turning
    it to the radiological convention): the top-right corner of the lesion's
    outline on this slice.
    """

    name: str
    colour: str
    kind: str
    row: int
    column: int


@dataclass(frozen=True)
class KeyImage:
    """An RGB key image (shape (rows, columns, 3), uint8), its caption and annotations.

    Parameters
    ----------
    pixels : numpy.ndarray
        The windowed slice with the contours, radiological convention.
    caption : str
        Which slice, through which focus.
    labels : tuple of KeyLabel
        Every lesion outlined on the slice, with its colour.
    edges : mapping
        Patient-direction letters of the "left", "right", "top" and "bottom" edges,
        from the series geometry (e.g. R, L, A, P).
    scale_bar_mm, scale_bar_px : float
        A scale bar of ``scale_bar_mm`` millimetres is ``scale_bar_px`` pixels long
        (0 when the pixel spacing is unknown).
    """

    pixels: RgbImage
    caption: str
    labels: tuple[KeyLabel, ...] = ()
    edges: dict[str, str] = field(default_factory=dict)
    scale_bar_mm: float = 0.0
    scale_bar_px: float = 0.0


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """``"#ff4646"`` → ``(255, 70, 70)``."""
    text = colour.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def lesion_colour(lesion: LesionRow, focus_index: int) -> str:
    """The colour a lesion is shown in: its own, else the default the lesion service gives."""
    if lesion.colour:
        return str(lesion.colour)
    return LIVER_COLOUR if lesion.kind == "liver" else PALETTE[focus_index % len(PALETTE)]


def display_orientation(index_to_lps: npt.ArrayLike) -> tuple[bool, bool, dict[str, str]]:
    """How to turn an acquired slice to the viewer's radiological convention.

    Returns (flip rows, flip columns, edge letters after the flips). An axial slice
    is shown with the patient's left (+x in LPS) to the right of the screen and
    posterior (+y) at the bottom, as the viewer shows it; a coronal or sagittal
    acquisition is shown as stored. The letters come from the affine either way.
    """
    affine = np.asarray(index_to_lps, dtype=float)
    row_dir = affine[:3, 1].copy()
    col_dir = affine[:3, 2].copy()
    flip_rows = flip_cols = False
    if acquisition_orientation(affine) == "axial":
        if col_dir[0] < 0:
            flip_cols, col_dir = True, -col_dir
        if row_dir[1] < 0:
            flip_rows, row_dir = True, -row_dir
    edges = {
        "left": direction_letters(-col_dir),
        "right": direction_letters(col_dir),
        "top": direction_letters(-row_dir),
        "bottom": direction_letters(row_dir),
    }
    return flip_rows, flip_cols, edges


def scale_bar(column_spacing_mm: float, width_px: int) -> tuple[float, float]:
    """(length in mm, length in pixels) of a round scale bar for an image row."""
    if not column_spacing_mm > 0 or width_px <= 0:
        return 0.0, 0.0
    fitting = [
        mm
        for mm in SCALE_BAR_CHOICES_MM
        if mm / column_spacing_mm <= SCALE_BAR_MAX_FRACTION * width_px
    ]
    if not fitting:
        return 0.0, 0.0
    mm = fitting[-1]
    return mm, mm / column_spacing_mm


def build_key_image(
    session_factory: sessionmaker[Session],
    case_pk: int,
    load_series: Callable[[str], Any],
    timepoint_pk: int | None = None,
    *,
    names: Mapping[str, str] | None = None,
    timepoint_text: str | None = None,
) -> KeyImage | None:
    """The key image of a case's plan, or None when nothing is contoured at baseline.

    With ``timepoint_pk``, the same image at that timepoint (the case report's key image
    per timepoint); the caption then names the timepoint.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions.
    case_pk : int
        The case.
    load_series : callable
        ``StudyService.load_series``: series UID → a task returning an ImageVolume.
    names : mapping, optional
        A lesion's name → the name to show (a de-identified report's codes).
    timepoint_text : str, optional
        The caption's timepoint instead of the stored label (a de-identified report's
        visit name: the label may hold a date).
    """
    shown = dict(names or {})
    with session_factory() as session:
        chosen = _largest_focus_mask(session, case_pk, timepoint_pk)
        if chosen is None:
            return None
        series_uid, rows = chosen
        where = "Baseline"
        if timepoint_pk is not None:
            timepoint = session.get(TimepointRow, timepoint_pk)
            where = timepoint.label.capitalize() if timepoint is not None else where
        where = timepoint_text or where
    volume = run_sync(load_series(series_uid))
    key_row = rows[0][1]
    z = _centre_slice(key_row, volume.shape[0])
    flip_rows, flip_cols, edges = display_orientation(volume.index_to_lps)

    def turned(plane: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if flip_rows:
            plane = plane[::-1, :]
        if flip_cols:
            plane = plane[:, ::-1]
        return np.ascontiguousarray(plane)

    image = window_to_rgb(turned(np.asarray(volume.voxels[z], dtype=np.float32)), *WINDOW_HU)
    boxes_only = []
    labels = []
    order = sorted(rows, key=lambda pair: pair[0].id)
    focus_index = {les.id: n for n, (les, _) in enumerate(p for p in order if p[0].kind != "liver")}
    for lesion, row in rows:
        colour = lesion_colour(lesion, focus_index.get(lesion.id, 0))
        rgb = hex_to_rgb(colour)
        mask = decode_mask_slice(row, z, volume.shape[1:])
        if mask is None:
            box = _bbox(row)
            if box is not None and box[0] <= z <= box[3]:
                plane = np.zeros(volume.shape[1:], dtype=bool)
                plane[box[1] : box[4], box[2] : box[5]] = True
                mask = turned(plane)
                ys, xs = np.nonzero(mask)
                draw_box(image, ys.min(), xs.min(), ys.max(), xs.max(), rgb)
                boxes_only.append(shown.get(lesion.name, lesion.name))
                labels.append(
                    KeyLabel(
                        shown.get(lesion.name, lesion.name), colour, lesion.kind, ys.min(), xs.max()
                    )
                )
            continue
        mask = turned(mask)
        if not mask.any():
            continue
        draw_outline(image, mask, rgb)
        ys, xs = np.nonzero(mask)
        name = shown.get(lesion.name, lesion.name)
        labels.append(KeyLabel(name, colour, lesion.kind, int(ys.min()), int(xs.max())))
    focus = shown.get(rows[0][0].name, rows[0][0].name)
    caption = f"{where} slice {z + 1}/{volume.shape[0]} through {focus}"
    if boxes_only:
        caption += f" (boxes: {', '.join(boxes_only)})"
    bar_mm, bar_px = scale_bar(volume.spacing_mm[2], image.shape[1])
    labels.sort(key=lambda label: (label.kind != "liver", label.name))
    return KeyImage(image, caption, tuple(labels), edges, bar_mm, bar_px)


def _largest_focus_mask(
    session: Session, case_pk: int, timepoint_pk: int | None = None
) -> tuple[str, list[tuple[LesionRow, SegmentationRow]]] | None:
    if timepoint_pk is not None:
        timepoint = session.get(TimepointRow, timepoint_pk)
        if timepoint is not None and timepoint.case_pk != case_pk:
            timepoint = None
    else:
        timepoint = session.scalars(
            select(TimepointRow)
            .where(TimepointRow.case_pk == case_pk, TimepointRow.kind == "baseline")
            .order_by(TimepointRow.ordinal, TimepointRow.id)
        ).first()
    if timepoint is None:
        return None
    pairs = session.execute(
        select(LesionRow, SegmentationRow)
        .join(SegmentationRow, SegmentationRow.lesion_pk == LesionRow.id)
        .where(LesionRow.case_pk == case_pk, SegmentationRow.timepoint_pk == timepoint.id)
    ).all()
    best: tuple[float, LesionRow, SegmentationRow] | None = None
    for lesion, row in pairs:
        if lesion.kind == "liver":
            continue
        volume = session.scalar(
            select(MeasurementRow.volume_cm3)
            .where(MeasurementRow.segmentation_pk == row.id)
            .order_by(MeasurementRow.measured_at.desc(), MeasurementRow.id.desc())
        )
        if volume is not None and (best is None or volume > best[0]):
            best = (float(volume), lesion, row)
    if best is None:
        return None
    _, lesion, row = best
    series_uid = session.scalar(select(SeriesRow.series_uid).where(SeriesRow.id == row.series_pk))
    if series_uid is None:
        return None
    same_grid = [(les, seg) for les, seg in pairs if seg.series_pk == row.series_pk]
    same_grid.sort(key=lambda pair: (pair[1].id != row.id, pair[0].kind != "liver"))
    return str(series_uid), same_grid


def _codec_mask(row: SegmentationRow) -> npt.NDArray[np.bool_] | None:
    """The full mask if the row is stored with :mod:`~tace_planner.imaging.mask_codec`."""
    grid = row.grid_shape or {}
    box, shape = grid.get("bbox"), grid.get("shape")
    if not isinstance(box, list | tuple) or len(box) != 6 or not shape or not row.mask_packed:
        return None
    try:
        return unpack_mask(box, row.mask_packed, shape)
    except (InvalidInputError, ValueError):
        return None


def _bbox(row: SegmentationRow) -> tuple[int, ...] | None:
    """(z0, y0, x0, z1, y1, x1) of the mask, ends exclusive."""
    box = (row.grid_shape or {}).get("bbox")
    if not isinstance(box, list | tuple) or len(box) != 6:
        return None
    if _codec_mask(row) is not None:
        z0, z1, y0, y1, x0, x1 = (int(v) for v in box)
        return (z0, y0, x0, z1, y1, x1)
    return tuple(int(v) for v in box)


def _centre_slice(row: SegmentationRow, depth: int) -> int:
    box = _bbox(row)
    if box is None:
        return depth // 2
    return min(max((box[0] + box[3]) // 2, 0), depth - 1)


def decode_mask_slice(
    row: SegmentationRow, z: int, plane_shape: tuple[int, int]
) -> npt.NDArray[np.bool_] | None:
    """Slice ``z`` of a stored mask on the full (rows, columns) plane, or None if undecodable.

    Reads the :mod:`~tace_planner.imaging.mask_codec` format; else tries the draft
    layout (``packbits`` of the bounding-box crop with an exclusive or inclusive
    end, with or without zlib compression).
    """
    full = _codec_mask(row)
    if full is not None:
        if full.shape[1:] != tuple(plane_shape) or not 0 <= z < full.shape[0]:
            return None
        return full[z].copy()
    box = _bbox(row)
    if box is None or not row.mask_packed:
        return None
    z0, y0, x0, z1, y1, x1 = box
    payloads = [row.mask_packed]
    with contextlib.suppress(zlib.error):
        payloads.append(zlib.decompress(row.mask_packed))
    for payload in payloads:
        bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))
        for extra in (0, 1):
            crop_shape = (z1 - z0 + extra, y1 - y0 + extra, x1 - x0 + extra)
            count = math.prod(crop_shape)
            if count <= 0 or not count <= bits.size < count + 8:
                continue
            crop = bits[:count].reshape(crop_shape).astype(bool)
            plane = np.zeros(plane_shape, dtype=bool)
            if z0 <= z < z0 + crop_shape[0]:
                part = crop[z - z0]
                rows = min(part.shape[0], plane_shape[0] - y0)
                cols = min(part.shape[1], plane_shape[1] - x0)
                plane[y0 : y0 + rows, x0 : x0 + cols] = part[:rows, :cols]
            return plane
    return None


def window_to_rgb(plane: npt.NDArray[np.float32], width: float, level: float) -> RgbImage:
    """Grey RGB image of a 2-D plane shown with a window (width, level) in HU."""
    low = level - width / 2
    grey = np.clip((plane - low) / width * 255.0, 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, np.newaxis], 3, axis=2)


def draw_outline(image: RgbImage, mask: npt.NDArray[np.bool_], rgb: tuple[int, int, int]) -> None:
    """Colour the boundary pixels of ``mask`` (a pixel inside with a 4-neighbour outside)."""
    padded = np.pad(mask, 1)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:] & mask
    image[mask & ~inner] = rgb


def draw_box(
    image: RgbImage, y0: int, x0: int, y1: int, x1: int, rgb: tuple[int, int, int]
) -> None:
    """Draw a rectangle outline (inclusive corners, clipped to the image)."""
    rows, cols = image.shape[:2]
    y0, y1 = max(0, y0), min(rows - 1, y1)
    x0, x1 = max(0, x0), min(cols - 1, x1)
    if y0 > y1 or x0 > x1:
        return
    image[y0, x0 : x1 + 1] = rgb
    image[y1, x0 : x1 + 1] = rgb
    image[y0 : y1 + 1, x0] = rgb
    image[y0 : y1 + 1, x1] = rgb
