"""Post-acute REST API: directory, choice lists, referrals; isolation between organizations; bad input."""

from __future__ import annotations

import datetime as dt
import json

from postacute_fixtures import *  # noqa: F403 - fixtures, scoped to this module

from casebridge.kernel import clock
from casebridge.postacute.models import ChoiceList, Provider, Referral


def send(client, method, url, body=None):
    return getattr(client, method)(url, json.dumps(body) if body is not None else None, content_type="application/json")


def error_fields(response):
    assert response["Content-Type"] == "application/problem+json"
    return {e["field"] for e in response.json().get("errors", [])}


def snapshot():
    return sorted(Referral.objects.values_list("pk", "status", "version"))


def build_and_present(api, case_id, rank):
    r = send(
        api,
        "post",
        f"/api/v1/cases/{case_id}/choice-lists",
        {"provider_type": "home_health", "service": "iv_antibiotics"},
    )
    assert r.status_code == 201, r.content
    cl = r.json()
    r = send(
        api,
        "post",
        f"/api/v1/choice-lists/{cl['id']}/present",
        {"presented_to": "patient", "ranked_provider_ids": rank},
    )
    assert r.status_code == 200, r.content
    return r.json()


# --- happy path --------------------------------------------------------------------------------------------


def test_the_whole_referral_flow_over_the_api(cm, hcase, directory, intake, intake2, api_as):
    hospital = api_as(cm)
    sunrise, harbor = directory["sunrise"].pk, directory["harbor"].pk
    cl = build_and_present(hospital, hcase.pk, [sunrise, harbor])
    assert {e["name"] for e in cl["entries"]} == {"Sunrise Home Health", "Harbor Visiting Nurses", "Lakeside Home Care"}
    assert cl["managed_care_note"].startswith("Verify network status with your plan")
    lakeside = next(e for e in cl["entries"] if e["name"] == "Lakeside Home Care")
    assert lakeside["financial_interest"] == "The hospital owns 40%"

    r = send(
        hospital,
        "post",
        f"/api/v1/cases/{hcase.pk}/referrals",
        {
            "provider_ids": [sunrise, harbor],
            "provider_type": "home_health",
            "service": "iv_antibiotics",
            "sections": ["demographics", "diagnoses"],
        },
    )
    assert r.status_code == 201, r.content
    to_sunrise, to_harbor = r.json()
    assert to_sunrise["case_id"] == hcase.pk and to_sunrise["direction"] == "outgoing"

    agency = api_as(intake)
    incoming = agency.get("/api/v1/referrals?direction=incoming").json()
    assert [x["id"] for x in incoming["items"]] == [to_sunrise["id"]]
    seen = agency.get(f"/api/v1/referrals/{to_sunrise['id']}").json()
    assert seen["packet"]["demographics"]["family_name"] == "Rivera"
    assert seen["case_id"] is None and seen["patient_id"] is None  # the hospital's record ids are not shared
    assert "coverage" not in seen["packet"]

    assert send(agency, "post", f"/api/v1/referrals/{to_sunrise['id']}/accept", {}).json()["status"] == "accepted"
    r = send(api_as(intake2), "post", f"/api/v1/referrals/{to_harbor['id']}/decline", {"reason_code": "no_capacity"})
    assert r.json()["status"] == "rejected"

    start = (clock.today() + dt.timedelta(days=1)).isoformat()
    r = send(hospital, "post", f"/api/v1/referrals/{to_sunrise['id']}/agreement", {"start_of_service_on": start})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "completed" and body["home_health_case_id"]
    assert hospital.get(f"/api/v1/cases/{hcase.pk}").json()["status"] == "transition"
    hh = agency.get(f"/api/v1/cases/{body['home_health_case_id']}").json()
    assert hh["case_type"] == "home_health" and hh["organization_id"] == intake.organization_id


def test_directory_over_the_api(director, intake, directory, api_as, insurer):
    api = api_as(director)
    r = send(
        api,
        "post",
        "/api/v1/directory/providers",
        {
            "name": "Cedar SNF",
            "provider_type": "snf",
            "postal_code": "02134",
            "star_rating": 4,
            "services": ["wound_care"],
        },
    )
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    assert (
        send(api, "post", f"/api/v1/directory/providers/{pid}/networks", {"insurer_id": insurer.pk}).status_code == 201
    )
    r = send(api, "put", f"/api/v1/directory/providers/{pid}/financial-interest", {"description": "Joint venture"})
    assert r.status_code == 200
    listed = api.get("/api/v1/directory/providers?provider_type=snf&zip_code=02134").json()["items"]
    assert [p["name"] for p in listed] == ["Cedar SNF"]
    assert (
        listed[0]["financial_interest"] == "Joint venture"
        and listed[0]["networks"][0]["payer_name"] == "Acme Health Plan"
    )
    # another organization reads the entry but not this hospital's financial interest
    assert api_as(intake).get(f"/api/v1/directory/providers/{pid}").json()["financial_interest"] is None
    r = send(
        api_as(intake), "post", f"/api/v1/directory/providers/{directory['sunrise'].pk}/status", {"accepting": False}
    )
    assert r.status_code == 200 and r.json()["accepting"] is False


