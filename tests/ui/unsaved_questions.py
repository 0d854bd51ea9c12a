"""The question a panel asks before its case is left (unsaved plan inputs or options,
unconfirmed follow-up proposals), answered in tests without a modal."""

from __future__ import annotations

from typing import Any

from tace_planner.ui.case_change import CaseChangeGuard


def answer(widget: Any, choice: str, question: str = "ask_unsaved") -> list[str]:
    """Answer ``widget``'s ``question`` (its method that asks; ``ask_unconfirmed`` on the
    Follow-up page) with ``choice`` ("save", "discard", "cancel", "confirm"); the list
    fills with each question's text as it is asked."""
    asked: list[str] = []
    setattr(widget, question, lambda text: asked.append(text) or choice)
    return asked


def leave(widget: Any) -> bool:
    """What the window asks before another case or closing (the guard, this widget only)."""
    return CaseChangeGuard(None, (widget,)).allows_leaving()  # type: ignore[arg-type]
