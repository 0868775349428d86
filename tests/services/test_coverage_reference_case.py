"""The reference case (SCENARIOS.md) end to end through the services: options, choice, negotiation, agreement."""

from __future__ import annotations

import pytest

from casebridge.audit.models import AuditEvent
from casebridge.coverage import services as cov
from casebridge.coverage.models import (
    AgreedPayment,
    Agreement,
    EquipmentCommitment,
    ExceptionAuthorization,
    NegotiationStatus,
    PriceAgreement,
    ProposalLine,
)
from casebridge.coverage.selectors import (
    commitments_of,
    negotiation_get,
    options_evaluate,
    workspace_of,
)
from casebridge.kernel.errors import IllegalTransition, NotFound, StaleVersion, ValidationFailed
from tests.coverage_world import HOME, build_world, open_reference_negotiation, option_named


@pytest.fixture
def world(make_org, make_actor, cm, hospital, insurer, patient):
    return build_world(make_org, make_actor, cm, hospital, insurer, patient)


def accept_all(world, negotiation):
    for actor in (world.pharmacist, world.nurse_manager, world.insurer_cm):
        cov.proposal_respond(actor=actor, negotiation_id=negotiation.pk, action="accept")


def send_reference_split(world, negotiation, **kwargs):
    return cov.proposal_send(
        actor=world.cm,
        negotiation_id=negotiation.pk,
        rule="manual",
        locks=world.reference_locks(),
        disclosed=["patient"],
        patient_agrees=True,
        **kwargs,
    )


def test_the_standard_options_are_priced_per_party_and_home_infusion_is_the_least_cost(world):
    created = cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    assert len(created) == 4
    evaluation = options_evaluate(world.case)
    by_name = {row.option.name: row for row in evaluation.rows}
    home = by_name[HOME]
    assert home.best and home.rank == 1
    # $4,400 drug + $600 equipment not covered; 9 nursing visits x $180 covered with no deductible.
    assert home.ledger.non_covered == 500_000
    assert home.ledger.insurer == 9 * 18_000
    assert home.ledger.total_cost == 500_000 + 162_000
    assert by_name["Stay inpatient 21 days"].ledger.total_cost == 21 * 200_000
    assert "more expensive by" in by_name["Daily outpatient infusion"].verdict
    assert any("planning default price" in note for note in home.price_notes)
    # The member's deductible is already met (accumulators from the insurer's file).
    assert any("deductible $500.00, $500.00 met" in a for a in by_name["Stay inpatient 21 days"].ledger.assumptions)


def test_an_infeasible_option_is_ranked_last_with_its_reason_and_cannot_be_chosen(world):
    cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    home = option_named(world.case, HOME)
    cov.workspace_update(actor=world.cm, case_id=world.case.pk, caregiver_available=False)
    evaluation = options_evaluate(world.case)
    last = evaluation.rows[-1]
    assert last.option.pk == home.pk
    assert "needs a caregiver and none is available" in last.verdict
    with pytest.raises(ValidationFailed) as excinfo:
        cov.option_choose(actor=world.cm, case_id=world.case.pk, option_id=home.pk)
    assert "option_id" in excinfo.value.field_errors
    assert workspace_of(world.case).chosen_option_id is None


def test_opening_the_negotiation_computes_each_walkaway_with_its_derivation(world):
    negotiation = open_reference_negotiation(world)
    assert negotiation.gap_cents == 500_000
    parties = {p.key: p for p in negotiation.parties.all()}
    assert set(parties) == {"insurer", world.party_key(world.pharmacy), world.party_key(world.agency), "patient"}
    insurer = parties["insurer"]
    assert insurer.walkaway_cents == 21 * 200_000 - 162_000
    assert "21 days x $2,000.00" in insurer.derivation[0]
    pharmacy = parties[world.party_key(world.pharmacy)]
    assert pharmacy.walkaway_cents == 500_000 - 290_000 - 60_000
    agency = parties[world.party_key(world.agency)]
    assert agency.walkaway_cents == 9 * (18_000 - 11_000)
    assert agency.organization_id == world.agency.pk
    assert parties["patient"].organization_id is None
    assert parties["patient"].walkaway_cents == 100_000


