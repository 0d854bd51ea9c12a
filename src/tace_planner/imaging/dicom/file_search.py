"""Find the files one scan reads: walk folders, use DICOMDIRs, extract zip archives.

This is the first step of :func:`discover.scan_files`; archive members are
checked (safe paths, size and compression limits) before they are extracted into
temporary folders owned by the :class:`ScanResult`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from tace_planner.domain.errors import DicomReadError
from tace_planner.domain.progress import Progress, Task
from tace_planner.imaging.dicom.dicomdir import (
    _FolderIndex,
    _is_dicomdir_name,
    read_dicomdir_references,
)
from tace_planner.imaging.dicom.file_listing import (
    _IGNORED_DIRS,
    _IGNORED_FILES,
    _folder_key,
    _is_zip_name,
    _key,
    _list_folder,
)
from tace_planner.imaging.dicom.scan_result import FileError, ScanResult

PROGRESS_INTERVAL_S = 0.1
"""Longest time between two Progress reports of the scan (cancel latency)."""

MAX_ARCHIVE_MEMBERS = 200_000
MAX_EXTRACTED_BYTES = 64 * 1024**3
"""Most bytes extracted from all the archives of one scan (a whole-body CT study
with several series is a few GiB)."""
MAX_COMPRESSION_RATIO = 1000
"""A member larger than 1 MiB that inflates more than this is refused (zip bomb)."""
FREE_SPACE_MARGIN_BYTES = 512 * 1024**2

# Files a CD's viewer or autorun brings along; under a usable DICOMDIR they are not read.
# fmt: off
_NON_DICOM_SUFFIXES = frozenset({
    ".exe", ".dll", ".ocx", ".sys", ".msi", ".cab", ".bat", ".cmd", ".com", ".inf", ".ini",
    ".lnk", ".url", ".app", ".dylib", ".so", ".jar", ".class", ".js", ".css", ".htm", ".html",
    ".xml", ".xsl", ".xslt", ".json", ".txt", ".rtf", ".pdf", ".doc", ".docx", ".chm", ".hlp",
    ".ico", ".bmp", ".gif", ".png", ".jpg", ".jpeg", ".svg", ".ttf", ".otf", ".manifest",
    ".config", ".log", ".cfg", ".mp4", ".avi", ".mov", ".wav",
})
# fmt: on


# --- archives --------------------------------------------------------------------------


def _safe_member_parts(name: str) -> tuple[str, ...] | None:
    """The path components of a zip member, or None when it could escape the folder."""
    text = name.replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        return None
    parts = tuple(p for p in PurePosixPath(text).parts if p not in ("", "."))
    if not parts or any(p == ".." or ":" in p or "\0" in p for p in parts):
        return None
    return parts


def _is_within(path: Path, root: Path) -> bool:
    real_root = os.path.realpath(root)
    return os.path.commonpath([real_root, os.path.realpath(path)]) == real_root


# --- the scan ------------------------------------------------------------------------


class _Ticker:
    """Says when it is time to report progress again."""

    def __init__(self) -> None:
        self._last = time.monotonic()

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            return True
        return False


class _Scan:
    """The state of one scan while it plans which files to read."""

    def __init__(self, result: ScanResult, temp_root: Path | None) -> None:
        self.result = result
        self.temp_root = temp_root
        self.candidates: list[Path] = []
        self.seen: set[str] = set()
        self.visited_dirs: set[str] = set()
        self.index = _FolderIndex()
        self.extracted_bytes = 0
        self.ticker = _Ticker()
        self.others: list[FileError] = []

    # bookkeeping

    def flush_others(self) -> None:
        """Report the entries of the last listed folder that are not files (once each)."""
        for entry in self.others:
            if _key(entry.path) not in self.seen:
                self.seen.add(_key(entry.path))
                self.skip(entry.path, entry.reason)
        self.others.clear()

    def shown(self, path: Path) -> Path:
        return self.result.display_path(path)

    def add(self, path: Path) -> None:
        key = _key(path)
        if key not in self.seen:
            self.seen.add(key)
            self.candidates.append(path)

    def error(self, path: Path, reason: str) -> None:
        self.result.errors.append(FileError(self.shown(path), reason))

    def skip(self, path: Path, reason: str) -> None:
        self.result.skipped.append(FileError(self.shown(path), reason))

    def tick(self, message: str) -> Iterator[Progress]:
        if self.ticker.due():
            yield Progress(len(self.candidates), 0, message)

    # planning

    def plan(self, paths: Sequence[Path], in_archive: bool = False) -> Task[None]:
        for path in paths:
            if path.is_dir():
                yield from self.walk(path, in_archive)
            elif path.is_file():
                if _is_dicomdir_name(path.name):
                    yield from self.walk(path.parent, in_archive)
                elif _is_zip_name(path.name):
                    yield from self.open_archive(path, in_archive)
                else:
                    self.add(path)
            elif path.is_symlink() and not path.exists():
                self.skip(path, "a broken symbolic link (its target does not exist); not read")
            elif path.exists():
                self.skip(path, "not a regular file (a FIFO, socket or device); not read")
            else:
                self.error(path, "does not exist (the CD or USB stick may have been removed)")

    def walk(self, root: Path, in_archive: bool) -> Task[None]:
        stack = [root]
        while stack:
            folder = stack.pop()
            key = _folder_key(folder)
            if key in self.visited_dirs:
                continue
            self.visited_dirs.add(key)
            yield from self.tick(f"Looking for DICOM files ({len(self.candidates)} found)")
            try:
                files, dirs = _list_folder(folder, self.others)
            except OSError as error:
                self.error(folder, f"cannot list the folder ({error.strerror or error})")
                continue
            self.flush_others()
            dicomdir = next((f for f in files if _is_dicomdir_name(f.name)), None)
            if dicomdir is not None and (yield from self.use_dicomdir(dicomdir, in_archive)):
                continue
            for path in files:
                if _is_dicomdir_name(path.name):
                    continue
                if _is_zip_name(path.name):
                    yield from self.open_archive(path, in_archive)
                else:
                    self.add(path)
            stack.extend(reversed(dirs))

    def use_dicomdir(self, dicomdir: Path, in_archive: bool) -> Task[bool]:
        """Add the files a DICOMDIR lists, and the folder's other files that may be DICOM.

        Returns False (after noting why) when the folder must be walked instead.
        """
        yield Progress(len(self.candidates), 0, "Reading the DICOMDIR")
        folder = dicomdir.parent
        fallback = "; the folder was scanned instead"
        try:
            references = read_dicomdir_references(dicomdir)
        except DicomReadError as error:
            self.skip(dicomdir, f"DICOMDIR could not be read ({error.reason}){fallback}")
            return False
        listed: list[Path] = []
        missing: list[str] = []
        for components in references:
            found = self.index.resolve(folder, components)
            if found is None:
                missing.append("/".join(components))
            else:
                listed.append(found)
            yield from self.tick("Reading the DICOMDIR")
        if missing:
            example = ", ".join(missing[:3]) + (", …" if len(missing) > 3 else "")
            count = f"{len(missing)} file{'s' if len(missing) != 1 else ''}"
            verb = "are" if len(missing) != 1 else "is"
            self.skip(dicomdir, f"DICOMDIR lists {count} that {verb} missing ({example}){fallback}")
            return False
        listed_keys = {_key(p) for p in listed}
        for path in listed:
            self.add(path)
        # Files the DICOMDIR does not list (a stale DICOMDIR, files copied in later)
        # are read too, unless they are plainly a viewer's or an autorun's files.
        ignored = 0
        stack = [folder]
        while stack:
            current = stack.pop()
            self.visited_dirs.add(_folder_key(current))
            try:
                files, dirs = _list_folder(current, self.others)
            except OSError as error:
                self.error(current, f"cannot list the folder ({error.strerror or error})")
                continue
            self.flush_others()
            for path in files:
                if path == dicomdir or _key(path) in listed_keys:
                    continue
                if _is_dicomdir_name(path.name) or path.suffix.lower() in _NON_DICOM_SUFFIXES:
                    ignored += 1
                elif _is_zip_name(path.name):
                    yield from self.open_archive(path, in_archive)
                else:
                    self.add(path)
            stack.extend(reversed(dirs))
            yield from self.tick("Reading the DICOMDIR")
        note = f"DICOMDIR used: it lists {len(listed)} file{'s' if len(listed) != 1 else ''}"
        if ignored:
            note += f"; {ignored} other file(s) (viewer software, documents) were not read"
        self.skip(dicomdir, note)
        return True

    def open_archive(self, archive: Path, in_archive: bool) -> Task[None]:
        """Extract a zip archive into a temporary folder of the result and walk it."""
        if in_archive:
            self.skip(archive, "an archive inside an archive is not opened; extract it first")
            return
        try:
            zf = zipfile.ZipFile(archive)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            self.error(archive, f"not a readable zip archive ({error})")
            return
        with zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) > MAX_ARCHIVE_MEMBERS:
                self.error(
                    archive,
                    f"archive has {len(members)} files (at most {MAX_ARCHIVE_MEMBERS} are opened)",
                )
                return
            declared = sum(m.file_size for m in members)
            if self.extracted_bytes + declared > MAX_EXTRACTED_BYTES:
                self.error(
                    archive,
                    f"archive would extract to {declared / 1024**3:.1f} GiB, "
                    f"more than the {MAX_EXTRACTED_BYTES / 1024**3:.0f} GiB allowed",
                )
                return
            try:
                if self.temp_root is not None:
                    self.temp_root.mkdir(parents=True, exist_ok=True)
                temp = tempfile.TemporaryDirectory(
                    prefix="tace-import-", dir=self.temp_root, ignore_cleanup_errors=True
                )
            except OSError as error:
                self.error(
                    archive,
                    f"cannot create a temporary folder to extract it ({error.strerror or error})",
                )
                return
            self.result._temp_dirs.append(temp)
            root = Path(temp.name)
            free = shutil.disk_usage(root).free
            if declared + FREE_SPACE_MARGIN_BYTES > free:
                self.error(
                    archive,
                    f"not enough free disk space to extract it (needs "
                    f"{declared / 1024**3:.1f} GiB, {free / 1024**3:.1f} GiB free)",
                )
                return
            for member in members:
                shown = Path(f"{archive}/{member.filename}")  # as written, even if unsafe
                parts = _safe_member_parts(member.filename)
                if parts is None:
                    self.result.skipped.append(
                        FileError(
                            shown,
                            "unsafe path in the archive (would be written "
                            "outside the extraction folder); not extracted",
                        )
                    )
                    continue
                if any(p.startswith(".") or p.lower() in _IGNORED_DIRS for p in parts) or (
                    parts[-1].lower() in _IGNORED_FILES
                ):
                    continue
                if stat.S_ISLNK(member.external_attr >> 16):
                    self.result.skipped.append(
                        FileError(shown, "symbolic link in the archive; not extracted")
                    )
                    continue
                if member.flag_bits & 0x1:
                    self.result.skipped.append(
                        FileError(shown, "encrypted member of the archive; not extracted")
                    )
                    continue
                if member.file_size > 1024**2 and member.file_size > MAX_COMPRESSION_RATIO * max(
                    member.compress_size, 1
                ):
                    self.result.errors.append(
                        FileError(
                            shown, "implausible compression ratio (a zip bomb?); not extracted"
                        )
                    )
                    continue
                target = _unique_target(root, parts)
                if target is None or not _is_within(target, root):
                    self.result.skipped.append(
                        FileError(shown, "unsafe path in the archive; not extracted")
                    )
                    continue
                try:
                    written = yield from self._extract_member(zf, member, target, archive)
                except (
                    zipfile.BadZipFile,
                    OSError,
                    ValueError,
                    EOFError,
                    NotImplementedError,
                    RuntimeError,
                    zipfile.LargeZipFile,
                ) as error:
                    self.result.errors.append(
                        FileError(shown, f"cannot extract from the archive ({error})")
                    )
                    with contextlib.suppress(OSError):
                        target.unlink(missing_ok=True)
                    continue
                except _MemberTooLarge as error:
                    self.result.errors.append(FileError(shown, str(error)))
                    with contextlib.suppress(OSError):
                        target.unlink(missing_ok=True)
                    continue
                self.extracted_bytes += written
                self.result._shown[target] = shown
        yield from self.walk(root, in_archive=True)

    def _extract_member(
        self, zf: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, archive: Path
    ) -> Task[int]:
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with zf.open(member) as source, open(target, "xb") as sink:
            while chunk := source.read(1024**2):
                written += len(chunk)
                if written > member.file_size:
                    raise _MemberTooLarge(
                        "the member is larger than the archive says (corrupt archive "
                        "or zip bomb); not extracted"
                    )
                sink.write(chunk)
                yield from self.tick(f"Extracting {archive.name}")
        yield from self.tick(f"Extracting {archive.name}")
        return written


class _MemberTooLarge(Exception):
    """An archive member inflates beyond its declared size."""


def _unique_target(root: Path, parts: tuple[str, ...]) -> Path | None:
    """Where to write a member; a name already used (case-insensitive disks) gets a suffix."""
    target = root.joinpath(*parts)
    if not target.exists():
        return target
    for n in range(2, 1000):
        candidate = target.with_name(f"{target.stem}~{n}{target.suffix}")
        if not candidate.exists():
            return candidate
    return None
