"""The Follow-up page's tasks, run off the GUI thread: proposing a follow-up's contours
(cancellable) and assessing its response, and how their failure is said. They know
nothing about Qt."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.progress import Progress, Task

if TYPE_CHECKING:
    from tace_planner.services.propagation import (
        CaseCourse,
        PropagationItem,
        PropagationService,
    )


class _Cancellable(Protocol):
    """What :class:`CancelFlag` reads of a task's handle (``ui.tasks.TaskHandle``)."""

    cancel_requested: threading.Event


class CancelFlag:
    """Whether the task's handle was cancelled (*Cancel*, the window closing), asked from
    the task's thread. The handle is set as soon as ``submit`` returns it; the task may
    already run on its pool thread by then, and reads "not cancelled" until it is set."""

    def __init__(self) -> None:
        self.handle: _Cancellable | None = None

    def __call__(self) -> bool:
        handle = self.handle
        return handle is not None and handle.cancel_requested.is_set()


def propose_task(
    propagation: PropagationService,
    case_pk: int,
    label: str,
    cancelled: Callable[[], bool] | None = None,
) -> Task[tuple[PropagationItem, CaseCourse]]:
    """:meth:`PropagationService.propose_task` (one step per volume, the registration and
    each focus: cancellable between them, and ``cancelled`` asked during the registration)
    and the case course, as a task."""
    item = yield from propagation.propose_task(case_pk, label, cancelled=cancelled)
    return item, propagation.course(case_pk)


def assess_task(assessments: Any, case_pk: int, label: str) -> Any:
    """:meth:`AssessmentService.assess` (stored) as a task (one step)."""
    yield Progress(0, 1, f"Assessing {label}")
    return assessments.assess(case_pk, label)


def failure_reason(error: BaseException, verb: str) -> str:
    """The error's reason without an internal field name ("timepoint: …"; a file's name
    is kept); the follow-up named again at its start is "it"."""
    reason = str(error)
    if isinstance(error, InvalidInputError) and error.field.isidentifier():
        reason = error.reason or reason
    label = verb.rsplit(" at ", 1)[-1] if " at " in verb else ""
    if label and reason.startswith(f"{label} "):
        reason = "it " + reason[len(label) + 1 :]
    return reason
