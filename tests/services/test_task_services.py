"""Task services, selectors, escalation and timeline, through the same functions users reach."""

import datetime as dt

import pytest
from django.utils import timezone

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.cases.services import case_open
from casebridge.cases.timeline import case_timeline
from casebridge.kernel import clock
from casebridge.kernel.errors import IllegalTransition, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from casebridge.tasks import selectors, services
from casebridge.tasks.escalation import escalate_overdue, flag_overdue_tasks
from casebridge.tasks.models import Task, TaskStatusChange

NOW = timezone.make_aware(dt.datetime(2026, 3, 10, 14, 0))


@pytest.fixture(autouse=True)
def pinned_clock():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def supervisor(make_actor, hospital):
    return make_actor(hospital, roles.SUPERVISOR, username="hsup")


@pytest.fixture
def case(cm, patient):
    return case_open(actor=cm, patient_id=patient.pk, case_type="hospital_stay", assigned_to_id=cm.user_id)


@pytest.fixture
def task(cm, case):
    return services.task_create(actor=cm, title="Call the family", case_id=case.pk, due_at=NOW + dt.timedelta(hours=2))


def snapshot(task):
    task.refresh_from_db()
    return (task.status, task.version, task.title, task.owner_id, task.queue_id, task.due_at, task.completed_at)


# --- transitions -------------------------------------------------------------------


def test_start_moves_ready_to_in_progress_and_records_it_with_an_audit_event(cm, task, patient):
    services.task_transition(actor=cm, task_id=task.pk, to_status="in-progress")
    task.refresh_from_db()
    assert task.status == "in-progress"
    assert task.version == 2
    change = task.status_changes.last()
    assert (change.from_status, change.to_status, change.by_id) == ("ready", "in-progress", cm.user_id)
    event = AuditEvent.objects.get(action="task.transition")
    assert event.patient_id == patient.pk
    assert event.detail == {"from": "ready", "to": "in-progress"}


def test_an_illegal_move_is_refused_and_changes_nothing(cm, task):
    before = snapshot(task)
    with pytest.raises(IllegalTransition):
        services.task_transition(actor=cm, task_id=task.pk, to_status="completed")
    assert snapshot(task) == before
    assert not AuditEvent.objects.filter(action="task.transition").exists()


def test_cancelling_needs_a_reason(cm, task):
    with pytest.raises(ValidationFailed) as err:
        services.task_transition(actor=cm, task_id=task.pk, to_status="cancelled")
    assert "reason" in err.value.field_errors
    services.task_transition(actor=cm, task_id=task.pk, to_status="cancelled", reason="Family called us")
    task.refresh_from_db()
    assert (task.status, task.status_reason) == ("cancelled", "Family called us")


def test_an_unknown_status_names_the_status_field(cm, task):
    with pytest.raises(ValidationFailed) as err:
        services.task_transition(actor=cm, task_id=task.pk, to_status="done")
    assert "status" in err.value.field_errors


def test_a_stale_version_is_refused_and_nothing_is_lost(cm, task):
    services.task_update(actor=cm, task_id=task.pk, version=1, title="Call the daughter")
    with pytest.raises(StaleVersion):
        services.task_transition(actor=cm, task_id=task.pk, to_status="in-progress", version=1)
    task.refresh_from_db()
    assert (task.status, task.title, task.version) == ("ready", "Call the daughter", 2)


def test_another_organizations_task_is_not_found_for_every_write(outsider, make_actor, insurer, task):
    before = snapshot(task)
    outside_sup = make_actor(insurer, roles.SUPERVISOR)
    with pytest.raises(NotFound):
        services.task_transition(actor=outsider, task_id=task.pk, to_status="in-progress")
    with pytest.raises(NotFound):
        services.task_complete(actor=outsider, task_id=task.pk)
    with pytest.raises(NotFound):
        services.task_update(actor=outsider, task_id=task.pk, version=None, title="x")
    with pytest.raises(NotFound):
        services.task_reassign(actor=outside_sup, task_id=task.pk, owner_id=outside_sup.user_id)
    with pytest.raises(NotFound):
        services.task_claim(actor=outsider, task_id=task.pk)
    assert snapshot(task) == before


