"""What the PDF case report shows, gathered without Qt: the record, a key image per
timepoint (the slice through the largest focus, contoured), the latest plan's sessions,
and the case timeline (therapy lines, TACEs with delivered dose, imaging, response labels,
total volume and sum of diameters).

The rendering is :func:`tace_planner.ui.case_report.render_case_report_pdf`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tace_planner.domain.errors import TacePlannerError
from tace_planner.services.export.record import CaseRecord, day_of
from tace_planner.services.followup_dto import TimelineData
from tace_planner.services.plan_key_image import build_key_image
from tace_planner.services.visit_names import name_of


@dataclass(frozen=True)
class CaseReport:
    """A case report's content (visits named as the worklist names them, or by their
    visit "follow-up k" when de-identified): ``key_images`` are (visit, KeyImage);
    ``plan`` is (status, version, session rows as dicts) of the newest plan, or None;
    ``timeline`` is the case's :class:`~tace_planner.services.followup_dto.TimelineData`
    (drawn against days from the record's day 0, never dates), or None;
    ``product_names`` maps a bead product's code (what the records keep) to the
    catalogue's name (what the report prints); ``responses`` are the case's current
    stored response assessments (``StoredAssessment``), one per assessed follow-up."""

    record: CaseRecord
    case_number: int
    key_images: tuple[tuple[str, Any], ...]
    plan: tuple[str, int, tuple[dict[str, Any], ...]] | None
    notes: tuple[str, ...] = ()
    timeline: TimelineData | None = None
    product_names: Mapping[str, str] = field(default_factory=dict)
    responses: tuple[Any, ...] = ()

    def product_name(self, code: str | None) -> str | None:
        """The catalogue's name of a product code (the code itself when not listed)."""
        return self.product_names.get(code, code) if code else code


def _visit_names(services: Any, case_pk: int) -> dict[int, str]:
    """Timepoint id → visit name of a case's follow-ups, as the worklist and the Follow-up
    box name them (:mod:`tace_planner.services.visit_names`); empty when the follow-ups
    cannot be read (the labels are printed then)."""
    try:
        choices = services.followups.follow_up_choices(case_pk)
    except TacePlannerError:
        return {}
    return {c.pk: name_of(c) for c in choices}


def named_record(record: CaseRecord, names: Mapping[int, str]) -> CaseRecord:
    """The report's copy of ``record``: each lesion row's ``timepoint`` is its visit name
    (``names``: timepoint id → name). De-identified records keep their visit ("follow-up
    k", numbered by imaging order), and the exports' records are not touched."""
    if record.deidentified or not names:
        return record
    lesions = [
        {**row, "timepoint": names.get(row["_timepoint_pk"], row["timepoint"])}
        for row in record.lesions
    ]
    return replace(record, lesions=lesions)


def build_case_report(services: Any, record: CaseRecord, case_number: int) -> CaseReport:
    """The report of one gathered record (key images need the stored images); a visit
    placed in a schedule slot reads by the slot's name ("TACE 1 follow-up 1"), as in the
    worklist, unless the record is de-identified."""
    by_pk = {} if record.deidentified else _visit_names(services, record.case_pk)
    record = named_record(record, by_pk)
    notes = []
    images = []
    seen: set[int] = set()
    for row in record.lesions:
        timepoint_pk = row["_timepoint_pk"]
        if timepoint_pk in seen:
            continue
        seen.add(timepoint_pk)
        try:
            key = build_key_image(
                services.session_factory,
                record.case_pk,
                services.studies.load_series,
                timepoint_pk=timepoint_pk,
                # de-identified: lesion codes, and the visit, not a label that may hold a date
                names=dict(record.lesion_codes),
                timepoint_text=row["timepoint"][:1].upper() + row["timepoint"][1:],
            )
        except TacePlannerError as error:
            notes.append(f"{row['timepoint']}: no key image ({error})")
            continue
        if key is not None:
            label = row["timepoint"]
            day = day_of(record, row["imaged_on"])
            images.append((label if day is None else f"{label}, day {day}", key))
    plans = services.planning.list_plans(record.case_pk)
    plan = None
    if plans:
        newest = max(plans, key=lambda p: (p.status == "approved", p.plan_version))
        sessions = tuple(
            {
                "session": s.number,
                "territory": s.territory_label,
                "beads_ml": s.beads_ml,
                "vials": s.vials,
                "irinotecan_mg": s.irinotecan_loaded_mg,
            }
            for s in newest.sessions
        )
        plan = (newest.status, newest.plan_version, sessions)
    try:
        timeline = services.therapy.timeline(record.case_pk)  # its points carry their names
        if record.deidentified:  # a drug's name is free text: the lane says "Line k"
            timeline = replace(timeline, lines=tuple(replace(t, drug="") for t in timeline.lines))
        else:  # the report's copy reads by visit name, as its lesion rows do
            points = tuple(replace(p, label=p.name or p.label) for p in timeline.points)
            timeline = replace(timeline, points=points)
    except TacePlannerError as error:
        timeline = None
        notes.append(f"case {case_number}: no timeline ({error})")
    try:
        names = {p.code: p.name for p in services.planning.catalogue.products}
    except TacePlannerError:
        names = {}
    try:
        responses = tuple(
            replace(item, timepoint=by_pk.get(item.timepoint_pk, item.timepoint))
            for item in services.assessments.stored(record.case_pk)
        )
    except TacePlannerError as error:
        responses = ()
        notes.append(f"case {case_number}: no response assessments ({error})")
    return CaseReport(
        record,
        case_number,
        tuple(images),
        plan,
        tuple(notes),
        timeline,
        product_names=names,
        responses=responses,
    )
