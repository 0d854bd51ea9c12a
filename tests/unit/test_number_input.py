"""How the Plan and procedure forms read a typed number (no Qt: runs in the core stage)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from tace_planner.ui.number_input import float_or_none


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.8", 0.8),
        ("0,8", 0.8),  # a decimal comma is a decimal point
        (" 40,5 ", 40.5),
        ("100", 100.0),
        ("-2", -2.0),
        ("1e2", 100.0),
    ],
)
def test_a_number_is_read_with_a_decimal_point_or_comma(text: str, expected: float) -> None:
    assert float_or_none(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_field_is_none(text: str) -> None:
    assert float_or_none(text) is None


@pytest.mark.parametrize("text", ["abc", "1,000.5", "2 mL", "1.2.3"])
def test_a_text_that_is_no_number_is_nan(text: str) -> None:
    # NaN, not an exception: the form names the field (a thousands separator is no number)
    value = float_or_none(text)
    assert value is not None
    assert math.isnan(value)


def test_the_parser_loads_no_qt() -> None:
    # the core test stage runs without PySide6: importing the parser must not need it
    code = (
        "import sys, tace_planner.ui.number_input; "
        "print(sorted(m for m in sys.modules if m.startswith('PySide6')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
