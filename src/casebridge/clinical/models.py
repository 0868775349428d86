"""Clinical records received from other systems: encounters, diagnoses, procedures, medications,
allergies, observations, the provider directory they refer to, and claims kept as cost history.

Every record belongs to the organization that received it. Codes are stored as received
(``codings``: every coding of the CodeableConcept) with one primary coding copied into indexed
columns (``code_system``, ``code``, ``display``) for lookups. Where a record came from, with the
source resource itself, is kept by ``interop.SourceRecord``; these models hold what CaseBridge uses.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from casebridge.clinical.coding import EncounterClass


class OwnedRecord(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class CodedRecord(OwnedRecord):
    """A patient's record with one coded concept (diagnosis, procedure, medication, allergen, test)."""

    # No single-column index on patient: every subclass has an index that leads with it (see their Meta).
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+", db_index=False)
    code_system = models.CharField(max_length=200, blank=True)
    code = models.CharField(max_length=64, blank=True)
    display = models.CharField(max_length=500, blank=True)
    codings = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True


# --- provider directory -------------------------------------------------------------------------


class ExternalOrganization(OwnedRecord):
    """An organization outside CaseBridge known from incoming data: a hospital, clinic, agency or payer."""

    name = models.CharField(max_length=300)
    npi = models.CharField("NPI", max_length=10, blank=True, db_index=True)
    type_codings = models.JSONField(default=list, blank=True)
    address_line = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=16, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    identifiers = models.JSONField(default=list, blank=True, help_text='[{"system": ..., "value": ...}]')
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class Practitioner(OwnedRecord):
    family_name = models.CharField(max_length=100, blank=True)
    given_name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=40, blank=True)
    npi = models.CharField("NPI", max_length=10, blank=True, db_index=True)
    gender = models.CharField(max_length=8, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    email = models.CharField(max_length=200, blank=True)
    identifiers = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return " ".join(p for p in (self.prefix, self.given_name, self.family_name) if p)


class Location(OwnedRecord):
    """A place care happens: a facility, a unit (e.g. "4 West"), a room or bed."""

    name = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, blank=True)
    physical_type = models.JSONField(default=list, blank=True)
    address_line = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=16, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    managing_organization = models.ForeignKey(
        ExternalOrganization, null=True, blank=True, on_delete=models.SET_NULL, related_name="locations"
    )
    identifiers = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return self.name


class PractitionerRole(OwnedRecord):
    practitioner = models.ForeignKey(
        Practitioner, null=True, blank=True, on_delete=models.CASCADE, related_name="roles"
    )
    external_organization = models.ForeignKey(
        ExternalOrganization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    codes = models.JSONField(default=list, blank=True)
    specialties = models.JSONField(default=list, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=True)


# --- encounters ---------------------------------------------------------------------------------


class Encounter(OwnedRecord):
    """A visit or stay (FHIR Encounter; HL7 v2 PV1). Admissions open hospital cases by the organization's rule."""

    # No single-column indexes: encounter_ident_idx and encounter_class_idx lead with the organization,
    # encounter_patient_idx (patient, admit_at) with the patient.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+", db_index=False)
    # The sender's visit number (FHIR Encounter.identifier; HL7 v2 PV1-19 with its assigning authority).
    identifier_system = models.CharField(max_length=200, blank=True)
    identifier_value = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=20, help_text="FHIR EncounterStatus")
    encounter_class = models.CharField("class", max_length=16, choices=EncounterClass.CHOICES)
    class_system = models.CharField(max_length=200, blank=True)
    class_code = models.CharField(max_length=32, blank=True, help_text="The class code as received")
    types = models.JSONField(default=list, blank=True)
    admit_at = models.DateTimeField(null=True, blank=True)
    discharge_at = models.DateTimeField(null=True, blank=True)
    admission_source = models.JSONField(default=dict, blank=True, help_text="One coding, as received")
    discharge_disposition = models.JSONField(default=dict, blank=True, help_text="One coding, as received")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    location_text = models.CharField(
        "unit / room / bed", max_length=200, blank=True, help_text="Point of care as sent, e.g. 4W^401^B"
    )
    attending = models.ForeignKey(Practitioner, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attending_name = models.CharField(max_length=200, blank=True)
    service_provider = models.ForeignKey(
        ExternalOrganization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reasons = models.JSONField(default=list, blank=True)
    hospital_case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "identifier_system", "identifier_value"], name="encounter_ident_idx"),
            models.Index(fields=["patient", "admit_at"], name="encounter_patient_idx"),
            models.Index(fields=["organization", "encounter_class", "status"], name="encounter_class_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_encounter_class_display()} encounter {self.admit_at:%Y-%m-%d}" if self.admit_at else "Encounter"
        )


# --- patient records ----------------------------------------------------------------------------


class Condition(CodedRecord):
    """A problem or diagnosis, coded as received (ICD-10-CM, SNOMED CT)."""

    # Indexed by condition_encounter_idx in Meta (a second, single-column index would only repeat it).
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    clinical_status = models.CharField(max_length=20, blank=True)
    verification_status = models.CharField(max_length=20, blank=True)
    category = models.CharField(max_length=40, blank=True)
    onset_at = models.DateTimeField(null=True, blank=True)
    abatement_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["patient", "code"], name="condition_patient_code_idx"),
            models.Index(fields=["encounter"], name="condition_encounter_idx"),
        ]


class Procedure(CodedRecord):
    encounter = models.ForeignKey(Encounter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, blank=True)
    performed_start = models.DateTimeField(null=True, blank=True)
    performed_end = models.DateTimeField(null=True, blank=True)
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "performed_start"], name="procedure_patient_idx")]


