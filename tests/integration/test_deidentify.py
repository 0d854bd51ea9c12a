"""De-identification (PS3.15 Annex E Basic Profile, Table E.1-1) scanned attribute by
attribute on the phantom and on pydicom's test files, including a SEG and its sources."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tace_planner.domain.progress import run_sync
from tace_planner.imaging.dicom.deidentify import Deidentifier, action_for

pytestmark = [
    pytest.mark.dicom,
    # pydicom's rtdose.dcm carries a malformed UID of its own; pydicom warns when reading it.
    pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning"),
]

UID_2_25 = re.compile(r"^2\.25\.[1-9][0-9]*$")
PYDICOM_FILES = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "rtdose.dcm", "liver.dcm"]


def _walk(ds: Dataset, path: tuple = ()) -> Iterator[tuple[tuple, pydicom.DataElement]]:
    for element in ds:
        here = (*path, int(element.tag))
        yield here, element
        if element.VR == "SQ":
            for index, item in enumerate(element.value):
                yield from _walk(item, (*here, index))


def _with_identifiers_everywhere(ds: Dataset) -> Dataset:
    """Add a private block with a sequence, and identifiers nested in a public sequence."""
    ds = ds.copy()
    block = ds.private_block(0x0011, "TACE TEST", create=True)
    block.add_new(0x01, "LO", "secret private text")
    inner = Dataset()
    inner.StudyDate = "20190305"
    inner.SOPInstanceUID = "1.2.3.4.5.6.7.8.9"
    block.add_new(0x02, "SQ", Sequence([inner]))
    item = Dataset()
    item.ReferringPhysicianName = "Doe^Jane"
    item.ReferencedSOPInstanceUID = str(ds.SOPInstanceUID)
    item.ReferencedSOPClassUID = str(ds.SOPClassUID)
    item.InstitutionName = "Hospital of Somewhere"
    item.ContentDate = "20190306"
    ds.ReferencedImageSequence = Sequence([item])
    ds.OtherPatientIDsSequence = Sequence([Dataset()])
    ds.OtherPatientIDsSequence[0].PatientID = "OTHER-ID-42"
    ds.PatientBirthDate = "19600101"
    ds.InstitutionAddress = "1 Main Street"
    return ds


def _original_uids(ds: Dataset) -> set[str]:
    meta = getattr(ds, "file_meta", None)
    uids = {str(meta.MediaStorageSOPInstanceUID)} if meta is not None else set()
    for _, element in _walk(ds):
        if element.VR == "UI" and action_for(element.tag) in ("U", "X/Z/U*"):
            values = element.value if isinstance(element.value, list) else [element.value]
            uids |= {str(v) for v in values if v}
    return uids


def _dates(ds: Dataset) -> set[str]:
    found = set()
    for _, element in _walk(ds):
        if element.VR in ("DA", "DT") and element.value:
            values = element.value if isinstance(element.value, list) else [element.value]
            found |= {str(v)[:8] for v in values}
    return found


@pytest.fixture(params=PYDICOM_FILES)
def original(request: pytest.FixtureRequest) -> Dataset:
    path = get_testdata_file(request.param)
    assert path is not None
    return _with_identifiers_everywhere(pydicom.dcmread(path))


def test_every_profile_attribute_is_removed_emptied_or_replaced(original: Dataset) -> None:
    clean = Deidentifier(key=b"k" * 32).deidentify(original, "PSEUDO-01")
    output = dict(_walk(clean))
    checked = 0
    for path, element in _walk(original):
        action = action_for(element.tag)
        if element.tag.is_private or any(
            isinstance(p, int) and pydicom.tag.Tag(p).is_private for p in path
        ):
            assert path not in output
            continue
        if action is None or not element.value or element.VR == "TM":
            continue
        if path not in output and any(path[:i] not in output for i in range(1, len(path), 2)):
            continue  # a sequence above it was removed, and the attribute with it
        checked += 1
        if path in ((0x00100010,), (0x00100020,)):  # Patient's Name, Patient ID
            assert output[path].value == "PSEUDO-01"
        elif action == "X":
            assert path not in output, f"{element.keyword} kept"
        elif element.VR in ("DA", "DT"):
            assert output[path].value != element.value, f"{element.keyword} date unchanged"
        elif element.VR == "SQ":
            continue  # its items are checked one by one
        elif action in ("Z", "X/Z"):
            assert not output[path].value, f"{element.keyword} not emptied"
        else:
            assert output[path].value != element.value, f"{element.keyword} unchanged"
    assert checked >= 8


def test_no_original_uid_date_or_private_tag_is_left_anywhere(original: Dataset) -> None:
    # A fixed key: a random one shifted 20030903 onto 20030805, another date of the same
    # file, once in a few hundred runs (the check is on the set of all dates).
    clean = Deidentifier(key=b"tace-planner-test-key").deidentify(original, "PSEUDO-01")
    uids = set()
    for _, element in _walk(clean):
        assert not element.tag.is_private
        if element.VR == "UI" and element.value:
            values = element.value if isinstance(element.value, list) else [element.value]
            uids |= {str(v) for v in values}
    uids.add(str(clean.file_meta.MediaStorageSOPInstanceUID))
    assert not uids & _original_uids(original)
    assert not _dates(clean) & _dates(original)
    text = str(clean)
    for secret in ("Doe^Jane", "OTHER-ID-42", "Somewhere", "1 Main Street", "secret private"):
        assert secret not in text
    assert str(original.PatientID) not in text


def test_marks_the_data_set_as_deidentified(original: Dataset) -> None:
    clean = Deidentifier().deidentify(original, "PSEUDO-07")
    assert clean.PatientIdentityRemoved == "YES"
    assert clean.PatientName == "PSEUDO-07"
    assert clean.PatientID == "PSEUDO-07"
    assert "Basic Profile" in clean.DeidentificationMethod
    codes = {
        (c.CodeValue, c.CodingSchemeDesignator) for c in clean.DeidentificationMethodCodeSequence
    }
    assert codes == {("113100", "DCM"), ("113107", "DCM")}
    assert "PatientBirthDate" not in clean or not clean.PatientBirthDate
    assert clean.file_meta.MediaStorageSOPInstanceUID == clean.SOPInstanceUID
    assert UID_2_25.match(clean.SOPInstanceUID)
    assert len(clean.SOPInstanceUID) <= 64


def test_the_original_is_left_untouched() -> None:
    path = get_testdata_file("CT_small.dcm")
    ds = pydicom.dcmread(path)
    before = str(ds)
    Deidentifier().deidentify(ds, "P")
    assert str(ds) == before


def test_written_files_read_back_with_the_same_pixels(tmp_path: Path) -> None:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    out = tmp_path / "anon.dcm"
    Deidentifier().deidentify(ds, "P").save_as(out, enforce_file_format=True)
    back = pydicom.dcmread(out)
    assert np.array_equal(back.pixel_array, ds.pixel_array)
    assert back.PatientIdentityRemoved == "YES"


def _phantom_files(folder: Path) -> list[Path]:
    """Three images of every series of every timepoint (enough to check consistency)."""
    return [p for series in sorted(folder.glob("*/*")) for p in sorted(series.glob("*.dcm"))[:3]]


def test_phantom_uids_stay_consistent_and_intervals_are_preserved(small_phantom: Path) -> None:
    deid = Deidentifier()
    originals = [pydicom.dcmread(p) for p in _phantom_files(small_phantom)]
    cleaned = [deid.deidentify(ds, "PSEUDO-01") for ds in originals]
    mapping: dict[tuple[str, str], str] = {}
    for before, after in zip(originals, cleaned, strict=True):
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
            key = (keyword, str(before.get(keyword)))
            assert mapping.setdefault(key, str(after.get(keyword))) == str(after.get(keyword))
    assert len({after.SOPInstanceUID for after in cleaned}) == len(cleaned)
    studies = {}
    for before, after in zip(originals, cleaned, strict=True):
        studies[before.StudyInstanceUID] = (before.StudyDate, after.StudyDate)

    def day(text: str) -> dt.date:
        return dt.datetime.strptime(text, "%Y%m%d").date()

    pairs = sorted(studies.values())
    assert len(pairs) >= 3
    first_before, first_after = pairs[0]
    for before, after in pairs[1:]:
        assert day(before) - day(first_before) == day(after) - day(first_after)
        assert before != after
    assert not _dates(cleaned[0]) & _dates(originals[0])


def test_one_shift_per_patient_and_another_for_another_patient() -> None:
    deid = Deidentifier(key=b"x" * 32, date_offsets_days={"A": -100})
    assert deid.offset_days("A") == -100
    assert deid.offset_days("B") == deid.offset_days("B")
    assert -3650 <= deid.offset_days("B") <= -1
    assert Deidentifier(key=b"x" * 32).uid("1.2.3") == deid.uid("1.2.3")
    assert Deidentifier(key=b"y" * 32).uid("1.2.3") != deid.uid("1.2.3")


def test_seg_still_references_its_remapped_sources_and_opens_in_highdicom(
    small_phantom: Path, tmp_path: Path
) -> None:
    import highdicom

    from tace_planner.imaging.dicom.seg import SegmentSpec, read_seg, write_seg
    from tace_planner.imaging.dicom.series import load_volume
    from tace_planner.imaging.phantom_truth import PhantomTruth, truth_masks

    paths = sorted((small_phantom / "baseline" / "CT_venous").iterdir())
    volume = run_sync(load_volume(paths))
    truth = PhantomTruth.from_json(json.loads((small_phantom / "truth.json").read_text()))
    masks = truth_masks(truth, volume, "baseline")
    seg_path = write_seg(
        tmp_path / "seg.dcm", paths, volume, [SegmentSpec("Liver", masks["liver"], "liver")]
    )
    deid = Deidentifier()
    out = tmp_path / "anon"
    out.mkdir()
    anon_paths = []
    for index, path in enumerate(paths):
        target = out / f"IM{index:05d}.dcm"
        deid.deidentify(pydicom.dcmread(path), "PSEUDO-01").save_as(target)
        anon_paths.append(target)
    anon_seg = out / "seg.dcm"
    deid.deidentify(pydicom.dcmread(seg_path), "PSEUDO-01").save_as(anon_seg)

    seg = highdicom.seg.segread(anon_seg)
    sources = [pydicom.dcmread(p, stop_before_pixels=True) for p in anon_paths]
    source_uids = {s.SOPInstanceUID for s in sources}
    referenced = {
        ref.ReferencedSOPInstanceUID
        for series in seg.ReferencedSeriesSequence
        for ref in series.ReferencedInstanceSequence
    }
    assert referenced
    assert referenced <= source_uids
    assert {s.SeriesInstanceUID for s in sources} == {
        series.SeriesInstanceUID for series in seg.ReferencedSeriesSequence
    }
    assert seg.FrameOfReferenceUID == sources[0].FrameOfReferenceUID
    anon_volume = run_sync(load_volume(anon_paths))
    imported = read_seg(anon_seg, anon_volume)
    assert np.array_equal(imported.segments[0].mask, masks["liver"])
