"""Demo enricher: Summit Health Plan's benefit plans, imported through the coverage loader as its admin would,
so that the demo patients' coverage options price (plan names match the demo coverage records)."""

from __future__ import annotations

from pathlib import Path

import yaml

from casebridge.coverage import services
from casebridge.demo import directory as d
from casebridge.demo.context import DemoContext, recorded_at

SUMMIT_BENEFITS = Path(__file__).resolve().parents[1] / "demo" / "data" / "summit_benefits.yaml"


def add_benefit_plans(ctx: DemoContext) -> None:
    if d.INSURER not in ctx.organizations:
        return
    with recorded_at(ctx.at(-90, 9)):
        services.benefit_plans_import(
            actor=ctx.actor("admin.insurer"), document=yaml.safe_load(SUMMIT_BENEFITS.read_text(encoding="utf-8"))
        )
