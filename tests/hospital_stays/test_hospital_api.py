"""Hospital REST endpoints: another organization gets 404 and changes nothing; bad input gets a 4xx that
names the field and changes nothing."""

import datetime as dt
import json

import pytest

from casebridge.hospital import services
from casebridge.hospital.models import (
    Authorization,
    Denial,
    DischargeBarrier,
    DischargePlan,
    HospitalStay,
    PostAcuteNeed,
    ReviewPacket,
)


@pytest.fixture
def other(make_actor, make_org):
    """A case manager at another hospital."""
    return make_actor(make_org("Mercy Hospital"))


@pytest.fixture
def records(cm, stay):
    auth = services.authorization_add(actor=cm, stay_id=stay.pk, status="approved", approved_days=3)
    denial = services.denial_record(actor=cm, authorization_id=auth.pk, reason="Observation appropriate")
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    barrier = services.barrier_add(actor=cm, stay_id=stay.pk, description="Awaiting bed", owner_name="SW")
    return {"stay": stay, "auth": auth, "denial": denial, "packet": packet, "barrier": barrier}


def snapshot():
    return (
        list(HospitalStay.objects.values()),
        list(Authorization.objects.values()),
        list(Denial.objects.values()),
        list(ReviewPacket.objects.values("pk", "status", "sent_at")),
        list(DischargeBarrier.objects.values()),
        list(DischargePlan.objects.values()),
        PostAcuteNeed.objects.count(),
    )


def send(client, method, url, body=None):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


CROSS_ORG = [
    ("get", "/api/v1/hospital/stays/{stay}", None),
    ("patch", "/api/v1/hospital/stays/{stay}", {"working_drg": "291"}),
    ("post", "/api/v1/hospital/stays/{stay}/risk", None),
    ("get", "/api/v1/hospital/stays/{stay}/authorizations", None),
    ("post", "/api/v1/hospital/stays/{stay}/authorizations", {"payer_name": "X"}),
    ("patch", "/api/v1/hospital/authorizations/{auth}", {"status": "denied"}),
    ("post", "/api/v1/hospital/stays/{stay}/packets", {}),
    ("get", "/api/v1/hospital/packets/{packet}", None),
    ("post", "/api/v1/hospital/packets/{packet}/send", {"recipient_name": "X", "acknowledge_missing": True}),
    ("get", "/api/v1/hospital/denials/{denial}", None),
    ("post", "/api/v1/hospital/denials", {"authorization_id": "{auth}", "reason": "x"}),
    ("post", "/api/v1/hospital/denials/{denial}/appeal", {"appeal_deadline": "2026-04-01"}),
    ("post", "/api/v1/hospital/denials/{denial}/outcome", {"outcome": "accepted"}),
    ("post", "/api/v1/hospital/denials/{denial}/peer-to-peer", {"result": "Upheld after discussion"}),
    ("get", "/api/v1/hospital/packets/{packet}/bundle", None),
    ("post", "/api/v1/hospital/packets/{packet}/share/end", None),
    ("get", "/api/v1/hospital/stays/{stay}/discharge-plan", None),
    ("post", "/api/v1/hospital/stays/{stay}/discharge-plan/screen", {"requested_by": "patient"}),
    ("put", "/api/v1/hospital/stays/{stay}/discharge-plan/evaluation", {"likely_needs": "x"}),
    ("post", "/api/v1/hospital/stays/{stay}/barriers", {"description": "x", "owner_name": "y"}),
    ("post", "/api/v1/hospital/barriers/{barrier}/resolve", None),
    ("post", "/api/v1/hospital/stays/{stay}/needs", {"service_type": "dme"}),
]


@pytest.mark.parametrize(("method", "url", "body"), CROSS_ORG)
def test_another_hospital_gets_404_and_changes_nothing(records, other, api_as, method, url, body):
    ids = {k: v.pk for k, v in records.items()}
    if body is not None:
        body = {k: (int(v.format(**ids)) if isinstance(v, str) and v.startswith("{") else v) for k, v in body.items()}
    before = snapshot()
    response = send(api_as(other), method, url.format(**ids), body)
    assert response.status_code == 404, response.content
    assert snapshot() == before


def test_another_hospital_census_does_not_list_our_stays(records, other, api_as):
    assert api_as(other).get("/api/v1/hospital/census").json()["count"] == 0


def test_census_api_lists_the_stay(records, cm, api_as):
    body = api_as(cm).get("/api/v1/hospital/census").json()
    assert body["count"] == 1 and body["rows"][0]["stay_id"] == records["stay"].pk
    assert body["rows"][0]["authorization_status"] == "denied"