# --- completing --------------------------------------------------------------------


def test_mark_done_walks_every_legal_step_from_requested(cm, case):
    task = services.task_create(actor=cm, title="Fax the SNF", case_id=case.pk, status="requested")
    services.task_complete(actor=cm, task_id=task.pk, note="Faxed")
    task.refresh_from_db()
    assert task.status == "completed"
    assert task.completed_at == NOW
    steps = list(task.status_changes.values_list("from_status", "to_status"))
    assert steps == [
        ("", "requested"),
        ("requested", "accepted"),
        ("accepted", "in-progress"),
        ("in-progress", "completed"),
    ]
    event = AuditEvent.objects.get(action="task.complete")
    assert event.detail["steps"] == ["accepted", "in-progress", "completed"]


def test_a_completed_task_cannot_be_completed_again(cm, task):
    services.task_complete(actor=cm, task_id=task.pk)
    with pytest.raises(IllegalTransition):
        services.task_complete(actor=cm, task_id=task.pk)
    assert TaskStatusChange.objects.filter(task=task, to_status="completed").count() == 1


def test_roles_without_task_change_cannot_complete(make_actor, hospital, task):
    auditor = make_actor(hospital, roles.AUDITOR)
    with pytest.raises(PermissionDenied):
        services.task_complete(actor=auditor, task_id=task.pk)
    task.refresh_from_db()
    assert task.status == "ready"


# --- updating ----------------------------------------------------------------------


def test_update_changes_fields_and_bumps_the_version(cm, task):
    due = NOW + dt.timedelta(days=1)
    services.task_update(actor=cm, task_id=task.pk, version=1, title=" Call son ", priority="urgent", due_at=due)
    task.refresh_from_db()
    assert (task.title, task.priority, task.due_at, task.version) == ("Call son", "urgent", due, 2)
    assert AuditEvent.objects.get(action="task.update").detail == {"fields": ["due_at", "priority", "title"]}


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"title": "  "}, "title"), ({"priority": "soon"}, "priority"), ({"status": "completed"}, "status")],
)
def test_update_refuses_bad_values_naming_the_field(cm, task, changes, field):
    before = snapshot(task)
    with pytest.raises(ValidationFailed) as err:
        services.task_update(actor=cm, task_id=task.pk, version=1, **changes)
    assert field in err.value.field_errors
    assert snapshot(task) == before


def test_a_closed_task_cannot_be_edited(cm, task):
    services.task_complete(actor=cm, task_id=task.pk)
    with pytest.raises(ValidationFailed):
        services.task_update(actor=cm, task_id=task.pk, version=None, title="Rewrite history")


# --- reassigning, queues, claiming ---------------------------------------------------------


def test_only_supervisors_reassign(cm, make_actor, hospital, task):
    colleague = make_actor(hospital, roles.CASE_MANAGER)
    with pytest.raises(PermissionDenied):
        services.task_reassign(actor=cm, task_id=task.pk, owner_id=colleague.user_id)
    task.refresh_from_db()
    assert task.owner_id == cm.user_id


def test_supervisor_reassigns_to_a_colleague_then_to_a_queue(supervisor, make_actor, hospital, task):
    colleague = make_actor(hospital, roles.CASE_MANAGER)
    services.task_reassign(actor=supervisor, task_id=task.pk, owner_id=colleague.user_id)
    task.refresh_from_db()
    assert (task.owner_id, task.queue_id) == (colleague.user_id, None)
    queue = services.queue_create(actor=supervisor, name="Discharge planning")
    services.task_reassign(actor=supervisor, task_id=task.pk, queue_id=queue.pk)
    task.refresh_from_db()
    assert (task.owner_id, task.queue_id) == (None, queue.pk)
    assert AuditEvent.objects.filter(action="task.reassign").count() == 2


