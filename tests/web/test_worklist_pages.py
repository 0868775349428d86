"""Worklist, case task section and caseload pages, driven through Django's test client."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.cases.models import Case
from casebridge.cases.services import case_open
from casebridge.kernel import clock
from casebridge.tasks import services
from casebridge.tasks.models import Task


@pytest.fixture
def supervisor(make_actor, hospital):
    return make_actor(hospital, roles.SUPERVISOR, username="hsup")


@pytest.fixture
def case(cm, patient):
    return case_open(actor=cm, patient_id=patient.pk, case_type="hospital_stay", assigned_to_id=cm.user_id)


def make_tasks(cm, case, n):
    now = timezone.now()
    for i in range(n):
        services.task_create(
            actor=cm, title=f"Task {i}", case_id=case.pk, due_at=now + dt.timedelta(hours=i - n // 2), priority="urgent"
        )


def test_worklist_lists_overdue_first_with_badges_and_logs_one_audit_event(cm, case, patient, web_as):
    # Pinned to local noon: "due today" must not depend on when the suite runs.
    now = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12, 0)))
    services.task_create(actor=cm, title="Due next week", case_id=case.pk, due_at=now + dt.timedelta(days=7))
    services.task_create(actor=cm, title="Missed call", case_id=case.pk, due_at=now - dt.timedelta(hours=3))
    services.task_create(actor=cm, title="Soon", case_id=case.pk, due_at=now + dt.timedelta(minutes=1))
    with clock.frozen_at(now):
        r = web_as(cm).get("/")
    assert r.status_code == 200
    html = r.content.decode()
    assert html.index("Missed call") < html.index("Soon") < html.index("Due next week")
    assert "Overdue" in html and "Due today" in html
    assert f'href="/cases/{case.pk}/"' in html
    assert "Rivera, Ana" in html
    assert 'action="/tasks/' in html and "Mark done" in html and "Start" in html
    assert "csrfmiddlewaretoken" in html
    events = AuditEvent.objects.filter(action="worklist.view")
    assert events.count() == 1
    assert events.get().patient_id is None
    assert AuditEvent.objects.filter(action="worklist.view", patient__isnull=False).count() == 0


def test_worklist_shows_my_cases_next_action(cm, case, web_as):
    services.task_create(actor=cm, title="Review discharge plan", case_id=case.pk)
    html = web_as(cm).get("/").content.decode()
    section = html[html.index('id="my-cases"') :]
    assert "Review discharge plan" in section


def test_worklist_shows_my_team_queues(cm, supervisor, case, web_as):
    queue = services.queue_create(actor=supervisor, name="Discharge team")
    services.queue_member_add(actor=supervisor, queue_id=queue.pk, user_id=cm.user_id)
    services.task_create(actor=cm, title="Unclaimed SNF referral", case_id=case.pk, queue_id=queue.pk)
    html = web_as(cm).get("/").content.decode()
    assert "Discharge team" in html and "Unclaimed SNF referral" in html and ">Take<" in html


def worklist_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/").status_code == 200
    return len(ctx.captured_queries)


def test_worklist_query_count_does_not_grow_with_rows(cm, supervisor, case, patient, web_as):
    queue = services.queue_create(actor=supervisor, name="Team")
    services.queue_member_add(actor=supervisor, queue_id=queue.pk, user_id=cm.user_id)
    client = web_as(cm)
    make_tasks(cm, case, 5)
    services.task_create(actor=cm, title="q0", case_id=case.pk, queue_id=queue.pk)
    small = worklist_queries(client)
    for i in range(10):
        other = case_open(actor=cm, patient_id=patient.pk, case_type="home_health", assigned_to_id=cm.user_id)
        make_tasks(cm, other, 5)
        services.task_create(actor=cm, title=f"q{i + 1}", case_id=other.pk, queue_id=queue.pk)
    assert Task.objects.filter(owner=cm.user).count() == 55
    big = worklist_queries(client)
    assert big == small, (small, big)


def test_worklist_limits_rows_and_says_so(cm, case, web_as, monkeypatch):
    from casebridge.tasks import selectors

    monkeypatch.setattr(selectors, "WORKLIST_LIMIT", 3)
    make_tasks(cm, case, 5)
    html = web_as(cm).get("/").content.decode()
    assert html.count('class="task-row') == 3
    assert "Showing the first 3 of 5" in html


def test_start_and_mark_done_buttons_post_and_return(cm, case, web_as):
    task = services.task_create(actor=cm, title="Call PCP", case_id=case.pk)
    client = web_as(cm)
    r = client.post(f"/tasks/{task.pk}/start", {"next": "/"})
    assert r.status_code == 302 and r["Location"] == "/"
    task.refresh_from_db()
    assert task.status == "in-progress"
    r = client.post(f"/tasks/{task.pk}/complete", {"next": "https://evil.example/"})
    assert r["Location"] == "/"
    task.refresh_from_db()
    assert task.status == "completed"


def test_task_buttons_need_post_and_csrf(cm, case):
    from django.test import Client

    task = services.task_create(actor=cm, title="Call PCP", case_id=case.pk)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cm.user)
    assert client.get(f"/tasks/{task.pk}/complete").status_code == 405
    assert client.post(f"/tasks/{task.pk}/complete").status_code == 403
    task.refresh_from_db()
    assert task.status == "ready"


def test_outsider_pressing_our_buttons_gets_404_and_nothing_changes(outsider, cm, case, web_as):
    task = services.task_create(actor=cm, title="Call PCP", case_id=case.pk)
    client = web_as(outsider)
    for action in ("start", "complete", "claim"):
        assert client.post(f"/tasks/{task.pk}/{action}").status_code == 404
    assert client.get(f"/cases/{case.pk}/tasks/new").status_code == 404
    assert (
        client.post(
            f"/cases/{case.pk}/tasks/new", {"title": "x", "priority": "routine", "owner": f"u{outsider.user_id}"}
        ).status_code
        == 404
    )
    task.refresh_from_db()
    assert task.status == "ready"
    assert Task.objects.count() == 1


def test_case_page_journey_add_a_task_complete_it_and_see_it_on_the_timeline(cm, case, web_as):
    client = web_as(cm)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    for label in ("Task", "Due", "Priority", "Owner"):
        assert re.search(rf"<label for=\"id_task_\w+\">{label}", html), label
    r = client.post(
        f"/cases/{case.pk}/tasks/new",
        {"title": "Arrange home oxygen", "due_at": "2030-05-01T10:00", "priority": "urgent", "owner": f"u{cm.user_id}"},
    )
    assert r.status_code == 302 and r["Location"] == f"/cases/{case.pk}/#tasks"
    task = Task.objects.get(title="Arrange home oxygen")
    assert (task.case_id, task.priority, task.owner_id) == (case.pk, "urgent", cm.user_id)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Arrange home oxygen" in html and "Mark done" in html
    client.post(f"/tasks/{task.pk}/complete", {"next": f"/cases/{case.pk}/#tasks"})
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Recently completed" in html
    assert "Task completed: Arrange home oxygen" in html[html.index('id="timeline"') :]


def test_add_task_form_shows_field_errors_and_saves_nothing(cm, case, web_as):
    r = web_as(cm).post(f"/cases/{case.pk}/tasks/new", {"title": "", "priority": "whenever", "owner": "x9"})
    assert r.status_code == 422
    html = r.content.decode()
    assert 'id="id_title_error"' in html and 'id="id_priority_error"' in html and 'id="id_owner_error"' in html
    assert Task.objects.count() == 0


def test_add_task_to_a_queue(cm, supervisor, case, web_as):
    queue = services.queue_create(actor=supervisor, name="Intake")
    r = web_as(cm).post(
        f"/cases/{case.pk}/tasks/new", {"title": "Screen", "priority": "routine", "owner": f"q{queue.pk}"}
    )
    assert r.status_code == 302
    assert Task.objects.get(title="Screen").queue_id == queue.pk


def test_auditors_land_on_the_audit_log_not_the_worklist(make_actor, hospital, web_as):
    auditor = make_actor(hospital, roles.AUDITOR)
    r = web_as(auditor).get("/")
    assert r.status_code == 302
    assert "audit" in r["Location"]


# --- caseload ----------------------------------------------------------------------------


def test_caseload_is_for_supervisors(cm, web_as):
    assert web_as(cm).get("/caseload/").status_code == 403


def test_caseload_shows_counts_chart_and_a_managers_cases(cm, supervisor, case, web_as):
    services.task_create(actor=cm, title="Late one", case_id=case.pk, due_at=timezone.now() - dt.timedelta(hours=1))
    client = web_as(supervisor)
    html = client.get("/caseload/").content.decode()
    assert 'class="bar-chart caseload-chart"' in html
    row = re.search(r"<td>Test Case_Manager</td><td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td>", html)
    assert row and row.groups() == ("1", "1")
    html = client.get(f"/caseload/?manager={cm.user_id}").content.decode()
    assert f"Case #{case.pk}" in html and "Late one" in html and "Reassign" in html
    assert client.get("/caseload/?manager=999999").status_code == 404
    # "²" passes str.isdigit() and fails int(): these were server errors.
    assert client.get("/caseload/?manager=²").status_code == 404
    assert client.get("/caseload/?manager=").status_code == 200


@pytest.mark.parametrize("user_id", ["²", "", "abc", "9" * 30])
def test_caseload_assignments_name_a_bad_person_instead_of_failing(cm, supervisor, case, web_as, user_id):
    queue = services.queue_create(actor=supervisor, name="Weekend")
    client = web_as(supervisor)

    assigned = client.post(f"/caseload/cases/{case.pk}/assign", {"user_id": user_id}, follow=True)
    added = client.post(f"/caseload/queues/{queue.pk}/members", {"user_id": user_id}, follow=True)

    assert assigned.status_code == 200 and "Choose a case manager to reassign the case to." in assigned.content.decode()
    assert added.status_code == 200 and "Choose a member to add." in added.content.decode()
    assert Case.objects.get(pk=case.pk).assigned_to_id == cm.user_id


def test_supervisor_reassigns_a_case_and_a_task_from_the_caseload(cm, supervisor, make_actor, hospital, case, web_as):
    other = make_actor(hospital, roles.CASE_MANAGER)
    task = services.task_create(actor=cm, title="Late one", case_id=case.pk)
    client = web_as(supervisor)
    r = client.post(f"/caseload/cases/{case.pk}/assign", {"user_id": other.user_id, "next": "/caseload/"})
    assert r.status_code == 302
    assert Case.objects.get(pk=case.pk).assigned_to_id == other.user_id
    client.post(f"/tasks/{task.pk}/reassign", {"owner": f"u{other.user_id}"})
    task.refresh_from_db()
    assert task.owner_id == other.user_id


def test_outside_supervisor_cannot_reassign_from_their_caseload(make_actor, insurer, cm, case, web_as):
    outside = make_actor(insurer, roles.SUPERVISOR)
    task = services.task_create(actor=cm, title="Ours", case_id=case.pk)
    client = web_as(outside)
    assert client.post(f"/caseload/cases/{case.pk}/assign", {"user_id": outside.user_id}).status_code == 404
    assert client.post(f"/tasks/{task.pk}/reassign", {"owner": f"u{outside.user_id}"}).status_code == 404
    task.refresh_from_db()
    assert task.owner_id == cm.user_id
    assert Case.objects.get(pk=case.pk).assigned_to_id == cm.user_id


def test_supervisor_creates_a_queue_and_adds_a_member_from_the_caseload(cm, supervisor, web_as):
    client = web_as(supervisor)
    client.post("/caseload/queues", {"name": "Weekend"})
    from casebridge.tasks.models import WorkQueue

    queue = WorkQueue.objects.get(name="Weekend")
    client.post(f"/caseload/queues/{queue.pk}/members", {"user_id": cm.user_id})
    assert list(queue.members.all()) == [cm.user]


def test_worklist_query_reads_through_the_owner_status_due_index(cm, case):
    from casebridge.tasks import selectors

    make_tasks(cm, case, 3)
    with CaptureQueriesContext(connection) as ctx:
        tasks = selectors.my_tasks(actor=cm)
        cases = selectors.my_cases(actor=cm)
    assert len(tasks) == 3 and len(cases) == 1
    assert "LIMIT 100" in ctx.captured_queries[0]["sql"]
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("EXPLAIN QUERY PLAN " + ctx.captured_queries[0]["sql"])
            plan = " ".join(str(row) for row in cur.fetchall())
            assert "tasks_task_owner_i_8c8a8c_idx" in plan, plan
            cur.execute("EXPLAIN QUERY PLAN " + ctx.captured_queries[1]["sql"])
            plan = " ".join(str(row) for row in cur.fetchall())
            assert "assigned_to" in plan, plan
