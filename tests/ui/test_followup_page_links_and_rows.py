"""The Follow-up page follows what is done in its worklist: a study linked there makes its
follow-up choosable at once, a worklist row chooses its follow-up in the Follow-up box, the
message follows a confirmation, and a refusal is worded for people (pytest-qt, offscreen)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PySide6")

from followup_seed import add_case, add_study, clock, sign_tace
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.progress import Progress, Task, run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.services.contouring_dto import TimepointChoice
from tace_planner.services.followup_dto import FollowupChoiceItem
from tace_planner.services.followups import FollowupService
from tace_planner.services.propagation import CaseCourse, FollowUpTimepoint
from tace_planner.store.models import StudyRow

D = dt.date
TODAY = D(2026, 12, 7)
IMAGED = (D(2026, 5, 11), D(2026, 8, 16), D(2026, 11, 16))
SHAPE = (4, 16, 16)


class _HeldTasks:
    """A task runner that runs nothing until :meth:`finish`; a failure goes to ``on_error``."""

    def __init__(self) -> None:
        self.waiting: list[tuple[Any, Any, Any]] = []

    def submit(
        self, task: Any, *, title: str, on_result: Any, on_error: Any = None, **_options: Any
    ) -> None:
        self.waiting.append((task, on_result, on_error))

    def finish(self) -> None:
        waiting, self.waiting = self.waiting, []
        for task, on_result, on_error in waiting:
            try:
                result = run_sync(task)
            except Exception as error:  # noqa: BLE001 - handed to the page as the runner does
                on_error(error)
            else:
                on_result(result)


class _Therapy:
    """The real timeline, counting how often it is drawn."""

    def __init__(self, therapy: Any) -> None:
        self._therapy = therapy
        self.drawn: list[int] = []

    def timeline(self, case_pk: int) -> Any:
        self.drawn.append(case_pk)
        return self._therapy.timeline(case_pk)


def _page(qtbot: Any, services: Any) -> tuple[Any, Any, _Therapy]:
    from tace_planner.ui.panels.case_list import CaseListPanel
    from tace_planner.ui.workspaces.followup_page import FollowupPage

    case_list = CaseListPanel()
    qtbot.addWidget(case_list)
    case_list.show_cases(services.cases.list_patients(), services.cases.list_cases())
    therapy = _Therapy(services.therapy)
    wrapped = SimpleNamespace(
        followups=FollowupService(services.session_factory, "dr rad", clock=clock(TODAY)),
        propagation=services.propagation,
        therapy=therapy,
        cases=services.cases,
        settings=services.settings,
        assessments=services.assessments,
        read_only=False,
    )
    page = FollowupPage(wrapped, _HeldTasks(), case_list)
    qtbot.addWidget(page)
    page.worklist.set_category("all")
    return page, case_list, therapy


def _row(page: Any, label: str) -> int:
    """The worklist's table row of the timepoint labelled ``label``."""
    worklist = page.worklist
    [index] = [i for i, item in enumerate(worklist.items) if item.label == label]
    return len(worklist.sessions) + index


def _box(page: Any) -> dict[str, bool]:
    """The Follow-up box's follow-ups and whether each can be chosen."""
    box = page.review.timepoints
    return {box.itemText(i): box.model().item(i).isEnabled() for i in range(box.count())}


def _signed_case(
    services: Any,
    patient: str,
    baseline_on: dt.date,
    tace_on: dt.date,
    imaged: tuple[dt.date, ...] = (),
    series: Any = None,
) -> int:
    """A case with TACE 1 signed, its CTs on ``imaged`` linked by hand as "follow-up n"
    (``series(study_pk, uid)``: the series to add to each), its schedule in step."""
    factory = services.session_factory
    case = add_case(factory, patient, baseline_on=baseline_on)
    sign_tace(factory, case, tace_on)
    for number, on in enumerate(imaged, start=1):
        uid = f"1.2.{patient}.{number}"
        add_study(factory, patient, uid, on)
        if series is not None:
            with factory() as session:
                study = session.query(StudyRow).filter_by(study_uid=uid).one()
                session.add(series(number, study.id, uid))
                session.commit()
        services.cases.link_study(
            case, uid, timepoint_label=f"follow-up {number}", timepoint_kind="follow_up"
        )
    FollowupService(factory, "dr rad", clock=clock(TODAY)).sync_case(case)
    return case  # fmt: skip


@pytest.mark.db
def test_linking_the_proposed_study_makes_its_follow_up_choosable_at_once(
    qtbot: Any, services: Any
) -> None:
    case = _signed_case(services, "L1", D(2026, 9, 20), D(2026, 10, 5))  # due 30 November
    # not linked yet; a CT series: its contours can be proposed once linked
    add_study(services.session_factory, "L1", "1.2.L1.1", D(2026, 11, 30), modality="CT")
    page, case_list, therapy = _page(qtbot, services)
    assert case_list.select_case(case)
    assert _box(page)["TACE 1 follow-up 1"] is False  # due: no study linked yet
    page.worklist.table.selectRow(_row(page, "TACE 1 follow-up 1"))
    assert page.worklist.link_button.isEnabled()
    drawn = len(therapy.drawn)

    page.worklist.link_button.click()

    assert page.worklist.selected_item().status != "scheduled"  # the worklist: done
    assert _box(page)["TACE 1 follow-up 1"] is True  # the box follows without reopening
    assert page.review.chosen_label() == "TACE 1 follow-up 1"  # the row linked is chosen
    assert page.review.propose_button.isEnabled()
    assert len(therapy.drawn) > drawn  # and the timeline is drawn again


