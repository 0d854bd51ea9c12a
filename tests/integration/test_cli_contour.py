"""Command line: ``contour auto|liver``, ``measurements`` and ``seg export|import``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tace_planner.cli import main

pytestmark = [pytest.mark.db, pytest.mark.dicom]

LIVER_SEED = "-95,0,20"


@pytest.fixture
def demo(tmp_path: Path, small_phantom: Path, demo_data_dir: Path) -> tuple[Path, dict]:
    """A writable copy of the (uncontoured) demo data folder and the phantom's truth."""
    data_dir = tmp_path / "data"
    shutil.copytree(demo_data_dir, data_dir)
    truth = json.loads((small_phantom / "truth.json").read_text(encoding="utf-8"))
    return data_dir, truth


def _venous(truth: dict) -> str:
    series = truth["timepoints"][0]["series"]
    return next(s["series_uid"] for s in series if s["folder"] == "CT_venous")


def _run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str]:
    code = main(["--data-dir", str(data_dir), *args])
    return code, capsys.readouterr().out


def test_contour_measure_and_seg_round_trip(demo, capsys, tmp_path: Path) -> None:
    data_dir, truth = demo
    venous = _venous(truth)
    code, out = _run(capsys, data_dir, "contour", "liver", "--series", venous,
                     f"--seed={LIVER_SEED}", "--json")  # fmt: skip
    assert code == 0
    liver = json.loads(out)
    assert liver["volume_cm3"] == pytest.approx(truth["liver_volume_cm3"], rel=0.10)
    for focus in truth["timepoints"][0]["foci"]:
        seed = ",".join(str(v) for v in focus["center_lps_mm"])
        code, out = _run(capsys, data_dir, "contour", "auto", "--series", venous, f"--seed={seed}",
                         "--lesion", focus["name"], "--segment", focus["couinaud_segment"],
                         "--json")  # fmt: skip
        assert code == 0
        printed = json.loads(out)
        assert printed["name"] == focus["name"]
        assert set(printed) >= {"volume_cm3", "longest_axial_diameter_mm", "short_axis_mm",
                                "mean_hu", "enhancing_fraction"}  # fmt: skip
    code, out = _run(capsys, data_dir, "measurements", "--series", venous, "--json")
    assert code == 0
    measured = json.loads(out)
    true_f = 100 * sum(f["volume_cm3"] for f in truth["timepoints"][0]["foci"])
    true_f /= truth["liver_volume_cm3"]
    assert measured["burden_percent"] == pytest.approx(true_f, rel=0.10)
    assert [m["name"] for m in measured["lesions"]] == [f"F{n}" for n in range(1, 8)]
    code, text = _run(capsys, data_dir, "measurements", "--series", venous)
    assert code == 0
    assert "F1" in text
    assert "F " in text

    seg_file = tmp_path / "contours.dcm"
    code, _ = _run(capsys, data_dir, "seg", "export", "--series", venous, str(seg_file))
    assert code == 0
    assert seg_file.stat().st_size > 0
    _forget_lesion(data_dir, "F2")
    code, out = _run(capsys, data_dir, "seg", "import", str(seg_file), "--json")
    assert code == 0
    assert "F2" in json.loads(out)["lesions"]
    code, out = _run(capsys, data_dir, "measurements", "--series", venous, "--json")
    again = json.loads(out)
    before = {m["name"]: m["volume_cm3"] for m in measured["lesions"]}
    after = {m["name"]: m["volume_cm3"] for m in again["lesions"]}
    assert after == pytest.approx(before)
    assert again["liver_volume_cm3"] == pytest.approx(measured["liver_volume_cm3"])


def _forget_lesion(data_dir: Path, name: str) -> None:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.contouring import contouring_service
    from tace_planner.services.settings import AppSettings

    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="tester"))
    try:
        contouring = contouring_service(services)
        case_pk = services.cases.list_cases()[0].pk
        lesion = next(i for i in contouring.list_lesions(case_pk) if i.name == name)
        contouring.delete_lesion(lesion.pk)
    finally:
        services.close()


def test_contour_on_an_unknown_series_fails_cleanly(demo, capsys) -> None:
    data_dir, _ = demo
    assert main(["--data-dir", str(data_dir), "contour", "auto", "--series", "1.2.3",
                 "--seed", "0,0,0"]) == 1  # fmt: skip
    assert "1.2.3" in capsys.readouterr().err


def test_bad_seed_is_a_usage_error(demo) -> None:
    data_dir, truth = demo
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(data_dir), "contour", "auto", "--series", _venous(truth),
              "--seed", "1,2"])  # fmt: skip
    assert exit_info.value.code == 2


def test_contour_auto_margin_moves_the_whole_contour(demo, capsys) -> None:
    """`--margin-mm` grows the contour as the window's ] key does: on F1 (27 mm radius),
    1 mm all round adds (28/27)³ − 1 = 11.5 % of its volume (within 3 points, on 5 mm
    slices); a margin beyond 5 mm is one line naming the option's field, nothing stored."""
    data_dir, truth = demo
    venous = _venous(truth)
    f1 = next(f for f in truth["timepoints"][0]["foci"] if f["name"] == "F1")
    seed = "--seed=" + ",".join(str(v) for v in f1["center_lps_mm"])
    volumes = []
    for margin in ("0", "1"):
        code, out = _run(capsys, data_dir, "contour", "auto", "--series", venous, seed,
                         "--lesion", "F1", "--margin-mm", margin, "--json")  # fmt: skip
        assert code == 0
        volumes.append(json.loads(out)["volume_cm3"])
    radius = (3 * volumes[0] * 1000 / (4 * 3.141592653589793)) ** (1 / 3)
    expected = ((radius + 1.0) / radius) ** 3
    assert volumes[1] / volumes[0] == pytest.approx(expected, abs=0.03)
    code = main(["--data-dir", str(data_dir), "contour", "auto", "--series", venous, seed,
                 "--lesion", "F9", "--margin-mm", "8"])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: contour margin: 8.0 mm lies outside -5 to 5 mm")
    code, out = _run(capsys, data_dir, "measurements", "--series", venous, "--json")
    assert "F9" not in [m["name"] for m in json.loads(out)["lesions"]]
