"""The Follow-up page's tasks, run off the GUI thread: proposing a follow-up's contours
(cancellable) and assessing its response, and how their failure is said. They know
nothing about Qt."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tace_planner.domain.progress import Progress


class CancelFlag:
    """Whether the task's handle was cancelled (*Cancel*, the window closing), asked from
    the task's thread; the handle is set once submitted (before the task starts)."""

    def __init__(self) -> None:
        self.handle: Any = None

    def __call__(self) -> bool:
        flag = getattr(self.handle, "cancel_requested", None)
        return flag is not None and flag.is_set()


def propose_task(
    propagation: Any, case_pk: int, label: str, cancelled: Callable[[], bool] | None = None
) -> Any:
    """:meth:`PropagationService.propose_task` (one step per volume, the registration and
    each focus: cancellable between them, and ``cancelled`` asked during the registration)
    and the case course, as a task."""
    if hasattr(propagation, "propose_task"):
        if cancelled is not None and takes(propagation.propose_task, "cancelled"):
            item = yield from propagation.propose_task(case_pk, label, cancelled=cancelled)
        else:  # a service that checks between its steps only
            item = yield from propagation.propose_task(case_pk, label)
    else:  # a service without steps: one step
        yield Progress(0, 1, f"Registering {label} to the baseline")
        item = propagation.propose(case_pk, label)
    return item, propagation.course(case_pk)


def takes(function: Callable[..., Any], name: str) -> bool:
    """Whether ``function`` has a parameter ``name`` (or takes any keyword)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in parameters)


def assess_task(assessments: Any, case_pk: int, label: str) -> Any:
    """:meth:`AssessmentService.assess` (stored) as a task (one step)."""
    yield Progress(0, 1, f"Assessing {label}")
    return assessments.assess(case_pk, label)


def failure_reason(error: BaseException, verb: str) -> str:
    """The error's reason without an internal field name ("timepoint: …"; a file's name
    is kept); the follow-up named again at its start is "it"."""
    field = getattr(error, "field", None)
    internal = isinstance(field, str) and field.isidentifier()
    reason = str(getattr(error, "reason", "") or error) if internal else str(error)
    label = verb.rsplit(" at ", 1)[-1] if " at " in verb else ""
    if label and reason.startswith(f"{label} "):
        reason = "it " + reason[len(label) + 1 :]
    return reason
