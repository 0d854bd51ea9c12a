"""The managed image store: imported DICOM files are copied here, under names the app controls.

A stored file's name never comes unchecked from the file itself: a SOP Instance
UID is used as the name only when it is a valid UID (digits and dots, at most 64
characters); anything else is replaced by a hash. Every path is checked to lie
inside the store before anything is written or deleted, a file is written under a
temporary name in its final folder and then moved into place, and an existing
file is never replaced by a different object.
"""

from __future__ import annotations

import errno
import filecmp
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tace_planner.domain.errors import DicomReadError, StoreError

MAX_UID_LENGTH = 64
_UID = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_COPY_CHUNK = 1024**2
TEMPORARY_SUFFIX = ".part"
LOCK_FILE_NAME = ".import.lock"
SCRATCH_FOLDER_NAME = ".incoming"
_DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def is_valid_uid(uid: str) -> bool:
    """True when ``uid`` is a DICOM UID: digits and dots only, at most 64 characters."""
    return 0 < len(uid) <= MAX_UID_LENGTH and _UID.fullmatch(uid) is not None


def uid_digest(value: str) -> str:
    """A stable hexadecimal digest of any text (also of text with NUL or odd characters)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def replacement_uid(value: str) -> str:
    """A valid UID derived from an invalid one: ``2.25.<integer of its digest>``.

    The same invalid value always gets the same replacement, so a second import
    of the same files finds them stored.
    """
    return "2.25." + str(int(uid_digest(value)[:32], 16))


def disk_full(error: OSError) -> bool:
    """True when ``error`` says that the disk (or the user's quota) is full."""
    return error.errno in _DISK_FULL


@dataclass(frozen=True, slots=True)
class StoredFile:
    """Where a file was stored, and whether this call created it (False: already there)."""

    relative_path: str
    created: bool


class ImportLock:
    """An exclusive lock on the store, held while one series is written (across processes).

    Two imports of the same folder at once then take turns series by series, so
    the second one finds the first one's files and rows and reports them as
    already stored.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: int | None = None

    def acquire(self, *, blocking: bool = True) -> bool:
        """Take the lock; with ``blocking=False`` return False at once if it is held."""
        if self._handle is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _lock(handle, blocking):
                os.close(handle)
                return False
        except BaseException:
            os.close(handle)
            raise
        self._handle = handle
        return True

    def release(self) -> None:
        """Give the lock back (closing the file releases it)."""
        if self._handle is not None:
            handle, self._handle = self._handle, None
            os.close(handle)

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._handle is not None


def _lock(handle: int, blocking: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        mode = msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK  # type: ignore[attr-defined]
        try:
            msvcrt.locking(handle, mode, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
    try:
        fcntl.flock(handle, flags)
    except BlockingIOError:
        return False
    return True


class ImageStore:
    """A folder of DICOM files copied on import, so a removed CD loses nothing.

    Files live at ``<root>/<study hash>/<series hash>/<file name>.dcm``, where the
    file name is the SOP Instance UID when it is a valid UID and a hash of it
    otherwise; the database keeps the paths relative to the root.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def _short(uid: str) -> str:
        # UIDs can be 64 characters; a hash keeps paths short on Windows.
        return hashlib.sha1(
            uid.encode("utf-8", "surrogatepass"), usedforsecurity=False
        ).hexdigest()[:16]

    @staticmethod
    def file_stem(sop_instance_uid: str) -> str:
        """The file name (without ``.dcm``) of an object: its UID if valid, else a hash."""
        if is_valid_uid(sop_instance_uid):
            return sop_instance_uid
        return "h" + uid_digest(sop_instance_uid)[:40]

    def series_folder(self, study_uid: str, series_uid: str) -> str:
        """The folder of a series' files, relative to the root (POSIX separators)."""
        return f"{self._short(study_uid)}/{self._short(series_uid)}"

    def relative_path(self, study_uid: str, series_uid: str, sop_instance_uid: str) -> str:
        """Where a file of these UIDs is stored, relative to the root (POSIX separators)."""
        folder = self.series_folder(study_uid, series_uid)
        return f"{folder}/{self.file_stem(sop_instance_uid)}.dcm"

    def absolute(self, relative_path: str) -> Path:
        """The absolute path of a stored file.

        Raises
        ------
        StoreError
            The path would lie outside the store (a tampered database row).
        """
        return self._inside(relative_path)

    def _inside(self, relative_path: str) -> Path:
        if "\0" in relative_path or Path(relative_path).is_absolute():
            raise StoreError(f"{relative_path!r} is not a path inside the image store")
        target = self.root / relative_path
        root = self.root.resolve()
        resolved = target.resolve()
        if resolved == root or not resolved.is_relative_to(root):
            raise StoreError(f"{relative_path!r} is not a path inside the image store {root}")
        return target

    def lock(self) -> ImportLock:
        """The store's import lock (not yet taken)."""
        return ImportLock(self.root / LOCK_FILE_NAME)

    @contextmanager
    def locked(self, timeout_s: float = 600.0) -> Iterator[None]:
        """Hold the import lock for a block (waits up to ``timeout_s``)."""
        lock = self.lock()
        deadline = time.monotonic() + timeout_s
        while not lock.acquire(blocking=False):
            if time.monotonic() > deadline:
                raise StoreError(f"{self.root}: another import holds the image store")
            time.sleep(0.05)
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A folder of one import's own for its temporary files (archives extracted).

        It lies under ``.incoming`` in the root (the same disk as the store, so nothing
        is copied twice across disks). On leaving the block it is deleted, and so is
        ``.incoming`` when empty, under the import lock: a concurrent import keeps its own
        folder in it, which ``os.rmdir`` refuses to remove. While another process holds
        the lock, ``.incoming`` is left for that one to remove at its end.

        Raises
        ------
        StoreError
            The image store cannot be written (read-only, disk full).
        """
        incoming = self.root / SCRATCH_FOLDER_NAME
        for attempt in range(3):
            try:
                incoming.mkdir(parents=True, exist_ok=True)
                folder = Path(tempfile.mkdtemp(prefix="import-", dir=incoming))
                break
            except FileNotFoundError:  # another import removed .incoming just then
                if attempt == 2:
                    raise StoreError(f"{self.root}: cannot write into the image store") from None
            except OSError as error:
                raise StoreError(
                    f"{self.root}: cannot write into the image store ({error.strerror or error})"
                ) from None
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            lock = self.lock()
            try:
                if lock.acquire(blocking=False):
                    os.rmdir(incoming)
            except OSError:
                pass  # not empty: another import is using it
            finally:
                lock.release()

    def store(self, source: Path, relative_path: str) -> StoredFile:
        """Copy ``source`` into the store at ``relative_path`` (or beside it), atomically.

        The copy is written under a temporary name in the target folder, then
        moved into place without replacing anything: if a file with the same
        content is there already it is kept (``created`` False); if a different
        file is there, the copy gets the next free name ``<stem>~<n>.dcm``.

        Raises
        ------
        DicomReadError
            ``source`` cannot be read (the message names it).
        StoreError
            The store cannot be written (disk full, permissions); nothing is left
            behind.
        """
        target = self._inside(relative_path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary_name = tempfile.mkstemp(
                dir=target.parent, prefix=".", suffix=TEMPORARY_SUFFIX
            )
        except OSError as error:
            raise self._write_error(target, error) from None
        temporary = Path(temporary_name)
        try:
            self._copy(source, handle, target)
            stem = target.name.removesuffix(".dcm")
            for n in range(1, 1000):
                name = target.name if n == 1 else f"{stem}~{n}.dcm"
                candidate = target.with_name(name)
                relative = relative_path.rsplit("/", 1)[0] + "/" + name
                if _place(temporary, candidate):
                    return StoredFile(relative, created=True)
                if _same_content(candidate, temporary):
                    return StoredFile(relative, created=False)
            raise StoreError(f"{target}: too many different files claim this name")
        finally:
            temporary.unlink(missing_ok=True)

    def copy_in(self, source: Path, relative_path: str) -> Path:
        """Copy ``source`` into the store (see :meth:`store`); return the stored path."""
        return self.absolute(self.store(source, relative_path).relative_path)

    def _copy(self, source: Path, handle: int, target: Path) -> None:
        with os.fdopen(handle, "wb") as sink:
            try:
                reader = open(source, "rb")  # noqa: SIM115 - closed below
            except OSError as error:
                raise DicomReadError(
                    str(source), f"cannot read the file ({error.strerror or error})"
                ) from None
            with reader:
                while True:
                    try:
                        chunk = reader.read(_COPY_CHUNK)
                    except OSError as error:
                        raise DicomReadError(
                            str(source), f"cannot read the file ({error.strerror or error})"
                        ) from None
                    if not chunk:
                        break
                    try:
                        sink.write(chunk)
                    except OSError as error:
                        raise self._write_error(target, error) from None
            try:
                sink.flush()
            except OSError as error:
                raise self._write_error(target, error) from None

    def _write_error(self, target: Path, error: OSError) -> StoreError:
        if disk_full(error):
            return StoreError(
                f"the disk of the image store {self.root} is full: free some space and "
                "import again (series imported before were kept)"
            )
        return StoreError(
            f"{target.parent}: cannot write into the image store ({error.strerror or error})"
        )

    def remove(self, relative_path: str) -> None:
        """Delete a stored file if it exists (callers make sure no row references it).

        The folders it leaves empty (its series folder, then its study folder) are
        removed too (:meth:`prune`); callers hold the import lock, as every writer does.
        """
        self._inside(relative_path).unlink(missing_ok=True)
        self.prune(relative_path.rsplit("/", 1)[0] if "/" in relative_path else "")

    def prune(self, folder: str) -> None:
        """Remove ``folder`` and its parents while they are empty, never the root itself.

        Only folders inside the store are looked at (a path that leaves it stops the
        walk), and a folder that still holds anything, a file or a folder, is kept:
        :func:`os.rmdir` refuses it.
        """
        parts = [part for part in folder.split("/") if part]
        while parts:
            try:
                path = self._inside("/".join(parts))
            except StoreError:
                return
            if path.is_symlink():
                return
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass  # gone already: its parent may still be empty
            except OSError:
                return  # not empty, or not ours to remove
            parts.pop()

    def stale_files(self, folder: str) -> list[str]:
        """Files of a series folder, relative to the root, including temporary leftovers.

        Used under the import lock to find files a killed import left behind.
        """
        path = self._inside(folder)
        try:
            names = sorted(os.listdir(path))
        except OSError:
            return []
        return [f"{folder}/{name}" for name in names if (path / name).is_file()]


def _place(temporary: Path, target: Path) -> bool:
    """Move ``temporary`` to ``target`` unless ``target`` exists; True when moved."""
    try:
        os.link(temporary, target)  # atomic, and never replaces an existing file
        return True
    except FileExistsError:
        return False
    except OSError:
        pass  # no hard links on this file system (FAT, some network shares)
    if target.exists():
        return False
    os.replace(temporary, target)
    return True


def _same_content(a: Path, b: Path) -> bool:
    try:
        return filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False
