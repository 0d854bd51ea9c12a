"""A demo re-run keeps what the user changed; `remove-series` does not drop measurements silently.

1. Re-running the demo (``demo --no-gui`` or the window's demo loader, which
   call the same service) over a demo case whose lesions the user renamed,
   deleted or un-contoured brings nothing back and says what it left alone;
   a demo series the user removed stays removed (said in one line), and a
   renamed demo case is still the demo case (no second one is opened).
2. `remove-series` refuses a series with rulers drawn on it, naming them,
   unless ``--with-measurements``; then each is audited and named.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tace_planner.cli import main
from tace_planner.domain.progress import run_sync
from tace_planner.store.models import AnnotationRow, AuditEventRow, SeriesRow

pytestmark = [pytest.mark.db, pytest.mark.dicom]

DEMO_LESIONS = ["Liver", *[f"F{n}" for n in range(1, 8)]]


def _open(data: Path) -> Any:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    return open_services(AppSettings(data_dir=data, db_url=None, user="t"))


def _demo(services: Any) -> Any:
    """Run the demo as `demo --no-gui` and the window's loader do (with its contouring)."""
    from tace_planner.services.contouring import contouring_service
    from tace_planner.services.demo import prepare_demo

    return run_sync(
        prepare_demo(
            services.studies,
            services.cases,
            services.settings.demo_dir,
            size="small",
            contouring=contouring_service(services),
        )
    )


