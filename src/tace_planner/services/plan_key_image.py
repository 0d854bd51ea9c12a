"""The plan sheet's key image: the baseline slice through the largest focus, with contours.

Pure numpy drawing (no Qt), so the command line can build it too. The slice comes
from the series the largest focus was contoured on; contours are the outlines of
the baseline masks of every lesion contoured on that series. Masks are stored by
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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.progress import run_sync
from tace_planner.imaging.mask_codec import unpack_mask
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
LIVER_RGB = (80, 200, 255)
FOCUS_RGB = (255, 70, 70)


@dataclass(frozen=True)
class KeyImage:
    """An RGB key image (shape (rows, columns, 3), uint8) and its caption."""

    pixels: RgbImage
    caption: str


def build_key_image(
    session_factory: sessionmaker[Session],
    case_pk: int,
    load_series: Callable[[str], Any],
) -> KeyImage | None:
    """The key image of a case's plan, or None when nothing is contoured at baseline.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions.
    case_pk : int
        The case.
    load_series : callable
        ``StudyService.load_series``: series UID → a task returning an ImageVolume.
    """
    with session_factory() as session:
        chosen = _largest_focus_mask(session, case_pk)
        if chosen is None:
            return None
        series_uid, rows = chosen
    volume = run_sync(load_series(series_uid))
    key_row = rows[0][1]
    z = _centre_slice(key_row, volume.shape[0])
    image = window_to_rgb(np.asarray(volume.voxels[z], dtype=np.float32), *WINDOW_HU)
    boxes_only = []
    for lesion, row in rows:
        colour = LIVER_RGB if lesion.kind == "liver" else FOCUS_RGB
        mask = decode_mask_slice(row, z, volume.shape[1:])
        if mask is None:
            box = _bbox(row)
            if box is not None and box[0] <= z <= box[3]:
                draw_box(image, box[1], box[2], box[4], box[5], colour)
                boxes_only.append(lesion.name)
            continue
        draw_outline(image, mask, colour)
    caption = f"Baseline slice {z + 1}/{volume.shape[0]} through {rows[0][0].name}"
    if boxes_only:
        caption += f" (boxes: {', '.join(boxes_only)})"
    return KeyImage(image, caption)


def _largest_focus_mask(
    session: Session, case_pk: int
) -> tuple[str, list[tuple[LesionRow, SegmentationRow]]] | None:
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
