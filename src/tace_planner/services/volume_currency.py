"""A contour is saved only on a volume read from the series' files as they are now.

A view keeps showing the volume it was given. When its series is removed, or removed
and imported again under the same UIDs (another reconstruction, another geometry),
by this window, another program or another workstation sharing the image store, the
view still shows the old images: a contour drawn there would be stored on the new
series' grid, or on no series at all. Before a save, the volume a view hands in is
compared with the series' files now (their stamps,
:meth:`~tace_planner.services.volume_cache.VolumeLoader.read_from_current_files`);
a difference refuses the save with one line that names the series and says to open
it again. A volume the shared cache did not read cannot be compared and is let
through, as before.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import NotFoundError, TacePlannerError
from tace_planner.domain.volume import ImageVolume
from tace_planner.services.study_removal import find_removed_series, series_name
from tace_planner.services.volume_cache import VolumeLoader
from tace_planner.store import repositories


class StaleVolumeError(TacePlannerError):
    """The volume a contour was drawn on is not the series' volume any more; nothing saved.

    ``removed`` is True when the series is not stored any more.
    """

    def __init__(self, message: str, *, removed: bool) -> None:
        super().__init__(message)
        self.removed = removed


def check_volume_current(
    loader: VolumeLoader,
    sessions: sessionmaker[Session],
    series_uid: str,
    part: str | None,
    volume: ImageVolume,
) -> None:
    """Refuse a contour drawn on ``volume`` unless its series' files are the ones it was
    read from.

    Raises
    ------
    StaleVolumeError
        The series was removed, or its files changed (imported again), since ``volume``
        was read.
    """
    try:
        current = loader.read_from_current_files(series_uid, part, volume)
    except NotFoundError:
        raise StaleVolumeError(_said(sessions, series_uid, removed=True), removed=True) from None
    if current is False:
        raise StaleVolumeError(_said(sessions, series_uid, removed=False), removed=False)


def _said(sessions: sessionmaker[Session], series_uid: str, *, removed: bool) -> str:
    with sessions() as session:
        row = repositories.find_series(session, series_uid)
        if row is not None:
            name = series_name(row)
        else:
            description = find_removed_series(session, [series_uid]).get(series_uid, "")
            name = f'Series "{description}"' if description.strip() else "The series"
    if removed:
        return (
            f"{name} was removed after this view opened it: the contour was not saved. "
            "Import the series again, open it and draw the contour there."
        )
    return (
        f"{name} was imported again, or its files changed, after this view opened it: "
        "the contour was not saved. Open the series again and draw the contour there."
    )
