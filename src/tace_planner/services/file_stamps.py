"""What tells a stored file from another one stored later under the same name.

A series removed and imported again under the same Series Instance UID gets its
files stored under the same names (they are named after the UIDs), so a path alone
cannot tell that the pixels or the geometry changed. Path, size, modification time
(ns) and file number (inode) together can: a new copy is a new file, written now.
Checking costs one ``stat`` per file, no read.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

FileStamp = tuple[str, int, int, int]
"""(path, size in bytes, modification time in ns, file number)."""


def file_stamp(path: Path) -> FileStamp:
    """The stamp of one file.

    Raises
    ------
    OSError
        The file cannot be reached.
    """
    status = path.stat()
    return str(path), status.st_size, status.st_mtime_ns, status.st_ino


def files_stamp(paths: Iterable[Path]) -> tuple[FileStamp, ...]:
    """The stamps of a series' files, in their order; a file that cannot be reached gets a
    stamp of its own (size -1), so that a missing file also reads as a change."""
    stamps: list[FileStamp] = []
    for path in paths:
        try:
            stamps.append(file_stamp(path))
        except OSError:
            stamps.append((str(path), -1, -1, -1))
    return tuple(stamps)
