"""FHIR R4 codes for care plans, goals and activities. Pure data (RULES.md, "FHIR R4 status vocabularies")."""

from __future__ import annotations

from enum import StrEnum


class CarePlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    REVOKED = "revoked"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"
    UNKNOWN = "unknown"


class CarePlanIntent(StrEnum):
    PROPOSAL = "proposal"
    PLAN = "plan"
    ORDER = "order"
    OPTION = "option"


class GoalLifecycle(StrEnum):
    PROPOSED = "proposed"
    PLANNED = "planned"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered-in-error"
    REJECTED = "rejected"


class GoalAchievement(StrEnum):
    IN_PROGRESS = "in-progress"
    IMPROVING = "improving"
    WORSENING = "worsening"
    NO_CHANGE = "no-change"
    ACHIEVED = "achieved"
    SUSTAINING = "sustaining"
    NOT_ACHIEVED = "not-achieved"
    NO_PROGRESS = "no-progress"
    NOT_ATTAINABLE = "not-attainable"


class ActivityStatus(StrEnum):
    """CarePlan.activity.detail.status, used for interventions and services."""

    NOT_STARTED = "not-started"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"
    UNKNOWN = "unknown"
    ENTERED_IN_ERROR = "entered-in-error"


class Payer(StrEnum):
    MEDICARE = "medicare"
    MEDICAID = "medicaid"
    MEDICARE_ADVANTAGE = "medicare_advantage"
    COMMERCIAL = "commercial"
    PATIENT = "patient"
    FAMILY = "family"
    COMMUNITY = "community"
    GRANT = "grant"
    OTHER = "other"
    UNKNOWN = "unknown"


PAYER_LABELS: dict[Payer, str] = {
    Payer.MEDICARE: "Medicare",
    Payer.MEDICAID: "Medicaid",
    Payer.MEDICARE_ADVANTAGE: "Medicare Advantage plan",
    Payer.COMMERCIAL: "Commercial insurer",
    Payer.PATIENT: "Patient (out of pocket)",
    Payer.FAMILY: "Family",
    Payer.COMMUNITY: "Community program (no cost)",
    Payer.GRANT: "Grant or charity",
    Payer.OTHER: "Other",
    Payer.UNKNOWN: "Not yet known",
}


def label(code: str) -> str:
    """'on-hold' -> 'On hold', for choices and badges."""
    return code.replace("-", " ").replace("_", " ").capitalize()


def choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    return [(m.value, label(m.value)) for m in enum]