# --- other organizations ------------------------------------------------------------------------------------


def test_an_unrelated_organization_gets_404_everywhere_and_nothing_changes(two_referrals, outsider, hcase, api_as):
    api = api_as(outsider)
    rid = two_referrals[0].pk
    before = snapshot()
    assert api.get(f"/api/v1/referrals/{rid}").status_code == 404
    assert send(api, "post", f"/api/v1/referrals/{rid}/accept", {}).status_code == 404
    assert send(api, "post", f"/api/v1/referrals/{rid}/decline", {"reason_code": "no_capacity"}).status_code == 404
    assert send(api, "post", f"/api/v1/referrals/{rid}/withdraw", {"reason": "x"}).status_code == 404
    r = send(api, "post", f"/api/v1/referrals/{rid}/agreement", {"start_of_service_on": "2099-01-01"})
    assert r.status_code == 404
    r = send(api, "post", f"/api/v1/referrals/{rid}/response", {"accepted": True, "contact_name": "Intruder"})
    assert r.status_code == 404
    assert api.get(f"/api/v1/choice-lists/{two_referrals[0].choice_list_id}").status_code == 404
    r = send(api, "post", f"/api/v1/cases/{hcase.pk}/choice-lists", {"provider_type": "home_health"})
    assert r.status_code == 404
    assert api.get("/api/v1/referrals?direction=incoming").json()["count"] == 0
    assert snapshot() == before


def test_the_receiving_org_sees_only_its_own_referrals_and_not_the_hospital_case(two_referrals, intake, hcase, api_as):
    api = api_as(intake)
    assert api.get(f"/api/v1/referrals/{two_referrals[1].pk}").status_code == 404
    assert api.get(f"/api/v1/cases/{hcase.pk}").status_code == 404
    assert api.get(f"/api/v1/patients/{hcase.patient_id}").status_code == 404
    assert api.get("/api/v1/referrals?direction=outgoing").json()["count"] == 0


def test_the_other_provider_cannot_answer_for_the_first(two_referrals, intake2, api_as):
    before = snapshot()
    r = send(api_as(intake2), "post", f"/api/v1/referrals/{two_referrals[0].pk}/accept", {})
    assert r.status_code == 404
    assert snapshot() == before


def test_a_provider_cannot_edit_another_providers_status(intake, directory, api_as):
    r = send(
        api_as(intake), "post", f"/api/v1/directory/providers/{directory['harbor'].pk}/status", {"accepting": False}
    )
    assert r.status_code == 404
    assert Provider.objects.get(pk=directory["harbor"].pk).accepting is True


# --- bad input ------------------------------------------------------------------------------------------------


def test_bad_referral_input_gets_422_naming_the_field_and_nothing_is_sent(cm, hcase, directory, presented_list, api_as):
    api = api_as(cm)
    url = f"/api/v1/cases/{hcase.pk}/referrals"
    r = send(api, "post", url, {"provider_ids": [], "provider_type": "home_health"})
    assert r.status_code == 422 and "provider_ids" in error_fields(r)
    r = send(api, "post", url, {"provider_ids": [directory["sunrise"].pk], "provider_type": "spa"})
    assert r.status_code == 422 and "provider_type" in error_fields(r)
    r = send(
        api,
        "post",
        url,
        {"provider_ids": [directory["sunrise"].pk], "provider_type": "home_health", "sections": ["x-rays"]},
    )
    assert r.status_code == 422 and "sections" in error_fields(r)
    r = send(api, "post", url, {"provider_ids": [999999], "provider_type": "home_health"})
    assert r.status_code == 422 and "provider_ids" in error_fields(r)
    for huge in (2**63, 10**30, 0):  # past the database's integers: refused by the schema, not a 500
        r = send(api, "post", url, {"provider_ids": [huge], "provider_type": "home_health"})
        assert r.status_code == 422 and any(f.startswith("provider_ids") for f in error_fields(r)), r.content
    r = send(
        api,
        "post",
        url,
        {"provider_ids": [directory["sunrise"].pk], "provider_type": "home_health", "sections": ["notes"]},
    )
    assert r.status_code == 422 and "note" in error_fields(r)
    assert not Referral.objects.exists()