@pytest.mark.db
def test_a_worklist_row_chooses_its_follow_up_in_the_box_without_a_second_case_change(
    qtbot: Any, services: Any
) -> None:
    case = _signed_case(services, "R1", D(2026, 3, 2), D(2026, 3, 16), IMAGED)
    page, case_list, _ = _page(qtbot, services)
    page.worklist.refresh()
    cases_shown: list[Any] = []
    case_list.case_selected.connect(cases_shown.append)

    page.worklist.table.selectRow(_row(page, "follow-up 2"))

    assert cases_shown == [case]  # the case once
    assert page.review.case_pk == case
    assert page.review.chosen_label() == "follow-up 2"  # not the first follow-up

    page.worklist.table.selectRow(_row(page, "follow-up 3"))  # the same case: no change
    assert cases_shown == [case]
    assert page.review.chosen_label() == "follow-up 3"

    page.worklist.table.selectRow(_row(page, "TACE 1 follow-up 4"))  # not yet due
    assert page.review.chosen_label() == "follow-up 3"  # kept
    message = page.review.message.text()
    assert message.startswith("TACE 1 follow-up 4 cannot be reviewed yet: not yet due: due ")
    assert "\n" not in message


def _item(case_pk: int, names: list[str], confirmed: tuple[str, ...] = ()) -> Any:
    """A proposal (or, with ``confirmed``, its confirmation) on small blank images, the
    registration the identity (only what the page reads)."""
    image = ImageVolume(np.zeros(SHAPE, np.float32), np.eye(4))
    mask = np.zeros(SHAPE, bool)
    mask[1:3, 4:8, 4:8] = True
    proposals = tuple(
        SimpleNamespace(name=name, found=True, stored=None, status="found", messages=(),
                        longest_axial_diameter_mm=20.0, volume_cm3=3.0, mask=mask)
        for name in names
    )  # fmt: skip
    return SimpleNamespace(
        case_pk=case_pk,
        baseline=TimepointChoice(1, "baseline", "baseline", D(2026, 3, 2)),
        follow_up=TimepointChoice(2, "follow-up 1", "follow_up", D(2026, 5, 11)),
        registration=SimpleNamespace(ok=True, message="Registered (test)",
                                     baseline_to_follow_up=np.eye(4)),
        proposals=proposals,
        baseline_image=image,
        baseline_masks=[(name, mask) for name in names],
        follow_up_image=image,
        confirmed=confirmed,
    )  # fmt: skip


class _Propagation:
    """Seven proposals at follow-up 1; ``refusal`` is raised by :meth:`propose_task` when
    set."""

    def __init__(self, refusal: Exception | None = None) -> None:
        self.refusal = refusal

    def timepoints(self, case_pk: int) -> list[FollowUpTimepoint]:
        return [FollowUpTimepoint(1, "baseline", "baseline", D(2026, 3, 2))]

    def course(self, case_pk: int) -> CaseCourse:
        return CaseCourse(case_pk, (), (), ())

    def propose_task(self, case_pk: int, label: str, *, cancelled: Any = None) -> Task[Any]:
        yield Progress(0, 1, f"Registering {label} to the baseline")
        if self.refusal is not None:
            raise self.refusal
        return _item(case_pk, [f"F{n}" for n in range(1, 8)])

    def confirm(self, item: Any, names: list[str], *, replace: list[str]) -> Any:
        return _item(item.case_pk, [p.name for p in item.proposals], confirmed=tuple(names))


def _review(qtbot: Any, propagation: _Propagation, label: str) -> tuple[Any, _HeldTasks]:
    from tace_planner.ui.workspaces.followup_page import FollowupReviewPage

    tasks = _HeldTasks()
    ready = FollowupChoiceItem(2, label, "done", "ready", imaged_on=D(2026, 5, 11))
    page = FollowupReviewPage(propagation, tasks, choices=lambda _case: [ready])
    qtbot.addWidget(page)
    page.set_case(7)
    return page, tasks


def test_the_message_follows_the_confirmation(qtbot: Any) -> None:
    page, tasks = _review(qtbot, _Propagation(), "follow-up 1")
    page.propose()
    tasks.finish()
    assert "check each proposal below" in page.message.text()

    page.review.confirm_button.click()

    assert page.review.status.text() == "Stored 7 contour(s) at follow-up 1."
    message = page.message.text()
    assert "check each proposal" not in message
    assert message.startswith("Follow-up 1: 7 contour(s) stored")


def test_a_refusal_names_the_follow_up_and_what_to_do_not_a_field(qtbot: Any) -> None:
    refusal = InvalidInputError(
        "timepoint",
        "TACE 1 follow-up 4 has no CT series to register to the baseline — link its CT study first",
    )
    page, tasks = _review(qtbot, _Propagation(refusal), "TACE 1 follow-up 4")
    page.propose()
    tasks.finish()
    assert page.message.text() == (
        "Cannot propose contours at TACE 1 follow-up 4: it has no CT series to register to "
        "the baseline — link its CT study first"
    )
