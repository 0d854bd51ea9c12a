"""`remove-series`: a stored series and its files go, audited; contoured series are kept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from tace_planner.cli import main
from tace_planner.store.models import AuditEventRow, InstanceRow, SeriesRow

pytestmark = [pytest.mark.db, pytest.mark.dicom]


def test_remove_series_deletes_rows_and_files_and_is_audited(
    tmp_path: Path, small_phantom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    data = tmp_path / "data"
    folder = tmp_path / "cd"
    for name in ("CT_arterial", "CT_venous"):
        shutil.copytree(small_phantom / "baseline" / name, folder / name)
    assert main(["--data-dir", str(data), "import", str(folder)]) == 0
    assert main(["--data-dir", str(data), "series", "--json"]) == 0
    capsys.readouterr()
    services = open_services(AppSettings(data_dir=data, db_url=None, user="t"))
    try:
        with services.session_factory() as session:
            arterial = session.scalar(
                select(SeriesRow).where(SeriesRow.description.contains("arterial"))
            )
            assert arterial is not None
            uid = arterial.series_uid
            files = [services.settings.image_store_dir / i.stored_path for i in arterial.instances]
    finally:
        services.close()
    assert files
    assert all(path.is_file() for path in files)

    code = main(["--data-dir", str(data), "remove-series", uid, "--reason", "truncated slices"])

    assert code == 0
    assert "removed series" in capsys.readouterr().out
    assert not any(path.exists() for path in files)
    services = open_services(AppSettings(data_dir=data, db_url=None, user="t"))
    try:
        with services.session_factory() as session:
            assert session.scalar(select(SeriesRow).where(SeriesRow.series_uid == uid)) is None
            remaining = session.scalars(select(InstanceRow)).all()
            assert remaining
            assert all((services.settings.image_store_dir / i.stored_path).is_file()
                       for i in remaining)  # fmt: skip
            event = session.scalar(
                select(AuditEventRow).where(AuditEventRow.action == "remove_series")
            )
            assert event is not None
            assert event.after == {"reason": "truncated slices"}
            assert len(event.before["files"]) == len(files)
    finally:
        services.close()
    assert main(["--data-dir", str(data), "remove-series", uid]) == 1
    assert "not in the database" in capsys.readouterr().err


def test_remove_series_keeps_a_contoured_series(
    demo_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.contouring import contouring_service
    from tace_planner.services.settings import AppSettings

    data = tmp_path / "demo"
    shutil.copytree(demo_data_dir, data, ignore=shutil.ignore_patterns("demo-phantom"))
    assert main(["--data-dir", str(data), "series", "--json"]) == 0
    series = json.loads(capsys.readouterr().out)
    venous = next(s for s in series if s["modality"] == "CT" and "venous" in s["description"])
    services = open_services(AppSettings(data_dir=data, db_url=None, user="t"))
    try:
        import numpy as np

        contouring = contouring_service(services)
        case_pk, timepoint_pk, _ = contouring.series_context(venous["series_uid"])
        volume = contouring.volume(venous["series_uid"])
        lesion = contouring.create_lesion(case_pk, "F9").lesion
        mask = np.zeros(volume.shape, dtype=bool)
        mask[1, 10:20, 10:20] = True
        contouring.save_mask(lesion.pk, timepoint_pk, venous["series_uid"], None, mask, "manual")
    finally:
        services.close()

    code = main(["--data-dir", str(data), "remove-series", venous["series_uid"]])

    assert code == 1
    assert "contour" in capsys.readouterr().err
