"""Read the file references of a DICOMDIR and find those files on a CD.

Names on a CD are ISO 9660 names: they are matched case-insensitively, with
``;1`` versions and final dots ignored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import pydicom

from tace_planner.domain.errors import DicomReadError

DICOMDIR_NAME = "DICOMDIR"

_VERSION_SUFFIX = re.compile(r";\d*$")


def _is_dicomdir_name(name: str) -> bool:
    return _normalise_name(name) == DICOMDIR_NAME


def _normalise_name(name: str) -> str:
    """An ISO 9660 name as a DICOMDIR writes it: upper case, no ';1' version, no final dot."""
    return _VERSION_SUFFIX.sub("", name).rstrip(".").upper()


def read_dicomdir_references(path: Path) -> list[tuple[str, ...]]:
    """The (0004,1500) *Referenced File ID* of every record of a DICOMDIR, in order.

    Each reference is a tuple of path components relative to the DICOMDIR's
    folder, as written (typically upper-case ISO 9660 names).

    Raises
    ------
    DicomReadError
        The file is not a readable DICOMDIR.
    """
    try:
        ds = pydicom.dcmread(path)
        records = ds.get("DirectoryRecordSequence")
        if records is None:
            raise DicomReadError(str(path), "not a DICOMDIR (no Directory Record Sequence)")
        references: list[tuple[str, ...]] = []
        for record in records:
            value = record.get("ReferencedFileID")
            if not value:
                continue
            parts = [value] if isinstance(value, str) else list(value)
            components = tuple(
                piece for part in parts for piece in re.split(r"[\\/]", str(part)) if piece
            )
            if components:
                references.append(components)
        return references
    except DicomReadError:
        raise
    except Exception as error:  # noqa: BLE001 - pydicom raises many types on bad input
        raise DicomReadError(str(path), f"unreadable DICOMDIR ({error})") from None


class _FolderIndex:
    """Case- and version-insensitive lookup of names on a CD (cached per folder)."""

    def __init__(self) -> None:
        self._cache: dict[Path, dict[str, str]] = {}

    def _names(self, folder: Path) -> dict[str, str]:
        names = self._cache.get(folder)
        if names is None:
            names = {}
            try:
                for name in sorted(os.listdir(folder)):
                    names.setdefault(_normalise_name(name), name)
            except OSError:
                pass
            self._cache[folder] = names
        return names

    def resolve(self, root: Path, components: Sequence[str]) -> Path | None:
        """The existing file that ``components`` under ``root`` name, or None."""
        current = root
        for part in components:
            if part in (".", ".."):
                return None
            actual = self._names(current).get(_normalise_name(part))
            if actual is None:
                return None
            current = current / actual
        return current if current.is_file() else None
