"""Compact storage of bool masks: crop to the bounding box, pack bits, zlib.

A liver mask on a 512 × 512 × 300 grid is 78 MB as bytes; packed it is a few
hundred kB, a focus a few kB. The encoded bytes start with a format byte and
carry the crop's shape, so a decoder can check them; the box is returned
separately so that a database can store it in plain columns.

>>> box, data = pack_mask(mask)          # doctest: +SKIP
>>> same = unpack_mask(box, data, mask.shape)   # doctest: +SKIP
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import InvalidInputError

BoundingBox = tuple[int, int, int, int, int, int]
"""(z0, z1, y0, y1, x0, x1): half-open index ranges of the crop."""

EMPTY_BOX: BoundingBox = (0, 0, 0, 0, 0, 0)
"""The box of an empty mask."""

_FORMAT = 1
_HEADER = struct.Struct("<BIII")  # format, crop z, y, x


def pack_mask(mask: npt.ArrayLike, level: int = 6) -> tuple[BoundingBox, bytes]:
    """Encode a 3D bool mask as (bounding box, bytes).

    Parameters
    ----------
    mask : numpy.ndarray, shape (z, y, x)
        Any dtype; non-zero is True.
    level : int
        zlib compression level (1 fast … 9 small).

    Returns
    -------
    box : tuple of 6 int
        (z0, z1, y0, y1, x0, x1) of the True voxels; :data:`EMPTY_BOX` if none.
    data : bytes
        Format byte, crop shape, then the zlib-compressed ``np.packbits`` of
        the crop in C order.
    """
    array = np.asarray(mask)
    if array.ndim != 3:
        raise ValueError(f"mask must be (z, y, x), got shape {array.shape}")
    array = array.astype(bool, copy=False)
    planes = np.flatnonzero(array.any(axis=(1, 2)))
    if planes.size == 0:
        return EMPTY_BOX, _HEADER.pack(_FORMAT, 0, 0, 0) + zlib.compress(b"", level)
    rows = np.flatnonzero(array.any(axis=(0, 2)))
    columns = np.flatnonzero(array.any(axis=(0, 1)))
    box: BoundingBox = (
        int(planes[0]),
        int(planes[-1]) + 1,
        int(rows[0]),
        int(rows[-1]) + 1,
        int(columns[0]),
        int(columns[-1]) + 1,
    )
    crop = array[box[0] : box[1], box[2] : box[3], box[4] : box[5]]
    header = _HEADER.pack(_FORMAT, *crop.shape)
    return box, header + zlib.compress(np.packbits(crop, axis=None).tobytes(), level)


def unpack_mask(box: Sequence[int], data: bytes, shape: Sequence[int]) -> npt.NDArray[np.bool_]:
    """Decode :func:`pack_mask` output into a full mask of ``shape``.

    Raises
    ------
    InvalidInputError
        The bytes are not a mask of this format, do not match the box, or the
        box does not fit in ``shape`` (a mask stored for another grid).
    """
    z0, z1, y0, y1, x0, x1 = (int(v) for v in box)
    out = np.zeros(tuple(int(n) for n in shape), dtype=bool)
    if len(data) < _HEADER.size:
        raise InvalidInputError("mask data", "too short to be an encoded mask")
    version, nz, ny, nx = _HEADER.unpack_from(data)
    if version != _FORMAT:
        raise InvalidInputError("mask data", f"unknown mask format {version}")
    if (nz, ny, nx) != (z1 - z0, y1 - y0, x1 - x0):
        raise InvalidInputError("mask data", f"crop {nz}×{ny}×{nx} does not match the box {box}")
    if nz * ny * nx == 0:
        return out
    if z0 < 0 or y0 < 0 or x0 < 0 or z1 > out.shape[0] or y1 > out.shape[1] or x1 > out.shape[2]:
        raise InvalidInputError("mask data", f"box {tuple(box)} does not fit the grid {out.shape}")
    try:
        packed = np.frombuffer(zlib.decompress(data[_HEADER.size :]), dtype=np.uint8)
    except zlib.error as error:
        raise InvalidInputError("mask data", f"corrupt ({error})") from error
    count = nz * ny * nx
    if packed.size != (count + 7) // 8:
        raise InvalidInputError("mask data", "length does not match the box")
    bits = np.unpackbits(packed, count=count).astype(bool)
    out[z0:z1, y0:y1, x0:x1] = bits.reshape(nz, ny, nx)
    return out
