"""Placeholder worklist until the tasks package lands: lists the actor's open cases."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from casebridge.accounts.permissions import require
from casebridge.cases.domain import OPEN
from casebridge.cases.selectors import cases_owned
from casebridge.web.errors import actor_required


@actor_required
def worklist_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    require(actor, "case.view")
    my_cases = cases_owned(actor).filter(assigned_to=actor.user, status__in=list(OPEN)).select_related("patient")[:100]
    return render(request, "tasks/worklist.html", {"my_cases": my_cases})


@actor_required
def caseload_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    require(actor, "caseload.view")
    return render(request, "tasks/worklist.html", {"my_cases": []})
