"""Small helpers shared by the ``tace-planner`` command modules: dates, numbers, progress.

Kept free of services, so that importing it (and building the parser) stays light.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

from tace_planner.domain.progress import Progress, Task, run_sync


def iso_date(text: str) -> dt.date:
    """An argparse type: a YYYY-MM-DD date."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    """``value`` with ``digits`` decimals and its unit, or a dash when unknown."""
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def progress_printer(verbose: bool) -> Callable[[Progress], None] | None:
    """A progress line on stderr with ``--verbose``, else None."""
    if not verbose:
        return None

    def show(step: Progress) -> None:
        print(f"\r{step.message} {step.done}/{step.total}", end="", file=sys.stderr, flush=True)

    return show


def run_task(task: Task[Any], verbose: bool) -> Any:
    """Run ``task`` on this thread, showing its progress with ``--verbose``."""
    result = run_sync(task, progress_printer(verbose))
    if verbose:
        print(file=sys.stderr)
    return result
