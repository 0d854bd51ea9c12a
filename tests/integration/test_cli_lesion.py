"""Command line: ``lesion set-segment``, ``propose-segment`` and ``set-target`` on the demo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from tace_planner.cli import main
from tace_planner.domain.progress import run_sync
from tace_planner.services.bootstrap import open_services
from tace_planner.services.demo import prepare_demo
from tace_planner.services.settings import AppSettings
from tace_planner.store.models import AuditEventRow

pytestmark = [pytest.mark.db, pytest.mark.dicom]


@pytest.fixture(scope="module")
def contoured_dir(tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path) -> Path:
    data_dir = tmp_path_factory.mktemp("cli-lesion") / "data"
    shutil.copytree(demo_data_dir, data_dir)
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="t"))
    try:
        run_sync(
            prepare_demo(services.studies, services.cases, services.settings.demo_dir,
                         size="small", contouring=services.contouring)
        )  # fmt: skip
    finally:
        services.close()
    return data_dir


@pytest.fixture
def data(tmp_path: Path, contoured_dir: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(contoured_dir, target)
    return target


def _run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "--user", "dr cli", *args])


def _series(data_dir: Path) -> str:
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="t"))
    try:
        case_pk = services.cases.list_cases()[0].pk
        return next(m.segmentation.series_uid for m in services.contouring.masks_of_case(case_pk))
    finally:
        services.close()


def test_set_segment_is_audited_and_refuses_bad_input(data: Path, capsys) -> None:
    series = _series(data)
    assert _run(data, "lesion", "set-segment", "--series", series, "--lesion", "F2",
                "--segment", "none") == 0  # fmt: skip
    assert "→ none" in capsys.readouterr().out
    assert _run(data, "lesion", "set-segment", "--series", series, "--lesion", "f2",
                "--segment", "Segment 6", "--reason", "portal phase", "--json") == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out) == {"lesion": "F2", "couinaud_segment": "VI"}
    assert _run(data, "lesion", "set-segment", "--series", series, "--lesion", "F2",
                "--segment", "IX") == 1  # fmt: skip
    assert "Couinaud segment" in capsys.readouterr().err
    assert _run(data, "lesion", "set-segment", "--series", series, "--lesion", "F99",
                "--segment", "VI") == 1  # fmt: skip
    assert "F99" in capsys.readouterr().err
    assert _run(data, "lesion", "set-segment", "--series", series, "--lesion", "Liver",
                "--segment", "VI") == 1  # fmt: skip
    services = open_services(AppSettings(data_dir=data, db_url=None, user="t"))
    try:
        with services.session_factory() as session:
            events = session.scalars(
                select(AuditEventRow).where(AuditEventRow.action == "set_segment")
            ).all()
        assert [e.user for e in events] == ["dr cli", "dr cli"]
        assert events[-1].before["couinaud_segment"] == ""
        assert events[-1].after["couinaud_segment"] == "VI"
        assert events[-1].after["reason"] == "portal phase"
    finally:
        services.close()


def test_propose_segment_places_the_demo_foci(data: Path, capsys) -> None:
    series = _series(data)
    expected = {"F1": "VIII", "F2": "VI", "F3": "I", "F6": "VII", "F7": "V"}
    for name, segment in expected.items():
        assert _run(data, "lesion", "propose-segment", "--series", series, "--lesion", name,
                    "--json") == 0  # fmt: skip
        proposal = json.loads(capsys.readouterr().out)
        assert proposal["proposed_segment"] == segment, name
    # F5 (segment III) lies at the estimated portal level: II or III, with a low confidence.
    assert _run(data, "lesion", "propose-segment", "--series", series, "--lesion", "F5",
                "--json") == 0  # fmt: skip
    proposal = json.loads(capsys.readouterr().out)
    assert proposal["proposed_segment"] in ("II", "III")
    assert proposal["confidence_label"] == "low"
    assert _run(data, "lesion", "propose-segment", "--series", series, "--lesion", "F4") == 0
    out = capsys.readouterr().out
    assert "proposed segment IV" in out
    assert "Bismuth, World J Surg 1982" in out
    services = open_services(AppSettings(data_dir=data, db_url=None, user="t"))
    try:
        services.contouring.create_lesion(services.cases.list_cases()[0].pk, "F9")
    finally:
        services.close()
    assert _run(data, "lesion", "propose-segment", "--series", series, "--lesion", "F9") == 0
    assert "no proposal" in capsys.readouterr().out.lower()


def test_set_target_refuses_a_third_liver_target(data: Path, capsys) -> None:
    series = _series(data)
    for name in ("F1", "F2"):
        assert _run(data, "lesion", "set-target", "--series", series, "--lesion", name,
                    "--target", "yes") == 0  # fmt: skip
    capsys.readouterr()
    assert _run(data, "lesion", "set-target", "--series", series, "--lesion", "F7",
                "--target", "yes") == 1  # fmt: skip
    assert "per organ" in capsys.readouterr().err
    assert _run(data, "lesion", "set-target", "--series", series, "--lesion", "F7",
                "--target", "yes", "--reason", "tumour board", "--json") == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["is_target"] is True
