"""Contour writes under faults and bad input, on the small phantom's demo case.

- the whole-liver contour is not a focus: ``contour auto --lesion liver`` is
  refused and the liver stays as it was;
- a replaced mask stays recoverable from the audit trail;
- two users contouring the same lesion at once: one wins, the other is told
  who saved first and when (20 repetitions, two threads, one SQLite file);
- lesion, mask and measurement are one transaction; a contour left without a
  measurement by an older version is measured at the next write;
- an exclude click on the include click, a liver click in air or bone, and
  lesion names with control characters are refused with the reason.
"""

from __future__ import annotations

import base64
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tace_planner.cli import main
from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError

pytestmark = [pytest.mark.db, pytest.mark.dicom]

LIVER_SEED = (-95.0, 0.0, 20.0)


@pytest.fixture
def demo(tmp_path: Path, small_phantom: Path, demo_data_dir: Path) -> tuple[Path, dict]:
    """A writable copy of the (uncontoured) demo data folder and the phantom's truth."""
    data_dir = tmp_path / "data"
    shutil.copytree(demo_data_dir, data_dir)
    truth = json.loads((small_phantom / "truth.json").read_text(encoding="utf-8"))
    return data_dir, truth


def _open(data_dir: Path, user: str = "tester") -> Any:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    return open_services(AppSettings(data_dir=data_dir, db_url=None, user=user))


@contextmanager
def _opened(data_dir: Path) -> Iterator[Any]:
    """The services on ``data_dir`` (user "tester"), closed on leaving."""
    services = _open(data_dir)
    try:
        yield services
    finally:
        services.close()


def _venous(truth: dict) -> str:
    series = truth["timepoints"][0]["series"]
    return next(s["series_uid"] for s in series if s["folder"] == "CT_venous")


def _focus(truth: dict, name: str) -> dict:
    return next(f for f in truth["timepoints"][0]["foci"] if f["name"] == name)


def _case(services: Any, venous: str) -> tuple[int, int]:
    case_pk, timepoint_pk, _ = services.contouring.series_context(venous)
    return case_pk, timepoint_pk


@dataclass(frozen=True)
class _Opened:
    """The demo case open for one test: its services, venous series, case and timepoint."""

    services: Any
    truth: dict
    venous: str
    case_pk: int
    timepoint_pk: int

    @property
    def contouring(self) -> Any:
        return self.services.contouring

    def seed(self, focus: str) -> list[float]:
        """The centre of a phantom focus (LPS mm): where a click contours it."""
        return _focus(self.truth, focus)["center_lps_mm"]


@pytest.fixture
def opened(demo: tuple[Path, dict]) -> Iterator[_Opened]:
    """The demo folder's services with the venous series' case; closed after the test."""
    data_dir, truth = demo
    venous = _venous(truth)
    with _opened(data_dir) as services:
        yield _Opened(services, truth, venous, *_case(services, venous))


def test_auto_contour_named_liver_is_refused_and_the_liver_is_kept(demo, capsys) -> None:
    data_dir, truth = demo
    venous = _venous(truth)
    seed = ",".join(str(v) for v in LIVER_SEED)
    assert main(["--data-dir", str(data_dir), "contour", "liver", "--series", venous,
                 f"--seed={seed}"]) == 0  # fmt: skip
    with _opened(data_dir) as services:
        case_pk, _ = _case(services, venous)
        before = services.contouring.measurements(venous).liver_volume_cm3
    capsys.readouterr()
    f3 = ",".join(str(v) for v in _focus(truth, "F3")["center_lps_mm"])
    for name in ("liver", "LIVER", " Liver "):
        code = main(["--data-dir", str(data_dir), "contour", "auto", "--series", venous,
                     f"--seed={f3}", "--lesion", name])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 1
        assert "whole-liver contour" in err
        assert err.count("\n") == 1  # one line, no traceback
    with _opened(data_dir) as services:
        after = services.contouring.measurements(venous)
        assert after.liver_volume_cm3 == pytest.approx(before)
        assert [i.name for i in services.contouring.list_lesions(case_pk)] == ["Liver"]


def test_a_replaced_mask_is_recoverable_from_the_audit_trail(opened: _Opened) -> None:
    contouring, venous, timepoint_pk = opened.contouring, opened.venous, opened.timepoint_pk
    first = contouring.auto_contour(opened.case_pk, venous, opened.seed("F1"), lesion="F1")
    first_mask = contouring.load_mask(first.lesion.pk, timepoint_pk).mask
    assert contouring.previous_mask(first.lesion.pk, timepoint_pk) is None
    edited = first_mask.copy()
    edited[np.nonzero(edited)[0].max()] = False  # the user erases the top slice
    contouring.save_and_measure(
        first.lesion.pk, timepoint_pk, venous, None, edited,
        expected_version=first.segmentation.version,
    )  # fmt: skip
    assert np.array_equal(contouring.load_mask(first.lesion.pk, timepoint_pk).mask, edited)
    recovered = contouring.previous_mask(first.lesion.pk, timepoint_pk)
    assert recovered is not None
    assert np.array_equal(recovered, first_mask)
    # a deleted lesion's mask is in the audit trail too
    contouring.delete_lesion(first.lesion.pk)
    with opened.services.session_factory() as session:
        from sqlalchemy import select

        from tace_planner.imaging.mask_codec import unpack_mask
        from tace_planner.store.models import AuditEventRow

        event = session.scalars(
            select(AuditEventRow).where(
                AuditEventRow.entity == "lesion", AuditEventRow.action == "delete"
            )
        ).one()
        (saved,) = event.before["segmentations"]
        grid = saved["grid_shape"]
        data = base64.b64decode(saved["mask_packed_b64"])
        assert np.array_equal(unpack_mask(grid["bbox"], data, grid["shape"]), edited)


