"""The mapping file's folder is treated as the output folder: missing folders are made, taken
back when the export stops, and a file in the way is refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.export_seed import seed_registry

from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.export.runner import export_cases, export_task


@pytest.fixture
def registry(services):
    seed_registry(services)
    return services


def test_missing_folders_of_the_mapping_file_are_made(registry, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "p4" / "seg_id"
    mapping = tmp_path / "exports" / "p4" / "maps" / "deeper" / "mapping.csv"
    result = export_cases(registry, out, "csv", deidentify=True, mapping=mapping)
    assert result.mapping == mapping.resolve()
    assert mapping.is_file()
    assert mapping.read_text(encoding="utf-8").splitlines()[0] == "pseudonym,patient_id"
    assert result.files


@pytest.mark.parametrize("fail", [False, True])
def test_a_stopped_export_takes_back_the_mapping_folders(
    registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool
) -> None:
    from tace_planner.services.export import runner

    base = tmp_path / "x"
    base.mkdir()
    out = base / "exports" / "out"
    made = base / "maps"
    mapping = made / "deeper" / "mapping.csv"
    if fail:

        def broken(path: Path, pseudonyms: object) -> Path:
            path.write_text("half", encoding="utf-8")
            raise OSError("disk full")

        monkeypatch.setattr(runner, "_write_mapping", broken)
        with pytest.raises(OSError, match="disk full"):
            export_cases(registry, out, "csv", deidentify=True, mapping=mapping)
    else:
        task = export_task(registry, out, "csv", deidentify=True, mapping=mapping)
        steps = [next(task) for _ in range(4)]  # two cases read, writing, written
        assert steps[-1].done == steps[-1].total
        assert mapping.is_file()
        task.close()  # Cancel on the last step
    assert not made.exists()
    assert not out.exists()
    assert list(base.iterdir()) == []  # the folders made for both are gone


def test_a_file_in_the_mapping_path_is_refused_in_one_line(registry, tmp_path: Path) -> None:
    blocker = tmp_path / "maps"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        export_cases(
            registry, tmp_path / "out", "csv", deidentify=True, mapping=blocker / "x" / "m.csv"
        )
    assert caught.value.field == "--mapping"
    assert str(blocker) in caught.value.reason
    assert "is a file" in caught.value.reason
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists()
    assert blocker.read_text(encoding="utf-8") == "not a folder"