def test_bad_answers_get_422_naming_the_field_and_change_nothing(two_referrals, intake, cm, api_as):
    before = snapshot()
    rid = two_referrals[0].pk
    r = send(api_as(intake), "post", f"/api/v1/referrals/{rid}/decline", {"reason_code": "busy"})
    assert r.status_code == 422 and "reason_code" in error_fields(r)
    r = send(api_as(intake), "post", f"/api/v1/referrals/{rid}/accept", {"proposed_start_on": "2001-01-01"})
    assert r.status_code == 422 and "proposed_start_on" in error_fields(r)
    r = send(api_as(cm), "post", f"/api/v1/referrals/{rid}/agreement", {"start_of_service_on": "soon"})
    assert r.status_code == 422 and "start_of_service_on" in error_fields(r)
    r = send(api_as(cm), "post", f"/api/v1/referrals/{rid}/agreement", {"start_of_service_on": "2099-01-01"})
    assert r.status_code == 409  # not accepted yet
    assert snapshot() == before


def test_bad_choice_list_input_gets_422_naming_the_field(cm, hcase, api_as):
    api = api_as(cm)
    url = f"/api/v1/cases/{hcase.pk}/choice-lists"
    for zips in (["2134"], ["٠٢١٣٤"]):  # the second passes str.isdigit()
        r = send(api, "post", url, {"provider_type": "home_health", "area_zips": zips})
        assert r.status_code == 422 and "area_zips" in error_fields(r)
    r = send(api, "post", url, {"provider_type": "home_health", "priorities": ["cheapest"]})
    assert r.status_code == 422 and "priorities" in error_fields(r)
    r = send(api, "post", url, {"provider_type": "irf", "eligibility": {"therapy_minutes_by_day": [1, 2]}})
    assert r.status_code == 422 and "eligibility.therapy_minutes_by_day" in error_fields(r)
    r = send(api, "post", url, {"provider_type": "irf", "eligibility": {"therapy_minutes_by_day": [2**70] * 7}})
    assert r.status_code == 422 and any(f.startswith("eligibility.therapy_minutes_by_day") for f in error_fields(r))
    assert not ChoiceList.objects.exists()


def test_bad_directory_input_gets_422_naming_the_field(director, api_as):
    api = api_as(director)
    r = send(api, "post", "/api/v1/directory/providers", {"name": "X", "provider_type": "snf", "star_rating": 9})
    assert r.status_code == 422 and "star_rating" in error_fields(r)
    r = send(
        api, "post", "/api/v1/directory/providers", {"name": "X", "provider_type": "snf", "zip_codes_served": ["abc"]}
    )
    assert r.status_code == 422 and "zip_codes_served" in error_fields(r)
    r = send(api, "post", "/api/v1/directory/providers", {"provider_type": "snf"})
    assert r.status_code == 422 and "name" in error_fields(r)
    assert not Provider.objects.exists()


def test_a_case_manager_may_not_edit_the_directory(cm, directory, api_as):
    r = send(api_as(cm), "patch", f"/api/v1/directory/providers/{directory['lakeside'].pk}", {"star_rating": 1})
    assert r.status_code == 403
    assert Provider.objects.get(pk=directory["lakeside"].pk).star_rating == 4


def test_another_organization_cannot_remove_a_network_the_hospital_recorded(director, directory, outsider, api_as):
    provider = directory["harbor"]
    added = send(
        api_as(director), "post", f"/api/v1/directory/providers/{provider.pk}/networks", {"payer_name": "Acme"}
    )
    assert added.status_code == 201, added.content
    before = snapshot()
    # A case manager may not edit the directory at all (403, as for any id); nothing changes either way.
    assert api_as(outsider).delete(f"/api/v1/directory/networks/{added.json()['id']}").status_code in (403, 404)
    assert snapshot() == before


def test_the_referral_list_records_each_patient_on_the_page_as_read(two_referrals, intake, api_as):
    from casebridge.audit.models import AuditEvent

    page = api_as(intake).get("/api/v1/referrals?direction=incoming").json()
    assert [r["id"] for r in page["items"]] == [two_referrals[0].pk]
    events = AuditEvent.objects.filter(action="referral.list")
    assert [(e.patient_id, e.organization_id) for e in events] == [
        (two_referrals[0].patient_id, intake.organization_id)
    ]
