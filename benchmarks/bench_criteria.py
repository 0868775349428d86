"""Criteria evaluation benchmark (issue 4): one review of a patient with 2,000 FHIR resources.

(a) engine only: index the 2,000 resources and evaluate the whole starter library (5 sets, 26 criteria)
    with its recommendation, from resources already in memory;
(b) the review_evaluate service end to end on a fresh SQLite database: read the patient's records
    and their source resources, evaluate, store the results and audit.
Prints median and p95 of each; target median <= 200 ms.

Run from the worktree root:  python benchmarks/bench_criteria.py [--runs 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from casebridge.hospital.rules.two_midnight import example_inpatient_only_list_codes  # noqa: E402
from casebridge.utilization import criteria  # noqa: E402

TOTAL = 2000
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
VITALS = [
    ("59408-5", "%", 85, 100),
    ("9279-1", "/min", 12, 34),
    ("6299-2", "mg/dL", 8, 40),
    ("1988-5", "mg/dL", 0, 20),
    ("4537-7", "mm/h", 5, 110),
    ("42637-9", "pg/mL", 20, 900),
    ("8310-5", "Cel", 36, 40),
    ("2339-0", "mg/dL", 70, 250),
]
CONDITIONS = [
    ("60168000", "Osteomyelitis (disorder)"),
    ("88805009", "Chronic congestive heart failure (disorder)"),
    ("44054006", "Diabetes mellitus type 2 (disorder)"),
    ("59621000", "Essential hypertension (disorder)"),
    ("424132000", "Non-small cell carcinoma of lung, TNM stage 1 (disorder)"),
    ("40055000", "Chronic sinusitis"),
]
MEDS = [
    "Vancomycin 1000 MG Injection",
    "Furosemide 10 MG/ML Injection",
    "lisinopril 10 MG Oral Tablet",
    "Metformin 500 MG Oral Tablet",
    "Acetaminophen 325 MG Oral Tablet",
    "Cefazolin 2000 MG Injection",
]


def patient_resources(seed: int = 7) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """2,000 resources: 55% observations (vitals, labs, BP panels), 20% conditions, 12.5% procedures,
    12.5% medication requests; half of them belong to the reviewed stay."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
    out: list[dict[str, Any]] = []
    for i in range(TOTAL):
        when = (start - dt.timedelta(hours=rng.randint(0, 24 * 700))).isoformat()
        kind = i % 8
        if kind < 4 or (kind == 4 and i % 16 == 4):
            if i % 9 == 0:
                sbp = rng.randint(80, 160)
                res: dict[str, Any] = {
                    "resourceType": "Observation",
                    "status": "final",
                    "effectiveDateTime": when,
                    "code": {"coding": [{"system": LOINC, "code": "85354-9", "display": "Blood pressure panel"}]},
                    "component": [
                        {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, "valueQuantity": {"value": sbp}},
                        {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]}, "valueQuantity": {"value": 70}},
                    ],
                }
            else:
                code, unit, lo, hi = rng.choice(VITALS)
                res = {
                    "resourceType": "Observation",
                    "status": "final",
                    "effectiveDateTime": when,
                    "code": {"coding": [{"system": LOINC, "code": code}]},
                    "valueQuantity": {"value": round(rng.uniform(lo, hi), 1), "unit": unit},
                }
        elif kind in (4, 5):
            code, display = rng.choice(CONDITIONS)
            res = {
                "resourceType": "Condition",
                "onsetDateTime": when,
                "clinicalStatus": {"coding": [{"code": rng.choice(["active", "resolved"])}]},
                "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
            }
        elif kind == 6:
            res = {
                "resourceType": "Procedure",
                "status": "completed",
                "performedDateTime": when,
                "code": {
                    "coding": [
                        {"system": SNOMED, "code": str(rng.choice([70536003, 398171003, 703423002, 16335031000119103]))}
                    ]
                },
            }
        else:
            res = {
                "resourceType": "MedicationRequest",
                "status": "active",
                "intent": "order",
                "authoredOn": when,
                "medicationCodeableConcept": {"coding": [{"display": rng.choice(MEDS)}]},
            }
        res["id"] = f"r{i}"
        out.append(res)
    encounter = {
        "resourceType": "Encounter",
        "id": "stay",
        "status": "in-progress",
        "period": {"start": start.isoformat()},
        "extension": [{"url": criteria.MIDNIGHTS_EXTENSION, "valueInteger": 3}],
    }
    return encounter, out


