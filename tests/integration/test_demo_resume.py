"""The demo resumes after an interruption: a run stopped while contouring F2 is completed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tace_planner.domain.progress import run_sync

pytestmark = [pytest.mark.db, pytest.mark.dicom]


class _Interrupted(Exception):
    """Stands for the process being killed."""


class _StopsAtF2:
    """The contouring service, interrupted when it starts on focus F2."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def auto_contour(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("lesion") == "F2":
            raise _Interrupted
        return self._inner.auto_contour(*args, **kwargs)


def test_demo_resumes_after_an_interruption_while_contouring(
    tmp_path: Path, small_phantom: Path
) -> None:
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

        def demo(with_contouring: Any) -> Any:
            return run_sync(
                prepare_demo(
                    services.studies,
                    services.cases,
                    demo_dir,
                    size="small",
                    contouring=with_contouring,
                )
            )

        with pytest.raises(_Interrupted):
            demo(_StopsAtF2(contouring))
        resumed = demo(contouring)
        case_pk = resumed.case.pk
        assert resumed.contoured == 6  # F2 … F7
        names = [item.name for item in contouring.list_lesions(case_pk)]
        assert names == ["Liver", *[f"F{n}" for n in range(1, 8)]]
        measured = contouring.measurements(case_pk=case_pk, timepoint="baseline")
        assert len(measured.lesions) == 8
        assert all(item.volume_cm3 for item in measured.lesions)
        assert demo(contouring).contoured == 0
    finally:
        services.close()
