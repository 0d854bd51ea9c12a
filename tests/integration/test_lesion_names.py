"""Names drawn for new foci never reuse a name the case ever used (deleted or renamed),
so that "F7" in the audit trail means one focus only."""

from __future__ import annotations

from typing import Any

import pytest

from planning_seed import seed_case

pytestmark = [pytest.mark.db]


def _new_focus(services: Any, case_pk: int) -> str:
    return services.contouring.lesions.create_lesion(case_pk).lesion.name


def test_a_deleted_focus_name_is_not_drawn_again(services: Any) -> None:
    """Delete F7, then contour a new focus: it was called F7 again."""
    case_pk = seed_case(services, measured=False)
    names = [_new_focus(services, case_pk) for _ in range(7)]
    assert names == [f"F{n}" for n in range(1, 8)]
    services.contouring.lesions.delete_lesion(services.contouring.lesions.find(case_pk, "F7").pk)
    assert services.contouring.lesions.next_focus_name(case_pk) == "F8"
    assert services.contouring.next_focus_name(case_pk) == "F8"  # the GUI's and CLI's path
    assert _new_focus(services, case_pk) == "F8"


def test_a_gap_left_by_a_deleted_or_renamed_focus_stays_a_gap(services: Any) -> None:
    case_pk = seed_case(services, measured=False)
    for _ in range(3):
        _new_focus(services, case_pk)
    lesions = services.contouring.lesions
    lesions.delete_lesion(lesions.find(case_pk, "F1").pk)
    lesions.rename_lesion(lesions.find(case_pk, "F2").pk, "Dome")
    assert _new_focus(services, case_pk) == "F4"
    assert _new_focus(services, case_pk) == "F5"
    # The deleted F1 still comes back under its own name (nothing took it).
    deleted = services.contouring.lesions.find(case_pk, "F4")
    services.contouring.lesions.delete_lesion(deleted.pk)
    assert services.contouring.lesions.restore_lesion(deleted.pk).name == "F4"
    assert _new_focus(services, case_pk) == "F6"


def test_names_used_in_another_case_do_not_count(services: Any) -> None:
    first = seed_case(services, measured=False, patient_id="P-1")
    second = seed_case(services, measured=False, patient_id="P-2")
    services.contouring.lesions.delete_lesion(
        services.contouring.lesions.create_lesion(first).lesion.pk
    )
    assert services.contouring.lesions.next_focus_name(first) == "F2"
    assert services.contouring.lesions.next_focus_name(second) == "F1"