@pytest.fixture(scope="module")
def contoured_demo(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data folder with its case contoured by the demo (read-only: copy it)."""
    data = tmp_path_factory.mktemp("contoured-demo") / "data"
    shutil.copytree(demo_data_dir, data)
    services = _open(data)
    try:
        report = _demo(services)
        assert report.contoured == 8
    finally:
        services.close()
    return data


@pytest.fixture
def demo_copy(contoured_demo: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(contoured_demo, data)
    return data


def _case_pk(services: Any) -> int:
    from tace_planner.imaging.phantom import PHANTOM_PATIENT_ID
    from tace_planner.services.demo import DEMO_CASE_TITLE

    case = services.cases.find_case(PHANTOM_PATIENT_ID, DEMO_CASE_TITLE)
    assert case is not None
    return int(case.pk)


def _names(services: Any, case_pk: int) -> list[str]:
    return [item.name for item in services.contouring.list_lesions(case_pk)]


# -- 1. the demo re-run ---------------------------------------------------------------


def test_demo_rerun_keeps_a_renamed_and_a_deleted_focus(demo_copy: Path) -> None:
    services = _open(demo_copy)
    try:
        case_pk = _case_pk(services)
        contouring = services.contouring
        contouring.rename_lesion(contouring.lesions.find(case_pk, "F6").pk, "F6-caudate")
        contouring.delete_lesion(contouring.lesions.find(case_pk, "F7").pk)
        names = _names(services, case_pk)
        foci = len(services.planning.burden_inputs(case_pk).foci)
        assert foci == 6

        report = _demo(services)

        assert report.contoured == 0
        assert _names(services, case_pk) == names  # no F6 again, no F7 again
        assert len(services.planning.burden_inputs(case_pk).foci) == foci
        assert report.kept_lesions == tuple(names)
        assert "F6-caudate" in report.note
        assert "F7" in report.note
        assert "left as they were" in report.note
    finally:
        services.close()


def test_demo_rerun_does_not_bring_back_a_deleted_last_focus(demo_copy: Path) -> None:
    services = _open(demo_copy)
    try:
        case_pk = _case_pk(services)
        services.contouring.delete_lesion(services.contouring.lesions.find(case_pk, "F7").pk)

        report = _demo(services)

        assert report.contoured == 0
        assert _names(services, case_pk) == DEMO_LESIONS[:-1]
        assert "F7" in report.note
    finally:
        services.close()


def test_demo_rerun_does_not_recontour_a_removed_contour(demo_copy: Path) -> None:
    services = _open(demo_copy)
    try:
        truth = json.loads((services.settings.demo_dir / "truth.json").read_text("utf-8"))
        venous = next(
            s["series_uid"] for s in truth["timepoints"][0]["series"] if s["folder"] == "CT_venous"
        )
        services.contouring.delete_contour(venous, "F3")

        report = _demo(services)

        assert report.contoured == 0
        contoured = {m.lesion.name for m in services.contouring.masks_of_series(venous)}
        assert "F3" not in contoured
        assert "F3" in report.note
    finally:
        services.close()


def test_cli_demo_rerun_says_what_it_left_as_it_was(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = _open(demo_copy)
    try:
        case_pk = _case_pk(services)
        contouring = services.contouring
        contouring.rename_lesion(contouring.lesions.find(case_pk, "F6").pk, "F6-caudate")
        contouring.delete_lesion(contouring.lesions.find(case_pk, "F7").pk)
        names = _names(services, case_pk)
    finally:
        services.close()

    code = main(["--data-dir", str(demo_copy), "demo", "--no-gui", "--phantom-size", "small"])

    assert code == 0
    said = capsys.readouterr().out
    assert "lesion(s) contoured" not in said
    assert "F6-caudate" in said
    assert "left as they were" in said
    services = _open(demo_copy)
    try:
        assert _names(services, case_pk) == names
    finally:
        services.close()


def test_an_unchanged_demo_case_is_still_left_alone_quietly(demo_copy: Path) -> None:
    services = _open(demo_copy)
    try:
        report = _demo(services)
        assert report.contoured == 0
        assert report.note == ""
        assert _names(services, _case_pk(services)) == DEMO_LESIONS
    finally:
        services.close()


def _series_uid(services: Any, timepoint: str, folder: str) -> tuple[str, str]:
    """(Series Instance UID, description) of a phantom series, from the demo's truth."""
    truth = json.loads((services.settings.demo_dir / "truth.json").read_text("utf-8"))
    [series] = [
        s
        for t in truth["timepoints"]
        if t["label"] == timepoint
        for s in t["series"]
        if s["folder"] == folder
    ]
    return str(series["series_uid"]), str(series["description"])


def _stored_series(services: Any) -> set[str]:
    return {item.series_uid for item in services.studies.list_series()}


def test_demo_rerun_keeps_a_removed_series_removed_and_says_so(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = _open(demo_copy)
    try:
        native, description = _series_uid(services, "baseline", "CT_native")
        services.studies.remove_series(native, "not needed for this course")
        stored = _stored_series(services)

        report = _demo(services)

        assert native not in _stored_series(services)
        assert _stored_series(services) == stored
        assert report.imported.new_instances == 0
        assert report.removed_series == (f"{description} (baseline)",)
        assert "\n" not in report.note
        assert report.note == (
            f"1 demo series removed by a user was not imported again ({description} (baseline))."
        )
        assert report.contoured == 0
        assert _names(services, _case_pk(services)) == DEMO_LESIONS
    finally:
        services.close()

    code = main(["--data-dir", str(demo_copy), "demo", "--no-gui", "--phantom-size", "small"])

    assert code == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "not imported" in line]
    assert lines == [report.note]
    services = _open(demo_copy)
    try:
        assert native not in _stored_series(services)
        # imported again by hand, it is the user's again: a re-run neither drops nor names it
        demo_dir = services.settings.demo_dir
        run_sync(services.studies.import_paths([demo_dir / "baseline" / "CT_native"]))
        again = _demo(services)
        assert native in _stored_series(services)
        assert again.removed_series == ()
        assert again.note == ""
    finally:
        services.close()


def test_demo_rerun_leaves_out_a_removed_venous_ct_instead_of_failing(
    demo_data_dir: Path, tmp_path: Path
) -> None:
    """The demo data before contouring: the CT the demo contours on, removed, is not
    imported again, and the case is not contoured (there is nothing to contour on)."""
    data = tmp_path / "data"
    shutil.copytree(demo_data_dir, data)
    services = _open(data)
    try:
        venous, description = _series_uid(services, "baseline", "CT_venous")
        follow_up, later = _series_uid(services, "follow_up_2", "CT_arterial")
        services.studies.remove_series(venous)
        services.studies.remove_series(follow_up)

        report = _demo(services)

        assert {venous, follow_up}.isdisjoint(_stored_series(services))
        assert report.contoured == 0
        assert report.removed_series == (f"{description} (baseline)", f"{later} (follow-up 2)")
        assert report.note.startswith("2 demo series removed by a user were not imported again")
        assert report.note.endswith("so the demo case was not contoured.")
        assert _names(services, _case_pk(services)) == []
    finally:
        services.close()


def test_demo_rerun_recognises_the_renamed_demo_case(demo_copy: Path) -> None:
    from tace_planner.imaging.phantom import PHANTOM_PATIENT_ID
    from tace_planner.store.audit import row_snapshot
    from tace_planner.store.models import CaseRow
    from tace_planner.store.unit_of_work import UnitOfWork

    services = _open(demo_copy)
    try:
        case_pk = _case_pk(services)
        with UnitOfWork(services.session_factory, user="dr x") as uow:
            case = uow.session.get(CaseRow, case_pk)
            before = row_snapshot(case)
            case.title = "Mrs Demo, NET G2"
            uow.audit(action="rename", entity="case", entity_pk=case, before=before, after=case)
            uow.commit()
        studies = services.cases.list_cases()[0].study_count

        report = _demo(services)

        cases = [c for c in services.cases.list_cases() if c.patient_id == PHANTOM_PATIENT_ID]
        assert [(c.pk, c.title) for c in cases] == [(case_pk, "Mrs Demo, NET G2")]
        assert (report.case.pk, report.case.title) == (case_pk, "Mrs Demo, NET G2")
        assert report.case.study_count == studies
        assert report.contoured == 0
        assert report.note == ""
        assert _names(services, case_pk) == DEMO_LESIONS
    finally:
        services.close()


# -- 2. remove-series and the measurements on the series --------------------------------


def _native_with_a_ruler(data: Path) -> tuple[str, int, list[Path]]:
    """Draw a ruler labelled "F1 long axis" on the baseline native CT; its UID, pk, files."""
    services = _open(data)
    try:
        with services.session_factory() as session:
            native = session.scalar(
                select(SeriesRow).where(SeriesRow.description.contains("native"))
            )
            assert native is not None
            uid = native.series_uid
            files = [services.settings.image_store_dir / i.stored_path for i in native.instances]
        volume = services.contouring.volume(uid)
        centre = volume.index_to_lps @ [*(s // 2 for s in volume.shape), 1]
        start = (float(centre[0]) - 10.0, float(centre[1]), float(centre[2]))
        end = (float(centre[0]) + 10.0, float(centre[1]), float(centre[2]))
        ruler = services.annotations.add_measurement(
            uid, None, "ruler", [start, end], volume=volume, orientation="axial",
            label="F1 long axis",
        )  # fmt: skip
        return uid, ruler.pk, files
    finally:
        services.close()


def test_remove_series_refuses_a_series_with_a_ruler_and_names_it(
    demo_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_data_dir, data, ignore=shutil.ignore_patterns("demo-phantom"))
    uid, ruler_pk, files = _native_with_a_ruler(data)
    capsys.readouterr()

    code = main(["--data-dir", str(data), "remove-series", uid, "--reason", "duplicate"])

    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Series "), err  # named as users know it, not by UID
    assert "1 measurement(s)" in err
    assert "F1 long axis" in err
    assert "--with-measurements" in err
    assert all(path.is_file() for path in files)
    services = _open(data)
    try:
        with services.session_factory() as session:
            assert session.scalar(select(SeriesRow).where(SeriesRow.series_uid == uid))
            assert session.get(AnnotationRow, ruler_pk) is not None
            assert not session.scalars(
                select(AuditEventRow).where(AuditEventRow.action == "remove_series")
            ).all()
    finally:
        services.close()


def test_remove_series_with_measurements_audits_each_and_says_so(
    demo_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_data_dir, data, ignore=shutil.ignore_patterns("demo-phantom"))
    uid, ruler_pk, files = _native_with_a_ruler(data)
    capsys.readouterr()

    code = main(
        ["--data-dir", str(data), "remove-series", uid, "--reason", "duplicate",
         "--with-measurements"]
    )  # fmt: skip

    assert code == 0
    out = capsys.readouterr().out
    assert "removed series" in out
    assert "1 measurement(s)" in out
    assert "F1 long axis" in out
    assert not any(path.exists() for path in files)
    services = _open(data)
    try:
        with services.session_factory() as session:
            assert session.get(AnnotationRow, ruler_pk) is None
            removal = session.scalar(
                select(AuditEventRow).where(AuditEventRow.action == "remove_series")
            )
            assert removal is not None
            assert removal.after == {"reason": "duplicate"}
            [snapshot] = removal.before["annotations"]
            assert snapshot["id"] == ruler_pk
            assert snapshot["label"] == "F1 long axis"
            assert snapshot["values"]["length_mm"] == pytest.approx(20.0)
            assert "measurement" in removal.summary
            deleted = session.scalar(
                select(AuditEventRow).where(
                    AuditEventRow.action == "delete_annotation",
                    AuditEventRow.entity_pk == ruler_pk,
                )
            )
            assert deleted is not None
            assert deleted.before["label"] == "F1 long axis"
            assert "F1 long axis" in deleted.summary
    finally:
        services.close()
