"""Demo enricher: the hospital's utilization review. The medical director installs the starter criteria
library (labelled as examples); each current stay gets its initial review scheduled; stays admitted three or
more days ago and past assessment have it completed by the UR nurse against the Two-Midnight set; a few
avoidable days are logged, so the census shows review clocks and the dashboard its avoidable-days chart.

Runs after the hospital stays enricher, through this package's services, at demo times.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from casebridge.cases.domain import CaseStatus
from casebridge.clinical.models import Encounter
from casebridge.demo import directory as d
from casebridge.demo.context import DemoContext, recorded_at
from casebridge.utilization import services
from casebridge.utilization.models import ReviewDecision

TWO_MIDNIGHT = "two_midnight"
STILL_ASSESSING = {CaseStatus.REFERRAL, CaseStatus.ASSESSMENT}
AVOIDABLE = (
    ("awaiting_post_acute_bed", "post_acute_provider"),
    ("awaiting_authorization", "payer"),
    ("awaiting_home_services", "post_acute_provider"),
    ("awaiting_test_or_procedure", "hospital"),
)


def add_utilization_review(ctx: DemoContext) -> None:
    hospital = ctx.organizations.get(d.HOSPITAL)
    if hospital is None:
        return
    with recorded_at(ctx.at(-120, 9)):
        services.criteria_library_install_starter(actor=ctx.actor("medical.director"))
    nurse = ctx.actor("ur.nurse")
    rng = ctx.rng("utilization")
    stays = (
        Encounter.objects.filter(
            organization=hospital,
            status="in-progress",
            encounter_class__in=("inpatient", "observation"),
            hospital_case__isnull=False,
        )
        .select_related("hospital_case")
        .order_by("admit_at", "pk")
    )
    for encounter in stays:
        assert encounter.admit_at is not None
        with recorded_at(min(encounter.admit_at + dt.timedelta(hours=1), ctx.start_of_today)):
            review = services.review_schedule_initial(actor=nurse, encounter_id=encounter.pk)
        days_in = (ctx.today - timezone.localdate(encounter.admit_at)).days
        case = encounter.hospital_case
        if days_in < 3 or case is None or case.status in STILL_ASSESSING:
            continue  # the initial review stays open on the UR nurses' queue
        with recorded_at(min(encounter.admit_at + dt.timedelta(hours=20), ctx.start_of_today)):
            review = services.review_evaluate(
                actor=nurse,
                review_id=review.pk,
                set_keys=[TWO_MIDNIGHT],
                answers={
                    TWO_MIDNIGHT: {
                        "expects_two_midnights": {"value": "met", "note": "Admission H&P: expected stay 3-4 days"},
                        "complex_factors": {"value": "met", "note": "Comorbidities and IV therapy documented"},
                    }
                },
            )
            if review.recommended_level:
                services.review_complete(actor=nurse, review_id=review.pk, decision=ReviewDecision.CONFIRMED)
            else:
                services.review_complete(
                    actor=nurse,
                    review_id=review.pk,
                    decision=ReviewDecision.OVERRIDDEN,
                    level=encounter.encounter_class,
                    reason="Attending documents the need for hospital care",
                )
        if days_in >= 5 and rng.random() < 0.6:
            reason, party = rng.choice(AVOIDABLE)
            for back in range(1, rng.randint(2, 3)):
                with recorded_at(ctx.at(-back, 17)):
                    services.avoidable_day_log(
                        actor=nurse,
                        encounter_id=encounter.pk,
                        day=ctx.today - dt.timedelta(days=back),
                        reason_code=reason,
                        responsible_party=party,
                    )
