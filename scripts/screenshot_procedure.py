"""Write docs/procedure-form.png: the procedure form logging session 1 of an approved plan.

Run under a display (``xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb
python scripts/screenshot_procedure.py``); it uses a throw-away database in a
temporary folder, seeded like the tests (the phantom's baseline truth).
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from PySide6.QtWidgets import QApplication  # noqa: E402

from planning_seed import PATIENT_INPUTS, seed_case  # noqa: E402
from tace_planner.services.bootstrap import open_services  # noqa: E402
from tace_planner.services.procedures import ProcedureService  # noqa: E402
from tace_planner.services.settings import AppSettings  # noqa: E402
from tace_planner.ui.panels.procedure_panel import ProcedurePanel  # noqa: E402


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        services = open_services(AppSettings(data_dir=Path(folder), db_url=None, user="dr demo"))
        try:
            case_pk = seed_case(services)
            planning = services.planning
            planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
            draft = planning.save_plan(planning.propose(case_pk))
            codes = [a.code for a in planning.warnings_to_acknowledge(draft.pk)]
            planning.approve(draft.pk, codes)
            clock = lambda: dt.datetime(2026, 3, 16, 15, 0, tzinfo=dt.UTC)  # noqa: E731
            panel = ProcedurePanel(
                ProcedureService(services.session_factory, "dr demo", clock=clock)
            )
            panel.setWindowTitle("TACE Planner — Procedure")
            panel.resize(560, 980)
            panel.set_case(case_pk)
            panel.log_selected_session()
            typed = {
                "performed_on": "2026-03-16", "start_time": "09:10", "end_time": "10:05",
                "operator": "Dr A. Radiosurgeon", "assistant": "Dr B. Fellow",
                "feeding_arteries": "common hepatic artery, right hepatic artery",
                "microcatheter": "2.7 Fr", "lot": "DCB-24117", "expiry": "2027-01-31",
                "size_range": "100–300 µm", "injected_ml": "4.8", "delivered_fraction": "0.6",
                "contrast_ml": "85", "fluoroscopy_min": "14.5", "dap_gy_cm2": "62",
                "air_kerma_mgy": "410", "lidocaine_mg": "40", "lidocaine_timing": "before beads",
                "adverse_events": "Abdominal pain:2:1:0",
            }  # fmt: skip
            for key, text in typed.items():
                panel.fields[key].setText(text)
            for key, value in (("endpoint", "stasis"), ("access_site", "femoral"),
                               ("access_side", "right")):  # fmt: skip
                combo = panel.fields[key]
                combo.setCurrentIndex(combo.findData(value))
            panel.refresh_preview()
            panel.show()
            for _ in range(20):
                app.processEvents()
            out = ROOT / "docs" / "procedure-form.png"
            panel.grab().save(str(out))
            print(out)
            panel.close()
        finally:
            services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
