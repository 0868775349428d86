"""Helpers shared by the care plan tests."""

from __future__ import annotations

from casebridge.careplans.models import Assessment, CarePlan, Goal, Intervention, Need

NO_NEEDS_HRSN = {
    "living_situation": "steady",
    "housing_problems": ["none"],
    "food_worry": "never",
    "food_didnt_last": "never",
    "transportation": "no",
    "utilities": "no",
    "safety_hurt": "never",
    "safety_insult": "never",
    "safety_threaten": "never",
    "safety_scream": "never",
}


def plan_version(case) -> int:
    return CarePlan.objects.get(case=case).version


def snapshot():
    """Everything a refused request must leave as it was."""
    return (
        list(CarePlan.objects.values_list("pk", "version", "status", "title").order_by("pk")),
        list(Need.objects.values_list("pk", "label", "status").order_by("pk")),
        list(Goal.objects.values_list("pk", "description", "lifecycle_status", "achievement_status").order_by("pk")),
        list(Intervention.objects.values_list("pk", "description", "status", "estimated_cost").order_by("pk")),
        [(a.pk, a.status, a.version, sorted(a.answers.items())) for a in Assessment.objects.order_by("pk")],
    )
