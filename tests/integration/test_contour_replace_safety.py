"""Stored contours are not replaced behind the user's back.

``seg import`` keeps a lesion's contour already stored at the series' timepoint
(and says so) unless ``--replace``; ``contour auto`` refuses to replace a
contour drawn or edited by hand unless ``--replace``, while re-running it over
an automatic contour (and the window's own calls) replace as before.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tace_planner.cli import main

pytestmark = [pytest.mark.db, pytest.mark.dicom]


def _open(data_dir: Path, user: str):
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    return open_services(AppSettings(data_dir=data_dir, db_url=None, user=user))


def _seed(truth: dict, name: str) -> str:
    focus = next(f for f in truth["timepoints"][0]["foci"] if f["name"] == name)
    return "--seed=" + ",".join(str(v) for v in focus["center_lps_mm"])


def _venous(truth: dict) -> str:
    series = truth["timepoints"][0]["series"]
    return next(s["series_uid"] for s in series if s["folder"] == "CT_venous")


@pytest.fixture(scope="module")
def contoured(
    tmp_path_factory: pytest.TempPathFactory, small_phantom: Path, demo_data_dir: Path
) -> tuple[Path, dict, Path]:
    """The demo with F1 and F2 auto contoured at baseline, and their SEG export (read-only)."""
    data_dir = tmp_path_factory.mktemp("replace-safety") / "data"
    shutil.copytree(demo_data_dir, data_dir)
    truth = json.loads((small_phantom / "truth.json").read_text(encoding="utf-8"))
    venous = _venous(truth)
    for name in ("F1", "F2"):
        code = main(["--data-dir", str(data_dir), "--user", "alice", "contour", "auto",
                     "--series", venous, _seed(truth, name), "--lesion", name])  # fmt: skip
        assert code == 0
    seg_file = data_dir.parent / "old.dcm"
    code = main(["--data-dir", str(data_dir), "seg", "export", "--series", venous, str(seg_file)])
    assert code == 0
    return data_dir, truth, seg_file


@pytest.fixture
def demo(tmp_path: Path, contoured, capsys: pytest.CaptureFixture[str]) -> tuple[Path, dict, Path]:
    """A writable copy of the contoured demo."""
    data_dir, truth, seg_file = contoured
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy)
    capsys.readouterr()
    return copy, truth, seg_file


def _stored(data_dir: Path, name: str, venous: str) -> tuple[np.ndarray, str, str, int]:
    """(mask, method, updated_by, version) of a lesion's baseline contour."""
    services = _open(data_dir, "reader")
    try:
        contouring = services.contouring
        case_pk, timepoint_pk, _ = contouring.series_context(venous)
        lesion = contouring.lesions.find(case_pk, name)
        stored = contouring.load_mask(lesion.pk, timepoint_pk)
        seg = stored.segmentation
        return stored.mask.copy(), seg.method, seg.updated_by, seg.version
    finally:
        services.close()


def _hand_edit(data_dir: Path, name: str, venous: str, user: str = "carol") -> np.ndarray:
    """Grow a lesion's contour by two voxels with the brush (saved as "edited" by ``user``)."""
    from scipy import ndimage

    services = _open(data_dir, user)
    try:
        contouring = services.contouring
        case_pk, timepoint_pk, _ = contouring.series_context(venous)
        lesion = contouring.lesions.find(case_pk, name)
        mask = contouring.load_mask(lesion.pk, timepoint_pk).mask
        edited = ndimage.binary_dilation(mask, iterations=2)
        result = contouring.save_and_measure(lesion.pk, timepoint_pk, venous, None, edited)
        assert result.segmentation.method == "edited"
        return edited
    finally:
        services.close()


def _delete_lesion(data_dir: Path, name: str) -> None:
    services = _open(data_dir, "tester")
    try:
        contouring = services.contouring
        case_pk = services.cases.list_cases()[0].pk
        contouring.delete_lesion(contouring.lesions.find(case_pk, name).pk)
    finally:
        services.close()


def _cli(capsys, data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), "--user", "bob", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- seg import ------------------------------------------------------------------------


def test_seg_import_keeps_a_hand_edited_contour_and_names_it(demo, capsys) -> None:
    data_dir, truth, seg_file = demo
    venous = _venous(truth)
    edited = _hand_edit(data_dir, "F1", venous)
    _delete_lesion(data_dir, "F2")  # F2 has no contour now: the file brings it back
    code, out, err = _cli(capsys, data_dir, "seg", "import", str(seg_file), "--json")
    assert code == 0
    printed = json.loads(out)
    assert set(printed) >= {"series_uid", "lesions", "warnings", "kept"}
    assert printed["lesions"] == ["F2"]
    assert printed["kept"] == ["F1"]
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("kept the stored contour of F1 (edited by hand by carol)")
    assert lines[0].endswith("add --replace to replace them")
    mask, method, user, _ = _stored(data_dir, "F1", venous)
    assert np.array_equal(mask, edited)
    assert (method, user) == ("edited", "carol")


def test_seg_import_text_output_says_what_was_kept(demo, capsys) -> None:
    data_dir, truth, seg_file = demo
    venous = _venous(truth)
    edited = _hand_edit(data_dir, "F1", venous)
    code, out, err = _cli(capsys, data_dir, "seg", "import", str(seg_file))
    assert code == 0
    assert out.strip() == f"no contour imported onto series {venous}"
    assert "F1 (edited by hand by carol), F2 at baseline" in err
    assert "--replace" in err
    assert np.array_equal(_stored(data_dir, "F1", venous)[0], edited)


