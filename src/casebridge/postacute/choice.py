"""Building a patient's post-acute choice list (42 CFR 482.43(c)). Pure Python: no Django.

The hospital may not limit the patient's choice: every qualified provider that serves
the area is listed, whatever its network status, rating or accepting status. The
patient's stated priorities only decide the order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from casebridge.postacute.vocabulary import PRIORITIES


class NetworkStatus(StrEnum):
    IN = "in"  # the directory lists the provider in the patient's plan network
    NOT_LISTED = "not_listed"  # managed care, and the directory does not list the provider in the network
    NOT_APPLICABLE = "not_applicable"  # Original Medicare / fee-for-service: no network
    UNKNOWN = "unknown"  # no active coverage on file


NETWORK_LABELS: dict[str, str] = {
    NetworkStatus.IN: "In network (per our directory)",
    NetworkStatus.NOT_LISTED: "Not listed in your plan's network",
    NetworkStatus.NOT_APPLICABLE: "No network (fee-for-service)",
    NetworkStatus.UNKNOWN: "No coverage on file",
}

# Plans that pay through a network. Medicare Advantage and commercial plans are managed care;
# Original Medicare and fee-for-service Medicaid are not (482.43(c)(2) applies to the former).
_MANAGED_CARE_WORDS = frozenset({"advantage", "hmo", "ppo", "epo", "pos", "managed", "snp", "commercial"})
_FEE_FOR_SERVICE_PAYERS = frozenset({"medicare", "original medicare", "medicaid"})


def is_managed_care(*, payer_name: str, plan_name: str, insurer_on_platform: bool) -> bool:
    """A best guess from the payer and plan names; the case manager can override it when building the list."""
    text = f"{payer_name} {plan_name}".lower()
    if set(re.split(r"[^a-z0-9]+", text)) & _MANAGED_CARE_WORDS or "part c" in text:
        return True
    if payer_name.strip().lower() in _FEE_FOR_SERVICE_PAYERS:
        return False
    return insurer_on_platform or bool(payer_name.strip())


@dataclass(frozen=True)
class PlanRef:
    """The patient's coverage as far as network matching needs it."""

    insurer_id: int | None
    payer_name: str
    plan_name: str


@dataclass(frozen=True)
class NetworkRef:
    """One network a provider is in: an insurer (on the platform or by name), all plans or one plan."""

    insurer_id: int | None
    payer_name: str
    plan_name: str


def _same(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def in_network(plan: PlanRef, networks: Iterable[NetworkRef]) -> bool:
    for n in networks:
        same_payer = (
            n.insurer_id == plan.insurer_id if n.insurer_id is not None and plan.insurer_id is not None else False
        ) or (bool(n.payer_name.strip()) and _same(n.payer_name, plan.payer_name))
        if same_payer and (not n.plan_name.strip() or _same(n.plan_name, plan.plan_name)):
            return True
    return False


def network_status(plan: PlanRef | None, networks: Iterable[NetworkRef], *, managed_care: bool) -> NetworkStatus:
    if plan is None:
        return NetworkStatus.UNKNOWN
    if not managed_care:
        return NetworkStatus.NOT_APPLICABLE
    return NetworkStatus.IN if in_network(plan, networks) else NetworkStatus.NOT_LISTED


def zip5(value: str) -> str:
    return value.strip()[:5]


def serves_area(*, area_zips: Sequence[str], zip_codes_served: Iterable[str], located_in: str) -> bool:
    """An agency serves a ZIP it lists; a facility is also "in" the area when it is located in it."""
    area = {zip5(z) for z in area_zips if z}
    return bool(area & {zip5(z) for z in zip_codes_served}) or zip5(located_in) in area


def proximity(*, area_zips: Sequence[str], located_in: str, zip_codes_served: Iterable[str]) -> int:
    """0 located in the area, 1 serves it, 2 same 3-digit ZIP region, 3 otherwise. A crude proxy: no geodata."""
    area = [zip5(z) for z in area_zips if z]
    here = zip5(located_in)
    if here and here in area:
        return 0
    if set(area) & {zip5(z) for z in zip_codes_served}:
        return 1
    if here and any(here[:3] == z[:3] for z in area):
        return 2
    return 3


@dataclass(frozen=True)
class Candidate:
    provider_id: int
    name: str
    network: NetworkStatus
    star_rating: int | None
    proximity: int
    accepting: bool
    medicare_participating: bool


_NETWORK_ORDER = {
    NetworkStatus.IN: 0,
    NetworkStatus.NOT_APPLICABLE: 0,
    NetworkStatus.UNKNOWN: 1,
    NetworkStatus.NOT_LISTED: 2,
}


def check_priorities(priorities: Sequence[str]) -> list[str]:
    """The patient's priorities, most important first; unknown or repeated ones are refused."""
    unknown = [p for p in priorities if p not in PRIORITIES]
    if unknown:
        raise ValueError(f"unknown priorities: {', '.join(unknown)}; choose from {', '.join(PRIORITIES)}")
    if len(set(priorities)) != len(priorities):
        raise ValueError("a priority is named twice")
    return list(priorities)


def order_candidates(candidates: Iterable[Candidate], priorities: Sequence[str]) -> list[Candidate]:
    """Order by the patient's priorities, in the order the patient gave them; ties by name. Nothing is dropped."""

    def key(c: Candidate) -> tuple[object, ...]:
        parts: list[object] = []
        for p in priorities:
            if p == "in_network":
                parts.append(_NETWORK_ORDER[c.network])
            elif p == "rating":
                parts.append(-(c.star_rating or 0))
            elif p == "proximity":
                parts.append(c.proximity)
            elif p == "accepting":
                parts.append(0 if c.accepting else 1)
            elif p == "medicare":
                parts.append(0 if c.medicare_participating else 1)
        return (*parts, c.name.lower(), c.provider_id)

    return sorted(candidates, key=key)
