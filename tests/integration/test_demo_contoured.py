"""The demo case arrives contoured and measured by the app's own tools, once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tace_planner.domain.progress import run_sync

pytestmark = [pytest.mark.db, pytest.mark.dicom]


def test_demo_is_contoured_once_and_has_a_burden(tmp_path: Path, small_phantom: Path) -> None:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.contouring import contouring_service
    from tace_planner.services.demo import prepare_demo
    from tace_planner.services.settings import AppSettings

    services = open_services(AppSettings(data_dir=tmp_path / "data", db_url=None, user="t"))
    try:
        demo_dir = services.settings.demo_dir
        shutil.copytree(small_phantom, demo_dir)
        (demo_dir / "phantom-parameters.json").write_text(
            '{"size": "small", "seed": 0, "generator": 1}', encoding="utf-8"
        )
        contouring = contouring_service(services)
        steps = []
        first = run_sync(
            prepare_demo(services.studies, services.cases, demo_dir, size="small",
                         contouring=contouring),
            steps.append,
        )  # fmt: skip
        assert first.contoured == 8  # the liver and seven foci
        assert any("Contouring F7" in step.message for step in steps)
        names = [item.name for item in contouring.list_lesions(first.case.pk)]
        assert names == ["Liver", *[f"F{n}" for n in range(1, 8)]]
        burden = services.planning.burden_inputs(first.case.pk)
        assert burden.problems == ()
        assert burden.liver_volume_cm3 is not None
        assert len(burden.foci) == 7
        second = run_sync(
            prepare_demo(services.studies, services.cases, demo_dir, size="small",
                         contouring=contouring)
        )  # fmt: skip
        assert second.contoured == 0
        assert len(contouring.list_lesions(first.case.pk)) == 8
        measured = contouring.measurements(case_pk=first.case.pk, timepoint="baseline")
        assert measured.burden_percent is not None
        assert len(measured.lesions) == 8
    finally:
        services.close()
