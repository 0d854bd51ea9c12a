"""Load one stored series (or one part of it) into an ImageVolume.

The files' headers are read again (they may have moved into the image store),
``volumes.plan_volumes`` splits and checks them, and ``volumes.load_plan``
reads the pixels. Slice order comes from positions along the slice normal,
never from file names or instance numbers (ADR 0001).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path

from tace_planner.domain.errors import UnsupportedSeriesError
from tace_planner.domain.progress import Progress, Task
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.dicom.scan import InstanceHeader, read_header
from tace_planner.imaging.dicom.volume_loading import load_plan
from tace_planner.imaging.dicom.volume_plan import VolumePlan
from tace_planner.imaging.dicom.volumes import plan_volumes, series_label

# Share of the progress bar for reading headers; the pixels take the rest.
_HEADER_SHARE = 0.15


def _relay(
    task: Generator[Progress, None, object], start: float, share: float, total: int
) -> Generator[Progress, None, object]:
    """Re-yield ``task``'s progress mapped onto [start, start + share] of ``total``."""
    while True:
        try:
            step = next(task)
        except StopIteration as finished:
            return finished.value
        done = int(total * (start + share * step.fraction))
        yield Progress(done, total, step.message)


def read_headers(paths: Sequence[Path]) -> Task[list[InstanceHeader]]:
    """Read the header of every file (no pixels).

    Raises
    ------
    DicomReadError
        A file is not readable DICOM; the message names it.
    """
    headers = []
    total = len(paths)
    for n, path in enumerate(paths, start=1):
        headers.append(read_header(Path(path)))
        if n % 32 == 0 or n == total:
            yield Progress(n, total, f"Reading headers ({n} of {total})")
    return headers


def choose_plan(plans: Sequence[VolumePlan], part: str | None) -> VolumePlan:
    """The plan named ``part``; with ``part=None`` the only plan of the series.

    Raises
    ------
    UnsupportedSeriesError
        ``part`` is None but the series holds several volumes, or no part has
        that name; the message lists the parts.
    """
    names = [p.part for p in plans]
    if part is None and len(plans) == 1:
        return plans[0]
    label = series_label(plans[0].headers[0])
    listing = ", ".join(f'"{n}"' for n in names if n is not None)
    if part is None:
        raise UnsupportedSeriesError(
            f"{label} holds {len(plans)} volumes ({listing}): choose which one to open"
        )
    for plan in plans:
        if plan.part == part:
            return plan
    if len(plans) == 1:
        raise UnsupportedSeriesError(f'{label} is a single volume: it has no part "{part}"')
    raise UnsupportedSeriesError(f'{label} has no part "{part}"; its parts are {listing}')


def plan_series(paths: Sequence[Path]) -> Task[list[VolumePlan]]:
    """Read the headers of a series' files and plan its volumes (no pixels).

    Raises
    ------
    DicomReadError
        A file cannot be read.
    UnsupportedSeriesError
        No volume can be formed.
    """
    headers = yield from read_headers(paths)
    return plan_volumes(headers)


def load_series_part(paths: Sequence[Path], part: str | None) -> Task[ImageVolume]:
    """Read one part of a series (e.g. ``"b=800"``) into a volume in modality units.

    Parameters
    ----------
    paths : sequence of pathlib.Path
        Every file of the series, in any order.
    part : str or None
        A ``VolumePlan.part`` name from ``plan_volumes``; None for a series
        that is one volume.

    Yields
    ------
    Progress
        Header reading, then one step per slice.

    Raises
    ------
    UnsupportedSeriesError
        No volume can be formed, the part does not exist, or ``part`` is None
        and the series holds several volumes.
    DicomReadError
        A file cannot be read or decoded; the message names it.
    """
    total = max(1, len(paths))
    plans = yield from _relay(plan_series(paths), 0.0, _HEADER_SHARE, total)
    plan = choose_plan(plans, part)  # type: ignore[arg-type]
    volume = yield from _relay(load_plan(plan), _HEADER_SHARE, 1.0 - _HEADER_SHARE, total)
    return volume  # type: ignore[return-value]


def load_volume(paths: Sequence[Path], part: str | None = None) -> Task[ImageVolume]:
    """Read the images of one series into a volume in modality units (HU for CT).

    Slices are ordered by (0020,0032) *Image Position (Patient)* projected on
    the slice normal, never by file name or instance number; the slice step is
    taken from the positions, not from (0018,0050) *Slice Thickness*. Geometry
    problems (gaps, uneven spacing, tilt) do not stop the load: they are in
    the plan's ``GeometryReport`` (see ``plan_series``).

    Parameters
    ----------
    paths : sequence of pathlib.Path
        The files of one series, in any order.
    part : str, optional
        Which volume of a series that holds several (echoes, b-values, ...).

    Yields
    ------
    Progress
        Header reading, then one step per slice.

    Raises
    ------
    UnsupportedSeriesError
        Fewer than two slices, or several volumes and no ``part``.
    DicomReadError
        A file cannot be read or decoded; the message names it.
    """
    return load_series_part(paths, part)
