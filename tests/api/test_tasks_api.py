"""The tasks REST API: every endpoint refuses other organizations (404) and bad input (4xx naming the field)."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.cases.services import case_open
from casebridge.tasks import services
from casebridge.tasks.models import Task, WorkQueue


@pytest.fixture
def supervisor(make_actor, hospital):
    return make_actor(hospital, roles.SUPERVISOR, username="hsup")


@pytest.fixture
def outside_supervisor(make_actor, insurer):
    return make_actor(insurer, roles.SUPERVISOR, username="isup")


@pytest.fixture
def case(cm, patient):
    return case_open(actor=cm, patient_id=patient.pk, case_type="hospital_stay", assigned_to_id=cm.user_id)


@pytest.fixture
def task(cm, case):
    return services.task_create(actor=cm, title="Call the family", case_id=case.pk)


@pytest.fixture
def queue(supervisor):
    return services.queue_create(actor=supervisor, name="Intake")


def send(client, method, url, body=None):
    return getattr(client, method)(url, json.dumps(body) if body is not None else None, content_type="application/json")


def state(task):
    task.refresh_from_db()
    return (task.status, task.version, task.title, task.owner_id, task.queue_id, task.priority)


def error_fields(response):
    assert response["Content-Type"] == "application/problem+json"
    return {e["field"] for e in response.json().get("errors", [])}


# --- happy paths ----------------------------------------------------------------------


def test_create_read_update_start_and_complete_a_task(cm, case, api_as):
    api = api_as(cm)
    due = "2030-01-02T09:00:00Z"
    r = send(api, "post", "/api/v1/tasks", {"title": "Book transport", "case_id": case.pk, "due_at": due})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["owner_id"], body["patient_id"], body["version"]) == (
        "ready",
        cm.user_id,
        case.patient_id,
        1,
    )
    tid = body["id"]
    assert api.get(f"/api/v1/tasks/{tid}").json()["title"] == "Book transport"
    r = send(api, "patch", f"/api/v1/tasks/{tid}", {"version": 1, "priority": "urgent"})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = send(api, "post", f"/api/v1/tasks/{tid}/transition", {"status": "in-progress", "version": 2})
    assert r.json()["status"] == "in-progress"
    r = send(api, "post", f"/api/v1/tasks/{tid}/complete", {})
    assert r.status_code == 200 and r.json()["status"] == "completed"


def test_list_filters_and_paginates(cm, case, api_as):
    now = timezone.now()
    late = services.task_create(actor=cm, title="late", case_id=case.pk, due_at=now - dt.timedelta(hours=1))
    services.task_create(actor=cm, title="later", case_id=case.pk, due_at=now + dt.timedelta(days=1))
    done = services.task_create(actor=cm, title="done", case_id=case.pk)
    services.task_complete(actor=cm, task_id=done.pk)
    api = api_as(cm)
    r = api.get("/api/v1/tasks?owner=me&status=open")
    assert r.json()["count"] == 2
    assert [t["title"] for t in r.json()["items"]] == ["late", "later"]
    r = api.get("/api/v1/tasks?overdue=true")
    assert [t["id"] for t in r.json()["items"]] == [late.pk]
    assert r.json()["items"][0]["overdue"] is True
    assert api.get(f"/api/v1/tasks?case_id={case.pk}&status=completed").json()["count"] == 1
    page = api.get("/api/v1/tasks?limit=1&offset=1").json()
    assert page["count"] == 3 and len(page["items"]) == 1


def test_supervisor_reassigns_and_manages_queues(supervisor, cm, task, api_as):
    api = api_as(supervisor)
    r = send(api, "post", "/api/v1/queues", {"name": "Discharge"})
    assert r.status_code == 201
    qid = r.json()["id"]
    r = send(api, "post", f"/api/v1/queues/{qid}/members", {"user_id": cm.user_id})
    assert r.json()["member_ids"] == [cm.user_id]
    r = send(api, "post", f"/api/v1/tasks/{task.pk}/reassign", {"queue_id": qid})
    assert (r.json()["owner_id"], r.json()["queue_id"]) == (None, qid)
    assert api.get("/api/v1/queues").json() == [
        {"id": qid, "name": "Discharge", "member_ids": [cm.user_id], "open_count": 1}
    ]


def test_stale_version_gets_409_and_keeps_the_first_save(cm, task, api_as):
    api = api_as(cm)
    assert send(api, "patch", f"/api/v1/tasks/{task.pk}", {"version": 1, "title": "First"}).status_code == 200
    r = send(api, "patch", f"/api/v1/tasks/{task.pk}", {"version": 1, "title": "Second"})
    assert r.status_code == 409
    assert r.json()["title"] == "Edit conflict"
    r = send(api, "post", f"/api/v1/tasks/{task.pk}/transition", {"status": "in-progress", "version": 1})
    assert r.status_code == 409
    assert state(task)[:3] == ("ready", 2, "First")


def test_illegal_transition_gets_409(cm, task, api_as):
    r = send(api_as(cm), "post", f"/api/v1/tasks/{task.pk}/transition", {"status": "completed"})
    assert r.status_code == 409
    assert state(task)[0] == "ready"


# --- other organizations: 404 and nothing changes ------------------------------------------------


def test_outsider_list_shows_none_of_our_tasks(outsider, task, case, api_as):
    api = api_as(outsider)
    assert api.get("/api/v1/tasks").json()["count"] == 0
    assert api.get(f"/api/v1/tasks?case_id={case.pk}").json()["count"] == 0


def test_outsider_cannot_create_a_task_on_our_case(outsider, case, api_as):
    r = send(api_as(outsider), "post", "/api/v1/tasks", {"title": "Snoop", "case_id": case.pk})
    assert r.status_code == 404
    assert not Task.objects.filter(title="Snoop").exists()


def test_outsider_cannot_create_a_task_on_our_patient(outsider, patient, api_as):
    r = send(api_as(outsider), "post", "/api/v1/tasks", {"title": "Snoop", "patient_id": patient.pk})
    assert r.status_code == 404
    assert not Task.objects.filter(title="Snoop").exists()


def test_outsider_cannot_read_a_task(outsider, task, api_as):
    r = api_as(outsider).get(f"/api/v1/tasks/{task.pk}")
    assert r.status_code == 404
    assert not AuditEvent.objects.filter(action="task.read").exists()


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("patch", "", {"version": 1, "title": "Hijacked"}),
        ("post", "/transition", {"status": "in-progress"}),
        ("post", "/complete", {}),
    ],
)
def test_outsider_cannot_change_a_task(outsider, task, api_as, method, suffix, body):
    before = state(task)
    r = send(api_as(outsider), method, f"/api/v1/tasks/{task.pk}{suffix}", body)
    assert r.status_code == 404
    assert state(task) == before


def test_outside_supervisor_cannot_reassign_our_task(outside_supervisor, task, api_as):
    before = state(task)
    r = send(
        api_as(outside_supervisor),
        "post",
        f"/api/v1/tasks/{task.pk}/reassign",
        {"owner_id": outside_supervisor.user_id},
    )
    assert r.status_code == 404
    assert state(task) == before


def test_outsider_does_not_see_our_queues(outsider, queue, api_as):
    assert api_as(outsider).get("/api/v1/queues").json() == []


def test_outside_supervisor_creates_queues_only_in_their_own_organization(outside_supervisor, queue, insurer, api_as):
    r = send(api_as(outside_supervisor), "post", "/api/v1/queues", {"name": "Intake"})
    assert r.status_code == 201
    assert WorkQueue.objects.get(pk=r.json()["id"]).organization == insurer
    assert WorkQueue.objects.filter(name="Intake").count() == 2


def test_outside_supervisor_cannot_add_members_to_our_queue(outside_supervisor, queue, api_as):
    r = send(
        api_as(outside_supervisor),
        "post",
        f"/api/v1/queues/{queue.pk}/members",
        {"user_id": outside_supervisor.user_id},
    )
    assert r.status_code == 404
    assert queue.members.count() == 0


# --- bad input: 4xx naming the field, nothing changes ------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=finished", "status"), ("owner=you", "owner"), ("case_id=0", "case_id"), ("overdue=maybe", "overdue")],
)
def test_list_rejects_bad_filters(cm, api_as, query, field):
    r = api_as(cm).get(f"/api/v1/tasks?{query}")
    assert r.status_code == 422
    assert field in error_fields(r)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "priority": "whenever"}, "priority"),
        ({"title": "x", "due_at": "next tuesday"}, "due_at"),
        ({"title": "x", "status": "completed"}, "status"),
        ({"title": "x", "owner_id": 999999}, "owner_id"),
        ({"title": "x", "owner_id": 2**63}, "owner_id"),
    ],
)
def test_create_rejects_bad_input(cm, case, api_as, body, field):
    r = send(api_as(cm), "post", "/api/v1/tasks", {"case_id": case.pk, **body})
    assert r.status_code == 422, r.content
    assert field in error_fields(r)
    assert Task.objects.count() == 0


def test_create_rejects_a_body_that_is_not_json(cm, api_as):
    r = api_as(cm).post("/api/v1/tasks", "{not json", content_type="application/json")
    assert r.status_code == 400
    assert Task.objects.count() == 0


@pytest.mark.parametrize("task_id", ["0", "-1", str(2**63), "abc"])
def test_read_rejects_bad_ids(cm, api_as, task_id):
    r = api_as(cm).get(f"/api/v1/tasks/{task_id}")
    assert r.status_code == 422
    assert "task_id" in error_fields(r)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x"}, "version"),
        ({"version": 1, "title": ""}, "title"),
        ({"version": 1, "priority": "meh"}, "priority"),
    ],
)
def test_update_rejects_bad_input(cm, task, api_as, body, field):
    before = state(task)
    r = send(api_as(cm), "patch", f"/api/v1/tasks/{task.pk}", body)
    assert r.status_code == 422
    assert field in error_fields(r)
    assert state(task) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "done"}, "status"),
        ({"status": "cancelled"}, "reason"),
        ({"status": "in-progress", "version": 0}, "version"),
    ],
)
def test_transition_rejects_bad_input(cm, task, api_as, body, field):
    before = state(task)
    r = send(api_as(cm), "post", f"/api/v1/tasks/{task.pk}/transition", body)
    assert r.status_code == 422
    assert field in error_fields(r)
    assert state(task) == before


@pytest.mark.parametrize(("body", "field"), [({"version": "one"}, "version"), ({"note": "x" * 301}, "note")])
def test_complete_rejects_bad_input(cm, task, api_as, body, field):
    before = state(task)
    r = send(api_as(cm), "post", f"/api/v1/tasks/{task.pk}/complete", body)
    assert r.status_code == 422
    assert field in error_fields(r)
    assert state(task) == before


@pytest.mark.parametrize(
    ("body", "field"), [({}, "owner_id"), ({"owner_id": 1, "queue_id": 1}, "owner_id"), ({"queue_id": 0}, "queue_id")]
)
def test_reassign_rejects_bad_input(supervisor, task, api_as, body, field):
    before = state(task)
    r = send(api_as(supervisor), "post", f"/api/v1/tasks/{task.pk}/reassign", body)
    assert r.status_code == 422
    assert field in error_fields(r)
    assert state(task) == before


def test_reassign_by_a_case_manager_is_forbidden(cm, task, api_as):
    before = state(task)
    r = send(api_as(cm), "post", f"/api/v1/tasks/{task.pk}/reassign", {"owner_id": cm.user_id})
    assert r.status_code == 403
    assert state(task) == before


@pytest.mark.parametrize(("body", "field"), [({"name": ""}, "name"), ({"name": "x" * 101}, "name"), ({}, "name")])
def test_queue_create_rejects_bad_input(supervisor, api_as, body, field):
    r = send(api_as(supervisor), "post", "/api/v1/queues", body)
    assert r.status_code == 422
    assert field in error_fields(r)
    assert WorkQueue.objects.count() == 0


@pytest.mark.parametrize(("body", "field"), [({"user_id": "me"}, "user_id"), ({"user_id": 999999}, "user_id")])
def test_queue_member_add_rejects_bad_input(supervisor, queue, api_as, body, field):
    r = send(api_as(supervisor), "post", f"/api/v1/queues/{queue.pk}/members", body)
    assert r.status_code == 422
    assert field in error_fields(r)
    assert queue.members.count() == 0


def test_queue_list_needs_a_token(client):
    assert client.get("/api/v1/queues").status_code == 401


def test_task_and_case_lists_record_each_patient_on_the_page_as_read(cm, make_patient, api_as):
    ana, ben = make_patient(given_name="Ana", family_name="Alpha"), make_patient(given_name="Ben", family_name="Beta")
    for p in (ana, ben):
        case = case_open(actor=cm, patient_id=p.pk, case_type="hospital_stay", assigned_to_id=cm.user_id)
        services.task_create(actor=cm, title=f"Call {p.given_name}", case_id=case.pk)
    api = api_as(cm)
    AuditEvent.objects.filter(action__in=["task.list", "case.list"]).delete()

    first = api.get("/api/v1/tasks?owner=me&limit=1").json()
    assert first["count"] == 2 and len(first["items"]) == 1
    listed = {first["items"][0]["patient_id"]}
    assert set(AuditEvent.objects.filter(action="task.list").values_list("patient_id", flat=True)) == listed

    cases = api.get("/api/v1/cases").json()
    assert {c["patient_id"] for c in cases["items"]} == {ana.pk, ben.pk}
    events = AuditEvent.objects.filter(action="case.list")
    assert sorted(events.values_list("patient_id", flat=True)) == sorted([ana.pk, ben.pk])
    assert all(e.organization_id == cm.organization_id and e.detail["path"] == "/api/v1/cases" for e in events)