def figures(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   (n={len(ms)})"


def bench_engine(runs: int) -> list[float]:
    encounter, resources = patient_resources()
    records = [
        criteria.Record(r["resourceType"], i, r, in_encounter=(i // 8) % 2 == 0) for i, r in enumerate(resources)
    ]
    sets = [criteria.parse_text(s.text, s.fmt) for s in criteria.starter_library()]
    variables = {"inpatientOnlyCodes": sorted(example_inpatient_only_list_codes())}
    samples = []
    for _ in range(runs + 3):
        t = time.perf_counter()
        prepared = criteria.PreparedRecord(encounter, records)
        results = [criteria.evaluate_set(d, prepared, variables=variables) for d in sets]
        criteria.recommend(results)
        samples.append(time.perf_counter() - t)
    n_criteria = sum(len(d.criteria) for d in sets)
    met = sum(1 for r in results for c in r.criteria if c.status is criteria.Status.MET)
    print(f"  {len(records)} resources, {len(sets)} sets, {n_criteria} criteria; {met} criteria met in the last run")
    return samples[3:]


def bench_service(runs: int) -> list[float]:
    tmp = tempfile.mkdtemp(prefix="bench-criteria-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "casebridge.config.settings_test"
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = str(Path(tmp) / "bench.sqlite3")
    settings.DATABASES["default"].setdefault("TEST", {})
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from casebridge.accounts import roles
    from casebridge.accounts.selectors import actor_for
    from casebridge.accounts.services import organization_create, user_create
    from casebridge.clinical.models import Condition, Encounter, MedicationRequest, Observation, Procedure
    from casebridge.interop.models import SourceRecord
    from casebridge.patients.services import patient_create
    from casebridge.utilization import services

    org = organization_create(actor=None, name="Bench Hospital", org_type="hospital")

    def actor(role: str, name: str) -> Any:
        user = user_create(actor=None, organization=org, username=name, password="correct-horse-battery-9", role=role)
        return actor_for(user, organization_id=org.pk)

    nurse, director = actor(roles.UR_NURSE, "nurse"), actor(roles.MEDICAL_DIRECTOR, "director")
    services.criteria_library_install_starter(actor=director)
    patient = patient_create(
        actor=nurse, family_name="Bench", given_name="Pat", birth_date=dt.date(1950, 1, 1), sex="male"
    )
    encounter_res, resources = patient_resources()
    admit = dt.datetime.now(dt.UTC) - dt.timedelta(hours=60)
    enc = Encounter.objects.create(
        organization=org,
        patient=patient,
        status="in-progress",
        encounter_class="inpatient",
        admit_at=admit,
        identifier_value="B1",
        attending_name="Dr. Bench",
    )
    models = {
        "Observation": Observation,
        "Condition": Condition,
        "Procedure": Procedure,
        "MedicationRequest": MedicationRequest,
    }
    now = dt.datetime.now(dt.UTC)
    # Benchmark setup writes rows directly; the figures measure the read-and-evaluate path of a review.
    for i, res in enumerate(resources):
        model = models[res["resourceType"]]
        concept = res.get("code") or res.get("medicationCodeableConcept") or {}
        coding = concept.get("coding", [{}])[0]
        row = model.objects.create(
            organization=org,
            patient=patient,
            encounter=enc if (i // 8) % 2 == 0 else None,
            code_system=coding.get("system", ""),
            code=coding.get("code", ""),
            display=coding.get("display", ""),
            codings=concept.get("coding", []),
        )
        SourceRecord.objects.create(
            organization=org,
            resource_type=res["resourceType"],
            source_id=res["id"],
            content_hash=str(i),
            resource=res,
            target_model=model._meta.label_lower,
            target_id=row.pk,
            created_at=now,
            updated_at=now,
        )
    review = services.review_schedule_initial(actor=nurse, encounter_id=enc.pk)
    keys = [s.key for s in criteria.starter_library()]
    samples = []
    for _ in range(runs + 2):
        t = time.perf_counter()
        services.review_evaluate(actor=nurse, review_id=review.pk, set_keys=keys)
        samples.append(time.perf_counter() - t)
    return samples[2:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    print("Criteria evaluation for one review, patient with 2,000 resources (target median <= 200 ms)")
    print("(a) engine: index + 5 starter sets + recommendation")
    print("  " + figures(bench_engine(args.runs)))
    print("(b) review_evaluate service end to end (SQLite: 2,000 records + source resources read, results saved)")
    print("  " + figures(bench_service(max(10, args.runs // 2))))


if __name__ == "__main__":
    main()
