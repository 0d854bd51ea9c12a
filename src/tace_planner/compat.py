"""Known-bad combinations of the Qt binding and Python, checked before Qt is imported."""

from __future__ import annotations

import importlib.metadata
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

ADR_REFERENCE = "docs/adr/0003-qt-binding-guard.md"

#: Distributions whose versions decide whether the Qt binding is usable.
QT_DISTRIBUTIONS = ("PySide6-Essentials", "PySide6", "shiboken6")

_LEADING_RELEASE = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True, slots=True)
class BadCombination:
    """A release range of one distribution that must not run on older Pythons.

    Parameters
    ----------
    package : str
        Distribution name as installed, e.g. ``"PySide6-Essentials"``.
    specifier : str
        The bad range in PEP 440 spelling, for messages (``">=6.12,<6.13"``).
    first_bad : tuple of int
        Lowest bad release; pre-releases of it count as bad too.
    first_good : tuple of int or None
        Lowest release above the range that is known or assumed good; None
        when no upper bound is known.
    python_below : tuple of int
        The combination is bad only on Python versions below this one.
    description : str
        What goes wrong, in words a user can pass on to support.
    reference : str
        Where the decision is recorded.
    """

    package: str
    specifier: str
    first_bad: tuple[int, ...]
    first_good: tuple[int, ...] | None
    python_below: tuple[int, int]
    description: str
    reference: str = ADR_REFERENCE

    def matches(self, version: str, python_version: Sequence[int]) -> bool:
        """Return True if ``version`` of this package is bad on ``python_version``."""
        if tuple(python_version[:2]) >= self.python_below:
            return False
        release = parse_release(version)
        if release is None:
            return False
        below_upper = self.first_good is None or release < self.first_good
        return self.first_bad <= release and below_upper


_BOOL_DEALLOC = (
    "every Signal.emit() loses one reference to True on CPython < 3.12, and the "
    "process aborts with 'Fatal Python error: bool_dealloc' after about 1,000 "
    "emissions (a few scrolls through a CT series)"
)

# Only 6.12.0 was measured as bad. The whole 6.12 series is refused on Python < 3.12
# because a patch release's fix is unverified; see the ADR for how to lift it.
KNOWN_BAD: tuple[BadCombination, ...] = tuple(
    BadCombination(
        package=package,
        specifier=">=6.12,<6.13",
        first_bad=(6, 12),
        first_good=(6, 13),
        python_below=(3, 12),
        description=_BOOL_DEALLOC,
    )
    for package in QT_DISTRIBUTIONS
)


def parse_release(version: str) -> tuple[int, ...] | None:
    """Return the numeric release part of a version string.

    Parameters
    ----------
    version : str
        An installed version such as ``"6.12.0"``, ``"6.12.0rc1"`` or ``"6.11.3.post1"``.

    Returns
    -------
    tuple of int or None
        ``(6, 12, 0)``, ``(6, 12, 0)`` and ``(6, 11, 3)`` for the examples above;
        None if the string does not start with a number.
    """
    found = _LEADING_RELEASE.match(version.strip().lstrip("vV"))
    if found is None:
        return None
    return tuple(int(part) for part in found.group().split("."))


def installed_qt_versions() -> dict[str, str]:
    """Return the installed versions of the Qt binding's distributions.

    Reads package metadata only; nothing is imported, so this is safe to call
    before Qt is loaded and on machines without PySide6.

    Returns
    -------
    dict of str to str
        Distribution name to version, for the names in ``QT_DISTRIBUTIONS``
        that are installed.
    """
    versions: dict[str, str] = {}
    for name in QT_DISTRIBUTIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def check_qt_binding(
    python_version: Sequence[int] = sys.version_info,
    installed: Mapping[str, str] | None = None,
) -> str | None:
    """Return a message for the user if the Qt binding is known to crash here.

    Call it at start-up before anything imports PySide6 or pyqtgraph, and
    refuse to start with the message if it is not None.

    Parameters
    ----------
    python_version : sequence of int
        Major and minor version of the running Python (default: this one).
    installed : mapping of str to str, optional
        Distribution name to installed version; read from package metadata
        when omitted (tests pass fakes).

    Returns
    -------
    str or None
        None if the combination is not known to be bad (including when PySide6
        is not installed at all); otherwise a message naming the versions, the
        problem, how to fix it and the ADR.
    """
    versions = installed_qt_versions() if installed is None else dict(installed)
    python = ".".join(str(part) for part in tuple(python_version)[:3])
    for bad in KNOWN_BAD:
        version = versions.get(bad.package)
        if version is None or not bad.matches(version, python_version):
            continue
        wanted = ".".join(str(part) for part in bad.first_bad)
        allowed = ".".join(str(part) for part in bad.python_below)
        # shiboken6 follows PySide6 pin for pin, so the binding is what to reinstall.
        fix = "PySide6-Essentials" if bad.package == "shiboken6" else bad.package
        return (
            f"TACE Planner cannot start: {bad.package} {version} on Python {python} is a "
            f"known-bad combination ({bad.specifier} on Python < {allowed}): "
            f"{bad.description}.\n"
            f'Fix: install an older binding (pip install "{fix}>=6.7,<{wanted}") '
            f"or run TACE Planner on Python {allowed} or newer.\n"
            f"Details: {bad.reference}"
        )
    return None


#: Shared libraries that Qt's X11 platform plugin (``platforms/libqxcb.so`` and
#: ``libQt6XcbQpa.so.6``) and QtGui load, with the Debian/Ubuntu package of each.
#: Read from the plugin's ELF NEEDED entries (``objdump -p``) of PySide6 6.x.
XCB_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libxcb.so.1", "libxcb1"),
    ("libX11.so.6", "libx11-6"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-render.so.0", "libxcb-render0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxcb-shm.so.0", "libxcb-shm0"),
    ("libxcb-sync.so.1", "libxcb-sync1"),
    ("libxcb-util.so.1", "libxcb-util1"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
    ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libGL.so.1", "libgl1"),
    ("libEGL.so.1", "libegl1"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
    ("libdbus-1.so.3", "libdbus-1-3"),
)


def _can_load(name: str) -> bool:
    import ctypes

    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def missing_xcb_packages(can_load: Callable[[str], bool] = _can_load) -> list[str]:
    """The packages whose libraries the xcb platform plugin needs and cannot load here."""
    packages: list[str] = []
    for library, package in XCB_LIBRARIES:
        if not can_load(library) and package not in packages:
            packages.append(package)
    return packages


def xcb_platform_problem(
    env: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    can_load: Callable[[str], bool] = _can_load,
) -> str | None:
    """A message with the exact ``apt-get install`` line when Qt's xcb plugin cannot load.

    Qt itself aborts in that case with a message that names ``xcb-cursor0``
    whatever is missing; this check runs before Qt is loaded. It applies on
    Linux when the platform is xcb (``QT_QPA_PLATFORM`` unset or ``xcb``, and no
    Wayland session).

    Returns
    -------
    str or None
        None when the platform is not xcb or nothing is missing.
    """
    env = os.environ if env is None else env
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()
    if chosen not in ("", "xcb") or (not chosen and env.get("WAYLAND_DISPLAY")):
        return None
    missing = missing_xcb_packages(can_load)
    if not missing:
        return None
    return (
        "TACE Planner cannot open its window: Qt's X11 (xcb) platform plugin needs system "
        f"libraries that are missing ({', '.join(missing)}).\n"
        f"Install them with:\n  sudo apt-get install {' '.join(missing)}\n"
        "(or run without a display: QT_QPA_PLATFORM=offscreen)"
    )
