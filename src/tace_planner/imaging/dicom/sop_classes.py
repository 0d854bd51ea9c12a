"""What kind of DICOM object a file holds, from its SOP Class UID and Image Type.

The import keeps every object it can read, but offers only ``"image"`` objects
as volumes; segmentations, structure sets, reports, presentation states,
secondary captures, documents and scouts are stored beside them.

======================  ==========================================  =====================
kind                    SOP Class UID (prefix ``1.2.840.10008.``)   examples
======================  ==========================================  =====================
``seg``                 ``5.1.4.1.1.66.4``, ``…66.7``               Segmentation, Label Map
``rtstruct``            ``5.1.4.1.1.481.3``                         RT Structure Set
``rt``                  ``5.1.4.1.1.481.*``, ``5.1.4.34.*``         RT Dose, Plan, Image
``sr``                  ``5.1.4.1.1.88.*``                          SR, Key Object Selection
``presentation_state``  ``5.1.4.1.1.11.*``                          Grayscale Softcopy PS
``secondary_capture``   ``5.1.4.1.1.7``, ``…7.*``                   Screenshots, scanned film
``document``            ``5.1.4.1.1.104.*``                         Encapsulated PDF, CDA, STL
``other``               raw data (``…66``), registrations,          and any unknown UID
                        waveforms, directories
``image``               every other "… Image Storage" class         CT, MR, PET, US, XA
``localizer``           an ``image`` whose Image Type says           CT scout, MR survey
                        LOCALIZER (or SCOUT, TOPOGRAM)
======================  ==========================================  =====================
"""

from __future__ import annotations

from collections.abc import Iterable

from pydicom.uid import UID

_STORAGE = "1.2.840.10008.5.1.4.1.1."

OBJECT_KINDS = (
    "image",
    "localizer",
    "seg",
    "rtstruct",
    "rt",
    "sr",
    "presentation_state",
    "secondary_capture",
    "document",
    "other",
)
"""Every value :func:`object_kind` returns."""

# Exact UIDs first, then prefixes (a prefix matches the UID itself or ``prefix.*``);
# the first rule that matches wins, so the more specific rules come first.
_EXACT: dict[str, str] = {
    _STORAGE + "66.4": "seg",  # Segmentation Storage
    _STORAGE + "66.7": "seg",  # Label Map Segmentation Storage
    _STORAGE + "481.3": "rtstruct",  # RT Structure Set Storage
    _STORAGE + "30": "image",  # Parametric Map Storage (named without "Image")
    _STORAGE + "66": "other",  # Raw Data Storage
    "1.2.840.10008.1.3.10": "other",  # Media Storage Directory Storage (DICOMDIR)
}
_PREFIXES: tuple[tuple[str, str], ...] = (
    (_STORAGE + "481", "rt"),  # RT Image, Dose, Plan, Treatment Records, Ion Plan, …
    ("1.2.840.10008.5.1.4.34", "rt"),  # second-generation RT and RT beams delivery
    (_STORAGE + "88", "sr"),  # structured reports, Key Object Selection (88.59)
    (_STORAGE + "11", "presentation_state"),
    (_STORAGE + "7", "secondary_capture"),
    (_STORAGE + "104", "document"),  # Encapsulated PDF (104.1), CDA, STL, OBJ, MTL
    (_STORAGE + "66", "other"),  # registrations, fiducials, surface segmentation
    (_STORAGE + "9", "other"),  # waveforms (ECG, audio, haemodynamics)
)

LOCALIZER_IMAGE_TYPES = frozenset({"LOCALIZER", "SCOUT", "TOPOGRAM"})
"""Values of (0008,0008) *Image Type* that mark a scout or localizer image."""


def _matches(uid: str, prefix: str) -> bool:
    return uid == prefix or uid.startswith(prefix + ".")


def sop_class_name(uid: str) -> str:
    """The name of a SOP class from pydicom's UID dictionary (e.g. "CT Image Storage").

    Unknown and private UIDs are returned as ``"unknown SOP class <uid>"``; an
    empty UID as ``"no SOP class"``.
    """
    uid = uid.strip()
    if not uid:
        return "no SOP class"
    name = str(UID(uid).name)
    return name if name != uid else f"unknown SOP class {uid}"


def object_kind(sop_class_uid: str, image_type: Iterable[str] = ()) -> str:
    """What kind of object a SOP class holds, one of :data:`OBJECT_KINDS`.

    Parameters
    ----------
    sop_class_uid : str
        (0008,0016) *SOP Class UID* (or the file meta's Media Storage SOP Class UID).
    image_type : iterable of str
        (0008,0008) *Image Type* values; an image with LOCALIZER, SCOUT or
        TOPOGRAM among them is a ``"localizer"``.

    Returns
    -------
    str
        ``"image"`` for images that may form a volume; anything else is kept
        but not offered as a volume.
    """
    uid = sop_class_uid.strip()
    if not uid:
        return "other"
    kind = _EXACT.get(uid)
    if kind is None:
        kind = next((k for prefix, k in _PREFIXES if _matches(uid, prefix)), None)
    if kind is None:
        name = str(UID(uid).name)
        kind = "image" if name != uid and "Image Storage" in name else "other"
    if kind == "image" and any(
        str(value).strip().upper() in LOCALIZER_IMAGE_TYPES for value in image_type
    ):
        return "localizer"
    return kind
