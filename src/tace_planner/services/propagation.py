"""Follow-up contours proposed from the baseline: register, carry, contour again, confirm.

:meth:`PropagationService.propose` registers the follow-up CT of a timepoint to the
baseline CT the lesions were contoured on
(:func:`~tace_planner.imaging.registration.register_follow_up`), then proposes each
baseline focus at the follow-up (:func:`~tace_planner.imaging.propagation.propagate_lesion`).
Nothing is stored: the user confirms or corrects each proposal, and
:meth:`PropagationService.confirm` stores the confirmed ones as the lesions' contours at
that timepoint, measured, in one unit of work
(:meth:`~tace_planner.services.contouring.ContouringService.write_contours`). A lesion keeps
its identity: the follow-up contour is a second mask of the same lesion. A focus proposed
as not found is stored as an empty contour (no measurement: disappeared).

A failed registration is said, with its quality, and no contour is proposed.

The contours already stored at a follow-up are read for the side-by-side review by
:meth:`PropagationService.stored_review` (a :class:`StoredReview`, not registered) and
:meth:`PropagationService.stored_versions` (whether they changed since they were shown);
the functions behind them are in :mod:`tace_planner.services.stored_review`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as replace_fields
from types import SimpleNamespace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.domain.progress import Progress, Task, run_sync
from tace_planner.domain.response.day_zero import BASELINE_IMAGING, day_zero, days_from
from tace_planner.domain.response.recist import TargetMeasurement, sum_of_diameters_mm
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.registration import RegistrationResult
from tace_planner.services.contour_records import natural
from tace_planner.services.contouring import ContouringService, ContourWrite
from tace_planner.services.contouring_dto import (
    METHOD_WORDS,
    LesionItem,
    LesionMask,
    SegmentationItem,
    TimepointChoice,
)
from tace_planner.services.mask_store import NEW
from tace_planner.services.stored_review import (
    StoredReview,
    stored_contour_versions,
    stored_review_task,
)
from tace_planner.services.visit_lookup import case_visits, listed, visit_matches
from tace_planner.store.models import SeriesRow, StudyRow

__all__ = [
    "BestChange",
    "CaseCourse",
    "FollowUpTimepoint",
    "LesionCourse",
    "LesionProposalItem",
    "PropagationItem",
    "PropagationService",
    "StoredReview",
    "propagation_service",
    "stored_contour_versions",
    "stored_review_task",
]


@dataclass(frozen=True, slots=True)
class FollowUpTimepoint(TimepointChoice):
    """A timepoint of a case, and whether its contours can be proposed from the baseline.

    Proposing registers the timepoint's CT to the baseline CT, so it needs a CT series read
    as one volume. ``proposal_note`` says why proposing cannot start ("" when it can, and
    for the baseline), e.g. "has imaging (MR only) but no CT series to register to the
    baseline — link its CT study first". Such a timepoint stays choosable for viewing,
    contouring by hand (a radiologist may measure on MRI) and assessing: only the
    automatic proposal is refused.
    """

    proposal_note: str = ""

    @property
    def can_propose(self) -> bool:
        """True when its contours can be proposed from the baseline."""
        return not self.proposal_note

    @property
    def proposal_refusal(self) -> str:
        """The note as one sentence naming the timepoint by its visit name ("" when
        proposing can start)."""
        return f"{self.name or self.label} {self.proposal_note}" if self.proposal_note else ""


@dataclass(frozen=True, slots=True)
class _Imaged:
    """One series of a timepoint's studies, as far as registering it goes."""

    series_uid: str
    modality: str
    phase: str
    registrable: bool
    """A CT series read as one volume (a series of several volumes is opened by part)."""


def _imaging(session: Session, timepoint_pks: Sequence[int]) -> dict[int, list[_Imaged]]:
    """The series of the studies of each timepoint (series number order)."""
    rows = session.execute(
        select(
            StudyRow.timepoint_pk,
            SeriesRow.series_uid,
            SeriesRow.modality,
            SeriesRow.phase,
            SeriesRow.is_volume,
            SeriesRow.geometry_report,
        )
        .select_from(SeriesRow)
        .join(StudyRow, SeriesRow.study_pk == StudyRow.id)
        .where(StudyRow.timepoint_pk.in_(list(timepoint_pks)))
        .order_by(SeriesRow.series_number, SeriesRow.id)
    ).all()
    out: dict[int, list[_Imaged]] = {}
    for timepoint_pk, uid, modality, phase, is_volume, report in rows:
        parts = (report or {}).get("parts") or ()
        registrable = modality == "CT" and bool(is_volume) and len(parts) <= 1
        out.setdefault(timepoint_pk, []).append(_Imaged(uid, modality, phase, registrable))
    return out


