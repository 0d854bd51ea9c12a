"""Recognise CT contrast phases, MR sequences and image planes from series headers.

What each series is matters to the protocol check (:mod:`tace_planner.domain.protocol`)
and to response assessment (lesions are compared in the same phase). The answer is a
:class:`Classification` whose ``reason`` says which evidence decided, so that a user can
judge it and correct it (the correction is stored as ``classification_source="user"``).

Evidence, strongest first
-------------------------
CT phase
    1. The series description, when it names exactly one phase: English, Russian and
       German words and the usual vendor abbreviations ("AP", "HAP", "LAP", "PV",
       "PVP", "NECT", "W/O", "C-", "Delay", "EQ", "EQP", "Equilibrium", "Нат", "Арт",
       "Вен", "Отср", …) or a delay written as a time ("35 s", "70s", "3 min").
    2. The delay between (0018,1042) *Contrast/Bolus Start Time* and (0008,0032)
       *Acquisition Time* (:data:`ARTERIAL_BEFORE_S`, :data:`DELAYED_FROM_S`).
    3. Otherwise "unknown", with the reason. A missing Contrast/Bolus module is
       *not* taken as native: (0018,0010) *Contrast/Bolus Agent* is required
       whenever contrast was given (PS3.3 C.7.6.4), but de-identification tools
       remove the module from contrast series too. The images then decide: the
       import measures the aorta and portal vein
       (:func:`tace_planner.imaging.vessels.phase_from_volume`,
       :func:`phase_from_vessel_hu`) and says so in the reason.
MR sequence
    ADC from (0008,0008) *Image Type*, DWI from b-values or *Image Type*, then
    keywords in the description, then a long echo time (T2).
Plane
    (0020,0037) *Image Orientation (Patient)*, else keywords ("tra", "cor", "sag").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Re-exported: the values of Classification.phase, .sequence and .plane.
from tace_planner.domain.vocabulary import CT_PHASES, MR_SEQUENCES, PLANES
from tace_planner.imaging.dicom.scan import InstanceHeader

__all__ = ["CT_PHASES", "MR_SEQUENCES", "PLANES", "Classification", "classify_series"]

ARTERIAL_BEFORE_S = 50.0
"""Delays after the start of injection shorter than this are arterial.

Late arterial imaging is done at 35–40 s (ECIO-ESOI 2020, Table 2) or 13–17 s
after aortic arrival with bolus tracking (≈ 30–45 s after injection start);
portal venous imaging at ≈ 70 s. 50 s splits the two with a margin on each side.
"""

DELAYED_FROM_S = 120.0
"""Delays from this many seconds on are delayed (equilibrium) phase.

