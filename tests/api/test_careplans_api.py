"""REST API for assessments and care plans: isolation between organizations, bad input, conflicts, audit."""

from __future__ import annotations

import json

import pytest
from careplans_fixtures import *  # noqa: F403 - fixtures, scoped to this module
from careplans_support import NO_NEEDS_HRSN, plan_version, snapshot

from casebridge.audit.models import AuditEvent
from casebridge.careplans.models import CarePlan, Goal


def send(client, method, url, body=None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def world(cm, case, goal, intervention, assessment):
    """One of each record, owned by the hospital."""
    return {
        "case": case.pk,
        "goal": goal.pk,
        "iv": intervention.pk,
        "a": assessment.pk,
        "v": plan_version(case),
    }


# (method, url template, body able to succeed for the owner)
ENDPOINTS = [
    ("get", "/api/v1/cases/{case}/assessments", None),
    ("post", "/api/v1/cases/{case}/assessments", {"kind": "functional"}),
    ("get", "/api/v1/assessments/{a}", None),
    ("patch", "/api/v1/assessments/{a}", {"answers": {"food_worry": "often"}, "version": 1}),
    ("post", "/api/v1/assessments/{a}/complete", {"answers": NO_NEEDS_HRSN}),
    ("get", "/api/v1/cases/{case}/care-plan", None),
    ("post", "/api/v1/cases/{case}/care-plan", {"title": "Second plan"}),
    ("patch", "/api/v1/cases/{case}/care-plan", {"version": "{v}", "status": "active"}),
    ("get", "/api/v1/cases/{case}/care-plan/versions", None),
    ("post", "/api/v1/cases/{case}/care-plan/needs", {"label": "Needs a ride to dialysis"}),
    ("post", "/api/v1/cases/{case}/care-plan/goals", {"description": "Eats two meals a day"}),
    ("patch", "/api/v1/goals/{goal}", {"version": "{v}", "target_value": "100 m"}),
    ("post", "/api/v1/goals/{goal}/transition", {"version": "{v}", "status": "on-hold", "reason": "readmitted"}),
    ("post", "/api/v1/goals/{goal}/interventions", {"description": "Meals on wheels", "payer": "community"}),
    ("patch", "/api/v1/interventions/{iv}", {"version": "{v}", "status": "scheduled"}),
]
IDS = [f"{m} {u.removeprefix('/api/v1')}" for m, u, _ in ENDPOINTS]


def fill(world, url, body):
    body = {k: (world["v"] if v == "{v}" else v) for k, v in (body or {}).items()}
    return url.format(**world), body


@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS, ids=IDS)
def test_another_organization_gets_404_and_changes_nothing(world, outsider, api_as, method, url, body):
    url, body = fill(world, url, body)
    before = snapshot()
    r = send(api_as(outsider), method, url, body)
    assert r.status_code == 404, r.content
    assert r["Content-Type"] == "application/problem+json"
    assert snapshot() == before


# (method, url template, bad body, field named in the error)
BAD_INPUT = [
    ("get", "/api/v1/cases/0/assessments", None, "case_id"),
    ("post", "/api/v1/cases/{case}/assessments", {"kind": "horoscope"}, "kind"),
    (
        "post",
        "/api/v1/cases/{case}/assessments",
        {"kind": "ahc_hrsn", "answers": {"food_worry": "maybe"}},
        "answers.food_worry",
    ),
    ("get", "/api/v1/assessments/0", None, "assessment_id"),
    ("patch", "/api/v1/assessments/{a}", {"answers": {"utilities": "sometimes"}, "version": 1}, "answers.utilities"),
    ("patch", "/api/v1/assessments/{a}", {"answers": {"shoe_size": "9"}, "version": 1}, "answers.shoe_size"),
    ("post", "/api/v1/assessments/{a}/complete", {"answers": {"food_worry": "never"}}, "answers.housing_problems"),
    ("get", "/api/v1/cases/99999999999999999999/care-plan", None, "case_id"),
    ("post", "/api/v1/cases/{case}/care-plan", {"status": "completed"}, "status"),
    ("patch", "/api/v1/cases/{case}/care-plan", {"version": "{v}", "intent": "wish"}, "intent"),
    ("get", "/api/v1/cases/-1/care-plan/versions", None, "case_id"),
    ("post", "/api/v1/cases/{case}/care-plan/needs", {"label": ""}, "label"),
    ("post", "/api/v1/cases/{case}/care-plan/goals", {"description": "x" * 301}, "description"),
    (
        "post",
        "/api/v1/cases/{case}/care-plan/goals",
        {"description": "Walk", "target_date": "next week"},
        "target_date",
    ),
    ("patch", "/api/v1/goals/{goal}", {"version": "{v}", "achievement_status": "great"}, "achievement_status"),
    ("patch", "/api/v1/goals/{goal}", {"target_value": "1"}, "version"),
    ("post", "/api/v1/goals/{goal}/transition", {"version": "{v}", "status": "on-hold"}, "reason"),
    ("post", "/api/v1/goals/{goal}/interventions", {"description": "PT", "estimated_cost": "-5"}, "estimated_cost"),
    (
        "post",
        "/api/v1/goals/{goal}/interventions",
        {"description": "PT", "start_date": "2030-02-01", "end_date": "2030-01-01"},
        "end_date",
    ),
    ("patch", "/api/v1/interventions/{iv}", {"version": "{v}", "status": "finished"}, "status"),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "field"), BAD_INPUT, ids=[f"{b[0]} {b[1]} {b[3]}" for b in BAD_INPUT]
)
def test_bad_input_gets_4xx_naming_the_field_and_changes_nothing(world, cm, api_as, method, url, body, field):
    url, body = fill(world, url, body)
    before = snapshot()
    r = send(api_as(cm), method, url, body)
    assert 400 <= r.status_code < 500, r.content
    problem = r.json()
    assert field in [e["field"] for e in problem.get("errors", [])], problem
    assert snapshot() == before


