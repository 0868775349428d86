"""Hospital stays and what the case manager records about them: working DRG, readmission risk,
payer authorizations, clinical review packets and what was shared, concurrent denials, and the
discharge plan (42 CFR 482.43 evaluation, barriers, post-acute needs)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DrgWeight(models.Model):
    """One row of an MS-DRG table (GMLOS and weight), imported per organization and fiscal year."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    drg = models.CharField("MS-DRG", max_length=4)
    title = models.CharField(max_length=300)
    weight = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    gmlos = models.DecimalField("GMLOS", max_digits=6, decimal_places=2)
    amlos = models.DecimalField("AMLOS", max_digits=6, decimal_places=2, null=True, blank=True)
    source = models.CharField(max_length=200, help_text="Which table the row came from, e.g. 'SAMPLE FY2025'")
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "drg"], name="drg_org_unique")]

    def __str__(self) -> str:
        return f"DRG {self.drg} {self.title}"


class RiskBand(models.TextChoices):
    HIGH = "high", "High"
    MODERATE = "moderate", "Moderate"
    LOW = "low", "Low"
    UNKNOWN = "unknown", "Incomplete"


class Readiness(models.TextChoices):
    NOT_READY = "not_ready", "Not ready"
    NEARLY_READY = "nearly_ready", "Ready within 24 hours"
    READY = "ready", "Medically ready"


class HospitalStay(models.Model):
    """The case manager's record of one inpatient or observation encounter.

    The readmission scores are computed by a service from the clinical record and stored here, so
    the census reads them in its one query instead of scoring every row on every page view.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    encounter = models.OneToOneField("clinical.Encounter", on_delete=models.CASCADE, related_name="hospital_stay")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    working_drg = models.CharField("working DRG", max_length=4, blank=True)
    expected_discharge_on = models.DateField("expected discharge date", null=True, blank=True)
    readiness = models.CharField(max_length=16, choices=Readiness.choices, default=Readiness.NOT_READY)
    complex_factors = models.TextField(
        "documented complex medical factors",
        blank=True,
        help_text="42 CFR 412.3: history and comorbidities, severity, current needs, risk of an adverse event",
    )
    treatment_plan = models.TextField(blank=True)
    discharge_service = models.CharField(
        max_length=40, blank=True, help_text="Service the patient is discharged from, e.g. medicine, oncology"
    )
    # Readmission risk, written only by hospital.services.stay_risk_refresh.
    lace_total = models.PositiveSmallIntegerField(null=True, blank=True)
    lace_band = models.CharField(max_length=16, blank=True)
    hospital_total = models.PositiveSmallIntegerField(null=True, blank=True)
    hospital_band = models.CharField(max_length=16, blank=True)
    risk_band = models.CharField(max_length=16, choices=RiskBand.choices, default=RiskBand.UNKNOWN)
    risk_detail = models.JSONField(default=dict, blank=True)
    risk_computed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["organization", "risk_band"], name="stay_org_risk_idx")]

    def __str__(self) -> str:
        return f"Stay {self.pk}"


class AuthorizationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    PARTIALLY_APPROVED = "partially_approved", "Partially approved"
    DENIED = "denied", "Denied"
    IN_APPEAL = "in_appeal", "In appeal"


class LevelOfCare(models.TextChoices):
    INPATIENT = "inpatient", "Inpatient"
    OBSERVATION = "observation", "Observation"
    OUTPATIENT = "outpatient", "Outpatient"
    SNF = "snf", "Skilled nursing facility"
    IRF = "irf", "Inpatient rehabilitation"
    LTCH = "ltch", "Long-term care hospital"


class Authorization(models.Model):
    """The payer's authorization of the stay."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    stay = models.ForeignKey(HospitalStay, on_delete=models.CASCADE, related_name="authorizations")
    payer_name = models.CharField(max_length=200)
    insurer = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The insurer, when it is on the platform",
    )
    reference_number = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=AuthorizationStatus.choices, default=AuthorizationStatus.PENDING)
    approved_level_of_care = models.CharField(max_length=16, choices=LevelOfCare.choices, blank=True)
    approved_days = models.PositiveSmallIntegerField(null=True, blank=True)
    next_review_on = models.DateField("next review date", null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["organization", "status"], name="auth_org_status_idx")]

    def __str__(self) -> str:
        return f"{self.payer_name} {self.reference_number}".strip()


class PacketStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"


class ReviewPacket(models.Model):
    """A clinical review packet: a snapshot of the record, frozen when built, for the payer's reviewer."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    stay = models.ForeignKey(HospitalStay, on_delete=models.CASCADE, related_name="packets")
    authorization = models.ForeignKey(
        Authorization, null=True, blank=True, on_delete=models.SET_NULL, related_name="packets"
    )
    content = models.JSONField(default=dict)
    missing = models.JSONField(default=list, help_text='[{"key": ..., "message": ...}] found by the pre-send check')
    status = models.CharField(max_length=8, choices=PacketStatus.choices, default=PacketStatus.DRAFT)
    built_at = models.DateTimeField()
    built_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_to_name = models.CharField(max_length=200, blank=True)
    sent_channel = models.CharField(max_length=16, blank=True)
    missing_acknowledged = models.BooleanField(default=False)
    fhir_bundle = models.JSONField(null=True, blank=True)
    communication = models.ForeignKey(
        "communications.Communication", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Review packet {self.pk}"


class PacketShare(models.Model):
    """The cross-organization link: the receiving insurer sees this packet's snapshot, nothing else."""

    packet = models.ForeignKey(ReviewPacket, on_delete=models.CASCADE, related_name="shares")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)
    shared_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_note = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "active", "shared_at"], name="packetshare_org_idx")]


