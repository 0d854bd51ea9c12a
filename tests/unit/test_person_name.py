"""DICOM person names shown as people read them."""

from __future__ import annotations

import pytest

from tace_planner.domain.person_name import readable_person_name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("liver_17^patient", "LIVER 17, patient"),
        ("Test^Patient", "TEST, Patient"),
        ("Doe^John^A^Dr^Jr", "Dr DOE, John A, Jr"),
        ("Doe", "Doe"),
        ("Doe^", "DOE"),
        ("^John", "John"),
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "YAMADA, Tarou"),
        ("  Anonymous  patient ", "Anonymous patient"),
        ("", ""),
        (None, ""),
    ],
)
def test_readable_person_name(value: str | None, expected: str) -> None:
    assert readable_person_name(value) == expected
