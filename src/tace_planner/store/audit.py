"""Before/after snapshots of rows for audit events, as JSON-safe dictionaries."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import math
import uuid
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from sqlalchemy import inspect

from tace_planner.store.models import Base

BYTES_DIGEST_HEX_CHARS = 16
"""Length of the SHA-256 prefix kept for binary values (enough to see that a mask changed)."""


def json_safe(value: Any) -> Any:
    """Convert a value into something the JSON columns of every backend accept.

    Parameters
    ----------
    value : Any
        A column value, or a dict/list/tuple of them.

    Returns
    -------
    Any
        Dates, times and timestamps as ISO 8601 strings; bytes as
        ``{"bytes": length, "sha256": first 16 hex digits}`` (the content itself is
        never copied into the audit trail); non-finite floats as the strings ``"nan"``,
        ``"inf"``, ``"-inf"`` (PostgreSQL's JSON rejects NaN); decimals, UUIDs and paths
        as strings; enums as their value; mappings and sequences recursively; anything
        else as ``str(value)``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        digest = hashlib.sha256(data).hexdigest()[:BYTES_DIGEST_HEX_CHARS]
        return {"bytes": len(data), "sha256": digest}
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item) for item in value]
    if isinstance(value, decimal.Decimal | uuid.UUID | PurePath):
        return str(value)
    return str(value)


def row_snapshot(row: Base) -> dict[str, Any]:
    """Return the column values of an ORM row, JSON-safe, keyed by attribute name.

    Parameters
    ----------
    row : tace_planner.store.models.Base
        A persistent or pending row. Relationships are not followed.

    Returns
    -------
    dict
        ``{attribute: json_safe(value)}`` for every mapped column, e.g. the ``before``
        or ``after`` of an audit event. Take the ``before`` snapshot before changing
        the row.
    """
    mapper = inspect(row).mapper
    return {attr.key: json_safe(getattr(row, attr.key)) for attr in mapper.column_attrs}
