"""Contour state in the store: an emptied contour leaves no measurement, a deleted lesion
comes back from its audit event with its masks and measurements."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_contouring_service import open_demo, series_uid

from tace_planner.domain.errors import InvalidInputError
from tace_planner.store.models import AuditEventRow, LesionRow

pytestmark = [pytest.mark.db, pytest.mark.dicom]


@pytest.fixture
def demo(tmp_path: Path, small_phantom: Path):
    services, _, case_pk, truth = open_demo(tmp_path / "data", small_phantom)
    venous = series_uid(truth, "CT_venous")
    yield services, services.contouring, case_pk, truth, venous
    services.close()


def _centre(truth, name: str):
    return next(f["center_lps_mm"] for f in truth["timepoints"][0]["foci"] if f["name"] == name)


def _rows(contouring, case_pk: int) -> dict[str, tuple[object, ...]]:
    measured = contouring.measurements(case_pk=case_pk, timepoint="baseline")
    return {
        m.name: (m.volume_cm3, m.longest_axial_diameter_mm, m.short_axis_mm, m.mean_hu, m.trust)
        for m in measured.lesions
    }


def test_an_emptied_contour_leaves_no_stale_measurement(demo, capsys) -> None:
    from tace_planner.cli import main

    services, contouring, case_pk, truth, venous = demo
    result = contouring.auto_contour(case_pk, venous, _centre(truth, "F1"))
    pk, timepoint_pk = result.lesion.pk, result.segmentation.timepoint_pk
    assert _rows(contouring, case_pk)["F1"][0] > 50
    empty = np.zeros(result.segmentation.shape_zyx, dtype=bool)
    saved = contouring.save_and_measure(pk, timepoint_pk, venous, None, empty)
    assert saved.measurement is None
    assert "F1" not in _rows(contouring, case_pk)
    assert contouring.load_mask(pk, timepoint_pk) is None
    data_dir = services.settings.data_dir
    assert main(["--data-dir", str(data_dir), "measurements", "--series", venous, "--json"]) == 0
    assert "F1" not in [m["name"] for m in json.loads(capsys.readouterr().out)["lesions"]]


def test_a_deleted_lesion_is_restored_with_its_masks_and_measurements(demo) -> None:
    services, contouring, case_pk, truth, venous = demo
    for name in ("F1", "F2"):
        contouring.auto_contour(case_pk, venous, _centre(truth, name), lesion=name,
                                couinaud_segment="VIII")  # fmt: skip
    before = _rows(contouring, case_pk)
    f1 = contouring.lesions.find(case_pk, "F1")
    mask = contouring.masks_of_case(case_pk)[0].mask.copy()
    contouring.delete_lesion(f1.pk)
    assert set(_rows(contouring, case_pk)) == {"F2"}
    restored = contouring.restore_lesion(f1.pk)
    assert restored.pk == f1.pk
    assert restored.name == "F1"
    assert restored.couinaud_segment == "VIII"
    assert restored.colour == f1.colour
    assert _rows(contouring, case_pk) == before
    stored = next(m for m in contouring.masks_of_case(case_pk) if m.lesion.pk == f1.pk)
    assert np.array_equal(stored.mask, mask)
    with services.session_factory() as session:
        actions = [
            e.action
            for e in session.query(AuditEventRow).filter(AuditEventRow.entity == "lesion").all()
        ]
    assert actions.count("delete") == 1
    assert actions.count("restore") == 1
    with pytest.raises(InvalidInputError, match="already restored"):
        contouring.restore_lesion(f1.pk)


def test_a_restore_refuses_a_name_used_again_and_takes_a_new_id_when_its_own_is_taken(
    demo,
) -> None:
    services, contouring, case_pk, truth, venous = demo
    first = contouring.auto_contour(case_pk, venous, _centre(truth, "F1")).lesion
    contouring.delete_lesion(first.pk)
    again = contouring.create_lesion(case_pk, "F1").lesion
    with pytest.raises(InvalidInputError, match="used again"):
        contouring.restore_lesion(first.pk)
    contouring.rename_lesion(again.pk, "F9")
    restored = contouring.restore_lesion(first.pk)
    assert restored.name == "F1"
    with services.session_factory() as session:
        assert session.get(LesionRow, restored.pk) is not None
    assert restored.pk == first.pk or again.pk == first.pk
    assert _rows(contouring, case_pk)["F1"][0] > 50