BAD_INPUT = [
    ("patch", "/api/v1/hospital/stays/{stay}", {"expected_discharge_on": "2026-03-01"}, "expected_discharge_on"),
    ("patch", "/api/v1/hospital/stays/{stay}", {"readiness": "soon"}, "readiness"),
    ("patch", "/api/v1/hospital/stays/{stay}", {"working_drg": "29x"}, "working_drg"),
    ("post", "/api/v1/hospital/stays/{stay}/authorizations", {"status": "maybe"}, "status"),
    ("post", "/api/v1/hospital/stays/{stay}/authorizations", {"payer_name": "A", "approved_days": -1}, "approved_days"),
    ("post", "/api/v1/hospital/stays/{stay}/authorizations", {"insurer_id": 999999}, "insurer_id"),
    ("patch", "/api/v1/hospital/authorizations/{auth}", {"approved_level_of_care": "spa"}, "approved_level_of_care"),
    ("post", "/api/v1/hospital/stays/{stay}/packets", {"authorization_id": 999999}, "authorization_id"),
    ("post", "/api/v1/hospital/packets/{packet}/send", {"acknowledge_missing": True}, "recipient_name"),
    ("post", "/api/v1/hospital/packets/{packet}/send", {"recipient_name": "X"}, "acknowledge_missing"),
    ("post", "/api/v1/hospital/packets/{packet}/send", {"recipient_name": "X", "channel": "pigeon"}, "channel"),
    ("post", "/api/v1/hospital/denials", {"authorization_id": "{auth}", "reason": ""}, "reason"),
    ("post", "/api/v1/hospital/denials/{denial}/appeal", {"appeal_deadline": "2026-01-01"}, "appeal_deadline"),
    ("post", "/api/v1/hospital/denials/{denial}/outcome", {"outcome": "overturned"}, "outcome"),
    ("put", "/api/v1/hospital/stays/{stay}/discharge-plan/evaluation", {"complete": True}, "patient_goals"),
    (
        "put",
        "/api/v1/hospital/stays/{stay}/discharge-plan/evaluation",
        {"self_care_capacity": "great"},
        "self_care_capacity",
    ),
    ("post", "/api/v1/hospital/stays/{stay}/barriers", {"description": "x"}, "owner_id"),
    ("post", "/api/v1/hospital/stays/{stay}/needs", {"service_type": "spa"}, "service_type"),
    (
        "post",
        "/api/v1/hospital/stays/{stay}/needs",
        {"service_type": "home_health", "disciplines": ["XX"]},
        "disciplines",
    ),
    (
        "post",
        "/api/v1/hospital/stays/{stay}/needs",
        {"service_type": "irf", "details": {"therapy_minutes_by_day": [180] * 6, "therapy_disciplines": ["PT", "OT"]}},
        "details",
    ),
    ("get", "/api/v1/hospital/reports/denial-rate?since=yesterday", None, "since"),
]


@pytest.mark.parametrize(("method", "url", "body", "field"), BAD_INPUT)
def test_bad_input_names_the_field_and_changes_nothing(records, cm, api_as, method, url, body, field):
    ids = {k: v.pk for k, v in records.items()}
    if body is not None:
        body = {k: (int(v.format(**ids)) if isinstance(v, str) and v.startswith("{") else v) for k, v in body.items()}
    before = snapshot()
    response = send(api_as(cm), method, url.format(**ids), body)
    assert 400 <= response.status_code < 500, response.content
    problem = response.json()
    assert any(e["field"].startswith(field) for e in problem.get("errors", [])), problem
    assert snapshot() == before


def test_evaluation_completes_with_every_482_43_element(records, cm, api_as):
    stay = records["stay"]
    body = {
        "likely_needs": "Home health SN for IV antibiotics",
        "needs_availability": "Two in-network agencies serve the ZIP",
        "self_care_capacity": "needs_help",
        "patient_goals": "Go home to her garden",
        "caregiver": "Daughter, evenings",
        "caregiver_involved": True,
        "discussed_with_patient_at": "2026-03-12T10:00:00-04:00",
        "complete": True,
    }
    response = api_as(cm).put(
        f"/api/v1/hospital/stays/{stay.pk}/discharge-plan/evaluation",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["evaluation_status"] == "completed"


def test_needs_carry_the_eligibility_checks(records, cm, api_as):
    stay = records["stay"]
    services.stay_update(actor=cm, stay_id=stay.pk, expected_discharge_on=dt.date(2026, 3, 13))
    client = api_as(cm)

    def need(body):
        r = client.post(
            f"/api/v1/hospital/stays/{stay.pk}/needs", data=json.dumps(body), content_type="application/json"
        )
        assert r.status_code == 201, r.content
        return r.json()["eligibility"]

    snf = need({"service_type": "snf"})
    assert snf["eligible"] is True and "3 inpatient day(s)" in snf["reasons"][0]  # 03/10 -> 03/13
    irf = need(
        {
            "service_type": "irf",
            "details": {"therapy_minutes_by_day": [180, 180, 180, 180, 0, 0, 0], "therapy_disciplines": ["PT", "OT"]},
        }
    )
    assert irf["eligible"] is False
    infusion = need(
        {
            "service_type": "home_infusion",
            "details": {"route": "intravenous", "minutes_per_administration": 60, "through_dme_pump": True},
        }
    )
    assert infusion["eligible"] is True
    assert need({"service_type": "home_health", "disciplines": ["SN", "PT"]})["eligible"] is None
