"""The procedure log of one TACE: the record, its validation, the delivered dose, plan differences.

Pure rules, no database and no Qt. A :class:`ProcedureRecord` is what the
radiosurgeon enters after the procedure (prefilled from the approved plan's
session, :func:`prefill_from_session`); :func:`check_record` refuses impossible
values (a fraction outside [0, 1], a date before the baseline imaging or in the
future, an expired lot, a negative dose …) and lists implausible ones to be
confirmed, each naming the field for people; :func:`delivered_dose_mg` is the
delivered dose, kept apart from the loaded dose and never shown as it::

    delivered = Σ (fraction of vial i injected) × load_i, vials injected in order
                (equal loads: loaded × fraction; or the sum of the doses entered per vial)

No published rule covers the dose of beads left undelivered; the vial rule is an
institutional default shared with the plan's expected delivered dose
(:func:`tace_planner.domain.dosing_kernel.delivered_from_fraction_mg`), and even at
100 % injection loaded ≠ delivered in the strict sense (beads lose 4–6 % of
irinotecan at once in contrast, Pereira, Anti-Cancer Drugs 2016).
:func:`plan_differences` lists what differs from the plan's session; each difference
needs a reason before sign-off. Risk factors and
adverse-event grading are in :mod:`tace_planner.domain.procedure_risk`.
"""

from tace_planner.domain.procedure_checks import (
    REQUIRED_TO_SIGN,
    FieldProblem,
    PlausibilityLimits,
    RecordContext,
    check_record,
    missing_to_sign,
    read_entries,
    validate_record,
)
from tace_planner.domain.procedure_dose import (
    DELIVERED_DOSE_RULE,
    delivered_dose_mg,
    delivered_explanation,
    loaded_dose_mg,
)
from tace_planner.domain.procedure_fields import (
    ACCESS_SITES,
    ARTERIES,
    ENDPOINT_LABELS,
    ENDPOINTS,
    FIELD_LABELS,
    SIDES,
    ProcedureFieldError,
    SignedRecordError,
    field_label,
)
from tace_planner.domain.procedure_plan import (
    Difference,
    PlannedSession,
    plan_differences,
    prefill_from_session,
    unexplained,
    with_reasons,
)
from tace_planner.domain.procedure_record import (
    NUMBER_FIELDS,
    RECORD_FIELDS,
    AdverseEvent,
    ProcedureRecord,
    TreatedVessel,
    parse_adverse_event,
    record_from_json,
)

__all__ = [
    "ACCESS_SITES",
    "ARTERIES",
    "DELIVERED_DOSE_RULE",
    "ENDPOINTS",
    "ENDPOINT_LABELS",
    "FIELD_LABELS",
    "NUMBER_FIELDS",
    "RECORD_FIELDS",
    "REQUIRED_TO_SIGN",
    "SIDES",
    "AdverseEvent",
    "Difference",
    "FieldProblem",
    "PlannedSession",
    "PlausibilityLimits",
    "ProcedureFieldError",
    "ProcedureRecord",
    "RecordContext",
    "SignedRecordError",
    "TreatedVessel",
    "check_record",
    "delivered_dose_mg",
    "delivered_explanation",
    "field_label",
    "loaded_dose_mg",
    "missing_to_sign",
    "parse_adverse_event",
    "plan_differences",
    "prefill_from_session",
    "read_entries",
    "record_from_json",
    "unexplained",
    "validate_record",
    "with_reasons",
]
