"""Find DICOM files under folders, CDs (DICOMDIR) and zip archives, and read their headers.

The scan is one task (:func:`scan_files`) in three steps:

1. **Plan** — walk the given folders (hidden files and system folders are left
   out), use a DICOMDIR where one is found and every file it lists exists, and
   extract zip archives into a temporary folder.
2. **Read headers** — in a pool of worker threads (or, for large scans, worker
   processes), yielding progress at least every ~100 ms; closing the task
   cancels the files not yet read.
3. **Report** — every file ends up exactly once in ``headers``, ``errors`` or
   ``skipped``, each refusal with a reason naming the file.

Temporary folders
-----------------
Files extracted from archives live in temporary folders owned by the returned
:class:`ScanResult`; the headers of those files point into them. They exist
until :meth:`ScanResult.cleanup` is called (or the result is used as a context
manager and its ``with`` block ends, or, as a last resort, the result is
garbage-collected). Callers must copy what they need *before* that::

    scan = yield from scan_files(paths)
    with scan:  # removes the extracted files on exit, also when cancelled
        for header in scan.headers:
            store.copy_in(header.path, ...)

If the scan itself is cancelled or fails, it removes its temporary folders
before the exception leaves it.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Literal

import pydicom
from pydicom.filereader import read_file_meta_info

from tace_planner.domain.errors import DicomReadError
from tace_planner.domain.progress import Progress, Task
from tace_planner.imaging.dicom.scan import InstanceHeader, read_header
from tace_planner.imaging.dicom.sop_classes import object_kind

PROGRESS_INTERVAL_S = 0.1
"""Longest time between two Progress reports of the scan (cancel latency)."""

THREAD_WORKERS = 4
"""Threads reading headers. Parsing holds the GIL, so on a warm disk cache 4 threads are
~10 % slower than 1 (400 CT files: 1640 vs 1830 files/s); but they overlap the waits of
slow media: with 2 ms of I/O wait per file, 1 thread reads 376 files/s, 4 read 1182."""

PROCESS_POOL_MIN_FILES = 2000
"""From this many files on, headers are read in worker processes when the machine has
at least two cores. Measured on 2 cores (512x512 CT files, warm cache): 400 files take
0.23 s in threads and 0.40 s in processes (starting "spawn" workers costs ~0.3 s);
2000 files take 1.17 s and 0.90 s."""

PROCESS_CHUNK = 64
THREAD_CHUNK = 8

MAX_ARCHIVE_MEMBERS = 200_000
MAX_EXTRACTED_BYTES = 64 * 1024**3
"""Most bytes extracted from all the archives of one scan (a whole-body CT study
with several series is a few GiB)."""
MAX_COMPRESSION_RATIO = 1000
"""A member larger than 1 MiB that inflates more than this is refused (zip bomb)."""
FREE_SPACE_MARGIN_BYTES = 512 * 1024**2

DICOMDIR_NAME = "DICOMDIR"

# Folders that never hold a study: OS bookkeeping on USB sticks and macOS zip debris.
_IGNORED_DIRS = frozenset({"__macosx", "$recycle.bin", "system volume information"})
_IGNORED_FILES = frozenset({"thumbs.db", "desktop.ini"})
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
_VERSION_SUFFIX = re.compile(r";\d*$")

Bucket = Literal["header", "error", "skipped"]


@dataclass(frozen=True, slots=True)
class FileError:
    """A file that could not be used, and why (shown to the user).

    ``path`` is where the user sees the file: a member of a zip archive is named
    ``<archive>.zip/<member>``, not by its temporary copy.
    """

    path: Path
    reason: str


@dataclass(slots=True)
class ScanResult:
    """Every header found by a scan, and every file that failed or was skipped.

    Headers of files extracted from archives point into temporary folders that
    this result owns; see :meth:`cleanup` and the module docstring.
    """

    headers: list[InstanceHeader] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    skipped: list[FileError] = field(default_factory=list)
    _temp_dirs: list[tempfile.TemporaryDirectory[str]] = field(default_factory=list, repr=False)
    _shown: dict[Path, Path] = field(default_factory=dict, repr=False)

    @property
    def image_headers(self) -> list[InstanceHeader]:
        """Headers of images that may form volumes (no SEG, SR, RT, scouts, …)."""
        return [h for h in self.headers if kind_of(h) == "image"]

    @property
    def temp_dirs(self) -> tuple[Path, ...]:
        """The temporary folders holding extracted archive members (until cleanup)."""
        return tuple(Path(t.name) for t in self._temp_dirs)

    def display_path(self, path: Path) -> Path:
        """How to name ``path`` to the user (``archive.zip/member`` for an extracted file)."""
        return self._shown.get(path, path)

    def cleanup(self) -> None:
        """Remove the temporary folders of extracted archives (idempotent).

        Call it after the files have been copied; the headers of extracted files
        point to nothing afterwards.
        """
        while self._temp_dirs:
            self._temp_dirs.pop().cleanup()

    def __enter__(self) -> ScanResult:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cleanup()


def kind_of(header: InstanceHeader) -> str:
    """The object kind of a scanned file (see :func:`sop_classes.object_kind`)."""
    return object_kind(header.sop_class_uid, header.image_type)


# --- listing ---------------------------------------------------------------------------


def _is_hidden(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    if name.startswith(".") or name.lower() in _IGNORED_FILES:
        return True
    if os.name != "nt":  # the attributes below are free on Windows, a system call elsewhere
        return False
    attributes = getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0)
    return bool(attributes & (stat.FILE_ATTRIBUTE_HIDDEN | stat.FILE_ATTRIBUTE_SYSTEM))


def _is_dicomdir_name(name: str) -> bool:
    return _normalise_name(name) == DICOMDIR_NAME


def _is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def _normalise_name(name: str) -> str:
    """An ISO 9660 name as a DICOMDIR writes it: upper case, no ';1' version, no final dot."""
    return _VERSION_SUFFIX.sub("", name).rstrip(".").upper()


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


# --- DICOMDIR --------------------------------------------------------------------------


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


# --- header reading (runs in worker threads or processes) -------------------------------


_Outcome = tuple[Bucket, InstanceHeader | None, str]


def _read_one(path: Path) -> _Outcome:
    try:
        if path.stat().st_size == 0:
            return "skipped", None, "not a DICOM file (empty file)"
        return "header", read_header(path), ""
    except DicomReadError as error:
        if "not a DICOM file" in error.reason:
            return "skipped", None, error.reason
        if _is_directory_object(path):
            return "skipped", None, _DICOMDIR_OBJECT
        return "error", None, error.reason
    except OSError as error:
        return "error", None, f"cannot read the file ({error.strerror or error})"
    except RecursionError:
        return "error", None, "malformed header (nested too deeply)"
    except Exception as error:  # noqa: BLE001 - a bad file must never stop the scan
        return "error", None, f"malformed header ({type(error).__name__}: {error})"


_DICOMDIR_OBJECT = "a DICOMDIR (the directory of a CD, no image)"
_DIRECTORY_SOP_CLASS = "1.2.840.10008.1.3.10"


def _is_directory_object(path: Path) -> bool:
    """True when ``path`` is a DICOMDIR-like file (Media Storage Directory), whatever its name."""
    try:
        meta = read_file_meta_info(path)
    except Exception:  # noqa: BLE001 - any failure means "not a directory object"
        return False
    return str(meta.get("MediaStorageSOPClassUID", "")) == _DIRECTORY_SOP_CLASS


def _read_chunk(paths: Sequence[Path]) -> list[_Outcome]:
    """Read the headers of ``paths`` (the unit of work sent to a worker)."""
    return [_read_one(path) for path in paths]


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


def _make_executor(total: int, processes: bool | None) -> tuple[cf.Executor, int]:
    """The pool that reads headers, and how many files each task reads."""
    if processes is None:
        # A frozen app (PyInstaller) would start itself again in each worker unless its
        # entry point calls multiprocessing.freeze_support(): keep to threads there.
        processes = (
            total >= PROCESS_POOL_MIN_FILES
            and (os.cpu_count() or 1) >= 2
            and not getattr(sys, "frozen", False)
        )
    if processes:
        try:
            # "spawn": forking a process that runs Qt and other threads can deadlock.
            pool = cf.ProcessPoolExecutor(
                max_workers=max(1, min(os.cpu_count() or 1, 4)),
                mp_context=multiprocessing.get_context("spawn"),
            )
            return pool, PROCESS_CHUNK
        except (OSError, ValueError, NotImplementedError, ImportError):
            pass  # no processes on this platform: threads still work
    pool = cf.ThreadPoolExecutor(max_workers=THREAD_WORKERS, thread_name_prefix="dicom-scan")
    return pool, THREAD_CHUNK


def _read_headers(files: Sequence[Path], processes: bool | None) -> Task[list[_Outcome]]:
    """Read every header in a pool; one outcome per file, in the order of ``files``."""
    total = len(files)
    outcomes: list[_Outcome | None] = [None] * total
    if total == 0:
        return []
    executor, chunk = _make_executor(total, processes)
    ticker = _Ticker()
    done = 0
    retry: list[int] = []
    try:
        futures: dict[cf.Future[list[_Outcome]], int] = {}
        for start in range(0, total, chunk):
            try:
                futures[executor.submit(_read_chunk, files[start : start + chunk])] = start
            except Exception:  # noqa: BLE001 - the pool is broken: read the rest here
                retry.extend(range(start, total))
                break
        pending: set[cf.Future[list[_Outcome]]] = set(futures)
        yield Progress(0, total, f"Reading headers (0 of {total})")
        while pending:
            finished, pending = cf.wait(
                pending, timeout=PROGRESS_INTERVAL_S, return_when=cf.FIRST_COMPLETED
            )
            for future in finished:
                start = futures[future]
                count = min(chunk, total - start)
                try:
                    results = future.result()
                except Exception:  # noqa: BLE001 - a worker process died: read it here
                    retry.extend(range(start, start + count))
                    continue
                outcomes[start : start + count] = results
                done += count
            if finished or ticker.due():
                yield Progress(done, total, f"Reading headers ({done} of {total})")
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    for index in retry:  # only when a worker process died or could not start
        outcomes[index] = _read_one(files[index])
        done += 1
        if ticker.due():
            yield Progress(done, total, f"Reading headers ({done} of {total})")
    return [o if o is not None else ("error", None, "not read") for o in outcomes]


def scan_files(
    paths: Sequence[Path],
    *,
    temp_dir: Path | None = None,
    processes: bool | None = None,
) -> Task[ScanResult]:
    """Read the header of every DICOM file under ``paths``.

    Folders are walked recursively (hidden files and folders left out); a folder
    with a DICOMDIR whose every listed file exists is read through it (names
    matched case-insensitively, ISO 9660 ``;1`` versions and final dots
    ignored); a DICOMDIR that lists missing files or cannot be read is noted in
    ``skipped`` and its folder is walked instead. Zip archives, given or found,
    are extracted into temporary folders (safe member paths only, size-limited)
    that the returned result owns. Each file is read once, however it was found.

    Parameters
    ----------
    paths : sequence of pathlib.Path
        Folders, files, DICOMDIR files and ``.zip`` archives.
    temp_dir : pathlib.Path, optional
        Where to create the extraction folders (default: the system's temporary
        folder). Put it on the image store's disk to avoid a second copy across disks.
    processes : bool, optional
        Read headers in worker processes (True) or threads (False); by default,
        processes from :data:`PROCESS_POOL_MIN_FILES` files on, on two cores or
        more, unless the app is frozen (PyInstaller).

    Yields
    ------
    Progress
        While looking for files (total unknown), extracting archives and reading
        headers; at least every :data:`PROGRESS_INTERVAL_S` seconds. Closing the
        task cancels the reads not yet started and removes the extracted files.

    Returns
    -------
    ScanResult
        Headers of the DICOM files (including non-image objects: see
        :attr:`ScanResult.image_headers`), files that failed with their reason,
        and files skipped on purpose (DICOMDIR, not DICOM). The caller must call
        :meth:`ScanResult.cleanup` (or use it in a ``with`` block) once the
        files have been copied.
    """
    result = ScanResult()
    try:
        scan = _Scan(result, temp_dir)
        yield Progress(0, 0, "Looking for DICOM files")
        yield from scan.plan(list(paths))
        files = scan.candidates
        outcomes = yield from _read_headers(files, processes)
        for path, (bucket, header, reason) in zip(files, outcomes, strict=True):
            if header is not None:
                result.headers.append(header)
            elif bucket == "skipped":
                result.skipped.append(FileError(result.display_path(path), reason))
            else:
                result.errors.append(FileError(result.display_path(path), reason))
        yield Progress(len(files), len(files), f"Read {len(files)} file(s)")
    except BaseException:
        result.cleanup()
        raise
    return result
