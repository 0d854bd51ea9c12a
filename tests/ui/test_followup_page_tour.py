"""The Follow-up page after the GUI tour: imaging already in the case done on the worklist,
patients and cases as the app names them, proposals dropped when no case is chosen, the
timeline's target sum, and the spider plot's day 0 (pytest-qt, offscreen)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from followup_seed import add_case, add_measurement, add_study, clock, sign_tace
from tace_planner.domain.progress import Progress, Task, run_sync
from tace_planner.services.contouring_dto import TimepointChoice
from tace_planner.services.followups import FollowupService
from tace_planner.services.propagation import CaseCourse, FollowUpTimepoint, LesionCourse

pytestmark = pytest.mark.db
D = dt.date
TODAY = D(2026, 12, 7)
IMAGED = (D(2026, 5, 11), D(2026, 8, 16), D(2026, 11, 16))


class _HeldTasks:
    """A task runner that runs nothing until :meth:`finish` (the user clicks meanwhile)."""

    def __init__(self) -> None:
        self.waiting: list[tuple[Any, Any]] = []

    def submit(
        self, task: Any, *, title: str, on_result: Any, on_error: Any = None, **_options: Any
    ) -> None:
        self.waiting.append((task, on_result))

    def finish(self) -> None:
        for task, on_result in self.waiting:
            on_result(run_sync(task))
        self.waiting = []


def _item(case_pk: int, names: list[str]) -> Any:
    """A proposal result as :meth:`PropagationService.propose` gives it (only what the
    page reads)."""
    follow_up = TimepointChoice(2, "follow-up 2", "follow_up", D(2026, 8, 16))
    registration = SimpleNamespace(ok=True, message="Registered (test)")
    proposals = tuple(
        SimpleNamespace(name=name, found=True, stored=None, status="found", messages=(),
                        longest_axial_diameter_mm=20.0, volume_cm3=3.0)
        for name in names
    )  # fmt: skip
    return SimpleNamespace(
        case_pk=case_pk,
        follow_up=follow_up,
        registration=registration,
        proposals=proposals,
        baseline_image=None,
        follow_up_image=None,
    )


class _Propagation:
    """Seven proposals for whichever case is asked (the registration itself is not tested)."""

    def timepoints(self, case_pk: int) -> list[FollowUpTimepoint]:
        return [
            FollowUpTimepoint(1, "baseline", "baseline", D(2026, 3, 2)),
            FollowUpTimepoint(2, "follow-up 2", "follow_up", D(2026, 8, 16)),
        ]

    def course(self, case_pk: int) -> CaseCourse:
        return CaseCourse(case_pk, (), (), ())

    def propose_task(self, case_pk: int, label: str, *, cancelled: Any = None) -> Task[Any]:
        yield Progress(0, 1, f"Registering {label} to the baseline")
        return _item(case_pk, [f"F{n}" for n in range(1, 8)])

    def best_changes(self, case_pks: list[int]) -> list[Any]:
        return []


def _page(
    qtbot: Any, services: Any, tasks: Any, propagation: Any = None, choices: Any = None
) -> tuple[Any, Any]:
    from tace_planner.ui.panels.case_list import CaseListPanel
    from tace_planner.ui.workspaces.followup_page import FollowupPage

    case_list = CaseListPanel()
    qtbot.addWidget(case_list)
    case_list.show_cases(services.cases.list_patients(), services.cases.list_cases())
    followups = FollowupService(services.session_factory, "dr rad", clock=clock(TODAY))
    if choices is not None:  # the follow-ups the fake propagation proposes from
        followups.follow_up_choices = choices  # type: ignore[method-assign]
    wrapped = SimpleNamespace(
        followups=followups,
        propagation=propagation or services.propagation,
        therapy=services.therapy,
        cases=services.cases,
        settings=services.settings,
        assessments=services.assessments,
        read_only=False,
    )
    page = FollowupPage(wrapped, tasks, case_list)
    qtbot.addWidget(page)
    return page, case_list


def test_a_proposal_arriving_after_a_patient_row_was_chosen_is_dropped(
    qtbot: Any, services: Any
) -> None:
    case = add_case(services.session_factory, "P7", baseline_on=D(2026, 3, 2))
    from tace_planner.services.followup_dto import FollowupChoiceItem

    tasks = _HeldTasks()
    ready = FollowupChoiceItem(2, "follow-up 2", "done", "ready", imaged_on=D(2026, 8, 16))
    page, case_list = _page(qtbot, services, tasks, _Propagation(), lambda _case: [ready])
    review = page.review
    assert case_list.select_case(case)
    assert review.case_pk == case
    review.propose()
    assert len(tasks.waiting) == 1
    case_list.setCurrentItem(case_list.topLevelItem(0))  # the patient row: no case chosen
    assert review.case_pk is None
    tasks.finish()  # the 7 proposals of the case chosen before arrive now
    assert review.review.item is None
    assert review.review.table.rowCount() == 0
    assert not review.review.confirm_button.isEnabled()
    assert not review.propose_button.isEnabled()
    assert review.message.text() == "Choose a case in the worklist or in the case list."
    assert page.timeline.title.text() == "No case"


def test_worklist_names_the_patient_and_the_case_as_the_app_does(qtbot: Any, services: Any) -> None:
    from tace_planner.ui.panels.worklist_panel import COLUMNS

    case_column = COLUMNS.index("Case")
    case = add_case(services.session_factory, "P8", baseline_on=D(2026, 3, 2))
    sign_tace(services.session_factory, case, D(2026, 3, 16))
    page, _ = _page(qtbot, services, _HeldTasks())
    table = page.worklist.table
    page.worklist.set_category("all")
    assert table.rowCount() > 0
    # "Test^P8" as people read it (the plan sheet's form), the case by its title alone
    assert table.item(0, 0).text() == "TEST, P8 [P8]"
    assert table.item(0, case_column).text() == "DEBIRI course"
    assert table.item(0, case_column).toolTip() == "Case “DEBIRI course” of TEST, P8 [P8]"


def test_choosing_a_case_puts_its_follow_up_imaging_in_its_schedule(
    qtbot: Any, services: Any
) -> None:
    factory = services.session_factory
    case = add_case(factory, "P9", baseline_on=D(2026, 3, 2))
    sign_tace(factory, case, D(2026, 3, 16))
    # the schedule was laid out before the follow-up CTs were linked by hand (the tour's
    # database): TACE 1 follow-up 1…3 open beside the real studies
    FollowupService(factory, "dr rad", clock=clock(TODAY)).sync_case(case)
    for number, on in enumerate(IMAGED, start=1):
        add_study(factory, "P9", f"1.2.P9.{number}", on, modality="CT")
        services.cases.link_study(
            case, f"1.2.P9.{number}", timepoint_label=f"follow-up {number}",
            timepoint_kind="follow_up",
        )  # fmt: skip
    page, case_list = _page(qtbot, services, _HeldTasks())
    worklist = page.worklist
    worklist.set_category("all")
    assert case_list.select_case(case)
    qtbot.waitUntil(lambda: worklist.items[0].label == "follow-up 1")
    rows = [(i.label, i.category) for i in worklist.items[:4]]
    assert rows == [("follow-up 1", "done"), ("follow-up 2", "done"), ("follow-up 3", "done"),
                    ("TACE 1 follow-up 4", "upcoming")]  # fmt: skip
    from PySide6.QtCore import Qt

    box = page.review.timepoints
    choices = [box.itemText(i) for i in range(box.count())]
    # each imaged visit is named by the schedule slot it was placed in
    assert choices[:4] == [f"TACE 1 follow-up {n}" for n in range(1, 5)]
    assert [worklist.items[n].visit_name for n in range(4)] == choices[:4]
    assert len(choices) == len(set(choices)) == 12  # 3 imaged + TACE 1 follow-up 4…12
    # only the imaged ones can be chosen; the others are greyed and say why
    enabled = [bool(box.model().item(i).isEnabled()) for i in range(box.count())]
    assert enabled == [True] * 3 + [False] * 9
    assert box.itemData(3, Qt.ItemDataRole.ToolTipRole).startswith(
        "Not yet due: due 2027-02-11, window opens"
    )
    assert page.review.chosen_label() == "follow-up 1"
    assert page.review.propose_button.isEnabled()
    assert min(t.due_on for t in page.timeline._data.due) == D(2027, 2, 11)


def test_the_timeline_draws_the_recist_sum_of_the_target_diameters(
    qtbot: Any, services: Any
) -> None:
    from sqlalchemy import update

    from tace_planner.store.models import LesionRow
    from tace_planner.ui.panels.timeline_panel import MEASURE_TITLES, TimelinePanel

    factory = services.session_factory
    case = add_case(factory, "P10", baseline_on=D(2026, 3, 2))
    add_study(factory, "P10", "1.2.P10.1", IMAGED[0])
    services.cases.link_study(
        case, "1.2.P10.1", timepoint_label="follow-up 1", timepoint_kind="follow_up"
    )
    for uid, f1, f2, f3 in (("1.2.P10.0", 50.0, 39.7, 20.0), ("1.2.P10.1", 40.0, 32.0, 10.0)):
        for name, diameter in (("F1", f1), ("F2", f2), ("F3", f3)):
            add_measurement(factory, case, uid, name, 5.0, diameter)
    with factory() as session:  # F3 is no target: not in the RECIST sum
        session.execute(update(LesionRow).where(LesionRow.name == "F3").values(is_target=False))
        session.commit()
    data = services.therapy.timeline(case)
    assert [p.sum_of_diameters_mm for p in data.points] == [pytest.approx(89.7), 72.0]
    panel = TimelinePanel()
    qtbot.addWidget(panel)
    panel.show_timeline(data)
    assert panel.diameters.titleLabel.text == MEASURE_TITLES[1]
    assert MEASURE_TITLES[1] == "Target lesions: sum of diameters (mm)"
    assert "target lesions: sum of diameters 72.0 mm" in panel.hover_text(IMAGED[0])
    with factory() as session:  # no target chosen: no sum of diameters at all
        session.execute(update(LesionRow).values(is_target=False))
        session.commit()
    data = services.therapy.timeline(case)
    assert [p.sum_of_diameters_mm for p in data.points] == [None, None]
    panel.show_timeline(data)
    notes = [i for i in panel.diameters.items if getattr(i, "toPlainText", None)]
    assert [n.toPlainText() for n in notes] == [
        "No target lesions chosen: mark them at the baseline (Lesions dock)"
    ]


def test_the_spider_plot_counts_days_from_the_first_tace_as_the_case_report(
    qtbot: Any, services: Any
) -> None:
    from tace_planner.services.export.records import gather_case
    from tace_planner.ui.panels.spider_plot import SpiderPlot

    factory = services.session_factory
    case = add_case(factory, "P11", baseline_on=D(2026, 3, 2))
    sign_tace(factory, case, D(2026, 3, 16))
    add_study(factory, "P11", "1.2.P11.1", IMAGED[0])
    services.cases.link_study(
        case, "1.2.P11.1", timepoint_label="follow-up 1", timepoint_kind="follow_up"
    )
    for uid in ("1.2.P11.0", "1.2.P11.1"):
        add_measurement(factory, case, uid, "F1", 5.0, 40.0)
    course = services.propagation.course(case)
    assert course.days == (-14, 56)  # follow-up 1 on day 56, as in the case report
    assert course.day_zero == "first TACE"
    record = gather_case(services, case)
    assert (record.anchor_on, record.anchor) == (course.day_zero_on, course.day_zero)
    plot = SpiderPlot()
    qtbot.addWidget(plot)
    drawn = CaseCourse(
        case, course.timepoints, course.days,
        (LesionCourse(1, "F1", (40.0, 30.0), (5.0, 3.0), (0.0, -25.0), (0.0, -40.0)),),
        course.day_zero, course.day_zero_on,
    )  # fmt: skip
    plot.show_course(drawn)
    assert plot.plot.getAxis("bottom").labelText == "Days from day 0: the first TACE"
    assert list(plot.lines["F1"].getData()[0]) == [-14, 56]
