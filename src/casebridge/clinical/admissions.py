"""When an incoming admission opens a hospital case. Pure Python: no Django.

An organization chooses: never (cases are opened by hand), every admission of the chosen
classes (default inpatient and observation), or only admissions for listed conditions. Only an
admission that is still going on opens a case: history (a finished stay from years ago, as a
bulk export carries) does not start case management.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from casebridge.clinical.coding import ADMISSION_CLASSES, ENCOUNTER_OPEN_STATUSES, code_matches

OFF = "off"
EVERY_ADMISSION = "every_admission"
LISTED_CONDITIONS = "listed_conditions"
MODES = (OFF, EVERY_ADMISSION, LISTED_CONDITIONS)
DEFAULT_REVIEW_DUE_HOURS = 24


@dataclass(frozen=True)
class AdmissionPolicy:
    mode: str = OFF
    encounter_classes: frozenset[str] = field(default_factory=lambda: ADMISSION_CLASSES)
    condition_codes: tuple[str, ...] = ()
    review_due_hours: int = DEFAULT_REVIEW_DUE_HOURS


def should_open_case(
    policy: AdmissionPolicy, *, encounter_class: str, status: str, discharged: bool, codes: Iterable[str]
) -> bool:
    if policy.mode == OFF:
        return False
    if encounter_class not in policy.encounter_classes:
        return False
    if status not in ENCOUNTER_OPEN_STATUSES or discharged:
        return False
    if policy.mode == EVERY_ADMISSION:
        return True
    return any(code_matches(code, policy.condition_codes) for code in codes)


def review_due_at(admit_at: dt.datetime, policy: AdmissionPolicy) -> dt.datetime:
    """The initial utilization review is due a fixed number of hours after admission (default 24)."""
    return admit_at + dt.timedelta(hours=policy.review_due_hours)
