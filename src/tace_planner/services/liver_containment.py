"""Does the liver contour hold every focus? The share of each focus outside it.

Measured when a contour is measured and kept in the measurement's details: a
focus's measurement holds its own share outside the liver of the same timepoint
(``outside_liver_fraction``); the liver's measurement holds every focus's share
(``foci_outside_liver``), so that re-contouring either side updates the answer.
When both exist the later measurement counts. The rule and its wording live in
:mod:`tace_planner.domain.burden`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tace_planner.domain.burden import fraction_outside_liver
from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.volume import ImageVolume
from tace_planner.services.contouring_dto import LesionMask

FOCUS_KEY = "outside_liver_fraction"
LIVER_KEY = "foci_outside_liver"

VolumeSource = Callable[[str, str | None], ImageVolume]


def containment_details(
    name: str,
    is_liver: bool,
    mask: npt.NDArray[np.bool_],
    series_uid: str,
    part: str | None,
    others: Sequence[LesionMask],
    volume: VolumeSource,
) -> dict[str, Any]:
    """The containment values to store with a measurement (empty when there is nothing to say).

    Parameters
    ----------
    name, is_liver : the lesion being measured
    mask, series_uid, part : its mask and grid
    others : the other lesions' masks at the same timepoint
    volume : opens a series part (to carry a mask drawn on another series)
    """
    try:
        if is_liver:
            shares = {
                other.lesion.name: _share(
                    other.mask,
                    other.segmentation.series_uid,
                    other.segmentation.part,
                    mask,
                    series_uid,
                    part,
                    volume,
                )
                for other in others
                if not other.lesion.is_liver and other.lesion.name != name
            }
            return {LIVER_KEY: shares}
        liver = next((other for other in others if other.lesion.is_liver), None)
        if liver is None:
            return {}
        share = _share(
            mask, series_uid, part,
            liver.mask, liver.segmentation.series_uid, liver.segmentation.part, volume,
        )  # fmt: skip
        return {FOCUS_KEY: share}
    except TacePlannerError:
        return {}


def _share(
    focus: npt.NDArray[np.bool_],
    focus_uid: str,
    focus_part: str | None,
    liver: npt.NDArray[np.bool_],
    liver_uid: str,
    liver_part: str | None,
    volume: VolumeSource,
) -> float | None:
    if (focus_uid, focus_part) != (liver_uid, liver_part) or focus.shape != liver.shape:
        from tace_planner.imaging.segmentation import carry_mask

        focus = carry_mask(focus, volume(focus_uid, focus_part), volume(liver_uid, liver_part))
    return fraction_outside_liver(focus, liver)


def latest_outside_fractions(
    liver: tuple[Mapping[str, Any], dt.datetime | None] | None,
    foci: Mapping[str, tuple[Mapping[str, Any], dt.datetime | None]],
) -> dict[str, float | None]:
    """Each focus's share outside the liver contour from the latest measurements.

    Parameters
    ----------
    liver : (details, measured_at) of the liver's latest measurement, or None
        Without a liver contour nothing is returned (F is unknown anyway).
    foci : focus name -> (details, measured_at) of its latest measurement
    """
    if liver is None:
        return {}
    liver_details, liver_at = liver
    from_liver = liver_details.get(LIVER_KEY) or {}
    out: dict[str, float | None] = {}
    for name, (details, measured_at) in foci.items():
        own = details.get(FOCUS_KEY)
        liver_newer = measured_at is None or (liver_at is not None and liver_at >= measured_at)
        if name in from_liver and (liver_newer or FOCUS_KEY not in details):
            out[name] = from_liver[name]
        elif FOCUS_KEY in details:
            out[name] = own
    return out
