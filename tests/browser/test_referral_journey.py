"""Browser journey: the hospital case manager opens a case, builds and presents a choice list, sends two referrals;
the home health agency's intake user accepts one; the case manager records the patient's agreement; the hospital
case moves to transition and the agency has its new, linked home health case.

(The full journey of issue 4, with the census and the utilization review, is test_hospital_journey.py.)
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from casebridge.accounts import roles
from casebridge.kernel import clock
from casebridge.patients.services import coverage_add, patient_create
from casebridge.postacute import services
from casebridge.postacute.models import Referral
from tests.browser.steps import choose_two_agencies_and_refer

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def world(transactional_db, make_org, make_actor):
    hospital = make_org("General Hospital", "hospital", zip_codes_served=["02134"])
    insurer = make_org("Acme Health Plan", "insurer", payer_id="ACME1")
    sunrise_org = make_org("Sunrise Home Health", "home_health", zip_codes_served=["02134"], postal_code="02135")
    harbor_org = make_org("Harbor Visiting Nurses", "home_health", zip_codes_served=["02134"], postal_code="02139")
    cm = make_actor(hospital, roles.CASE_MANAGER, username="nurse.kim")
    director = make_actor(hospital, roles.SUPERVISOR, username="sup.lee")
    intake = make_actor(sunrise_org, roles.INTAKE_COORDINATOR, username="intake.sunrise")
    patient = patient_create(
        actor=cm,
        mrn="MRN-7001",
        family_name="Okafor",
        given_name="James",
        birth_date=dt.date(1948, 6, 1),
        sex="male",
        postal_code="02134",
        city="Boston",
        state="MA",
    )
    coverage_add(
        actor=cm,
        patient_id=patient.pk,
        insurer_id=insurer.pk,
        plan_name="Acme Advantage HMO",
        member_id="ACM777",
        period_start=dt.date(2020, 1, 1),
    )
    sunrise = services.provider_create(
        actor=director,
        organization_id=sunrise_org.pk,
        provider_type="home_health",
        services=["skilled_nursing", "iv_antibiotics"],
        star_rating=4,
    )
    services.network_add(actor=director, provider_id=sunrise.pk, insurer_id=insurer.pk)
    harbor = services.provider_create(
        actor=director,
        organization_id=harbor_org.pk,
        provider_type="home_health",
        services=["skilled_nursing", "iv_antibiotics"],
        star_rating=5,
    )
    return {"cm": cm, "intake": intake, "patient": patient, "sunrise": sunrise, "harbor": harbor}


def sign_in(page, base, username):
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_referral_journey(world, live_server, browser):
    base = live_server.url
    page = browser.new_page()
    page.set_default_timeout(15000)

    # The hospital case manager opens a case for the patient.
    sign_in(page, base, "nurse.kim")
    page.goto(f"{base}/patients/{world['patient'].pk}/")
    page.get_by_role("link", name="Open a case").click()
    page.get_by_label("Type").select_option("hospital_stay")
    page.get_by_label("Reason for case management").fill("Osteomyelitis; IV antibiotics at home")
    page.get_by_role("button", name=re.compile("Open", re.I)).click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case_url = page.url
    case_id = int(re.search(r"/cases/(\d+)/", case_url).group(1))

    # ... builds a choice list of home health agencies offering IV antibiotics in the patient's ZIP,
    # presents it with the managed-care note, records the patient's ranked choices and refers to both.
    def managed_care_note_shown(list_page):
        assert list_page.get_by_test_id("managed-care-note").is_visible()

    choose_two_agencies_and_refer(
        page,
        case_id=case_id,
        first="Sunrise Home Health",
        second="Harbor Visiting Nurses",
        check_list=managed_care_note_shown,
    )
    assert Referral.objects.filter(case_id=case_id, status="requested").count() == 2

    # The agency's intake coordinator finds it in the intake queue and accepts it.
    sign_in(page, base, "intake.sunrise")
    page.get_by_role("link", name="Referrals").first.click()
    page.get_by_role("link", name="Okafor, James").click()
    assert page.get_by_test_id("packet-name").inner_text() == "Okafor, James"
    page.get_by_role("button", name="Accept referral").click()
    assert page.get_by_text("Referral accepted").is_visible()
    referral = Referral.objects.get(case_id=case_id, provider=world["sunrise"])
    assert referral.status == "accepted"

    # The hospital case manager records the patient's agreement and the start of service.
    sign_in(page, base, "nurse.kim")
    page.goto(case_url)
    page.locator("table.referrals").get_by_role("link", name="Sunrise Home Health").click()
    start = clock.today() + dt.timedelta(days=1)
    page.get_by_label("Start of service").fill(start.isoformat())
    page.get_by_role("button", name="Record patient's agreement").click()
    page.wait_for_url(re.compile(rf"/cases/{case_id}/"))
    assert page.get_by_test_id("case-status").inner_text() == "Transition"
    hh_link = page.get_by_test_id("hh-link")
    assert "Home health case #" in hh_link.inner_text()

    # The agency has its own home health case, linked back to the hospital's.
    referral.refresh_from_db()
    hh_case = referral.home_health_case
    assert hh_case is not None and hh_case.organization_id == world["intake"].organization_id
    sign_in(page, base, "intake.sunrise")
    page.goto(f"{base}/referrals/{referral.pk}/")
    page.get_by_test_id("hh-case").get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/cases/{hh_case.pk}/"))
    assert "Home health episode" in page.content()
    assert f"hospital case #{case_id}" in page.get_by_test_id("hh-source").inner_text()
    # ... while the hospital's own case stays out of its reach.
    response = page.goto(case_url)
    assert response is not None and response.status == 404
    page.close()
