"""Every ADT sample in ../shared/data/hl7v2 (read in place) parses, and the supported events apply."""

from __future__ import annotations

import re

import pytest

from casebridge.interop.hl7v2.events import SUPPORTED_EVENTS
from casebridge.interop.hl7v2.parsing import Message, split_messages
from casebridge.interop.hl7v2.receiver import Feed
from casebridge.interop.models import Hl7Message
from casebridge.patients.models import Patient
from tests.interop.hl7_support import SAMPLES, msa

FILES = sorted(SAMPLES.glob("*.hl7"))


def test_the_sample_folder_is_there():
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_sample_parses_with_its_header_read(path):
    messages = split_messages(path.read_bytes())
    assert len(messages) == 1
    message = Message(messages[0])
    h = message.header
    assert h.message_type == "ADT"
    assert re.fullmatch(r"A\d\d", h.trigger)
    assert h.control_id
    assert h.version.startswith("2.")
    assert message.has("PID") or message.has("MRG")


@pytest.mark.parametrize("path", FILES[:6], ids=lambda p: p.name)
def test_byte_order_mark_and_any_segment_end_parse_the_same(path):
    raw = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    variants = [
        raw,
        raw.replace(b"\n", b"\r"),
        raw.replace(b"\n", b"\r\n"),
        b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r"),
    ]
    parsed = [str(Message(split_messages(v)[0]).msg) for v in variants]
    assert len(set(parsed)) == 1
    assert parsed[0].count("\r") >= 3


def _with_control_id(text: str, control: str) -> str:
    fields = text.split("|", 10)
    fields[9] = control
    return "|".join(fields)


def _sample(name: str) -> str:
    return split_messages((SAMPLES / name).read_bytes())[0]


@pytest.mark.django_db
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_sample_is_acknowledged_as_its_event_deserves(path, hospital):
    feed = Feed(hospital)
    text = split_messages(path.read_bytes())[0]
    trigger = Message(text).header.trigger
    if trigger in ("A11", "A12", "A13"):
        # A cancel undoes an earlier event: send the sample admission (under another control ID) first.
        assert msa(feed.receive(_with_control_id(_sample("ADT-A01-01.hl7"), "FIRST")).ack)[1] == "AA"
    receipt = feed.receive(text)
    if trigger in SUPPORTED_EVENTS:
        assert receipt.code == "AA", receipt.reason
        assert Patient.objects.filter(organization=hospital).exists()
    else:
        assert receipt.code == "AR"
        assert "not supported" in receipt.reason
        assert Hl7Message.objects.filter(ack_code="AA").count() == (1 if trigger in ("A11", "A12", "A13") else 0)


@pytest.mark.django_db
def test_sample_admission_reads_identifiers_demographics_and_visit(hospital):
    from casebridge.clinical.models import Encounter

    receipt = Feed(hospital).receive(_sample("ADT-A01-01.hl7"))
    assert receipt.code == "AA", receipt.reason
    patient = Patient.objects.get(organization=hospital)
    assert (patient.family_name, patient.given_name, str(patient.birth_date)) == ("EVERYMAN", "ADAM", "1988-08-18")
    assert patient.sex == "male"
    assert (patient.city, patient.state, patient.postal_code) == ("Ann Arbor", "MI", "99999")
    values = set(patient.identifiers.values_list("kind", "value", "system"))
    assert ("mrn", "PATID1234", "test1") in values
    assert not any(v == "123456789" for _, v, _ in values), "the social security number is never stored"
    encounter = Encounter.objects.get(organization=hospital)
    assert encounter.identifier_value == "40007716"
    assert encounter.class_code == "P"
    assert encounter.location_text.startswith("HUH AE OMU^OMU B^Bed 03")
