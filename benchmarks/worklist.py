"""The "due this week" worklist query on a large registry in SQLite; prints one JSON line.

Usage: python benchmarks/worklist.py [--cases 10000] [--per-case 10] [--runs 20] [--db FILE]

The registry (not timed) has one patient, one case, one signed TACE schedule and
``--per-case`` follow-up timepoints per case (10,000 × 10 = 100,000 by default), laid out
by the study protocol's preset from TACE dates spread over the last three years: the
timepoints before today are done (with a linked study) or overdue, the rest scheduled.
Timed: ``FollowupService.worklist("due")`` — the query the worklist opens with — on a
migrated database through the app's own engine. Goal: ≤ 100 ms (issue 14). Wall time
and CPU time of the process are both printed, with the load average: on a shared machine
the wall time includes waiting for a core. ``query_plan`` is SQLite's EXPLAIN QUERY PLAN of
the timed statement (it must SEARCH the index on (status, due_on, window_end_on), never
SCAN the timepoint table).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from tace_planner.domain.schedule import FollowupParameters, schedule_after
from tace_planner.services.followup_records import (
    label_of,
    load_followup_parameters,
    worklist_statement,
)
from tace_planner.services.followups import FollowupService
from tace_planner.store.db import make_engine, make_session_factory, sqlite_url_for
from tace_planner.store.followup_rows import FollowupScheduleRow
from tace_planner.store.models import CaseRow, PatientRow, StudyRow, TimepointRow
from tace_planner.store.upgrade import upgrade_to_head

GOAL_MS = 100.0
TODAY = dt.date(2026, 12, 2)
NOW = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)


def _fill(factory: object, cases: int, per_case: int, parameters: FollowupParameters) -> int:
    """Write the registry; returns the number of timepoints."""
    rng = random.Random(14)
    preset = parameters.preset("protocol")
    patients, case_rows, schedules, timepoints, studies = [], [], [], [], []
    for pk in range(1, cases + 1):
        tace_on = TODAY - dt.timedelta(days=rng.randrange(0, 3 * 365))
        patients.append({"id": pk, "patient_id": f"B{pk:06d}", "issuer": "", "name": f"P^{pk}",
                         "sex": "", "created_at": NOW, "version": 1})  # fmt: skip
        case_rows.append({"id": pk, "patient_pk": pk, "title": "DEBIRI course", "created_at": NOW,
                          "version": 1, "primary_site": "", "grade": "",
                          "metastases_timing": "", "notes": ""})  # fmt: skip
        schedules.append({"id": pk, "case_pk": pk, "tace_number": 1, "anchor_on": tace_on,
                          "preset": "protocol", "parameters": {"preset": preset.to_json()},
                          "status": "active", "end_reason": "", "created_at": NOW,
                          "created_by": "bench", "version": 1})  # fmt: skip
        dues = schedule_after(tace_on, preset, 120)[:per_case]
        for due in dues:
            tp_pk = len(timepoints) + 1
            past = due.window_end_on < TODAY
            done = past and rng.random() < 0.85
            timepoints.append({
                "id": tp_pk, "case_pk": pk, "kind": "follow_up",
                "label": label_of(1, due.number), "ordinal": due.number,
                "imaged_on": due.due_on if done else None, "schedule_pk": pk,
                "tace_number": 1, "followup_number": due.number, "due_on": due.due_on,
                "window_start_on": due.window_start_on, "window_end_on": due.window_end_on,
                "status": "done" if done else "scheduled", "modality": "CT",
                "radiologist": f"Dr {rng.randrange(8)}", "progression_site": "",
            })  # fmt: skip
            if done:
                studies.append({"patient_pk": pk, "case_pk": pk, "timepoint_pk": tp_pk,
                                "study_uid": f"2.25.{pk}.{due.number}", "study_on": due.due_on,
                                "description": "CT", "accession_number": "",
                                "imported_at": NOW})  # fmt: skip
    with factory() as session:  # type: ignore[operator]
        for table, rows in (
            (PatientRow, patients), (CaseRow, case_rows), (FollowupScheduleRow, schedules),
            (TimepointRow, timepoints), (StudyRow, studies),
        ):  # fmt: skip
            for start in range(0, len(rows), 20_000):
                session.execute(insert(table), rows[start : start + 20_000])
        session.commit()
    return len(timepoints)


def _query_plan(engine: object) -> list[str]:
    """EXPLAIN QUERY PLAN of the "due this week" statement, one step per item."""
    statement = worklist_statement("due", radiologist=False, modality=False, case=False,
                                   limit=False)  # fmt: skip
    compiled = statement.compile(engine)
    values = {"day": TODAY, "sunday": dt.date(2026, 12, 6),
              "earliest_due": TODAY - dt.timedelta(days=90)}  # fmt: skip
    parameters = tuple(
        (values[name].isoformat() if name in values else compiled.params[name])
        for name in compiled.positiontup or ()
    )
    with engine.connect() as connection:  # type: ignore[attr-defined]
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", parameters)
        return [str(row[-1]) for row in rows]


def main() -> None:
    """Build the registry, time the query, print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--per-case", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", type=Path, help="SQLite file (default: a temporary one)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tace-worklist-"))
    path = args.db or folder / "registry.sqlite"
    engine = make_engine(sqlite_url_for(path))
    try:
        upgrade_to_head(engine)
        factory = make_session_factory(engine)
        parameters = load_followup_parameters()
        started = time.perf_counter()
        count = _fill(factory, args.cases, args.per_case, parameters)
        fill_s = time.perf_counter() - started
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
        service = FollowupService(factory, "bench", parameters=parameters, clock=lambda: NOW)
        rows = service.worklist("due")  # warm-up: connection, statement cache
        times, cpu = [], []
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            rows = service.worklist("due")
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        plan = _query_plan(engine)
        overdue_started = time.perf_counter()
        overdue = service.worklist("overdue")
        overdue_ms = (time.perf_counter() - overdue_started) * 1000
    finally:
        engine.dispose()
    times.sort()
    cpu.sort()
    result = {
        "benchmark": "worklist_due_this_week",
        "cases": args.cases,
        "timepoints": count,
        "due_rows": len(rows),
        "runs": args.runs,
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
        "max_ms": round(times[-1], 2),
        "cpu_median_ms": round(statistics.median(cpu), 2),
        "cpu_max_ms": round(cpu[-1], 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "overdue_rows": len(overdue),
        "overdue_ms": round(overdue_ms, 2),
        "fill_s": round(fill_s, 1),
        "query_plan": plan,
        "goal_ms": GOAL_MS,
        "goal_met_median_wall": statistics.median(times) <= GOAL_MS,
        "goal_met_cpu": cpu[-1] <= GOAL_MS,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
