"""Python's cyclic garbage collection on the GUI thread only.

The collector runs in whichever thread happens to allocate. When it runs on a worker
thread (a task computing with numpy) and frees a Qt object kept alive by a reference
cycle (a closed window's menu and actions), the object's destructor takes a Qt mutex
and waits for the GIL, while the GUI thread holds the GIL and waits for that mutex:
the application freezes. Seen here in a test run: GUI thread in ``QObject::~QObject``
via shiboken's ``runDeletionInMainThread``, worker in ``gc_collect_main`` inside
``QObject::~QObject`` → ``GilState::acquire``.

The remedy pyqtgraph documents (``pyqtgraph.util.garbage_collector``): disable the
automatic collector and collect on a timer of the GUI thread.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000


class GuiThreadCollector(QObject):
    """Disables automatic collection and collects from a GUI-thread timer."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        gc.disable()
        self._threshold = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations whose allocation counts passed their thresholds."""
        counts = gc.get_count()
        if counts[0] > self._threshold[0]:
            generation = 0
            if counts[1] > self._threshold[1]:
                generation = 1
                if counts[2] > self._threshold[2]:
                    generation = 2
            gc.collect(generation)

    def stop(self) -> None:
        """Give collection back to Python."""
        self._timer.stop()
        gc.enable()
