"""Re-run tests/data/r_reference/make_reference.R when R is installed and compare.

CI machines without R skip this (the other tests read the committed reference.csv).
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import pytest

from r_reference import FOLDER, REL_TOL, read_reference

REFERENCE = read_reference()


def _r_with_survival() -> str | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    probe = subprocess.run(
        [rscript, "-e", "library(survival); cat(R.version.string)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.stdout if probe.returncode == 0 else None


@pytest.mark.slow
def test_rerunning_the_r_script_reproduces_the_committed_values(tmp_path: Path) -> None:
    version = _r_with_survival()
    if version is None:
        pytest.skip("Rscript with the survival package is not on PATH; using reference.csv")
    if not version.startswith("R version 4.2."):
        pytest.skip(f"the fixtures pin R 4.2 (the source study's version); found {version}")
    out = tmp_path / "reference.csv"
    subprocess.run(
        ["Rscript", "make_reference.R", str(out)],
        cwd=FOLDER,
        check=True,
        capture_output=True,
    )
    fresh = read_reference(out)
    assert fresh.keys() == REFERENCE.keys()
    for key, text in REFERENCE.items():
        try:
            committed, rerun = float(text), float(fresh[key])
        except ValueError:
            assert fresh[key] == text, key
            continue
        if math.isnan(committed):
            assert math.isnan(rerun), key
        else:
            assert math.isclose(rerun, committed, rel_tol=REL_TOL), key
