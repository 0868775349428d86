"""The readmission risk refresh an ADT message causes runs after its commit, and over MLLP after its
ACK is on the way: the sender never waits for it, the next message still sees it done."""

from __future__ import annotations

import socket
import threading

import pytest
from django.db import connection

from casebridge.clinical.models import Encounter
from casebridge.hospital import services as hospital_services
from casebridge.interop.hl7v2 import events
from casebridge.interop.hl7v2.mllp import MllpListener
from casebridge.interop.hl7v2.receiver import Feed
from casebridge.kernel.errors import ValidationFailed
from casebridge.kernel.follow_up import run_all
from tests.interop.hl7_support import RunningListener, adt, frame, msa, read_frame


@pytest.fixture
def refreshes(monkeypatch):
    """Every risk refresh the feed causes, as (patient ids, thread name); the real refresh still runs."""
    seen: list[tuple[set[int], str]] = []
    real = hospital_services.risk_refresh_for_patients

    def recording(patient_ids: set[int]) -> int:
        seen.append((set(patient_ids), threading.current_thread().name))
        return real(patient_ids)

    monkeypatch.setattr(hospital_services, "risk_refresh_for_patients", recording)
    return seen


@pytest.mark.django_db
def test_a_plain_receive_refreshes_before_it_returns(hospital, refreshes):
    feed = Feed(hospital, channel="file")
    receipt = feed.receive(adt("A01", control="f1"))
    patient_id = Encounter.objects.get().patient_id
    assert receipt.code == "AA" and receipt.follow_up == ()
    assert [ids for ids, _ in refreshes] == [{patient_id}]


@pytest.mark.django_db
def test_a_deferred_receive_leaves_the_refresh_to_the_caller(hospital, refreshes):
    feed = Feed(hospital, channel="mllp")
    receipt = feed.receive(adt("A01", control="f1"), defer_follow_up=True)
    assert receipt.code == "AA" and len(receipt.follow_up) == 1
    assert refreshes == []  # committed and acknowledged, not yet refreshed
    run_all(receipt.follow_up)
    assert [ids for ids, _ in refreshes] == [{Encounter.objects.get().patient_id}]


@pytest.mark.django_db
def test_a_message_that_rolls_back_leaves_no_follow_up(hospital, refreshes, monkeypatch):
    feed = Feed(hospital, channel="mllp")
    assert feed.receive(adt("A01", control="f1"), defer_follow_up=True).code == "AA"

    def fails(*args, **kwargs):  # after the visit was saved: the save's refresh must go with the rollback
        raise ValidationFailed.on("case", "cannot move")

    monkeypatch.setattr(events, "case_follow_discharge", fails)
    receipt = feed.receive(adt("A03", control="f2", discharge="20260305120000"), defer_follow_up=True)
    assert receipt.code == "AE" and receipt.follow_up == ()
    assert refreshes == []  # neither the deferred first message's refresh nor the rolled-back one's ran
    assert Encounter.objects.get().status == "in-progress"


@pytest.mark.django_db(transaction=True)
def test_over_mllp_the_ack_does_not_wait_for_the_refresh(hospital, refreshes, monkeypatch):
    acknowledged = threading.Event()
    waited: list[bool] = []
    recording = hospital_services.risk_refresh_for_patients

    def slow_refresh(patient_ids: set[int]) -> int:
        # Before this change the refresh ran inside the commit, so the ACK could not arrive while it
        # waited here: the wait timed out. Now the ACK arrives first.
        waited.append(acknowledged.wait(10))
        return recording(patient_ids)

    monkeypatch.setattr(hospital_services, "risk_refresh_for_patients", slow_refresh)
    workers = 4 if connection.vendor == "postgresql" else 1
    listener = MllpListener(Feed(hospital), host="127.0.0.1", port=0, idle_timeout=20, workers=workers)
    with RunningListener(listener) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(frame(adt("A01", control="m1")))
        assert msa(read_frame(sock))[1] == "AA"
        acknowledged.set()
        sock.sendall(frame(adt("A02", control="m2", location="ICU^2^A")))
        assert msa(read_frame(sock))[1] == "AA"  # queued behind the first message's refresh
        assert waited[:1] == [True]
        patient_id = Encounter.objects.get().patient_id
        first_ids, thread = refreshes[0]
        assert first_ids == {patient_id} and thread.startswith("mllp-db")
