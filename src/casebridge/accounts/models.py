from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from casebridge.accounts.roles import ALL_DISCIPLINES, ROLE_CHOICES


class OrganizationType(models.TextChoices):
    HOSPITAL = "hospital", "Hospital"
    HOME_HEALTH = "home_health", "Home health agency"
    INSURER = "insurer", "Health insurer"
    HOME_INFUSION = "home_infusion", "Home infusion pharmacy"
    IRF = "irf", "Inpatient rehabilitation facility"
    SNF = "snf", "Skilled nursing facility"
    PHYSICIAN_PRACTICE = "physician_practice", "Physician practice"


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    org_type = models.CharField("type", max_length=32, choices=OrganizationType.choices)
    npi = models.CharField("NPI", max_length=10, blank=True)
    payer_id = models.CharField("payer ID", max_length=32, blank=True)
    address_line = models.CharField("address", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField("ZIP code", max_length=10, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    zip_codes_served = models.JSONField("ZIP codes served", default=list, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in. What they may do depends on their memberships."""

    phone = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=ROLE_CHOICES)
    discipline = models.CharField(max_length=8, blank=True, choices=sorted(ALL_DISCIPLINES.items()))
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization", "role"], name="membership_unique_role")]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organization}"


class CredentialKind(models.TextChoices):
    LICENSE = "license", "Professional license"
    CCM = "ccm", "CCM certification"


class Credential(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(max_length=16, choices=CredentialKind.choices)
    number = models.CharField(max_length=64)
    state = models.CharField(max_length=2, blank=True, help_text="Issuing state for licenses")
    expires_on = models.DateField()

    class Meta:
        ordering = ["kind", "expires_on"]


class ApiToken(models.Model):
    """A bearer token. Only a SHA-256 digest of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class LoginFailure(models.Model):
    """One failed sign-in; recent rows throttle further attempts."""

    username = models.CharField(max_length=150, db_index=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(db_index=True)
