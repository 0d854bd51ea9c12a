"""What a scan of DICOM files found: headers, files that failed and files skipped, with reasons.

:class:`ScanResult` also owns the temporary folders of files extracted from zip
archives (see the docstring of :mod:`discover`).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from tace_planner.imaging.dicom.scan import InstanceHeader
from tace_planner.imaging.dicom.sop_classes import object_kind


@dataclass(frozen=True, slots=True)
class FileError:
    """A file that could not be used, and why (shown to the user).

    ``path`` is where the user sees the file: a member of a zip archive is named
    ``<archive>.zip/<member>``, not by its temporary copy. ``files`` is how many
    files the entry stands for: 1, except for a whole series refused at once (named
    by one of its files), which counts all the files it kept out.
    """

    path: Path
    reason: str
    files: int = 1


DICOMDIR_USED = "DICOMDIR used"
"""How the file search's note on a DICOMDIR it read begins (``file_search``); such a
DICOMDIR is listed among the skipped files but was used, not skipped."""

_LISTED = re.compile(r"lists (\d+) files?")


@dataclass(frozen=True, slots=True)
class DicomdirUse:
    """A DICOMDIR (the index of a CD) whose listed files were read.

    ``note`` is what else the scan says about it ("3 other file(s) (viewer
    software, documents) were not read"), "" when nothing.
    """

    path: Path
    listed_files: int
    note: str = ""

    @classmethod
    def from_note(cls, entry: FileError) -> DicomdirUse | None:
        """The DICOMDIR use a skipped-file note records, None for any other note."""
        if not entry.reason.startswith(DICOMDIR_USED):
            return None
        found = _LISTED.search(entry.reason)
        _, _, rest = entry.reason.partition(";")
        return cls(entry.path, int(found.group(1)) if found else 0, rest.strip())


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
    def dicomdirs_used(self) -> list[DicomdirUse]:
        """The DICOMDIRs whose listed files were read (their notes are in ``skipped``)."""
        uses = (DicomdirUse.from_note(entry) for entry in self.skipped)
        return [use for use in uses if use is not None]

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
