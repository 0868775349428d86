"""Provenance of received data, and the record of each import run."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models

from casebridge.kernel import clock
from casebridge.kernel.rows import RawJSON


class RawJSONEncoder(json.JSONEncoder):
    def encode(self, o: Any) -> str:
        if isinstance(o, RawJSON):
            return o.text
        return super().encode(o)


class ImportRun(models.Model):
    """One import: who ran it, from where, what it did. The report the CLI prints and the upload page shows."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=16, help_text="cli, api or upload")
    sources = models.JSONField(default=list, help_text="File names or request description")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0, help_text="Resources expected, when known (progress)")
    processed = models.PositiveIntegerField(default=0)
    progress_at = models.DateTimeField(
        null=True, blank=True, help_text="When a running import last recorded its progress (every second or so)"
    )
    counts = models.JSONField(default=dict, help_text="{type: {created, updated, unchanged, rejected, skipped}}")
    rejections = models.JSONField(default=list, help_text="The first rejections: file, where, type, id, reason")
    rejected_total = models.PositiveIntegerField(default=0)
    cases_opened = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["organization", "-started_at"])]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.get_status_display()})"

    #: A running import records its progress every second or so, and every chunk takes well under a
    #: minute; one silent for this long has died with its process (a restart, a crash).
    STALLED_AFTER_SECONDS = 300

    @property
    def stalled(self) -> bool:
        """Still marked running, but no progress recorded for ``STALLED_AFTER_SECONDS``."""
        if self.status != self.Status.RUNNING:
            return False
        last = self.progress_at or self.started_at
        return (clock.now() - last).total_seconds() > self.STALLED_AFTER_SECONDS

    @property
    def status_label(self) -> str:
        """The status as people read it: a stalled run is "Stopped", though still marked running."""
        return "Stopped" if self.stalled else self.get_status_display()

    @property
    def percent_done(self) -> int:
        if not self.total:
            return 0
        return min(100, self.processed * 100 // self.total)


class SourceRecord(models.Model):
    """Where one CaseBridge record came from: the sender's resource type and id, its content hash
    (so an unchanged resource is recognized without comparing fields) and the resource itself.

    ``source`` names the id space (default "fhir"); ids are unique per organization, source and type.
    """

    # No single-column index: source_record_unique (organization, source, type, id) leads with it.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source = models.CharField(max_length=100, default="fhir")
    resource_type = models.CharField(max_length=40)
    source_id = models.CharField(max_length=200)
    content_hash = models.CharField(max_length=64)
    resource = models.JSONField(encoder=RawJSONEncoder)
    target_model = models.CharField(max_length=64, help_text="app_label.model of the CaseBridge record")
    target_id = models.BigIntegerField()
    first_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "resource_type", "source_id"], name="source_record_unique"
            )
        ]
        indexes = [models.Index(fields=["target_model", "target_id"], name="source_record_target_idx")]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.source_id}"


class Hl7Message(models.Model):
    """One HL7 v2 message received, and the acknowledgement sent for it.

    Accepted messages (AA) are the idempotency store: the row is written in the same transaction as
    the changes the message made, and at most one accepted row exists per organization, sending
    facility and message control ID (MSH-10), so a repeated message is acknowledged again from here
    without being applied twice. Rejected messages (AE/AR) are logged too, after the rollback, for
    the interface analyst; they do not block a corrected resend with the same control ID.
    """

    # No single-column index: hl7_message_org_idx (organization, received_at) starts with it.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    sending_application = models.CharField(max_length=200, blank=True)
    sending_facility = models.CharField(max_length=200, blank=True)
    control_id = models.CharField("message control ID", max_length=200)
    message_type = models.CharField(max_length=20, blank=True, help_text="MSH-9, e.g. ADT^A01")
    version = models.CharField(max_length=12, blank=True)
    ack_code = models.CharField(max_length=2, help_text="AA, AE or AR")
    ack = models.TextField(help_text="The acknowledgement as sent (segments end in CR)")
    error = models.TextField(blank=True)
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    encounter = models.ForeignKey(
        "clinical.Encounter", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.JSONField(default=dict, blank=True, help_text="What the message did")
    channel = models.CharField(max_length=16, default="mllp", help_text="mllp or file")
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sending_facility", "control_id"],
                condition=models.Q(ack_code="AA"),
                name="hl7_message_accepted_once",
            )
        ]
        indexes = [models.Index(fields=["organization", "-received_at"], name="hl7_message_org_idx")]

    def __str__(self) -> str:
        return f"{self.message_type} {self.control_id} ({self.ack_code})"


class Hl7PatientMerge(models.Model):
    """An ADT A40 merge as applied: the sender's identifiers and visits of the prior patient were moved
    to the surviving patient. The prior patient's own record and its cases stay as they are (case
    managers' work is never moved by a feed) and point here for review; nothing is deleted."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    surviving = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    prior = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    prior_identifiers = models.JSONField(default=list, help_text="MRG-1 as received")
    moved_identifier_ids = models.JSONField(default=list)
    moved_encounter_ids = models.JSONField(default=list)
    message = models.ForeignKey(Hl7Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    merged_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Merge of patient {self.prior_id} into {self.surviving_id}"