def _proposal_note(imaged_on: dt.date | None, series: Sequence[_Imaged]) -> str:
    """Why contours cannot be proposed at a follow-up holding ``series`` ("" when they can):
    it needs a CT series read as one volume to register to the baseline."""
    if any(s.registrable for s in series):
        return ""
    if not series and imaged_on is None:
        return "has no CT series to register to the baseline (no images yet: link its study first)"
    if any(s.modality == "CT" for s in series):
        return (
            "has CT images but no CT series read as one volume to register to the baseline — "
            "link a CT study whose series form a volume first"
        )
    others = sorted({s.modality for s in series if s.modality})
    if others:
        return (
            f"has imaging ({', '.join(others)} only) but no CT series to register to the "
            "baseline — link its CT study first"
        )
    return "has no CT series to register to the baseline — link its CT study first"


@dataclass(frozen=True, eq=False)
class LesionProposalItem:
    """One lesion's proposed contour at a follow-up (not stored until confirmed)."""

    lesion_pk: int
    name: str
    found: bool
    mask: npt.NDArray[np.bool_]
    point_lps: tuple[float, float, float]
    volume_cm3: float
    baseline_volume_cm3: float | None
    longest_axial_diameter_mm: float
    messages: tuple[str, ...] = ()
    stored: SegmentationItem | None = None
    """The lesion's contour already stored at the follow-up when this was proposed (None:
    none). Confirming replaces it only when asked to (see :meth:`PropagationService.confirm`)."""

    @property
    def status(self) -> str:
        """ "found" or "not found" (proposed as disappeared, 0 mm)."""
        return "found" if self.found else "not found"

    @property
    def stored_text(self) -> str:
        """The stored contour in words ("" when none): how it was made, by whom, when."""
        seg = self.stored
        if seg is None:
            return ""
        how = METHOD_WORDS.get(seg.method, seg.method)
        if seg.is_empty:
            how = "stored as disappeared"
        details = [how]
        if seg.updated_by:
            details.append(seg.updated_by)
        if seg.updated_at is not None:
            details.append(f"{seg.updated_at:%Y-%m-%d %H:%M}")
        return "stored contour: " + ", ".join(details)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values (the mask is left out)."""
        return {
            "lesion_pk": self.lesion_pk,
            "name": self.name,
            "status": self.status,
            "point_lps_mm": [round(v, 2) for v in self.point_lps],
            "volume_cm3": round(self.volume_cm3, 3),
            "baseline_volume_cm3": (
                None if self.baseline_volume_cm3 is None else round(self.baseline_volume_cm3, 3)
            ),
            "longest_axial_diameter_mm": round(self.longest_axial_diameter_mm, 1),
            "messages": list(self.messages),
            "stored_contour": None
            if self.stored is None
            else {
                "method": self.stored.method,
                "empty": self.stored.is_empty,
                "version": self.stored.version,
                "updated_by": self.stored.updated_by,
                "updated_at": None
                if self.stored.updated_at is None
                else self.stored.updated_at.isoformat(timespec="seconds"),
            },
        }


@dataclass(frozen=True, eq=False)
class PropagationItem:
    """The proposals for one follow-up timepoint, with the registration behind them."""

    case_pk: int
    baseline: TimepointChoice
    follow_up: TimepointChoice
    baseline_series_uid: str
    follow_up_series_uid: str
    registration: RegistrationResult
    proposals: tuple[LesionProposalItem, ...] = ()
    confirmed: tuple[str, ...] = field(default=())
    kept: tuple[str, ...] = field(default=())
    """Lesions whose stored follow-up contour was kept (not replaced) on confirmation."""
    seconds_per_lesion: float | None = None
    baseline_image: ImageVolume | None = None
    """The baseline volume and contours, for the side-by-side review (not in JSON)."""
    follow_up_image: ImageVolume | None = None
    baseline_masks: tuple[tuple[str, npt.NDArray[np.bool_]], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "case_pk": self.case_pk,
            "baseline": self.baseline.label,
            "timepoint": self.follow_up.label,
            "baseline_series_uid": self.baseline_series_uid,
            "follow_up_series_uid": self.follow_up_series_uid,
            "registration": self.registration.to_json(),
            "proposals": [p.to_json() for p in self.proposals],
            "confirmed": list(self.confirmed),
            "kept": list(self.kept),
        }


@dataclass(frozen=True, slots=True)
class LesionCourse:
    """One focus over a case's timepoints: its measured values and change from baseline.

    Lists run parallel to :attr:`CaseCourse.timepoints`; None where the lesion was not
    contoured (or not measurable) at that timepoint, 0 where its contour is empty
    (disappeared). ``diameter_change_percent`` is 100 (d / d_baseline - 1).
    """

    lesion_pk: int
    name: str
    diameters_mm: tuple[float | None, ...]
    volumes_cm3: tuple[float | None, ...]
    diameter_change_percent: tuple[float | None, ...]
    volume_change_percent: tuple[float | None, ...]
    is_target: bool = False
    """A RECIST 1.1 target lesion (chosen at baseline)."""


@dataclass(frozen=True, slots=True)
class CaseCourse:
    """The foci of a case over its imaged timepoints (for the review table and spider plot)."""

    case_pk: int
    timepoints: tuple[TimepointChoice, ...]
    days: tuple[int | None, ...]
    """Days from day 0 (:attr:`day_zero`) to each timepoint's imaging."""
    lesions: tuple[LesionCourse, ...]
    day_zero: str = BASELINE_IMAGING
    """What day 0 is: the first TACE, as in the case report (see
    :func:`~tace_planner.domain.response.day_zero.day_zero`)."""
    day_zero_on: dt.date | None = None

    @property
    def sums_of_diameters_mm(self) -> tuple[float | None, ...]:
        """The RECIST 1.1 sum of the target diameters at each timepoint (None without
        targets, or where a target has no value; see
        :func:`~tace_planner.domain.response.recist.sum_of_diameters_mm`)."""
        targets = [lesion for lesion in self.lesions if lesion.is_target]
        names = [lesion.name for lesion in targets]
        return tuple(
            sum_of_diameters_mm(
                [TargetMeasurement(t.name, t.diameters_mm[n]) for t in targets], names
            )
            for n in range(len(self.timepoints))
        )


