"""A view's old volume handed back after its series was imported again is not served again.

The contour tools hand the volume a view shows to ``ContouringService.remember_volume``
so that contouring does not read it again. A view could still show a series' volume
after the series was removed and imported again with another geometry; once the cache
had forgotten that volume (the new files were looked up), putting it back without a
stamp made it the key's volume again, and the first stamped look-up adopted it: the old
volume was served for the new files. It is now kept with the stamp it was read with
(so the next look-up reads the new files), and a volume the cache never read is not kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.uid import generate_uid
from tests.integration.test_volume_cache_reimport import SIDE, _ct_series, _imported

from tace_planner.domain.progress import run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.services.volume_cache import VolumeCache

pytestmark = [pytest.mark.db, pytest.mark.dicom]


def _new_series(services: Any, folder: Path, slices: int) -> str:
    """A new series of ``slices`` 5 mm apart at 40 HU, imported; its Series UID."""
    uids = {"series": generate_uid(), "images": [generate_uid() for _ in range(slices)]}
    _ct_series(folder, uids, slices=slices, gap_mm=5.0, hu=40)
    _imported(services, folder)
    return str(uids["series"])


def test_an_old_volume_remembered_after_a_reimport_is_not_served_for_the_new_files(
    services: Any, tmp_path: Path
) -> None:
    series = _new_series(services, tmp_path / "first", 8)
    loader = services.volumes
    old = run_sync(loader.open(series, None))  # a view shows it, and keeps showing it
    assert old.shape == (8, SIDE, SIDE)

    services.studies.remove_series(series, "wrong reconstruction")
    images = [generate_uid() for _ in range(5)]  # other files under the same Series UID
    _ct_series(tmp_path / "second", {"series": series, "images": images}, 5, 2.5, 120)
    _imported(services, tmp_path / "second")
    # another view asks for the series: the old volume is forgotten, the new one not read yet
    assert loader.cached(series, None) is None

    # the old view's contour click hands its volume back
    services.contouring.remember_volume(series, None, old)

    new = services.contouring.volume(series, None)
    assert new is not old
    assert new.shape == (5, SIDE, SIDE)
    assert np.allclose(new.spacing_mm, (2.5, 1.0, 1.0))
    assert float(new.voxels.mean()) == pytest.approx(120.0)
    # the viewer's path agrees, and a second hand-back changes nothing
    services.contouring.remember_volume(series, None, old)
    planned = run_sync(loader.plan(series, None, preview_slices=0))
    assert run_sync(loader.load(planned)) is new
    assert loader.cached(series, None) is new


def test_a_volume_the_cache_never_read_is_not_kept_for_a_series(
    services: Any, tmp_path: Path
) -> None:
    series = _new_series(services, tmp_path / "ct", 4)
    foreign = ImageVolume(np.zeros((2, 3, 3), dtype=np.float32), np.eye(4))

    services.contouring.remember_volume(series, None, foreign)

    assert services.volumes.cached(series, None) is None
    read = services.contouring.volume(series, None)
    assert read is not foreign
    assert read.shape == (4, SIDE, SIDE)


def test_a_volume_put_back_without_a_stamp_keeps_the_stamp_it_was_read_with() -> None:
    cache = VolumeCache()
    key = ("1.2.3", "")
    old = ImageVolume(np.zeros((2, 3, 3), dtype=np.float32), np.eye(4))
    cache.put(key, old, stamp="files A")
    assert cache.get(key, "files B") is None  # the files changed: forgotten

    assert cache.put(key, old) is old  # handed back by a view that still shows it
    assert cache.get(key, "files B") is None  # compared, not adopted
    assert cache.read_with(key, old) == "files A"
    assert cache.read_with(("other", ""), old) is None
    new = ImageVolume(np.ones((2, 3, 3), dtype=np.float32), np.eye(4))
    assert cache.put(key, new, stamp="files B") is new
    assert cache.put(key, old) is new  # the current volume wins over a handed-back one
    assert cache.get(key, "files B") is new
