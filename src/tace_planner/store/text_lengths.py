"""Text longer than its column is refused in one line, on SQLite as on PostgreSQL.

SQLite stores a string of any length whatever the declared ``VARCHAR(n)``; PostgreSQL
refuses it, and the refusal reached the user as "unexpected DataError: value too long for
type character varying(200)" (a 300-character case title or drug name on a department
server). Every insert and update is checked here first, against the declared length, and a
value too long is an :class:`~tace_planner.domain.errors.InvalidInputError` naming the field,
before anything is written; so the desktop (SQLite) and the department (PostgreSQL) accept
and refuse the same values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, event
from sqlalchemy import inspect as sa_inspect

from tace_planner.domain.errors import InvalidInputError

FIELD_WORDS: dict[tuple[str, str], str] = {
    ("treatment_case", "title"): "case title",
    ("treatment_case", "primary_site"): "primary site",
    ("treatment_case", "grade"): "tumour grade",
    ("therapy_line", "drug"): "therapy drug",
    ("patient", "name"): "patient name",
    ("patient", "patient_id"): "patient ID",
    ("study", "description"): "study description",
    ("series", "description"): "series description",
    ("annotation", "label"): "measurement label",
    ("lesion", "name"): "lesion name",
    ("timepoint", "radiologist"): "radiologist",
}
"""How a column is named to a user (others: the column's name in words)."""


def _field(table: str, column: str) -> str:
    return FIELD_WORDS.get((table, column), column.replace("_", " "))


def check_text_lengths(mapper: Any, connection: Any, target: Any) -> None:
    """Refuse a string longer than its column's declared length (mapper event).

    On an update only the values that change are checked: a row an older version stored
    in SQLite beyond its length can still be changed in its other fields.
    """
    state = sa_inspect(target)
    updating = state.has_identity
    for attribute in mapper.column_attrs:
        if updating and not state.attrs[attribute.key].history.has_changes():
            continue
        for column in attribute.columns:
            length = getattr(column.type, "length", None)
            if not isinstance(column.type, String) or not length:
                continue
            value = state.dict.get(attribute.key)
            if isinstance(value, str) and len(value) > length:
                raise InvalidInputError(
                    _field(column.table.name, column.name),
                    f"{len(value)} characters; at most {length} can be stored",
                )


def guard(base: type) -> None:
    """Check every mapped class of ``base`` before each insert and update."""
    event.listen(base, "before_insert", check_text_lengths, propagate=True)
    event.listen(base, "before_update", check_text_lengths, propagate=True)
