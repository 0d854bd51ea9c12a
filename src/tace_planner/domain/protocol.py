"""Check baseline imaging against the study protocol (pure: plain values in, a verdict out).

The source study's baseline imaging (Zvezdkina et al., J Clin Pract 2022):

- CT with native, arterial, portal venous and delayed phases, slices ≤ 2.5 mm;
- MRI at ≥ 1.5 T with T2 axial and coronal, T1 axial, DWI and its ADC map;
- imaging at most 28 days before the TACE (RECIST 1.1: baseline ≤ 4 weeks before treatment).

:func:`check_protocol` turns the series of one study, or of every baseline study of a
case, into one :class:`RequirementResult` per item, each with a status ("pass",
"fail", "not_evaluated"; :data:`STATUS_WORDS` says them for people), a reason naming the
series (by description, number and phase or sequence, never by UID) and values that
decided, and the UIDs of those series (for programs, not for reading).

The date of a series' exam is its **study date** (0008,0020): the date the tree, the view
title and the banner show. The series date (0008,0021) may differ: a series reconstructed
or re-sent later carries the later date, and files built from a template keep the
template's (the pydicom example CT says 2004-01-19 for the study and 1997-04-30 for the
series). The acquisition date (0008,0022) would be the exam's day too when it lies within
the study's day, but then it equals the study date and adds nothing (and the index does
not keep it). So the series date is
used only when no study date is recorded, and every verdict says which date it used
(:attr:`ProtocolSeries.exam_on`). The limits come from a versioned parameter file
(``resources/parameters/imaging_protocol.json``) parsed by
:meth:`ProtocolParameters.from_dict`; reading the file is the service's job.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.parameters_file import read_parameter_file

Status = Literal["pass", "fail", "not_evaluated"]

GAUSS_PER_TESLA = 10_000.0

_PHASE_NAMES = {
    "native": "native",
    "arterial": "arterial",
    "venous": "portal venous",
    "delayed": "delayed",
}
_SEQUENCE_NAMES = {"t1": "T1", "t2": "T2", "dwi": "DWI", "adc": "ADC map", "other": "other"}


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


_PROTOCOL_VALUES = (
    "required_modalities",
    "required_ct_phases",
    "max_slice_thickness_mm",
    "max_slice_interval_mm",
    "slice_tolerance_mm",
    "min_field_strength_t",
    "field_strength_tolerance_t",
    "required_mr",
    "min_dwi_b_values",
    "baseline_max_age_days",
)


@dataclass(frozen=True, slots=True)
class ProtocolSeries:
    """What the check needs to know of one series.

    Parameters
    ----------
    series_uid : str
        (0020,000E); kept with the verdict for programs, never shown in a reason.
    modality : str
        "CT" or "MR"; other modalities are ignored.
    description : str
        (0008,103E), named in the reasons.
    phase : str
        CT phase: "native", "arterial", "venous", "delayed" or "unknown".
    sequence, plane : str
        MR sequence ("t1", "t2", "dwi", "adc", "other") and plane ("axial", "coronal",
        "sagittal", or "" when oblique or unknown).
    slice_thickness_mm : float or None
        (0018,0050) *Slice Thickness*.
    slice_interval_mm : float or None
        Distance between neighbouring slice positions along the normal (from
        (0020,0032), see :func:`slice_interval_from_positions`).
    field_strength_t : float or None
        (0018,0087) *Magnetic Field Strength*, tesla (values above 100 are read as gauss).
    b_values : tuple of float
        Distinct diffusion b-values of a DWI series, s/mm².
    series_on : datetime.date or None
        (0008,0021) *Series Date*; used only when the study date is unknown.
    series_number : int or None
        (0020,0011) *Series Number*, named in the reasons.
    study_on : datetime.date or None
        (0008,0020) *Study Date*: the date of the exam (see the module notes).
    """

    series_uid: str
    modality: str
    description: str = ""
    phase: str = ""
    sequence: str = ""
    plane: str = ""
    slice_thickness_mm: float | None = None
    slice_interval_mm: float | None = None
    field_strength_t: float | None = None
    b_values: tuple[float, ...] = ()
    series_on: dt.date | None = None
    series_number: int | None = None
    study_on: dt.date | None = None

    @property
    def label(self) -> str:
        """How reasons name the series: description, number and phase or sequence.

        E.g. ``'Portal venous 2.5 mm' (series 3, portal venous)``; never the UID.
        """
        details = [f"series {self.series_number}"] if self.series_number is not None else []
        if self.modality == "CT" and self.phase not in ("", "unknown"):
            details.append(_phase_name(self.phase))
        elif self.modality == "MR" and self.sequence:
            details.append(_mr_name(self.sequence, self.plane))
        name = repr(self.description) if self.description else "(no description)"
        return f"{name} ({', '.join(details)})" if details else name

    @property
    def exam_on(self) -> dt.date | None:
        """The date of the exam: the study date, else the series date (module notes)."""
        return self.study_on if self.study_on is not None else self.series_on

    @property
    def exam_date_source(self) -> str:
        """Which date :attr:`exam_on` is, in words ("study date", "series date" or "")."""
        if self.study_on is not None:
            return "study date"
        return "series date" if self.series_on is not None else ""


@dataclass(frozen=True, slots=True)
class ProtocolParameters:
    """The limits of the protocol, with their version and sources.

    Build it with :meth:`from_dict` from the content of ``imaging_protocol.json``;
    the defaults are the values of version 1 of that file.
    """

    version: str = "1"
    required_modalities: tuple[str, ...] = ("CT", "MR")
    required_ct_phases: tuple[str, ...] = ("native", "arterial", "venous", "delayed")
    max_slice_thickness_mm: float = 2.5
    max_slice_interval_mm: float = 2.5
    slice_tolerance_mm: float = 0.01
    min_field_strength_t: float = 1.5
    field_strength_tolerance_t: float = 0.01
    required_mr: tuple[tuple[str, str | None], ...] = (
        ("t2", "axial"),
        ("t2", "coronal"),
        ("t1", "axial"),
        ("dwi", "axial"),
        ("adc", None),
    )
    min_dwi_b_values: int = 2
    baseline_max_age_days: int = 28
    sources: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, origin: str = "imaging_protocol"
    ) -> ProtocolParameters:
        """Parse and validate the content of the parameter file.

        Parameters
        ----------
        data : mapping
            ``{"format": ..., "version": ..., "values": {name: {"value": ...,
            "source": ...}, ...}}``.
        origin : str
            Names the file in error messages.

        Raises
        ------
        InvalidInputError
            A field is missing, has the wrong type or an impossible value; the
            message names it (e.g. ``imaging_protocol: values.max_slice_thickness_mm``).
        """
        file = read_parameter_file(data, origin=origin, expected=_PROTOCOL_VALUES)
        required_mr_raw = file.raw("required_mr")
        required_mr: list[tuple[str, str | None]] = []
        if not isinstance(required_mr_raw, list):
            raise InvalidInputError(file.where("required_mr"), "must be a list of pairs")
        for n, pair in enumerate(required_mr_raw):
            where = f"{file.where('required_mr')}[{n}]"
            if not (isinstance(pair, list) and len(pair) == 2):
                raise InvalidInputError(where, "must be [sequence, plane or null]")
            sequence, plane = pair
            if sequence not in _SEQUENCE_NAMES or sequence == "other":
                raise InvalidInputError(where, f"unknown sequence {sequence!r}")
            if plane not in (None, "axial", "coronal", "sagittal"):
                raise InvalidInputError(where, f"unknown plane {plane!r}")
            required_mr.append((sequence, plane))
        return cls(
            version=file.version,
            required_modalities=file.strings("required_modalities", ("CT", "MR")),
            required_ct_phases=file.strings("required_ct_phases", tuple(_PHASE_NAMES)),
            max_slice_thickness_mm=file.number("max_slice_thickness_mm"),
            max_slice_interval_mm=file.number("max_slice_interval_mm"),
            slice_tolerance_mm=file.number("slice_tolerance_mm", strictly_positive=False),
            min_field_strength_t=file.number("min_field_strength_t"),
            field_strength_tolerance_t=file.number(
                "field_strength_tolerance_t", strictly_positive=False
            ),
            required_mr=tuple(required_mr),
            min_dwi_b_values=file.integer("min_dwi_b_values"),
            baseline_max_age_days=file.integer("baseline_max_age_days"),
            sources={name: entry.source for name, entry in file.entries.items()},
        )

    def to_json(self) -> dict[str, Any]:
        """The values used, JSON-ready (stored or printed with a result)."""
        return {
            "version": self.version,
            "required_modalities": list(self.required_modalities),
            "required_ct_phases": list(self.required_ct_phases),
            "max_slice_thickness_mm": self.max_slice_thickness_mm,
            "max_slice_interval_mm": self.max_slice_interval_mm,
            "slice_tolerance_mm": self.slice_tolerance_mm,
            "min_field_strength_t": self.min_field_strength_t,
            "field_strength_tolerance_t": self.field_strength_tolerance_t,
            "required_mr": [list(pair) for pair in self.required_mr],
            "min_dwi_b_values": self.min_dwi_b_values,
            "baseline_max_age_days": self.baseline_max_age_days,
            "sources": dict(self.sources),
        }


# ---------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequirementResult:
    """The verdict on one item of the protocol.

    Parameters
    ----------
    code : str
        Stable identifier, e.g. "ct.phase.arterial", "mr.field_strength".
    name : str
        What is required, for people ("CT arterial phase present").
    status : {"pass", "fail", "not_evaluated"}
        "not_evaluated" when the inputs needed are missing (no TACE date, no
        recorded slice thickness, …); the reason says which. Stable values (the
        command line's JSON); :attr:`status_words` says them for people.
    reason : str
        The series and values that decided.
    series_uids : tuple of str
        The series the verdict rests on (those that satisfy it, or those that fail).
    """

    code: str
    name: str
    status: Status
    reason: str
    series_uids: tuple[str, ...] = ()

    @property
    def passed(self) -> bool | None:
        """True, False, or None when not evaluated."""
        return None if self.status == "not_evaluated" else self.status == "pass"

    @property
    def status_words(self) -> str:
        """The status for people: "passed", "failed" or "not checked"."""
        return STATUS_WORDS.get(self.status, self.status)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "code": self.code,
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
            "series_uids": list(self.series_uids),
        }


@dataclass(frozen=True, slots=True)
class ProtocolResult:
    """Every requirement's verdict and the parameters used.

    ``status`` is "fail" when any requirement fails, else "not_evaluated" when
    any could not be evaluated, else "pass"; ``passed`` is ``status == "pass"``.
    """

    requirements: tuple[RequirementResult, ...]
    parameters_version: str
    tace_on: dt.date | None = None
    parameters: ProtocolParameters = field(default_factory=ProtocolParameters)

    @property
    def status(self) -> Status:
        """Overall status (see the class notes)."""
        statuses = {r.status for r in self.requirements}
        if "fail" in statuses:
            return "fail"
        if "not_evaluated" in statuses:
            return "not_evaluated"
        return "pass"

    @property
    def passed(self) -> bool:
        """True only when every requirement passed."""
        return self.status == "pass"

    @property
    def failures(self) -> tuple[RequirementResult, ...]:
        """The failed requirements."""
        return tuple(r for r in self.requirements if r.status == "fail")

    def requirement(self, code: str) -> RequirementResult:
        """The requirement with this code.

        Raises
        ------
        KeyError
            No requirement has this code.
        """
        for requirement in self.requirements:
            if requirement.code == code:
                return requirement
        raise KeyError(f"no requirement {code!r}; have {[r.code for r in self.requirements]}")

    def summary(self) -> str:
        """One line: overall status and counts."""
        counts = {s: sum(r.status == s for r in self.requirements) for s in _STATUSES}
        verdict = _VERDICTS.get(self.status, self.status)
        shown = ", ".join(f"{counts[s]} {STATUS_WORDS[s]}" for s in _STATUSES)
        return f"imaging protocol {verdict}: {shown} (parameters v{self.parameters_version})"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (for ``tace-planner check-protocol --json``)."""
        return {
            "status": self.status,
            "passed": self.passed,
            "tace_on": self.tace_on.isoformat() if self.tace_on else None,
            "parameters_version": self.parameters_version,
            "parameters": self.parameters.to_json(),
            "requirements": [r.to_json() for r in self.requirements],
        }


_STATUSES: tuple[Status, ...] = ("pass", "fail", "not_evaluated")
STATUS_WORDS: dict[str, str] = {"pass": "passed", "fail": "failed",
                                "not_evaluated": "not checked"}  # fmt: skip
"""A requirement's status in words, for people (the JSON keeps the codes)."""
_VERDICTS: dict[str, str] = {"pass": "met", "fail": "not met",
                             "not_evaluated": "not fully checked"}  # fmt: skip
"""The overall status in words, for the one-line summary."""


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def slice_interval_from_positions(
    positions_mm: Iterable[float], tolerance_mm: float = 0.01
) -> float | None:
    """Return the typical distance between neighbouring slices, in mm.

    Parameters
    ----------
    positions_mm : iterable of float
        Slice positions along the slice normal (``normal · ImagePositionPatient``),
        in any order; repeats (one position per b-value in a DWI series) count once.
    tolerance_mm : float
        Positions closer than this are the same slice.

    Returns
    -------
    float or None
        The median gap between consecutive distinct positions, or None with
        fewer than two distinct positions. (Missing slices are a geometry problem
        reported by the volume assembly, not by the protocol check.)
    """
    distinct: list[float] = []
    for position in sorted(positions_mm):
        if not distinct or position - distinct[-1] > tolerance_mm:
            distinct.append(position)
    if len(distinct) < 2:
        return None
    return float(statistics.median(b - a for a, b in itertools.pairwise(distinct)))


def field_strength_tesla(value: float | None) -> float | None:
    """(0018,0087) in tesla; values above 100 are old files written in gauss."""
    if value is None:
        return None
    return value / GAUSS_PER_TESLA if value > 100.0 else value


def _fmt(value: float) -> str:
    return f"{value:g}"


def _phase_name(phase: str) -> str:
    return _PHASE_NAMES.get(phase, phase)


def _mr_name(sequence: str, plane: str | None) -> str:
    return f"{_SEQUENCE_NAMES.get(sequence, sequence)}{' ' + plane if plane else ''}"


# ---------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------


def check_protocol(
    series: Sequence[ProtocolSeries],
    tace_on: dt.date | None,
    params: ProtocolParameters,
    *,
    modalities: Collection[str] | None = None,
) -> ProtocolResult:
    """Check baseline series against the imaging protocol.

    Parameters
    ----------
    series : sequence of ProtocolSeries
        The baseline series to judge: one study's, or every baseline study's of a
        case (CT and MRI are usually separate studies).
    tace_on : datetime.date or None
        The (planned) TACE date; None leaves the baseline-age requirements
        "not_evaluated".
    params : ProtocolParameters
        Limits and their version.
    modalities : collection of str, optional
        Which modalities to check ("CT", "MR"); default ``params.required_modalities``.
        A service checking one CT study passes ``{"CT"}``.

    Returns
    -------
    ProtocolResult
        Requirements in this order: per modality, presence; CT phases, then CT
        slices per phase; MR field strength, sequences, DWI b-values; then the
        baseline age per modality.
    """
    scope = tuple(params.required_modalities if modalities is None else modalities)
    requirements: list[RequirementResult] = []
    by_modality = {m: [s for s in series if s.modality == m] for m in ("CT", "MR")}
    names = {"CT": "CT", "MR": "MRI"}
    for modality in ("CT", "MR"):
        if modality not in scope:
            continue
        found = by_modality[modality]
        requirements.append(
            RequirementResult(
                code=f"{modality.lower()}.present",
                name=f"{names[modality]} imaging present",
                status="pass" if found else "fail",
                reason=f"{len(found)} {modality} series" if found else f"no {modality} series",
                series_uids=tuple(s.series_uid for s in found),
            )
        )
        if modality == "CT":
            requirements += _ct_requirements(found, params)
        else:
            requirements += _mr_requirements(found, params)
    for modality in ("CT", "MR"):
        if modality in scope:
            requirements.append(
                _baseline_age(names[modality], modality, by_modality[modality], tace_on, params)
            )
    return ProtocolResult(
        requirements=tuple(requirements),
        parameters_version=params.version,
        tace_on=tace_on,
        parameters=params,
    )


def _ct_requirements(
    series: Sequence[ProtocolSeries], params: ProtocolParameters
) -> list[RequirementResult]:
    results = []
    found_phases = sorted({s.phase or "unclassified" for s in series})
    for phase in params.required_ct_phases:
        matching = [s for s in series if s.phase == phase]
        name = f"CT {_phase_name(phase)} phase present"
        if matching:
            reason = ", ".join(s.label for s in matching)
            results.append(
                RequirementResult(
                    f"ct.phase.{phase}", name, "pass", reason, tuple(s.series_uid for s in matching)
                )
            )
        else:
            reason = (
                f"no CT series classified as {_phase_name(phase)}"
                + (f" (found: {', '.join(found_phases)})" if series else "")
                + "; correct the classification if a series is mislabelled"
            )
            results.append(RequirementResult(f"ct.phase.{phase}", name, "fail", reason))
    for phase in params.required_ct_phases:
        results.append(_ct_slices(phase, [s for s in series if s.phase == phase], params))
    return results


def _ct_slices(
    phase: str, series: Sequence[ProtocolSeries], params: ProtocolParameters
) -> RequirementResult:
    thickness_max, interval_max = params.max_slice_thickness_mm, params.max_slice_interval_mm
    code = f"ct.slices.{phase}"
    name = (
        f"CT {_phase_name(phase)} phase: slices ≤ {_fmt(thickness_max)} mm thick "
        f"and ≤ {_fmt(interval_max)} mm apart"
    )
    if not series:
        return RequirementResult(code, name, "not_evaluated", f"no {_phase_name(phase)} series")
    tolerance = params.slice_tolerance_mm
    good: list[ProtocolSeries] = []
    unknown: list[str] = []
    bad: list[str] = []
    for s in series:
        problems, missing = [], []
        for what, value, limit in (
            ("thickness", s.slice_thickness_mm, thickness_max),
            ("interval", s.slice_interval_mm, interval_max),
        ):
            if value is None:
                missing.append(f"{what} not recorded")
            elif value > limit + tolerance:
                problems.append(f"{what} {_fmt(value)} mm > {_fmt(limit)} mm")
        if problems:
            bad.append(f"{s.label}: {', '.join(problems + missing)}")
        elif missing:
            unknown.append(f"{s.label}: {', '.join(missing)}")
        else:
            good.append(s)
    if good:
        reason = "; ".join(
            f"{s.label}: thickness {_fmt(s.slice_thickness_mm or 0.0)} mm, "
            f"interval {_fmt(s.slice_interval_mm or 0.0)} mm"
            for s in good
        )
        return RequirementResult(code, name, "pass", reason, tuple(s.series_uid for s in good))
    uids = tuple(s.series_uid for s in series)
    if unknown:
        return RequirementResult(code, name, "not_evaluated", "; ".join(unknown + bad), uids)
    return RequirementResult(code, name, "fail", "; ".join(bad), uids)


def _mr_requirements(
    series: Sequence[ProtocolSeries], params: ProtocolParameters
) -> list[RequirementResult]:
    results = [_field_strength(series, params)]
    for sequence, plane in params.required_mr:
        matching = [
            s for s in series if s.sequence == sequence and (plane is None or s.plane == plane)
        ]
        code = f"mr.sequence.{sequence}.{plane or 'any'}"
        name = f"MRI {_mr_name(sequence, plane)} present"
        if matching:
            reason = ", ".join(s.label for s in matching)
            results.append(
                RequirementResult(code, name, "pass", reason, tuple(s.series_uid for s in matching))
            )
            continue
        same_sequence = [s for s in series if s.sequence == sequence]
        if same_sequence:
            planes = ", ".join(
                f"{s.label} is {s.plane or 'oblique/unknown'}" for s in same_sequence
            )
            reason = f"no {_mr_name(sequence, plane)} series ({planes})"
        elif not series:
            reason = "no MR series"
        else:
            reason = f"no MR series classified as {_SEQUENCE_NAMES[sequence]}"
        results.append(RequirementResult(code, name, "fail", reason))
    results.append(_dwi_b_values(series, params))
    return results


def _field_strength(
    series: Sequence[ProtocolSeries], params: ProtocolParameters
) -> RequirementResult:
    minimum = params.min_field_strength_t
    code, name = "mr.field_strength", f"MRI field strength ≥ {_fmt(minimum)} T"
    known = [(s, field_strength_tesla(s.field_strength_t)) for s in series]
    measured = [(s, t) for s, t in known if t is not None]
    if not series:
        return RequirementResult(code, name, "not_evaluated", "no MR series")
    if not measured:
        return RequirementResult(
            code,
            name,
            "not_evaluated",
            "the magnetic field strength is not recorded in the image headers",
            tuple(s.series_uid for s in series),
        )
    low = [(s, t) for s, t in measured if t < minimum - params.field_strength_tolerance_t]
    if low:
        reason = "; ".join(f"{s.label}: {_fmt(t)} T < {_fmt(minimum)} T" for s, t in low)
        return RequirementResult(code, name, "fail", reason, tuple(s.series_uid for s, _ in low))
    strengths = sorted({t for _, t in measured})
    reason = f"{', '.join(_fmt(t) + ' T' for t in strengths)} ({len(measured)} series)"
    if len(measured) < len(series):
        reason += f"; {len(series) - len(measured)} series without a recorded field strength"
    return RequirementResult(code, name, "pass", reason, tuple(s.series_uid for s, _ in measured))


def _dwi_b_values(
    series: Sequence[ProtocolSeries], params: ProtocolParameters
) -> RequirementResult:
    needed = params.min_dwi_b_values
    code = "mr.dwi.b_values"
    name = f"DWI with ≥ {needed} b-values or an ADC map"
    dwi = [s for s in series if s.sequence == "dwi"]
    adc = [s for s in series if s.sequence == "adc"]
    if not dwi:
        return RequirementResult(code, name, "not_evaluated", "no DWI series")
    b_values = sorted({b for s in dwi for b in s.b_values})
    shown = ", ".join(_fmt(b) for b in b_values)
    if len(b_values) >= needed:
        reason = f"b = {shown} s/mm² in {', '.join(s.label for s in dwi)}"
        return RequirementResult(code, name, "pass", reason, tuple(s.series_uid for s in dwi))
    if adc:
        reason = f"ADC map {', '.join(s.label for s in adc)} with DWI " + ", ".join(
            s.label for s in dwi
        )
        return RequirementResult(
            code, name, "pass", reason, tuple(s.series_uid for s in (*dwi, *adc))
        )
    uids = tuple(s.series_uid for s in dwi)
    if not b_values:
        return RequirementResult(
            code, name, "not_evaluated", "b-values not recorded and no ADC map", uids
        )
    return RequirementResult(code, name, "fail", f"only b = {shown} s/mm² and no ADC map", uids)


def _baseline_age(
    label: str,
    modality: str,
    series: Sequence[ProtocolSeries],
    tace_on: dt.date | None,
    params: ProtocolParameters,
) -> RequirementResult:
    """The newest exam before the TACE, by its study date (module notes), against the limit."""
    limit = params.baseline_max_age_days
    code = f"baseline_age.{modality.lower()}"
    name = f"{label} at most {limit} days before TACE"
    if not series:
        return RequirementResult(code, name, "not_evaluated", f"no {modality} series")
    if tace_on is None:
        return RequirementResult(code, name, "not_evaluated", "no planned TACE date")
    dated = [(s, s.exam_on) for s in series if s.exam_on is not None]
    if not dated:
        return RequirementResult(code, name, "not_evaluated", f"no {modality} series has a date")
    before = [(s, on) for s, on in dated if on <= tace_on]
    if not before:
        first = min(on for _, on in dated)
        days = (first - tace_on).days
        return RequirementResult(
            code,
            name,
            "fail",
            f"{label} of {_dated(first, [s for s, on in dated if on == first])} is {days} "
            f"day(s) after the TACE on {tace_on.isoformat()}; baseline imaging must precede it",
            tuple(s.series_uid for s, _ in dated),
        )
    newest = max(on for _, on in before)
    used = [s for s, on in before if on == newest]
    age = (tace_on - newest).days
    text = (
        f"{label} of {_dated(newest, used)} is {age} day(s) before the TACE on "
        f"{tace_on.isoformat()} (limit {limit})"
    )
    later = sorted({on for _, on in dated if on > tace_on})
    if later:
        text += f"; ignored, after the TACE: {', '.join(d.isoformat() for d in later)}"
    other = sorted({s.series_on for s in used if s.study_on and s.series_on not in (None, newest)})
    if other:
        shown = ", ".join(d.isoformat() for d in other if d is not None)
        text += f"; series date {shown} differs and is not used: the study date is the exam's"
    status: Status = "pass" if age <= limit else "fail"
    return RequirementResult(code, name, status, text, tuple(s.series_uid for s in used))


def _dated(on: dt.date, series: Sequence[ProtocolSeries]) -> str:
    """``2004-01-19 (study date)``: the date and which header it came from."""
    sources = sorted({s.exam_date_source for s in series if s.exam_date_source})
    return f"{on.isoformat()} ({' and '.join(sources)})" if sources else on.isoformat()
