"""Undoable edits: a ``Command`` protocol and a bounded ``CommandStack`` (glue's pattern).

A command knows how to ``do`` and ``undo`` itself; the stack runs it, keeps it
for undo (at most ``limit`` commands, oldest dropped) and clears the redo list
when a new command arrives. No Qt: the UI maps Ctrl+Z / Ctrl+Shift+Z to
:meth:`CommandStack.undo` / :meth:`CommandStack.redo` and listens to
``on_change`` to enable its actions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol, runtime_checkable

DEFAULT_UNDO_LIMIT = 50


@runtime_checkable
class Command(Protocol):
    """An undoable edit.

    Attributes
    ----------
    text : str
        What the edit does, for "Undo <text>" menu entries.
    """

    text: str

    def do(self) -> None:
        """Apply the edit (also called again on redo)."""

    def undo(self) -> None:
        """Revert exactly what :meth:`do` did."""


class CommandStack:
    """Runs commands and keeps them for undo and redo.

    Parameters
    ----------
    limit : int
        Most commands kept for undo (≥ 1); the oldest is dropped first.
    on_change : callable, optional
        Called with no argument after every push, undo, redo or clear.
    """

    def __init__(
        self, limit: int = DEFAULT_UNDO_LIMIT, on_change: Callable[[], None] | None = None
    ) -> None:
        if limit < 1:
            raise ValueError(f"the undo limit must be at least 1, got {limit}")
        self._undo: deque[Command] = deque(maxlen=limit)
        self._redo: list[Command] = []
        self._on_change = on_change

    @property
    def limit(self) -> int:
        """Most commands kept for undo."""
        return self._undo.maxlen or DEFAULT_UNDO_LIMIT

    @property
    def can_undo(self) -> bool:
        """True when there is something to undo."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """True when there is something to redo."""
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        """Text of the command :meth:`undo` would revert ("" when none)."""
        return self._undo[-1].text if self._undo else ""

    @property
    def redo_text(self) -> str:
        """Text of the command :meth:`redo` would apply again ("" when none)."""
        return self._redo[-1].text if self._redo else ""

    @property
    def next_undo(self) -> Command | None:
        """The command :meth:`undo` would revert (None when none)."""
        return self._undo[-1] if self._undo else None

    @property
    def next_redo(self) -> Command | None:
        """The command :meth:`redo` would apply again (None when none)."""
        return self._redo[-1] if self._redo else None

    def push(self, command: Command) -> None:
        """Run ``command`` and keep it for undo; the redo list is cleared.

        If ``do`` raises, nothing is kept and the exception propagates.
        """
        command.do()
        self._undo.append(command)
        self._redo.clear()
        self._changed()

    def record(self, command: Command) -> None:
        """Keep a command whose effect is already applied (do is not called)."""
        self._undo.append(command)
        self._redo.clear()
        self._changed()

    def undo(self) -> Command | None:
        """Revert the last command; return it (None when there is nothing to undo)."""
        if not self._undo:
            return None
        command = self._undo.pop()
        command.undo()
        self._redo.append(command)
        self._changed()
        return command

    def redo(self) -> Command | None:
        """Apply the last undone command again; return it (None when none)."""
        if not self._redo:
            return None
        command = self._redo.pop()
        command.do()
        self._undo.append(command)
        self._changed()
        return command

    def clear(self) -> None:
        """Forget every command (e.g. when another case or series is opened)."""
        self._undo.clear()
        self._redo.clear()
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()
