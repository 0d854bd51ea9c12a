"""Packaging: every package is listed, resources are found, importing starts nothing heavy."""

from __future__ import annotations

import importlib.resources
import subprocess
import sys
import tomllib
from pathlib import Path

import tace_planner

ROOT = Path(__file__).resolve().parents[2]


def test_every_subpackage_is_listed_in_pyproject() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    source = ROOT / "src"
    found = {
        ".".join(init.parent.relative_to(source).parts) for init in source.rglob("__init__.py")
    }
    found.add("tace_planner.resources")
    assert found == listed


def test_resources_are_found_through_importlib() -> None:
    resources = importlib.resources.files("tace_planner.resources")
    assert resources.joinpath("__init__.py").is_file()


def test_version_is_exposed() -> None:
    assert tace_planner.__version__.count(".") == 2


def test_cli_import_starts_nothing_heavy() -> None:
    code = (
        "import sys, tace_planner.cli, tace_planner.app;"
        "heavy = [m for m in ('scipy', 'skimage', 'highdicom', 'PySide6', 'pyqtgraph',"
        " 'sqlalchemy', 'pydicom') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_the_export_command_offers_the_formats_the_exporter_writes() -> None:
    from tace_planner.cli_export import FORMATS as OFFERED
    from tace_planner.services.export.runner import FORMATS as WRITTEN

    assert OFFERED == WRITTEN