ECIO-ESOI 2020: late venous / delayed ≥ 120 s; LI-RADS v2018 CT: 2–5 min.
"""

NO_CONTRAST_TAGS_REASON = (
    "no contrast agent recorded (0018,0010) and no phase in the description; a missing "
    "contrast record is not proof of a native scan (de-identification removes it)"
)
"""Why a CT series without contrast tags or phase words is "unknown" until its images are read."""

MAX_PLAUSIBLE_DELAY_S = 30 * 60.0
"""Delays longer than 30 min are treated as a clock error, not as a phase."""

MIN_DESCRIBED_DELAY_S = 10.0
"""Shorter "times" in a description ("0.5s" rotation, "5 с контрастом") are not delays."""

LONG_ECHO_TIME_MS = 60.0
"""An MR series without a sequence keyword and TE ≥ 60 ms is taken as T2-weighted."""

_LOCALIZER_WORDS = frozenset(
    {"scout", "topogram", "localizer", "localiser", "surview", "survey", "scanogram", "топограмма"}
)


@dataclass(frozen=True, slots=True)
class Classification:
    """What a series is, and why the app thinks so.

    Parameters
    ----------
    phase : str
        CT contrast phase, one of :data:`CT_PHASES`; "" for MR and others.
    sequence : str
        MR sequence, one of :data:`MR_SEQUENCES`; "" for CT and others.
    plane : str
        One of :data:`PLANES`, or "" when oblique or unknown.
    reason : str
        The evidence that decided, in one sentence, for the user.
    b_values : tuple of float
        Distinct diffusion b-values (s/mm²) of a DWI series, ascending; empty otherwise.
    """

    phase: str = ""
    sequence: str = ""
    plane: str = ""
    reason: str = ""
    b_values: tuple[float, ...] = ()


# ---------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------

# Letters only (no digits, no underscore): "ART_1.25mm" -> "art"; "t1_vibe" -> "t", "vibe".
_WORD = re.compile(r"[^\W\d_]+")
# A delay written in the description: "35s", "70 sec", "3 min", "180 с", "3мин".
# The number must not follow a letter or digit, so kernels like "B30s" or "I26s" are not times.
_DELAY = re.compile(
    r"(?<![^\W_])(\d+(?:[.,]\d+)?)\s*"
    r"(s|sec|secs|second|seconds|с|сек|min|mins|minute|minutes|мин)(?![^\W_])",
    re.I,
)
# Symbols that words alone miss.
_NATIVE_SYMBOL = re.compile(r"(?<![^\W_])(?:w/o|c-|к-)(?![^\W_])", re.I)
_CONTRAST_SYMBOL = re.compile(r"(?<![^\W_])(?:c\+|w/|к\+)(?![^\W_])", re.I)

_NATIVE_WORDS = frozenset(
    {
        "native", "nativ", "nativa", "nat", "plain", "unenhanced", "nonenhanced",
        "noncontrast", "noncon", "nect", "ncct", "nc", "pre", "precontrast", "precon", "wo",
        "unenh", "leer", "нат", "пре",
    }
)  # fmt: skip
_NATIVE_PREFIXES = (
    "nativ", "unenhanc", "nonenhanc", "noncontrast", "precontrast",
    "натив", "бесконтраст", "преконтраст", "доконтраст",
)  # fmt: skip
_ARTERIAL_WORDS = frozenset({"art", "arter", "ap", "hap", "lap", "eap", "lhap", "ehap", "арт"})
_ARTERIAL_PREFIXES = ("arteri", "артери")
_VENOUS_WORDS = frozenset(
    {"ven", "veno", "venous", "portal", "pv", "pvp", "portovenous", "portalvenous", "вен"}
)  # fmt: skip
# "паренхиматозная" (parenchymal) is the Russian name of the ≈ 70–100 s phase.
_VENOUS_PREFIXES = (
    "venös", "venoes", "venos", "portal", "portven", "портал", "портовен", "вен", "паренхим",
)  # fmt: skip
_DELAYED_WORDS = frozenset(
    {"delay", "delayed", "del", "dly", "late", "eq", "eqp", "equ", "equil", "отср", "поздн"}
)
_DELAYED_PREFIXES = (
    "delay", "equilib", "excret", "urogra", "spät", "spaet", "tardi",
    "отср", "отлож", "равновес", "выделит", "экскрет", "поздн",
)  # fmt: skip
_CONTRAST_WORDS = frozenset(
    {"post", "postcontrast", "contrast", "enhanced", "ce", "cect", "km", "kontrast", "with"}
)
_CONTRAST_PREFIXES = ("postcontr", "контраст", "постконтр", "усилен")
_LATE_PREFIXES = ("late", "delay", "поздн", "spät", "spaet")
_EARLY_PREFIXES = ("early", "ранн", "früh")
_NEGATION_WORDS = frozenset({"non", "no", "without", "sans", "ohne", "без"})


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _word_phase(word: str) -> str:
    """The phase a single word names ("" for none, "contrast" for "contrast given")."""
    if word.startswith("артеф"):  # "артефакт" (artefact) is not "арт"
        return ""
    for phase, words, prefixes in (
        ("native", _NATIVE_WORDS, _NATIVE_PREFIXES),
        ("arterial", _ARTERIAL_WORDS, _ARTERIAL_PREFIXES),
        ("delayed", _DELAYED_WORDS, _DELAYED_PREFIXES),
        ("venous", _VENOUS_WORDS, _VENOUS_PREFIXES),
        ("contrast", _CONTRAST_WORDS, _CONTRAST_PREFIXES),
    ):
        if word in words or word.startswith(prefixes):
            return phase
    return ""


def _phase_from_delay(delay_s: float) -> str:
    if delay_s < ARTERIAL_BEFORE_S:
        return "arterial"
    if delay_s < DELAYED_FROM_S:
        return "venous"
    return "delayed"


def _description_phases(description: str) -> tuple[list[str], list[str]]:
    """Return (phases named, words that named them) in the order found.

    Phrases are read before single words: "late/early arterial" is arterial,
    "late (portal) venous" and "delayed venous" are delayed, "non contrast",
    "without contrast" and "без контраста" are native, "post contrast" only says
    that contrast was given.
    """
    words = _words(description)
    phases: list[str] = []
    evidence: list[str] = []
    n = 0
    while n < len(words):
        word, following = words[n], words[n + 1 : n + 3]
        next_phases = [_word_phase(w) for w in following]
        if word in _NEGATION_WORDS and next_phases[:1] == ["contrast"]:
            phases.append("native")
            evidence.append(f"{word} {following[0]}")
            n += 2
            continue
        if word in ("pre", "пре") and next_phases[:1] == ["contrast"]:
            phases.append("native")
            evidence.append(f"{word} {following[0]}")
            n += 2
            continue
        is_late = word.startswith(_LATE_PREFIXES)
        if (is_late or word.startswith(_EARLY_PREFIXES)) and next_phases[:1] in (
            ["arterial"],
            ["venous"],
        ):
            # "late arterial" = arterial; "late venous" = delayed (ECIO-ESOI)
            phase = "delayed" if next_phases[0] == "venous" and is_late else next_phases[0]
            # "late portal venous": swallow the second venous word too
            span = 3 if next_phases[1:2] == ["venous"] else 2
            phases.append(phase)
            evidence.append(" ".join(words[n : n + span]))
            n += span
            continue
        phase = _word_phase(word)
        if phase == "venous" and next_phases[:1] == ["delayed"]:  # "venous delayed"
            phases.append("delayed")
            evidence.append(f"{word} {following[0]}")
            n += 2
            continue
        if phase:
            phases.append(phase)
            evidence.append(word)
        n += 1
    for phase, pattern in (("native", _NATIVE_SYMBOL), ("contrast", _CONTRAST_SYMBOL)):
        if symbol := pattern.search(description):
            phases.append(phase)
            evidence.append(symbol.group(0))
    for match in _DELAY.finditer(description):
        value = float(match.group(1).replace(",", "."))
        seconds = value * 60.0 if match.group(2).lower().startswith(("m", "м")) else value
        if MIN_DESCRIBED_DELAY_S <= seconds <= MAX_PLAUSIBLE_DELAY_S:
            phases.append(_phase_from_delay(seconds))
            evidence.append(match.group(0))
    return phases, evidence


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


def _seconds(hhmmss: str) -> float | None:
    """Seconds since midnight of a DICOM TM value (HHMMSS.FFFFFF), or None."""
    text = hhmmss.strip()
    if len(text) < 6 or not text[:6].isdigit():
        return None
    hours, minutes, seconds = int(text[:2]), int(text[2:4]), int(text[4:6])
    if hours > 23 or minutes > 59 or seconds > 60:
        return None
    total = hours * 3600 + minutes * 60 + float(seconds)
    if len(text) > 7 and text[6] == "." and text[7:].isdigit():
        total += float("0" + text[6:])
    return total


def contrast_delay_s(header: InstanceHeader) -> float | None:
    """Seconds from the start of contrast injection to acquisition, or None if not recorded.

    Negative when the series was acquired before the injection (a native scan of the
    same examination). An acquisition just after midnight is counted on the next day.
    """
    start, acquired = _seconds(header.contrast_start_time), _seconds(header.acquisition_time)
    if start is None or acquired is None:
        return None
    delay = acquired - start
    if delay < -12 * 3600:
        delay += 24 * 3600
    return delay


# ---------------------------------------------------------------------------
# CT
# ---------------------------------------------------------------------------


def _is_localizer(headers: Sequence[InstanceHeader]) -> bool:
    first = headers[0]
    if "LOCALIZER" in {v.upper() for v in first.image_type}:
        return True
    return bool(_LOCALIZER_WORDS & set(_words(first.series_description)))


def classify_ct(headers: Sequence[InstanceHeader]) -> Classification:
    """Return the contrast phase of a CT series (see the module notes for the evidence).

    Parameters
    ----------
    headers : sequence of InstanceHeader
        The series' files; the first one's description and contrast tags are read.

    Returns
    -------
    Classification
        ``phase`` in :data:`CT_PHASES` and the plane; ``reason`` cites the
        description words or the delay that decided, and any disagreement.
    """
    first = headers[0]
    plane = plane_of(first.orientation)
    description = first.series_description.strip()
    if _is_localizer(headers):
        return Classification(phase="unknown", plane=plane, reason="localizer (scout) image")
    delay = contrast_delay_s(first)
    timing_phase = ""
    timing_text = ""
    if delay is not None and abs(delay) <= MAX_PLAUSIBLE_DELAY_S:
        timing_phase = "native" if delay < 0 else _phase_from_delay(delay)
        timing_text = (
            f"acquired {-delay:.0f} s before contrast start"
            if delay < 0
            else f"acquired {delay:.0f} s after contrast start"
        )
    phases, evidence = _description_phases(description)
    named = list(dict.fromkeys(p for p in phases if p != "contrast"))
    said = ", ".join(
        repr(e)
        for e in dict.fromkeys(e for p, e in zip(phases, evidence, strict=True) if p in named)
    )
    if len(named) == 1:
        phase = named[0]
        reason = f"series description {description!r} ({said})"
        if timing_phase and timing_phase != phase:
            reason += f"; note: {timing_text} suggests {timing_phase}"
        return Classification(phase=phase, plane=plane, reason=reason)
    ambiguity = ""
    if len(named) > 1:
        ambiguity = f"series description {description!r} names several phases ({said}); "
    if timing_phase:
        return Classification(phase=timing_phase, plane=plane, reason=ambiguity + timing_text)
    if delay is not None:
        return Classification(
            phase="unknown",
            plane=plane,
            reason=ambiguity + f"implausible contrast delay of {delay:.0f} s",
        )
    if ambiguity:
        return Classification(phase="unknown", plane=plane, reason=ambiguity.rstrip("; "))
    contrast_named = "contrast" in phases
    if not first.contrast_agent and not first.contrast_start_time and not contrast_named:
        return Classification(
            phase="unknown",
            plane=plane,
            reason=NO_CONTRAST_TAGS_REASON,
        )
    given = (
        f"contrast agent {first.contrast_agent!r}"
        if first.contrast_agent
        else f"description {description!r}"
    )
    return Classification(
        phase="unknown",
        plane=plane,
        reason=f"{given} but no phase in the description or timing",
    )


# ---------------------------------------------------------------------------
# Vessel attenuation
# ---------------------------------------------------------------------------

NATIVE_BLOOD_MAX_HU = 80.0
"""Unenhanced blood is 35–60 HU; above 80 HU in the aorta means contrast."""

ARTERIAL_AORTA_MIN_HU = 200.0
"""Late arterial aortic enhancement is typically 250–400 HU."""

LAGGING_AORTA_MIN_HU = 160.0
"""An aorta this bright with the portal vein lagging (ratio < 0.75) is arterial: in the
portal venous and delayed phases the portal vein has caught up with the aorta. Above the
delayed range (≤ 150 HU) with a margin."""

ARTERIAL_PV_TO_AORTA_MAX = 0.75
"""In the arterial phase the portal vein lags: PV / aorta < 0.75 (often < 0.5)."""

EARLY_PV_TO_AORTA_MAX = 0.6
"""PV / aorta below this with an enhanced aorta (≥ 120 HU) is arterial whatever the peak."""

VENOUS_PV_MIN_HU = 130.0
"""Portal venous phase: the portal vein peaks, typically 150–220 HU, at or above the aorta."""

DELAYED_MAX_HU = 150.0
"""Delayed (equilibrium) phase: aorta and portal vein settle to ≈ 90–140 HU, about equal."""


def phase_from_vessel_hu(aorta_hu: float, portal_vein_hu: float | None) -> Classification:
    """Guess the CT phase from mean attenuation of the aorta and the portal vein.

    Parameters
    ----------
    aorta_hu : float
        Mean HU inside the abdominal aorta.
    portal_vein_hu : float or None
        Mean HU inside the main portal vein; None when it was not found (the rules
        then use the aorta alone and say so).

    Returns
    -------
    Classification
        ``phase`` and a ``reason`` quoting the values and the rule.

    Notes
    -----
    Rules, first match wins (ratio = PV / aorta):

    ======== ==========================================================================
    native   aorta < 80 HU (and PV < 100 HU when known)
    arterial aorta ≥ 200 HU and ratio < 0.75 (or PV unknown);
             or aorta ≥ 160 HU and ratio < 0.75 (the portal vein lags);
             or aorta ≥ 120 HU and ratio < 0.6
    venous   PV > 130 HU and ratio ≥ 0.75; PV unknown: 130 < aorta < 200 HU
    delayed  aorta 80–150 HU and PV 80–130 HU; PV unknown: aorta 80–130 HU
    unknown  anything else (e.g. aorta 170, portal vein 130: the portal vein not
             yet at the aorta, nor clearly lagging)
    ======== ==========================================================================

    The thresholds are institutional defaults: no society source gives HU
    cut-offs for phase recognition (no published source gives enhanced-phase
    HU of liver or blood). Typical values: unenhanced blood 35–60 HU; late arterial
    aorta 250–400 HU with the portal vein at 100–150 HU; portal venous PV
    150–220 HU ≥ aorta; delayed both 90–140 HU. The synthetic
    phantom (aorta/PV 40/40, 300/120, 160/180, 110/120) lies well inside each
    class. Contrast dose, cardiac output and kVp shift all of these: treat the
    answer as a suggestion for the user to confirm.
    """
    values = f"aorta {aorta_hu:.0f} HU"
    if portal_vein_hu is not None:
        values += f", portal vein {portal_vein_hu:.0f} HU"
    else:
        values += ", portal vein not found"

    def result(phase: str, rule: str) -> Classification:
        return Classification(phase=phase, reason=f"vessel attenuation: {values} ({rule})")

    pv = portal_vein_hu
    if aorta_hu < NATIVE_BLOOD_MAX_HU and (pv is None or pv < NATIVE_BLOOD_MAX_HU + 20.0):
        return result("native", f"aorta < {NATIVE_BLOOD_MAX_HU:.0f} HU: no contrast")
    ratio = None if pv is None or aorta_hu <= 0 else pv / aorta_hu
    if aorta_hu >= ARTERIAL_AORTA_MIN_HU and (ratio is None or ratio < ARTERIAL_PV_TO_AORTA_MAX):
        return result("arterial", f"aorta ≥ {ARTERIAL_AORTA_MIN_HU:.0f} HU, portal vein lags")
    if ratio is not None and aorta_hu >= LAGGING_AORTA_MIN_HU and ratio < ARTERIAL_PV_TO_AORTA_MAX:
        return result("arterial", f"aorta ≥ {LAGGING_AORTA_MIN_HU:.0f} HU, portal vein lags")
    if ratio is not None and aorta_hu >= 120.0 and ratio < EARLY_PV_TO_AORTA_MAX:
        return result("arterial", f"portal vein below {EARLY_PV_TO_AORTA_MAX:g} × aorta")
    if pv is not None and ratio is not None:
        if pv > VENOUS_PV_MIN_HU and ratio >= ARTERIAL_PV_TO_AORTA_MAX:
            return result("venous", f"portal vein > {VENOUS_PV_MIN_HU:.0f} HU, as bright as aorta")
        if (
            NATIVE_BLOOD_MAX_HU <= aorta_hu <= DELAYED_MAX_HU
            and NATIVE_BLOOD_MAX_HU <= pv <= VENOUS_PV_MIN_HU
        ):
            return result("delayed", "aorta and portal vein both 80–150 HU")
        return Classification(
            phase="unknown", reason=f"vessel attenuation: {values} fits no phase rule"
        )
    if VENOUS_PV_MIN_HU < aorta_hu < ARTERIAL_AORTA_MIN_HU:
        return result("venous", "aorta 130–200 HU; judged from the aorta alone")
    if NATIVE_BLOOD_MAX_HU <= aorta_hu <= VENOUS_PV_MIN_HU:
        return result("delayed", "aorta 80–130 HU; judged from the aorta alone")
    return Classification(phase="unknown", reason=f"vessel attenuation: {values} fits no rule")


# ---------------------------------------------------------------------------
# MR
# ---------------------------------------------------------------------------

_T2_STAR = re.compile(r"(?<![^\W_])(?:t2\s*\*|t2[-_ ]?star|t2s|swi)(?![^\W_])", re.I)
_T2 = re.compile(r"(?<![^\W_])(?:t2|т2)(?!\d)", re.I)
_T1 = re.compile(r"(?<![^\W_])(?:t1|т1)(?!\d)", re.I)
_B_VALUE = re.compile(r"(?<![^\W_])b\s*=?\s*(0|\d{2,4})(?!\d)", re.I)
_ADC_WORDS = frozenset({"adc", "dadc", "apparent", "икд", "кд"})
_DWI_WORDS = frozenset({"dwi", "dwibs", "diff", "diffusion", "trace", "tracew", "дви", "дв"})
_DWI_PREFIXES = ("diffus", "диффуз")
_T2_WORDS = frozenset(
    {"haste", "tse", "fse", "ssfse", "frfse", "ssh", "blade", "propeller", "mvxd", "ssetse"}
)
_T1_WORDS = frozenset(
    {"vibe", "starvibe", "lava", "thrive", "dixon", "mdixon", "flash", "fl", "spgr", "fspgr",
     "gre", "inphase", "opposed", "opp", "ffe", "qdixon", "caipirinha"}
)  # fmt: skip
_OTHER_WORDS = frozenset(
    {"trufi", "truefisp", "fiesta", "bffe", "ssfp", "mrcp", "localizer", "scout", "survey",
     "loc", "cal", "calibration", "asset", "sense", "mra", "tof", "perfusion"}
)  # fmt: skip
_PLANE_WORDS = {
    "axial": frozenset({"ax", "axial", "tra", "trans", "transversal", "transverse", "акс",
                        "аксиальная", "аксиальный", "трансв", "аксиал"}),
    "coronal": frozenset({"cor", "coronal", "кор", "корональная", "корональный", "фронт",
                          "фронтальная", "фронтальный"}),
    "sagittal": frozenset({"sag", "sagittal", "саг", "сагиттальная", "сагиттальный"}),
}  # fmt: skip


def plane_of(orientation: Sequence[float] | None) -> str:
    """Return "axial", "coronal" or "sagittal" from (0020,0037), or "" if unknown or oblique.

    A plane counts when its normal is within about 37° of a patient axis
    (|normal component| ≥ 0.8).
    """
    if orientation is None or len(orientation) < 6:
        return ""
    row, column = orientation[:3], orientation[3:6]
    normal = (
        row[1] * column[2] - row[2] * column[1],
        row[2] * column[0] - row[0] * column[2],
        row[0] * column[1] - row[1] * column[0],
    )
    axis = max(range(3), key=lambda i: abs(normal[i]))
    if abs(normal[axis]) < 0.8:
        return ""
    return ("sagittal", "coronal", "axial")[axis]


def _plane_from_words(words: Iterable[str]) -> str:
    found = [plane for plane, names in _PLANE_WORDS.items() if names & set(words)]
    return found[0] if len(found) == 1 else ""


def _b_values(headers: Sequence[InstanceHeader], description: str) -> tuple[float, ...]:
    values = {float(h.b_value) for h in headers if h.b_value is not None}
    if not values:
        values = {float(m.group(1)) for m in _B_VALUE.finditer(description)}
    return tuple(sorted(values))


def classify_mr(headers: Sequence[InstanceHeader]) -> Classification:
    """Return the MR sequence (one of :data:`MR_SEQUENCES`), plane and b-values of a series.

    Parameters
    ----------
    headers : sequence of InstanceHeader
        The series' files; b-values are collected from all of them (one DWI
        series usually holds every b-value), everything else from the first.
    """
    first = headers[0]
    description = first.series_description.strip()
    words = _words(description)
    word_set = set(words)
    plane = plane_of(first.orientation) or _plane_from_words(words)
    image_type = {value.upper() for value in first.image_type}
    b_values = _b_values(headers, description)

    def result(sequence: str, reason: str, b: tuple[float, ...] = ()) -> Classification:
        return Classification(sequence=sequence, plane=plane, reason=reason, b_values=b)

    if "LOCALIZER" in image_type or word_set & _LOCALIZER_WORDS:
        return result("other", "localizer (scout) image")
    if "ADC" in image_type:
        return result("adc", "Image Type (0008,0008) contains ADC")
    if word_set & _ADC_WORDS:
        return result("adc", f"series description {description!r}")
    if any(h.b_value is not None for h in headers):
        shown = ", ".join(f"{b:g}" for b in b_values)
        return result("dwi", f"diffusion b-values {shown} s/mm² in the headers", b_values)
    if image_type & {"DIFFUSION", "TRACEW", "TRACE"}:
        return result("dwi", "Image Type (0008,0008) marks a diffusion image", b_values)
    if word_set & _DWI_WORDS or any(w.startswith(_DWI_PREFIXES) for w in words):
        return result("dwi", f"series description {description!r}", b_values)
    if _B_VALUE.search(description):
        return result("dwi", f"b-value in series description {description!r}", b_values)
    if _T2_STAR.search(description):
        return result("other", f"series description {description!r} is T2*-weighted")
    if _T2.search(description) or word_set & _T2_WORDS:
        return result("t2", f"series description {description!r}")
    if _T1.search(description) or word_set & _T1_WORDS:
        return result("t1", f"series description {description!r}")
    if word_set & _OTHER_WORDS:
        return result("other", f"series description {description!r}")
    if first.echo_time_ms is not None and first.echo_time_ms >= LONG_ECHO_TIME_MS:
        return result(
            "t2", f"no sequence keyword; echo time {first.echo_time_ms:g} ms is T2-weighted"
        )
    return result("other", "no known sequence keyword")


def classify_series(headers: Sequence[InstanceHeader]) -> Classification:
    """Classify a series by its modality; other modalities get an empty classification.

    This is the entry point of the import: CT gets a phase, MR a sequence, both a plane.
    """
    if not headers:
        return Classification(reason="empty series")
    modality = headers[0].modality
    if modality == "CT":
        return classify_ct(headers)
    if modality == "MR":
        return classify_mr(headers)
    return Classification(plane=plane_of(headers[0].orientation))
