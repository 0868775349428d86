"""Recompute a current stay's readmission risk when its patient's clinical record changes.

Saves through the ORM (services, HL7 feeds, edits) collect the patients touched in a transaction and
refresh their current stays once, after commit (``kernel.follow_up.after_commit``: the HL7 listener
does it just after the ACK, so the sender does not wait for it). Bulk imports that bypass model saves
call ``hospital.services.risk_refresh_for_patients`` or the census "Refresh" action instead.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db.models.signals import post_delete, post_save

from casebridge.clinical.models import Condition, Encounter, Observation, Procedure
from casebridge.kernel.follow_up import after_commit

_pending = threading.local()


def _flush() -> None:
    from casebridge.hospital.services import risk_refresh_for_patients

    patient_ids: set[int] = getattr(_pending, "ids", set())
    _pending.ids = set()
    if patient_ids:
        risk_refresh_for_patients(patient_ids)


def _touched(sender: Any, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    patient_id = getattr(instance, "patient_id", None)
    if patient_id is None:
        return
    ids = getattr(_pending, "ids", None)
    if ids is None:
        ids = _pending.ids = set()
    ids.add(patient_id)
    # One callback per save (one in all inside a follow_up.collected block); the first to run after
    # commit refreshes every collected patient and the rest find nothing left. (A rolled-back
    # transaction drops its callbacks; its ids go with the next.)
    after_commit(_flush)


for model in (Condition, Encounter, Observation, Procedure):
    post_save.connect(_touched, sender=model, dispatch_uid=f"hospital-risk-{model.__name__}")
    post_delete.connect(_touched, sender=model, dispatch_uid=f"hospital-risk-del-{model.__name__}")
