"""Child process of the kill test: logs, signs and amends procedures until it is killed.

Usage: python _procedure_kill_script.py DB_FILE CASE_PK. Prints ``ready`` once the
services are open and ``signed <pk>`` after each signature is committed.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from tace_planner.services.procedures import ProcedureService
from tace_planner.store.db import make_engine, make_session_factory, sqlite_url_for


def main() -> None:
    db_path, case_pk = Path(sys.argv[1]), int(sys.argv[2])
    factory = make_session_factory(make_engine(sqlite_url_for(db_path)))  # migrated by the test
    clock = lambda: dt.datetime(2026, 3, 20, tzinfo=dt.UTC)  # noqa: E731
    procedures = ProcedureService(factory, "killer", clock=clock)
    print("ready", flush=True)
    values = {
        "performed_on": "2026-03-16", "operator": "Dr K", "lot": "L1", "expiry": "2027-01-01",
        "endpoint": "near-stasis", "product_code": "dc_bead", "vials": 1, "loaded_mg": 100,
        "delivered_fraction": 0.8, "lidocaine_mg": 40, "note": "x" * 2000,
        "difference_reasons": {"plan": "kill test"},
    }  # fmt: skip
    n = 0
    while True:
        n += 1
        item = procedures.log(case_pk, values)
        item = procedures.update_draft(item.pk, {"delivered_fraction": 0.7})
        item = procedures.sign(item.pk)
        print(f"signed {item.pk}", flush=True)
        procedures.amend(item.pk, f"amendment {n}", {"delivered_fraction": 0.6})


if __name__ == "__main__":
    main()
