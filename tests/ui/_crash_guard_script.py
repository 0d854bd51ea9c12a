"""Stress the Qt binding the way the viewer does; run as a script in its own process.

Emits many signals and pushes many slices through ``SliceView.show_slice``. On a
known-bad binding (PySide6 6.12 on CPython < 3.12, docs/adr/0003) CPython aborts with
"Fatal Python error: bool_dealloc" long before the end; on a good one it prints
"survived N emissions and M image updates" and exits 0.

Usage: python _crash_guard_script.py [EMISSIONS] [IMAGE_UPDATES]
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from tace_planner.domain.volume import ImageVolume
from tace_planner.ui.viewer import SliceView

SLICES = 32


class _Emitter(QObject):
    changed = Signal(int)


def main(emissions: int, image_updates: int) -> None:
    print(
        f"python {platform.python_version()}, "
        f"PySide6-Essentials {importlib.metadata.version('PySide6-Essentials')}",
        flush=True,
    )
    app = QApplication.instance() or QApplication([])
    voxels = np.random.default_rng(7).normal(40, 100, (SLICES, 64, 64)).astype(np.float32)
    view = SliceView()
    view.resize(256, 256)
    view.set_volume(ImageVolume(voxels, np.diag([2.5, 0.8, 0.7, 1.0])))
    view.show()
    app.processEvents()

    received: list[int] = []
    emitter = _Emitter()
    emitter.changed.connect(received.append)
    before = sys.getrefcount(True)
    for n in range(emissions):
        emitter.changed.emit(n)
    for n in range(image_updates):
        view.show_slice((view.slice_index + 1) % SLICES)
        if n % 500 == 0:
            app.processEvents()  # paint now and then, as a user scrolling would
    app.processEvents()
    assert len(received) == emissions, f"{len(received)} of {emissions} emissions arrived"
    view.close()
    print(
        f"survived {emissions} emissions and {image_updates} image updates; "
        f"refcount(True) changed by {sys.getrefcount(True) - before}",
        flush=True,
    )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 20_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 5_000,
    )
