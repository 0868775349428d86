"""Optional links to business areas built in other branches (utilization review, post-acute referrals).

Each call checks that the app is installed and importable and otherwise answers "not available"
(None). The lead wires the real calls after merging those branches; until then the census shows
"—" for the next UR review and the dashboard says which charts need which app.
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from django.apps import apps

from casebridge.kernel.actor import Actor

UTILIZATION_APP = "casebridge.utilization"
POSTACUTE_APP = "casebridge.postacute"


def _module(app: str, name: str) -> Any | None:
    if not apps.is_installed(app):
        return None
    try:
        return importlib.import_module(f"{app}.{name}")
    except ImportError:
        return None


def utilization_available() -> bool:
    return _module(UTILIZATION_APP, "selectors") is not None


def next_reviews_due(*, actor: Actor, encounter_ids: list[int]) -> dict[int, dt.datetime | None] | None:
    """``casebridge.utilization.selectors.next_reviews_due`` when the utilization app is present; else None."""
    selectors = _module(UTILIZATION_APP, "selectors")
    if selectors is None or not hasattr(selectors, "next_reviews_due"):
        return None
    result: dict[int, dt.datetime | None] = selectors.next_reviews_due(actor=actor, encounter_ids=encounter_ids)
    return result


def criteria_results(*, actor: Actor, encounter_id: int) -> list[dict[str, Any]] | None:
    """The latest review's criteria results (criterion, result, evidence) for the packet, when available.

    Expects ``casebridge.utilization.selectors.criteria_results_for_packet(actor=, encounter_id=)``.
    """
    selectors = _module(UTILIZATION_APP, "selectors")
    if selectors is None or not hasattr(selectors, "criteria_results_for_packet"):
        return None
    return list(selectors.criteria_results_for_packet(actor=actor, encounter_id=encounter_id))


def avoidable_days_by_reason(*, actor: Actor, since: dt.date) -> list[tuple[str, int]] | None:
    """Expects ``casebridge.utilization.selectors.avoidable_days_by_reason(actor=, since=)`` -> [(reason, days)]."""
    selectors = _module(UTILIZATION_APP, "selectors")
    if selectors is None or not hasattr(selectors, "avoidable_days_by_reason"):
        return None
    return [(str(reason), int(days)) for reason, days in selectors.avoidable_days_by_reason(actor=actor, since=since)]


def referral_response_hours(*, actor: Actor, since: dt.datetime) -> list[tuple[str, float, int]] | None:
    """Median hours from sending a referral to the provider's answer, by service type: [(type, hours, count)]."""
    if _module(POSTACUTE_APP, "models") is None:
        return None
    from statistics import median

    referral: Any = apps.get_model(POSTACUTE_APP.rsplit(".", 1)[1], "Referral")
    rows = referral.objects.filter(
        organization_id=actor.organization_id, sent_at__gte=since, responded_at__isnull=False
    ).values_list("provider_type", "sent_at", "responded_at")
    by_type: dict[str, list[float]] = {}
    for provider_type, sent_at, responded_at in rows:
        by_type.setdefault(str(provider_type), []).append((responded_at - sent_at).total_seconds() / 3600)
    return [(t, round(median(hours), 1), len(hours)) for t, hours in sorted(by_type.items())]
