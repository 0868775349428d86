"""Encounters and Conditions (the ``clinical`` app, from the fhir-import branch) as FHIR resources.

The clinical app arrives with the fhir-import branch. Until it is merged, CaseBridge has no
encounters or clinical conditions, so the models are looked up through the app registry only when
the app is installed (``clinical_model`` returns None otherwise) and nothing here imports
``casebridge.clinical``. The field names are those of ``casebridge/clinical/models.py`` on that branch:
Encounter(identifier_system, identifier_value, status, encounter_class, class_system, class_code,
types, admit_at, discharge_at, admission_source, discharge_disposition, location, location_text,
attending, attending_name, service_provider, reasons, hospital_case) and Condition(code_system, code,
display, codings, encounter, clinical_status, verification_status, category, onset_at, abatement_at,
recorded_at).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

from casebridge.interop.fhir_export import ids
from casebridge.interop.fhir_export.mappers import (
    NPI_SYSTEM,
    Resource,
    _address,
    _clean,
    _instant,
    _meta,
    _period,
    coding,
    concept,
    last_updated_of,
    patient_ref,
)

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"

# Our encounter class -> v3 ActCode, for an encounter whose class code as received was not kept.
_ACT_CODE_OF_CLASS = {
    "inpatient": ("IMP", "inpatient encounter"),
    "emergency": ("EMER", "emergency"),
    "observation": ("OBSENC", "observation encounter"),
    "home_health": ("HH", "home health"),
    "ambulatory": ("AMB", "ambulatory"),
    "virtual": ("VR", "virtual"),
}


def clinical_installed() -> bool:
    return apps.is_installed("casebridge.clinical")


def clinical_model(name: str) -> Any:
    """The model class ``clinical.<name>`` when the clinical app is installed, else None (see the module
    docstring). Typed ``Any``: the class is unknown to the type checker until that app is merged."""
    if not clinical_installed():
        return None
    return apps.get_model("clinical", name)


def external_organization(org: Any) -> Resource:
    """An organization known from incoming data (clinical.ExternalOrganization)."""
    identifiers: list[dict[str, Any]] = [ids.identifier("extorg", org.pk)]
    identifiers += [_clean({"system": i.get("system", ""), "value": i.get("value", "")}) for i in org.identifiers or ()]
    if org.npi and not any(i.get("system") == NPI_SYSTEM for i in org.identifiers or ()):
        identifiers.append({"system": NPI_SYSTEM, "value": org.npi})
    return _clean(
        {
            "resourceType": "Organization",
            "id": ids.fhir_id("extorg", org.pk),
            "identifier": [i for i in identifiers if i.get("value")],
            "active": org.active,
            "type": [concept(org.type_codings)] if org.type_codings else [],
            "name": org.name,
            "telecom": [{"system": "phone", "value": org.phone}] if org.phone else [],
            "address": _address(org.address_line, org.city, org.state, org.postal_code),
        }
    )


def clinical_practitioner(p: Any) -> Resource:
    """A practitioner known from incoming data (clinical.Practitioner), e.g. an attending physician."""
    identifiers: list[dict[str, Any]] = [ids.identifier("practitioner", p.pk)]
    identifiers += [_clean({"system": i.get("system", ""), "value": i.get("value", "")}) for i in p.identifiers or ()]
    if p.npi and not any(i.get("system") == NPI_SYSTEM for i in p.identifiers or ()):
        identifiers.append({"system": NPI_SYSTEM, "value": p.npi})
    telecom = [{"system": "phone", "value": p.phone}] if p.phone else []
    if p.email:
        telecom.append({"system": "email", "value": p.email})
    return _clean(
        {
            "resourceType": "Practitioner",
            "id": ids.fhir_id("practitioner", p.pk),
            "identifier": [i for i in identifiers if i.get("value")],
            "active": p.active,
            "name": [
                _clean(
                    {
                        "family": p.family_name,
                        "given": [p.given_name] if p.given_name else [],
                        "prefix": [p.prefix] if p.prefix else [],
                    }
                )
            ],
            "gender": p.gender if p.gender in ("male", "female", "other", "unknown") else None,
            "telecom": telecom,
        }
    )


def _single_coding(value: Any) -> dict[str, Any]:
    return concept([value]) if isinstance(value, dict) and value.get("code") else {}


def encounter(e: Any) -> Resource:
    act = _ACT_CODE_OF_CLASS.get(e.encounter_class, ("", ""))
    klass = (
        coding(e.class_system or ACT_CODE, e.class_code)
        if e.class_code
        else coding(ACT_CODE, act[0], act[1])
        if act[0]
        else coding("http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "UNK", "unknown")
    )
    identifiers: list[dict[str, Any]] = []
    if e.identifier_value:
        identifiers.append(_clean({"use": "official", "system": e.identifier_system, "value": e.identifier_value}))
    identifiers.append(ids.identifier("encounter", e.pk))
    participant: dict[str, Any] = {}
    if e.attending_id or e.attending_name:
        who = (
            ids.reference("Practitioner", "practitioner", e.attending_id, e.attending_name or str(e.attending))
            if e.attending_id
            else {"display": e.attending_name}
        )
        participant = {
            "type": [concept([coding(PARTICIPANT_TYPE, "ATND", "attender")])],
            "individual": who,
        }
    location_name = e.location_text or (e.location.name if e.location_id and e.location is not None else "")
    reasons = [concept([r], r.get("display", "")) for r in e.reasons or () if r.get("code") or r.get("display")]
    return _clean(
        {
            "resourceType": "Encounter",
            "id": ids.fhir_id("encounter", e.pk),
            "meta": _meta(last_updated_of(e, "updated_at")),
            "identifier": identifiers,
            "status": e.status,
            "class": klass,
            "type": [concept([c]) for c in e.types or () if c.get("code")],
            "subject": patient_ref(e.patient_id),
            "episodeOfCare": [ids.reference("EpisodeOfCare", "case", e.hospital_case_id)] if e.hospital_case_id else [],
            "participant": [participant] if participant else [],
            "period": _period(e.admit_at, e.discharge_at),
            "reasonCode": reasons,
            "hospitalization": _clean(
                {
                    "admitSource": _single_coding(e.admission_source),
                    "dischargeDisposition": _single_coding(e.discharge_disposition),
                }
            ),
            # The location goes by name: CaseBridge keeps the point of care as sent, not a Location resource.
            "location": [{"location": {"display": location_name}}] if location_name else [],
            "serviceProvider": (
                ids.reference("Organization", "extorg", e.service_provider_id, str(e.service_provider or ""))
                if e.service_provider_id
                else {}
            ),
        }
    )


def condition(c: Any) -> Resource:
    return _clean(
        {
            "resourceType": "Condition",
            "id": ids.fhir_id("condition", c.pk),
            "meta": _meta(last_updated_of(c, "updated_at")),
            "identifier": [ids.identifier("condition", c.pk)],
            "clinicalStatus": concept([coding(CLINICAL_STATUS, c.clinical_status)]) if c.clinical_status else {},
            "verificationStatus": (
                concept([coding(VERIFICATION_STATUS, c.verification_status)]) if c.verification_status else {}
            ),
            "category": [concept([coding(CONDITION_CATEGORY, c.category)])] if c.category else [],
            "code": concept(
                c.codings or ([{"system": c.code_system, "code": c.code, "display": c.display}] if c.code else []),
                c.display,
            ),
            "subject": patient_ref(c.patient_id),
            "encounter": ids.reference("Encounter", "encounter", c.encounter_id) if c.encounter_id else {},
            "onsetDateTime": _instant(c.onset_at),
            "abatementDateTime": _instant(c.abatement_at),
            "recordedDate": _instant(c.recorded_at),
        }
    )
