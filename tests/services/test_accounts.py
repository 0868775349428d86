from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from casebridge.accounts import roles
from casebridge.accounts.models import ApiToken, LoginFailure, Membership, User
from casebridge.accounts.permissions import PERMISSION_NAMES, can
from casebridge.accounts.selectors import actor_for
from casebridge.accounts.services import (
    credential_add,
    login_failure_record,
    login_failures_clear,
    login_is_throttled,
    membership_grant,
    membership_revoke,
    organization_create,
    organization_update,
    token_issue,
    token_revoke,
    user_create,
)
from casebridge.audit.models import AuditEvent
from casebridge.kernel import clock
from casebridge.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from tests.support.world import PASSWORD, make_user


@pytest.fixture
def admin(hospital):
    return make_user(hospital, "hadmin", roles.ORG_ADMIN)


def new_user(admin, **overrides):
    data = {
        "organization": admin.organization,
        "username": "newbie",
        "password": "a-long-enough-passphrase-7",
        "role": roles.CASE_MANAGER,
        "discipline": "SW",
    }
    data.update(overrides)
    return user_create(actor=admin, **data)


def test_an_admin_creates_a_user_with_one_membership_and_one_audit_row(admin):
    user = new_user(admin)
    assert list(user.memberships.values_list("role", "discipline")) == [("case_manager", "SW")]
    assert user.check_password("a-long-enough-passphrase-7")
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).count() == 1


def test_a_system_user_without_a_password_cannot_sign_in_with_any(admin):
    user = new_user(admin, password=None)
    assert not user.has_usable_password()
    assert not user.check_password("")
    assert not user.check_password("a-long-enough-passphrase-7")


