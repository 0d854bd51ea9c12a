"""List the visible files and folders under the paths a user gives (no DICOM reading).

Hidden files, OS bookkeeping folders (USB sticks, macOS zip debris) and entries
that are not regular files (broken links, FIFOs, sockets, devices) are left out,
the last with the reason.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from tace_planner.imaging.dicom.scan_result import FileError

# Folders that never hold a study: OS bookkeeping on USB sticks and macOS zip debris.
_IGNORED_DIRS = frozenset({"__macosx", "$recycle.bin", "system volume information"})
_IGNORED_FILES = frozenset({"thumbs.db", "desktop.ini"})


def _is_hidden(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    if name.startswith(".") or name.lower() in _IGNORED_FILES:
        return True
    if os.name != "nt":  # the attributes below are free on Windows, a system call elsewhere
        return False
    attributes = getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0)
    return bool(attributes & (stat.FILE_ATTRIBUTE_HIDDEN | stat.FILE_ATTRIBUTE_SYSTEM))


def _is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def _key(path: Path) -> str:
    """Identity of a file for de-duplication (no disk access: cheap on slow media)."""
    return os.path.normcase(os.path.abspath(path))


def _folder_key(path: Path) -> str:
    """Identity of a folder, through symbolic links (walked once, loops impossible)."""
    return os.path.normcase(os.path.realpath(path))


def _not_a_file_reason(entry: os.DirEntry[str]) -> str:
    """Why a directory entry that is neither a file nor a folder is not read."""
    try:
        if entry.is_symlink() and not os.path.exists(entry.path):
            return "a broken symbolic link (its target does not exist); not read"
        mode = entry.stat().st_mode
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    if stat.S_ISFIFO(mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    else:
        kind = "a special file"
    return f"not a regular file ({kind}); not read"


def _list_folder(
    folder: Path, others: list[FileError] | None = None
) -> tuple[list[Path], list[Path]]:
    """The visible files and sub-folders of ``folder``, sorted by name.

    Entries that are neither (broken symbolic links, FIFOs, sockets, devices)
    are added to ``others`` with the reason, when given.

    Raises
    ------
    OSError
        The folder cannot be listed.
    """
    files: list[Path] = []
    dirs: list[Path] = []
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            try:
                if _is_hidden(entry):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name.lower() not in _IGNORED_DIRS:
                        dirs.append(Path(entry.path))
                elif entry.is_file():
                    files.append(Path(entry.path))
                elif not entry.is_dir() and others is not None:
                    others.append(FileError(Path(entry.path), _not_a_file_reason(entry)))
            except OSError:
                files.append(Path(entry.path))  # the read reports why it fails
    return files, dirs


def iter_candidate_files(paths: Iterable[Path]) -> list[Path]:
    """List every visible regular file under ``paths`` (files are kept as given), sorted.

    A plain listing: DICOMDIRs and archives are listed as files. :func:`scan_files`
    is what uses DICOMDIRs and opens archives.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
            continue
        stack = [path]
        while stack:
            try:
                files, dirs = _list_folder(stack.pop())
            except OSError:
                continue
            found.extend(files)
            stack.extend(reversed(dirs))
    return found
