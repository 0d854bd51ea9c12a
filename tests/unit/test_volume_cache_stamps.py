"""The volume cache hands a kept volume out only under the stamp of the files it was read from.

See tests/integration/test_volume_cache_reimport.py for the import, removal and
re-import this guards.
"""

from __future__ import annotations

import numpy as np

from tace_planner.domain.volume import ImageVolume
from tace_planner.services.volume_cache import VolumeCache


def _volume(hu: float) -> ImageVolume:
    return ImageVolume(np.full((2, 3, 3), hu, dtype=np.float32), np.eye(4))


def test_a_kept_volume_is_handed_out_only_under_the_stamp_it_was_read_with() -> None:
    cache = VolumeCache()
    key = ("1.2.3", "")
    old, new = _volume(0.0), _volume(1.0)
    assert cache.put(key, old, stamp="files A") is old
    assert cache.get(key, "files A") is old
    assert cache.get(key) is old  # no stamp: nothing compared
    assert cache.get(key, "files B") is None  # the files changed: forgotten
    assert cache.get(key, "files A") is None  # even under the old stamp
    assert cache.put(key, new, stamp="files B") is new
    # an earlier copy wins only when it was read from the same files
    assert cache.put(key, _volume(2.0), stamp="files B") is new
    newest = _volume(3.0)
    assert cache.put(key, newest, stamp="files C") is newest
    assert cache.get(key, "files B") is None
    # a volume kept without a stamp is compared from its first stamped look-up on
    cache.put(("4.5.6", ""), old)
    assert cache.get(("4.5.6", ""), "files D") is old
    assert cache.get(("4.5.6", ""), "files E") is None
