"""`tace-planner demo` with the GUI: the window prepares the demo, the command line does not."""

from __future__ import annotations

from pathlib import Path

from tace_planner.cli import main


def test_demo_with_the_gui_leaves_the_preparation_to_the_window(tmp_path: Path) -> None:
    calls: list[tuple[object, dict[str, object]]] = []

    def launch_gui(services: object, case_pk: object, **options: object) -> int:
        calls.append((case_pk, options))
        return 0

    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo", "--phantom-size", "small"], launch_gui) == 0
    assert calls == [(None, {"demo_size": "small"})]
    # Nothing was generated before the window opened (it shows progress and Cancel).
    assert not (data / "demo-phantom" / "truth.json").exists()
