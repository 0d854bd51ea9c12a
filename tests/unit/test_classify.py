"""CT phase and MR sequence recognition from headers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tace_planner.imaging.dicom.classify import (
    classify_ct,
    classify_mr,
    phase_from_vessel_hu,
    plane_of,
)
from tace_planner.imaging.dicom.scan import InstanceHeader

BASE = InstanceHeader(
    path=Path("x.dcm"),
    sop_instance_uid="1",
    sop_class_uid="",
    transfer_syntax_uid="",
    patient_id="p",
    patient_name="",
    issuer="",
    patient_birth_on=None,
    patient_sex="",
    study_uid="2",
    study_on=None,
    study_description="",
    accession_number="",
    series_uid="3",
    series_number=1,
    series_on=None,
    modality="CT",
    series_description="",
    frame_of_reference_uid="",
    instance_number=1,
    orientation=(1, 0, 0, 0, 1, 0),
    position_lps_mm=(0, 0, 0),
    pixel_spacing_mm=(1, 1),
    slice_thickness_mm=2.5,
    rows=8,
    columns=8,
    number_of_frames=1,
    acquisition_time="",
    contrast_agent="",
    contrast_start_time="",
    field_strength_t=None,
    echo_time_ms=None,
    b_value=None,
    image_type=(),
    file_size_bytes=0,
)


def header(**changes: object) -> InstanceHeader:
    return dataclasses.replace(BASE, **changes)


@pytest.mark.parametrize(
    ("description", "phase"),
    [
        ("Abdomen native 2.5mm", "native"),
        ("Abdomen arterial 2.5mm", "arterial"),
        ("Abdomen portal venous 2.5mm", "venous"),
        ("Abdomen delayed 2.5mm", "delayed"),
        ("Брюшная полость артериальная фаза", "arterial"),
        ("Венозная фаза 1.25", "venous"),
        ("Отсроченная фаза", "delayed"),
        ("Нативная", "native"),
        ("PVP 3mm", "venous"),
    ],
)
def test_phase_from_description(description: str, phase: str) -> None:
    assert classify_ct([header(series_description=description, contrast_agent="x")]).phase == phase


@pytest.mark.parametrize(
    ("start", "acquired", "phase"),
    [
        ("101000", "101035", "arterial"),
        ("101000", "101110", "venous"),
        ("101000", "101300", "delayed"),
    ],
)
def test_phase_from_contrast_timing(start: str, acquired: str, phase: str) -> None:
    found = classify_ct(
        [header(contrast_agent="Iohexol", contrast_start_time=start, acquisition_time=acquired)]
    )
    assert found.phase == phase
    assert "after contrast start" in found.reason


def test_missing_contrast_tags_are_not_evidence_of_a_native_scan() -> None:
    """De-identification removes the Contrast/Bolus module from contrast series too."""
    silent = classify_ct([header(series_description="Abdomen 1.0 B30f")])
    assert silent.phase == "unknown"
    assert "not proof of a native scan" in silent.reason
    assert classify_ct([header(contrast_agent="Iohexol")]).phase == "unknown"
    assert classify_ct([header(series_description="Abdomen native")]).phase == "native"


@pytest.mark.parametrize(
    "description", ["EQP 1.5mm", "Abdomen EQP", "Equilibrium 1.0", "equilibrium phase"]
)
def test_equilibrium_names_the_delayed_phase(description: str) -> None:
    assert classify_ct([header(series_description=description)]).phase == "delayed"


def test_mr_sequences_and_planes() -> None:
    coronal = (1, 0, 0, 0, 0, -1)
    assert (
        classify_mr(
            [header(modality="MR", series_description="T2 TSE coronal", orientation=coronal)]
        ).sequence
        == "t2"
    )
    assert classify_mr([header(modality="MR", orientation=coronal)]).plane == "coronal"
    assert classify_mr([header(modality="MR", series_description="t1_vibe_tra")]).sequence == "t1"
    assert classify_mr([header(modality="MR", b_value=800.0)]).sequence == "dwi"
    adc = header(modality="MR", image_type=("DERIVED", "PRIMARY", "ADC"))
    assert classify_mr([adc]).sequence == "adc"
    assert classify_mr([header(modality="MR", series_description="scout")]).sequence == "other"


def test_plane_of_oblique_is_unknown() -> None:
    assert plane_of((1, 0, 0, 0, 1, 0)) == "axial"
    assert plane_of((0, 1, 0, 0, 0, -1)) == "sagittal"
    assert plane_of((1, 0, 0, 0, 0.7071, 0.7071)) == ""
    assert plane_of(None) == ""


# ---------------------------------------------------------------------------
# Added with the protocol check: vendor abbreviations, phrases, false positives
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "phase"),
    [
        ("AP 1.25mm", "arterial"),
        ("ABD_ART_1.25", "arterial"),
        ("HAP", "arterial"),
        ("LAP 2.5", "arterial"),
        ("Late arterial", "arterial"),
        ("Поздняя артериальная", "arterial"),
        ("Арт", "arterial"),
        ("Arteriell 35s", "arterial"),
        ("PV", "venous"),
        ("Liver_PV_70s", "venous"),
        ("Post-contrast venous", "venous"),
        ("C+ portal venous", "venous"),
        ("Вен", "venous"),
        ("portalvenös", "venous"),
        ("NECT", "native"),
        ("W/O", "native"),
        ("C-", "native"),
        ("non-contrast abdomen", "native"),
        ("Pre contrast", "native"),
        ("Пре", "native"),
        ("Нат", "native"),
        ("Без контраста", "native"),
        ("Delay", "delayed"),
        ("EQ 5mm", "delayed"),
        ("3 min", "delayed"),
        ("Equilibrium 180s", "delayed"),
        ("late portal venous", "delayed"),
        ("Поздняя венозная", "delayed"),
        ("Отср", "delayed"),
        ("Выделительная фаза", "delayed"),
    ],
)
def test_phase_abbreviations_and_phrases(description: str, phase: str) -> None:
    found = classify_ct([header(series_description=description, contrast_agent="x")])
    assert found.phase == phase, found.reason
    assert description in found.reason


@pytest.mark.parametrize(
    "description",
    [
        "LA 1.25",  # left atrium, not "late arterial"
        "PA chest",
        "Ventricle",
        "Артефакт",  # starts with "арт"
        "Abdomen 5.0 I30s",  # a kernel ending in "s" is not 30 seconds
        "Abdomen 1.0 B30f",
        "Intravenous",
        "C+",
        "CECT",
    ],
)
def test_no_phase_is_read_into_unrelated_words(description: str) -> None:
    found = classify_ct([header(series_description=description, contrast_agent="Iohexol")])
    assert found.phase == "unknown", found.reason


def test_several_phases_in_a_description_defer_to_timing() -> None:
    both = header(series_description="Arterial + venous", contrast_agent="x")
    found = classify_ct([both])
    assert found.phase == "unknown"
    assert "names several phases" in found.reason
    timed = dataclasses.replace(both, contrast_start_time="101000", acquisition_time="101110")
    assert classify_ct([timed]).phase == "venous"


def test_description_wins_over_timing_but_the_disagreement_is_noted() -> None:
    found = classify_ct(
        [
            header(
                series_description="Arterial",
                contrast_agent="x",
                contrast_start_time="101000",
                acquisition_time="101110",
            )
        ]
    )
    assert found.phase == "arterial"
    assert "suggests venous" in found.reason


@pytest.mark.parametrize(
    ("start", "acquired", "phase"),
    [
        ("101000", "101049", "arterial"),  # 49 s
        ("101000", "101050", "venous"),  # 50 s
        ("101000", "101159", "venous"),  # 119 s
        ("101000", "101200", "delayed"),  # 120 s (ECIO-ESOI: delayed ≥ 120 s)
        ("101000", "100850", "native"),  # scanned before the injection
        ("235950", "000025.5", "arterial"),  # across midnight: 35.5 s
        ("101000", "121000", "unknown"),  # 2 h: a clock error, not a phase
    ],
)
def test_timing_thresholds(start: str, acquired: str, phase: str) -> None:
    found = classify_ct(
        [header(contrast_agent="Iohexol", contrast_start_time=start, acquisition_time=acquired)]
    )
    assert found.phase == phase, found.reason


def test_localizer_gets_no_phase() -> None:
    scout = header(series_description="Topogram 0.6 T20s AP", image_type=("ORIGINAL", "LOCALIZER"))
    assert classify_ct([scout]).phase == "unknown"
    assert "localizer" in classify_ct([scout]).reason


@pytest.mark.parametrize(
    ("description", "sequence"),
    [
        ("t2_haste_tra_mbh", "t2"),
        ("T2W SPAIR", "t2"),
        ("Т2 акс", "t2"),  # Cyrillic Т
        ("t1_vibe_fs_tra", "t1"),
        ("T1 in-opposed", "t1"),
        ("ep2d_diff_b50_800", "dwi"),
        ("ДВИ", "dwi"),
        ("ep2d_diff_ADC", "adc"),
        ("T2*", "other"),
        ("haste localizer", "other"),
        ("FIESTA", "other"),
    ],
)
def test_mr_sequence_keywords(description: str, sequence: str) -> None:
    found = classify_mr([header(modality="MR", series_description=description)])
    assert found.sequence == sequence, found.reason


def test_dwi_collects_b_values_from_every_file() -> None:
    files = [header(modality="MR", b_value=b) for b in (50.0, 800.0, 50.0, 800.0, 0.0)]
    found = classify_mr(files)
    assert found.sequence == "dwi"
    assert found.b_values == (0.0, 50.0, 800.0)
    text_only = classify_mr([header(modality="MR", series_description="DWI b0 b800")])
    assert text_only.b_values == (0.0, 800.0)


def test_long_echo_time_without_keyword_is_t2_and_planes_from_words() -> None:
    found = classify_mr([header(modality="MR", echo_time_ms=92.0, orientation=None)])
    assert found.sequence == "t2"
    assert "echo time" in found.reason
    assert found.plane == ""
    cor = classify_mr([header(modality="MR", series_description="t2 cor", orientation=None)])
    assert cor.plane == "coronal"


@pytest.mark.parametrize(
    ("aorta", "portal_vein", "phase"),
    [
        (40.0, 40.0, "native"),  # the phantom's phases …
        (300.0, 120.0, "arterial"),
        (160.0, 180.0, "venous"),
        (110.0, 120.0, "delayed"),
        (79.0, None, "native"),  # … and the rule boundaries
        (81.0, 85.0, "delayed"),
        (200.0, 149.0, "arterial"),  # ratio 0.745 < 0.75
        (200.0, 150.0, "venous"),  # ratio 0.75, PV > 130
        (180.0, 90.0, "arterial"),  # early: PV < 0.6 × aorta
        (150.0, 130.0, "delayed"),
        (170.0, 125.0, "arterial"),  # aorta > ~150 HU with the portal vein lagging
        (160.0, 119.0, "arterial"),  # ratio 0.74
        (155.0, 110.0, "unknown"),  # just above the delayed range: not sure
        (170.0, 130.0, "unknown"),  # ratio 0.76 but PV not above 130 HU
        (250.0, None, "arterial"),
        (160.0, None, "venous"),
        (110.0, None, "delayed"),
    ],
)
def test_phase_from_vessel_hu(aorta: float, portal_vein: float | None, phase: str) -> None:
    found = phase_from_vessel_hu(aorta, portal_vein)
    assert found.phase == phase, found.reason
    assert f"aorta {aorta:.0f} HU" in found.reason
