"""The question a panel asks before its case is left (unsaved plan inputs or options,
unconfirmed follow-up proposals), answered in tests without a modal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tace_planner.ui.case_change import CaseChangeGuard


def answer(
    widget: Any,
    choice: str,
    question: str = "ask_unsaved",
    *,
    record: Callable[[str], Any] | None = None,
) -> list[Any]:
    """Answer ``widget``'s ``question`` (its method that asks; ``ask_unconfirmed`` on the
    Follow-up page) with ``choice`` ("save", "discard", "cancel", "confirm"); the list
    fills, as each question is asked, with its text, or with what ``record`` returns for
    that text (what the window showed while it was asked, say)."""
    asked: list[Any] = []
    keep = record or (lambda text: text)
    setattr(widget, question, lambda text: asked.append(keep(text)) or choice)
    return asked


def never_asked(widget: Any, question: str = "ask_unsaved") -> None:
    """Fail the test if ``widget`` asks its ``question`` (nothing is unsaved to ask about)."""
    setattr(widget, question, lambda text: pytest.fail(f"asked without unsaved input: {text}"))


def leave(widget: Any) -> bool:
    """What the window asks before another case or closing (the guard, this widget only)."""
    return CaseChangeGuard(None, (widget,)).allows_leaving()  # type: ignore[arg-type]
