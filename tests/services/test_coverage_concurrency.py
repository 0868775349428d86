"""Concurrent answers to one proposal: real threads, no lost update, the agreement signed exactly once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from casebridge.coverage import services as cov
from casebridge.coverage.models import Agreement, ExceptionAuthorization, ProposalLine
from casebridge.kernel.errors import DomainError
from tests.coverage_world import build_world, open_reference_negotiation

# Shared-cache in-memory SQLite answers "table is locked" at once instead of waiting for the
# writer, so real concurrency runs in the PostgreSQL pass of the suite (deselected on SQLite).
pytestmark = pytest.mark.postgres_only


@pytest.fixture
def world(transactional_db, make_org, make_actor, cm, hospital, insurer, patient):
    return build_world(make_org, make_actor, cm, hospital, insurer, patient)


def run_together(calls):
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        try:
            barrier.wait()
            call()
        except (DomainError, Exception) as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


def test_three_parties_accepting_at_once_sign_one_agreement(world):
    negotiation = open_reference_negotiation(world)
    cov.proposal_send(
        actor=world.cm, negotiation_id=negotiation.pk, rule="manual", locks=world.reference_locks(), patient_agrees=True
    )
    errors = run_together(
        [
            lambda a=actor: cov.proposal_respond(actor=a, negotiation_id=negotiation.pk, action="accept")
            for actor in (world.pharmacist, world.nurse_manager, world.insurer_cm)
        ]
    )
    assert errors == []
    assert set(ProposalLine.objects.values_list("response", flat=True)) == {"accepted"}
    assert Agreement.objects.filter(negotiation=negotiation).count() == 1
    assert ExceptionAuthorization.objects.count() == 1


def test_two_answers_for_the_same_line_at_once_keep_exactly_one(world):
    negotiation = open_reference_negotiation(world)
    cov.proposal_send(actor=world.cm, negotiation_id=negotiation.pk, rule="nash")
    line = ProposalLine.objects.get(party__key="insurer")
    errors = run_together(
        [
            lambda: cov.proposal_respond(
                actor=world.insurer_cm, negotiation_id=negotiation.pk, action="accept", version=line.version
            ),
            lambda: cov.proposal_respond(
                actor=world.insurer_admin,
                negotiation_id=negotiation.pk,
                action="counter",
                amount_cents=1,
                version=line.version,
            ),
        ]
    )
    assert len(errors) == 1 and isinstance(errors[0], DomainError)
    line.refresh_from_db()
    assert line.version == 2
    assert line.response in ("accepted", "countered")
