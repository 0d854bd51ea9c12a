"""The managed image store: imported DICOM files are copied here, named by UID."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path


class ImageStore:
    """A folder of DICOM files copied on import, so a removed CD loses nothing.

    Files live at ``<root>/<study hash>/<series hash>/<SOP Instance UID>.dcm``;
    the database keeps their paths relative to the root.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def _short(uid: str) -> str:
        # UIDs can be 64 characters; a hash keeps paths short on Windows.
        return hashlib.sha1(uid.encode(), usedforsecurity=False).hexdigest()[:16]

    def relative_path(self, study_uid: str, series_uid: str, sop_instance_uid: str) -> str:
        """Where a file of these UIDs is stored, relative to the root (POSIX separators)."""
        return f"{self._short(study_uid)}/{self._short(series_uid)}/{sop_instance_uid}.dcm"

    def absolute(self, relative_path: str) -> Path:
        """The absolute path of a stored file."""
        return self.root / relative_path

    def copy_in(self, source: Path, relative_path: str) -> Path:
        """Copy ``source`` into the store atomically (temporary name, then rename)."""
        target = self.absolute(relative_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".part")
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
        return target

    def remove(self, relative_path: str) -> None:
        """Delete a stored file if it exists (used to undo a cancelled import)."""
        self.absolute(relative_path).unlink(missing_ok=True)