def _race(data_dir: Path, venous: str, seed: list[float], name: str) -> dict[str, Any]:
    """Two users auto-contour ``name`` at once; both read the stored version, then both save."""
    barrier = threading.Barrier(2, timeout=60)
    outcome: dict[str, Any] = {}

    def user(who: str) -> None:
        services = _open(data_dir, user=who)
        contouring = services.contouring
        original = contouring.write_contours

        def write_after_the_other_has_read(*args: Any, **kwargs: Any) -> Any:
            barrier.wait()
            return original(*args, **kwargs)

        contouring.write_contours = write_after_the_other_has_read  # type: ignore[method-assign]
        try:
            case_pk, _ = _case(services, venous)
            outcome[who] = contouring.auto_contour(case_pk, venous, seed, lesion=name)
        except Exception as error:  # noqa: BLE001 - the test inspects what each user got
            outcome[who] = error
        finally:
            services.close()

    threads = [threading.Thread(target=user, args=(who,)) for who in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcome


@pytest.mark.parametrize(("name", "repetitions"), [("F6", 20), ("new focus", 5)])
def test_two_concurrent_auto_contours_of_one_lesion_one_is_refused(
    demo, name: str, repetitions: int
) -> None:
    data_dir, truth = demo
    venous = _venous(truth)
    seed = _focus(truth, "F6")["center_lps_mm"]
    with _opened(data_dir) as services:
        case_pk, timepoint_pk = _case(services, venous)
        if name == "F6":
            services.contouring.auto_contour(case_pk, venous, seed, lesion="F6")
    for repetition in range(repetitions):
        lesion = name if name == "F6" else f"{name} {repetition}"
        outcome = _race(data_dir, venous, seed, lesion)
        won = [who for who, got in outcome.items() if not isinstance(got, Exception)]
        lost = [who for who, got in outcome.items() if isinstance(got, ConcurrentEditError)]
        assert len(won) == 1, (repetition, outcome)
        assert len(lost) == 1, (repetition, outcome)
        message = str(outcome[lost[0]])
        assert f"changed by {won[0]} at " in message
        assert lesion in message
        with _opened(data_dir) as services:
            item = next(i for i in services.contouring.list_lesions(case_pk) if i.name == lesion)
            stored = services.contouring.load_mask(item.pk, timepoint_pk)
            assert stored.segmentation.updated_by == won[0]
            assert stored.segmentation.version == outcome[won[0]].segmentation.version
            measured = services.contouring.measurements(venous).lesion(lesion)
            assert measured.volume_cm3 is not None
            if name != "F6":
                # the next race creates a new focus at the same click: foci share no voxels
                services.contouring.delete_lesion(item.pk)


def test_lesion_mask_and_measurement_are_saved_together_or_not_at_all(
    opened: _Opened, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tace_planner.services.contouring as contouring_module

    contouring, case_pk = opened.contouring, opened.case_pk

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("killed while saving the measurement")

    monkeypatch.setattr(contouring_module, "add_measurement", killed)
    with pytest.raises(RuntimeError):
        contouring.auto_contour(case_pk, opened.venous, opened.seed("F2"))
    assert contouring.list_lesions(case_pk) == []
    assert contouring.masks_of_case(case_pk) == []


def test_a_contour_without_measurement_is_measured_at_the_next_write(opened: _Opened) -> None:
    contouring, venous, case_pk = opened.contouring, opened.venous, opened.case_pk
    first = contouring.auto_contour(case_pk, venous, opened.seed("F2"))
    # what an interrupted older version left: a mask saved, its measurement not
    mask = contouring.load_mask(first.lesion.pk, opened.timepoint_pk).mask
    orphan = contouring.create_lesion(case_pk, "Orphan").lesion
    contouring.save_mask(orphan.pk, opened.timepoint_pk, venous, None, mask, "manual")
    assert contouring.measurements(venous).lesion("Orphan").volume_cm3 is None
    contouring.auto_contour(case_pk, venous, opened.seed("F6"))
    assert contouring.measurements(venous).lesion("Orphan").volume_cm3 == pytest.approx(
        contouring.measurements(venous).lesion(first.lesion.name).volume_cm3
    )


def test_bad_clicks_and_names_are_refused_with_the_reason(opened: _Opened) -> None:
    contouring, venous, case_pk = opened.contouring, opened.venous, opened.case_pk
    f2 = opened.seed("F2")
    with pytest.raises(InvalidInputError, match="both inside and outside"):
        contouring.auto_contour(case_pk, venous, f2, exclude=[f2])
    with pytest.raises(InvalidInputError, match="HU"):
        contouring.contour_liver(case_pk, venous, (0.0, -150.0, 20.0))  # air
    with pytest.raises(InvalidInputError, match=r"HU|cm³"):
        contouring.contour_liver(case_pk, venous, (0.0, 62.0, 20.0))  # vertebral body
    for name in ("F\n1", "F\t1", "F1\r", "F\x001"):
        with pytest.raises(InvalidInputError, match="control characters"):
            contouring.create_lesion(case_pk, name)
        with pytest.raises(InvalidInputError, match="control characters"):
            contouring.auto_contour(case_pk, venous, f2, lesion=name)
    assert contouring.list_lesions(case_pk) == []
