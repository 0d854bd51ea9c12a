"""What tells a stored file from another one stored later under the same name.

A series removed and imported again under the same Series Instance UID gets its
files stored under the same names (they are named after the UIDs), so a path alone
cannot tell that the pixels or the geometry changed. Path, size, modification time
(ns) and file number (inode) together can: a new copy is a new file, written now.

:func:`files_stamp` costs one ``stat`` per file, no read. On Windows, where image
stores often sit on a network share and each ``stat`` is several requests to the
server, it lists each folder of the series once instead (``os.scandir``: size and
modification time come with the listing, the file number is then 0; size and time
tell a new copy, written now): one listing instead of 500 requests for a 500-file
series. Elsewhere listing is slower than the ``stat`` calls it would replace (the
listing brings no size or time there), so each file is stat'ed.

:func:`folders_stamp` is cheaper still, one ``stat`` per folder: the image store
adds and removes a series' files in the series' own folder, which changes the
folder's modification time, so an unchanged folder says that no file was added,
removed or replaced by another since. It cannot see a file rewritten in place, so
callers trust it only for a short while (see ``VolumeLoader.cached``) and check
every file before anything is saved.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

FileStamp = tuple[str, int, int, int]
"""(path, size in bytes, modification time in ns, file number; 0 when not known)."""

LISTING_GIVES_STATUS = os.name == "nt"
"""Whether a folder listing brings each file's size and modification time with it."""

MISSING = -1
"""Size, time and number of a file that cannot be reached."""

SETTLED_S = 2.0
"""A folder changed less than this long ago may change again within the same tick of
its file system's clock, unseen: :func:`folders_stamp` does not vouch for it."""


def file_stamp(path: Path) -> FileStamp:
    """The stamp of one file.

    Raises
    ------
    OSError
        The file cannot be reached.
    """
    status = path.stat()
    return str(path), status.st_size, status.st_mtime_ns, status.st_ino


def files_stamp(
    paths: Iterable[Path], *, by_listing: bool = LISTING_GIVES_STATUS
) -> tuple[FileStamp, ...]:
    """The stamps of a series' files, in their order; a file that cannot be reached gets a
    stamp of its own (size -1), so that a missing file also reads as a change.

    ``by_listing``: list each folder once and take each file's status from its entry
    (the default on Windows); a folder that cannot be listed is stamped file by file.
    """
    listings: dict[str, dict[str, os.DirEntry[str]] | None] = {}
    stamps: list[FileStamp] = []
    for path in paths:
        text = str(path)
        try:
            if not by_listing:
                status = os.stat(text)
            else:
                folder, name = os.path.split(text)
                if folder not in listings:
                    listings[folder] = _listing(folder)
                entries = listings[folder]
                if entries is None:
                    status = os.stat(text)
                elif name in entries:
                    status = entries[name].stat()  # follows links; from the listing on Windows
                else:
                    raise FileNotFoundError(text)
        except OSError:
            stamps.append((text, MISSING, MISSING, MISSING))
        else:
            stamps.append((text, status.st_size, status.st_mtime_ns, status.st_ino))
    return tuple(stamps)


def _listing(folder: str) -> dict[str, os.DirEntry[str]] | None:
    try:
        with os.scandir(folder) as entries:
            return {entry.name: entry for entry in entries}
    except OSError:
        return None


def series_folders(paths: Iterable[Path]) -> tuple[str, ...]:
    """The folders holding ``paths``, in first-seen order."""
    return tuple(dict.fromkeys(os.path.dirname(str(path)) for path in paths))


def folders_stamp(
    folders: Iterable[str], *, settled_s: float = SETTLED_S, now_ns: int | None = None
) -> tuple[FileStamp, ...] | None:
    """The stamps of ``folders`` (one ``stat`` each; see :func:`series_folders`).

    None when a folder cannot be reached or changed less than ``settled_s`` ago (or
    "in the future", on a share whose clock runs ahead): a change right after this
    call could then leave its time as it is, so the stamp could not tell.
    """
    now = time.time_ns() if now_ns is None else now_ns
    settled_ns = int(settled_s * 1e9)
    stamps: list[FileStamp] = []
    for folder in folders:
        try:
            status = os.stat(folder)
        except OSError:
            return None
        if now - status.st_mtime_ns < settled_ns:
            return None
        stamps.append((folder, status.st_size, status.st_mtime_ns, status.st_ino))
    return tuple(stamps)
