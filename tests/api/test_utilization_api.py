"""The utilization review REST API: every endpoint refuses other organizations (404, nothing changes) and
bad input (4xx naming the field, nothing changes)."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from utilization_fixtures import *  # noqa: F403 - fixtures, scoped to this module

from casebridge.accounts import roles
from casebridge.utilization import services
from casebridge.utilization.models import (
    AvoidableDay,
    ConditionCode44,
    CriteriaSet,
    CriteriaSetVersion,
    Determination,
    DeterminationNotice,
    DeterminationReviewer,
    MoonNotice,
    UtilizationReview,
)

BASE = "/api/v1/utilization"


def send(client, method, url, body=None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, json.dumps(body if body is not None else {}), content_type="application/json")


def snapshot():
    """Everything the API can change, so a refused request can be shown to change nothing."""
    rows = []
    for model in (UtilizationReview, Determination, ConditionCode44):
        rows.append(sorted(model.objects.values_list("pk", "status", "version")))
    for model in (CriteriaSet, CriteriaSetVersion, DeterminationReviewer, DeterminationNotice, AvoidableDay):
        rows.append(sorted(model.objects.values_list("pk", flat=True)))
    rows.append(sorted(MoonNotice.objects.values_list("pk", "delivered_at")))
    rows.append(sorted(CriteriaSet.objects.values_list("pk", "current_version")))
    return rows


def error_fields(response):
    assert response["Content-Type"] == "application/problem+json", response.content
    return {e["field"] for e in response.json().get("errors", [])}


@pytest.fixture
def world(nurse, advisor, library, admit):
    stay = admit(
        "osteo", conditions=[("60168000", "Osteomyelitis (disorder)")], medications=["Cefazolin 2 G Injection"]
    )
    obs = admit("obs", encounter_class="OBSENC", admit_at=timezone.now() - dt.timedelta(hours=10))
    review = services.review_schedule_initial(actor=nurse, encounter_id=stay.pk)
    services.review_evaluate(actor=nurse, review_id=review.pk)
    det = services.determination_open(
        actor=advisor, review_id=review.pk, scope="admission", rationale="Could be treated as outpatient"
    )
    moon = services.moon_start(actor=nurse, encounter_id=obs.pk)
    cc44 = services.cc44_start(actor=nurse, encounter_id=stay.pk)
    services.avoidable_day_log(
        actor=nurse,
        encounter_id=stay.pk,
        day=timezone.localdate(stay.admit_at),
        reason_code="awaiting_authorization",
        responsible_party="payer",
    )
    return {
        "stay": stay.pk,
        "obs": obs.pk,
        "r": review.pk,
        "d": det.pk,
        "m": moon.pk,
        "c": cc44.pk,
        "s": library[0].pk,
        "day": timezone.localdate(stay.admit_at).isoformat(),
    }


@pytest.fixture
def outsiders(make_actor, insurer):
    return {
        "nurse": make_actor(insurer, roles.UR_NURSE, username="o-nurse"),
        "advisor": make_actor(insurer, roles.PHYSICIAN_ADVISOR, username="o-adv"),
        "director": make_actor(insurer, roles.MEDICAL_DIRECTOR, username="o-dir"),
    }


# --- happy path -------------------------------------------------------------------------------------------------


def test_a_review_through_the_api(nurse, advisor, library, admit, api_as):
    stay = admit("api", conditions=[("60168000", "Osteomyelitis (disorder)")], medications=["Vancomycin 1 G Injection"])
    api = api_as(nurse)
    r = send(api, "post", f"{BASE}/reviews", {"encounter_id": stay.pk})
    assert r.status_code == 201, r.content
    rid = r.json()["id"]
    r = send(
        api,
        "post",
        f"{BASE}/reviews/{rid}/evaluate",
        {"answers": {"osteomyelitis_inpatient": {"needs_hospital_level_care": {"value": "met", "note": "OR Friday"}}}},
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["recommended_level"] == "inpatient"
    osteo = next(s for s in body["results"] if s["key"] == "osteomyelitis_inpatient")
    iv = next(c for c in osteo["criteria"] if c["id"] == "iv_antibiotics")
    assert iv["status"] == "met" and iv["evidence"][0]["display"] == "Vancomycin 1 G Injection"
    r = send(api, "post", f"{BASE}/reviews/{rid}/complete", {"decision": "confirmed"})
    assert r.status_code == 200 and r.json()["status"] == "completed"
    r = send(api, "get", f"{BASE}/next-reviews-due?encounter_id={stay.pk}")
    assert r.status_code == 200 and r.json()[0]["next_review_due"] is not None


def test_the_physician_advisor_decides_through_the_api(nurse, advisor, world, api_as):
    api = api_as(advisor)
    d = world["d"]
    assert send(api, "post", f"{BASE}/determinations/{d}/attending-consult").status_code == 200
    r = send(api, "post", f"{BASE}/determinations/{d}/attending-response", {"view": "concurs"})
    assert r.json()["state"]["may_decide"] is False
    r = send(
        api,
        "post",
        f"{BASE}/determinations/{d}/concur",
        {"professionally_involved": False, "direct_financial_interest": False},
    )
    assert r.json()["state"]["may_decide"] is True
    r = send(api, "post", f"{BASE}/determinations/{d}/decide")
    assert r.status_code == 200 and r.json()["path"] == "single_physician"
    r = send(api_as(nurse), "post", f"{BASE}/determinations/{d}/notices", {"recipient": "patient", "method": "hand"})
    assert r.status_code == 201 and r.json()["state"]["notices"]["outstanding"] == ["hospital", "practitioner"]


# --- other organizations: 404 and nothing changes --------------------------------------------------------------

CROSS_ORG = [
    ("nurse", "get", "/reviews/{r}", None),
    ("nurse", "post", "/reviews", {"encounter_id": "{stay}"}),
    ("nurse", "post", "/reviews/{r}/evaluate", {}),
    ("nurse", "post", "/reviews/{r}/complete", {"decision": "overridden", "level": "home", "reason": "going home now"}),
    ("nurse", "post", "/reviews/{r}/escalate", {"reason": "needs a physician"}),
    ("nurse", "post", "/reviews/{r}/schedule-next", None),
    ("director", "get", "/criteria-sets/{s}", None),
    ("director", "post", "/criteria-sets/{s}/versions", {"text": "title: x", "change_note": "x"}),
    ("advisor", "post", "/reviews/{r}/determinations", {"scope": "admission", "rationale": "not needed at all"}),
    ("advisor", "get", "/determinations/{d}", None),
    ("advisor", "post", "/determinations/{d}/attending-consult", {}),
    ("advisor", "post", "/determinations/{d}/attending-response", {"view": "concurs"}),
    (
        "advisor",
        "post",
        "/determinations/{d}/concur",
        {"professionally_involved": False, "direct_financial_interest": False},
    ),
    ("advisor", "post", "/determinations/{d}/decide", {}),
    ("nurse", "post", "/determinations/{d}/notices", {"recipient": "patient"}),
    ("nurse", "post", "/moon-notices", {"encounter_id": "{obs}"}),
    ("nurse", "get", "/moon-notices/{m}", None),
    ("nurse", "post", "/moon-notices/{m}/delivery", {"oral_explanation": True, "signed_by": "Sam"}),
    ("nurse", "post", "/condition-code-44", {"encounter_id": "{stay}"}),
    ("nurse", "get", "/condition-code-44/{c}", None),
    ("nurse", "patch", "/condition-code-44/{c}", {"attending_concurs": True}),
    ("nurse", "post", "/condition-code-44/{c}/complete", {}),
    (
        "nurse",
        "post",
        "/avoidable-days",
        {"encounter_id": "{stay}", "day": "{day}", "reason_code": "physician_delay", "responsible_party": "physician"},
    ),
]


def _fill(value, world):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in world:
        found = world[value[1:-1]]
        return found
    if isinstance(value, str):
        return value.format(**world)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("who", "method", "url", "body"), CROSS_ORG, ids=[f"{m} {u}" for _, m, u, _ in CROSS_ORG])
def test_other_organizations_get_404_and_nothing_changes(world, outsiders, api_as, who, method, url, body):
    before = snapshot()
    r = send(api_as(outsiders[who]), method, BASE + url.format(**world), _fill(body, world))
    assert r.status_code == 404, r.content
    assert snapshot() == before


def test_other_organizations_see_empty_lists(world, outsiders, api_as):
    nurse = api_as(outsiders["nurse"])
    assert send(nurse, "get", f"{BASE}/reviews").json() == []
    assert send(nurse, "get", f"{BASE}/avoidable-days").json() == []
    assert send(nurse, "get", f"{BASE}/avoidable-days/report").json()["total"] == 0
    assert send(nurse, "get", f"{BASE}/criteria-sets").json() == []
    due = send(nurse, "get", f"{BASE}/next-reviews-due?encounter_id={world['stay']}").json()
    assert due == [{"encounter_id": world["stay"], "next_review_due": None}]


# --- bad input: 4xx naming the field, nothing changes --------------------------------------------------------

BAD_INPUT = [
    ("nurse", "post", "/reviews", {"encounter_id": 0}, "encounter_id"),
    (
        "nurse",
        "post",
        "/reviews/{r}/evaluate",
        {"answers": {"two_midnight": {"complex_factors": {"value": "maybe"}}}},
        "value",
    ),
    ("nurse", "post", "/reviews/{r}/evaluate", {"set_keys": ["no_such_set"]}, "set_keys"),
    ("nurse", "post", "/reviews/{r}/complete", {"decision": "approve"}, "decision"),
    ("nurse", "post", "/reviews/{r}/complete", {"decision": "overridden", "level": "observation"}, "reason"),
    ("nurse", "post", "/reviews/{r}/escalate", {"reason": ""}, "reason"),
    ("director", "post", "/criteria-sets", {"key": "Bad Key!", "text": "title: x"}, "key"),
    ("director", "post", "/criteria-sets/{s}/versions", {"text": "title: [", "change_note": "typo"}, "text"),
    ("director", "post", "/criteria-sets/{s}/versions", {"text": "title: x", "fmt": "xml", "change_note": "x"}, "fmt"),
    # Nested past what the YAML and JSON parsers can read: a RecursionError, a 500, before the limit.
    (
        "director",
        "post",
        "/criteria-sets/{s}/versions",
        {"text": "a: " + "[" * 900 + "]" * 900, "change_note": "x"},
        "text",
    ),
    (
        "director",
        "post",
        "/criteria-sets/{s}/versions",
        {"text": "[" * 5000 + "]" * 5000, "fmt": "json", "change_note": "x"},  # no braces: _fill formats
        "text",
    ),
    ("advisor", "post", "/reviews/{r}/determinations", {"scope": "forever", "rationale": "not needed"}, "scope"),
    ("advisor", "post", "/determinations/{d}/attending-response", {"view": "maybe"}, "view"),
    ("advisor", "post", "/determinations/{d}/concur", {"note": "missing declarations"}, "professionally_involved"),
    ("nurse", "post", "/determinations/{d}/notices", {"recipient": "mayor"}, "recipient"),
    ("nurse", "post", "/moon-notices", {"encounter_id": "{stay}"}, "encounter_id"),
    (
        "nurse",
        "post",
        "/moon-notices/{m}/delivery",
        {"oral_explanation": False, "signed_by": "Sam"},
        "oral_explanation",
    ),
    ("nurse", "patch", "/condition-code-44/{c}", {"ur_committee_decided": "perhaps"}, "ur_committee_decided"),
    ("nurse", "post", "/condition-code-44/{c}/complete", {}, "change_before_discharge"),
    (
        "nurse",
        "post",
        "/avoidable-days",
        {
            "encounter_id": "{stay}",
            "day": "2001-01-01",
            "reason_code": "physician_delay",
            "responsible_party": "physician",
        },
        "day",
    ),
    (
        "nurse",
        "post",
        "/avoidable-days",
        {"encounter_id": "{stay}", "day": "{day}", "reason_code": "physician_delay", "responsible_party": "god"},
        "responsible_party",
    ),
    ("nurse", "get", "/next-reviews-due", None, "encounter_id"),
]


@pytest.fixture
def insiders(nurse, advisor, director):
    return {"nurse": nurse, "advisor": advisor, "director": director}


@pytest.mark.parametrize(
    ("who", "method", "url", "body", "field"), BAD_INPUT, ids=[f"{m} {u} {f}" for _, m, u, _, f in BAD_INPUT]
)
def test_bad_input_gets_4xx_naming_the_field_and_changes_nothing(
    world, insiders, api_as, who, method, url, body, field
):
    before = snapshot()
    r = send(api_as(insiders[who]), method, BASE + url.format(**world), _fill(body, world))
    assert 400 <= r.status_code < 500, r.content
    fields = error_fields(r)
    assert any(field in f for f in fields), (fields, r.json())
    assert snapshot() == before


def test_roles_are_enforced(world, nurse, api_as):
    r = send(api_as(nurse), "post", f"{BASE}/determinations/{world['d']}/decide")
    assert r.status_code == 403
    r = send(api_as(nurse), "post", f"{BASE}/criteria-sets", {"key": "mine", "text": "title: x"})
    assert r.status_code == 403


def test_another_hospital_installing_the_starter_library_changes_nothing_of_ours(library, make_actor, make_org, api_as):
    from casebridge.accounts import roles
    from casebridge.utilization.models import CriteriaSet

    ours = set(CriteriaSet.objects.values_list("pk", "organization_id"))
    other = make_actor(make_org("Lakeview Hospital", "hospital"), roles.MEDICAL_DIRECTOR)
    response = send(api_as(other), "post", f"{BASE}/criteria-sets/install-starter")
    assert response.status_code == 200, response.content
    assert {s["id"] for s in response.json()}.isdisjoint(pk for pk, _ in ours)
    assert set(CriteriaSet.objects.filter(pk__in=[pk for pk, _ in ours]).values_list("pk", "organization_id")) == ours
    # A missing or foreign set answers 404 to them, as always.
    assert api_as(other).get(f"{BASE}/criteria-sets/{next(iter(ours))[0]}").status_code == 404


def test_avoidable_day_reasons_are_each_organizations_own(nurse, make_actor, make_org, api_as):
    from casebridge.accounts import roles
    from casebridge.utilization.models import AvoidableDayReason

    ours = {r["code"] for r in api_as(nurse).get(f"{BASE}/avoidable-day-reasons").json()}
    other = make_actor(make_org("Lakeview Hospital", "hospital"), roles.UR_NURSE)
    theirs = api_as(other).get(f"{BASE}/avoidable-day-reasons").json()
    # Each organization gets its own copy of the default list; editing one never touches the other's.
    assert ours and {r["code"] for r in theirs} == ours
    assert AvoidableDayReason.objects.filter(organization=other.organization).count() == len(theirs)
    assert AvoidableDayReason.objects.filter(organization=nurse.organization).count() == len(ours)


def test_a_reason_is_added_to_the_organizations_own_list_only(nurse, make_actor, make_org, api_as):
    from casebridge.accounts import roles
    from casebridge.utilization.models import AvoidableDayReason

    director = api_as(make_actor(nurse.organization, roles.MEDICAL_DIRECTOR))
    other = make_actor(make_org("Lakeview Hospital", "hospital"), roles.MEDICAL_DIRECTOR)
    before_other = api_as(other).get(f"{BASE}/avoidable-day-reasons").json()
    added = send(director, "post", f"{BASE}/avoidable-day-reasons", {"label": "Awaiting guardianship"})
    assert added.status_code == 201, added.content
    assert added.json() == {"code": "awaiting_guardianship", "label": "Awaiting guardianship"}
    assert "awaiting_guardianship" in {r["code"] for r in director.get(f"{BASE}/avoidable-day-reasons").json()}
    assert api_as(other).get(f"{BASE}/avoidable-day-reasons").json() == before_other
    again = send(director, "post", f"{BASE}/avoidable-day-reasons", {"label": "Awaiting guardianship"})
    assert again.status_code == 422 and "code" in {e["field"] for e in again.json()["errors"]}
    bad = send(director, "post", f"{BASE}/avoidable-day-reasons", {"label": "", "code": "Bad Code"})
    assert bad.status_code == 422 and {"label", "code"} <= {e["field"] for e in bad.json()["errors"]}
    assert send(api_as(nurse), "post", f"{BASE}/avoidable-day-reasons", {"label": "X"}).status_code == 403
    assert AvoidableDayReason.objects.filter(organization=nurse.organization, label="X").count() == 0


def test_review_and_avoidable_day_lists_record_a_read_of_each_patient_listed(nurse, review, api_as):
    from casebridge.audit.models import AuditEvent

    services.avoidable_day_log(
        actor=nurse,
        encounter_id=review.encounter_id,
        day=timezone.localdate(review.encounter.admit_at),
        reason_code="physician_delay",
        responsible_party="physician",
    )
    api = api_as(nurse)
    assert [r["id"] for r in send(api, "get", f"{BASE}/reviews").json()] == [review.pk]
    assert len(send(api, "get", f"{BASE}/avoidable-days").json()) == 1
    events = AuditEvent.objects.filter(action__in=["review.list", "avoidable_days.list"])
    assert sorted((e.action, e.patient_id) for e in events) == [
        ("avoidable_days.list", review.patient_id),
        ("review.list", review.patient_id),
    ]
