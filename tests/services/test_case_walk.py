"""case_walk: several moves in one go write exactly what one case_transition per move writes."""

from __future__ import annotations

import pytest

from casebridge.audit.models import AuditEvent
from casebridge.cases.domain import CaseStatus
from casebridge.cases.models import Case, CaseStatusChange
from casebridge.cases.services import case_transition, case_walk
from casebridge.kernel.errors import IllegalTransition, NotFound, StaleVersion, ValidationFailed

pytestmark = pytest.mark.django_db

WALK = [CaseStatus.ASSESSMENT, CaseStatus.PLANNING, CaseStatus.IMPLEMENTATION, CaseStatus.TRANSITION]


def written(case: Case) -> dict[str, list[tuple]]:
    """Everything a transition leaves behind for one case, minus ids and timestamps."""
    return {
        "changes": list(
            CaseStatusChange.objects.filter(case=case)
            .order_by("pk")
            .values_list("from_status", "to_status", "by_id", "reason")
        ),
        "history": list(
            case.history.order_by("history_id").values_list(
                "status", "version", "history_type", "history_user_id", "closure_reason"
            )
        ),
        "audit": list(
            AuditEvent.objects.filter(object_type="cases.case", object_id=str(case.pk), action="case.transition")
            .order_by("pk")
            .values_list("patient_id", "roles", "detail")
        ),
    }


def test_a_walk_writes_the_same_rows_as_one_transition_per_step(cm, make_case):
    one_by_one, walked = make_case(), make_case()
    for step in WALK:
        case_transition(actor=cm, case_id=one_by_one.pk, to_status=step, reason="ADT A03")
    result = case_walk(actor=cm, case_id=walked.pk, steps=WALK, reason="ADT A03")

    walked.refresh_from_db()
    one_by_one.refresh_from_db()
    assert (result.status, result.version) == (walked.status, walked.version)
    assert (walked.status, walked.version) == (one_by_one.status, one_by_one.version) == ("transition", 5)
    assert written(walked) == written(one_by_one)
    assert [h[:2] for h in written(walked)["history"]] == [
        ("referral", 1),
        ("assessment", 2),
        ("planning", 3),
        ("implementation", 4),
        ("transition", 5),
    ]
    # each history row is dated like its status change
    dates = list(walked.history.order_by("history_id").values_list("history_date", flat=True))[1:]
    ats = list(CaseStatusChange.objects.filter(case=walked).order_by("pk").values_list("at", flat=True))[1:]
    assert dates == ats


def test_a_walk_to_closed_records_the_closure(cm, case):
    closed = case_walk(actor=cm, case_id=case.pk, steps=[CaseStatus.ASSESSMENT, CaseStatus.CLOSED], reason=" done ")
    closed.refresh_from_db()
    assert (closed.status, closed.closure_reason) == ("closed", "done") and closed.closed_at is not None
    assert closed.history.order_by("-history_id").first().status == "closed"


@pytest.mark.parametrize(
    ("steps", "error"),
    [
        ([CaseStatus.ASSESSMENT, CaseStatus.MONITORING], IllegalTransition),  # second step illegal
        ([CaseStatus.ASSESSMENT, "sleeping"], ValidationFailed),
        ([], ValidationFailed),
        ([CaseStatus.ASSESSMENT, CaseStatus.CLOSED], ValidationFailed),  # closing needs a reason
    ],
)
def test_a_walk_with_a_bad_step_changes_nothing(cm, case, steps, error):
    before = written(case)
    with pytest.raises(error):
        case_walk(actor=cm, case_id=case.pk, steps=steps)
    case.refresh_from_db()
    assert (case.status, case.version) == ("referral", 1)
    assert written(case) == before


def test_a_walk_checks_the_version_and_the_organization(cm, outsider, case):
    with pytest.raises(StaleVersion):
        case_walk(actor=cm, case_id=case.pk, steps=[CaseStatus.ASSESSMENT], version=7)
    with pytest.raises(NotFound):
        case_walk(actor=outsider, case_id=case.pk, steps=[CaseStatus.ASSESSMENT])
    # a row handed in as "locked" by another organization's caller is not trusted: it is looked up, not found
    locked = Case.objects.select_for_update().get(pk=case.pk)
    with pytest.raises(NotFound):
        case_walk(actor=outsider, case_id=case.pk, steps=[CaseStatus.ASSESSMENT], locked=locked)
    with pytest.raises(StaleVersion):
        case_walk(actor=cm, case_id=case.pk, steps=[CaseStatus.ASSESSMENT], version=7, locked=locked)
    case.refresh_from_db()
    assert (case.status, case.version) == ("referral", 1)


def test_a_walk_with_the_locked_row_reads_nothing_again(cm, case, django_assert_num_queries):
    locked = Case.objects.select_for_update().get(pk=case.pk)
    # UPDATE case, INSERT history rows, INSERT status changes, INSERT audit events (plus savepoint pair)
    with django_assert_num_queries(6):
        case_walk(actor=cm, case_id=case.pk, steps=WALK[:3], reason="r", locked=locked)
    case.refresh_from_db()
    assert (case.status, case.version, case.history.count()) == ("implementation", 4, 4)
