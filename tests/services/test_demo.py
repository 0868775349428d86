"""The demo a new user sees first: built by code, through the services, the same every time."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from casebridge.accounts.models import Membership, Organization, OrganizationType, User
from casebridge.accounts.roles import ROLE_LABELS
from casebridge.accounts.services import _check_npi
from casebridge.audit.models import AuditEvent
from casebridge.cases.domain import CaseStatus, check_move
from casebridge.cases.models import Case, CaseType
from casebridge.demo import directory
from casebridge.demo.builder import DemoRefused, build_demo, demo_digest, print_logins
from casebridge.demo.casepaths import canonical_path, varied_path
from casebridge.demo.numbers import make_mbi, make_npi
from casebridge.kernel import clock
from casebridge.patients.identifiers import mbi_is_valid
from casebridge.patients.models import Coverage, PatientIdentifier
from casebridge.tasks.domain import OPEN as OPEN_TASK
from casebridge.tasks.models import Task

SMALL = 30
OPEN_TASK_VALUES = [s.value for s in OPEN_TASK]


@pytest.fixture
def demo(db):
    return build_demo(patients=SMALL, progress=False)


def due_bucket(task: Task) -> str:
    day = timezone.localdate(task.due_at)
    today = clock.today()
    return "overdue" if day < today else "today" if day == today else "later"


# --- pure parts -------------------------------------------------------------------------------


def test_generated_npis_pass_the_platform_luhn_check():
    rng = random.Random(7)
    for _ in range(500):
        _check_npi(make_npi(rng))


def test_generated_mbis_have_the_cms_format():
    rng = random.Random(7)
    assert all(mbi_is_valid(make_mbi(rng)) for _ in range(500))


@pytest.mark.parametrize("target", list(CaseStatus))
def test_every_demo_route_to_a_status_is_legal_in_the_case_state_machine(target):
    rng = random.Random(3)
    for path in [canonical_path(target)] + [varied_path(target, rng) for _ in range(50)]:
        current, held_from = CaseStatus.REFERRAL, None
        for status, reason in path:
            held = check_move(current, status, reason=reason, held_from=held_from)
            held_from = held if status == CaseStatus.ON_HOLD else None
            current = status
        assert current == target


# --- the default demo ---------------------------------------------------------------------------


def test_the_demo_has_one_documented_user_for_every_role_with_the_printed_password(demo):
    roles = set(
        Membership.objects.filter(user__username__in=list(directory.USERS_BY_NAME)).values_list("role", flat=True)
    )
    assert roles == set(ROLE_LABELS)
    for username in directory.USERS_BY_NAME:
        assert User.objects.get(username=username).check_password(directory.DEMO_PASSWORD), username
    assert {login.username for login in demo.logins} == set(directory.USERS_BY_NAME)


def test_case_managers_have_a_license_and_a_ccm_certification(demo):
    cm = User.objects.get(username="cm.hospital")
    assert set(cm.credentials.values_list("kind", flat=True)) == {"license", "ccm"}
    license = cm.credentials.get(kind="license")
    assert license.state == "OH" and license.expires_on > clock.today()


def test_the_demo_organizations_cover_every_type_with_valid_npis_and_served_zips(demo):
    orgs = Organization.objects.all()
    assert {o.org_type for o in orgs} == set(OrganizationType.values)
    for org in orgs:
        _check_npi(org.npi)
        assert org.zip_codes_served
    assert Organization.objects.get(name="Summit Health Plan").payer_id == "SUMMT"


def test_cases_of_every_type_are_in_every_status(demo):
    seen = set(Case.objects.values_list("case_type", "status"))
    assert seen == {(t, s.value) for t in CaseType.values for s in CaseStatus}


def test_case_history_is_real_status_changes_along_legal_moves(demo):
    for case in Case.objects.prefetch_related("status_changes"):
        changes = list(case.status_changes.all())
        assert changes[0].from_status == ""
        current, held_from = CaseStatus(changes[0].to_status), None
        for change in changes[1:]:
            assert change.from_status == current
            held = check_move(current, CaseStatus(change.to_status), reason=change.reason, held_from=held_from)
            held_from = held if change.to_status == CaseStatus.ON_HOLD else None
            current = CaseStatus(change.to_status)
            assert change.at < timezone.now()
        assert current == case.status
    assert AuditEvent.objects.filter(action="case.transition").count() > Case.objects.count()


def test_the_hospital_case_manager_has_tasks_overdue_due_today_and_later(demo):
    tasks = Task.objects.filter(owner__username="cm.hospital", status__in=OPEN_TASK_VALUES)
    buckets = Counter(due_bucket(t) for t in tasks)
    assert buckets["overdue"] and buckets["today"] and buckets["later"], buckets


def test_team_queues_hold_open_tasks(demo):
    queued = Counter(
        Task.objects.filter(queue__isnull=False, status__in=OPEN_TASK_VALUES).values_list(
            "queue__organization__name", "queue__name"
        )
    )
    assert queued[("Riverside General Hospital", "UR nurses")] > 0
    assert queued[("Riverside General Hospital", "Intake")] > 0


def test_patients_have_coverage_and_older_ones_a_valid_medicare_identifier(demo):
    assert Coverage.objects.filter(insurer__name="Summit Health Plan").exists()
    mbis = PatientIdentifier.objects.filter(kind="mbi")
    assert mbis.exists()
    assert all(mbi_is_valid(i.value) for i in mbis)
    assert Coverage.objects.filter(order=2).exists()


def test_building_again_on_the_same_database_adds_nothing(demo):
    again = build_demo(patients=SMALL, progress=False)
    assert again.already_present
    assert again.counts == demo.counts


def test_print_logins_shows_the_url_every_username_and_the_password(demo):
    out = io.StringIO()
    print_logins(demo, out)
    text = out.getvalue()
    assert "http://127.0.0.1:8000/" in text
    assert directory.DEMO_PASSWORD in text
    for user in directory.USERS:
        assert user.username in text


def test_too_small_a_demo_is_refused(db):
    with pytest.raises(DemoRefused):
        build_demo(patients=3, progress=False)


def test_two_builds_on_the_same_day_hold_the_same_data(transactional_db):
    moment = timezone.make_aware(dt.datetime(2026, 3, 10, 10, 30))
    with clock.frozen_at(moment):
        build_demo(patients=SMALL, progress=False)
        first = demo_digest()
        call_command("flush", interactive=False, verbosity=0)
        assert not Case.objects.exists()
        build_demo(patients=SMALL, progress=False)
        assert demo_digest() == first


def test_enrichers_get_the_built_demo(db):
    seen = {}

    def enrich(ctx):
        seen["cases"] = len(ctx.cases)
        seen["actor"] = ctx.actor("cm.hospital").organization.name

    summary = build_demo(patients=SMALL, progress=False, enrichers=[enrich])
    assert seen == {"cases": Case.objects.count(), "actor": "Riverside General Hospital"}
    assert summary.enrichers == ["test_enrichers_get_the_built_demo.<locals>.enrich"]


# --- the large benchmark mode, at a tiny size -----------------------------------------------------


def test_bulk_patients_get_about_ten_tasks_each_spread_over_case_managers(db):
    build_demo(patients=SMALL + 400, story_patients=SMALL, progress=False)
    story_tasks = Task.objects.filter(status_changes__isnull=False).distinct().count()  # only services write these
    assert 8 * 400 <= Task.objects.count() - story_tasks <= 12 * 400
    assert Case.objects.count() >= SMALL + 400
    owners = Counter(
        Task.objects.filter(status__in=OPEN_TASK_VALUES, owner__isnull=False).values_list("owner__username", flat=True)
    )
    generated = [u for u in owners if u.startswith(("cm.rgh.", "cm.hhh.", "cm.shp."))]
    assert generated, owners
    assert owners["cm.hospital"] > 0
    assert User.objects.get(username=generated[0]).check_password(directory.DEMO_PASSWORD)


# --- what the other packages' enrichers add -------------------------------------------------------


def test_a_home_health_choice_list_on_the_demo_lists_the_platform_agency_and_external_ones(demo):
    from casebridge.accounts.selectors import actor_for
    from casebridge.postacute import services as postacute
    from casebridge.postacute.models import Provider

    platform = set(Provider.objects.filter(organization__isnull=False).values_list("name", flat=True))
    assert {"Harborview Home Health", "CareFlow Home Infusion"} <= platform
    assert {"irf", "snf"} <= set(
        Provider.objects.filter(organization__isnull=False).values_list("provider_type", flat=True)
    )
    assert Provider.objects.filter(organization__isnull=True).count() >= 4

    case = (
        Case.objects.filter(case_type="hospital_stay", organization__name=directory.HOSPITAL_NAME)
        .exclude(patient__postal_code="43055")  # Harborview does not serve Newark
        .order_by("pk")
        .first()
    )
    cm = actor_for(User.objects.get(username="cm.hospital"), client_ip="127.0.0.1")
    choice = postacute.choice_list_build(actor=cm, case_id=case.pk, provider_type="home_health")
    names = list(choice.entries.values_list("name", flat=True))
    assert "Harborview Home Health" in names and len(names) >= 3


def test_the_demo_hospital_has_the_starter_criteria_and_review_clocks_and_summit_has_benefit_plans(demo):
    from casebridge.coverage.models import BenefitPlan
    from casebridge.utilization.models import CriteriaSet, ReviewStatus, UtilizationReview

    assert CriteriaSet.objects.filter(organization__name=directory.HOSPITAL_NAME, key="two_midnight").exists()
    assert UtilizationReview.objects.filter(status=ReviewStatus.PENDING).exists()
    plans = set(BenefitPlan.objects.filter(organization__name="Summit Health Plan").values_list("name", flat=True))
    assert {"Summit Choice PPO", "Summit Marketplace Silver", "Summit Medicare Advantage HMO"} <= plans


def test_the_hospital_dashboard_has_data_in_every_chart_on_the_demo(demo):
    """Issue 4's done-when: the dashboard shows its charts on the demo data, referral response times included."""
    from casebridge.accounts.selectors import actor_for
    from casebridge.hospital.dashboard import dashboard
    from casebridge.postacute.models import Referral

    cm = actor_for(User.objects.get(username="cm.hospital"), client_ip="127.0.0.1")
    charts = dashboard(actor=cm)

    assert [c.key for c in charts] == ["census", "reviews", "los", "avoidable", "denials", "referrals", "risk"]
    empty = [c.title for c in charts if not any(b.value for b in c.bars)]
    assert not empty, empty
    answered = Referral.objects.filter(responded_at__isnull=False)
    assert answered.filter(receiving_organization__isnull=False).exists()  # in a platform agency's queue
    assert answered.filter(receiving_organization__isnull=True, response_recorded_manually=True).exists()
    assert all(r.responded_at < clock.now() for r in answered)
    assert not answered.filter(home_health_case__isnull=False).exists()  # nobody went on to the agreement
