"""Damaged Bundles posted to /fhir/r4, made by mutating real resources (the Synthea bulk export, the
official R4 examples, Synthea patient bundles): one leaf replaced by a value of another JSON type or
an odd string (NUL, 5,000 characters, impossible dates, broken references) or removed, entries and
requests damaged the same way. Every request gets an answer below 500; a batch answers each entry,
and what it accepted exports as valid FHIR; a transaction that is not accepted saves nothing. A
fixed seed keeps a failure reproducible; set ``FHIR_MUTATION_ROUNDS`` and ``FHIR_MUTATION_SEED`` to
search further, on both databases."""

from __future__ import annotations

import copy
import json
import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
from fhir_data import BULK, DATA

from casebridge.clinical.models import Condition, Encounter
from casebridge.interop.fhir_export.bundles import patient_export
from casebridge.interop.models import SourceRecord
from casebridge.patients.models import Patient

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"
ROUNDS = int(os.environ.get("FHIR_MUTATION_ROUNDS", "120"))
SEED = int(os.environ.get("FHIR_MUTATION_SEED", "20261128"))
ODD_VALUES: list[Any] = [
    None, "", 0, -1, 1.5, True, [], {}, "x" * 5000, "2024-99-99", "Patient/nope", {"reference": "Patient/zz"},
    [None], ["a", 1], {"a": {"b": []}}, "\x00", "a\x00b", "é", 10**30, "urn:uuid:", "#",
    "http://x/y/Patient/1/_history/2",
]  # fmt: skip


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield (*path, key)
        yield from _paths(item, (*path, key))


def mutate(rng: random.Random, value: Any) -> Any:
    """A copy of ``value`` with one leaf or branch replaced by an odd value, or removed from its object."""
    value = copy.deepcopy(value)
    paths = list(_paths(value))
    if not paths:
        return value
    path = rng.choice(paths)
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and rng.random() < 0.3:
        del parent[path[-1]]
    else:
        parent[path[-1]] = rng.choice(ODD_VALUES)
    return value


def resources() -> list[dict[str, Any]]:
    pool = []
    for path in sorted(BULK.glob("*.ndjson")):
        pool += [json.loads(line) for line in path.read_text().splitlines()[:10]]
    examples = sorted((DATA / "r4-examples").glob("*.json"))
    pool += [d for d in (json.loads(p.read_text()) for p in examples) if d.get("resourceType") != "Bundle"]
    assert len(pool) > 100
    return pool


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (SourceRecord, Patient, Encounter, Condition))


@pytest.fixture
def client(api_as, intake):
    return api_as(intake)


def test_damaged_batches_are_answered_entry_by_entry(client, cm):
    rng = random.Random(SEED)
    pool = resources()
    problems = []
    for n in range(ROUNDS):
        entries: list[Any] = []
        for _ in range(rng.randrange(1, 6)):
            resource = rng.choice(pool)
            for _ in range(rng.randrange(0, 3)):
                resource = mutate(rng, resource)
            method = rng.choice(["POST", "PUT", "GET", "DELETE", 5])
            entry: Any = {"resource": resource, "request": {"method": method, "url": resource.get("resourceType")}}
            if rng.random() < 0.2:
                entry = mutate(rng, entry)
            entries.append(rng.choice(ODD_VALUES) if rng.random() < 0.1 else entry)
        bundle = {"resourceType": "Bundle", "type": "batch", "entry": entries}
        response = client.post("/fhir/r4", data=json.dumps(bundle), content_type=FHIR_JSON)
        if response.status_code != 200:
            problems.append((n, response.status_code, response.content[:300]))
        elif len(response.json().get("entry", [])) != len(entries):
            problems.append((n, "not every entry answered", response.content[:300]))
    assert not problems, problems[:5]
    # What was accepted, odd as it may be, exports as valid FHIR (patient_export validates every resource).
    patients = list(Patient.objects.values_list("pk", flat=True))
    assert len(patients) >= 2
    for patient_id in patients:
        patient_export(actor=cm, patient_id=patient_id)


def test_damaged_transactions_save_all_or_nothing(client):
    rng = random.Random(SEED)
    patient_bundles = sorted((DATA / "synthea-bundles").glob("*.json"))[:2]
    bundles = [json.loads(p.read_text()) for p in patient_bundles]
    statuses = set()
    problems = []
    for n in range(ROUNDS // 3):
        bundle = copy.deepcopy(rng.choice(bundles))
        bundle["type"] = "transaction"  # Synthea writes them as batches
        bundle["entry"] = bundle["entry"][: rng.randrange(2, 40)]
        for _ in range(rng.randrange(0, 3)):
            at = rng.randrange(len(bundle["entry"]))
            bundle["entry"][at] = mutate(rng, bundle["entry"][at])
        before = counts()
        response = client.post("/fhir/r4", data=json.dumps(bundle), content_type=FHIR_JSON)
        statuses.add(response.status_code)
        if response.status_code >= 500:
            problems.append((n, response.status_code, response.content[:300]))
        elif response.status_code != 200 and counts() != before:
            problems.append((n, "partly saved", response.status_code, before, counts()))
    assert not problems, problems[:5]
    assert {200, 422} <= statuses  # the mutations reach both outcomes
