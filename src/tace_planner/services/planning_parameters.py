"""The planning parameter files: packaged defaults and the institution's own copies.

``planning.json``, ``bead_catalogue.json`` and ``followup.json`` (the follow-up schedule)
ship in ``tace_planner.resources``
(versioned, each value with its source); an institution's edited copy in its
parameters folder replaces the packaged file. Reading is strict: a file that is
unreadable, not JSON or breaks a rule is refused with the file and field named.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.catalogue import BeadCatalogue
from tace_planner.domain.dosing_parameters import PlanningParameters
from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError
from tace_planner.domain.followup_ranges import describe_change, followup_file_problems
from tace_planner.domain.planning_ranges import catalogue_problems, planning_problems
from tace_planner.domain.schedule import FollowupParameters
from tace_planner.store.unit_of_work import UnitOfWork

PLANNING_FILE = "planning.json"
CATALOGUE_FILE = "bead_catalogue.json"


def _read_json(path: Path | None, name: str) -> tuple[dict[str, Any], str]:
    if path is None:
        resource = importlib.resources.files("tace_planner.resources") / "parameters" / name
        origin = name.removesuffix(".json")
        try:
            text = resource.read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidInputError(name, f"cannot be read ({error})") from None
    else:
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidInputError(origin, f"cannot be read ({error})") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidInputError(origin, f"not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise InvalidInputError(origin, "must hold a JSON object")
    return data, origin


def load_planning_parameters(path: Path | None = None) -> PlanningParameters:
    """Read ``planning.json`` (default: the packaged file).

    Raises
    ------
    InvalidInputError
        The file is unreadable or a value is invalid; the message names file and field.
    """
    if path is None:
        return _packaged_parameters()
    data, origin = _read_json(path, PLANNING_FILE)
    params = PlanningParameters.from_dict(data, origin=origin)
    _check_ranges(params.values, origin)
    return params


def _check_ranges(values: Mapping[str, Any], origin: str) -> None:
    """Refuse values outside the allowed ranges, naming the file and the parameter."""
    plain = {
        name: (item.value if hasattr(item, "value") else item) for name, item in values.items()
    }
    problems = planning_problems(plain)
    if problems:
        raise InvalidInputError(origin, "; ".join(message for _, message in problems))


def load_bead_catalogue(path: Path | None = None) -> BeadCatalogue:
    """Read ``bead_catalogue.json`` (default: the packaged file).

    Raises
    ------
    InvalidInputError
        The file is unreadable or a value is invalid; the message names file and field.
    """
    if path is None:
        return _packaged_catalogue()
    data, origin = _read_json(path, CATALOGUE_FILE)
    catalogue = BeadCatalogue.from_dict(data, origin=origin)
    _check_catalogue_ranges(data, origin)
    return catalogue


def _check_catalogue_ranges(data: Mapping[str, Any], origin: str) -> None:
    problems = catalogue_problems(list(data.get("products") or []))
    if problems:
        raise InvalidInputError(origin, "; ".join(message for _, message in problems))


@functools.cache
def _packaged_parameters() -> PlanningParameters:
    data, origin = _read_json(None, PLANNING_FILE)
    return PlanningParameters.from_dict(data, origin=origin)


@functools.cache
def _packaged_catalogue() -> BeadCatalogue:
    data, origin = _read_json(None, CATALOGUE_FILE)
    return BeadCatalogue.from_dict(data, origin=origin)


FOLLOWUP_FILE = "followup.json"
_KINDS = {"planning": PLANNING_FILE, "catalogue": CATALOGUE_FILE, "followup": FOLLOWUP_FILE}


def _file_name(kind: str) -> str:
    if kind not in _KINDS:
        raise InvalidInputError("kind", f"{kind!r}: expected 'planning', 'catalogue' or 'followup'")
    return _KINDS[kind]


def _check_followup(data: Mapping[str, Any], origin: str) -> None:
    """Refuse a follow-up file that breaks the format or a range, naming the parameter."""
    FollowupParameters.from_dict(data, origin=origin)
    problems = followup_file_problems(data)
    if problems:
        raise InvalidInputError(origin, "; ".join(message for _, message in problems))


def parameter_file_text(kind: str, folder: Path | None) -> tuple[str, str]:
    """The ``planning``, ``catalogue`` or ``followup`` file in use as (where it comes from,
    JSON text).

    Raises
    ------
    InvalidInputError
        ``kind`` is unknown.
    """
    name = _file_name(kind)
    own = folder / name if folder is not None else None
    if own is not None and own.is_file():
        return str(own), own.read_text(encoding="utf-8")
    resource = importlib.resources.files("tace_planner.resources") / "parameters" / name
    return f"packaged {name}", resource.read_text(encoding="utf-8")


def _next_version(version: str) -> str:
    head, _, tail = version.rpartition(".")
    if version.isdigit():
        return str(int(version) + 1)
    if tail.isdigit():
        return f"{head}.{int(tail) + 1}"
    return f"{version}.1"


_BOOKKEEPING = ("version", "updated_on")
"""Keys that say when and which version, not what the values are."""


def _content(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in _BOOKKEEPING}


def _mark_changed_values(
    data: dict[str, Any], current: Mapping[str, Any], user: str, today: dt.date
) -> None:
    """A changed value whose source was left as it was becomes the institution's.

    Planning values (``values``) and the sourced numbers of each catalogue product
    (matched by ``code``) alike.
    """
    new_values = data.get("values")
    old_values = current.get("values")
    if isinstance(new_values, dict) and isinstance(old_values, Mapping):
        data["values"] = _marked(new_values, old_values, user, today)
    new_products = data.get("products")
    old_products = {
        p.get("code"): p for p in current.get("products") or [] if isinstance(p, Mapping)
    }
    if isinstance(new_products, list):
        data["products"] = [
            _marked(p, old_products[p.get("code")], user, today)
            if isinstance(p, dict) and p.get("code") in old_products
            else p
            for p in new_products
        ]


def _marked(
    new: Mapping[str, Any], old: Mapping[str, Any], user: str, today: dt.date
) -> dict[str, Any]:
    marked = {}
    for name, entry in new.items():
        before = old.get(name)
        if (
            isinstance(entry, Mapping)
            and isinstance(before, Mapping)
            and "value" in entry
            and entry.get("value") != before.get("value")
            and entry.get("source") == before.get("source")
        ):
            entry = {
                **entry,
                "source": (
                    "institutional default: "
                    f"{describe_change(before.get('value'), entry.get('value'))} by {user} "
                    f"on {today.isoformat()}"
                ),
                "evidence": "institutional",
            }
        marked[name] = entry
    return marked


_FILE_WORDS = {
    "planning": "planning parameters",
    "catalogue": "bead catalogue entries",
    "followup": "follow-up schedule parameters",
}


def save_institution_file(
    session_factory: sessionmaker[Session],
    user: str,
    folder: Path | None,
    kind: str,
    data: Mapping[str, Any],
    *,
    today: dt.date | None = None,
    expected_version: str | None = None,
) -> Path | None:
    """Validate and save the institution's ``planning``, ``catalogue`` or ``followup`` file
    (audited).

    ``expected_version`` is the version the editor was opened on: when another save made
    a newer one since, nothing is written (ConcurrentEditError), so that an editor left
    open never puts back the values a colleague changed. None: no check.

    Every save that changes the content is a new version: the version is always
    the one after the file in use ("2" → "3"), whatever version ``data`` names,
    so that plans never name one version for two sets of values and a version
    never goes back. A save that changes nothing writes nothing and returns None.
    A changed planning value whose source was left as it was is recorded as the
    institution's ("institutional default: changed from … by … on …"). Planning
    values outside their allowed ranges
    (:data:`tace_planner.domain.planning_ranges.PLANNING_SPECS`) are refused.
    The file is written to a temporary name beside it and renamed, so a crash
    never leaves half a file.

    Raises
    ------
    InvalidInputError
        No parameters folder was configured, ``kind`` is unknown, or the content is
        invalid or out of range (nothing is written then); the message names the
        parameter as people know it.
    ConcurrentEditError
        The file in use is no longer ``expected_version``.
    """
    if folder is None:
        raise InvalidInputError("parameters folder", "not configured")
    name = _file_name(kind)
    today = today or dt.date.today()
    data = json.loads(json.dumps(dict(data)))
    _, current_text = parameter_file_text(kind, folder)
    current = json.loads(current_text)
    in_use = str(current.get("version", "0"))
    if expected_version is not None and in_use != str(expected_version):
        what = _FILE_WORDS.get(kind, kind)
        when = f" on {current['updated_on']}" if current.get("updated_on") else ""
        raise ConcurrentEditError(
            f"the {what} were saved as version {in_use}{when} after you opened version "
            f"{expected_version}: nothing was saved — close and reopen this window to see "
            "them, then make your change again"
        )
    if _content(data) == _content(current):
        return None
    _mark_changed_values(data, current, user, today)
    data["version"] = _next_version(str(current.get("version", "0")))
    data["updated_on"] = today.isoformat()
    if kind == "planning":
        params = PlanningParameters.from_dict(data, origin=name)
        _check_ranges(params.values, name)
    elif kind == "followup":
        _check_followup(data, name)
    else:
        BeadCatalogue.from_dict(data, origin=name)
        _check_catalogue_ranges(data, name)
    path = folder / name
    with UnitOfWork(session_factory, user=user) as uow:
        before = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        uow.audit(
            action="save_parameters",
            entity=name.removesuffix(".json"),
            before={"content": before},
            after={"content": data},
            summary=f"{name} version {data.get('version')} saved",
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(json.dumps(data, indent=2, ensure_ascii=False))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        uow.commit()
    return path
