"""How far a view can be trusted: the geometry report of its series and the shape of its plane.

A clean series shows no badge. A series with a geometry warning (tilted
gantry, uneven spacing, duplicates) gets an amber badge, one whose slice
positions cannot be trusted (gaps, origins off a line) a red one, so a
tilted or gapped series never looks like a clean one.
"""

from __future__ import annotations

from tace_planner.imaging.reformat import ANGLE_TOLERANCE_DEG, PlaneGeometry

_MAX_CHARS = 140


def _short(text: str) -> str:
    return text if len(text) <= _MAX_CHARS else text[: _MAX_CHARS - 1] + "…"


def trust_badge(
    geometry: PlaneGeometry, status: str = "", warnings: tuple[str, ...] = ()
) -> tuple[str, str]:
    """The badge text and level ("error", "warning", "info"; "" text for none).

    Parameters
    ----------
    geometry : PlaneGeometry
        The plane shown (its affine reveals shear, skew and obliquity).
    status : str
        The series part's geometry status: "ok", "warning", "unmeasurable" or "".
    warnings : tuple of str
        The report's sentences, first one shown.
    """
    notes = []
    if geometry.stack_shear_deg > ANGLE_TOLERANCE_DEG:
        if geometry.is_acquisition_plane:
            notes.append(
                f"tilted gantry {geometry.stack_shear_deg:.1f}°: sheared grid, slices exact"
            )
        else:
            notes.append(
                f"tilted gantry {geometry.stack_shear_deg:.1f}°: reformat drawn sheared "
                f"(plane {geometry.oblique_deg:.1f}° oblique)"
            )
    elif geometry.oblique_deg > 1.0:
        notes.append(f"oblique plane ({geometry.oblique_deg:.1f}° off {geometry.orientation})")
    if status == "unmeasurable":
        first = warnings[0] if warnings else "slice positions cannot be trusted"
        return _short(f"✖ Geometry unmeasurable — do not measure: {first}"), "error"
    if status == "warning" or notes:
        detail = warnings[0] if warnings else "; ".join(notes)
        return _short(f"⚠ Geometry warning: {detail}"), "warning"
    return "", ""
