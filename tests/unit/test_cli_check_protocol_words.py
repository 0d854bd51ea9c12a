"""``check-protocol`` prints its statuses in the window's words; its JSON keeps the codes.

Seen: the text output marked requirements "ok / FAIL / n/a" while the window (and the
one-line summary above them) says "passed / failed / not checked"."""

from __future__ import annotations

import argparse
import json
from types import SimpleNamespace
from typing import Any

import pytest

from tace_planner.cli import _cmd_check_protocol
from tace_planner.domain.protocol import STATUS_WORDS, ProtocolResult, RequirementResult

RESULT = ProtocolResult(
    (
        RequirementResult("ct.phase.arterial", "CT arterial phase present", "pass", "series 3"),
        RequirementResult("ct.slices.venous", "CT slices ≤ 2.5 mm", "fail", "series 4: 5 mm"),
        RequirementResult(
            "ct.timing", "CT within 4 weeks before TACE", "not_evaluated", "no TACE date"
        ),
    ),
    parameters_version="1",
)


def _run(capsys: pytest.CaptureFixture[str], *, as_json: bool) -> tuple[int, str]:
    protocol = SimpleNamespace(check_study=lambda uid, tace_on: RESULT)
    args = argparse.Namespace(case=None, study_uid="1.2.3", tace_date=None, json=as_json)
    code = _cmd_check_protocol(args, SimpleNamespace(protocol=protocol))
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out


def test_text_says_passed_failed_not_checked_json_keeps_the_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _run(capsys, as_json=False)
    assert code == 1  # a requirement failed
    summary, *lines = out.splitlines()
    assert summary == RESULT.summary()
    assert lines == [
        "  passed       CT arterial phase present: series 3",
        "  failed       CT slices ≤ 2.5 mm: series 4: 5 mm",
        "  not checked  CT within 4 weeks before TACE: no TACE date",
    ]
    for old in ("ok ", "FAIL", "n/a"):
        assert old not in out
    # the same words as the window's (RequirementResult.status_words)
    assert [line.split("  ")[1].strip() for line in lines] == [
        STATUS_WORDS[r.status] for r in RESULT.requirements
    ]

    code, out = _run(capsys, as_json=True)
    assert code == 1
    result: dict[str, Any] = json.loads(out)
    assert result == RESULT.to_json()
    assert result["status"] == "fail"
    assert [r["status"] for r in result["requirements"]] == ["pass", "fail", "not_evaluated"]
    assert set(result["requirements"][0]) == {"code", "name", "status", "reason", "series_uids"}
