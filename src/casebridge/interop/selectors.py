"""Reads of the organization's import runs, scoped to the actor's organization."""

from __future__ import annotations

from django.db.models import QuerySet

from casebridge.accounts.permissions import require
from casebridge.interop.models import ImportRun
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound


def import_runs_recent(actor: Actor, limit: int = 20) -> QuerySet[ImportRun]:
    """The organization's latest imports, newest first (organization admins)."""
    require(actor, "organization.manage")
    return ImportRun.objects.filter(organization_id=actor.organization_id).select_related("started_by")[:limit]


def import_run_get(actor: Actor, run_id: int) -> ImportRun:
    """One of the organization's imports; NotFound for another organization's, as for none."""
    require(actor, "organization.manage")
    run = (
        ImportRun.objects.filter(pk=run_id, organization_id=actor.organization_id).select_related("started_by").first()
    )
    if run is None:
        raise NotFound(f"No import {run_id}.")
    return run