@dataclass(frozen=True, slots=True)
class BestChange:
    """A case's best (lowest) change from baseline over its follow-ups, for the waterfall.

    ``diameter_sum_percent``: the RECIST 1.1 sum of the target-lesion diameters
    (Eisenhauer et al., Eur J Cancer 2009), the sum the RECIST guide lines apply to; a
    follow-up counts only when every target has a value there (0 when it disappeared);
    None without targets. ``volume_percent``: the total volume of the foci measured at
    baseline, a follow-up counting only when each of them has a value there. None: no
    such follow-up.
    """

    case_pk: int
    label: str
    diameter_sum_percent: float | None
    volume_percent: float | None


def best_change(course: CaseCourse, label: str = "") -> BestChange:
    """The best change of the target sum of diameters and of the total volume."""
    volumes = [lesion.volumes_cm3 for lesion in course.lesions]
    measured = [column for column in volumes if column and column[0]]
    totals: list[float | None] = [
        math.fsum(c[n] or 0.0 for c in measured)
        if measured and all(c[n] is not None for c in measured)
        else None
        for n in range(len(course.timepoints))
    ]
    return BestChange(
        course.case_pk,
        label,
        _best(course.sums_of_diameters_mm),
        _best(totals),
    )


def _best(values: Sequence[float | None]) -> float | None:
    """The lowest change from the first value over the later ones (None: none known)."""
    first = values[0] if values else None
    if not first:
        return None
    changes = [100.0 * (value / first - 1.0) for value in values[1:] if value is not None]
    return min(changes) if changes else None


def _change(values: Sequence[float | None]) -> tuple[float | None, ...]:
    first = values[0] if values else None
    if not first:
        return tuple(None for _ in values)
    return tuple(None if v is None else 100.0 * (v / first - 1.0) for v in values)