def test_the_reference_case_ends_in_an_agreement_with_a_record_on_each_partys_side(world):
    negotiation = open_reference_negotiation(world)
    proposal = send_reference_split(world, negotiation)
    assert sum(line.share_cents for line in proposal.lines.all()) == 500_000
    accept_all(world, negotiation)

    negotiation.refresh_from_db()
    assert negotiation.status == NegotiationStatus.AGREED
    agreement = Agreement.objects.get(negotiation=negotiation)
    assert agreement.total_cents == 500_000
    assert sorted(t["share_cents"] for t in agreement.terms) == [50_000, 100_000, 100_000, 250_000]

    exception = ExceptionAuthorization.objects.get(agreement=agreement)
    assert exception.organization_id == world.insurer.pk
    assert exception.amount_cents == 250_000
    assert exception.approver_id == world.insurer_cm.user_id
    assert exception.expected_savings_cents == 21 * 200_000 - 162_000 - 250_000
    assert "expected savings" in exception.justification
    price = PriceAgreement.objects.get(agreement=agreement)
    assert (price.organization_id, price.list_price_cents, price.agreed_price_cents) == (
        world.pharmacy.pk,
        500_000,
        400_000,
    )
    pumps = EquipmentCommitment.objects.get(agreement=agreement)
    assert (pumps.organization_id, pumps.amount_cents, pumps.item) == (world.agency.pk, 50_000, "infusion pumps")
    payment = AgreedPayment.objects.get(agreement=agreement)
    assert (payment.organization_id, payment.amount_cents) == (world.hospital.pk, 100_000)

    # Each record is on its own organization's side only.
    assert list(commitments_of(actor=world.insurer_cm).exceptions) == [exception]
    assert not commitments_of(actor=world.pharmacist).exceptions.exists()
    assert list(commitments_of(actor=world.pharmacist).price_agreements) == [price]
    # Every write is audited with the patient.
    actions = set(AuditEvent.objects.filter(patient_id=world.patient.pk).values_list("action", flat=True))
    assert {
        "negotiation.open",
        "proposal.send",
        "proposal.accept",
        "agreement.sign",
        "exceptionauthorization.create",
        "priceagreement.create",
        "equipmentcommitment.create",
        "agreedpayment.create",
        "care_option.choose",
    } <= actions


def test_a_counter_offer_then_a_revision_that_everyone_accepts(world):
    negotiation = open_reference_negotiation(world)
    send_reference_split(world, negotiation)
    line = cov.proposal_respond(
        actor=world.pharmacist, negotiation_id=negotiation.pk, action="counter", amount_cents=80_000
    )
    assert line.response == "countered" and line.counter_cents == 80_000
    cov.proposal_respond(actor=world.nurse_manager, negotiation_id=negotiation.pk, action="accept")
    assert not Agreement.objects.filter(negotiation=negotiation).exists()

    locks = world.reference_locks() | {world.party_key(world.pharmacy): 80_000, "insurer": 270_000}
    revised = cov.proposal_send(
        actor=world.cm, negotiation_id=negotiation.pk, rule="manual", locks=locks, patient_agrees=True
    )
    assert revised.number == 2
    # The revision asks everyone again, including those who accepted the first one.
    assert revised.lines.filter(response="pending").count() == 3
    accept_all(world, negotiation)
    agreement = Agreement.objects.get(negotiation=negotiation)
    assert agreement.proposal_id == revised.pk
    assert PriceAgreement.objects.get(agreement=agreement).agreed_price_cents == 420_000
    assert ExceptionAuthorization.objects.get(agreement=agreement).amount_cents == 270_000


def test_a_decline_needs_a_reason_and_blocks_the_agreement(world):
    negotiation = open_reference_negotiation(world)
    send_reference_split(world, negotiation)
    with pytest.raises(ValidationFailed) as excinfo:
        cov.proposal_respond(actor=world.insurer_cm, negotiation_id=negotiation.pk, action="decline")
    assert "reason" in excinfo.value.field_errors
    cov.proposal_respond(
        actor=world.insurer_cm, negotiation_id=negotiation.pk, action="decline", reason="Exception budget exhausted"
    )
    cov.proposal_respond(actor=world.pharmacist, negotiation_id=negotiation.pk, action="accept")
    cov.proposal_respond(actor=world.nurse_manager, negotiation_id=negotiation.pk, action="accept")
    assert not Agreement.objects.filter(negotiation=negotiation).exists()
    assert not ExceptionAuthorization.objects.exists()


