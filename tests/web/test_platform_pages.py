"""The platform's pages render for the roles that use them and refuse other organizations."""

import pytest
from django.test import Client

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.cases.services import case_open


@pytest.fixture
def case(cm, patient):
    return case_open(
        actor=cm, patient_id=patient.pk, case_type="hospital_stay", reason="Osteomyelitis", assigned_to_id=cm.user_id
    )


def test_case_manager_sees_patient_and_case_pages(cm, patient, case, web_as):
    web = web_as(cm)
    assert "Rivera" in web.get("/patients/?name=Riv").content.decode()
    page = web.get(f"/patients/{patient.pk}/")
    assert page.status_code == 200
    assert "MRN-1001" in page.content.decode()
    page = web.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert "Osteomyelitis" in page.content.decode()


def test_other_organization_gets_404_on_patient_and_case_pages(outsider, patient, case, web_as):
    web = web_as(outsider)
    assert web.get(f"/patients/{patient.pk}/").status_code == 404
    assert web.get(f"/cases/{case.pk}/").status_code == 404
    assert "Rivera" not in web.get("/patients/?name=Riv").content.decode()


def test_registering_a_patient_with_a_future_birth_date_shows_the_field_error(cm, web_as):
    web = web_as(cm)
    response = web.post(
        "/patients/new",
        {"family_name": "Doe", "given_name": "Jo", "birth_date": "2999-01-01", "sex": "female", "language": "English"},
    )
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()


def test_opening_a_case_from_the_patient_page_redirects_to_the_case(cm, patient, web_as):
    web = web_as(cm)
    response = web.post(
        "/cases/new",
        {"patient_id": patient.pk, "case_type": "hospital_stay", "reason": "CHF", "assigned_to_id": cm.user_id},
    )
    assert response.status_code == 302
    assert web.get(response["Location"]).status_code == 200


def test_illegal_case_move_is_refused_with_a_message(cm, case, web_as):
    web = web_as(cm)
    response = web.post(f"/cases/{case.pk}/transition", {"status": "monitoring", "version": case.version}, follow=True)
    assert "cannot move to Monitoring" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "referral"


def test_auditor_reads_and_exports_the_audit_log(make_actor, hospital, cm, patient, web_as):
    auditor = make_actor(hospital, roles.AUDITOR)
    web = web_as(auditor)
    page = web.get("/audit/?action=patient.")
    assert page.status_code == 200
    assert "patient.create" in page.content.decode()
    export = web.get("/audit/export.json")
    assert export["Content-Type"] == "application/fhir+json"
    assert export.json()["entry"][0]["resource"]["resourceType"] == "AuditEvent"
    assert AuditEvent.objects.filter(action="audit.export", username=auditor.user.username).count() == 1


def test_auditor_cannot_open_patient_pages(make_actor, hospital, patient, web_as):
    web = web_as(make_actor(hospital, roles.AUDITOR))
    assert web.get(f"/patients/{patient.pk}/").status_code == 403


def test_admin_creates_a_user_and_sees_field_errors(make_actor, hospital, web_as):
    web = web_as(make_actor(hospital, roles.ORG_ADMIN))
    bad = web.post(
        "/admin/users",
        {
            "username": "nurse1",
            "first_name": "A",
            "last_name": "B",
            "role": "case_manager",
            "discipline": "HHA",
            "password": "x",
        },
    )
    assert "must be one of" in bad.content.decode() or "too short" in bad.content.decode()
    ok = web.post(
        "/admin/users",
        {
            "username": "nurse1",
            "first_name": "A",
            "last_name": "B",
            "role": "case_manager",
            "discipline": "RN",
            "password": "long-enough-pass-42",
        },
    )
    assert ok.status_code == 302


def test_healthz_reports_database_reachability(client, db):
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True


def test_login_is_throttled_after_repeated_failures(cm, client, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/login/", {"username": cm.user.username, "password": "wrong"})
    response = client.post("/login/", {"username": cm.user.username, "password": "correct-horse-battery-9"})
    assert "Too many failed sign-ins" in response.content.decode()


def test_admin_grants_a_role_and_records_a_credential(make_actor, hospital, cm, web_as):
    web = web_as(make_actor(hospital, roles.ORG_ADMIN))
    url = f"/admin/users/{cm.user_id}"
    assert web.post(url, {"role-role": "supervisor", "role-discipline": ""}).status_code == 302
    assert cm.user.memberships.filter(role="supervisor", active=True).exists()
    bad = web.post(
        url, {"cred-kind": "license", "cred-number": "RN123", "cred-state": "", "cred-expires_on": "2030-01-01"}
    )
    assert "issuing state" in bad.content.decode()
    assert not cm.user.credentials.exists()
    ok = web.post(
        url, {"cred-kind": "license", "cred-number": "RN123", "cred-state": "ma", "cred-expires_on": "2030-01-01"}
    )
    assert ok.status_code == 302
    assert cm.user.credentials.get().state == "MA"


def test_admin_removes_a_role_but_not_their_own_admin_role(make_actor, hospital, cm, web_as):
    admin = make_actor(hospital, roles.ORG_ADMIN)
    web = web_as(admin)
    theirs = cm.user.memberships.get(active=True)
    own = admin.user.memberships.get(active=True)

    removed = web.post(f"/admin/users/{cm.user_id}", {"revoke": str(theirs.pk)}, follow=True)
    kept = web.post(f"/admin/users/{admin.user_id}", {"revoke": str(own.pk)}, follow=True)  # was a 500

    assert "Role removed." in removed.content.decode()
    assert not cm.user.memberships.filter(active=True).exists()
    assert "The role was kept: membership: you cannot remove your own admin role" in kept.content.decode()
    assert admin.user.memberships.filter(pk=own.pk, active=True).exists()


@pytest.mark.parametrize("value", ["²", "-1", "abc", "9" * 30, ""])
def test_a_role_or_organization_that_is_no_number_is_refused_not_a_server_error(make_actor, hospital, cm, value):
    client = Client(raise_request_exception=False)
    client.force_login(make_actor(hospital, roles.ORG_ADMIN).user)

    assert client.post(f"/admin/users/{cm.user_id}", {"revoke": value}).status_code == 404
    switched = client.post("/organization/switch", {"organization_id": value}, follow=True)
    assert "You have no role in that organization." in switched.content.decode()
    assert cm.user.memberships.filter(active=True).exists()


def test_admin_of_another_organization_cannot_open_a_user(make_actor, insurer, cm, web_as):
    web = web_as(make_actor(insurer, roles.ORG_ADMIN))
    assert web.get(f"/admin/users/{cm.user_id}").status_code == 404


def test_only_platform_administrators_register_organizations(make_actor, hospital, web_as):
    admin = make_actor(hospital, roles.ORG_ADMIN)
    web = web_as(admin)
    assert web.get("/admin/organizations").status_code == 403
    admin.user.is_superuser = True
    admin.user.save()
    response = web.post(
        "/admin/organizations",
        {"name": "Valley SNF", "org_type": "snf", "npi": "1234567890", "zip_codes_text": "02134"},
    )
    assert "check digit" in response.content.decode()
    response = web.post(
        "/admin/organizations",
        {"name": "Valley SNF", "org_type": "snf", "npi": "1234567893", "zip_codes_text": "02134, 02135"},
    )
    assert response.status_code == 302
