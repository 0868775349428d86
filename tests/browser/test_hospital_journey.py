"""Browser journey of issue 4: the hospital case manager opens the census, opens a stay and completes its
initial utilization review (criteria results shown, level of care confirmed), builds a home health choice
list and sends two referrals; the home health agency's intake user accepts one; the case manager records
the patient's agreement; the hospital case moves to Transition and the agency has its new home health case.

The admission arrives as an interface would deliver it (``encounter_upsert`` then the admission rule's
``case_open_for_admission``); the directory and the criteria library are set up by the people who keep them.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from casebridge.accounts import roles
from casebridge.clinical.services import case_open_for_admission, encounter_upsert
from casebridge.kernel import clock
from casebridge.patients.services import coverage_add, patient_create
from casebridge.postacute import services as postacute
from casebridge.postacute.models import Referral
from casebridge.utilization import services as ur
from casebridge.utilization.models import ReviewStatus, UtilizationReview
from tests.browser.steps import choose_two_agencies_and_refer
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser

HOME_ZIP = "43214"


@pytest.fixture
def world(transactional_db, make_org, make_actor):
    hospital = make_org("Riverside General Hospital", "hospital", zip_codes_served=[HOME_ZIP])
    insurer = make_org("Summit Health Plan", "insurer", payer_id="SUMMT")
    harborview = make_org("Harborview Home Health", "home_health", zip_codes_served=[HOME_ZIP], postal_code="43215")
    buckeye = make_org("Buckeye Visiting Nurses", "home_health", zip_codes_served=[HOME_ZIP], postal_code="43229")
    cm = make_actor(hospital, roles.CASE_MANAGER, username="cm.grace")
    intake = make_actor(hospital, roles.INTAKE_COORDINATOR, username="intake.rgh")
    keeper = make_actor(hospital, roles.SUPERVISOR, username="sup.rgh")
    director = make_actor(hospital, roles.MEDICAL_DIRECTOR, username="meddir.rgh")
    agency_intake = make_actor(harborview, roles.INTAKE_COORDINATOR, username="intake.harborview")

    ur.criteria_library_install_starter(actor=director)
    for org, stars in ((harborview, 4), (buckeye, 5)):
        provider = postacute.provider_create(
            actor=keeper,
            organization_id=org.pk,
            provider_type="home_health",
            services=["skilled_nursing", "iv_antibiotics"],
            star_rating=stars,
        )
        postacute.network_add(actor=keeper, provider_id=provider.pk, insurer_id=insurer.pk)

    patient = patient_create(
        actor=intake,
        mrn="MRN-4401",
        family_name="Whitfield",
        given_name="Eleanor",
        birth_date=dt.date(1947, 2, 11),
        sex="female",
        postal_code=HOME_ZIP,
        city="Columbus",
        state="OH",
    )
    coverage_add(
        actor=intake,
        patient_id=patient.pk,
        insurer_id=insurer.pk,
        plan_name="Summit Medicare Advantage HMO",
        member_id="SMA-4401",
        period_start=dt.date(2024, 1, 1),
    )
    # Admitted three days ago through the ED: the stay has crossed two midnights.
    admitted = timezone.localtime(clock.now()).replace(hour=7, minute=30) - dt.timedelta(days=3)
    encounter, _ = encounter_upsert(
        actor=intake,
        patient_id=patient.pk,
        identifier_system="urn:rgh:visit",
        identifier_value="V-4401",
        status="in-progress",
        encounter_class="inpatient",
        admit_at=admitted,
        location_text="4 West^412^A",
        attending_name="Dr. Mei Chen",
        reasons=[{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M86.60", "display": "Chronic osteomyelitis"}],
    )
    case = case_open_for_admission(actor=intake, encounter_id=encounter.pk)
    assert case is not None
    return {"cm": cm, "agency_intake": agency_intake, "encounter": encounter, "case": case, "harborview": harborview}


def sign_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_hospital_journey_from_census_to_the_agencys_new_home_health_case(world, page):
    case_id = world["case"].pk

    # The hospital case manager opens the census and opens the new admission's stay from its row.
    sign_in(page, "cm.grace")
    page.goto("/hospital/census")
    row = page.locator("tr", has_text="Whitfield, Eleanor")
    assert row.count() == 1
    row.get_by_role("button", name="Open").click()
    page.wait_for_url(re.compile(r"/hospital/stays/\d+/$"))
    page.get_by_role("link", name=f"Case #{case_id}").click()
    page.wait_for_url(re.compile(rf"/cases/{case_id}/$"))
    case_url = page.url

    # ... opens the initial utilization review and evaluates the Two-Midnight criteria,
    page.get_by_role("button", name="Open review").click()
    page.wait_for_url(re.compile(r"/utilization/reviews/\d+/$"))
    page.get_by_label(re.compile("Medicare Two-Midnight")).check()
    page.get_by_role("button", name="Evaluate").click()
    page.wait_for_load_state()
    criteria = page.locator("section.criteria-set", has_text="Medicare Two-Midnight")
    crossed = criteria.locator("tr", has_text="already crossed two midnights")
    assert crossed.get_by_text("Met", exact=True).is_visible()
    # ... answers the criteria only the reviewer can (the admission order and the complex factors),
    page.get_by_label(re.compile(r"^The admitting physician expects hospital care")).select_option("met")
    page.get_by_label(re.compile(r"^Complex medical factors supporting")).select_option("met")
    page.get_by_role("button", name="Evaluate").click()
    page.wait_for_load_state()
    assert "Inpatient" in page.get_by_test_id("recommendation").inner_text()
    assert criteria.locator("tr", has_text="Complex medical factors").get_by_text("Met", exact=True).is_visible()
    # ... and confirms the recommended level of care.
    page.get_by_label("Confirm the recommendation").check()
    page.get_by_role("button", name="Complete review").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("review-status").inner_text() == "Completed"
    review = UtilizationReview.objects.get(encounter=world["encounter"], kind="initial")
    assert review.status == ReviewStatus.COMPLETED and review.decided_level == "inpatient"

    # The case manager builds a home health choice list for the patient's ZIP code, records the choice
    # and sends referrals to both agencies at once.
    page.goto(case_url)
    choose_two_agencies_and_refer(
        page, case_id=case_id, first="Harborview Home Health", second="Buckeye Visiting Nurses"
    )

    # Harborview's intake coordinator signs in, finds the referral in the intake queue and accepts it.
    sign_in(page, "intake.harborview")
    page.get_by_role("link", name="Referrals").first.click()
    page.get_by_role("link", name="Whitfield, Eleanor").click()
    assert page.get_by_test_id("packet-name").inner_text() == "Whitfield, Eleanor"
    page.get_by_role("button", name="Accept referral").click()
    assert page.get_by_text("Referral accepted").is_visible()
    referral = Referral.objects.get(case_id=case_id, receiving_organization=world["harborview"])
    assert referral.status == "accepted"

    # The hospital case manager records the patient's agreement and the start of service.
    sign_in(page, "cm.grace")
    page.goto(case_url)
    page.locator("table.referrals").get_by_role("link", name="Harborview Home Health").click()
    page.get_by_label("Start of service").fill((clock.today() + dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Record patient's agreement").click()
    page.wait_for_url(re.compile(rf"/cases/{case_id}/"))
    assert page.get_by_test_id("case-status").inner_text() == "Transition"
    assert "Home health case #" in page.get_by_test_id("hh-link").inner_text()

    # Harborview, signed in, has its own new home health case, linked to the hospital's.
    referral.refresh_from_db()
    hh_case = referral.home_health_case
    assert hh_case is not None and hh_case.organization_id == world["harborview"].pk
    sign_in(page, "intake.harborview")
    page.goto(f"/referrals/{referral.pk}/")
    page.get_by_test_id("hh-case").get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/cases/{hh_case.pk}/"))
    assert "Home health episode" in page.content()
    assert f"hospital case #{case_id}" in page.get_by_test_id("hh-source").inner_text()
