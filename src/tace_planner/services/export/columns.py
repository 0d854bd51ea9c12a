"""The columns of every export level, written once: the CSV header, the data dictionary,
the JSON record and the REDCap dictionary all come from these lists.

A ``date`` column ``x_on`` is exported as ``x_day``, the days from the case's first TACE
(negative before it), and — only when the export is not de-identified — also as the date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tace_planner.domain.ttp import SEQUENCES, TIMINGS

ANCHOR_NOTE = "days from the first TACE (day 0; negative before it)"


@dataclass(frozen=True)
class Column:
    """One exported variable: name, type (integer, number, text, date, yes_no), unit,
    meaning, allowed values (empty: any)."""

    name: str
    type: str
    unit: str
    meaning: str
    allowed: tuple[str, ...] = ()


ID_COLUMNS = (
    Column("record_id", "text", "", "patient: Patient ID, or a pseudonym when de-identified"),
    Column("case_id", "integer", "", "treatment case number within this export"),
)

CASE = (
    Column("sex", "text", "", "sex as recorded in the images", ("M", "F", "O")),
    Column("age_at_anchor_years", "integer", "years", "age at the first TACE"),
    Column("primary_site", "text", "", "site of the primary tumour"),
    Column("grade", "text", "", "tumour grade"),
    Column("metastases_timing", "text", "", "liver metastases at diagnosis or later", TIMINGS),
    Column("tace_sequence", "text", "", "TACE first or after chemotherapy", SEQUENCES),
    Column("diagnosed_on", "date", "", "diagnosis of the primary tumour"),
    Column("liver_metastases_on", "date", "", "liver metastases found"),
    Column("first_tace_on", "date", "", "first signed TACE"),
    Column("n_tace", "integer", "", "signed TACE procedures"),
    Column("delivered_total_mg", "number", "mg", "irinotecan delivered over all TACE"),
    Column("ttp_after_tace_days", "integer", "days", "time to progression after the first course"),
    Column("progression_event", "integer", "", "1 progression, 0 censored", ("0", "1")),
    Column("n_therapy_lines", "integer", "", "systemic therapy lines recorded"),
    Column("closed_on", "date", "", "follow-up closed"),
    Column("closure_reason", "text", "", "why follow-up was closed"),
)

LESION = (
    Column("lesion", "text", "", "lesion name (identity kept across timepoints)"),
    Column("lesion_kind", "text", "", "a focus or the whole liver", ("focus", "liver")),
    Column(
        "couinaud_segment",
        "text",
        "",
        "Couinaud segment",
        tuple(["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]),
    ),
    Column("is_target", "yes_no", "", "RECIST target lesion", ("0", "1")),
    Column("timepoint", "text", "", "timepoint label as recorded (the visit when de-identified)"),
    Column("visit", "text", "", "baseline or follow-up k, numbered by imaging order"),
    Column("timepoint_kind", "text", "", "kind of timepoint", ("baseline", "follow_up")),
    Column("imaged_on", "date", "", "imaging date of the timepoint"),
    Column("volume_cm3", "number", "cm3", "volume from the contour"),
    Column("longest_axial_diameter_mm", "number", "mm", "longest axial diameter (RECIST 1.1)"),
    Column("short_axis_mm", "number", "mm", "short axis perpendicular to it"),
    Column("longest_3d_diameter_mm", "number", "mm", "longest diameter in 3D"),
    Column("mean_hu", "number", "HU", "mean attenuation on the arterial phase"),
    Column("enhancing_fraction", "number", "", "fraction of enhancing voxels (0-1)"),
    Column("method", "text", "", "how the contour was made", ("auto", "manual", "semi_auto")),
    Column("trust", "text", "", "measurement trust", ("ok", "warning", "untrusted")),
)

PROCEDURE = (
    Column("tace_number", "integer", "", "TACE number in the course"),
    Column("performed_on", "date", "", "date of the procedure"),
    Column("product_code", "text", "", "bead product"),
    Column("vials", "integer", "", "vials prepared"),
    Column("loaded_mg", "number", "mg", "irinotecan loaded"),
    Column("delivered_fraction", "number", "", "fraction of the suspension injected (0-1)"),
    Column("delivered_mg", "number", "mg", "irinotecan delivered"),
    Column("segments", "text", "", "Couinaud segments treated, separated by ;"),
    Column("endpoint", "text", "", "angiographic endpoint"),
    Column("contrast_ml", "number", "mL", "contrast medium"),
    Column("fluoroscopy_min", "number", "min", "fluoroscopy time"),
    Column("dap_gy_cm2", "number", "Gy cm2", "dose-area product"),
    Column("post_embolisation_syndrome", "yes_no", "", "post-embolisation syndrome", ("0", "1")),
    Column("stay_days", "integer", "days", "hospital stay"),
    Column("ae_count", "integer", "", "adverse events recorded"),
    Column(
        "ae_max_ctcae_grade", "integer", "", "worst CTCAE v5.0 grade", ("1", "2", "3", "4", "5")
    ),
)

THERAPY_LINE = (
    Column("line_number", "integer", "", "systemic therapy line number"),
    Column("drug", "text", "", "drug or regimen"),
    Column("start_on", "date", "", "start of the line"),
    Column("stop_on", "date", "", "end of the line"),
    Column("best_response", "text", "", "best response on the line"),
    Column("progression_on", "date", "", "progression on the line"),
    Column("progression_site", "text", "", "where progression was seen"),
)

LEVELS: dict[str, tuple[Column, ...]] = {
    "case": CASE,
    "lesion_timepoint": LESION,
    "procedure": PROCEDURE,
    "therapy_line": THERAPY_LINE,
}
"""Level name → its columns (after the id columns)."""


def expanded(columns: tuple[Column, ...], *, with_dates: bool) -> list[Column]:
    """The columns as written: each date column as ``*_day``, plus the date when allowed."""
    out: list[Column] = list(ID_COLUMNS)
    for column in columns:
        if column.type != "date":
            out.append(column)
            continue
        stem = column.name.removesuffix("_on")
        out.append(Column(f"{stem}_day", "integer", "days", f"{column.meaning}: {ANCHOR_NOTE}"))
        if with_dates:
            out.append(column)
    return out


def cell(value: Any) -> Any:
    """A value as exported: booleans as 1/0, dates ISO, the rest unchanged (None = missing)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
