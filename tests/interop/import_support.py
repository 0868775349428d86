"""What an import left in an organization, for tests that compare two ways of importing the same data."""

from __future__ import annotations

from casebridge.audit.models import AuditEvent
from casebridge.clinical.models import Condition, Encounter, MedicationRequest, Procedure
from casebridge.interop.models import SourceRecord
from casebridge.patients.models import Patient, PatientIdentifier

IMPORTED_MODELS = (Patient, PatientIdentifier, Encounter, Condition, Procedure, MedicationRequest, SourceRecord)


def records_held_by(org) -> dict[str, int]:
    """Rows per imported model in ``org``, and its import audit events."""
    held = {}
    for model in IMPORTED_MODELS:
        scope = {"patient__organization": org} if model is PatientIdentifier else {"organization": org}
        held[model.__name__] = model.objects.filter(**scope).count()
    held["audit"] = AuditEvent.objects.filter(organization=org, action="fhir.import").count()
    return held
