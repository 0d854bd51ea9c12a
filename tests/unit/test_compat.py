"""Tests for the known-bad Qt binding guard (no Qt needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tace_planner.compat import KNOWN_BAD, check_qt_binding, installed_qt_versions, parse_release

PY311 = (3, 11, 7)
PY312 = (3, 12, 1)


@pytest.mark.parametrize(
    ("installed", "python_version"),
    [
        ({"PySide6-Essentials": "6.11.3", "shiboken6": "6.11.3"}, PY311),
        ({"PySide6-Essentials": "6.12.0", "shiboken6": "6.12.0"}, PY312),
        ({"PySide6-Essentials": "6.12.0", "shiboken6": "6.12.0"}, (3, 13, 0)),
        ({"PySide6-Essentials": "6.7.0", "shiboken6": "6.7.0"}, PY311),
        ({"PySide6-Essentials": "6.13.0", "shiboken6": "6.13.0"}, PY311),
    ],
    ids=["6.11.3-py3.11", "6.12.0-py3.12", "6.12.0-py3.13", "6.7.0-py3.11", "6.13.0-py3.11"],
)
def test_good_combinations_pass(installed: dict[str, str], python_version: tuple[int, ...]) -> None:
    assert check_qt_binding(python_version, installed) is None


@pytest.mark.parametrize(
    ("installed", "culprit"),
    [
        ({"PySide6-Essentials": "6.12.0", "shiboken6": "6.12.0"}, "PySide6-Essentials 6.12.0"),
        ({"PySide6-Essentials": "6.12.1", "shiboken6": "6.12.1"}, "PySide6-Essentials 6.12.1"),
        ({"PySide6-Essentials": "6.12.0rc1"}, "PySide6-Essentials 6.12.0rc1"),
        ({"PySide6": "6.12.0"}, "PySide6 6.12.0"),
        ({"PySide6-Essentials": "6.11.3", "shiboken6": "6.12.0"}, "shiboken6 6.12.0"),
    ],
    ids=["6.12.0", "6.12.1", "6.12.0rc1", "meta-package", "mismatched-shiboken"],
)
def test_bad_combinations_on_python_311_are_refused(
    installed: dict[str, str], culprit: str
) -> None:
    message = check_qt_binding(PY311, installed)

    assert message is not None
    assert culprit in message
    assert "Python 3.11.7" in message
    assert "bool_dealloc" in message
    assert "<6.12" in message
    assert "docs/adr/0003-qt-binding-guard.md" in message


def test_shiboken_culprit_points_to_the_binding_to_reinstall() -> None:
    message = check_qt_binding(PY311, {"shiboken6": "6.12.0"})

    assert message is not None
    assert 'pip install "PySide6-Essentials>=6.7,<6.12"' in message


def test_missing_pyside_is_not_an_error() -> None:
    assert check_qt_binding(PY311, {}) is None


def test_accepts_sys_version_info() -> None:
    assert check_qt_binding(sys.version_info, {}) is None


def test_unparseable_version_is_not_refused() -> None:
    assert check_qt_binding(PY311, {"PySide6-Essentials": "unknown"}) is None


@pytest.mark.parametrize(
    ("version", "release"),
    [
        ("6.12.0", (6, 12, 0)),
        ("6.12.0rc1", (6, 12, 0)),
        ("6.11.3.post1", (6, 11, 3)),
        ("v6.12", (6, 12)),
        ("dev", None),
    ],
)
def test_parse_release(version: str, release: tuple[int, ...] | None) -> None:
    assert parse_release(version) == release


def test_known_bad_covers_every_qt_distribution_below_python_312() -> None:
    assert {bad.package for bad in KNOWN_BAD} == {"PySide6-Essentials", "PySide6", "shiboken6"}
    assert all(bad.python_below == (3, 12) for bad in KNOWN_BAD)


def test_installed_versions_only_lists_qt_distributions() -> None:
    assert set(installed_qt_versions()) <= {"PySide6-Essentials", "PySide6", "shiboken6"}


def test_compat_does_not_import_qt() -> None:
    code = (
        "import sys, tace_planner.compat as c; c.check_qt_binding(); "
        "sys.exit(any(m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph') "
        "for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_missing_xcb_libraries_give_the_exact_apt_line() -> None:
    from tace_planner.compat import xcb_platform_problem

    absent = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0"}
    message = xcb_platform_problem(
        env={"DISPLAY": ":0"}, platform="linux", can_load=lambda name: name not in absent
    )
    assert message is not None
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0\n" in message


def test_no_xcb_check_off_linux_or_on_other_platforms() -> None:
    from tace_planner.compat import xcb_platform_problem

    def nothing(name: str) -> bool:
        return False

    assert xcb_platform_problem(env={}, platform="win32", can_load=nothing) is None
    offscreen = {"QT_QPA_PLATFORM": "offscreen"}
    assert xcb_platform_problem(env=offscreen, platform="linux", can_load=nothing) is None
    assert xcb_platform_problem(env={}, platform="linux", can_load=lambda name: True) is None


def test_readme_and_ci_install_every_xcb_library() -> None:
    from pathlib import Path

    from tace_planner.compat import XCB_LIBRARIES

    root = Path(__file__).resolve().parents[2]
    readme = root.joinpath("README.md").read_text(encoding="utf-8")
    ci = root.joinpath(".ci", "run").read_text(encoding="utf-8")
    for _, package in XCB_LIBRARIES:
        assert package in readme, package
        assert package in ci, package
