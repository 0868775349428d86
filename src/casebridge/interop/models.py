"""Provenance of received data, and the record of each import run."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models


class RawJSON:
    """A resource already serialized (for its content hash): stored as is, not serialized twice."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


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


class SourceRecord(models.Model):
    """Where one CaseBridge record came from: the sender's resource type and id, its content hash
    (so an unchanged resource is recognized without comparing fields) and the resource itself.

    ``source`` names the id space (default "fhir"); ids are unique per organization, source and type.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
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
