"""Patient choice lists (42 CFR 482.43(c)) and the provider directory, through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from postacute_fixtures import *  # noqa: F403 - fixtures, scoped to this module

from casebridge.audit.models import AuditEvent
from casebridge.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from casebridge.patients.services import coverage_add, coverage_end
from casebridge.postacute import services
from casebridge.postacute.models import ChoiceList, Provider
from casebridge.postacute.vocabulary import MANAGED_CARE_NOTE


def names(cl):
    return [e.name for e in cl.entries.all()]


def test_choice_list_includes_every_qualified_agency_and_only_those(cm, hcase, directory):
    cl = services.choice_list_build(actor=cm, case_id=hcase.pk, provider_type="home_health", service="iv_antibiotics")
    assert set(names(cl)) == {"Sunrise Home Health", "Harbor Visiting Nurses", "Lakeside Home Care"}
    assert "Faraway Home Health" not in names(cl)  # does not serve the patient's ZIP
    assert "Basic Home Nursing" not in names(cl)  # does not offer IV antibiotics


def test_a_provider_that_is_not_accepting_or_not_medicare_participating_is_still_listed_and_shown_as_such(
    cm, hcase, directory
):
    cl = services.choice_list_build(actor=cm, case_id=hcase.pk, provider_type="home_health", service="iv_antibiotics")
    lakeside = cl.entries.get(provider=directory["lakeside"])
    assert (lakeside.accepting, lakeside.medicare_participating) == (False, False)


def test_without_a_named_service_every_agency_serving_the_zip_is_listed(cm, hcase, directory):
    cl = services.choice_list_build(actor=cm, case_id=hcase.pk, provider_type="home_health")
    assert "Basic Home Nursing" in names(cl)
    assert "Faraway Home Health" not in names(cl)


def test_the_patient_may_ask_for_another_area(cm, hcase, directory):
    cl = services.choice_list_build(actor=cm, case_id=hcase.pk, provider_type="home_health", area_zips=["90210"])
    assert names(cl) == ["Faraway Home Health"]
    assert cl.area_zips == ["90210"]


def test_network_status_is_shown_against_the_active_coverage_with_the_managed_care_note(cm, hcase, directory):
    cl = services.choice_list_build(actor=cm, case_id=hcase.pk, provider_type="home_health", service="iv_antibiotics")
    status = {e.name: e.network_status for e in cl.entries.all()}
    assert status["Sunrise Home Health"] == "in"
    assert status["Harbor Visiting Nurses"] == "not_listed"
    assert cl.managed_care is True and cl.plan_name == "Acme Advantage HMO"
    assert "Verify network status with your plan" in MANAGED_CARE_NOTE


def test_original_medicare_has_no_network_and_no_managed_care_note(cm, hcase, pa_patient, directory):
    coverage_end(actor=cm, coverage_id=pa_patient.coverages.get().pk, period_end=dt.date(2021, 1, 1))
    coverage_add(
        actor=cm,
        patient_id=pa_patient.pk,
        payer_name="Medicare",
        member_id="1EG4TE5MK73",
        period_start=dt.date(2021, 1, 2),
    )
    cl = services.choice_list_build(actor=cm, case_id=hcase.pk, provider_type="home_health", service="iv_antibiotics")
    assert cl.managed_care is False
    assert {e.network_status for e in cl.entries.all()} == {"not_applicable"}


def test_financial_interest_is_disclosed_only_for_the_hospitals_own_interests(cm, hcase, directory):
    cl = services.choice_list_build(actor=cm, case_id=hcase.pk, provider_type="home_health", service="iv_antibiotics")
    disclosed = {e.name: e.financial_interest for e in cl.entries.all()}
    assert disclosed["Lakeside Home Care"] == "The hospital owns 40%"
    assert disclosed["Sunrise Home Health"] == ""


def test_order_follows_the_patients_priorities(cm, hcase, directory):
    by_network = services.choice_list_build(
        actor=cm,
        case_id=hcase.pk,
        provider_type="home_health",
        service="iv_antibiotics",
        priorities=["in_network", "rating"],
    )
    assert names(by_network) == ["Sunrise Home Health", "Harbor Visiting Nurses", "Lakeside Home Care"]
    by_rating = services.choice_list_build(
        actor=cm, case_id=hcase.pk, provider_type="home_health", service="iv_antibiotics", priorities=["rating"]
    )
    assert names(by_rating) == ["Harbor Visiting Nurses", "Lakeside Home Care", "Sunrise Home Health"]
    by_place = services.choice_list_build(
        actor=cm,
        case_id=hcase.pk,
        provider_type="home_health",
        service="iv_antibiotics",
        priorities=["proximity", "rating"],
    )
    assert names(by_place)[0] == "Lakeside Home Care"  # located in the patient's ZIP
    by_accepting = services.choice_list_build(
        actor=cm,
        case_id=hcase.pk,
        provider_type="home_health",
        service="iv_antibiotics",
        priorities=["accepting", "rating"],
    )
    assert names(by_accepting)[-1] == "Lakeside Home Care"


def test_presenting_records_who_when_to_whom_and_the_ranked_choices_and_is_audited(cm, hcase, directory):
    cl = services.choice_list_build(actor=cm, case_id=hcase.pk, provider_type="home_health", service="iv_antibiotics")
    services.choice_list_present(
        actor=cm,
        choice_list_id=cl.pk,
        presented_to="representative",
        representative_name="Luis Rivera (son, health care proxy)",
        ranked_provider_ids=[directory["harbor"].pk, directory["sunrise"].pk],
    )
    cl.refresh_from_db()
    assert cl.presented_by_id == cm.user_id and cl.presented_at is not None
    assert cl.representative_name.startswith("Luis Rivera")
    ranks = {e.name: e.patient_rank for e in cl.entries.all()}
    assert ranks == {"Harbor Visiting Nurses": 1, "Sunrise Home Health": 2, "Lakeside Home Care": None}
    assert AuditEvent.objects.filter(action="choicelist.present", patient_id=hcase.patient_id).exists()


def test_a_presented_list_is_a_record_and_cannot_be_presented_again(cm, presented_list):
    with pytest.raises(ValidationFailed):
        services.choice_list_present(actor=cm, choice_list_id=presented_list.pk, presented_to="patient")


def test_ranking_a_provider_not_on_the_list_is_refused_and_nothing_changes(cm, hcase, directory):
    cl = services.choice_list_build(actor=cm, case_id=hcase.pk, provider_type="home_health", service="iv_antibiotics")
    with pytest.raises(ValidationFailed) as exc:
        services.choice_list_present(
            actor=cm, choice_list_id=cl.pk, presented_to="patient", ranked_provider_ids=[directory["faraway"].pk]
        )
    assert "ranked_provider_ids" in exc.value.field_errors
    cl.refresh_from_db()
    assert cl.presented_at is None


def test_another_organization_cannot_build_a_list_for_the_hospitals_case(outsider, hcase, directory):
    with pytest.raises((NotFound, PermissionDenied)):
        services.choice_list_build(actor=outsider, case_id=hcase.pk, provider_type="home_health")
    assert not ChoiceList.objects.exists()


def test_snf_list_runs_the_qualifying_stay_rule_and_still_lists_every_facility(cm, hcase, director):
    services.provider_create(
        actor=director, name="Maple SNF", provider_type="snf", postal_code="02134", services=["wound_care"]
    )
    cl = services.choice_list_build(
        actor=cm,
        case_id=hcase.pk,
        provider_type="snf",
        eligibility_inputs={"inpatient_admitted_on": dt.date(2030, 1, 1), "discharge_on": dt.date(2030, 1, 3)},
    )
    assert cl.eligibility["eligible"] is False
    assert "short of the 3-day qualifying stay" in cl.eligibility["reasons"][0]
    assert names(cl) == ["Maple SNF"]


def test_irf_list_runs_the_intensity_rule(cm, hcase, director):
    services.provider_create(actor=director, name="Bay Rehab", provider_type="irf", postal_code="02134")
    cl = services.choice_list_build(
        actor=cm,
        case_id=hcase.pk,
        provider_type="irf",
        eligibility_inputs={"therapy_minutes_by_day": [180] * 5 + [0, 0], "therapy_disciplines": ["PT", "OT"]},
    )
    assert cl.eligibility["eligible"] is True


def test_bad_eligibility_input_names_the_field(cm, hcase):
    with pytest.raises(ValidationFailed) as exc:
        services.choice_list_build(
            actor=cm,
            case_id=hcase.pk,
            provider_type="irf",
            eligibility_inputs={"therapy_minutes_by_day": [180] * 7, "therapy_disciplines": ["YOGA"]},
        )
    assert "eligibility" in exc.value.field_errors


# --- directory ---------------------------------------------------------------------------------------------


def test_a_platform_agency_updates_its_own_accepting_status_and_capacity(intake, directory):
    p = services.provider_status_update(actor=intake, provider_id=directory["sunrise"].pk, accepting=False, capacity=0)
    assert (p.accepting, p.capacity) == (False, 0)


def test_an_agency_cannot_change_another_providers_status(intake, directory):
    with pytest.raises(NotFound):
        services.provider_status_update(actor=intake, provider_id=directory["harbor"].pk, accepting=False, capacity=0)
    assert Provider.objects.get(pk=directory["harbor"].pk).accepting is True


def test_a_case_manager_cannot_edit_the_directory(cm, directory):
    with pytest.raises(PermissionDenied):
        services.provider_update(actor=cm, provider_id=directory["lakeside"].pk, star_rating=1)


def test_listing_an_organization_of_the_wrong_type_is_refused(director, insurer):
    with pytest.raises(ValidationFailed) as exc:
        services.provider_create(actor=director, organization_id=insurer.pk, provider_type="home_health")
    assert "organization_id" in exc.value.field_errors


def test_star_rating_out_of_range_is_refused(director):
    with pytest.raises(ValidationFailed) as exc:
        services.provider_create(actor=director, name="X", provider_type="snf", star_rating=6)
    assert "star_rating" in exc.value.field_errors
    assert not Provider.objects.exists()
