"""CommandStack: do/undo/redo order, the undo limit, redo cleared by a new command."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tace_planner.services.commands import Command, CommandStack


@dataclass
class Append:
    log: list[int]
    value: int
    text: str = field(default="append")

    def do(self) -> None:
        self.log.append(self.value)

    def undo(self) -> None:
        assert self.log.pop() == self.value


def test_undo_and_redo_in_order() -> None:
    log: list[int] = []
    changes: list[None] = []
    stack = CommandStack(on_change=lambda: changes.append(None))
    for value in (1, 2, 3):
        stack.push(Append(log, value))
    assert isinstance(stack.undo(), Command)
    assert stack.undo() is not None
    assert log == [1]
    stack.redo()
    assert log == [1, 2]
    assert stack.can_undo
    assert stack.can_redo
    assert len(changes) == 6


def test_new_command_clears_redo() -> None:
    log: list[int] = []
    stack = CommandStack()
    stack.push(Append(log, 1))
    stack.undo()
    stack.push(Append(log, 2))
    assert not stack.can_redo
    assert stack.redo() is None
    assert log == [2]


def test_limit_keeps_at_least_twenty_steps_and_drops_the_oldest() -> None:
    log: list[int] = []
    stack = CommandStack(limit=20)
    for value in range(25):
        stack.push(Append(log, value))
    undone = 0
    while stack.undo() is not None:
        undone += 1
    assert undone == 20
    assert log == [0, 1, 2, 3, 4]


def test_record_does_not_run_the_command() -> None:
    log = [7]
    stack = CommandStack()
    stack.record(Append(log, 7, text="seven"))
    assert stack.undo_text == "seven"
    stack.undo()
    assert log == []


def test_failed_command_is_not_kept() -> None:
    class Broken:
        text = "broken"

        def do(self) -> None:
            raise RuntimeError("no")

        def undo(self) -> None:  # pragma: no cover - never reached
            raise AssertionError

    stack = CommandStack()
    with pytest.raises(RuntimeError):
        stack.push(Broken())
    assert not stack.can_undo
    with pytest.raises(ValueError, match="at least 1"):
        CommandStack(limit=0)
