"""The command line parses dates and case numbers one way, in every command.

Dates go through ``cli_common.iso_date`` and case numbers through the case-id type
of ``cli_common``; argparse names the option in the error line. Only the parser is
built here: no database, no services.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from tace_planner import cli_common
from tace_planner.cli import build_parser


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (command words, parser) of the tree, the top level included."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def _options(wanted: str) -> list[tuple[tuple[str, ...], argparse.Action]]:
    return [
        (path, action)
        for path, parser in _commands(build_parser())
        for action in parser._actions
        if wanted in action.option_strings
    ]


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(argv)
    assert stopped.value.code == 2
    [line] = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    return line


DATE_OPTIONS = [
    ("case", "new", "--tace-date"),
    ("case", "close", "--date"),
    ("case", "groups", "--diagnosed"),
    ("case", "groups", "--liver-metastases"),
    ("therapy", "add", "--start"),
    ("therapy", "add", "--stop"),
    ("therapy", "add", "--progression"),
    ("procedure", "log", "--date"),
    ("procedure", "log", "--expiry"),
    ("procedure", "amend", "--date"),
    ("procedure", "amend", "--expiry"),
    ("check-protocol", "--tace-date"),
]


def test_every_date_option_uses_the_shared_parser_and_names_itself(
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = []
    for words in DATE_OPTIONS:
        *command, option = words
        [action] = [a for path, a in _options(option) if path == tuple(command)]
        line = _usage_error([*command, option, "2026-02-30"], capsys)
        named = line.endswith(f"argument {option}: '2026-02-30' is not a date (YYYY-MM-DD)")
        if action.type is not cli_common.iso_date or not named:
            wrong.append((" ".join(words), getattr(action.type, "__qualname__", ""), line))
    assert wrong == []


def test_no_command_keeps_a_date_parser_of_its_own() -> None:
    own = {
        (path, action.dest, getattr(action.type, "__qualname__", ""))
        for path, parser in _commands(build_parser())
        for action in parser._actions
        if callable(action.type)
        and "date" in getattr(action.type, "__name__", "")
        and action.type is not cli_common.iso_date
    }
    # the one other date type narrows iso_date (a measurement is not in the future)
    assert {name for _, _, name in own} <= {"_measurement_date"}


def test_every_case_option_takes_the_case_number_the_same_way(
    capsys: pytest.CaptureFixture[str],
) -> None:
    commands = sorted({path for path, _ in _options("--case")})
    assert {("procedure", "log"), ("procedure", "list"), ("ttp",), ("plan",)} <= set(commands)
    wrong = []
    for command in commands:
        for given, said in (
            ("abc", "argument --case: 'abc' is not a case id (a number)"),
            ("0", "argument --case: 0: no such case (case ids are 1 to"),
            ("99999999999999999999999", "no such case (case ids are 1 to"),
        ):
            line = _usage_error([*command, "--case", given], capsys)
            if said not in line:
                wrong.append((" ".join(command), given, line))
    assert wrong == []
