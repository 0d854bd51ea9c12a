"""``plan --pdf`` without a key image warns through the commands' shared logger.

The logger's name belongs to ``cli_common`` (every command module logs through it), and
what the user reads is unchanged: ``WARNING:tace_planner.cli:no key image for the plan
sheet: …``, the line ``cli.main``'s ``logging.basicConfig`` prints. The planning
service is a stand-in: no database.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tace_planner import cli_common, cli_planning
from tace_planner.cli import build_parser
from tace_planner.domain.errors import TacePlannerError


class _Plan:
    blocked = False

    def to_json(self) -> dict[str, Any]:
        return {}


class _Planning:
    def propose(self, case_pk: int, model: Any = None, options: Any = None) -> _Plan:
        return _Plan()

    def key_image(self, case_pk: int, load_series: Any) -> Any:
        raise TacePlannerError("no baseline series is stored for case 7")


def test_the_key_image_warning_reads_as_before_through_the_shared_logger(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_planning.log is cli_common.log
    assert cli_common.log.name == cli_common.LOGGER_NAME == "tace_planner.cli"
    pdf = tmp_path / "plan.pdf"
    args = build_parser().parse_args(["plan", "--case", "7", "--json", "--pdf", str(pdf)])
    services = SimpleNamespace(planning=_Planning(), studies=SimpleNamespace(load_series=None))
    written: list[Any] = []
    with caplog.at_level(logging.WARNING):
        code = cli_planning.run_plan(args, services, lambda *given: written.append(given))
    assert code == 0
    [(_, path, key)] = written  # the plan, the file, no key image
    assert path == pdf
    assert key is None
    [record] = [r for r in caplog.records if "key image" in r.getMessage()]
    shown = logging.Formatter(logging.BASIC_FORMAT).format(record)
    assert shown == (
        "WARNING:tace_planner.cli:no key image for the plan sheet: "
        "no baseline series is stored for case 7"
    )
    assert "plan sheet written to" in capsys.readouterr().err