class DenialOutcome(models.TextChoices):
    OPEN = "open", "Open"
    UPHELD = "upheld", "Upheld"
    OVERTURNED = "overturned", "Overturned"
    PARTIALLY_OVERTURNED = "partially_overturned", "Partially overturned"
    ACCEPTED = "accepted", "Accepted without appeal"


class Denial(models.Model):
    """A concurrent (during the stay) denial by the payer, with its peer-to-peer and appeal."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    stay = models.ForeignKey(HospitalStay, on_delete=models.CASCADE, related_name="denials")
    authorization = models.ForeignKey(Authorization, on_delete=models.CASCADE, related_name="denials")
    received_at = models.DateTimeField()
    reason = models.CharField(max_length=500, help_text="The payer's specific reason (CMS-0057-F)")
    denied_from = models.DateField(null=True, blank=True)
    denied_days = models.PositiveSmallIntegerField(null=True, blank=True)
    level_of_care_offered = models.CharField(max_length=16, choices=LevelOfCare.choices, blank=True)
    peer_to_peer_task = models.ForeignKey(
        "tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    peer_to_peer_at = models.DateTimeField(null=True, blank=True)
    peer_to_peer_result = models.CharField(max_length=300, blank=True)
    appeal_filed_at = models.DateTimeField(null=True, blank=True)
    appeal_deadline = models.DateField(null=True, blank=True)
    appeal_task = models.ForeignKey("tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=24, choices=DenialOutcome.choices, default=DenialOutcome.OPEN)
    outcome_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["organization", "received_at"], name="denial_org_idx")]


class SelfCareCapacity(models.TextChoices):
    UNKNOWN = "", "Not assessed"
    INDEPENDENT = "independent", "Independent"
    NEEDS_HELP = "needs_help", "Needs some help"
    DEPENDENT = "dependent", "Dependent on others"


class EvaluationStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", "Not required by the screen"
    REQUIRED = "required", "Required"
    COMPLETED = "completed", "Completed"


class DischargePlan(models.Model):
    """The early screen and the discharge planning evaluation, 42 CFR 482.43(a)-(b)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    stay = models.OneToOneField(HospitalStay, on_delete=models.CASCADE, related_name="discharge_plan")
    screened_at = models.DateTimeField(null=True, blank=True)
    screen_flags = models.JSONField(default=dict, blank=True, help_text="flag -> {value, source}")
    evaluation_status = models.CharField(
        max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.NOT_REQUIRED
    )
    evaluation_reason = models.CharField(max_length=200, blank=True)
    evaluation_task = models.ForeignKey(
        "tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    likely_needs = models.TextField("likely post-discharge needs", blank=True)
    needs_availability = models.TextField("availability and accessibility of those services", blank=True)
    self_care_capacity = models.CharField(max_length=16, choices=SelfCareCapacity.choices, blank=True)
    self_care_notes = models.TextField("capacity for self-care or care in the prior setting", blank=True)
    patient_goals = models.TextField("patient's goals and treatment preferences", blank=True)
    caregiver = models.CharField(max_length=200, blank=True)
    caregiver_involved = models.BooleanField("caregiver an active partner", null=True, blank=True)
    discussed_with_patient_at = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)


class DischargeBarrier(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    stay = models.ForeignKey(HospitalStay, on_delete=models.CASCADE, related_name="barriers")
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner_name = models.CharField(max_length=200, blank=True, help_text="For an owner without a CaseBridge account")
    due_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["stay", "resolved_at"], name="barrier_stay_idx")]

    def __str__(self) -> str:
        return self.description


class ServiceType(models.TextChoices):
    HOME_HEALTH = "home_health", "Home health"
    HOME_INFUSION = "home_infusion", "Home infusion"
    IRF = "irf", "Inpatient rehabilitation facility"
    SNF = "snf", "Skilled nursing facility"
    LTCH = "ltch", "Long-term care hospital"
    HOSPICE = "hospice", "Hospice"
    DME = "dme", "Durable medical equipment"
    OUTPATIENT_THERAPY = "outpatient_therapy", "Outpatient therapy"


class PostAcuteNeed(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    stay = models.ForeignKey(HospitalStay, on_delete=models.CASCADE, related_name="needs")
    service_type = models.CharField(max_length=24, choices=ServiceType.choices)
    disciplines = models.JSONField(default=list, blank=True, help_text="Home health: SN, PT, OT, ST, MSW, HHA")
    details = models.JSONField(default=dict, blank=True, help_text="Inputs of the eligibility check")
    eligibility = models.JSONField(default=dict, blank=True, help_text='{"eligible": bool|null, "reasons": [...]}')
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