def test_seg_import_replace_replaces_the_stored_contours(demo, capsys) -> None:
    data_dir, truth, seg_file = demo
    venous = _venous(truth)
    original = _stored(data_dir, "F1", venous)[0]
    _hand_edit(data_dir, "F1", venous)
    code, out, err = _cli(capsys, data_dir, "seg", "import", str(seg_file), "--replace", "--json")
    assert code == 0
    printed = json.loads(out)
    assert printed["lesions"] == ["F1", "F2"]
    assert printed["kept"] == []
    assert err == ""
    mask, _, user, _ = _stored(data_dir, "F1", venous)
    assert np.array_equal(mask, original)
    assert user == "bob"


def test_seg_import_replace_refuses_a_save_made_meanwhile(demo) -> None:
    """A hand edit saved between reading the stored contours and writing the file's is
    not overwritten: the import is refused naming who saved, and nothing of it is stored."""
    from tace_planner.domain.errors import ConcurrentEditError

    data_dir, truth, seg_file = demo
    venous = _venous(truth)
    services = _open(data_dir, "bob")
    try:
        seg = services.contouring.seg
        write = seg._write
        edited: list[np.ndarray] = []

        def hand_edit_first(*args, **kwargs):
            edited.append(_hand_edit(data_dir, "F1", venous, user="carol"))
            return write(*args, **kwargs)

        seg._write = hand_edit_first
        with pytest.raises(ConcurrentEditError, match="carol"):
            seg.import_seg(seg_file, replace=True)
    finally:
        services.close()
    mask, method, user, _ = _stored(data_dir, "F1", venous)
    assert np.array_equal(mask, edited[0])
    assert (method, user) == ("edited", "carol")


# -- contour auto ----------------------------------------------------------------------


def test_contour_auto_refuses_to_replace_a_hand_edited_contour(demo, capsys) -> None:
    data_dir, truth, _ = demo
    venous = _venous(truth)
    edited = _hand_edit(data_dir, "F1", venous)
    code, out, err = _cli(capsys, data_dir, "contour", "auto", "--series", venous,
                          _seed(truth, "F1"), "--lesion", "F1")  # fmt: skip
    assert code == 1
    assert out == ""
    assert err.strip().splitlines() == [
        "error: F1 already has a contour at baseline edited by hand by carol: "
        "add --replace to replace it"
    ]
    mask, method, user, _ = _stored(data_dir, "F1", venous)
    assert np.array_equal(mask, edited)
    assert (method, user) == ("edited", "carol")


def test_contour_auto_refuses_to_replace_a_contour_drawn_by_hand(demo, capsys) -> None:
    data_dir, truth, _ = demo
    venous = _venous(truth)
    services = _open(data_dir, "dave")
    try:
        contouring = services.contouring
        case_pk, timepoint_pk, _ = contouring.series_context(venous)
        drawn = _stored(data_dir, "F2", venous)[0]
        pk = contouring.create_lesion(case_pk, "F3").lesion.pk
        saved = contouring.save_and_measure(pk, timepoint_pk, venous, None, drawn, "manual")
        assert saved.segmentation.method == "manual"
    finally:
        services.close()
    code, _, err = _cli(capsys, data_dir, "contour", "auto", "--series", venous,
                        _seed(truth, "F2"), "--lesion", "F3")  # fmt: skip
    assert code == 1
    assert err.strip() == (
        "error: F3 already has a contour at baseline drawn by hand by dave: "
        "add --replace to replace it"
    )
    assert _stored(data_dir, "F3", venous)[1:3] == ("manual", "dave")


def test_contour_auto_replace_replaces_a_hand_edited_contour(demo, capsys) -> None:
    data_dir, truth, _ = demo
    venous = _venous(truth)
    edited = _hand_edit(data_dir, "F1", venous)
    code, out, err = _cli(capsys, data_dir, "contour", "auto", "--series", venous,
                          _seed(truth, "F1"), "--lesion", "F1", "--replace")  # fmt: skip
    assert code == 0, err
    assert out.startswith("F1 contoured")
    mask, method, user, _ = _stored(data_dir, "F1", venous)
    assert (method, user) == ("auto", "bob")
    assert not np.array_equal(mask, edited)


def test_contour_auto_still_replaces_an_automatic_contour(demo, capsys) -> None:
    """Re-running the auto contour over an automatic one is normal: no --replace needed."""
    data_dir, truth, _ = demo
    venous = _venous(truth)
    version = _stored(data_dir, "F1", venous)[3]
    code, out, err = _cli(capsys, data_dir, "contour", "auto", "--series", venous,
                          _seed(truth, "F1"), "--lesion", "F1", "--margin-mm", "1")  # fmt: skip
    assert code == 0, err
    assert out.startswith("F1 contoured")
    _, method, user, after = _stored(data_dir, "F1", venous)
    assert (method, user, after) == ("auto", "bob", version + 1)


def test_the_windows_call_still_replaces_a_hand_edit(demo) -> None:
    """The window calls ``auto_contour`` without the guard (it has its own undo): a
    correction click over a hand-edited focus replaces it as before."""
    data_dir, truth, _ = demo
    venous = _venous(truth)
    _hand_edit(data_dir, "F1", venous)
    seed = [float(v) for v in _seed(truth, "F1").split("=", 1)[1].split(",")]
    services = _open(data_dir, "erin")
    try:
        contouring = services.contouring
        case_pk, _, _ = contouring.series_context(venous)
        result = contouring.auto_contour(case_pk, venous, seed, "F1")
    finally:
        services.close()
    assert result.segmentation.method == "auto"
    assert _stored(data_dir, "F1", venous)[1:3] == ("auto", "erin")
