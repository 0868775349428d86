"""What each exported FHIR resource type is made from: the records the actor may see, how to load them
for rendering, when each was last changed, and its mapper.

One table (``EXPORT_TYPES``) serves the bundle builders and the /fhir/r4 API, so a resource reads the
same whichever way it leaves. Every queryset starts from the actor's scoped selectors
(``patients_visible``, ``cases_visible``, ``tasks_visible``, ``communications_visible``): no query here
can reach another organization's data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, Expression, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest

from casebridge.careplans.models import CarePlan, Goal, Intervention
from casebridge.cases.models import CareTeamMember, Case
from casebridge.cases.selectors import cases_visible, linked_case_ids
from casebridge.communications.selectors import communications_visible
from casebridge.interop.fhir_export import clinical, mappers
from casebridge.kernel.actor import Actor
from casebridge.patients.models import Coverage, Patient, PatientIdentifier
from casebridge.patients.selectors import patients_visible
from casebridge.tasks.models import Task, TaskStatusChange
from casebridge.tasks.selectors import tasks_visible

LAST_UPDATED = "fhir_last_updated"


@dataclass(frozen=True)
class ExportType:
    """One FHIR resource type CaseBridge exports."""

    resource_type: str
    kind: str  # the id kind: casebridge-<kind>-<pk>
    visible: Callable[[Actor], QuerySet[Any]]  # scoped rows, loaded for ``render``, annotated with LAST_UPDATED
    render: Callable[[Any], dict[str, Any]]
    patient_id_of: Callable[[Any], int | None]
    patient_field: str  # the lookup from a row to its patient id, for patient/subject search
    needs_clinical: bool = False

    def available(self) -> bool:
        return not self.needs_clinical or clinical.clinical_installed()


def _history_last(model: Any) -> Subquery:
    """The time of the record's latest django-simple-history row: when it last changed."""
    return Subquery(
        model.history.model.objects.filter(id=OuterRef("pk")).order_by("-history_date").values("history_date")[:1]
    )


# --- Patient ------------------------------------------------------------------------------------


def _patients(actor: Actor) -> QuerySet[Patient]:
    return (
        patients_visible(actor)
        .prefetch_related(
            Prefetch("identifiers", queryset=PatientIdentifier.objects.select_related("assigner").order_by("pk")),
            "contacts",
        )
        .annotate(**{LAST_UPDATED: F("updated_at")})
    )


def _render_patient(p: Patient) -> dict[str, Any]:
    return mappers.patient(p, identifiers=p.identifiers.all(), contacts=p.contacts.all())


# --- EpisodeOfCare and CareTeam (both per case) -------------------------------------------------


def _team_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "care_team", queryset=CareTeamMember.objects.select_related("user", "organization").order_by("added_at", "pk")
    )


def _cases(actor: Actor) -> QuerySet[Case]:
    return (
        cases_visible(actor)
        .select_related("assigned_to")
        .prefetch_related("status_changes", _team_prefetch())
        .annotate(**{LAST_UPDATED: F("updated_at")})
    )


def _render_case(case: Case) -> dict[str, Any]:
    return mappers.episode_of_care(case, status_changes=case.status_changes.all(), has_team=bool(case.care_team.all()))


def _team_last_changed() -> Expression:
    members = CareTeamMember.objects.filter(case=OuterRef("pk")).values("case")
    added = Subquery(members.annotate(m=Max("added_at")).values("m"))
    ended = Subquery(members.annotate(m=Max("ended_at")).values("m"))
    return Greatest(added, Coalesce(ended, added))


def _care_teams(actor: Actor) -> QuerySet[Case]:
    """A case's care team is one CareTeam; cases nobody was ever added to have none."""
    return (
        cases_visible(actor)
        .filter(Exists(CareTeamMember.objects.filter(case=OuterRef("pk"))))
        .prefetch_related(_team_prefetch())
        .annotate(**{LAST_UPDATED: _team_last_changed()})
    )


def _render_care_team(case: Case) -> dict[str, Any]:
    return mappers.care_team(case, case.care_team.all())


# --- CarePlan, Goal, ServiceRequest -------------------------------------------------------------


def _care_plans(actor: Actor) -> QuerySet[CarePlan]:
    return (
        CarePlan.objects.filter(case__in=cases_visible(actor))
        .select_related("case", "created_by")
        .prefetch_related(
            "needs",
            "case__care_team",
            Prefetch(
                "goals",
                queryset=Goal.objects.order_by("created_at", "pk").prefetch_related(
                    Prefetch(
                        "interventions",
                        queryset=Intervention.objects.select_related("provider_organization").order_by(
                            "created_at", "pk"
                        ),
                    )
                ),
            ),
        )
        .annotate(**{LAST_UPDATED: F("updated_at")})
    )


