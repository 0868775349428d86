"""The care plan parts of the case page, rendered from the case in the page's context."""

from __future__ import annotations

from typing import Any

from django import template

from casebridge.accounts.permissions import can
from casebridge.careplans import goal_lifecycle, selectors
from casebridge.careplans.forms import AssessmentStartForm, GoalForm, GoalTransitionForm, InterventionStatusForm
from casebridge.careplans.models import Assessment

register = template.Library()


def _actor_and_case(context: template.Context) -> tuple[Any, Any, bool]:
    actor = getattr(context["request"], "actor", None)
    case = context["case"]
    owned = actor is not None and case.organization_id == actor.organization_id
    return actor, case, owned


@register.inclusion_tag("careplans/_plan_panel.html", takes_context=True)
def careplan_section(context: template.Context) -> dict[str, Any]:
    actor, case, owned = _actor_and_case(context)
    # The case page's own read is audited as case.read; the plan shown on it is part of that read.
    plan = selectors.careplan_find(actor=actor, case_id=case.pk, audit=False)
    can_plan = owned and can(actor, "careplan.change")
    goals = []
    if plan is not None:
        for goal in plan.goals.all():
            moves = sorted(goal_lifecycle.allowed_moves(goal.lifecycle))
            goals.append(
                {
                    "goal": goal,
                    "transition_form": GoalTransitionForm(
                        moves=moves, initial={"version": plan.version}, auto_id=f"g{goal.pk}_%s"
                    )
                    if moves
                    else None,
                    "interventions": [
                        (
                            iv,
                            InterventionStatusForm(
                                initial={"status": iv.status, "version": plan.version}, auto_id=f"i{iv.pk}_%s"
                            ),
                        )
                        for iv in goal.interventions.all()
                    ],
                }
            )
    goal_form = GoalForm(
        needs=plan.needs.all() if plan else [],
        initial={"version": plan.version if plan else None},
        auto_id="goal_%s",
    )
    return {
        "case": case,
        "plan": plan,
        "goals": goals,
        "can_plan": can_plan,
        "goal_form": goal_form,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("careplans/_assessments_panel.html", takes_context=True)
def assessments_sidebar(context: template.Context) -> dict[str, Any]:
    actor, case, owned = _actor_and_case(context)
    rows = Assessment.objects.filter(case=case).select_related("completed_by")
    return {
        "case": case,
        "assessments": rows,
        "can_assess": owned and can(actor, "assessment.change"),
        "start_form": AssessmentStartForm(auto_id="assessment_%s"),
        "csrf_token": context.get("csrf_token"),
    }
