"""Care options are checked against the post-acute eligibility rules (RULES.md) from the hospital stay."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from casebridge.audit.models import AuditEvent
from casebridge.clinical.models import Encounter
from casebridge.clinical.services import encounter_upsert
from casebridge.coverage import services as cov
from casebridge.coverage.eligibility import IRF_RULE, SNF_RULE
from casebridge.coverage.models import CareOption
from casebridge.coverage.selectors import options_evaluate, workspace_of
from casebridge.hospital import services as hospital
from casebridge.kernel import clock
from casebridge.kernel.errors import ValidationFailed
from tests.coverage_world import HOME, build_world, option_named

NOW = timezone.make_aware(dt.datetime(2026, 3, 12, 12, 0))
SNF = "SNF 21 days"


@pytest.fixture(autouse=True)
def frozen_now():
    with clock.frozen_at(NOW):
        yield NOW


@pytest.fixture
def world(make_org, make_actor, cm, hospital, insurer, patient):
    return build_world(make_org, make_actor, cm, hospital, insurer, patient)


def stay_for(world, *, klass="inpatient", admitted=dt.datetime(2026, 3, 10, 8, 0), discharge_on=None):
    """The world's case as a current hospital stay (the admission rule's link, made directly)."""
    encounter, _ = encounter_upsert(
        actor=world.cm,
        patient_id=world.patient.pk,
        identifier_system="urn:test:visit",
        identifier_value="V-ELIG",
        status="in-progress",
        encounter_class=klass,
        admit_at=timezone.make_aware(admitted),
    )
    Encounter.objects.filter(pk=encounter.pk).update(hospital_case=world.case)
    stay = hospital.stay_open(actor=world.cm, encounter_id=encounter.pk)
    if discharge_on is not None:
        stay = hospital.stay_update(actor=world.cm, stay_id=stay.pk, expected_discharge_on=discharge_on)
    return stay


def row_of(world, name):
    evaluation = options_evaluate(world.case, workspace_of(world.case))
    return next(r for r in evaluation.rows if r.option.name == name)


def test_snf_is_infeasible_after_a_two_day_inpatient_stay_with_the_rules_reason(world):
    stay_for(world, discharge_on=dt.date(2026, 3, 12))
    cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    snf = row_of(world, SNF)
    assert snf.infeasible_reasons[0].startswith(SNF_RULE + ": 2 inpatient day(s) counted")
    assert snf.verdict.startswith("infeasible: " + SNF_RULE)
    assert "marked as not meeting" not in " ".join(snf.infeasible_reasons)  # the rule decided, not the flag
    with pytest.raises(ValidationFailed) as refused:
        cov.option_choose(actor=world.cm, case_id=world.case.pk, option_id=option_named(world.case, SNF).pk)
    assert list(refused.value.field_errors) == ["option_id"]
    assert workspace_of(world.case).chosen_option_id is None


def test_snf_is_eligible_once_the_stay_spans_three_inpatient_days(world):
    stay_for(world, discharge_on=dt.date(2026, 3, 13))
    cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    snf = row_of(world, SNF)
    assert snf.infeasible_reasons == ()
    assert [(c.rule, c.eligible) for c in snf.eligibility.checks] == [(SNF_RULE, True)]
    cov.option_choose(actor=world.cm, case_id=world.case.pk, option_id=snf.option.pk)
    assert workspace_of(world.case).chosen_option_id == snf.option.pk


def test_an_observation_stay_makes_snf_infeasible(world):
    stay_for(world, klass="observation")
    cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    assert "observation stay has no inpatient days" in row_of(world, SNF).infeasible_reasons[0]


def test_a_waiver_with_its_reason_lets_the_option_through_and_is_audited(world):
    stay_for(world, discharge_on=dt.date(2026, 3, 11))
    cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    option = option_named(world.case, SNF)
    cov.option_set_flags(
        actor=world.cm, case_id=world.case.pk, option_id=option.pk, eligibility_waiver="Plan waives the 3-day stay"
    )
    snf = row_of(world, SNF)
    assert snf.infeasible_reasons == ()
    assert snf.eligibility.checks[0].fails  # still shown as not met
    event = AuditEvent.objects.filter(action="care_option.flags", object_id=str(option.pk)).get()
    assert event.detail["eligibility_waiver"] == "Plan waives the 3-day stay"
    cov.option_set_flags(actor=world.cm, case_id=world.case.pk, option_id=option.pk, eligibility_waiver="")
    assert row_of(world, SNF).infeasible_reasons


def test_a_waiver_longer_than_300_characters_is_refused_and_nothing_saved(world):
    cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    option = option_named(world.case, SNF)
    with pytest.raises(ValidationFailed) as refused:
        cov.option_set_flags(
            actor=world.cm,
            case_id=world.case.pk,
            option_id=option.pk,
            eligibility_waiver="x" * 301,
            provider_accepts=False,
        )
    assert list(refused.value.field_errors) == ["eligibility_waiver"]
    option.refresh_from_db()
    assert (option.eligibility_waiver, option.provider_accepts) == ("", True)


def test_irf_option_follows_the_therapy_schedule_recorded_on_the_discharge_plan(world):
    stay = stay_for(world)
    cov.option_create(
        actor=world.cm,
        case_id=world.case.pk,
        name="IRF 14 days",
        lines=[cov.LineInput(category="irf_day", units=14, unit_price_cents=150_000, provider_name="Valley Rehab")],
    )
    irf = row_of(world, "IRF 14 days")
    assert [(c.rule, c.eligible) for c in irf.eligibility.checks] == [(IRF_RULE, None)]
    assert irf.infeasible_reasons == ()
    hospital.need_add(
        actor=world.cm,
        stay_id=stay.pk,
        service_type="irf",
        details={"therapy_minutes_by_day": [90, 90, 90, 90, 90, 0, 0], "therapy_disciplines": ["PT", "OT"]},
    )
    irf = row_of(world, "IRF 14 days")
    assert irf.infeasible_reasons[0].startswith(IRF_RULE)
    hospital.need_add(
        actor=world.cm,
        stay_id=stay.pk,
        service_type="irf",
        details={"therapy_minutes_by_day": [180, 180, 180, 180, 180, 60, 0], "therapy_disciplines": ["PT", "SLP"]},
    )
    assert row_of(world, "IRF 14 days").infeasible_reasons == ()  # the latest schedule counts


def test_home_infusion_check_reports_the_payment_route_without_blocking(world):
    stay = stay_for(world)
    hospital.need_add(
        actor=world.cm,
        stay_id=stay.pk,
        service_type="home_infusion",
        details={"route": "intravenous", "minutes_per_administration": 60, "through_dme_pump": True},
    )
    cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    home = row_of(world, HOME)
    (check,) = home.eligibility.checks
    assert (check.eligible, check.blocking) == (True, False)
    assert home.infeasible_reasons == ()
    assert CareOption.objects.filter(case=world.case).count() == 4
