"""Damaged ADT messages, made by mutating good ones (the test builder's and the shared samples): each
gets an ACK code, never an exception, whatever is not accepted changes nothing, and whatever is
accepted exports as valid FHIR.

The mutations are the ways real feeds go wrong: a field replaced by an odd value (separators,
escapes, impossible dates, long text), a segment dropped, repeated or cut short, text inserted into
a segment, a separator swapped. A fixed seed keeps a failure reproducible; set ``HL7_MUTATION_ROUNDS``
and ``HL7_MUTATION_SEED`` to search further, on both databases."""

from __future__ import annotations

import os
import random

import pytest

from casebridge.interop.fhir_export.bundles import patient_export
from casebridge.interop.hl7v2.receiver import Feed
from casebridge.patients.models import Patient
from tests.interop.hl7_support import SAMPLES, adt
from tests.interop.test_hl7_events import state

pytestmark = pytest.mark.django_db

ROUNDS = int(os.environ.get("HL7_MUTATION_ROUNDS", "600"))
ODD_VALUES = [
    "", "^", "~", "\\", "&", "|", "\\X0D\\", "\\E\\", "99999999999999", "20261340", "2026", "20260230", "abc",
    "é", "\x00", "^^^^^^^^", "~~~", "-1", "20260301083000+9999", "20260301083000.123456789", "x" * 3000,
    "I^^^^", "0", "HL7", "MSH", "\r", "\n", "\r\r", " \r", "ADT^A01^ADT_A01~x", "2.9", "2.1", "Z99",
]  # fmt: skip


def mutate(rng: random.Random, text: str) -> str:
    segments = [s for s in text.replace("\n", "\r").split("\r") if s]
    at = rng.randrange(len(segments))
    fields = segments[at].split("|")
    first_field = 2 if segments[at].startswith("MSH") else 1
    kind = rng.randrange(7)
    if kind == 0 and len(fields) > first_field:
        fields[rng.randrange(first_field, len(fields))] = rng.choice(ODD_VALUES)
        segments[at] = "|".join(fields)
    elif kind == 1:
        del segments[at]
    elif kind == 2:
        segments.insert(at, rng.choice(segments))
    elif kind == 3:
        segments[at] = segments[at][: rng.randrange(len(segments[at]) + 1)]
    elif kind == 4:
        cut = rng.randrange(len(segments[at]) + 1)
        segments[at] = segments[at][:cut] + rng.choice(ODD_VALUES) + segments[at][cut:]
    elif kind == 5 and len(fields) > 1:
        components = (rng.choice(ODD_VALUES) for _ in range(rng.randrange(1, 8)))
        fields[rng.randrange(1, len(fields))] = "^".join(components)
        segments[at] = "|".join(fields)
    else:
        segments[at] = segments[at].replace("|", rng.choice(["^", "~", "||"]), 1)
    return "\r".join(segments) + "\r"


def originals() -> list[str]:
    built = [adt(t, control="CTRL") for t in ("A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A11")]
    built += [adt("A12", control="CTRL"), adt("A13", control="CTRL"), adt("A40", control="CTRL", mrg="MRN-1")]
    samples = [p.read_text(encoding="utf-8-sig") for p in sorted(SAMPLES.iterdir()) if p.is_file()]
    assert samples, f"no HL7 samples under {SAMPLES}"
    return built + samples


def test_damaged_messages_get_an_ack_code_and_what_is_not_accepted_changes_nothing(hospital, cm):
    rng = random.Random(int(os.environ.get("HL7_MUTATION_SEED", "20261128")))
    feed = Feed(hospital, channel="file")
    sources = originals()
    problems = []
    codes = set()
    for n in range(ROUNDS):
        text = rng.choice(sources)
        for _ in range(rng.randrange(1, 4)):
            text = mutate(rng, text)
        # A fresh control ID each round, so a mutation is not answered as a repeat of an earlier one.
        text = text.replace("|CTRL|", f"|M{n}|", 1)
        before = state()
        receipt = feed.receive(text)  # an exception here fails the test with the message in the traceback
        codes.add(receipt.code)
        if receipt.code not in ("AA", "AE", "AR"):
            problems.append((n, "code", receipt.code))
        elif receipt.code != "AA" and state() != before:
            problems.append((n, "changed data", receipt.code, receipt.reason))
        elif any(vague in receipt.reason for vague in ("internal error", "busy", "conflicts with stored data")):
            # One sender, one thread: nothing can be busy, so these hide a failure that deserves a reason.
            problems.append((n, "no specific reason", receipt.reason, text))
    assert not problems, problems[:10]
    assert codes == {"AA", "AE", "AR"}  # the mutations reach every outcome, not only the parser's refusal
    # What was accepted, odd as it may be, exports as valid FHIR (patient_export validates every resource).
    patients = list(Patient.objects.values_list("pk", flat=True))
    assert len(patients) > 3
    for patient_id in patients:
        patient_export(actor=cm, patient_id=patient_id)
