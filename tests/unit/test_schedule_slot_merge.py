"""A timepoint holding imaging that takes a scheduled follow-up's place: what it keeps.

It keeps its own radiologist and modality, takes the scheduled follow-up's where it has
none, and every value of the scheduled follow-up it differs from is listed as dropped,
so that the audit entry can name it.
"""

from __future__ import annotations

from tace_planner.domain.schedule import SLOT_FIELDS, SlotMerge, merge_slot


def test_own_values_kept_missing_ones_taken_differing_ones_named_as_dropped() -> None:
    merged = merge_slot(
        {"radiologist": "Dr Own", "modality": ""}, {"radiologist": "Dr Slot", "modality": "MR"}
    )
    assert dict(merged.values) == {"radiologist": "Dr Own", "modality": "MR"}
    assert merged.taken == (("modality", "MR"),)
    assert merged.dropped == (("radiologist", "Dr Slot", "Dr Own"),)
    assert merged.describe("follow-up 2") == (
        "follow-up 2 took its modality MR; its radiologist Dr Slot was dropped "
        "(follow-up 2 keeps its own, Dr Own)"
    )


def test_equal_blank_and_missing_values_drop_nothing() -> None:
    # the same value (spacing aside), a slot value that is blank, a field the slot lacks
    merged = merge_slot({"radiologist": "Dr R", "modality": "CT"}, {"radiologist": " Dr R "})
    assert (dict(merged.values), merged.taken, merged.dropped) == (
        {"radiologist": "Dr R", "modality": "CT"},
        (),
        (),
    )
    assert merged.describe("follow-up 1") == ""
    # a blank own value counts as none: the slot's is taken
    blank = merge_slot({"radiologist": "  ", "modality": "CT"}, {"radiologist": "Dr R"})
    assert blank.values["radiologist"] == "Dr R"
    assert blank.taken == (("radiologist", "Dr R"),)
    # nothing on either side: nothing taken, the field stays empty
    assert merge_slot({"modality": ""}, {"modality": ""}) == SlotMerge({"modality": ""})


def test_both_fields_dropped_are_each_named_in_the_fields_order() -> None:
    merged = merge_slot(
        {"radiologist": "Dr A", "modality": "CT"}, {"radiologist": "Dr B", "modality": "MR"}
    )
    assert [name for name, _, _ in merged.dropped] == list(SLOT_FIELDS)
    assert merged.describe("follow-up 3") == (
        "its radiologist Dr B was dropped (follow-up 3 keeps its own, Dr A); "
        "its modality MR was dropped (follow-up 3 keeps its own, CT)"
    )