def test_reassign_needs_exactly_one_target_and_staff_of_this_organization(supervisor, outsider, task):
    with pytest.raises(ValidationFailed):
        services.task_reassign(actor=supervisor, task_id=task.pk)
    with pytest.raises(ValidationFailed) as err:
        services.task_reassign(actor=supervisor, task_id=task.pk, owner_id=outsider.user_id)
    assert "owner_id" in err.value.field_errors
    task.refresh_from_db()
    assert task.owner is not None


def test_queues_are_managed_by_supervisors_and_names_are_unique(cm, supervisor):
    with pytest.raises(PermissionDenied):
        services.queue_create(actor=cm, name="Intake")
    queue = services.queue_create(actor=supervisor, name="Intake")
    with pytest.raises(ValidationFailed) as err:
        services.queue_create(actor=supervisor, name="intake")
    assert "name" in err.value.field_errors
    services.queue_member_add(actor=supervisor, queue_id=queue.pk, user_id=cm.user_id)
    assert list(queue.members.all()) == [cm.user]


def test_queue_member_add_refuses_other_organizations(supervisor, outsider, make_actor, insurer):
    queue = services.queue_create(actor=supervisor, name="Intake")
    with pytest.raises(ValidationFailed):
        services.queue_member_add(actor=supervisor, queue_id=queue.pk, user_id=outsider.user_id)
    with pytest.raises(NotFound):
        services.queue_member_add(actor=make_actor(insurer, roles.SUPERVISOR), queue_id=queue.pk, user_id=1)
    assert queue.members.count() == 0


def test_a_queue_member_takes_a_queued_task_and_others_cannot(cm, supervisor, make_actor, hospital, case):
    queue = services.queue_create(actor=supervisor, name="Intake")
    services.queue_member_add(actor=supervisor, queue_id=queue.pk, user_id=cm.user_id)
    task = services.task_create(actor=cm, title="Screen referral", case_id=case.pk, queue_id=queue.pk)
    with pytest.raises(ValidationFailed):
        services.task_claim(actor=make_actor(hospital, roles.CASE_MANAGER), task_id=task.pk)
    services.task_claim(actor=cm, task_id=task.pk)
    task.refresh_from_db()
    assert (task.owner_id, task.queue_id) == (cm.user_id, None)


# --- worklist selectors ----------------------------------------------------------------------


def test_my_tasks_puts_overdue_first_then_by_due_time_and_undated_last(cm, make_actor, hospital, case):
    def make(title, hours, **kw):
        due = None if hours is None else NOW + dt.timedelta(hours=hours)
        return services.task_create(actor=cm, title=title, case_id=case.pk, due_at=due, **kw)

    make("no due", None)
    make("tomorrow", 24)
    make("overdue by a day", -24)
    make("in an hour", 1)
    make("overdue by an hour", -1)
    done = make("finished", -48)
    services.task_complete(actor=cm, task_id=done.pk)
    services.task_create(
        actor=cm, title="someone else's", case_id=case.pk, owner_id=make_actor(hospital).user_id, due_at=NOW
    )
    tasks = selectors.my_tasks(actor=cm)
    assert [t.title for t in tasks] == ["overdue by a day", "overdue by an hour", "in an hour", "tomorrow", "no due"]
    groups = selectors.group_by_due(tasks, NOW)
    assert [t.title for t in groups.overdue] == ["overdue by a day", "overdue by an hour"]
    assert [t.title for t in groups.today] == ["in an hour"]
    assert [t.title for t in groups.later] == ["tomorrow"]
    assert [t.title for t in groups.undated] == ["no due"]


def test_overdue_filter_is_open_and_past_due(cm, case):
    late = services.task_create(actor=cm, title="late", case_id=case.pk, due_at=NOW - dt.timedelta(minutes=1))
    services.task_create(actor=cm, title="on time", case_id=case.pk, due_at=NOW + dt.timedelta(minutes=1))
    closed = services.task_create(actor=cm, title="closed", case_id=case.pk, due_at=NOW - dt.timedelta(days=1))
    services.task_complete(actor=cm, task_id=closed.pk)
    assert list(selectors.overdue(Task.objects.all())) == [late]


