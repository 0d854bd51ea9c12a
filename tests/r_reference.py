"""Read the R reference values and input data sets in tests/data/r_reference/."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

FOLDER = Path(__file__).parent / "data" / "r_reference"
REL_TOL = 1e-9


def read_reference(path: Path = FOLDER / "reference.csv") -> dict[str, str]:
    """key -> value text as make_reference.R wrote it."""
    with path.open(newline="") as handle:
        return {row["key"]: row["value"] for row in csv.DictReader(handle)}


def number(reference: dict[str, str], key: str) -> float | None:
    """The reference number for ``key``; None where R said NA."""
    text = reference[key]
    return None if text == "NA" else float(text)


def assert_equal_to_r(ours: float | None, reference: dict[str, str], key: str) -> None:
    """``ours`` equals R's value at 1e-9 relative tolerance (NA ⇔ None)."""
    expected = number(reference, key)
    if expected is None:
        assert ours is None, f"{key}: R says NA, we say {ours}"
        return
    assert ours is not None, f"{key}: R says {expected}, we say None"
    assert math.isclose(ours, expected, rel_tol=REL_TOL, abs_tol=1e-300), (
        f"{key}: R {expected!r}, ours {ours!r}"
    )


def samples() -> dict[str, dict[str, list[float]]]:
    """dataset -> group -> values of samples.csv."""
    data: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with (FOLDER / "samples.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            data[row["dataset"]][row["group"]].append(float(row["value"]))
    return data


def rows(name: str, dataset: str) -> list[dict[str, str]]:
    """The rows of ``name``.csv belonging to ``dataset``."""
    with (FOLDER / f"{name}.csv").open(newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["dataset"] == dataset]


def table(dataset: str) -> list[list[int]]:
    """A contingency table of tables.csv."""
    cells = rows("tables", dataset)
    shape = (max(int(c["row"]) for c in cells), max(int(c["col"]) for c in cells))
    counts = [[0] * shape[1] for _ in range(shape[0])]
    for cell in cells:
        counts[int(cell["row"]) - 1][int(cell["col"]) - 1] = int(cell["count"])
    return counts
