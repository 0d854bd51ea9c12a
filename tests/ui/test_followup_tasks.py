"""The Follow-up page's tasks take one path: the propagation service's stepwise
``propose_task`` (no second path for a service without it), and only the app's own input
errors lose their field name when a failure is said (pytest-qt, offscreen)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("PySide6")

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.progress import run_sync
from tace_planner.ui.followup_tasks import failure_reason, propose_task


def test_a_propagation_without_propose_task_is_refused_not_run_another_way() -> None:
    proposed: list[str] = []
    propose_only = SimpleNamespace(
        propose=lambda case_pk, label: proposed.append(label),
        course=lambda case_pk: None,
    )
    with pytest.raises(AttributeError, match="propose_task"):
        run_sync(propose_task(propose_only, 7, "follow-up 1"))
    assert proposed == []


class _ForeignError(Exception):
    """An error from outside the app that happens to carry ``field`` and ``reason``."""

    def __init__(self) -> None:
        super().__init__("export: the disk is full")
        self.field, self.reason = "export", "the disk is full"


def test_only_the_apps_input_errors_lose_their_field_name() -> None:
    verb = "propose contours at follow-up 2"
    own = InvalidInputError("timepoint", "follow-up 2 has no CT series")
    assert failure_reason(own, verb) == "it has no CT series"
    assert failure_reason(_ForeignError(), verb) == "export: the disk is full"
    named_file = InvalidInputError("ct_0001.dcm", "not a DICOM file")
    assert failure_reason(named_file, verb) == "ct_0001.dcm: not a DICOM file"
