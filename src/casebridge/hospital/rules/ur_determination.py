"""Utilization review "not medically necessary" determinations: 42 CFR 482.30(b) reviewers, 482.30(d) decision."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

NOTICE_WITHIN = dt.timedelta(days=2)  # written notice no later than 2 days after the determination


class AttendingView(StrEnum):
    """Where the attending (the practitioner responsible for the patient's care) stands."""

    NOT_CONSULTED = "not_consulted"
    AWAITING_VIEW = "awaiting_view"  # consulted, the opportunity to present views is still open
    CONCURS = "concurs"
    NO_VIEW_WHEN_OFFERED = "no_view_when_offered"
    DISAGREES = "disagrees"


class NoticeRecipient(StrEnum):
    HOSPITAL = "hospital"
    PATIENT = "patient"
    PRACTITIONER = "practitioner"


class DecisionPath(StrEnum):
    SINGLE_PHYSICIAN = "single_physician"
    TWO_MEMBERS = "two_members"


@dataclass(frozen=True)
class Reviewer:
    reviewer_id: str
    committee_member: bool
    physician: bool  # MD or DO
    professionally_involved: bool
    direct_financial_interest: bool


@dataclass(frozen=True)
class DeterminationCheck:
    allowed: bool
    path: DecisionPath | None
    reasons: tuple[str, ...]
    eligible_reviewers: tuple[str, ...]


def reviewer_problems(reviewer: Reviewer) -> tuple[str, ...]:
    """Why a reviewer may not take part (482.30(b)): not on the committee, involved in the case, financial interest."""
    problems = []
    if not reviewer.committee_member:
        problems.append(f"{reviewer.reviewer_id} is not a member of the UR committee")
    if reviewer.professionally_involved:
        problems.append(f"{reviewer.reviewer_id} was professionally involved in the patient's care")
    if reviewer.direct_financial_interest:
        problems.append(f"{reviewer.reviewer_id} has a direct financial interest")
    return tuple(problems)


def not_medically_necessary_check(
    *, attending: AttendingView, concurring_reviewers: Sequence[Reviewer]
) -> DeterminationCheck:
    """May the committee determine an admission or continued stay not medically necessary (482.30(d))?

    The attending is consulted first. One physician member suffices when the attending concurs or gives no view
    when offered the opportunity; otherwise at least two committee members must concur.
    """
    reasons: list[str] = []
    eligible: list[Reviewer] = []
    seen: set[str] = set()
    for reviewer in concurring_reviewers:
        if reviewer.reviewer_id in seen:
            continue
        seen.add(reviewer.reviewer_id)
        problems = reviewer_problems(reviewer)
        reasons.extend(problems)
        if not problems:
            eligible.append(reviewer)
    eligible_ids = tuple(r.reviewer_id for r in eligible)

    if attending is AttendingView.NOT_CONSULTED:
        reasons.insert(0, "the attending must be consulted and offered the chance to present views first")
        return DeterminationCheck(allowed=False, path=None, reasons=tuple(reasons), eligible_reviewers=eligible_ids)
    if attending is AttendingView.AWAITING_VIEW:
        reasons.insert(0, "the attending has been consulted but the opportunity to present views is still open")
        return DeterminationCheck(allowed=False, path=None, reasons=tuple(reasons), eligible_reviewers=eligible_ids)

    if attending in (AttendingView.CONCURS, AttendingView.NO_VIEW_WHEN_OFFERED):
        physicians = [r for r in eligible if r.physician]
        if physicians:
            reasons.append(
                f"attending {'concurs' if attending is AttendingView.CONCURS else 'gave no view when offered'}: "
                f"one physician member suffices ({physicians[0].reviewer_id})"
            )
            return DeterminationCheck(
                allowed=True,
                path=DecisionPath.SINGLE_PHYSICIAN,
                reasons=tuple(reasons),
                eligible_reviewers=eligible_ids,
            )
        if len(eligible) >= 2:
            reasons.append("two eligible committee members concur")
            return DeterminationCheck(
                allowed=True, path=DecisionPath.TWO_MEMBERS, reasons=tuple(reasons), eligible_reviewers=eligible_ids
            )
        reasons.append("needs one eligible physician member of the UR committee (or two eligible members)")
        return DeterminationCheck(allowed=False, path=None, reasons=tuple(reasons), eligible_reviewers=eligible_ids)

    if len(eligible) >= 2:
        reasons.append("the attending disagrees: two eligible committee members concur")
        return DeterminationCheck(
            allowed=True, path=DecisionPath.TWO_MEMBERS, reasons=tuple(reasons), eligible_reviewers=eligible_ids
        )
    reasons.append(f"the attending disagrees: at least two eligible committee members must concur, {len(eligible)} do")
    return DeterminationCheck(allowed=False, path=None, reasons=tuple(reasons), eligible_reviewers=eligible_ids)


def notice_due_by(decided_at: dt.datetime) -> dt.datetime:
    """Written notice deadline: 2 days after the determination (calendar days; the rule does not say business days)."""
    return decided_at + NOTICE_WITHIN


@dataclass(frozen=True)
class NoticeStatus:
    due_by: dt.datetime
    outstanding: tuple[NoticeRecipient, ...]
    late: tuple[NoticeRecipient, ...]
    """Recipients notified after the deadline, or still waiting once it has passed."""

    @property
    def complete(self) -> bool:
        return not self.outstanding


def notice_status(
    *, decided_at: dt.datetime, delivered: Mapping[NoticeRecipient, dt.datetime], as_of: dt.datetime
) -> NoticeStatus:
    """Which of the three written notices (hospital, patient, practitioner) are still owed, and which are late."""
    due = notice_due_by(decided_at)
    outstanding = tuple(r for r in NoticeRecipient if r not in delivered)
    late = tuple(
        r for r in NoticeRecipient if (r in delivered and delivered[r] > due) or (r not in delivered and as_of > due)
    )
    return NoticeStatus(due_by=due, outstanding=outstanding, late=late)