def test_my_cases_shows_each_cases_soonest_open_task_as_next_action(cm, patient, case):
    services.task_create(actor=cm, title="later", case_id=case.pk, due_at=NOW + dt.timedelta(days=2))
    soon = services.task_create(actor=cm, title="sooner", case_id=case.pk, due_at=NOW + dt.timedelta(hours=1))
    done = services.task_create(actor=cm, title="done", case_id=case.pk, due_at=NOW - dt.timedelta(days=1))
    services.task_complete(actor=cm, task_id=done.pk)
    idle = case_open(actor=cm, patient_id=patient.pk, case_type="home_health", assigned_to_id=cm.user_id)
    rows = {c.pk: c for c in selectors.my_cases(actor=cm)}
    assert (rows[case.pk].next_task_id, rows[case.pk].next_task_title) == (soon.pk, "sooner")
    assert rows[idle.pk].next_task_id is None


def test_caseload_counts_open_cases_open_tasks_and_overdue_per_case_manager(cm, supervisor, patient, case):
    services.task_create(actor=cm, title="late", case_id=case.pk, due_at=NOW - dt.timedelta(hours=1))
    services.task_create(actor=cm, title="fine", case_id=case.pk, due_at=NOW + dt.timedelta(hours=1))
    rows = {r.user.pk: r for r in selectors.caseload(actor=supervisor)}
    assert (rows[cm.user_id].open_cases, rows[cm.user_id].open_tasks, rows[cm.user_id].overdue_tasks) == (1, 2, 1)
    assert rows[supervisor.user_id].open_cases == 0
    with pytest.raises(PermissionDenied):
        selectors.caseload(actor=cm)


def test_selectors_never_show_another_organizations_tasks(outsider, task):
    assert selectors.task_list(actor=outsider).count() == 0
    with pytest.raises(NotFound):
        selectors.task_get(actor=outsider, task_id=task.pk)


# --- escalation and timeline -----------------------------------------------------------------


def test_overdue_urgent_tasks_are_escalated_once(cm, case, patient):
    urgent = services.task_create(
        actor=cm, title="urgent", case_id=case.pk, priority="urgent", due_at=NOW - dt.timedelta(hours=1)
    )
    stat_future = services.task_create(
        actor=cm, title="stat later", case_id=case.pk, priority="stat", due_at=NOW + dt.timedelta(hours=1)
    )
    routine = services.task_create(actor=cm, title="routine", case_id=case.pk, due_at=NOW - dt.timedelta(hours=1))
    result = flag_overdue_tasks.enqueue()
    assert result.return_value == 1
    assert escalate_overdue() == []  # idempotent
    urgent.refresh_from_db()
    stat_future.refresh_from_db()
    routine.refresh_from_db()
    assert urgent.escalated_at == NOW
    assert stat_future.escalated_at is None and routine.escalated_at is None
    event = AuditEvent.objects.get(action="task.escalate")
    assert (event.patient_id, event.object_id, event.username) == (patient.pk, str(urgent.pk), "system")
    assert [t.pk for t in selectors.escalated_tasks(actor=cm_supervisor(cm))] == [urgent.pk]


def cm_supervisor(cm):
    from dataclasses import replace

    return replace(cm, roles=frozenset({roles.SUPERVISOR}))


def test_completing_or_rescheduling_clears_the_escalation(cm, case):
    task = services.task_create(
        actor=cm, title="urgent", case_id=case.pk, priority="asap", due_at=NOW - dt.timedelta(hours=1)
    )
    escalate_overdue()
    services.task_update(actor=cm, task_id=task.pk, version=None, due_at=NOW + dt.timedelta(hours=3))
    task.refresh_from_db()
    assert task.escalated_at is None


def test_timeline_shows_tasks_created_and_completed(cm, case, task):
    services.task_complete(actor=cm, task_id=task.pk)
    texts = [e.text for e in case_timeline(case) if e.kind == "task"]
    assert "Task created: Call the family" in texts
    assert "Task completed: Call the family" in texts
    assert not any("in-progress" in t.lower() or "in progress" in t.lower() for t in texts)
