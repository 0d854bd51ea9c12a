"""The committed R reference values belong to the committed inputs.

Without R the tests compare against reference.csv; this checks that file is not stale
(the MD5 of every input as R read it). tests/integration/test_r_rerun.py re-runs the
R script when Rscript is on PATH.
"""

from __future__ import annotations

import hashlib

import pytest

from r_reference import FOLDER, read_reference

REFERENCE = read_reference()
INPUTS = ["samples.csv", "regression.csv", "tables.csv", "survival.csv", "cohort.csv"]


@pytest.mark.parametrize("name", INPUTS)
def test_reference_was_computed_on_these_inputs(name: str) -> None:
    digest = hashlib.md5((FOLDER / name).read_bytes(), usedforsecurity=False).hexdigest()
    assert digest == REFERENCE[f"md5.{name}"], f"{name} changed: re-run make_reference.R"
