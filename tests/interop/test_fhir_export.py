"""FHIR export: every resource validates, a case exports every resource type, references resolve inside
the bundle, and the export is scoped and audited."""

from __future__ import annotations

import pytest
import test_fhir_export_support as support
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.cases.services import case_open
from casebridge.interop.fhir_export import bundles, ids, mappers
from casebridge.interop.fhir_export.validate import InvalidExport, validated
from casebridge.kernel.errors import NotFound, PermissionDenied

# Fixtures shared with the API tests.
agency = support.agency
demo_case = support.demo_case
CASE_TYPES = support.CASE_TYPES

# FHIR R4 required-binding value sets of the codes the mappers emit (fhir.resources checks structure,
# not these codes, so the tests do).
R4_CODES = {
    ("EpisodeOfCare", "status"): {"planned", "waitlist", "active", "onhold", "finished", "cancelled",
                                  "entered-in-error"},
    ("Task", "status"): {"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
                         "in-progress", "on-hold", "failed", "completed", "entered-in-error"},
    ("Task", "intent"): {"unknown", "proposal", "plan", "order", "original-order", "reflex-order", "filler-order",
                         "instance-order", "option"},
    ("Task", "priority"): {"routine", "urgent", "asap", "stat"},
    ("Goal", "lifecycleStatus"): {"proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled",
                                  "entered-in-error", "rejected"},
    ("CarePlan", "status"): {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("CareTeam", "status"): {"proposed", "active", "suspended", "inactive", "entered-in-error"},
    ("Coverage", "status"): {"active", "cancelled", "draft", "entered-in-error"},
    ("ServiceRequest", "status"): {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    ("ServiceRequest", "intent"): {"proposal", "plan", "directive", "order", "original-order", "reflex-order",
                                   "filler-order", "instance-order", "option"},
    ("Communication", "status"): {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
                                  "entered-in-error", "unknown"},
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
}  # fmt: skip


def _by_type(bundle: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for e in bundle["entry"]:
        out.setdefault(e["resource"]["resourceType"], []).append(e["resource"])
    return out


def test_a_case_exports_every_resource_type_and_each_one_validates(cm, demo_case):
    bundle = bundles.case_export(actor=cm, case_id=demo_case.case.pk)
    by_type = _by_type(bundle)
    assert set(by_type) >= CASE_TYPES
    Bundle.model_validate(bundle)
    for resource in (e["resource"] for e in bundle["entry"]):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        for (rtype, element), allowed in R4_CODES.items():
            if resource["resourceType"] == rtype and element in resource:
                assert resource[element] in allowed, (rtype, element, resource[element])


def test_every_reference_in_a_case_bundle_resolves_inside_it(cm, demo_case):
    bundle = bundles.case_export(actor=cm, case_id=demo_case.case.pk)
    present = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    refs = set(bundles._references([e["resource"] for e in bundle["entry"]]))
    dangling = {r for r in refs if not r.startswith("#") and r not in present}
    assert dangling == set()


def test_ids_are_stable_and_carry_a_casebridge_identifier(cm, demo_case):
    first = bundles.case_export(actor=cm, case_id=demo_case.case.pk)
    second = bundles.case_export(actor=cm, case_id=demo_case.case.pk)
    assert [e["resource"]["id"] for e in first["entry"]] == [e["resource"]["id"] for e in second["entry"]]
    episode = _by_type(first)["EpisodeOfCare"][0]
    assert episode["id"] == f"casebridge-case-{demo_case.case.pk}"
    assert {"use": "secondary", "system": "urn:casebridge:id:case", "value": str(demo_case.case.pk)} in episode[
        "identifier"
    ]
    assert ids.pk_of("case", episode["id"]) == demo_case.case.pk
    assert ids.pk_of("patient", episode["id"]) is None


def test_the_patient_bundle_holds_the_patients_cases_and_coverage(cm, demo_case, make_patient):
    other = make_patient(family_name="Stone", given_name="Eli", mrn="MRN-2")
    case_open(actor=cm, patient_id=other.pk, case_type="hospital_stay")
    bundle = bundles.patient_export(actor=cm, patient_id=demo_case.patient.pk)
    by_type = _by_type(bundle)
    assert [p["id"] for p in by_type["Patient"]] == [f"casebridge-patient-{demo_case.patient.pk}"]
    assert [e["id"] for e in by_type["EpisodeOfCare"]] == [f"casebridge-case-{demo_case.case.pk}"]
    assert len(by_type["Task"]) == 2  # the task and the call's follow-up
    assert bundle["type"] == "collection"


def test_export_is_audited_with_the_patient(cm, demo_case):
    bundles.case_export(actor=cm, case_id=demo_case.case.pk)
    bundles.patient_export(actor=cm, patient_id=demo_case.patient.pk)
    events = AuditEvent.objects.filter(action__in=["case.export", "patient.export"]).order_by("pk")
    assert [(e.action, e.patient_id) for e in events] == [
        ("case.export", demo_case.patient.pk),
        ("patient.export", demo_case.patient.pk),
    ]
    assert events[0].object_id == str(demo_case.case.pk)
    assert events[0].detail["resources"] > 10


def test_another_organization_cannot_export_the_case_or_the_patient(outsider, demo_case):
    with pytest.raises(NotFound):
        bundles.case_export(actor=outsider, case_id=demo_case.case.pk)
    with pytest.raises(NotFound):
        bundles.patient_export(actor=outsider, patient_id=demo_case.patient.pk)
    assert not AuditEvent.objects.filter(action__in=["case.export", "patient.export"]).exists()


def test_a_care_team_organization_exports_only_what_it_may_see(demo_case, make_actor):
    """The agency is on the care team: it sees the case, but not the hospital's other cases."""
    agency_cm = make_actor(demo_case.agency, roles.CASE_MANAGER, username="agencycm")
    bundle = bundles.case_export(actor=agency_cm, case_id=demo_case.case.pk)
    assert "EpisodeOfCare" in _by_type(bundle)


def test_an_auditor_may_not_export(demo_case, make_actor):
    auditor = make_actor(demo_case.case.organization, roles.AUDITOR, username="aud")
    with pytest.raises(PermissionDenied):
        bundles.case_export(actor=auditor, case_id=demo_case.case.pk)


def test_a_resource_that_does_not_validate_is_a_bug_not_a_silent_drop():
    with pytest.raises(InvalidExport, match="Goal/casebridge-goal-1"):
        validated({"resourceType": "Goal", "id": "casebridge-goal-1", "lifecycleStatus": 7, "subject": "nope"})


def test_case_diagnoses_are_contained_conditions_the_episode_points_to(cm, demo_case):
    episode = mappers.episode_of_care(demo_case.case)
    assert episode["diagnosis"][0]["condition"]["reference"] == "#dx1"
    assert episode["contained"][0]["code"]["coding"][0]["code"] == "I50.9"
