"""Progress reports and the Task protocol for long computations (no threads, no Qt)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of a long computation.

    Parameters
    ----------
    done : int
        Units of work finished so far.
    total : int
        Units of work in all (0 when unknown).
    message : str
        What is being done, for the progress bar.
    """

    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        """Share of the work done, from 0 to 1 (0 when the total is unknown)."""
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


Task: TypeAlias = Generator[Progress, None, T]
"""A generator that yields Progress and returns its result; closing it cancels it."""


def run_sync(task: Task[T], on_progress: Callable[[Progress], None] | None = None) -> T:
    """Drive ``task`` to completion on the calling thread (CLI and tests).

    Parameters
    ----------
    task : Task
        The generator to run.
    on_progress : callable, optional
        Called with every Progress the task yields.

    Returns
    -------
    object
        What the task returned.
    """
    while True:
        try:
            step = next(task)
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]
        if on_progress is not None:
            on_progress(step)
