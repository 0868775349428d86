"""Fixtures for the post-acute tests: a hospital case, a directory with agencies on and off the platform.

Built through the services, as users build them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from casebridge.accounts import roles
from casebridge.cases.services import case_open
from casebridge.patients.services import coverage_add
from casebridge.postacute import services

HOME_ZIP = "02134"


@pytest.fixture
def director(make_actor, hospital):
    """The hospital's supervisor, who keeps the directory and records financial interests."""
    return make_actor(hospital, roles.SUPERVISOR, username="hdir")


@pytest.fixture
def agency(make_org):
    return make_org("Sunrise Home Health", "home_health", zip_codes_served=[HOME_ZIP, "02135"], postal_code="02135")


@pytest.fixture
def agency2(make_org):
    return make_org("Harbor Visiting Nurses", "home_health", zip_codes_served=[HOME_ZIP], postal_code="02139")


@pytest.fixture
def intake(make_actor, agency):
    return make_actor(agency, roles.INTAKE_COORDINATOR, username="sunrise_intake")


@pytest.fixture
def intake2(make_actor, agency2):
    return make_actor(agency2, roles.INTAKE_COORDINATOR, username="harbor_intake")


@pytest.fixture
def pa_patient(make_patient, cm, insurer):
    p = make_patient(mrn="MRN-2001", postal_code=HOME_ZIP, city="Boston", state="MA", address_line="1 Elm St")
    coverage_add(
        actor=cm,
        patient_id=p.pk,
        insurer_id=insurer.pk,
        plan_name="Acme Advantage HMO",
        member_id="ACM123",
        period_start=dt.date(2020, 1, 1),
    )
    return p


@pytest.fixture
def hcase(cm, pa_patient):
    return case_open(
        actor=cm,
        patient_id=pa_patient.pk,
        case_type="hospital_stay",
        reason="Osteomyelitis, needs IV antibiotics at home",
        diagnoses=[{"code": "M86.60", "display": "Chronic osteomyelitis, unspecified site"}],
        assigned_to_id=cm.user_id,
    )


@pytest.fixture
def directory(director, agency, agency2, insurer):
    """Five home health agencies: two on the platform, three outside; one far away, one without IV antibiotics."""
    sunrise = services.provider_create(
        actor=director,
        organization_id=agency.pk,
        provider_type="home_health",
        services=["skilled_nursing", "iv_antibiotics", "physical_therapy"],
        star_rating=3,
        medicare_participating=True,
    )
    services.network_add(actor=director, provider_id=sunrise.pk, insurer_id=insurer.pk)
    harbor = services.provider_create(
        actor=director,
        organization_id=agency2.pk,
        provider_type="home_health",
        services=["skilled_nursing", "iv_antibiotics"],
        star_rating=5,
    )
    lakeside = services.provider_create(
        actor=director,
        name="Lakeside Home Care",
        provider_type="home_health",
        services=["skilled_nursing", "iv_antibiotics", "wound_vac"],
        zip_codes_served=[HOME_ZIP],
        postal_code=HOME_ZIP,
        phone="617-555-0101",
        fax="617-555-0102",
        star_rating=4,
        medicare_participating=False,
        accepting=False,
    )
    services.financial_interest_set(actor=director, provider_id=lakeside.pk, description="The hospital owns 40%")
    faraway = services.provider_create(
        actor=director,
        name="Faraway Home Health",
        provider_type="home_health",
        services=["skilled_nursing", "iv_antibiotics"],
        zip_codes_served=["90210"],
        postal_code="90210",
        star_rating=5,
    )
    no_iv = services.provider_create(
        actor=director,
        name="Basic Home Nursing",
        provider_type="home_health",
        services=["skilled_nursing"],
        zip_codes_served=[HOME_ZIP],
        star_rating=5,
    )
    return {"sunrise": sunrise, "harbor": harbor, "lakeside": lakeside, "faraway": faraway, "no_iv": no_iv}


@pytest.fixture
def presented_list(cm, hcase, directory):
    cl = services.choice_list_build(actor=cm, case_id=hcase.pk, provider_type="home_health", service="iv_antibiotics")
    return services.choice_list_present(
        actor=cm,
        choice_list_id=cl.pk,
        presented_to="patient",
        ranked_provider_ids=[directory["sunrise"].pk, directory["harbor"].pk],
    )


@pytest.fixture
def two_referrals(cm, hcase, directory, presented_list):
    return services.referral_send(
        actor=cm,
        case_id=hcase.pk,
        provider_ids=[directory["sunrise"].pk, directory["harbor"].pk],
        provider_type="home_health",
        service="iv_antibiotics",
        sections=["demographics", "coverage", "diagnoses", "notes"],
        note="Vancomycin 1 g IV q12h for 3 weeks via PICC.",
    )
