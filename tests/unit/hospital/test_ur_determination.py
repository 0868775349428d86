"""42 CFR 482.30(d) "not medically necessary" determinations and their 2-day written notices."""

from __future__ import annotations

import datetime as dt

import pytest

from casebridge.hospital.rules.ur_determination import (
    AttendingView,
    DecisionPath,
    NoticeRecipient,
    Reviewer,
    not_medically_necessary_check,
    notice_due_by,
    notice_status,
)


def reviewer(name: str, *, physician: bool = True, **problems: bool) -> Reviewer:
    return Reviewer(
        reviewer_id=name,
        committee_member=problems.get("committee_member", True),
        physician=physician,
        professionally_involved=problems.get("professionally_involved", False),
        direct_financial_interest=problems.get("direct_financial_interest", False),
    )


DR_A, DR_B = reviewer("dr-a"), reviewer("dr-b")
RN_C, RN_D = reviewer("rn-c", physician=False), reviewer("rn-d", physician=False)


@pytest.mark.parametrize("view", [AttendingView.NOT_CONSULTED, AttendingView.AWAITING_VIEW])
def test_the_attending_must_be_consulted_and_heard_before_any_determination(view: AttendingView) -> None:
    check = not_medically_necessary_check(attending=view, concurring_reviewers=[DR_A, DR_B])
    assert not check.allowed
    assert "attending" in check.reasons[0]


@pytest.mark.parametrize("view", [AttendingView.CONCURS, AttendingView.NO_VIEW_WHEN_OFFERED])
def test_one_physician_member_may_decide_when_the_attending_concurs_or_gives_no_view(view: AttendingView) -> None:
    check = not_medically_necessary_check(attending=view, concurring_reviewers=[DR_A])
    assert check.allowed
    assert check.path is DecisionPath.SINGLE_PHYSICIAN


def test_one_non_physician_member_alone_may_not_decide() -> None:
    check = not_medically_necessary_check(attending=AttendingView.CONCURS, concurring_reviewers=[RN_C])
    assert not check.allowed


def test_when_the_attending_disagrees_one_physician_is_not_enough() -> None:
    check = not_medically_necessary_check(attending=AttendingView.DISAGREES, concurring_reviewers=[DR_A])
    assert not check.allowed
    assert "at least two" in check.reasons[-1]


def test_when_the_attending_disagrees_two_committee_members_must_concur() -> None:
    check = not_medically_necessary_check(attending=AttendingView.DISAGREES, concurring_reviewers=[DR_A, RN_C])
    assert check.allowed
    assert check.path is DecisionPath.TWO_MEMBERS


def test_the_same_reviewer_twice_counts_once() -> None:
    check = not_medically_necessary_check(attending=AttendingView.DISAGREES, concurring_reviewers=[DR_A, DR_A])
    assert not check.allowed


@pytest.mark.parametrize("problem", ["professionally_involved", "direct_financial_interest", "committee_member"])
def test_an_involved_interested_or_non_member_reviewer_does_not_count(problem: str) -> None:
    flawed = reviewer("dr-x", **{problem: problem != "committee_member"})
    check = not_medically_necessary_check(attending=AttendingView.DISAGREES, concurring_reviewers=[DR_A, flawed])
    assert not check.allowed
    assert check.eligible_reviewers == ("dr-a",)
    assert any("dr-x" in r for r in check.reasons)


def test_an_involved_physician_cannot_be_the_single_decider() -> None:
    involved = reviewer("dr-x", professionally_involved=True)
    check = not_medically_necessary_check(attending=AttendingView.CONCURS, concurring_reviewers=[involved])
    assert not check.allowed


def test_written_notice_is_due_two_days_after_the_decision() -> None:
    decided = dt.datetime(2024, 6, 3, 15, 30)
    assert notice_due_by(decided) == dt.datetime(2024, 6, 5, 15, 30)


def test_notices_track_each_recipient_against_the_deadline() -> None:
    decided = dt.datetime(2024, 6, 3, 15, 30)
    status = notice_status(
        decided_at=decided,
        delivered={
            NoticeRecipient.HOSPITAL: dt.datetime(2024, 6, 3, 16, 0),
            NoticeRecipient.PATIENT: dt.datetime(2024, 6, 6, 9, 0),  # late
        },
        as_of=dt.datetime(2024, 6, 6, 10, 0),
    )
    assert status.outstanding == (NoticeRecipient.PRACTITIONER,)
    assert status.late == (NoticeRecipient.PATIENT, NoticeRecipient.PRACTITIONER)
    assert not status.complete


def test_notices_not_yet_due_are_outstanding_but_not_late() -> None:
    status = notice_status(decided_at=dt.datetime(2024, 6, 3), delivered={}, as_of=dt.datetime(2024, 6, 5))
    assert len(status.outstanding) == 3
    assert status.late == ()
