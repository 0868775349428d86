"""The extension point for demo records that other packages own (care plans, communications, documents...).

An enricher is a callable taking the ``DemoContext`` after the story demo (organizations, users,
queues, patients, cases and tasks) is built, inside the same transaction. It adds its own records
through its package's services, acting as a demo user (``ctx.actor("cm.hospital")``), at demo times
(``with recorded_at(ctx.at(-3, 10)): ...``), with its own random stream (``ctx.rng("careplans")``) so
that it stays deterministic and does not change what the other enrichers build.

Register one in this module, next to the others, for example::

    from casebridge.careplans.demo import add_care_plans
    ENRICHERS.append(add_care_plans)

Enrichers run for the story demo only; the large benchmark dataset (``bulk``) is written directly.
"""

from __future__ import annotations

from collections.abc import Callable

from casebridge.demo.context import DemoContext

Enricher = Callable[[DemoContext], None]


def _registered() -> list[Enricher]:
    from casebridge.coverage.demo import add_benefit_plans
    from casebridge.demo import records
    from casebridge.hospital.demo import add_hospital_stays
    from casebridge.postacute.demo import add_answered_referrals, add_post_acute_directory
    from casebridge.utilization.demo import add_utilization_review

    return [
        records.add_assessments_and_care_plans,
        records.add_communications,
        records.complete_some_past_work,
        add_post_acute_directory,
        add_benefit_plans,
        add_hospital_stays,
        add_utilization_review,
        add_answered_referrals,
    ]


ENRICHERS: list[Enricher] = _registered()


def run_enrichers(ctx: DemoContext, enrichers: list[Enricher] | None = None) -> list[str]:
    """Run each enricher in order; return their names for the summary."""
    ran = []
    for enrich in ENRICHERS if enrichers is None else enrichers:
        enrich(ctx)
        ran.append(getattr(enrich, "__qualname__", repr(enrich)))
    return ran