class MedicationRequest(CodedRecord):
    """A prescription; the medication (RxNorm as received) is the coded concept."""

    encounter = models.ForeignKey(Encounter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, blank=True)
    intent = models.CharField(max_length=20, blank=True)
    authored_at = models.DateTimeField(null=True, blank=True)
    requester = models.ForeignKey(Practitioner, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requester_name = models.CharField(max_length=200, blank=True)
    dosage_text = models.CharField(max_length=500, blank=True)
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "status"], name="medreq_patient_idx")]


class AllergyIntolerance(CodedRecord):
    clinical_status = models.CharField(max_length=20, blank=True)
    verification_status = models.CharField(max_length=20, blank=True)
    allergy_type = models.CharField(max_length=20, blank=True)
    categories = models.JSONField(default=list, blank=True)
    criticality = models.CharField(max_length=20, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    reactions = models.JSONField(default=list, blank=True, help_text="Manifestation codings")

    class Meta:
        indexes = [models.Index(fields=["patient"], name="allergy_patient_idx")]


class Observation(CodedRecord):
    encounter = models.ForeignKey(Encounter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, blank=True)
    categories = models.JSONField(default=list, blank=True)
    effective_at = models.DateTimeField(null=True, blank=True)
    value_quantity = models.FloatField(null=True, blank=True)
    value_unit = models.CharField(max_length=40, blank=True)
    value_codings = models.JSONField(default=list, blank=True)
    value_text = models.CharField(max_length=500, blank=True)
    components = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "code", "effective_at"], name="observation_patient_idx")]


# --- cost history -------------------------------------------------------------------------------


class Claim(OwnedRecord):
    """A bill sent to a payer, kept as cost history (FHIR Claim)."""

    # No single-column index on patient: the patient_idx in Meta leads with it.
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+", db_index=False)
    encounter = models.ForeignKey(Encounter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, blank=True)
    claim_type = models.CharField(max_length=40, blank=True)
    use = models.CharField(max_length=20, blank=True)
    billable_start = models.DateTimeField(null=True, blank=True)
    billable_end = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True, help_text="Claim.created")
    provider_name = models.CharField(max_length=300, blank=True)
    total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    items = models.JSONField(default=list, blank=True, help_text="Lines with product/service codings and net amounts")
    diagnoses = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "billable_start"], name="claim_patient_idx")]


class ExplanationOfBenefit(OwnedRecord):
    """A payer's adjudication of a claim, kept as cost history (FHIR ExplanationOfBenefit)."""

    # No single-column index on patient: the patient_idx in Meta leads with it.
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+", db_index=False)
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(max_length=20, blank=True)
    claim_type = models.CharField(max_length=40, blank=True)
    billable_start = models.DateTimeField(null=True, blank=True)
    billable_end = models.DateTimeField(null=True, blank=True)
    insurer_name = models.CharField(max_length=300, blank=True)
    totals = models.JSONField(default=list, blank=True, help_text='[{"category": code, "amount": "12.00"}]')
    payment = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    items = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "billable_start"], name="eob_patient_idx")]


# --- care plans from other systems --------------------------------------------------------------


class ImportedSourceRecord(OwnedRecord):
    """Care plans, teams and goals written by another system: kept with their source resource for the
    case manager to read, and not merged into CaseBridge's own care plans."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, blank=True)
    resource = models.JSONField(help_text="The FHIR resource as received")

    class Meta:
        abstract = True


class ImportedCarePlan(ImportedSourceRecord):
    encounter = models.ForeignKey(Encounter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    intent = models.CharField(max_length=20, blank=True)
    title = models.CharField(max_length=300, blank=True)
    categories = models.JSONField(default=list, blank=True)
    addresses = models.JSONField(default=list, blank=True, help_text="Conditions addressed (references/displays)")
    activities = models.JSONField(default=list, blank=True, help_text="Activity codings and statuses")
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)


class ImportedCareTeam(ImportedSourceRecord):
    encounter = models.ForeignKey(Encounter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=300, blank=True)
    participants = models.JSONField(default=list, blank=True, help_text='[{"role": [...], "member": "display"}]')
    reasons = models.JSONField(default=list, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)


class ImportedGoal(ImportedSourceRecord):
    description = models.CharField(max_length=500, blank=True)
    codings = models.JSONField(default=list, blank=True)
    achievement_status = models.CharField(max_length=40, blank=True)
    start_date = models.DateField(null=True, blank=True)
    targets = models.JSONField(default=list, blank=True)


# --- cases from incoming admissions -------------------------------------------------------------


class AdmissionCaseMode(models.TextChoices):
    OFF = "off", "Never: open hospital cases by hand"
    EVERY_ADMISSION = "every_admission", "Every admission of the chosen classes"
    LISTED_CONDITIONS = "listed_conditions", "Only admissions for the listed conditions"


class AdmissionCaseRule(models.Model):
    """When an incoming admission (FHIR import or HL7 ADT) opens a hospital case, and its first task."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="admission_case_rule"
    )
    mode = models.CharField(max_length=20, choices=AdmissionCaseMode.choices, default=AdmissionCaseMode.OFF)
    encounter_classes = models.JSONField(default=list, help_text='e.g. ["inpatient", "observation"]')
    condition_codes = models.JSONField(
        default=list, blank=True, help_text="ICD-10-CM codes or categories (I50 covers I50.9), or SNOMED CT codes"
    )
    review_due_hours = models.PositiveIntegerField(
        default=24, help_text="The initial utilization review is due this many hours after admission"
    )
    review_queue = models.ForeignKey(
        "tasks.WorkQueue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.organization}: {self.get_mode_display()}"