def test_a_signed_agreement_cannot_be_edited_only_superseded(world):
    negotiation = open_reference_negotiation(world)
    send_reference_split(world, negotiation)
    accept_all(world, negotiation)
    agreement = Agreement.objects.get(negotiation=negotiation)
    agreement.total_cents = 1
    with pytest.raises(RuntimeError, match="cannot be edited"):
        agreement.save()
    with pytest.raises(RuntimeError):
        agreement.delete()
    exception = ExceptionAuthorization.objects.get(agreement=agreement)
    exception.amount_cents = 999_999
    with pytest.raises(RuntimeError):
        exception.save()
    with pytest.raises(IllegalTransition):
        cov.proposal_send(actor=world.cm, negotiation_id=negotiation.pk, rule="nash")
    agreement.refresh_from_db()
    assert agreement.total_cents == 500_000

    successor = cov.agreement_supersede(actor=world.cm, agreement_id=agreement.pk, reason="Drug changed")
    agreement.refresh_from_db()
    exception.refresh_from_db()
    assert agreement.status == "superseded" and exception.status == "superseded"
    assert successor.supersedes_id == negotiation.pk and successor.status == "open"
    assert successor.parties.count() == 4
    send_reference_split(world, successor)
    accept_all(world, successor)
    agreement.refresh_from_db()
    assert agreement.superseded_by_id == Agreement.objects.get(negotiation=successor).pk


def test_a_party_corrects_its_own_walkaway_but_not_anothers(world):
    negotiation = open_reference_negotiation(world)
    party = cov.walkaway_correct(
        actor=world.pharmacist, negotiation_id=negotiation.pk, amount_cents=120_000, reason="our acquisition cost"
    )
    assert party.key == world.party_key(world.pharmacy)
    assert party.walkaway_cents == 120_000 and party.computed_cents == 150_000
    # A manual lock above the corrected walk-away is refused, naming the field.
    with pytest.raises(ValidationFailed) as excinfo:
        cov.proposal_send(
            actor=world.cm,
            negotiation_id=negotiation.pk,
            rule="manual",
            locks={world.party_key(world.pharmacy): 130_000},
        )
    assert "locks" in excinfo.value.field_errors
    with pytest.raises(NotFound):
        cov.walkaway_correct(actor=world.stranger, negotiation_id=negotiation.pk, amount_cents=1, reason="x")


def test_each_party_sees_the_total_its_own_line_and_only_what_was_disclosed(world):
    negotiation = open_reference_negotiation(world)
    send_reference_split(world, negotiation)
    view = negotiation_get(actor=world.pharmacist, negotiation_id=negotiation.pk)
    assert view.total_cents == 500_000
    assert view.own_line is not None and view.own_line.share_cents == 100_000
    shown = {line.party.key for line in view.lines}
    assert shown == {world.party_key(world.pharmacy), "patient"}
    assert view.analysis is None and [p.key for p in view.parties] == [world.party_key(world.pharmacy)]
    with pytest.raises(NotFound):
        negotiation_get(actor=world.stranger, negotiation_id=negotiation.pk)


def test_an_unlinked_party_organization_no_longer_sees_the_negotiation(world):
    negotiation = open_reference_negotiation(world)
    cov.party_unlink(actor=world.cm, negotiation_id=negotiation.pk, party_key=world.party_key(world.agency))
    with pytest.raises(NotFound):
        negotiation_get(actor=world.nurse_manager, negotiation_id=negotiation.pk)


def test_a_stale_answer_is_refused_instead_of_overwriting(world):
    negotiation = open_reference_negotiation(world)
    send_reference_split(world, negotiation)
    line = ProposalLine.objects.get(party__key="insurer", proposal__negotiation=negotiation)
    cov.proposal_respond(actor=world.insurer_cm, negotiation_id=negotiation.pk, action="accept", version=line.version)
    with pytest.raises((StaleVersion, IllegalTransition)):
        cov.proposal_respond(
            actor=world.insurer_cm,
            negotiation_id=negotiation.pk,
            action="counter",
            amount_cents=1,
            version=line.version,
        )
    line.refresh_from_db()
    assert line.response == "accepted"


def test_a_negotiation_needs_an_unfunded_gap(world):
    cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    inpatient = option_named(world.case, "Stay inpatient 21 days")
    cov.option_choose(actor=world.cm, case_id=world.case.pk, option_id=inpatient.pk)
    with pytest.raises(ValidationFailed, match="nothing unfunded"):
        cov.negotiation_open(actor=world.cm, case_id=world.case.pk, ability_to_pay_cents=0)
