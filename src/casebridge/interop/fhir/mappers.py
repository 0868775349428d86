"""One mapper per FHIR resource type: the field values of the CaseBridge record it becomes.

A mapper reads the resource (already validated against the R4 structure by fhir.resources), resolves
the references it stores as links, and returns ``Mapped``; it raises ``Rejected`` with a reason a
person can act on when the resource cannot become a record. Codes are copied as coded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from casebridge.clinical import models as clinical
from casebridge.clinical.coding import (
    ENCOUNTER_STATUSES,
    codings_of,
    codings_of_all,
    encounter_class_of,
    first_code,
    primary,
)
from casebridge.interop.fhir import values as v
from casebridge.interop.fhir.references import Resolver, Unresolvable
from casebridge.kernel import clock
from casebridge.patients import models as patients
from casebridge.patients.identifiers import mbi_is_valid, normalize_mbi

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
MBI_SYSTEM = "http://hl7.org/fhir/sid/us-mbi"
# Identifiers CaseBridge deliberately does not copy into its identifier index (minimum necessary):
# they stay only in the provenance copy of the resource.
_PRIVATE_ID_TYPES = frozenset({"SS", "DL", "PPN", "SB"})
_PRIVATE_ID_SYSTEMS = frozenset({"http://hl7.org/fhir/sid/us-ssn"})


class Rejected(Exception):
    pass


@dataclass
class Mapped:
    values: dict[str, Any]
    patient_id: int | None = None
    identifiers: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class TypeSpec:
    resource_type: str
    model: type[models.Model]
    mapper: Callable[[dict[str, Any], Resolver], Mapped]
    with_history: bool = False


def _ref(resolver: Resolver, ref: Any, *types: str, required: bool = False, where: str) -> int | None:
    try:
        return resolver.resolve(ref, types, required=required, field=where)
    except Unresolvable as exc:
        raise Rejected(f"unresolvable reference: {exc}") from exc


def _coded(concept: Any) -> dict[str, Any]:
    codings = codings_of(concept)
    main = primary(codings)
    text = (concept or {}).get("text") or main["display"]
    return {
        "code_system": v.clip(main["system"], 200),
        "code": v.clip(main["code"], 64),
        "display": v.clip(text, 500),
        "codings": codings,
    }


def _reasons(resource: dict[str, Any]) -> list[dict[str, str]]:
    out = codings_of_all(resource.get("reasonCode"))
    out += [{"system": "", "code": "", "display": v.display_of(r)} for r in resource.get("reasonReference") or ()]
    return [r for r in out if r["code"] or r["display"]]


# --- directory ----------------------------------------------------------------------------------


def _npi(idents: list[dict[str, str]]) -> str:
    return next((i["value"][:10] for i in idents if i["system"] == NPI_SYSTEM), "")


def map_organization(res: dict[str, Any], resolver: Resolver) -> Mapped:
    idents = v.identifiers(res.get("identifier"))
    addr = v.address(res.get("address"))
    name = res.get("name") or res.get("alias", [""])[0] or ""
    if not name:
        raise Rejected("Organization.name is required: a directory entry needs a name")
    return Mapped(
        {
            "name": v.clip(name, 300),
            "npi": _npi(idents),
            "type_codings": codings_of_all(res.get("type")),
            "address_line": addr["line"][:300],
            "city": addr["city"],
            "state": v.clip(addr["state"], 50),
            "postal_code": v.clip(addr["postal_code"], 16),
            "phone": v.clip(v.telecom(res.get("telecom"), "phone"), 64),
            "identifiers": idents,
            "active": res.get("active", True) is not False,
        },
        identifiers=idents,
    )


def map_location(res: dict[str, Any], resolver: Resolver) -> Mapped:
    idents = v.identifiers(res.get("identifier"))
    addr = v.address(res.get("address"))
    return Mapped(
        {
            "name": v.clip(res.get("name"), 300),
            "status": v.clip(res.get("status"), 16),
            "physical_type": codings_of(res.get("physicalType")),
            "address_line": addr["line"][:300],
            "city": addr["city"],
            "state": v.clip(addr["state"], 50),
            "postal_code": v.clip(addr["postal_code"], 16),
            "phone": v.clip(v.telecom(res.get("telecom"), "phone"), 64),
            "managing_organization_id": _ref(
                resolver, res.get("managingOrganization"), "Organization", where="Location.managingOrganization"
            ),
            "identifiers": idents,
        },
        identifiers=idents,
    )


def map_practitioner(res: dict[str, Any], resolver: Resolver) -> Mapped:
    idents = v.identifiers(res.get("identifier"))
    name = v.human_name(res.get("name"))
    return Mapped(
        {
            "family_name": v.clip(name["family"], 100),
            "given_name": v.clip(name["given"], 100),
            "prefix": v.clip(name["prefix"], 40),
            "npi": _npi(idents),
            "gender": v.clip(res.get("gender"), 8),
            "phone": v.clip(v.telecom(res.get("telecom"), "phone"), 64),
            "email": v.clip(v.telecom(res.get("telecom"), "email"), 200),
            "identifiers": idents,
            "active": res.get("active", True) is not False,
        },
        identifiers=idents,
    )


def map_practitioner_role(res: dict[str, Any], resolver: Resolver) -> Mapped:
    idents = v.identifiers(res.get("identifier"))
    locations = res.get("location") or [None]
    return Mapped(
        {
            "practitioner_id": _ref(
                resolver, res.get("practitioner"), "Practitioner", where="PractitionerRole.practitioner"
            ),
            "external_organization_id": _ref(
                resolver, res.get("organization"), "Organization", where="PractitionerRole.organization"
            ),
            "location_id": _ref(resolver, locations[0], "Location", where="PractitionerRole.location"),
            "codes": codings_of_all(res.get("code")),
            "specialties": codings_of_all(res.get("specialty")),
            "phone": v.clip(v.telecom(res.get("telecom"), "phone"), 64),
            "active": res.get("active", True) is not False,
        },
        identifiers=idents,
    )


# --- patients -----------------------------------------------------------------------------------

_LANGUAGES = {"en": "English", "es": "Spanish", "zh": "Chinese", "vi": "Vietnamese", "fr": "French", "ru": "Russian"}


def _language(res: dict[str, Any]) -> str:
    for comm in res.get("communication") or ():
        lang = comm.get("language") or {}
        for c in lang.get("coding") or ():
            code = str(c.get("code") or "")
            if code[:2].lower() in _LANGUAGES:
                return _LANGUAGES[code[:2].lower()]
            if c.get("display"):
                return str(c["display"])[:40]
        if lang.get("text"):
            return str(lang["text"])[:40]
    return "English"


def patient_identifiers(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The identifiers CaseBridge indexes: MRN (assigned by the importing organization), MBI, and others
    by system. Social security, driver's license and passport numbers are not indexed."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for ident in res.get("identifier") or ():
        value = str(ident.get("value") or "").strip()[:64]
        system = str(ident.get("system") or "")[:200]
        type_code = first_code(ident.get("type"))
        if not value or type_code in _PRIVATE_ID_TYPES or system in _PRIVATE_ID_SYSTEMS:
            continue
        if type_code == "MR":
            kind = patients.IdentifierKind.MRN
        elif system == MBI_SYSTEM or type_code == "MC":
            kind = patients.IdentifierKind.MBI
            value = normalize_mbi(value)
            if not mbi_is_valid(value):
                kind = patients.IdentifierKind.OTHER
        elif type_code == "MB":
            kind = patients.IdentifierKind.MEMBER_ID
        else:
            kind = patients.IdentifierKind.OTHER
        if (kind, value) in seen:
            continue
        seen.add((kind, value))
        out.append({"kind": kind, "value": value, "system": system})
    return out


def map_patient(res: dict[str, Any], resolver: Resolver) -> Mapped:
    name = v.human_name(res.get("name"))
    if not name["family"]:
        raise Rejected("Patient.name.family is required: CaseBridge files patients by last name")
    birth = v.date_of(res.get("birthDate"))
    if birth is None:
        raise Rejected("Patient.birthDate is required: CaseBridge tells patients apart by date of birth")
    if birth > clock.today():
        raise Rejected("Patient.birthDate is in the future")
    if birth.year < 1890:
        raise Rejected("Patient.birthDate is before 1890")
    addr = v.address(res.get("address"))
    gender = res.get("gender") or "unknown"
    return Mapped(
        {
            "family_name": v.clip(name["family"], 100),
            "given_name": v.clip(name["given"] or "-", 100),
            "birth_date": birth,
            "sex": gender if gender in patients.Sex.values else patients.Sex.UNKNOWN,
            "address_line": addr["line"],
            "city": addr["city"],
            "state": v.state_code(addr["state"]),
            "postal_code": v.zip_code(addr["postal_code"]),
            "phone": v.clip(v.telecom(res.get("telecom"), "phone"), 32),
            "language": _language(res),
            "deceased": bool(res.get("deceasedBoolean") or res.get("deceasedDateTime")),
        },
        identifiers=patient_identifiers(res),
    )


_RELATIONSHIPS = {
    "SPS": "spouse", "HUSB": "spouse", "WIFE": "spouse", "DOMPART": "spouse", "FMRSPS": "other",
    "CHILD": "child", "SON": "child", "DAU": "child", "NCHILD": "child", "CHLDADOPT": "child",
    "PRN": "parent", "MTH": "parent", "FTH": "parent", "NPRN": "parent", "STPPRN": "parent",
    "SIB": "sibling", "BRO": "sibling", "SIS": "sibling", "NSIB": "sibling",
    "FRND": "friend", "NBOR": "friend", "GUARD": "guardian", "POWATT": "poa", "HPOWATT": "poa", "DPOWATT": "poa",
}  # fmt: skip


def map_related_person(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _ref(resolver, res.get("patient"), "Patient", required=True, where="RelatedPerson.patient")
    name = v.human_name(res.get("name"))
    if not name["text"]:
        raise Rejected("RelatedPerson.name is required: a contact needs a name")
    codes = [c["code"] for c in codings_of_all(res.get("relationship"))]
    relationship = next((_RELATIONSHIPS[c] for c in codes if c in _RELATIONSHIPS), "other")
    return Mapped(
        {
            "patient_id": patient_id,
            "name": v.clip(name["text"], 200),
            "relationship": relationship,
            "phone": v.clip(v.telecom(res.get("telecom"), "phone"), 32),
            "is_emergency_contact": any(c in ("C", "EP", "ECON") for c in codes),
            "is_caregiver": any(c in ("CAREGIVER", "CGV") for c in codes),
        },
        patient_id=patient_id,
    )


def map_coverage(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _ref(resolver, res.get("beneficiary"), "Patient", required=True, where="Coverage.beneficiary")
    start, end = v.period_of(res)
    if start is None:
        raise Rejected("Coverage.period.start is required: CaseBridge needs the date coverage began")
    member_id = res.get("subscriberId") or next((i["value"] for i in v.identifiers(res.get("identifier"))), "")
    if not member_id:
        raise Rejected("Coverage needs subscriberId or an identifier (the member ID)")
    payors = res.get("payor") or []
    payer_name = v.display_of(payors[0]) if payors else ""
    plan = next(
        (c for c in res.get("class") or () if first_code(c.get("type")) == "plan"),
        {},
    )
    relationship = first_code(res.get("relationship")) or "self"
    order = res.get("order") if isinstance(res.get("order"), int) and 1 <= res["order"] <= 3 else 1
    today = clock.today()
    return Mapped(
        {
            "patient_id": patient_id,
            "payer_name": v.clip(payer_name or "Unknown payer", 200),
            "plan_name": v.clip(plan.get("name") or plan.get("value"), 200),
            "member_id": v.clip(member_id, 64),
            "subscriber_name": v.clip(v.display_of(res.get("subscriber")), 200),
            "subscriber_relationship": relationship if relationship in ("self", "spouse", "child") else "other",
            "period_start": start.date(),
            "period_end": end.date() if end else None,
            "order": order,
            "active": res.get("status") == "active" and (end is None or end.date() >= today),
        },
        patient_id=patient_id,
    )


# --- clinical -----------------------------------------------------------------------------------


def _patient(res: dict[str, Any], resolver: Resolver, key: str = "subject") -> int:
    pid = _ref(resolver, res.get(key), "Patient", required=True, where=f"{res['resourceType']}.{key}")
    assert pid is not None
    return pid


def _attending(res: dict[str, Any]) -> dict[str, Any] | None:
    """The attending (v3 ParticipationType ATND), else the primary performer, else the first participant."""
    participants = res.get("participant") or []
    if not participants:
        return None
    by_role: dict[str, dict[str, Any]] = {}
    for p in participants:
        for t in p.get("type") or ():
            for c in t.get("coding") or ():
                by_role.setdefault(c.get("code", ""), p)
    chosen = by_role.get("ATND") or by_role.get("PPRF") or by_role.get("PART") or participants[0]
    return chosen.get("individual")


def _first_coding(concept: Any) -> dict[str, str]:
    codings = codings_of(concept)
    return codings[0] if codings else {}


def map_encounter(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _patient(res, resolver)
    status = res.get("status")
    if status not in ENCOUNTER_STATUSES:
        raise Rejected(f"Encounter.status {status!r} is not an R4 EncounterStatus")
    klass = res.get("class") or {}
    admit, discharge = v.period_of(res)
    if admit and discharge and discharge < admit:
        raise Rejected("Encounter.period.end is before its start")
    hospitalization = res.get("hospitalization") or {}
    locations = res.get("location") or []
    location_ref = locations[-1].get("location") if locations else None
    attending = _attending(res)
    attending_id = _ref(resolver, attending, "Practitioner", where="Encounter.participant.individual")
    idents = v.identifiers(res.get("identifier"))
    ident = next((i for i in (res.get("identifier") or ()) if i.get("use") == "official" and i.get("value")), None)
    ident = ident or (idents[0] if idents else {})
    return Mapped(
        {
            "patient_id": patient_id,
            "identifier_system": v.clip(ident.get("system"), 200),
            "identifier_value": v.clip(ident.get("value"), 128),
            "status": status,
            "encounter_class": encounter_class_of(klass.get("code")),
            "class_system": v.clip(klass.get("system"), 200),
            "class_code": v.clip(klass.get("code"), 32),
            "types": codings_of_all(res.get("type")),
            "admit_at": admit,
            "discharge_at": discharge,
            "admission_source": _first_coding(hospitalization.get("admitSource")),
            "discharge_disposition": _first_coding(hospitalization.get("dischargeDisposition")),
            "location_id": _ref(resolver, location_ref, "Location", where="Encounter.location"),
            "location_text": v.clip(v.display_of(location_ref), 200),
            "attending_id": attending_id,
            "attending_name": v.clip(v.display_of(attending), 200),
            "service_provider_id": _ref(
                resolver, res.get("serviceProvider"), "Organization", where="Encounter.serviceProvider"
            ),
            "reasons": _reasons(res),
        },
        patient_id=patient_id,
    )


def _encounter(res: dict[str, Any], resolver: Resolver) -> int | None:
    return _ref(resolver, res.get("encounter"), "Encounter", where=f"{res['resourceType']}.encounter")


def map_condition(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _patient(res, resolver)
    onset = res.get("onsetDateTime") or (res.get("onsetPeriod") or {}).get("start")
    abatement = res.get("abatementDateTime") or (res.get("abatementPeriod") or {}).get("start")
    return Mapped(
        {
            "patient_id": patient_id,
            "encounter_id": _encounter(res, resolver),
            **_coded(res.get("code")),
            "clinical_status": v.clip(first_code(res.get("clinicalStatus")), 20),
            "verification_status": v.clip(first_code(res.get("verificationStatus")), 20),
            "category": v.clip(first_code((res.get("category") or [None])[0]), 40),
            "onset_at": v.datetime_of(onset),
            "abatement_at": v.datetime_of(abatement),
            "recorded_at": v.datetime_of(res.get("recordedDate")),
        },
        patient_id=patient_id,
    )


def map_procedure(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _patient(res, resolver)
    start, end = v.period_of(res, "performedPeriod")
    if start is None:
        start = v.datetime_of(res.get("performedDateTime"))
    return Mapped(
        {
            "patient_id": patient_id,
            "encounter_id": _encounter(res, resolver),
            **_coded(res.get("code")),
            "status": v.clip(res.get("status"), 20),
            "performed_start": start,
            "performed_end": end,
            "location_id": _ref(resolver, res.get("location"), "Location", where="Procedure.location"),
            "reasons": _reasons(res),
        },
        patient_id=patient_id,
    )


def map_medication_request(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _patient(res, resolver)
    concept = res.get("medicationCodeableConcept") or {"text": v.display_of(res.get("medicationReference"))}
    dosage = (res.get("dosageInstruction") or [{}])[0]
    return Mapped(
        {
            "patient_id": patient_id,
            "encounter_id": _encounter(res, resolver),
            **_coded(concept),
            "status": v.clip(res.get("status"), 20),
            "intent": v.clip(res.get("intent"), 20),
            "authored_at": v.datetime_of(res.get("authoredOn")),
            "requester_id": _ref(resolver, res.get("requester"), "Practitioner", where="MedicationRequest.requester"),
            "requester_name": v.clip(v.display_of(res.get("requester")), 200),
            "dosage_text": v.clip(dosage.get("text"), 500),
            "reasons": _reasons(res),
        },
        patient_id=patient_id,
    )


def map_allergy(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _patient(res, resolver, "patient")
    return Mapped(
        {
            "patient_id": patient_id,
            **_coded(res.get("code")),
            "clinical_status": v.clip(first_code(res.get("clinicalStatus")), 20),
            "verification_status": v.clip(first_code(res.get("verificationStatus")), 20),
            "allergy_type": v.clip(res.get("type"), 20),
            "categories": list(res.get("category") or ()),
            "criticality": v.clip(res.get("criticality"), 20),
            "recorded_at": v.datetime_of(res.get("recordedDate")),
            "reactions": [codings_of_all(r.get("manifestation")) for r in res.get("reaction") or ()],
        },
        patient_id=patient_id,
    )


def _value(res: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"value_quantity": None, "value_unit": "", "value_codings": [], "value_text": ""}
    if "valueQuantity" in res:
        q = res["valueQuantity"]
        out["value_quantity"] = float(q["value"]) if q.get("value") is not None else None
        out["value_unit"] = v.clip(q.get("unit") or q.get("code"), 40)
    elif "valueCodeableConcept" in res:
        out["value_codings"] = codings_of(res["valueCodeableConcept"])
        out["value_text"] = v.clip(res["valueCodeableConcept"].get("text"), 500)
    elif "valueInteger" in res:
        out["value_quantity"] = float(res["valueInteger"])
    elif "valueBoolean" in res:
        out["value_text"] = str(res["valueBoolean"]).lower()
    elif "valueString" in res:
        out["value_text"] = v.clip(res["valueString"], 500)
    return out


def map_observation(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _patient(res, resolver)
    effective = res.get("effectiveDateTime") or (res.get("effectivePeriod") or {}).get("start")
    components = []
    for comp in res.get("component") or ():
        value = _value(comp)
        components.append(
            {
                "codings": codings_of(comp.get("code")),
                "value": value["value_quantity"],
                "unit": value["value_unit"],
                "value_codings": value["value_codings"],
                "text": value["value_text"],
            }
        )
    return Mapped(
        {
            "patient_id": patient_id,
            "encounter_id": _encounter(res, resolver),
            **_coded(res.get("code")),
            "status": v.clip(res.get("status"), 20),
            "categories": codings_of_all(res.get("category")),
            "effective_at": v.datetime_of(effective or res.get("issued")),
            **_value(res),
            "components": components,
        },
        patient_id=patient_id,
    )


# --- cost history -------------------------------------------------------------------------------


def _items(res: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item in res.get("item") or ():
        net, currency = v.money(item.get("net"))
        out.append(
            {
                "sequence": item.get("sequence"),
                "codings": codings_of(item.get("productOrService")),
                "net": str(net) if net is not None else None,
                "currency": currency,
            }
        )
    return out


def map_claim(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _patient(res, resolver, "patient")
    start, end = v.period_of(res, "billablePeriod")
    total, currency = v.money(res.get("total"))
    encounter_id = None
    for item in res.get("item") or ():
        for ref in item.get("encounter") or ():
            encounter_id = _ref(resolver, ref, "Encounter", where="Claim.item.encounter")
            break
        if encounter_id:
            break
    diagnoses = []
    for d in res.get("diagnosis") or ():
        diagnoses += codings_of(d.get("diagnosisCodeableConcept"))
        if d.get("diagnosisReference"):
            diagnoses.append({"system": "", "code": "", "display": v.display_of(d["diagnosisReference"])})
    return Mapped(
        {
            "patient_id": patient_id,
            "encounter_id": encounter_id,
            "status": v.clip(res.get("status"), 20),
            "claim_type": v.clip(first_code(res.get("type")), 40),
            "use": v.clip(res.get("use"), 20),
            "billable_start": start,
            "billable_end": end,
            "submitted_at": v.datetime_of(res.get("created")),
            "provider_name": v.clip(v.display_of(res.get("provider")), 300),
            "total": total,
            "currency": currency,
            "items": _items(res),
            "diagnoses": diagnoses,
        },
        patient_id=patient_id,
    )


def map_eob(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _patient(res, resolver, "patient")
    start, end = v.period_of(res, "billablePeriod")
    payment, currency = v.money((res.get("payment") or {}).get("amount"))
    totals = []
    for t in res.get("total") or ():
        amount, cur = v.money(t.get("amount"))
        totals.append({"category": first_code(t.get("category")), "amount": str(amount) if amount else None})
        currency = currency or cur
    return Mapped(
        {
            "patient_id": patient_id,
            "claim_id": _ref(resolver, res.get("claim"), "Claim", where="ExplanationOfBenefit.claim"),
            "status": v.clip(res.get("status"), 20),
            "outcome": v.clip(res.get("outcome"), 20),
            "claim_type": v.clip(first_code(res.get("type")), 40),
            "billable_start": start,
            "billable_end": end,
            "insurer_name": v.clip(v.display_of(res.get("insurer")), 300),
            "totals": totals,
            "payment": payment,
            "currency": currency,
            "items": _items(res),
        },
        patient_id=patient_id,
    )


# --- care plans kept as received ----------------------------------------------------------------


def map_care_plan(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _patient(res, resolver)
    start, end = v.period_of(res)
    categories = codings_of_all(res.get("category"))
    activities = []
    for act in res.get("activity") or ():
        detail = act.get("detail") or {}
        activities.append({"codings": codings_of(detail.get("code")), "status": detail.get("status", "")})
    title = res.get("title") or res.get("description") or next((c["display"] for c in categories[1:]), "")
    return Mapped(
        {
            "patient_id": patient_id,
            "encounter_id": _encounter(res, resolver),
            "status": v.clip(res.get("status"), 20),
            "intent": v.clip(res.get("intent"), 20),
            "title": v.clip(title or (categories[0]["display"] if categories else ""), 300),
            "categories": categories,
            "addresses": [v.display_of(a) or a.get("reference", "") for a in res.get("addresses") or ()],
            "activities": activities,
            "period_start": start,
            "period_end": end,
            "resource": res,
        },
        patient_id=patient_id,
    )


def map_care_team(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _patient(res, resolver)
    start, end = v.period_of(res)
    return Mapped(
        {
            "patient_id": patient_id,
            "encounter_id": _encounter(res, resolver),
            "status": v.clip(res.get("status"), 20),
            "name": v.clip(res.get("name"), 300),
            "participants": [
                {"role": codings_of_all(p.get("role")), "member": v.display_of(p.get("member"))}
                for p in res.get("participant") or ()
            ],
            "reasons": codings_of_all(res.get("reasonCode")),
            "period_start": start,
            "period_end": end,
            "resource": res,
        },
        patient_id=patient_id,
    )


def map_goal(res: dict[str, Any], resolver: Resolver) -> Mapped:
    patient_id = _patient(res, resolver)
    description = res.get("description") or {}
    return Mapped(
        {
            "patient_id": patient_id,
            "status": v.clip(res.get("lifecycleStatus"), 20),
            "description": v.clip(description.get("text") or primary(codings_of(description))["display"], 500),
            "codings": codings_of(description),
            "achievement_status": v.clip(first_code(res.get("achievementStatus")), 40),
            "start_date": v.date_of(res.get("startDate")),
            "targets": [
                {"measure": codings_of(t.get("measure")), "due": t.get("dueDate", "")} for t in res.get("target") or ()
            ],
            "resource": res,
        },
        patient_id=patient_id,
    )


# Dependency order: a type comes after every type it refers to, so one pass over NDJSON files
# (one type per file) or over a bundle's entries grouped by type resolves every reference.
SPECS: dict[str, TypeSpec] = {
    spec.resource_type: spec
    for spec in (
        TypeSpec("Organization", clinical.ExternalOrganization, map_organization),
        TypeSpec("Location", clinical.Location, map_location),
        TypeSpec("Practitioner", clinical.Practitioner, map_practitioner),
        TypeSpec("PractitionerRole", clinical.PractitionerRole, map_practitioner_role),
        TypeSpec("Patient", patients.Patient, map_patient, with_history=True),
        TypeSpec("RelatedPerson", patients.Contact, map_related_person),
        TypeSpec("Coverage", patients.Coverage, map_coverage, with_history=True),
        TypeSpec("Encounter", clinical.Encounter, map_encounter),
        TypeSpec("Condition", clinical.Condition, map_condition),
        TypeSpec("Procedure", clinical.Procedure, map_procedure),
        TypeSpec("MedicationRequest", clinical.MedicationRequest, map_medication_request),
        TypeSpec("AllergyIntolerance", clinical.AllergyIntolerance, map_allergy),
        TypeSpec("Observation", clinical.Observation, map_observation),
        TypeSpec("Claim", clinical.Claim, map_claim),
        TypeSpec("ExplanationOfBenefit", clinical.ExplanationOfBenefit, map_eob),
        TypeSpec("CareTeam", clinical.ImportedCareTeam, map_care_team),
        TypeSpec("CarePlan", clinical.ImportedCarePlan, map_care_plan),
        TypeSpec("Goal", clinical.ImportedGoal, map_goal),
    )
}
TYPE_ORDER = list(SPECS)
