"""Demo enricher: the hospital's current stays, with clinical records, DRGs, authorizations, packets,
a few denials and discharge plans, so the census and dashboard have something true to show.

Clinical records normally arrive from the hospital's EHR (FHIR import, HL7 feeds); the demo writes the
encounters through ``encounter_upsert`` and the diagnoses, results and orders as the importer would.
Everything the case manager does goes through this package's services as ``cm.hospital``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from casebridge.cases.domain import CaseStatus
from casebridge.clinical.coding import ICD10CM, LOINC, RXNORM
from casebridge.clinical.models import Condition, Encounter, MedicationRequest, Observation, Procedure
from casebridge.clinical.services import encounter_upsert
from casebridge.demo.context import DemoContext, recorded_at
from casebridge.hospital import services
from casebridge.hospital.models import AuthorizationStatus

SAMPLE_DRG_TABLE = Path(__file__).parent / "data" / "ms_drg_gmlos_SAMPLE.csv"
UNITS = ("4 West", "5 East", "ICU", "Observation Unit", "6 North")
ATTENDINGS = ("Dr. Rajesh Iyer", "Dr. Mei Chen", "Dr. Omar Haddad", "Dr. Laura Brandt")
ACTIVE = {
    CaseStatus.REFERRAL,
    CaseStatus.ASSESSMENT,
    CaseStatus.PLANNING,
    CaseStatus.IMPLEMENTATION,
    CaseStatus.MONITORING,
    CaseStatus.TRANSITION,
}
# (ICD-10-CM, display, working DRG, treatment plan, IV therapy)
PROBLEMS = (
    ("I50.23", "Acute on chronic systolic heart failure", "291", "IV diuresis, daily weights, titrate GDMT", False),
    ("J18.9", "Pneumonia, unspecified organism", "193", "IV ceftriaxone and azithromycin, oxygen to SpO2 > 92%", True),
    ("M86.60", "Chronic osteomyelitis, unspecified site", "539", "IV vancomycin 6 weeks via PICC, ID following", True),
    ("J44.1", "COPD with acute exacerbation", "190", "Nebulizers, IV methylprednisolone, taper to oral", True),
    (
        "I63.9",
        "Cerebral infarction, unspecified",
        "064",
        "Stroke pathway, PT/OT/SLP evaluations, secondary prevention",
        False,
    ),
    ("A41.9", "Sepsis, unspecified organism", "871", "IV fluids, broad-spectrum antibiotics, lactate trend", True),
    ("L03.115", "Cellulitis of right lower limb", "603", "IV cefazolin, elevation, wound checks", True),
    ("S72.001A", "Fracture of neck of right femur", "481", "ORIF done, PT twice daily, anticoagulation", False),
)
COMORBIDITIES = (
    ("E11.65", "Type 2 diabetes with hyperglycemia"),
    ("N18.30", "Chronic kidney disease, stage 3"),
    ("I25.2", "Old myocardial infarction"),
    ("J44.9", "COPD, unspecified"),
    ("C34.90", "Malignant neoplasm of lung, unspecified"),
    ("F03.90", "Unspecified dementia"),
)
BARRIERS = (
    ("Awaiting SNF bed offer", "Social work"),
    ("Home infusion authorization pending with payer", "Case manager"),
    ("Family meeting to decide on placement", "Attending physician"),
    ("PICC line placement scheduled", "Interventional radiology"),
    ("DME: hospital bed delivery", "DME vendor"),
)


def _coding(system: str, code: str, display: str) -> list[dict[str, str]]:
    return [{"system": system, "code": code, "display": display}]


def add_hospital_stays(ctx: DemoContext) -> None:
    hospital = ctx.organizations.get("hospital")
    if hospital is None:
        return
    services.drg_table_load(
        organization=hospital,
        text=SAMPLE_DRG_TABLE.read_text(encoding="utf-8"),
        source="SAMPLE table (not CMS figures)",
    )
    rng = ctx.rng("hospital")
    actor = ctx.actor("cm.hospital")
    cases = [
        c
        for c in ctx.cases
        if c.organization_id == hospital.pk and c.case_type == "hospital_stay" and CaseStatus(c.status) in ACTIVE
    ]
    for index, case in enumerate(cases):
        patient = case.patient
        problem = PROBLEMS[index % len(PROBLEMS)]
        days_in = rng.choice((0, 1, 1, 2, 3, 4, 5, 6, 8, 11))
        observation = rng.random() < 0.2 and days_in <= 2
        admit_at = ctx.at(-days_in, rng.randint(1, 20), rng.choice((0, 15, 30, 45)))
        if admit_at >= ctx.start_of_today:
            admit_at = ctx.at(-1, 22, 10)
        with recorded_at(admit_at - dt.timedelta(days=40)):
            # Earlier history: an ED visit for some, a prior admission for others, so LACE "E" and HOSPITAL "A" count.
            for n in range(rng.choice((0, 1, 1, 2, 3))):
                moment = admit_at - dt.timedelta(days=rng.randint(20, 170))
                klass = "emergency" if n % 2 == 0 else "inpatient"
                encounter_upsert(
                    actor=actor,
                    patient_id=patient.pk,
                    identifier_system="urn:demo:rgh:visit",
                    identifier_value=f"H{case.pk}-{n}",
                    status="finished",
                    encounter_class=klass,
                    admit_at=moment,
                    discharge_at=moment + dt.timedelta(hours=6 if klass == "emergency" else 80),
                )
        with recorded_at(admit_at):
            emergent = rng.random() < 0.75
            if emergent:
                encounter_upsert(
                    actor=actor,
                    patient_id=patient.pk,
                    identifier_system="urn:demo:rgh:visit",
                    identifier_value=f"ED{case.pk}",
                    status="finished",
                    encounter_class="emergency",
                    admit_at=admit_at - dt.timedelta(hours=5),
                    discharge_at=admit_at,
                )
            unit = "Observation Unit" if observation else rng.choice(UNITS[:3] + UNITS[4:])
            encounter, _ = encounter_upsert(
                actor=actor,
                patient_id=patient.pk,
                identifier_system="urn:demo:rgh:visit",
                identifier_value=f"V{case.pk}",
                status="in-progress",
                encounter_class="observation" if observation else "inpatient",
                admit_at=admit_at,
                admission_source={"code": "emd", "display": "From accident/emergency department"} if emergent else {},
                location_text=f"{unit}^{rng.randint(401, 460)}^{rng.choice('AB')}",
                attending_name=rng.choice(ATTENDINGS),
                reasons=_coding(ICD10CM, problem[0], problem[1]),
            )
        Encounter.objects.filter(pk=encounter.pk).update(hospital_case=case)
        encounter.hospital_case = case
        _clinical_records(ctx, rng, encounter, problem, admit_at)
        with recorded_at(min(admit_at + dt.timedelta(hours=3), ctx.start_of_today)):
            stay = services.stay_open(actor=actor, encounter_id=encounter.pk)
            if rng.random() < 0.85:
                services.stay_update(
                    actor=actor,
                    stay_id=stay.pk,
                    working_drg=problem[2],
                    treatment_plan=problem[3],
                    complex_factors=(
                        f"{problem[1]} with comorbidities; needs IV therapy and monitoring not safe at home"
                        if not observation and rng.random() < 0.7
                        else ""
                    ),
                    expected_discharge_on=(ctx.today + dt.timedelta(days=rng.randint(0, 4)))
                    if rng.random() < 0.75
                    else None,
                    discharge_service="oncology" if "C34.90" in _codes(encounter) else "medicine",
                )
            coverage = patient.coverages.filter(active=True).order_by("order").first()
            if coverage is None:
                continue
            status = rng.choice(
                (AuthorizationStatus.APPROVED,) * 5
                + (AuthorizationStatus.PENDING,) * 3
                + (AuthorizationStatus.PARTIALLY_APPROVED,)
            )
            auth = services.authorization_add(
                actor=actor,
                stay_id=stay.pk,
                reference_number=f"AUTH{700000 + case.pk}" if status != AuthorizationStatus.PENDING else "",
                status=status,
                approved_level_of_care=""
                if status == AuthorizationStatus.PENDING
                else ("observation" if observation else "inpatient"),
                approved_days=None if status == AuthorizationStatus.PENDING else rng.randint(2, 5),
                next_review_on=ctx.today + dt.timedelta(days=rng.randint(-1, 2)),
            )
            if rng.random() < 0.4:
                text, owner = rng.choice(BARRIERS)
                services.barrier_add(
                    actor=actor,
                    stay_id=stay.pk,
                    description=text,
                    owner_name=owner,
                    due_on=ctx.today + dt.timedelta(days=1),
                )
            if problem[4] and rng.random() < 0.5:
                services.need_add(
                    actor=actor,
                    stay_id=stay.pk,
                    service_type="home_infusion",
                    details={"route": "intravenous", "minutes_per_administration": 60, "through_dme_pump": True},
                )
                services.need_add(actor=actor, stay_id=stay.pk, service_type="home_health", disciplines=["SN"])
            elif problem[0] in ("I63.9", "S72.001A"):
                services.need_add(
                    actor=actor,
                    stay_id=stay.pk,
                    service_type="irf" if problem[0] == "I63.9" else "snf",
                    details={
                        "therapy_minutes_by_day": [180, 180, 180, 180, 180, 0, 0],
                        "therapy_disciplines": ["PT", "OT", "SLP"],
                    }
                    if problem[0] == "I63.9"
                    else {},
                )
        if auth.insurer_id is not None and rng.random() < 0.5:
            with recorded_at(min(admit_at + dt.timedelta(hours=20), ctx.start_of_today)):
                packet = services.packet_build(actor=actor, stay_id=stay.pk)
                services.packet_send(
                    actor=actor, packet_id=packet.pk, insurer_id=auth.insurer_id, acknowledge_missing=True
                )
        if status != AuthorizationStatus.PENDING and rng.random() < 0.18:
            with recorded_at(min(admit_at + dt.timedelta(hours=30), ctx.start_of_today)):
                denial = services.denial_record(
                    actor=actor,
                    authorization_id=auth.pk,
                    reason=rng.choice(
                        (
                            "Does not meet inpatient criteria: observation level of care appropriate",
                            "Continued stay not medically necessary after day 3; lower level of care available",
                            "No documentation of complex medical factors supporting two midnights",
                        )
                    ),
                    denied_days=rng.randint(1, 2),
                    level_of_care_offered="observation",
                )
                if rng.random() < 0.6:
                    services.denial_appeal(
                        actor=actor, denial_id=denial.pk, appeal_deadline=ctx.today + dt.timedelta(days=30)
                    )
                    if rng.random() < 0.5:
                        services.denial_outcome(
                            actor=actor, denial_id=denial.pk, outcome=rng.choice(("overturned", "upheld"))
                        )


def _codes(encounter: Encounter) -> set[str]:
    return set(Condition.objects.filter(encounter=encounter).values_list("code", flat=True))


def _clinical_records(
    ctx: DemoContext, rng: object, encounter: Encounter, problem: tuple, admit_at: dt.datetime
) -> None:  # type: ignore[type-arg]
    import random

    assert isinstance(rng, random.Random)
    org, patient = encounter.organization_id, encounter.patient_id
    conditions = [
        Condition(
            organization_id=org,
            patient_id=patient,
            encounter=encounter,
            code_system=ICD10CM,
            code=problem[0],
            display=problem[1],
            codings=_coding(ICD10CM, problem[0], problem[1]),
            clinical_status="active",
            verification_status="confirmed",
            category="encounter-diagnosis",
            onset_at=admit_at,
        )
    ]
    for code, display in rng.sample(COMORBIDITIES, k=rng.choice((0, 1, 1, 2, 3))):
        conditions.append(
            Condition(
                organization_id=org,
                patient_id=patient,
                code_system=ICD10CM,
                code=code,
                display=display,
                codings=_coding(ICD10CM, code, display),
                clinical_status="active",
                verification_status="confirmed",
                category="problem-list-item",
                onset_at=admit_at - dt.timedelta(days=400),
            )
        )
    Condition.objects.bulk_create(conditions)
    if rng.random() < 0.85:
        taken = min(admit_at + dt.timedelta(hours=2), ctx.start_of_today)
        lab = [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]
        vital = [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]
        rows = [
            ("718-7", "Hemoglobin [Mass/volume] in Blood", round(rng.uniform(9.0, 14.5), 1), "g/dL", lab),
            ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", round(rng.uniform(129, 142)), "mmol/L", lab),
            ("8867-4", "Heart rate", rng.randint(68, 118), "/min", vital),
            ("8310-5", "Body temperature", round(rng.uniform(36.6, 39.1), 1), "Cel", vital),
            ("59408-5", "Oxygen saturation by pulse oximetry", rng.randint(88, 99), "%", vital),
        ]
        Observation.objects.bulk_create(
            Observation(
                organization_id=org,
                patient_id=patient,
                encounter=encounter,
                code_system=LOINC,
                code=code,
                display=name,
                codings=_coding(LOINC, code, name),
                status="final",
                categories=cat,
                effective_at=taken,
                value_quantity=value,
                value_unit=unit,
            )
            for code, name, value, unit, cat in rows
        )
    if problem[4]:
        drug = {"J18.9": "ceftriaxone 1 g IV every 24 hours", "M86.60": "vancomycin 1.25 g IV every 12 hours"}.get(
            problem[0], "IV antibiotic per protocol"
        )
        MedicationRequest.objects.create(
            organization_id=org,
            patient_id=patient,
            encounter=encounter,
            code_system=RXNORM,
            code="",
            display=drug.split(" ")[0],
            status="active",
            intent="order",
            authored_at=admit_at,
            dosage_text=drug,
        )
    if problem[0] == "S72.001A":
        Procedure.objects.create(
            organization_id=org,
            patient_id=patient,
            encounter=encounter,
            code_system=ICD10CM,
            code="0QS604Z",
            display="Open reduction internal fixation, right femur",
            status="completed",
            performed_start=admit_at + dt.timedelta(hours=10),
        )