def test_every_endpoint_works_for_the_owner(world, cm, api_as):
    """The same requests the outsider was refused succeed for the hospital's case manager."""
    api = api_as(cm)
    for method, url, body in ENDPOINTS:
        if "care-plan" in url and method == "post" and url.endswith("care-plan"):
            continue  # the plan exists: creating a second one is a conflict, tested below
        world["v"] = send(api, "get", f"/api/v1/cases/{world['case']}/care-plan").json()["version"]
        full, filled = fill(world, url, body)
        r = send(api, method, full, filled)
        assert r.status_code in (200, 201), (method, url, r.content)


def test_a_second_care_plan_for_a_case_is_a_conflict(world, cm, api_as):
    r = send(api_as(cm), "post", f"/api/v1/cases/{world['case']}/care-plan", {"title": "Another"})
    assert r.status_code == 409


def test_stale_version_gets_409_and_the_first_save_is_kept(world, cm, make_actor, hospital, api_as):
    colleague = make_actor(hospital)
    v = world["v"]
    first = send(api_as(cm), "patch", f"/api/v1/goals/{world['goal']}", {"version": v, "target_value": "100 m"})
    assert first.status_code == 200, first.content
    assert first.json()["care_plan_version"] == v + 1
    second = send(api_as(colleague), "patch", f"/api/v1/goals/{world['goal']}", {"version": v, "target_value": "10 m"})
    assert second.status_code == 409
    assert "changed by someone else" in second.json()["detail"]
    assert Goal.objects.get(pk=world["goal"]).target_value == "100 m"
    assert CarePlan.objects.get(case_id=world["case"]).version == v + 1


def test_stale_version_on_an_intervention_gets_409(world, cm, api_as):
    api = api_as(cm)
    v = world["v"]
    assert (
        send(
            api, "post", f"/api/v1/goals/{world['goal']}/interventions", {"description": "Transport", "version": v}
        ).status_code
        == 201
    )
    r = send(api, "patch", f"/api/v1/interventions/{world['iv']}", {"version": v, "status": "cancelled"})
    assert r.status_code == 409
    assert (
        send(api, "get", f"/api/v1/cases/{world['case']}/care-plan").json()["goals"][0]["interventions"][0]["status"]
        == "not-started"
    )


def test_reading_a_care_plan_writes_an_audit_event_with_the_patient(world, cm, api_as, patient):
    before = AuditEvent.objects.filter(action="careplan.read").count()
    r = send(api_as(cm), "get", f"/api/v1/cases/{world['case']}/care-plan")
    assert r.status_code == 200
    events = AuditEvent.objects.filter(action="careplan.read").order_by("-pk")
    assert events.count() == before + 1
    assert events[0].patient_id == patient.pk
    assert events[0].username == cm.user.username


def test_care_plan_read_returns_needs_goals_and_interventions(world, cm, api_as):
    body = send(api_as(cm), "get", f"/api/v1/cases/{world['case']}/care-plan").json()
    goal = body["goals"][0]
    assert goal["description"] == "Walks to the mailbox without help"
    assert goal["lifecycle_status"] == "active"
    assert goal["interventions"][0]["estimated_cost"] in ("1200.00", 1200.0, "1200")
    assert goal["interventions"][0]["payer"] == "medicare"


def test_completing_an_hrsn_screen_adds_needs_to_the_plan(world, cm, api_as):
    api = api_as(cm)
    answers = dict(NO_NEEDS_HRSN, food_worry="sometimes", transportation="yes")
    r = send(api, "post", f"/api/v1/assessments/{world['a']}/complete", {"answers": answers})
    assert r.status_code == 200, r.content
    assert [n["code"] for n in r.json()["needs_added"]] == ["food_insecurity", "transportation_insecurity"]
    plan = send(api, "get", f"/api/v1/cases/{world['case']}/care-plan").json()
    assert {n["code"] for n in plan["needs"]} >= {"food_insecurity", "transportation_insecurity"}
    again = send(api, "post", f"/api/v1/assessments/{world['a']}/complete", {"answers": answers})
    assert again.status_code == 409


def test_goal_transition_follows_the_lifecycle(world, cm, api_as):
    api = api_as(cm)
    r = send(api, "post", f"/api/v1/goals/{world['goal']}/transition", {"version": world["v"], "status": "completed"})
    assert r.status_code == 200, r.content
    assert r.json()["achievement_status"] == "achieved"
    v = r.json()["care_plan_version"]
    r = send(api, "post", f"/api/v1/goals/{world['goal']}/transition", {"version": v, "status": "active"})
    assert r.status_code == 409
    assert Goal.objects.get(pk=world["goal"]).lifecycle_status == "completed"


def test_care_plan_versions_list_every_change(world, cm, api_as):
    versions = send(api_as(cm), "get", f"/api/v1/cases/{world['case']}/care-plan/versions").json()
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert versions[0]["change"].startswith("Intervention added")
    assert versions[-1]["change"] == "Care plan started"