class PropagationService:
    """Propose follow-up contours from the baseline, and store the confirmed ones.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions (read only here: writes go through ``contouring``).
    contouring : ContouringService
        Volumes, lesions, masks and the one-transaction contour writes.
    """

    def __init__(self, session_factory: sessionmaker[Session], contouring: ContouringService):
        self._sessions = session_factory
        self._contouring = contouring

    # -- finding what to register -------------------------------------------------------

    def timepoint(self, case_pk: int, label: str) -> TimepointChoice:
        """A case's timepoint as a user types it, in this order
        (:func:`~tace_planner.services.visit_lookup.visit_matches`): its stored label
        ("follow-up 2"), its visit name ("TACE 1 follow-up 1", as the worklist shows it),
        its id. Case and spacing do not matter.

        Raises
        ------
        NotFoundError
            No such timepoint, or several (the message lists the case's timepoints by
            name, the label in brackets when it differs).
        """
        choices = self._contouring.lesions.timepoints(case_pk)
        visits = case_visits(self._sessions, case_pk, choices)
        found = visit_matches(label, visits)
        if len(found) == 1:
            return next(c for c in choices if c.pk == found[0].pk)
        named = f"names {len(found)} timepoints of" if found else "is not in"
        raise NotFoundError(
            f"timepoint {label!r} {named} case {case_pk} "
            f"(timepoints: {listed(found or visits, with_ids=bool(found))})"
        )

    def best_changes(self, case_pks: Sequence[int]) -> list[BestChange]:
        """Each case's best change from baseline (sum of diameters, volume), for the waterfall."""
        return [best_change(self.course(pk), str(pk)) for pk in case_pks]

    def timepoints(self, case_pk: int) -> list[FollowUpTimepoint]:
        """The case's timepoints, baseline first, each saying whether its contours can be
        proposed from the baseline (:attr:`FollowUpTimepoint.proposal_note`)."""
        choices = self._contouring.lesions.timepoints(case_pk)
        with self._sessions() as session:
            imaging = _imaging(session, [c.pk for c in choices])
        return [
            FollowUpTimepoint(
                c.pk,
                c.label,
                c.kind,
                c.imaged_on,
                "" if c.kind == "baseline" else _proposal_note(c.imaged_on, imaging.get(c.pk, [])),
                name=c.name,
            )
            for c in choices
        ]

    def _stored(self, case_pk: int) -> list[tuple[LesionItem, SegmentationItem]]:
        """The case's segmentations (metadata only: no mask is decoded)."""
        return self._contouring.masks.segmentations_of_case(case_pk)

    def _liver(
        self,
        stored: Sequence[tuple[LesionItem, SegmentationItem]],
        series_uid: str,
        part: str | None,
        shape: tuple[int, int, int],
    ) -> npt.NDArray[np.bool_] | None:
        """The liver contour drawn on this series part (decoded), or None."""
        for lesion, segmentation in stored:
            if (
                lesion.is_liver
                and segmentation.series_uid == series_uid
                and segmentation.part == part
                and tuple(segmentation.shape_zyx) == tuple(shape)
                and not segmentation.is_empty
            ):
                loaded = self._contouring.load_mask(lesion.pk, segmentation.timepoint_pk)
                return None if loaded is None else loaded.mask
        return None

    def _follow_up_series(self, timepoint: TimepointChoice, phase: str) -> str:
        """The follow-up CT to register: the baseline's phase first, then any CT volume.

        Raises
        ------
        InvalidInputError
            The timepoint holds no CT series read as one volume (none linked, MR only, or
            CT series that do not form a volume); the message says which and what to do.
        """
        with self._sessions() as session:
            series = _imaging(session, [timepoint.pk]).get(timepoint.pk, [])
        rows = [(s.series_uid, s.phase) for s in series if s.registrable]
        if not rows:
            note = _proposal_note(timepoint.imaged_on, series)
            raise InvalidInputError("timepoint", f"{timepoint.name or timepoint.label} {note}")
        same = [uid for uid, p in rows if p == phase]
        return (same or [uid for uid, _ in rows])[0]

    def _phase(self, series_uid: str) -> str:
        with self._sessions() as session:
            phase = session.scalar(
                select(SeriesRow.phase).where(SeriesRow.series_uid == series_uid)
            )
        return phase or ""

    # -- the use cases --------------------------------------------------------------------

    def course(self, case_pk: int) -> CaseCourse:
        """Each focus's longest axial diameter and volume at every contoured timepoint.

        The change is from the baseline value (RECIST 1.1 per-lesion change, Eisenhauer
        et al., European Journal of Cancer 2009); an empty follow-up contour counts as
        0 mm and 0 cm³ (disappeared). Days count from the first TACE, as in the case
        report (:meth:`day_zero`).
        """
        choices = self._contouring.lesions.timepoints(case_pk)
        # Metadata only: the spider plot needs no mask (an empty one has an empty box).
        stored = [
            SimpleNamespace(lesion=lesion, segmentation=segmentation)
            for lesion, segmentation in self._contouring.masks.segmentations_of_case(case_pk)
        ]
        contoured = {m.segmentation.timepoint_pk for m in stored}
        points = [c for c in choices if c.pk in contoured or c.kind == "baseline"]
        empty = {(m.lesion.pk, m.segmentation.timepoint_pk) for m in stored
                 if m.segmentation.is_empty}  # fmt: skip
        values: dict[int, dict[int, tuple[float | None, float | None]]] = {}
        names: dict[int, str] = {}
        for point in points:
            measured = self._contouring.measurements(case_pk=case_pk, timepoint=point.pk)
            for lesion in measured.foci:
                names[lesion.lesion_pk] = lesion.name
                values.setdefault(lesion.lesion_pk, {})[point.pk] = (
                    lesion.longest_axial_diameter_mm,
                    lesion.volume_cm3,
                )
        for lesion_pk, timepoint_pk in empty:
            values.setdefault(lesion_pk, {})[timepoint_pk] = (0.0, 0.0)
        targets = set()
        for m in stored:
            names.setdefault(m.lesion.pk, m.lesion.name)
            if m.lesion.is_target:
                targets.add(m.lesion.pk)
        lesions = []
        for lesion_pk, by_point in sorted(values.items(), key=lambda kv: names[kv[0]]):
            if any(m.lesion.pk == lesion_pk and m.lesion.is_liver for m in stored):
                continue
            diameters = tuple(by_point.get(p.pk, (None, None))[0] for p in points)
            volumes = tuple(by_point.get(p.pk, (None, None))[1] for p in points)
            lesions.append(
                LesionCourse(
                    lesion_pk,
                    names[lesion_pk],
                    diameters,
                    volumes,
                    _change(diameters),
                    _change(volumes),
                    lesion_pk in targets,
                )
            )
        origin, what = self.day_zero(case_pk, points[0].imaged_on if points else None)
        days = tuple(days_from(origin, p.imaged_on) for p in points)
        return CaseCourse(case_pk, tuple(points), days, tuple(lesions), what, origin)

    def day_zero(self, case_pk: int, baseline_on: dt.date | None) -> tuple[dt.date | None, str]:
        """Day 0 of the case, as the case report counts it: the first TACE performed (then
        the planned TACE, then the baseline imaging)."""
        from tace_planner.services.planning_records import signed_procedures
        from tace_planner.store.models import CaseRow

        with self._sessions() as session:
            performed = [r.performed_on for _, r in signed_procedures(session, case_pk)]
            case = session.get(CaseRow, case_pk)
            planned = case.planned_tace_on if case is not None else None
        return day_zero(performed, planned, baseline_on)

    def stored_review(
        self, case_pk: int, baseline_pk: int, follow_up: TimepointChoice
    ) -> Task[StoredReview | None]:
        """The contours stored at the baseline and at ``follow_up``, with their CTs (a task;
        :func:`~tace_planner.services.stored_review.stored_review_task`)."""
        return stored_review_task(self._contouring, case_pk, baseline_pk, follow_up)

    def stored_versions(self, case_pk: int) -> frozenset[tuple[Any, ...]]:
        """What :meth:`stored_review` reads, cheaply (masks not decoded): equal before and
        after means nothing to read again."""
        return stored_contour_versions(self._contouring, case_pk)

    def propose(
        self, case_pk: int, timepoint: str, *, lesions: Sequence[str] | None = None
    ) -> PropagationItem:
        """Register the timepoint's CT to the baseline and propose each baseline focus there.

        :meth:`propose_task` run to its end on the calling thread (the CLI, the tests).

        Raises
        ------
        NotFoundError
            No such case timepoint.
        InvalidInputError
            The timepoint is the baseline, the baseline has no contoured focus, or the
            follow-up has no CT.
        """
        return run_sync(self.propose_task(case_pk, timepoint, lesions=lesions))

    def propose_task(
        self,
        case_pk: int,
        timepoint: str,
        *,
        lesions: Sequence[str] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Task[PropagationItem]:
        """:meth:`propose` as a task: one progress step per volume read, for the
        registration and per focus proposed; closing it between steps cancels (nothing is
        stored either way). ``cancelled`` (the driver's cancel flag, asked from the task's
        thread) is also asked at each iteration of the registration, the one long step:
        once it says yes the registration stops within about a second and the item
        returned proposes nothing (its registration's kind ``"cancelled"``, not ok)."""
        import time

        from tace_planner.imaging.propagation import propagate_lesion
        from tace_planner.imaging.registration import register_follow_up

        follow_up = self.timepoint(case_pk, timepoint)
        choices = self._contouring.lesions.timepoints(case_pk)
        baseline = next((c for c in choices if c.kind == "baseline"), None)
        if baseline is None:
            raise InvalidInputError("case", f"case {case_pk} has no baseline timepoint")
        if follow_up.pk == baseline.pk:
            raise InvalidInputError("timepoint", f"{follow_up.label!r} is the baseline itself")
        # Metadata first: only the foci carried over and the two livers are decoded.
        stored = self._stored(case_pk)
        chosen = [
            (lesion, segmentation)
            for lesion, segmentation in stored
            if segmentation.timepoint_pk == baseline.pk
            and not segmentation.is_empty
            and not lesion.is_liver
        ]
        if lesions is not None:
            wanted = {n.casefold() for n in lesions}
            chosen = [(le, seg) for le, seg in chosen if le.name.casefold() in wanted]
        if not chosen:
            raise InvalidInputError(
                "baseline", "no contoured focus at the baseline to carry to the follow-up"
            )
        total = 4 + len(chosen)
        yield Progress(0, total, "Reading the baseline contours")
        # The baseline series: the one most foci were contoured on.
        series = [seg.series_uid for _, seg in chosen]
        baseline_uid = max(set(series), key=series.count)
        part = next(seg.part for _, seg in chosen if seg.series_uid == baseline_uid)
        # a follow-up without a CT volume is refused before any mask is decoded
        follow_up_uid = self._follow_up_series(follow_up, self._phase(baseline_uid))
        foci = [
            loaded
            for lesion, seg in sorted(chosen, key=lambda pair: natural(pair[0].name))
            if seg.series_uid == baseline_uid
            and (loaded := self._contouring.load_mask(lesion.pk, baseline.pk)) is not None
        ]
        yield Progress(1, total, "Reading the baseline CT")
        base_volume = self._contouring.volume(baseline_uid, part)
        yield Progress(2, total, f"Reading the {follow_up.name or follow_up.label} CT")
        follow_volume = self._contouring.volume(follow_up_uid)
        base_liver = self._liver(stored, baseline_uid, part, base_volume.shape)
        follow_liver = self._liver(stored, follow_up_uid, None, follow_volume.shape)
        yield Progress(3, total, f"Registering {follow_up.name or follow_up.label} to the baseline")
        registration = register_follow_up(
            base_volume, follow_volume, baseline_liver=base_liver, follow_up_liver=follow_liver,
            should_stop=cancelled,
        )  # fmt: skip
        images = {
            "baseline_image": base_volume,
            "follow_up_image": follow_volume,
            "baseline_masks": tuple((m.lesion.name, m.mask) for m in foci),
        }
        item = PropagationItem(
            case_pk, baseline, follow_up, baseline_uid, follow_up_uid, registration, **images
        )
        if not registration.ok:
            return item
        guard = follow_liver
        if guard is None and base_liver is not None:
            from tace_planner.imaging.registration import carry_mask_registered

            guard = carry_mask_registered(
                base_liver, base_volume.index_to_lps, registration.baseline_to_follow_up,
                follow_volume,
            )  # fmt: skip
        at_follow_up = {
            lesion.pk: seg for lesion, seg in stored if seg.timepoint_pk == follow_up.pk
        }
        proposals = []
        started = time.perf_counter()
        for n, focus in enumerate(foci, start=1):
            yield Progress(3 + n, total, f"Proposing {focus.lesion.name} ({n} of {len(foci)})")
            proposal = propagate_lesion(
                focus.lesion.name,
                focus.mask,
                base_volume,
                registration.baseline_to_follow_up,
                follow_volume,
                follow_up_liver=guard,
            )
            stored_there = at_follow_up.get(focus.lesion.pk)
            proposals.append(_item(focus, proposal, follow_volume, base_volume, stored_there))
        seconds = (time.perf_counter() - started) / len(foci)
        return PropagationItem(
            case_pk, baseline, follow_up, baseline_uid, follow_up_uid, registration,
            tuple(proposals), seconds_per_lesion=seconds, **images,
        )  # fmt: skip

    def confirm(
        self,
        item: PropagationItem,
        names: Sequence[str] | None = None,
        *,
        replace: Sequence[str] | bool = False,
    ) -> PropagationItem:
        """Store the confirmed proposals (all, or those named) as the follow-up contours.

        One unit of work for all of them, each measured; a proposal "not found" is
        stored as an empty contour (disappeared). A lesion that already had a contour
        at the follow-up when it was proposed (perhaps corrected by hand) keeps it unless
        ``replace`` names it (or is True): such lesions are listed in the result's
        ``kept``. A contour someone saved at that timepoint after the proposal is not
        overwritten (ConcurrentEditError).

        Raises
        ------
        InvalidInputError
            The registration failed (nothing to confirm), or a name is not proposed.
        ConcurrentEditError
            A contour was saved at the follow-up after the proposal was made.
        """
        if not item.registration.ok:
            raise InvalidInputError("registration", item.registration.message)
        chosen = list(item.proposals)
        if names is not None:
            by_name = {p.name.casefold(): p for p in item.proposals}
            unknown = [n for n in names if n.casefold() not in by_name]
            if unknown:
                raise InvalidInputError("lesion", f"{unknown[0]!r} has no proposal")
            chosen = [by_name[n.casefold()] for n in names]
        if isinstance(replace, bool):
            replaced = {p.name.casefold() for p in chosen} if replace else set()
        else:
            replaced = {n.casefold() for n in replace}
        kept = [
            p.name for p in chosen if p.stored is not None and p.name.casefold() not in replaced
        ]
        chosen = [p for p in chosen if p.name not in kept]
        writes = []
        for proposal in chosen:
            # the version seen when proposing: a contour saved since then is not overwritten
            version = NEW if proposal.stored is None else proposal.stored.version
            writes.append(
                ContourWrite(proposal.name, "focus", proposal.mask, "auto", None, version)
            )
        results = []
        if writes:
            results = self._contouring.write_contours(
                item.case_pk, item.follow_up.pk, item.follow_up_series_uid, None, writes
            )
        # the proposals now know what is stored (a second confirmation asks to replace it)
        now = {r.lesion.name: r.segmentation for r in results}
        proposals = tuple(
            replace_fields(p, stored=now[p.name]) if p.name in now else p for p in item.proposals
        )
        return PropagationItem(
            item.case_pk, item.baseline, item.follow_up, item.baseline_series_uid,
            item.follow_up_series_uid, item.registration, proposals,
            tuple(p.name for p in chosen), tuple(kept), item.seconds_per_lesion,
            item.baseline_image, item.follow_up_image, item.baseline_masks,
        )  # fmt: skip


def _item(
    focus: LesionMask,
    proposal: Any,
    follow_volume: Any,
    base_volume: Any,
    stored: SegmentationItem | None = None,
) -> LesionProposalItem:
    from tace_planner.domain.measurements import measure_axial_diameters

    diameter = (
        measure_axial_diameters(proposal.mask, follow_volume).long_axis_mm
        if proposal.found
        else 0.0
    )
    baseline_cm3 = int(focus.mask.sum()) * base_volume.voxel_volume_cm3
    return LesionProposalItem(
        focus.lesion.pk,
        focus.lesion.name,
        proposal.found,
        proposal.mask,
        proposal.point_lps,
        proposal.volume_cm3,
        baseline_cm3,
        float(diameter or 0.0),
        proposal.messages,
        stored,
    )


class _HasServices(Protocol):
    @property
    def session_factory(self) -> sessionmaker[Session]: ...

    @property
    def contouring(self) -> ContouringService: ...


def propagation_service(services: _HasServices) -> PropagationService:
    """The propagation service of a :class:`~tace_planner.services.bootstrap.Services`."""
    return PropagationService(services.session_factory, services.contouring)
