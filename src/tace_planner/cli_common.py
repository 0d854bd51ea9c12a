"""Small helpers shared by the ``tace-planner`` command modules: dates, ids, numbers,
progress and the logger of the commands' warnings.

Kept free of services, so that importing it (and building the parser) stays light.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Callable
from typing import Any

from tace_planner.domain.progress import Progress, Task, run_sync

LOGGER_NAME = "tace_planner.cli"
"""The logger of the commands' warnings, shared by every command module.

With ``--verbose`` off, ``cli.main`` prints a warning as ``WARNING:tace_planner.cli:…``:
the name is part of what the user reads, so it stays the same whichever module logs."""

log = logging.getLogger(LOGGER_NAME)

MAX_ID = 2**63 - 1
"""The largest id a database row can have."""


def iso_date(text: str) -> dt.date:
    """An argparse type: a YYYY-MM-DD date.

    argparse puts the option's name before the message (``argument --date: …``).
    """
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def case_id(text: str) -> int:
    """An argparse type: a case's number (see ``tace-planner cases``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a case id (a number)") from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text}: no such case (case ids are 1 to {MAX_ID})")
    return value


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