def test_the_integration_user_has_an_unusable_password_and_the_intake_role(hospital):
    from casebridge.interop.services import integration_actor

    actor = integration_actor(hospital)
    assert not actor.user.has_usable_password()
    assert actor.roles == {roles.INTAKE_COORDINATOR}
    assert integration_actor(hospital).user.pk == actor.user.pk  # created once


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "password123"}, "password"),
        ({"password": "12345678901234"}, "password"),
        ({"role": "wizard"}, "role"),
        ({"discipline": ""}, "discipline"),
        ({"discipline": "MD"}, "discipline"),
        ({"role": roles.AUDITOR, "discipline": "RN"}, "discipline"),
        ({"role": roles.HH_CLINICIAN, "discipline": "SW"}, "discipline"),
        ({"username": "bad name!"}, "username"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_user_create_refuses_bad_input_naming_the_field_and_saves_nothing(admin, overrides, field):
    users_before = User.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        new_user(admin, **overrides)
    assert field in exc.value.field_errors
    assert User.objects.count() == users_before


def test_a_duplicate_username_is_refused(admin):
    new_user(admin)
    with pytest.raises(ValidationFailed) as exc:
        new_user(admin)
    assert "username" in exc.value.field_errors


@pytest.mark.parametrize(
    ("role", "discipline"),
    [(roles.CASE_MANAGER, d) for d in roles.CASE_MANAGER_DISCIPLINES]
    + [(roles.HH_CLINICIAN, d) for d in roles.HH_CLINICIAN_DISCIPLINES]
    + [(roles.PRACTITIONER, d) for d in roles.PRACTITIONER_DISCIPLINES]
    + [(r, "") for r, _ in roles.ROLE_CHOICES if r not in roles.DISCIPLINES_BY_ROLE],
)
def test_each_role_takes_exactly_its_own_disciplines(role, discipline):
    assert roles.discipline_error(role, discipline) is None


def test_a_case_manager_cannot_create_users(cm):
    with pytest.raises(PermissionDenied):
        new_user(cm)


def test_an_admin_cannot_add_users_to_another_organization(admin, insurer):
    with pytest.raises(PermissionDenied):
        new_user(admin, organization=insurer)


def test_a_user_can_hold_roles_in_two_organizations_and_acts_in_one_at_a_time(cm, insurer):
    membership_grant(actor=None, user=cm.user, organization=insurer, role=roles.UR_NURSE)
    here = actor_for(cm.user, organization_id=cm.organization_id)
    there = actor_for(cm.user, organization_id=insurer.pk)
    assert here.roles == {roles.CASE_MANAGER}
    assert there.roles == {roles.UR_NURSE}
    assert there.organization == insurer


def test_a_revoked_membership_ends_the_role(admin, cm):
    membership = Membership.objects.get(user=cm.user)
    membership_revoke(actor=admin, membership_id=membership.pk)
    assert actor_for(cm.user, organization_id=cm.organization_id) is None


def test_an_admin_cannot_revoke_their_own_admin_role(admin):
    membership = Membership.objects.get(user=admin.user)
    with pytest.raises(ValidationFailed):
        membership_revoke(actor=admin, membership_id=membership.pk)


def test_an_admin_cannot_revoke_another_organizations_membership(admin, outsider):
    with pytest.raises(NotFound):
        membership_revoke(actor=admin, membership_id=Membership.objects.get(user=outsider.user).pk)


def test_a_license_credential_needs_its_state(admin, cm):
    with pytest.raises(ValidationFailed) as exc:
        credential_add(actor=admin, user=cm.user, kind="license", number="RN123", expires_on=dt.date(2030, 1, 1))
    assert "state" in exc.value.field_errors
    credential = credential_add(
        actor=admin, user=cm.user, kind="license", number="RN123", state="ma", expires_on=dt.date(2030, 1, 1)
    )
    assert credential.state == "MA"


def test_organizations_validate_npi_and_zip_codes(db):
    with pytest.raises(ValidationFailed) as exc:
        organization_create(actor=None, name="X", org_type="hospital", npi="1234567890")
    assert "npi" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        organization_create(actor=None, name="X", org_type="hospital", zip_codes_served=["2134"])
    assert "zip_codes_served" in exc.value.field_errors
    org = organization_create(
        actor=None, name="X", org_type="hospital", npi="1234567893", zip_codes_served=["02134", "02134", "02115"]
    )
    assert org.zip_codes_served == ["02115", "02134"]


def test_only_an_admin_updates_their_own_organization(admin, cm, hospital):
    with pytest.raises(PermissionDenied):
        organization_update(actor=cm, phone="1")
    org = organization_update(actor=admin, phone="617-555-0000")
    assert org.pk == hospital.pk and org.phone == "617-555-0000"


def test_permissions_follow_roles(cm, make_actor, hospital):
    auditor = make_actor(hospital, roles.AUDITOR)
    assert can(cm, "careplan.change") and not can(cm, "audit.view")
    assert can(auditor, "audit.view")
    assert not any(can(auditor, p) for p in PERMISSION_NAMES if p.startswith(("patient.", "case.", "careplan.")))
    with pytest.raises(KeyError):
        can(cm, "no.such.permission")


# --- tokens ---


def test_a_revoked_token_stays_revoked_and_revoking_again_writes_no_second_audit_row(cm):
    token, _ = token_issue(actor=cm, name="x")
    token_revoke(actor=cm, token_id=token.pk)
    first_revoked_at = ApiToken.objects.get(pk=token.pk).revoked_at
    token_revoke(actor=cm, token_id=token.pk)
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first_revoked_at
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_a_user_cannot_revoke_a_colleagues_token_but_an_admin_can(cm, admin, make_actor, hospital):
    colleague = make_actor(hospital)
    token, _ = token_issue(actor=colleague)
    with pytest.raises(NotFound):
        token_revoke(actor=cm, token_id=token.pk)
    token_revoke(actor=admin, token_id=token.pk)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_even_an_admin_cannot_revoke_another_organizations_token(admin, outsider):
    token, _ = token_issue(actor=outsider)
    with pytest.raises(NotFound):
        token_revoke(actor=admin, token_id=token.pk)


# --- sign-in throttling ---


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW_SECONDS=900)
def test_failures_throttle_a_username_within_the_window_only(db):
    start = clock.now()
    with clock.frozen_at(start):
        for _ in range(3):
            login_failure_record(username="Alice", client_ip="10.0.0.1")
        assert login_is_throttled(username="alice", client_ip="10.0.0.9")
        assert not login_is_throttled(username="bob", client_ip="10.0.0.9")
    with clock.frozen_at(start + dt.timedelta(seconds=901)):
        assert not login_is_throttled(username="alice", client_ip="10.0.0.9")


@override_settings(LOGIN_FAILURE_LIMIT=2)
def test_one_address_guessing_many_usernames_is_throttled(db):
    for i in range(8):
        login_failure_record(username=f"user{i}", client_ip="10.9.9.9")
    assert login_is_throttled(username="someone-new", client_ip="10.9.9.9")
    assert not login_is_throttled(username="someone-new", client_ip="10.1.1.1")


def test_a_successful_sign_in_clears_the_failures(db):
    login_failure_record(username="carol", client_ip=None)
    login_failures_clear(username="CAROL")
    assert not LoginFailure.objects.exists()


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_the_login_form_throttles_after_repeated_failures(client, cm):
    for _ in range(3):
        response = client.post("/login/", {"username": "hcm", "password": "wrong-password"})
        assert response.status_code == 200
    response = client.post("/login/", {"username": "hcm", "password": PASSWORD})
    assert response.status_code == 200
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session