def _render_care_plan(plan: CarePlan) -> dict[str, Any]:
    return mappers.care_plan(
        plan, needs=plan.needs.all(), goals=plan.goals.all(), has_team=bool(plan.case.care_team.all())
    )


def _goals(actor: Actor) -> QuerySet[Goal]:
    return (
        Goal.objects.filter(care_plan__case__in=cases_visible(actor))
        .select_related("care_plan__case", "created_by")
        .annotate(**{LAST_UPDATED: Coalesce(_history_last(Goal), F("created_at"))})
    )


def _interventions(actor: Actor) -> QuerySet[Intervention]:
    return (
        Intervention.objects.filter(goal__care_plan__case__in=cases_visible(actor))
        .select_related("goal__care_plan__case", "provider_organization", "created_by")
        .annotate(**{LAST_UPDATED: Coalesce(_history_last(Intervention), F("created_at"))})
    )


# --- Task, Coverage, Communication --------------------------------------------------------------


def _tasks(actor: Actor) -> QuerySet[Task]:
    # Tasks keep no edit time; their last status change (or creation) is when they last changed state.
    moved = Subquery(
        TaskStatusChange.objects.filter(task=OuterRef("pk")).values("task").annotate(m=Max("at")).values("m")
    )
    return (
        tasks_visible(actor)
        .select_related("owner", "queue", "created_by")
        .annotate(**{LAST_UPDATED: Coalesce(moved, F("created_at"))})
    )


def _coverages(actor: Actor) -> QuerySet[Coverage]:
    return (
        Coverage.objects.filter(patient__in=patients_visible(actor))
        .select_related("insurer")
        .annotate(**{LAST_UPDATED: _history_last(Coverage)})
    )


def _communications(actor: Actor) -> QuerySet[Any]:
    return communications_visible(actor).prefetch_related("parties").annotate(**{LAST_UPDATED: F("logged_at")})


# --- Encounter, Condition (clinical app) --------------------------------------------------------


def clinical_visible(actor: Actor, model: Any) -> QuerySet[Any]:
    """Clinical records the actor's organization received, plus those that the organization running a
    case we are on the care team of received about that case's patient (the same reach as the patient)."""
    linked = Case.objects.filter(pk__in=linked_case_ids(actor))
    return model.objects.filter(
        Q(organization_id=actor.organization_id)
        | Q(
            patient_id__in=linked.values("patient_id"),
            organization_id__in=linked.values("organization_id"),
        )
    )


def _clinical_rows(name: str, *related: str) -> Callable[[Actor], QuerySet[Any]]:
    def rows(actor: Actor) -> QuerySet[Any]:
        model = clinical.clinical_model(name)
        if model is None:
            raise LookupError(f"the clinical app is not installed: no {name} records")
        return clinical_visible(actor, model).select_related(*related).annotate(**{LAST_UPDATED: F("updated_at")})

    return rows


EXPORT_TYPES: dict[str, ExportType] = {
    t.resource_type: t
    for t in (
        ExportType("Patient", "patient", _patients, _render_patient, lambda p: p.pk, "pk"),
        ExportType("Coverage", "coverage", _coverages, mappers.coverage, lambda c: c.patient_id, "patient_id"),
        ExportType("EpisodeOfCare", "case", _cases, _render_case, lambda c: c.patient_id, "patient_id"),
        ExportType("CareTeam", "careteam", _care_teams, _render_care_team, lambda c: c.patient_id, "patient_id"),
        ExportType(
            "CarePlan", "careplan", _care_plans, _render_care_plan, lambda p: p.case.patient_id, "case__patient_id"
        ),
        ExportType(
            "Goal",
            "goal",
            _goals,
            lambda g: mappers.goal(g, patient_id=g.care_plan.case.patient_id),
            lambda g: g.care_plan.case.patient_id,
            "care_plan__case__patient_id",
        ),
        ExportType(
            "ServiceRequest",
            "intervention",
            _interventions,
            lambda iv: mappers.service_request(iv, plan=iv.goal.care_plan),
            lambda iv: iv.goal.care_plan.case.patient_id,
            "goal__care_plan__case__patient_id",
        ),
        ExportType("Task", "task", _tasks, mappers.task, lambda t: t.patient_id, "patient_id"),
        ExportType(
            "Communication",
            "communication",
            _communications,
            lambda c: mappers.communication(c, parties=c.parties.all()),
            lambda c: c.patient_id,
            "patient_id",
        ),
        ExportType(
            "Encounter",
            "encounter",
            _clinical_rows("Encounter", "attending", "service_provider", "location"),
            clinical.encounter,
            lambda e: e.patient_id,
            "patient_id",
            needs_clinical=True,
        ),
        ExportType(
            "Condition",
            "condition",
            _clinical_rows("Condition"),
            clinical.condition,
            lambda c: c.patient_id,
            "patient_id",
            needs_clinical=True,
        ),
    )
}
