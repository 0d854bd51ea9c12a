"""Cyclic garbage collection runs on the GUI thread only (ui/gc_guard.py)."""

from __future__ import annotations

import gc
import weakref

import pytest

pytestmark = pytest.mark.ui


def test_the_collector_disables_automatic_collection_and_collects_on_its_timer(qtbot) -> None:
    from tace_planner.ui.gc_guard import GuiThreadCollector

    gc.enable()
    collector = GuiThreadCollector(interval_ms=10_000)
    try:
        assert not gc.isenabled()

        class Node:
            pass

        node = Node()
        node.self = node  # a reference cycle only the collector frees
        alive = weakref.ref(node)
        del node
        assert alive() is not None  # automatic collection is off
        collector._threshold = (-1, 1_000_000, 1_000_000)  # generation 0 is due
        collector.check()
        assert alive() is None
    finally:
        collector.stop()
    assert gc.isenabled()
